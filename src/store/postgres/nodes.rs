//! Coordination between nodes: jobs one node runs at a time (held under a lease in `job_leases`, by
//! the database's clock), and the alerts that are on (in `alert_state`, so whichever node evaluates
//! next knows what was announced).

use super::{PgStore, StoreResult};

impl PgStore {
    /// Takes or keeps the lease of the job `name` for `ttl_ms`: `true` while this node holds it.
    pub async fn try_lead(&self, name: &str, ttl_ms: i64) -> StoreResult<bool> {
        let holder: Option<String> = sqlx::query_scalar(
            "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, monay_now_ms() + $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE job_leases.holder = excluded.holder OR job_leases.until < monay_now_ms()
             RETURNING holder",
        )
        .bind(name)
        .bind(self.node())
        .bind(ttl_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(holder.is_some())
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
        let mut tx = self.pool.begin().await?;
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
