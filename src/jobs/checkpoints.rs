//! WAL checkpoints for the embedded database: the writer never checkpoints inside a commit (that
//! would hold every write behind the copy and sync), so this task does, beside it, every two seconds.

use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the write-ahead log is copied back into the database file.
const INTERVAL: Duration = Duration::from_secs(2);

/// Checkpoints every [`INTERVAL`] until `stop`.
pub async fn run(store: Store, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.cancelled() => return,
        }
        if let Err(e) = store.checkpoint().await {
            tracing::warn!("WAL checkpoint failed: {e}");
        }
    }
}
