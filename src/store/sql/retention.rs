//! Retention: attempts, and events whose deliveries are all finished, are purged once older than the
//! retention period, in small batches so that delivery never waits long for the writer.

macro_rules! retention_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::crypto::id_floor;
            use $crate::store::{now_ms, StoreResult};

            /// Rows deleted per statement.
            const BATCH: i64 = 500;

            impl $store {
                /// Deletes up to one batch of old attempts and one batch of old finished events (with
                /// their deliveries and attempts), and the rollups older than the cutoff. Returns how
                /// many rows went; 0 when nothing is left to purge.
                pub async fn purge_batch(&self, cutoff_ms: i64) -> StoreResult<u64> {
                    let attempts = sqlx::query(
                        "DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < $1 LIMIT $2)",
                    )
                    .bind(id_floor("att_", cutoff_ms))
                    .bind(BATCH)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                    // Held deliveries wait for their webhook at most as long as the log is kept; then
                    // they give up (visibly: `recover` sends them again) so that their events can go.
                    let expired_holds = sqlx::query(
                        "UPDATE deliveries SET status = 'failed', updated_at = $3,
                             last_error = 'held longer than the retention period while its webhook was off'
                         WHERE id IN (SELECT id FROM deliveries WHERE status = 'held' AND id < $1 LIMIT $2)",
                    )
                    .bind(id_floor("dlv_", cutoff_ms))
                    .bind(BATCH)
                    .bind(now_ms())
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                    // Never an event with a delivery still to make: nothing accepted is dropped unsent.
                    let events = sqlx::query(
                        "DELETE FROM events WHERE id IN (
                            SELECT e.id FROM events e WHERE e.id < $1 AND NOT EXISTS (
                                SELECT 1 FROM deliveries d
                                WHERE d.event_id = e.id AND d.status IN ('pending', 'delivering', 'held'))
                            LIMIT $2)",
                    )
                    .bind(id_floor("evt_", cutoff_ms))
                    .bind(BATCH)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                    let mut rollups = 0;
                    for table in ["stats_attempts", "stats_latency", "stats_deliveries"] {
                        rollups += sqlx::query(&format!("DELETE FROM {table} WHERE bucket < $1"))
                            .bind(cutoff_ms)
                            .execute(&self.writer)
                            .await?
                            .rows_affected();
                    }
                    Ok(attempts + expired_holds + events + rollups)
                }
            }
        };
    };
}

pub(crate) use retention_queries;
