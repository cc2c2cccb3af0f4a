//! What this node's workers can take on, and who gets it: worker slots (requests in flight at
//! once, `WEBHOOK_CONCURRENCY`) shared fairly among tenants, and a budget of payload memory
//! (`WEBHOOK_DELIVERY_MEMORY_MB`) for every delivery the node holds — handed over at publish,
//! claimed, waiting for its start time in a lane, or in flight. Waiting deliveries stay in the
//! database: a node claims no more than it has slots and memory for.
//!
//! Fairness: a tenant is *over its share* when it holds (or held within the last second) more than
//! `slots / (tenants holding + 1)` slots, so that there is always room for one more. While some
//! other tenant waits (the node has seen its work — see [`Capacity::set_contended`]), a tenant over
//! its share is handed nothing at publish, its lane deliveries wait for a slot behind everyone
//! else's, and the claims serve the other tenants first. So one tenant's slow receivers delay
//! another's deliveries by about one request timeout at most: the next slot that frees goes to the
//! other tenant. Nobody waiting, a tenant may use every slot.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify};

/// How long a tenant's recent peak of slots counts against its share (slots freed together, as
/// requests to one dead receiver time out together, do not make it look idle).
const PEAK_MEMORY: Duration = Duration::from_secs(1);

/// The memory a delivery of `len` payload bytes is counted for: the stored data, the request body
/// built from it, and its headers and bookkeeping.
pub fn payload_cost(len: usize) -> usize {
    len.saturating_mul(2).saturating_add(2048)
}

/// The worker slots and payload memory of this node (one per process, shared by the publisher's
/// hand-off and the workers).
#[derive(Debug)]
pub struct Capacity {
    slots: usize,
    bytes: usize,
    state: Mutex<State>,
    /// Poked when a slot frees (the claim loop waits on it).
    freed: Notify,
}

#[derive(Debug)]
struct State {
    free_slots: isize,
    free_bytes: isize,
    /// Lane deliveries claimed and waiting for their start time (at most `slots` of them).
    starts: usize,
    tenants: HashMap<String, Use>,
    waiters: VecDeque<Waiter>,
    contended: bool,
}

#[derive(Debug, Default)]
struct Use {
    held: usize,
    peak: usize,
    peak_at: Option<Instant>,
}

impl Use {
    /// The slots held now, or the peak of the last [`PEAK_MEMORY`] if higher.
    fn recent(&self, now: Instant) -> usize {
        match self.peak_at {
            Some(at) if now.duration_since(at) <= PEAK_MEMORY => self.peak.max(self.held),
            _ => self.held,
        }
    }
}

#[derive(Debug)]
struct Waiter {
    tenant: String,
    ready: oneshot::Sender<()>,
}

/// How much a claim may take now.
#[derive(Debug, Clone, Default)]
pub struct Room {
    /// Deliveries to send now (free slots no waiting delivery is owed).
    pub slots: usize,
    /// Lane deliveries that may still be claimed to wait for their start time.
    pub starts: usize,
    /// Payload memory left (a claim takes at least one delivery when this is above 0).
    pub bytes: usize,
    /// Tenants over their share of the slots (left out of a claim's first pass).
    pub over_share: Vec<String>,
}

/// A worker slot held by a delivery in flight; freed (and given to whoever waits) when dropped.
#[derive(Debug)]
pub struct Slot {
    capacity: Arc<Capacity>,
    tenant: String,
}

/// Payload memory held by a delivery; returned when dropped.
#[derive(Debug)]
pub struct Bytes {
    capacity: Arc<Capacity>,
    n: usize,
}

/// A lane delivery's place while it waits for its start time (without a slot).
#[derive(Debug)]
pub struct Start {
    capacity: Arc<Capacity>,
}

impl Capacity {
    /// `slots` requests at once, `bytes` of payload memory.
    pub fn new(slots: usize, bytes: usize) -> Arc<Self> {
        Arc::new(Capacity {
            slots: slots.max(1),
            bytes: bytes.max(1),
            state: Mutex::new(State {
                free_slots: slots.max(1) as isize,
                free_bytes: bytes.max(1) as isize,
                starts: 0,
                tenants: HashMap::new(),
                waiters: VecDeque::new(),
                contended: false,
            }),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slots in all.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// What a claim may take now.
    pub fn room(&self) -> Room {
        let state = self.lock();
        let now = Instant::now();
        Room {
            slots: (state.free_slots - self.owed(&state, now) as isize).max(0) as usize,
            starts: self.slots.saturating_sub(state.starts),
            bytes: state.free_bytes.max(0) as usize,
            over_share: state
                .tenants
                .iter()
                .filter(|(_, u)| self.over_share(&state, u, now))
                .map(|(t, _)| t.clone())
                .collect(),
        }
    }

    /// Resolves when a slot frees (or at once if one is free and nobody waits for it).
    pub async fn freed(&self) {
        let notified = self.freed.notified();
        if self.room().slots > 0 {
            return;
        }
        notified.await;
    }

    /// Did the last look for other tenants' work find some? While it did, tenants over their share
    /// yield to the others.
    pub fn set_contended(self: &Arc<Self>, contended: bool) {
        let mut state = self.lock();
        state.contended = contended;
        if !contended {
            self.serve_waiters(&mut state);
        }
    }

    /// A slot and memory for a fresh delivery at publish, if there are both to spare and its tenant
    /// does not crowd out others.
    pub fn try_take(self: &Arc<Self>, tenant: &str, cost: usize) -> Option<(Slot, Bytes)> {
        let mut state = self.lock();
        let now = Instant::now();
        let spare = state.free_slots - self.owed(&state, now) as isize;
        let fits = cost as isize <= state.free_bytes || state.free_bytes == self.bytes as isize;
        if spare <= 0 || !fits {
            return None;
        }
        if state.contended && state.tenants.get(tenant).is_some_and(|u| self.over_share(&state, u, now)) {
            return None;
        }
        state.free_bytes -= cost as isize;
        Some((self.grant(&mut state, tenant, now), Bytes { capacity: self.clone(), n: cost }))
    }

    /// A slot for a delivery just claimed for sending now (the claim asked [`Self::room`] first).
    pub fn take_claimed(self: &Arc<Self>, tenant: &str) -> Slot {
        let mut state = self.lock();
        self.grant(&mut state, tenant, Instant::now())
    }

    /// Counts `cost` bytes of payload memory held by a claimed delivery.
    pub fn charge(self: &Arc<Self>, cost: usize) -> Bytes {
        self.lock().free_bytes -= cost as isize;
        Bytes { capacity: self.clone(), n: cost }
    }

    /// A place for a lane delivery waiting for its start time.
    pub fn start(self: &Arc<Self>) -> Start {
        self.lock().starts += 1;
        Start { capacity: self.clone() }
    }

    /// Waits for a slot for `tenant`'s delivery: the next free slot goes to the waiting tenant that
    /// holds the fewest (and, while others wait, never to one over its share).
    pub async fn slot(self: &Arc<Self>, tenant: &str) -> Slot {
        let ready = {
            let mut state = self.lock();
            let (tx, rx) = oneshot::channel();
            state.waiters.push_back(Waiter { tenant: tenant.to_string(), ready: tx });
            self.serve_waiters(&mut state);
            rx
        };
        let mut waiting = Waiting { ready, capacity: self.clone(), tenant: tenant.to_string(), done: false };
        // The sender is only dropped after the slot was counted as ours (see `serve_waiters`).
        let _ = (&mut waiting.ready).await;
        waiting.done = true;
        Slot { capacity: self.clone(), tenant: tenant.to_string() }
    }

    fn grant(self: &Arc<Self>, state: &mut State, tenant: &str, now: Instant) -> Slot {
        state.free_slots -= 1;
        count_held(state, tenant, now);
        Slot { capacity: self.clone(), tenant: tenant.to_string() }
    }

    /// Slots owed to waiting deliveries (not counting, while others wait, those of tenants over
    /// their share, which wait behind the claims).
    fn owed(&self, state: &State, now: Instant) -> usize {
        if !state.contended {
            return state.waiters.len();
        }
        state
            .waiters
            .iter()
            .filter(|w| !state.tenants.get(&w.tenant).is_some_and(|u| self.over_share(state, u, now)))
            .count()
    }

    /// Is this tenant's use (its recent peak) more than a fair share?
    fn over_share(&self, state: &State, usage: &Use, now: Instant) -> bool {
        let used = usage.recent(now);
        // Only a tenant using two or more slots can be over; counting the users is then worth it.
        used >= 2 && used * (state.tenants.values().filter(|u| u.recent(now) > 0).count() + 1) > self.slots
    }

    /// Gives free slots to waiting deliveries, fairest first.
    fn serve_waiters(&self, state: &mut State) {
        let now = Instant::now();
        while state.free_slots > 0 && !state.waiters.is_empty() {
            state.waiters.retain(|w| !w.ready.is_closed());
            let best = state
                .waiters
                .iter()
                .enumerate()
                .min_by_key(|(i, w)| (state.tenants.get(&w.tenant).map_or(0, |u| u.held), *i))
                .map(|(i, w)| (i, w.tenant.clone()));
            let Some((i, tenant)) = best else { break };
            let crowding =
                state.contended && state.tenants.get(&tenant).is_some_and(|u| self.over_share(state, u, now));
            if crowding {
                // Left for the claims, which serve the other tenants first.
                break;
            }
            let waiter = state.waiters.remove(i).expect("found above");
            state.free_slots -= 1;
            count_held(state, &tenant, now);
            if waiter.ready.send(()).is_err() {
                // Its task is gone: the slot is not held after all.
                state.free_slots += 1;
                if let Some(usage) = state.tenants.get_mut(&tenant) {
                    usage.held = usage.held.saturating_sub(1);
                }
            }
        }
    }

    fn release(&self, tenant: &str) {
        let mut state = self.lock();
        state.free_slots += 1;
        if let Some(usage) = state.tenants.get_mut(tenant) {
            usage.held = usage.held.saturating_sub(1);
            let stale = usage.peak_at.is_none_or(|at| at.elapsed() > PEAK_MEMORY);
            if usage.held == 0 && stale {
                state.tenants.remove(tenant);
            }
        }
        // Forget tenants idle for a while (their peak no longer counts).
        if state.tenants.len() > 1024 {
            state.tenants.retain(|_, u| u.held > 0 || u.peak_at.is_some_and(|at| at.elapsed() <= PEAK_MEMORY));
        }
        self.serve_waiters(&mut state);
        drop(state);
        self.freed.notify_waiters();
    }
}

/// Counts one more slot held by `tenant` (and its peak).
fn count_held(state: &mut State, tenant: &str, now: Instant) {
    let usage = state.tenants.entry(tenant.to_string()).or_default();
    usage.held += 1;
    if usage.held >= usage.peak || usage.peak_at.is_none_or(|at| now.duration_since(at) > PEAK_MEMORY) {
        usage.peak = usage.held;
        usage.peak_at = Some(now);
    }
}

/// A delivery waiting for a slot: if it stops waiting once the slot was granted, the slot returns.
struct Waiting {
    ready: oneshot::Receiver<()>,
    capacity: Arc<Capacity>,
    tenant: String,
    done: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.done && self.ready.try_recv().is_ok() {
            self.capacity.release(&self.tenant);
        }
    }
}

impl Slot {
    /// The tenant whose delivery holds it.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.capacity.release(&self.tenant);
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        self.capacity.lock().free_bytes += self.n as isize;
    }
}

impl Drop for Start {
    fn drop(&mut self) {
        let mut state = self.capacity.lock();
        state.starts = state.starts.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_waiting_tenant_holding_the_fewest() {
        let cap = Capacity::new(4, 1 << 20);
        let mut held: Vec<Slot> = (0..4).map(|_| cap.take_claimed("a")).collect();
        assert_eq!(cap.room().slots, 0);
        let a = tokio::spawn({
            let cap = cap.clone();
            async move { cap.slot("a").await }
        });
        tokio::task::yield_now().await;
        let b = tokio::spawn({
            let cap = cap.clone();
            async move { cap.slot("b").await }
        });
        tokio::task::yield_now().await;
        held.pop();
        let slot = b.await.unwrap();
        assert_eq!(slot.tenant(), "b", "a waited first, but b holds none");
        tokio::task::yield_now().await;
        assert!(!a.is_finished(), "a holds 3: it waits for the next slot");
        drop(held);
        assert_eq!(a.await.unwrap().tenant(), "a");
    }

    #[test]
    fn a_tenant_using_every_slot_is_over_its_share_and_yields_while_others_wait() {
        let cap = Capacity::new(16, 1 << 20);
        let held: Vec<Slot> = (0..16).map(|_| cap.take_claimed("a")).collect();
        assert_eq!(cap.room().over_share, vec!["a".to_string()]);
        drop(held);
        // Freed together (as when one dead receiver times them all out), its peak still counts.
        assert_eq!(cap.room().over_share, vec!["a".to_string()]);
        assert!(cap.try_take("a", 10).is_some(), "nobody else waits: a may take a slot");
        cap.set_contended(true);
        assert!(cap.try_take("a", 10).is_none(), "others wait: a yields");
        assert!(cap.try_take("b", 10).is_some());
    }

    #[test]
    fn payload_memory_is_bounded_but_one_delivery_always_fits() {
        let cap = Capacity::new(16, 1000);
        let (_slot, _bytes) = cap.try_take("a", 5000).expect("nothing held: a large one fits alone");
        assert!(cap.try_take("b", 10).is_none(), "memory spent");
        assert_eq!(cap.room().bytes, 0);
        drop((_slot, _bytes));
        assert_eq!(cap.room().bytes, 1000);
        let charged = cap.charge(600);
        assert_eq!(cap.room().bytes, 400);
        drop(charged);
        assert_eq!(cap.room().bytes, 1000);
    }
}
