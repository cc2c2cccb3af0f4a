//! Replaying missed events to one webhook: the write (the search is shared, in `store::sql`).

use super::{now_ms, SqliteStore, StoreResult};
use crate::crypto;
use crate::domain::Webhook;
use sqlx::{QueryBuilder, Sqlite};

impl SqliteStore {
    /// Queues one delivery of each missed `(event id, type)` to the webhook with `status`, in one
    /// transaction; returns how many were made (a delivery made since they were found is not doubled).
    pub(super) async fn queue_missed(
        &self,
        webhook: &Webhook,
        status: &str,
        missed: &[(String, String)],
    ) -> StoreResult<u64> {
        let now = now_ms();
        let mut tx = self.writer.begin().await?;
        let mut made: Vec<String> = Vec::with_capacity(missed.len());
        for chunk in missed.chunks(500) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
                 created_at, updated_at, controlled) SELECT * FROM (",
            );
            q.push_values(chunk, |mut row, (event_id, event)| {
                row.push_bind(crypto::new_id("dlv_"))
                    .push_bind(event_id)
                    .push_bind(&webhook.id)
                    .push_bind(&webhook.tenant)
                    .push_bind(event)
                    .push_bind(status)
                    .push("0")
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now)
                    .push(if webhook.controls().any() { "TRUE" } else { "FALSE" });
            });
            q.push(
                ") AS v WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = v.column2 AND d.webhook_id = ",
            )
            .push_bind(&webhook.id)
            .push(") RETURNING event_id");
            made.extend(q.build_query_scalar::<String>().fetch_all(&mut *tx).await?);
        }
        for chunk in made.chunks(500) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("UPDATE events SET deliveries = deliveries + 1 WHERE id IN");
            crate::store::filters::in_list(&mut q, chunk);
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(made.len() as u64)
    }
}
