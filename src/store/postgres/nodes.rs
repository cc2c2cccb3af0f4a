//! Jobs one node runs at a time: held under a lease in `job_leases`, by the database's clock.

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
}
