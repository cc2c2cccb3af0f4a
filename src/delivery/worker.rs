//! The worker pool: takes fresh deliveries handed over by the publish commit and claims due ones
//! in batches, sends them concurrently, and hands outcomes to one recorder that stores them in
//! batches. What the node may hold is its [`Capacity`]: `WEBHOOK_CONCURRENCY` slots shared fairly
//! among tenants and a budget of payload memory; it claims no more than that, and what waits stays
//! in the database. While a tenant is over its share of the slots, each claim first looks for the
//! other tenants' work. Webhooks with delivery controls have lanes of their own
//! (`store::sql::lanes`): claimed every [`LANE_TICK`] and as soon as one of theirs is recorded,
//! each delivery waiting for its start time without a slot (and for a slot then, fairly).

use super::engine::Engine;
use crate::domain::AttemptTrigger;
use crate::store::{payload_cost, AttemptOutcome, Bytes, Capacity, ClaimRoom, DueDelivery, Room, Slot, Start};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
/// After a look for other tenants' work found none, how long before the next (while one tenant
/// keeps more than its share, as a single busy tenant does).
const FAIR_LOOK: Duration = Duration::from_millis(100);

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
pub async fn run(engine: Engine, capacity: Arc<Capacity>, batch_size: usize, stop: CancellationToken) {
    let concurrency = capacity.slots();
    let (outcomes_tx, outcomes_rx) = mpsc::channel::<AttemptOutcome>(concurrency * 4);
    let wake = Arc::new(LaneWake::default());
    let tasks = TaskTracker::new();
    let recorder = tokio::spawn(record_loop(engine.clone(), outcomes_rx, wake.clone()));
    let store = engine.store().clone();
    let mut handed = store.handoff().attach(capacity.clone(), engine.lease_ms());
    let taker = {
        let (engine, outcomes, tasks) = (engine.clone(), outcomes_tx.clone(), tasks.clone());
        tokio::spawn(async move {
            while let Some(h) = handed.recv().await {
                send(&engine, h.delivery, (h.slot, h.bytes), &outcomes, &tasks);
            }
        })
    };
    let pool = Pool {
        engine: engine.clone(),
        capacity: capacity.clone(),
        outcomes: outcomes_tx.clone(),
        tasks: tasks.clone(),
        batch_size,
    };
    let low_water = (concurrency / 4).clamp(1, batch_size);
    let mut last_sweep = Instant::now();
    let mut last_lanes = Instant::now();
    let mut next_fair_look = Instant::now();
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
        let lanes = last_lanes.elapsed() >= LANE_TICK || wake.take();
        // Claim in batches: wait until a quarter of the slots are free (or briefly), rather than
        // claiming one delivery each time one request finishes.
        if !lanes && capacity.room().slots < low_water {
            tokio::select! {
                _ = capacity.freed() => {}
                _ = tokio::time::sleep(Duration::from_millis(2)) => {}
                _ = stop.cancelled() => break,
            }
            if capacity.room().slots == 0 {
                continue;
            }
        }
        if lanes {
            last_lanes = Instant::now();
        }
        let room = capacity.room();
        let mut claimed = 0;
        if !room.over_share.is_empty() && Instant::now() >= next_fair_look {
            // Someone holds more than a fair share: the others' work first, if there is any.
            let others = pool.claim(&room, room.over_share.clone(), lanes).await;
            // No slot to claim with: is there any of theirs at all? (Then the next free slot is
            // theirs, not the busy tenant's.)
            let waiting = others > 0 || (room.slots == 0 && store.others_due(&room.over_share).await.unwrap_or(false));
            capacity.set_contended(waiting);
            if !waiting {
                next_fair_look = Instant::now() + FAIR_LOOK;
            }
            claimed += others;
        }
        let room = capacity.room();
        let wanted = room.slots.min(batch_size);
        claimed += pool.claim(&room, Vec::new(), lanes).await;
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
    // Lane deliveries waiting for their start (at most `LOOKAHEAD_MS` from now) or a slot are
    // sent, not left claimed; every request finishes and its outcome is queued for recording.
    capacity.set_contended(false);
    tasks.close();
    tasks.wait().await;
    drop((outcomes_tx, pool));
    let _ = recorder.await;
    tracing::info!("delivery workers stopped");
}

/// What the claims need to send what they take.
struct Pool {
    engine: Engine,
    capacity: Arc<Capacity>,
    outcomes: mpsc::Sender<AttemptOutcome>,
    tasks: TaskTracker,
    batch_size: usize,
}

impl Pool {
    /// Claims within `room`, leaving out `skip` (tenants over their share): the lanes (when
    /// `lanes`), then the common queue. Returns how many deliveries it claimed.
    async fn claim(&self, room: &Room, skip: Vec<String>, lanes: bool) -> usize {
        let store = self.engine.store();
        let lease_ms = self.engine.lease_ms();
        let mut claimed = 0;
        if lanes && room.starts > 0 {
            let lane_room =
                ClaimRoom { limit: room.starts.min(self.batch_size), bytes: room.bytes, skip_tenants: skip.clone() };
            match store.claim_lanes(lease_ms, LOOKAHEAD_MS, &lane_room).await {
                Ok(due) => {
                    claimed += due.len();
                    // Each claimed delivery is sent: none is left claimed and forgotten.
                    for delivery in due {
                        let bytes = self.capacity.charge(payload_cost(delivery.data.len()));
                        send_at_start(self, delivery, self.capacity.start(), bytes);
                    }
                }
                Err(e) => tracing::error!("claiming the lanes of webhooks with delivery controls failed: {e}"),
            }
        }
        let room = self.capacity.room();
        let common = ClaimRoom { limit: room.slots.min(self.batch_size), bytes: room.bytes, skip_tenants: skip };
        if common.limit == 0 {
            return claimed;
        }
        match store.claim_due(&common, lease_ms).await {
            Ok(due) => {
                claimed += due.len();
                for delivery in due {
                    let slot = self.capacity.take_claimed(&delivery.tenant);
                    let bytes = self.capacity.charge(payload_cost(delivery.data.len()));
                    send(&self.engine, delivery, (slot, bytes), &self.outcomes, &self.tasks);
                }
            }
            Err(e) => {
                tracing::error!("claiming deliveries failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        claimed
    }
}

/// Sends one delivery in its own task, holding its slot and memory until the outcome is queued
/// for recording.
fn send(
    engine: &Engine,
    delivery: DueDelivery,
    held: (Slot, Bytes),
    outcomes: &mpsc::Sender<AttemptOutcome>,
    tasks: &TaskTracker,
) {
    let (engine, outcomes) = (engine.clone(), outcomes.clone());
    tasks.spawn(async move {
        let (_, outcome) = engine.attempt(&delivery, AttemptTrigger::Scheduled, None).await;
        drop(delivery);
        let _ = outcomes.send(outcome).await;
        drop(held);
    });
}

/// Sends a lane's delivery at its start time: it waits for that time holding only its place and
/// memory, then for a slot (fairly among tenants), in its own task.
fn send_at_start(pool: &Pool, delivery: DueDelivery, start: Start, bytes: Bytes) {
    let (engine, outcomes, capacity) = (pool.engine.clone(), pool.outcomes.clone(), pool.capacity.clone());
    pool.tasks.spawn(async move {
        let wait = delivery.lane.unwrap_or(0) - chrono::Utc::now().timestamp_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
        let slot = capacity.slot(&delivery.tenant).await;
        drop(start);
        let (_, outcome) = engine.attempt(&delivery, AttemptTrigger::Scheduled, None).await;
        drop(delivery);
        let _ = outcomes.send(outcome).await;
        drop((slot, bytes));
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
