//! Events: publishing (handed to the backend's group-commit `publisher`), reads scoped to a tenant.

macro_rules! event_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use sqlx::QueryBuilder;
            use $crate::domain::{Event, Page};
            use $crate::store::rows::{EventRow, SCOPED_EVENT_COLUMNS};
            use $crate::store::{
                filters, into_page, page_limit, EventFilter, NewEvent, Published, StoreError, StoreResult,
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
            }
        };
    };
}

pub(crate) use event_queries;
