//! Background tasks under one supervisor: the delivery workers (with their recorder), statistics
//! rollups, the retention purge, alert evaluation and WAL checkpoints are started here, in one place,
//! and at shutdown all are told to stop and joined, so nothing runs on after the store is closed.

mod checkpoints;
pub mod retention;
mod rollups;

use crate::alerts::AlertMonitor;
use crate::config::Config;
use crate::delivery::{worker, Engine};
use crate::store::Store;
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often statistics are rolled up into buckets.
const ROLLUP_INTERVAL: Duration = Duration::from_secs(30);

/// The running background tasks.
pub struct Jobs {
    stop: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Jobs {
    /// Starts every background task; all stop when `stop` is cancelled (see [`Jobs::join`]).
    pub fn start(
        config: &Config,
        store: &Store,
        engine: &Engine,
        alerts: &Arc<AlertMonitor>,
        stop: CancellationToken,
    ) -> Self {
        let mut jobs = Jobs { stop: stop.clone(), tasks: Vec::new() };
        jobs.spawn(
            "delivery workers",
            worker::run(engine.clone(), config.concurrency, config.batch_size, stop.clone()),
        );
        jobs.spawn(
            "retention",
            retention::run(store.clone(), config.retention, config.retention_interval, stop.clone()),
        );
        jobs.spawn("rollups", rollups::run(store.clone(), ROLLUP_INTERVAL, stop.clone()));
        jobs.spawn("alerts", crate::alerts::run(alerts.clone(), store.clone(), config.alerts.clone(), stop.clone()));
        jobs.spawn("checkpoints", checkpoints::run(store.clone(), stop));
        jobs
    }

    /// Spawns one task; a panic is logged with its name rather than lost.
    fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(async move {
            if AssertUnwindSafe(task).catch_unwind().await.is_err() {
                tracing::error!("background task '{name}' panicked");
            }
        });
        self.tasks.push((name, handle));
    }

    /// Stops every task and waits for each to finish (the workers let requests in flight finish and
    /// record them first).
    pub async fn join(self) {
        self.stop.cancel();
        for (name, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::error!("background task '{name}' did not finish cleanly: {e}");
            }
            tracing::debug!("background task '{name}' stopped");
        }
    }
}
