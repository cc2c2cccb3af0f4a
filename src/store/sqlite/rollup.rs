//! Statistics rollups: five-minute aggregates of attempts (counts, outcomes, durations) and of new
//! deliveries (per event type), per tenant and webhook. A bucket is rolled up once nothing can land
//! in it any more (identifiers carry the time they were written); statistics then read a few small
//! rows per bucket instead of every attempt, and only the unrolled edges of a window from the log.

use super::SqliteStore;
use super::StoreResult;
use crate::crypto::id_floor;
use crate::store::tally::{latency_class, BUCKET_MS};
use sqlx::{QueryBuilder, Sqlite};
use std::collections::BTreeMap;

/// Rows per INSERT statement (well under SQLite's bound-variable limit).
const CHUNK: usize = 400;

type AttemptRow = (String, String, i64, i64, i64, i64, i64);
type LatencyKey = (String, String, i64);
type DeliveryRow = (String, String, String, i64);

impl SqliteStore {
    /// Aggregates one bucket from the log (on a reader) and stores it with the new high-water mark
    /// in one short write, so a crash can neither lose nor double a bucket. Always its turn: there
    /// is one process.
    pub(super) async fn roll_bucket(&self, start: i64) -> StoreResult<bool> {
        let end = start + BUCKET_MS;
        let (a_from, a_to) = (id_floor("att_", start), id_floor("att_", end));
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT tenant, webhook_id, COUNT(*), COALESCE(SUM(response_status BETWEEN 200 AND 299), 0),
                    COALESCE(SUM(attempt = 1), 0), COALESCE(SUM(attempt = 2), 0), COALESCE(SUM(duration_ms), 0)
             FROM attempts WHERE id >= $1 AND id < $2 GROUP BY tenant, webhook_id",
        )
        .bind(&a_from)
        .bind(&a_to)
        .fetch_all(&self.pool)
        .await?;
        let mut latency: BTreeMap<LatencyKey, i64> = BTreeMap::new();
        if !attempts.is_empty() {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT tenant, webhook_id, duration_ms, COUNT(*) FROM attempts
                 WHERE id >= $1 AND id < $2 GROUP BY tenant, webhook_id, duration_ms",
            )
            .bind(&a_from)
            .bind(&a_to)
            .fetch_all(&self.pool)
            .await?;
            for (tenant, webhook_id, ms, n) in rows {
                *latency.entry((tenant, webhook_id, latency_class(ms))).or_default() += n;
            }
        }
        let deliveries: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT tenant, webhook_id, event, COUNT(*) FROM deliveries
             WHERE id >= $1 AND id < $2 GROUP BY tenant, webhook_id, event",
        )
        .bind(id_floor("dlv_", start))
        .bind(id_floor("dlv_", end))
        .fetch_all(&self.pool)
        .await?;

        let mut tx = self.writer.begin().await?;
        for chunk in attempts.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR REPLACE INTO stats_attempts
                 (bucket, tenant, webhook_id, attempts, succeeded, first, second, duration_sum) ",
            );
            q.push_values(chunk, |mut row, (tenant, webhook_id, n, ok, first, second, sum)| {
                row.push_bind(start)
                    .push_bind(tenant)
                    .push_bind(webhook_id)
                    .push_bind(n)
                    .push_bind(ok)
                    .push_bind(first)
                    .push_bind(second)
                    .push_bind(sum);
            });
            q.build().execute(&mut *tx).await?;
        }
        let latency: Vec<(LatencyKey, i64)> = latency.into_iter().collect();
        for chunk in latency.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT OR REPLACE INTO stats_latency (bucket, tenant, webhook_id, class_ms, n) ");
            q.push_values(chunk, |mut row, ((tenant, webhook_id, class), n)| {
                row.push_bind(start).push_bind(tenant).push_bind(webhook_id).push_bind(class).push_bind(n);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in deliveries.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR REPLACE INTO stats_deliveries (bucket, tenant, webhook_id, event, created) ",
            );
            q.push_values(chunk, |mut row, (tenant, webhook_id, event, n)| {
                row.push_bind(start).push_bind(tenant).push_bind(webhook_id).push_bind(event).push_bind(n);
            });
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO stats_rollup (id, rolled_until) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET rolled_until = excluded.rolled_until",
        )
        .bind(end)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
