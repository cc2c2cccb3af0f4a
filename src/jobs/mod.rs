//! Background tasks under one supervisor: the delivery workers (with their recorder), statistics
//! rollups, the retention purge, alert evaluation, WAL checkpoints (SQLite) and the other nodes'
//! notifications with the live feed relay (PostgreSQL) are started here, in one place, and at
//! shutdown all are told to stop and joined, so nothing runs on after the store is closed.
//!
//! Rollups, retention and alerts are jobs for one node at a time: each round, a node runs them only
//! while it holds the job's lease in the database ([`leads`]), so with several nodes an alert is
//! announced once, and when the leading node dies another takes the job over.

mod alerting;
mod checkpoints;
pub mod retention;
mod rollups;

use crate::alerts::AlertMonitor;
use crate::config::Config;
use crate::delivery::{worker, Engine};
use crate::live::LiveFeed;
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

/// Does this node run the one-node job `name` this round? Takes or keeps its lease for `every`
/// three rounds (so a leader that died is replaced within that); `false` on a database error.
pub async fn leads(store: &Store, name: &str, every: Duration) -> bool {
    match store.try_lead(name, 3 * every.as_millis() as i64).await {
        Ok(leads) => leads,
        Err(e) => {
            tracing::error!("cannot take the lease of the '{name}' job: {e}");
            false
        }
    }
}

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
        live: &Arc<LiveFeed>,
        stop: CancellationToken,
    ) -> Self {
        let mut jobs = Jobs { stop: stop.clone(), tasks: Vec::new() };
        jobs.spawn(
            "delivery workers",
            worker::run(
                engine.clone(),
                crate::store::Capacity::new(config.concurrency, config.delivery_memory),
                config.batch_size,
                stop.clone(),
            ),
        );
        jobs.spawn(
            "retention",
            retention::run(
                store.clone(),
                config.retention,
                config.audit_retention,
                config.retention_interval,
                stop.clone(),
            ),
        );
        jobs.spawn("rollups", rollups::run(store.clone(), ROLLUP_INTERVAL, stop.clone()));
        jobs.spawn("alerts", alerting::run(alerts.clone(), store.clone(), config.alerts.clone(), stop.clone()));
        if store.shared() {
            let sink = live.clone();
            jobs.spawn("notifications", {
                let store = store.clone();
                let stop = stop.clone();
                async move { store.listen(Arc::new(move |payload: &str| sink.deliver(payload)), stop).await }
            });
            let (live, store) = (live.clone(), store.clone());
            jobs.spawn("live relay", async move { live.run_relay(store, stop).await });
        } else {
            jobs.spawn("checkpoints", checkpoints::run(store.clone(), stop));
        }
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
