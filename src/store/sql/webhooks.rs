//! Webhooks: registration, reads scoped to a tenant, filtered lists, updates and deletion, and
//! switching one off and on with its deliveries.

macro_rules! webhook_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::crypto;
            use $crate::domain::{Page, Webhook};
            use $crate::store::rows::{WebhookRow, WEBHOOK_COLUMNS as COLUMNS};
            use $crate::store::{filters, into_page, now_ms, page_limit, StoreError, StoreResult};
            use $crate::store::{NewWebhook, WebhookFilter, WebhookPatch};
            use sqlx::{QueryBuilder, Transaction};

            impl $store {
                /// Stores a new webhook.
                pub async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
                    let now = now_ms();
                    let row = WebhookRow {
                        id: crypto::new_id("wh_"),
                        tenant: new.tenant,
                        url: new.url,
                        events: serde_json::to_string(&new.events)?,
                        description: new.description,
                        secret: new.secret,
                        active: new.active,
                        disabled_reason: None,
                        consecutive_failures: 0,
                        created_at: now,
                        updated_at: now,
                        paused: false,
                        headers: serde_json::to_string(&new.headers)?,
                        rate_limit: new.controls.rate_limit.map(i64::from),
                        max_in_flight: new.controls.max_in_flight.map(i64::from),
                        ordering: new.controls.ordering.as_str().to_string(),
                    };
                    // The tenant's count is checked in the insert itself (one writer on SQLite).
                    let inserted = sqlx::query(&format!(
                        "INSERT INTO webhooks ({COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
                         WHERE (SELECT COUNT(*) FROM webhooks WHERE tenant = $2) < $17"
                    ))
                    .bind(&row.id)
                    .bind(&row.tenant)
                    .bind(&row.url)
                    .bind(&row.events)
                    .bind(&row.description)
                    .bind(crypto::seal::store(self.sealer.as_ref(), &row.id, &row.secret))
                    .bind(row.active)
                    .bind(&row.disabled_reason)
                    .bind(row.consecutive_failures)
                    .bind(row.created_at)
                    .bind(row.updated_at)
                    .bind(row.paused)
                    .bind(&row.headers)
                    .bind(row.rate_limit)
                    .bind(row.max_in_flight)
                    .bind(&row.ordering)
                    .bind(new.max_per_tenant.min(i64::MAX as u64) as i64)
                    .execute(&self.writer)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        return Err(StoreError::TooManyWebhooks { tenant: row.tenant, max: new.max_per_tenant });
                    }
                    if new.controls.any() {
                        sqlx::query("UPDATE webhooks SET controlled = TRUE WHERE id = $1")
                            .bind(&row.id)
                            .execute(&self.writer)
                            .await?;
                    }
                    row.into_webhook(self.sealer.as_ref())
                }

                /// One webhook, if it exists and `scope` (a tenant, or `None` for all) may see it.
                pub async fn get_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<Webhook> {
                    let row: Option<WebhookRow> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND ($2 IS NULL OR tenant = $2)"
                    ))
                    .bind(id)
                    .bind(scope)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.ok_or(StoreError::NotFound("webhook"))?.into_webhook(self.sealer.as_ref())
                }

                /// The URL and description of each of these webhooks that exists, for showing a
                /// person names rather than ids.
                pub async fn webhook_names(&self, ids: &[String]) -> StoreResult<Vec<(String, String, String)>> {
                    let mut names = Vec::new();
                    for chunk in ids.chunks(500) {
                        let mut q = QueryBuilder::<$db>::new("SELECT id, url, description FROM webhooks WHERE id IN");
                        $crate::store::filters::in_list(&mut q, chunk);
                        names.extend(q.build_query_as::<(String, String, String)>().fetch_all(&self.pool).await?);
                    }
                    Ok(names)
                }

                /// A page of webhooks, newest first.
                pub async fn list_webhooks(&self, filter: &WebhookFilter) -> StoreResult<Page<Webhook>> {
                    let limit = page_limit(filter.limit);
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {COLUMNS} FROM webhooks WHERE 1 = 1"));
                    filters::webhooks(&mut q, filter, Self::LIKE);
                    if let Some(event) = &filter.event {
                        Self::push_receives(&mut q, event);
                    }
                    filters::page_end(&mut q, "id", filter.cursor.as_ref(), limit);
                    let rows: Vec<WebhookRow> = q.build_query_as().fetch_all(&self.pool).await?;
                    let hooks =
                        rows.into_iter().map(|r| r.into_webhook(self.sealer.as_ref())).collect::<StoreResult<Vec<_>>>()?;
                    Ok(into_page(hooks, limit, |w: &Webhook| w.id.clone()))
                }

                /// Applies an update. Switching a webhook off holds its pending deliveries; switching
                /// it on clears its failure count and disabled reason and resumes what was held.
                pub async fn update_webhook(
                    &self,
                    id: &str,
                    scope: Option<&str>,
                    patch: WebhookPatch,
                ) -> StoreResult<Webhook> {
                    let current = self.get_webhook(id, scope).await?;
                    let events = serde_json::to_string(patch.events.as_ref().unwrap_or(&current.events))?;
                    let headers = serde_json::to_string(patch.headers.as_ref().unwrap_or(&current.headers))?;
                    let now = now_ms();
                    let mut tx = self.writer.begin().await?;
                    sqlx::query(
                        "UPDATE webhooks SET url = $1, events = $2, description = $3, headers = $4, updated_at = $5
                         WHERE id = $6",
                    )
                    .bind(patch.url.as_deref().unwrap_or(&current.url))
                    .bind(events)
                    .bind(patch.description.as_deref().unwrap_or(&current.description))
                    .bind(headers)
                    .bind(now)
                    .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(controls) = patch.controls.filter(|c| *c != current.controls()) {
                        Self::set_controls_in(&mut tx, id, controls).await?;
                    }
                    let resumed = patch.active == Some(true) && !current.active;
                    if resumed {
                        Self::enable_in(&mut tx, id, now).await?;
                        self.queued_in(&mut tx).await?;
                    } else if patch.active == Some(false) && current.active {
                        Self::disable_in(&mut tx, id, "disabled by user", false, now).await?;
                    }
                    tx.commit().await?;
                    if resumed {
                        self.queued.notify_one();
                    }
                    self.get_webhook(id, scope).await
                }

                /// Pauses a webhook: switched off with its pending deliveries held, and events
                /// published meanwhile queued to it held, all to go when it is resumed
                /// (`update_webhook` with `active`).
                pub async fn pause_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<Webhook> {
                    self.get_webhook(id, scope).await?;
                    let mut tx = self.writer.begin().await?;
                    Self::disable_in(&mut tx, id, "paused", true, now_ms()).await?;
                    tx.commit().await?;
                    self.get_webhook(id, scope).await
                }

                /// Deletes a webhook with its deliveries and their attempts.
                pub async fn delete_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<()> {
                    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND ($2 IS NULL OR tenant = $2)")
                        .bind(id)
                        .bind(scope)
                        .execute(&self.writer)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("webhook"));
                    }
                    Ok(())
                }

                /// Switches a webhook off and holds its pending deliveries, inside a transaction. With
                /// `hold_new` (the engine switched it off, not a person) events published while it is
                /// off are queued to it, held, so its owner loses nothing by fixing the receiver and
                /// enabling it again. The reason `paused` marks a pause (held, to be resumed).
                pub(super) async fn disable_in(
                    tx: &mut Transaction<'_, $db>,
                    webhook_id: &str,
                    reason: &str,
                    hold_new: bool,
                    now: i64,
                ) -> Result<(), sqlx::Error> {
                    sqlx::query(
                        "UPDATE webhooks SET active = FALSE, paused = ($1 = 'paused'), disabled_reason = $1, hold_new = $2, updated_at = $3
                         WHERE id = $4",
                    )
                    .bind(reason)
                    .bind(hold_new)
                    .bind(now)
                    .bind(webhook_id)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE deliveries SET status = 'held', updated_at = $1 WHERE webhook_id = $2 AND status = 'pending'",
                    )
                    .bind(now)
                    .bind(webhook_id)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                /// Sets a webhook's delivery controls; when that changes whether it has any, its
                /// deliveries under way move to its own lane or back to the common queue.
                async fn set_controls_in(
                    tx: &mut Transaction<'_, $db>,
                    id: &str,
                    controls: $crate::domain::DeliveryControls,
                ) -> Result<(), sqlx::Error> {
                    sqlx::query(
                        "UPDATE webhooks SET rate_limit = $1, max_in_flight = $2, ordering = $3, controlled = $4 WHERE id = $5",
                    )
                    .bind(controls.rate_limit.map(i64::from))
                    .bind(controls.max_in_flight.map(i64::from))
                    .bind(controls.ordering.as_str())
                    .bind(controls.any())
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE deliveries SET controlled = $1
                         WHERE webhook_id = $2 AND controlled <> $1 AND status IN ('pending', 'delivering', 'held')",
                    )
                    .bind(controls.any())
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                /// Switches a webhook on, clears its failures and resumes its held deliveries, inside a
                /// transaction.
                async fn enable_in(tx: &mut Transaction<'_, $db>, id: &str, now: i64) -> Result<(), sqlx::Error> {
                    sqlx::query(
                        "UPDATE webhooks SET active = TRUE, paused = FALSE, disabled_reason = NULL, hold_new = FALSE,
                             consecutive_failures = 0, updated_at = $1
                         WHERE id = $2",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1
                         WHERE webhook_id = $2 AND status = 'held'",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use webhook_queries;
