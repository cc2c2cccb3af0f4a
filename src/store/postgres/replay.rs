//! Replaying missed events to one webhook: the events it should have had and has no delivery of.

use super::{channel, notify, now_ms, PgStore, StoreResult};
use crate::crypto;

impl PgStore {
    /// Queues to the webhook the events it missed since `since_ms`: its tenant's events and broadcasts
    /// whose type it subscribes to and that have no delivery to it (so nothing it already got is sent
    /// twice). Test events, which belong to one webhook each, are left out. Queued held when the
    /// webhook is off, to go when it is switched on. With `dry_run`, only counts. Returns how many.
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
            let (event_ids, types): (Vec<&str>, Vec<&str>) = page
                .iter()
                .filter(|(_, event)| {
                    let category = categories.get(event).map(String::as_str).unwrap_or_default();
                    crate::domain::event_type::any_matches(&webhook.events, event, category)
                })
                .map(|(id, event)| (id.as_str(), event.as_str()))
                .unzip();
            if dry_run || event_ids.is_empty() {
                total += event_ids.len() as u64;
                continue;
            }
            let now = now_ms();
            let ids: Vec<String> = event_ids.iter().map(|_| crypto::new_id("dlv_")).collect();
            let mut tx = self.pool.begin().await?;
            // Checked again inside the write: a delivery made since the read is not doubled.
            let made: Vec<String> = sqlx::query_scalar(
                "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
                     created_at, updated_at)
                 SELECT v.id, v.event_id, $4, $5, v.event, $6, 0, $7, $7, $7
                 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS v(id, event_id, event)
                 WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = v.event_id AND d.webhook_id = $4)
                 RETURNING event_id",
            )
            .bind(&ids)
            .bind(&event_ids)
            .bind(&types)
            .bind(&webhook.id)
            .bind(&webhook.tenant)
            .bind(status)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("UPDATE events SET deliveries = deliveries + 1 WHERE id = ANY($1)")
                .bind(&made)
                .execute(&mut *tx)
                .await?;
            if webhook.active && !made.is_empty() {
                notify(&mut *tx, channel::QUEUED, "").await?;
            }
            tx.commit().await?;
            total += made.len() as u64;
        }
        if total > 0 && !dry_run && webhook.active {
            self.queued.notify_one();
        }
        Ok(total)
    }
}
