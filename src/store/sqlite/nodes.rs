//! The one process an embedded file serves: it leads every job, keeps the time, and at start takes
//! back whatever its previous life left in flight.

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

    /// At start: whatever was in flight died with the previous process, so it is queued again now
    /// rather than after its lease.
    pub async fn release_at_start(&self) -> StoreResult<u64> {
        self.release_all_leases().await
    }
}
