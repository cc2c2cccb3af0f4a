//! Operations on one webhook's secret and deliveries: reveal and rotate the secret, recover failed
//! deliveries, replay missed events (written by each backend's `queue_missed`, in `replay.rs`),
//! create a test delivery, claim one delivery for a manual retry.

macro_rules! recovery_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::crypto::{self, seal};
            use $crate::domain::{DeliveryStatus, Requeued, SecretInfo};
            use $crate::store::{filters, now_ms, to_time, DeliveryFilter, DueDelivery, StoreError, StoreResult};
            use sqlx::QueryBuilder;

            impl $store {
                /// The webhook's current secret, and the previous one while it still signs.
                pub async fn webhook_secret(&self, id: &str, scope: Option<&str>) -> StoreResult<SecretInfo> {
                    let row: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
                        "SELECT secret, previous_secret, previous_secret_expires_at FROM webhooks
                         WHERE id = $1 AND ($2 IS NULL OR tenant = $2)",
                    )
                    .bind(id)
                    .bind(scope)
                    .fetch_optional(&self.pool)
                    .await?;
                    let (secret, previous, until) = row.ok_or(StoreError::NotFound("webhook"))?;
                    let live = until.filter(|t| *t > now_ms());
                    let open = |stored: &str| seal::open(self.sealer.as_ref(), id, stored);
                    Ok(SecretInfo {
                        secret: open(&secret)?,
                        previous_secret: live.and(previous).map(|p| open(&p)).transpose()?,
                        previous_secret_expires_at: live.map(to_time),
                    })
                }

                /// Replaces the secret; the old one keeps signing beside it for `grace_ms` (none when 0).
                pub async fn rotate_secret(
                    &self,
                    id: &str,
                    scope: Option<&str>,
                    new_secret: &str,
                    grace_ms: i64,
                ) -> StoreResult<SecretInfo> {
                    let now = now_ms();
                    let done = sqlx::query(
                        "UPDATE webhooks SET previous_secret = CASE WHEN $1 > 0 THEN secret ELSE NULL END,
                            previous_secret_expires_at = CASE WHEN $1 > 0 THEN $2 ELSE NULL END,
                            secret = $3, updated_at = $4
                         WHERE id = $5 AND ($6 IS NULL OR tenant = $6)",
                    )
                    .bind(grace_ms)
                    .bind(now + grace_ms)
                    .bind(seal::store(self.sealer.as_ref(), id, new_secret))
                    .bind(now)
                    .bind(id)
                    .bind(scope)
                    .execute(&self.writer)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("webhook"));
                    }
                    self.webhook_secret(id, scope).await
                }

                /// Queues again the failed deliveries `filter` selects (its status is ignored):
                /// pending where their webhook is on, held where it is off (to go when it is switched
                /// on). With `dry_run`, only counts. Returns how many, and how many of them are held.
                pub async fn requeue_failed(&self, filter: &DeliveryFilter, dry_run: bool) -> StoreResult<Requeued> {
                    let filter = DeliveryFilter { status: None, ..filter.clone() };
                    let count = |q: &mut QueryBuilder<'_, $db>| {
                        q.push(
                            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM webhooks w
                                 WHERE w.id = deliveries.webhook_id AND w.active = TRUE) THEN 0 ELSE 1 END), 0)
                             FROM deliveries WHERE status = 'failed'",
                        );
                        filters::deliveries(q, &filter);
                    };
                    let mut q = QueryBuilder::<$db>::new("");
                    count(&mut q);
                    if dry_run {
                        let (total, held): (i64, i64) = q.build_query_as().fetch_one(&self.pool).await?;
                        return Ok(Requeued { total: total as u64, held: held as u64 });
                    }
                    let now = now_ms();
                    let mut tx = self.writer.begin().await?;
                    let (_, held): (i64, i64) = q.build_query_as().fetch_one(&mut *tx).await?;
                    let mut q = QueryBuilder::<$db>::new(
                        "UPDATE deliveries SET status = CASE WHEN EXISTS (SELECT 1 FROM webhooks w
                             WHERE w.id = deliveries.webhook_id AND w.active = TRUE) THEN 'pending' ELSE 'held' END,
                             next_attempt_at = ",
                    );
                    q.push_bind(now).push(", updated_at = ").push_bind(now).push(" WHERE status = 'failed'");
                    filters::deliveries(&mut q, &filter);
                    let done = q.build().execute(&mut *tx).await?.rows_affected();
                    if done > 0 {
                        self.queued_in(&mut tx).await?;
                    }
                    tx.commit().await?;
                    if done > 0 {
                        self.queued.notify_one();
                    }
                    Ok(Requeued { total: done, held: (held as u64).min(done) })
                }

                /// Queues to the webhook the events it missed since `since_ms`: its tenant's events
                /// and broadcasts whose type it subscribes to and that have no delivery to it (so
                /// nothing it already got is sent twice). Test events, which belong to one webhook
                /// each, are left out. Queued held when the webhook is off, to go when it is switched
                /// on. With `dry_run`, only counts. Returns how many.
                pub async fn replay_missing(
                    &self,
                    id: &str,
                    scope: Option<&str>,
                    since_ms: i64,
                    dry_run: bool,
                ) -> StoreResult<u64> {
                    let webhook = self.get_webhook(id, scope).await?;
                    let categories: std::collections::HashMap<String, String> =
                        self.event_type_names().await?.into_iter().collect();
                    let status = if webhook.active { "pending" } else { "held" };
                    let mut cursor = crypto::id_floor("evt_", since_ms);
                    let mut total = 0u64;
                    loop {
                        let page: Vec<(String, String)> = sqlx::query_as(
                            "SELECT e.id, e.event FROM events e
                             WHERE e.id >= $1 AND (e.tenant = $2 OR e.tenant IS NULL) AND e.event != 'webhook.test'
                               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.webhook_id = $3)
                             ORDER BY e.id LIMIT 1000",
                        )
                        .bind(&cursor)
                        .bind(&webhook.tenant)
                        .bind(&webhook.id)
                        .fetch_all(&self.pool)
                        .await?;
                        let Some((last, _)) = page.last() else { break };
                        cursor = format!("{last}~"); // just after `last`: ids are [0-9A-Z] after the prefix
                        let missed: Vec<(String, String)> = page
                            .into_iter()
                            .filter(|(_, event)| {
                                let category = categories.get(event).map(String::as_str).unwrap_or_default();
                                $crate::domain::event_type::any_matches(&webhook.events, event, category)
                            })
                            .collect();
                        total += if dry_run || missed.is_empty() {
                            missed.len() as u64
                        } else {
                            self.queue_missed(&webhook, status, &missed).await?
                        };
                    }
                    if total > 0 && !dry_run && webhook.active {
                        self.queued.notify_one();
                    }
                    Ok(total)
                }

                /// Stores a `webhook.test` event for the webhook's tenant and one delivery to this
                /// webhook only, already claimed by this process (`lease_ms`) so that the caller sends
                /// it now.
                pub async fn create_test_delivery(
                    &self,
                    webhook_id: &str,
                    scope: Option<&str>,
                    lease_ms: i64,
                ) -> StoreResult<DueDelivery> {
                    let webhook = self.get_webhook(webhook_id, scope).await?;
                    let now = now_ms();
                    let event_id = crypto::new_id("evt_");
                    let delivery_id = crypto::new_id("dlv_");
                    let data = serde_json::json!({
                        "message": "This is a test delivery from Monay Webhooks.",
                        "webhookId": webhook.id,
                    })
                    .to_string();
                    let mut tx = self.writer.begin().await?;
                    sqlx::query(
                        "INSERT INTO events (id, tenant, event, data, timestamp, deliveries)
                         VALUES ($1, $2, 'webhook.test', $3, $4, 1)",
                    )
                    .bind(&event_id)
                    .bind(&webhook.tenant)
                    .bind(&data)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, lease_until,
                             leased_by, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, 'webhook.test', 'delivering', 0, $5, $6, $7, $7)",
                    )
                    .bind(&delivery_id)
                    .bind(&event_id)
                    .bind(&webhook.id)
                    .bind(&webhook.tenant)
                    .bind(now + lease_ms)
                    .bind(self.node())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    self.due_delivery(&delivery_id).await?.ok_or(StoreError::NotFound("test delivery"))
                }

                /// Claims one delivery for a manual retry, for this process. Returns it with the state
                /// to go back to if the retry fails (`status`, `next_attempt_at`); refused while a
                /// worker is sending it.
                pub async fn claim_for_retry(
                    &self,
                    delivery_id: &str,
                    scope: Option<&str>,
                    lease_ms: i64,
                ) -> StoreResult<(DueDelivery, DeliveryStatus, Option<i64>)> {
                    let current = self.get_delivery(delivery_id, scope).await?;
                    if current.status == DeliveryStatus::Delivering {
                        return Err(StoreError::InFlight("this delivery is being sent right now; try again shortly"));
                    }
                    let now = now_ms();
                    let claimed = sqlx::query(
                        "UPDATE deliveries SET status = 'delivering', lease_until = $1, leased_by = $2, updated_at = $3
                         WHERE id = $4 AND status = $5",
                    )
                    .bind(now + lease_ms)
                    .bind(self.node())
                    .bind(now)
                    .bind(delivery_id)
                    .bind(current.status.as_str())
                    .execute(&self.writer)
                    .await?;
                    if claimed.rows_affected() == 0 {
                        return Err(StoreError::InFlight("this delivery changed while retrying; try again"));
                    }
                    let due = self.due_delivery(delivery_id).await?.ok_or(StoreError::NotFound("delivery"))?;
                    Ok((due, current.status, current.next_attempt_at.map(|t| t.timestamp_millis())))
                }
            }
        };
    };
}

pub(crate) use recovery_queries;
