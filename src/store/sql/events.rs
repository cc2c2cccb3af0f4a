//! Events: publishing (handed to the backend's group-commit `publisher`), reads scoped to a tenant.

macro_rules! event_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use sqlx::QueryBuilder;
            use $crate::domain::{Event, Page, Webhook};
            use $crate::store::rows::{EventRow, SCOPED_EVENT_COLUMNS};
            use $crate::store::{
                filters, into_page, now_ms, page_limit, EventFilter, NewEvent, Published, StoreError, StoreResult,
            };

            impl $store {
                /// Stores an event and one pending delivery per matching active webhook, in one
                /// transaction (shared with other publishes arriving at the same moment), and answers
                /// after the commit.
                pub async fn publish(&self, new: &NewEvent) -> StoreResult<Published> {
                    let category = self.event_type_category(&new.event).await?.unwrap_or_default();
                    let (reply, answer) = tokio::sync::oneshot::channel();
                    let stopped = || StoreError::Database("the publisher has stopped".into());
                    self.publisher
                        .send(super::publisher::Job {
                            new: new.clone(),
                            category,
                            queued: std::time::Instant::now(),
                            reply,
                        })
                        .await
                        .map_err(|_| stopped())?;
                    answer.await.map_err(|_| stopped())?
                }

                /// One event, if `scope` may see it (tenants see their own events and broadcasts).
                pub async fn get_event(&self, id: &str, scope: Option<&str>) -> StoreResult<Event> {
                    let row: Option<EventRow> = sqlx::query_as(&format!(
                        "SELECT {SCOPED_EVENT_COLUMNS} FROM events
                         WHERE id = $2 AND ($1 IS NULL OR tenant = $1 OR tenant IS NULL)"
                    ))
                    .bind(scope)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(EventRow::into_event).ok_or(StoreError::NotFound("event"))
                }

                /// A page of events, newest first.
                pub async fn list_events(&self, filter: &EventFilter) -> StoreResult<Page<Event>> {
                    let limit = page_limit(filter.limit);
                    let mut q = QueryBuilder::<$db>::new("WITH v(scope) AS (SELECT ");
                    q.push_bind(filter.scope.clone()).push(") SELECT ");
                    q.push(SCOPED_EVENT_COLUMNS.replace("$1", "v.scope")).push(" FROM events, v WHERE 1 = 1");
                    filters::events(&mut q, filter);
                    filters::page_end(&mut q, "events.id", filter.cursor.as_ref(), limit);
                    let rows: Vec<EventRow> = q.build_query_as().fetch_all(&self.pool).await?;
                    let events = rows.into_iter().map(EventRow::into_event).collect();
                    Ok(into_page(events, limit, |e: &Event| e.id.clone()))
                }

                /// How many events `filter` selects, counted up to `cap` (its cursor is ignored).
                pub async fn count_events(&self, filter: &EventFilter, cap: i64) -> StoreResult<i64> {
                    let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE 1 = 1");
                    filters::events(&mut q, filter);
                    q.push(" LIMIT ").push_bind(cap).push(") AS selected");
                    Ok(q.build_query_scalar().fetch_one(&self.pool).await?)
                }

                /// Queues one more delivery of the event to the webhook, whatever it was sent before:
                /// pending, or held while the webhook is off. Returns the delivery's id.
                pub async fn queue_event_to(&self, event_id: &str, webhook: &Webhook) -> StoreResult<String> {
                    let now = now_ms();
                    let delivery_id = $crate::crypto::new_id("dlv_");
                    let status = if webhook.active { "pending" } else { "held" };
                    let mut tx = self.writer.begin().await?;
                    let made = sqlx::query(
                        "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts,
                             next_attempt_at, created_at, updated_at, controlled)
                         SELECT $1, id, $2, $3, event, $4, 0, $5, $5, $5, $7 FROM events WHERE id = $6",
                    )
                    .bind(&delivery_id)
                    .bind(&webhook.id)
                    .bind(&webhook.tenant)
                    .bind(status)
                    .bind(now)
                    .bind(event_id)
                    .bind(webhook.controls().any())
                    .execute(&mut *tx)
                    .await?;
                    if made.rows_affected() == 0 {
                        return Err(StoreError::NotFound("event"));
                    }
                    sqlx::query("UPDATE events SET deliveries = deliveries + 1 WHERE id = $1")
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await?;
                    if webhook.active {
                        self.queued_in(&mut tx).await?;
                    }
                    tx.commit().await?;
                    if webhook.active {
                        self.queued.notify_one();
                    }
                    Ok(delivery_id)
                }
            }
        };
    };
}

pub(crate) use event_queries;
