//! What the nodes keep in common beside the queue: the alerts that are on (so whichever node
//! evaluates next, or a restarted one, announces nothing twice), and the leases a node renews.

macro_rules! node_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::store::{now_ms, StoreResult};

            impl $store {
                /// Keeps this process's leases alive for another `lease_ms`: a live node's requests
                /// are never taken over, however long they take. Rows being recorded at this moment
                /// (locked) are skipped: they are done, and waiting for them could deadlock.
                pub async fn renew_leases(&self, lease_ms: i64) -> StoreResult<u64> {
                    let started = std::time::Instant::now();
                    let done = sqlx::query(&format!(
                        "UPDATE deliveries SET lease_until = $1 WHERE id IN (
                             SELECT id FROM deliveries WHERE status = 'delivering' AND leased_by = $2{})",
                        Self::SKIP_LOCKED
                    ))
                    .bind(now_ms() + lease_ms)
                    .bind(self.node())
                    .execute(&self.writer)
                    .await?;
                    self.activity.done($crate::store::Work::Leases, done.rows_affected() as usize, started);
                    Ok(done.rows_affected())
                }

                /// The alerts that are on: (subject, kind, since in unix ms).
                pub async fn alert_state(&self) -> StoreResult<Vec<(String, String, i64)>> {
                    Ok(sqlx::query_as("SELECT subject, kind, since FROM alert_state").fetch_all(&self.pool).await?)
                }

                /// Records alerts that came on (with their start) and went off.
                pub async fn save_alert_state(
                    &self,
                    raised: &[(String, String, i64)],
                    cleared: &[(String, String)],
                ) -> StoreResult<()> {
                    let mut tx = self.writer.begin().await?;
                    for (subject, kind, since) in raised {
                        sqlx::query(
                            "INSERT INTO alert_state (subject, kind, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        )
                        .bind(subject)
                        .bind(kind)
                        .bind(since)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for (subject, kind) in cleared {
                        sqlx::query("DELETE FROM alert_state WHERE subject = $1 AND kind = $2")
                            .bind(subject)
                            .bind(kind)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use node_queries;
