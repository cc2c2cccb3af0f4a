//! Replaying missed events to one webhook: the events it should have had and has no delivery of.

use super::{now_ms, SqliteStore, StoreResult};
use crate::crypto;
use sqlx::{QueryBuilder, Sqlite};

impl SqliteStore {
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
            let missed: Vec<&(String, String)> = page
                .iter()
                .filter(|(_, event)| {
                    let category = categories.get(event).map(String::as_str).unwrap_or_default();
                    crate::domain::event_type::any_matches(&webhook.events, event, category)
                })
                .collect();
            if !dry_run && !missed.is_empty() {
                let now = now_ms();
                let mut tx = self.writer.begin().await?;
                for chunk in missed.chunks(500) {
                    // Checked again inside the write: a delivery made since the read is not doubled.
                    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
                         created_at, updated_at) SELECT * FROM (",
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
                            .push_bind(now);
                    });
                    q.push(") AS v WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = v.column2 AND d.webhook_id = ")
                        .push_bind(&webhook.id)
                        .push(")");
                    total += q.build().execute(&mut *tx).await?.rows_affected();
                }
                for chunk in missed.chunks(500) {
                    let mut q: QueryBuilder<Sqlite> =
                        QueryBuilder::new("UPDATE events SET deliveries = deliveries + 1 WHERE id IN (");
                    let mut list = q.separated(", ");
                    for (event_id, _) in chunk {
                        list.push_bind(event_id);
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            } else {
                total += missed.len() as u64;
            }
        }
        if total > 0 && !dry_run && webhook.active {
            self.queued.notify_one();
        }
        Ok(total)
    }
}
