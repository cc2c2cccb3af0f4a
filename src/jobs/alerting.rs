//! Alert evaluation, a job for one node at a time.

use crate::alerts::AlertMonitor;
use crate::config::AlertConfig;
use crate::store::Store;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Evaluates alerts every `interval` until `stop`, while this node leads the `alerts` job.
pub async fn run(monitor: Arc<AlertMonitor>, store: Store, cfg: AlertConfig, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(cfg.interval) => {}
            _ = stop.cancelled() => return,
        }
        if !super::leads(&store, "alerts", cfg.interval).await {
            continue;
        }
        if let Err(e) = monitor.evaluate_tenants(&store, &cfg).await {
            tracing::error!("alert evaluation failed: {e}");
        }
    }
}
