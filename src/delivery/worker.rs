//! The worker pool: takes fresh deliveries handed over by the publish commit and claims due ones
//! in batches, sends them concurrently (bounded by `WEBHOOK_CONCURRENCY`: both share its slots),
//! and hands outcomes to one recorder that stores them in batches. Webhooks with delivery controls
//! have lanes of their own (`store::sql::lanes`): claimed every [`LANE_TICK`] and as soon as one of
//! theirs is recorded, each delivery waiting for its start time without holding a slot.

use super::engine::Engine;
use crate::domain::AttemptTrigger;
use crate::store::{AttemptOutcome, DueDelivery};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// How often an idle worker looks for retries that have come due.
const POLL: Duration = Duration::from_millis(200);
/// How long a claim holds a delivery. The claiming process renews its claims every [`RENEW`] while
/// it lives, so a slow request keeps its delivery; when a node dies, another takes its deliveries
/// over within this and a sweep.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often this process renews its leases and takes over expired ones.
const RENEW: Duration = Duration::from_secs(2);
/// How often the lanes of webhooks with delivery controls are claimed (and at once when a delivery
/// of one is recorded, or one is queued).
const LANE_TICK: Duration = Duration::from_millis(50);
/// How far ahead a rate-limited lane is claimed, each delivery with the time it may start.
const LOOKAHEAD_MS: i64 = 1_000;
/// Most lane deliveries waiting for their start time at once.
const LANE_TASKS: usize = 1 << 16;

/// Tells the claim loop that a lane may take its next delivery.
#[derive(Default)]
struct LaneWake {
    poked: AtomicBool,
    notify: Notify,
}

impl LaneWake {
    fn poke(&self) {
        self.poked.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    fn take(&self) -> bool {
        self.poked.swap(false, Ordering::AcqRel)
    }
}

/// Runs the workers until `stop` is cancelled, then lets in-flight requests finish (each is bounded
/// by `WEBHOOK_TIMEOUT`) and records them before returning.
pub async fn run(engine: Engine, concurrency: usize, batch_size: usize, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let (outcomes_tx, outcomes_rx) = mpsc::channel::<AttemptOutcome>(concurrency * 4);
    let wake = Arc::new(LaneWake::default());
    let waiting = Arc::new(Semaphore::new(LANE_TASKS));
    let recorder = tokio::spawn(record_loop(engine.clone(), outcomes_rx, wake.clone()));
    let mut last_lanes = Instant::now();
    let store = engine.store().clone();
    let mut handed = store.handoff().attach(slots.clone(), engine.lease_ms());
    let taker = {
        let (engine, outcomes) = (engine.clone(), outcomes_tx.clone());
        tokio::spawn(async move {
            while let Some(h) = handed.recv().await {
                send(&engine, h.delivery, h.slot, &outcomes);
            }
        })
    };
    let mut last_sweep = Instant::now();
    while !stop.is_cancelled() {
        if last_sweep.elapsed() >= RENEW {
            last_sweep = Instant::now();
            if let Err(e) = store.renew_leases(LEASE.as_millis() as i64).await {
                tracing::error!("renewing leases failed: {e}");
            }
            if let Err(e) = store.release_expired_leases().await {
                tracing::error!("lease sweep failed: {e}");
            }
        }
        if last_lanes.elapsed() >= LANE_TICK || wake.take() {
            last_lanes = Instant::now();
            let room = waiting.available_permits().min(batch_size);
            match store.claim_lanes(engine.lease_ms(), LOOKAHEAD_MS, room).await {
                Ok(due) => {
                    // Each claimed delivery is sent: none is left claimed and forgotten.
                    for delivery in due {
                        let place = waiting.clone().acquire_owned().await.expect("the semaphore is never closed");
                        send_at_start(&engine, delivery, slots.clone(), place, &outcomes_tx);
                    }
                }
                Err(e) => tracing::error!("claiming the lanes of webhooks with delivery controls failed: {e}"),
            }
        }
        // Claim in batches: wait until a quarter of the slots are free (or briefly), rather than
        // claiming one delivery each time one request finishes.
        let low_water = (concurrency / 4).clamp(1, batch_size);
        if slots.available_permits() < low_water {
            tokio::select! {
                permits = slots.clone().acquire_many_owned(low_water as u32) => drop(permits),
                _ = tokio::time::sleep(Duration::from_millis(2)) => {}
                _ = stop.cancelled() => break,
            }
        }
        let free = slots.available_permits();
        if free == 0 {
            continue;
        }
        let wanted = free.min(batch_size);
        let due = match store.claim_due(wanted, engine.lease_ms()).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("claiming deliveries failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let claimed = due.len();
        for delivery in due {
            let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            send(&engine, delivery, slot, &outcomes_tx);
        }
        if claimed < wanted {
            tokio::select! {
                _ = store.queued() => wake.poke(),
                _ = wake.notify.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.cancelled() => break,
            }
        }
    }
    // No more handed deliveries; those of commits under way still come, and are sent.
    store.handoff().detach();
    let _ = taker.await;
    // Lane deliveries waiting for their start are sent (at most `LOOKAHEAD_MS` from now), not
    // left claimed.
    let _lanes = waiting.acquire_many(LANE_TASKS as u32).await;
    // Every slot back means every request has finished and its outcome is queued for recording.
    let _all = slots.acquire_many(concurrency as u32).await;
    drop(outcomes_tx);
    let _ = recorder.await;
    tracing::info!("delivery workers stopped");
}

/// Sends one delivery in its own task, holding its slot until the outcome is queued for recording.
fn send(engine: &Engine, delivery: DueDelivery, slot: OwnedSemaphorePermit, outcomes: &mpsc::Sender<AttemptOutcome>) {
    let (engine, outcomes) = (engine.clone(), outcomes.clone());
    tokio::spawn(async move {
        let (_, outcome) = engine.attempt(&delivery, AttemptTrigger::Scheduled, None).await;
        let _ = outcomes.send(outcome).await;
        drop(slot);
    });
}

/// Sends a lane's delivery at its start time, waiting for it (and then for a slot) in its own task.
fn send_at_start(
    engine: &Engine,
    delivery: DueDelivery,
    slots: Arc<Semaphore>,
    place: OwnedSemaphorePermit,
    outcomes: &mpsc::Sender<AttemptOutcome>,
) {
    let (engine, outcomes) = (engine.clone(), outcomes.clone());
    tokio::spawn(async move {
        let wait = delivery.lane.unwrap_or(0) - chrono::Utc::now().timestamp_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
        let slot = slots.acquire_owned().await.expect("the semaphore is never closed");
        let (_, outcome) = engine.attempt(&delivery, AttemptTrigger::Scheduled, None).await;
        let _ = outcomes.send(outcome).await;
        drop((slot, place));
    });
}

/// Stores outcomes as they come, in batches of whatever has arrived meanwhile; a lane's recorded
/// outcome lets the lane take its next delivery.
async fn record_loop(engine: Engine, mut rx: mpsc::Receiver<AttemptOutcome>, wake: Arc<LaneWake>) {
    let mut batch = Vec::with_capacity(1024);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let mut tries = 0;
        while let Err(e) = engine.record(&batch).await {
            tries += 1;
            tracing::error!("recording {} outcomes failed (try {tries}): {e}", batch.len());
            if tries >= 5 {
                // Their leases will run out and they will be sent again: late, never lost.
                break;
            }
            tokio::time::sleep(Duration::from_millis(200 * tries)).await;
        }
        if batch.iter().any(|o| o.lane) {
            wake.poke();
        }
        batch.clear();
    }
}
