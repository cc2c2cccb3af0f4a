//! Statistics rollups: settled time buckets are folded into the rollup tables, so statistics over
//! days read a few rows rather than every attempt.

use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Rolls up settled buckets every `interval` until `stop` (and once at start).
pub async fn run(store: Store, interval: Duration, stop: CancellationToken) {
    loop {
        if super::leads(&store, "rollups", interval).await {
            // Buckets settle by the clock every node shares: a node whose clock runs ahead cannot
            // roll a bucket up before the others have written into it.
            let now = store.clock_ms().await;
            match async { store.roll_up(now?).await }.await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(buckets = n, "statistics rolled up"),
                Err(e) => tracing::error!("statistics rollup failed: {e}"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return,
        }
    }
}
