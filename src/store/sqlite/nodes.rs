//! The one process an embedded file serves: it leads every job, renews the leases it holds, and
//! keeps the alerts that are on in `alert_state` (so a restart announces nothing twice).

use super::{now_ms, SqliteStore, StoreResult};

impl SqliteStore {
    /// Always `true`: an embedded database has one process, which runs every job.
    pub async fn try_lead(&self, _name: &str, _ttl_ms: i64) -> StoreResult<bool> {
        Ok(true)
    }

    /// The clock of the one process.
    pub async fn clock_ms(&self) -> StoreResult<i64> {
        Ok(now_ms())
    }

    /// Keeps this process's leases alive for another `lease_ms`, so a slow request is not taken
    /// over by the lease sweep.
    pub async fn renew_leases(&self, lease_ms: i64) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE deliveries SET lease_until = $1 WHERE status = 'delivering' AND leased_by = $2")
            .bind(now_ms() + lease_ms)
            .bind(self.node())
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// At start: whatever was in flight died with the previous process, so it is queued again now
    /// rather than after its lease.
    pub async fn release_at_start(&self) -> StoreResult<u64> {
        self.release_all_leases().await
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
            sqlx::query("INSERT INTO alert_state (subject, kind, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
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
