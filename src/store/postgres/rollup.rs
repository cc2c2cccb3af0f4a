//! Statistics rollups (see `store::tally`): settled five-minute buckets folded into the rollup
//! tables. Buckets settle by the database's clock, the one every node shares; a bucket is rolled
//! in one transaction under an advisory lock, so two nodes never fold the same bucket twice.

use super::PgStore;
use super::StoreResult;
use crate::crypto::id_floor;
use crate::store::tally::{latency_class, BUCKET_MS};
use std::collections::BTreeMap;

/// The advisory lock of the rollup.
const ROLLUP_LOCK: i64 = 0x6d6f_6e61_7901;

type AttemptRow = (String, String, i64, i64, i64, i64, i64);

impl PgStore {
    /// Aggregates one bucket from the log and stores it with the new high-water mark, in one
    /// transaction. `false` when another node holds the rollup or has rolled this bucket already.
    pub(super) async fn roll_bucket(&self, start: i64) -> StoreResult<bool> {
        let end = start + BUCKET_MS;
        let mut tx = self.pool.begin().await?;
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(ROLLUP_LOCK).fetch_one(&mut *tx).await?;
        let rolled: Option<i64> =
            sqlx::query_scalar("SELECT rolled_until FROM stats_rollup WHERE id = 1").fetch_optional(&mut *tx).await?;
        if !locked || rolled.is_some_and(|t| t != start) {
            return Ok(false);
        }
        let (a_from, a_to) = (id_floor("att_", start), id_floor("att_", end));
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT tenant, webhook_id, COUNT(*), COUNT(*) FILTER (WHERE response_status BETWEEN 200 AND 299),
                    COUNT(*) FILTER (WHERE attempt = 1), COUNT(*) FILTER (WHERE attempt = 2),
                    COALESCE(SUM(duration_ms), 0)::BIGINT
             FROM attempts WHERE id >= $1 AND id < $2 GROUP BY tenant, webhook_id",
        )
        .bind(&a_from)
        .bind(&a_to)
        .fetch_all(&mut *tx)
        .await?;
        let mut latency: BTreeMap<(String, String, i64), i64> = BTreeMap::new();
        if !attempts.is_empty() {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT tenant, webhook_id, duration_ms, COUNT(*) FROM attempts
                 WHERE id >= $1 AND id < $2 GROUP BY tenant, webhook_id, duration_ms",
            )
            .bind(&a_from)
            .bind(&a_to)
            .fetch_all(&mut *tx)
            .await?;
            for (tenant, webhook_id, ms, n) in rows {
                *latency.entry((tenant, webhook_id, latency_class(ms))).or_default() += n;
            }
        }
        sqlx::query(
            "INSERT INTO stats_deliveries (bucket, tenant, webhook_id, event, created)
             SELECT $1, tenant, webhook_id, event, COUNT(*) FROM deliveries WHERE id >= $2 AND id < $3
             GROUP BY tenant, webhook_id, event
             ON CONFLICT (bucket, tenant, webhook_id, event) DO UPDATE SET created = excluded.created",
        )
        .bind(start)
        .bind(id_floor("dlv_", start))
        .bind(id_floor("dlv_", end))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO stats_attempts (bucket, tenant, webhook_id, attempts, succeeded, first, second, duration_sum)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[])
             ON CONFLICT (bucket, tenant, webhook_id) DO UPDATE SET attempts = excluded.attempts,
                 succeeded = excluded.succeeded, first = excluded.first, second = excluded.second,
                 duration_sum = excluded.duration_sum",
        )
        .bind(start)
        .bind(attempts.iter().map(|a| a.0.as_str()).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.1.as_str()).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.2).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.3).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.4).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.5).collect::<Vec<_>>())
        .bind(attempts.iter().map(|a| a.6).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO stats_latency (bucket, tenant, webhook_id, class_ms, n)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[])
             ON CONFLICT (bucket, tenant, webhook_id, class_ms) DO UPDATE SET n = excluded.n",
        )
        .bind(start)
        .bind(latency.keys().map(|k| k.0.as_str()).collect::<Vec<_>>())
        .bind(latency.keys().map(|k| k.1.as_str()).collect::<Vec<_>>())
        .bind(latency.keys().map(|k| k.2).collect::<Vec<_>>())
        .bind(latency.values().copied().collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
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
