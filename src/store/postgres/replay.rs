//! Replaying missed events to one webhook: the write (the search is shared, in `store::sql`).

use super::{channel, notify, now_ms, PgStore, StoreResult};
use crate::crypto;
use crate::domain::Webhook;

impl PgStore {
    /// Queues one delivery of each missed `(event id, type)` to the webhook with `status`, in one
    /// transaction; returns how many were made (a delivery made since they were found is not doubled).
    pub(super) async fn queue_missed(
        &self,
        webhook: &Webhook,
        status: &str,
        missed: &[(String, String)],
    ) -> StoreResult<u64> {
        let now = now_ms();
        let ids: Vec<String> = missed.iter().map(|_| crypto::new_id("dlv_")).collect();
        let (event_ids, types): (Vec<&str>, Vec<&str>) = missed.iter().map(|(e, t)| (e.as_str(), t.as_str())).unzip();
        let mut tx = self.pool.begin().await?;
        let made: Vec<String> = sqlx::query_scalar(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
                 created_at, updated_at, controlled)
             SELECT v.id, v.event_id, $4, $5, v.event, $6, 0, $7, $7, $7, $8
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
        .bind(webhook.controls().any())
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("UPDATE events SET deliveries = deliveries + 1 WHERE id = ANY($1)")
            .bind(&made)
            .execute(&mut *tx)
            .await?;
        if status == "pending" && !made.is_empty() {
            notify(&mut *tx, channel::QUEUED, "").await?;
        }
        tx.commit().await?;
        Ok(made.len() as u64)
    }
}
