//! Deliveries handed from the publish commit straight to this process's workers. While the workers
//! have free slots, a fresh delivery is stored already claimed by this node (`delivering`, under a
//! lease) in the very transaction that stores its event, and given to a worker once that commits:
//! the common case costs no claim query and no wake-up, and a delivery starts as soon as its
//! publish is acknowledged. Each one carries a worker slot reserved before the commit, so the
//! workers are never handed more than they can send at once; the rest of the batch is queued
//! `pending` as before. A crash loses nothing: handed deliveries are leased rows like claimed
//! ones, taken over when their lease ends.

use super::capacity::{payload_cost, Bytes, Capacity, Slot};
use super::fanout::{Hook, Plan};
use super::model::DueDelivery;
use super::to_time;
use crate::crypto::{seal, Sealer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A delivery handed to the workers, with the slot and the payload memory it was given.
pub struct Handed {
    pub delivery: DueDelivery,
    pub slot: Slot,
    pub bytes: Bytes,
}

/// Where publishes hand deliveries over (cheap to clone; one per store).
#[derive(Clone, Default)]
pub struct Handoff {
    workers: Arc<Mutex<Option<Workers>>>,
}

/// The workers taking handed deliveries.
#[derive(Clone)]
struct Workers {
    capacity: Arc<Capacity>,
    tx: mpsc::UnboundedSender<Handed>,
    lease_ms: i64,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff").field("attached", &self.lock().is_some()).finish()
    }
}

impl Handoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Workers>> {
        self.workers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The workers start taking deliveries: each handed one holds a slot and payload memory of
    /// `capacity` and is leased for `lease_ms`. They arrive on the returned channel.
    pub fn attach(&self, capacity: Arc<Capacity>, lease_ms: i64) -> mpsc::UnboundedReceiver<Handed> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.lock() = Some(Workers { capacity, tx, lease_ms });
        rx
    }

    /// The workers stop taking deliveries; the channel closes once commits under way have handed
    /// theirs.
    pub fn detach(&self) {
        *self.lock() = None;
    }
}

/// What a backend's publisher works with beside its database (and what the backend is opened
/// with): where to hand deliveries over, the key that opens webhook secrets, this node (the holder
/// of their leases), and where its work is counted.
pub(crate) struct Publishing {
    pub handoff: Handoff,
    pub sealer: Option<Sealer>,
    pub node: Arc<str>,
    pub activity: Arc<super::Activity>,
}

impl Publishing {
    /// This node's, with a new hand-off point (the workers attach to it).
    pub fn new(sealer: Option<Sealer>, node: Arc<str>, activity: Arc<super::Activity>) -> Self {
        Publishing { handoff: Handoff::default(), sealer, node, activity }
    }

    /// Works out which of `plan`'s deliveries go to the workers, reserving a slot and payload
    /// memory for each (first come, while both are free and the tenant does not crowd out others
    /// — see [`Capacity`]; never a held one, nor one of a webhook with delivery controls, which its
    /// lane claims, nor one whose secret does not open, which the queue then reports).
    pub fn reserve(&self, plan: &Plan, now: i64) -> Handing {
        let mut handing = Handing { handed: vec![false; plan.deliveries.len()], items: Vec::new(), to: None };
        let Some(workers) = self.handoff.lock().clone() else { return handing };
        let sealer = self.sealer.as_ref();
        let mut secrets: HashMap<&str, Option<Vec<String>>> = HashMap::new();
        for (i, d) in plan.deliveries.iter().enumerate() {
            if d.hook.held || d.hook.controlled {
                continue;
            }
            let Some(secrets) = secrets.entry(&d.hook.id).or_insert_with(|| open(d.hook, sealer, now)).clone() else {
                continue;
            };
            let Some((slot, bytes)) = workers.capacity.try_take(&d.hook.tenant, payload_cost(d.data.len())) else {
                continue;
            };
            handing.handed[i] = true;
            handing.items.push(Handed {
                delivery: DueDelivery {
                    delivery_id: d.id.clone(),
                    event_id: d.event_id.clone(),
                    webhook_id: d.hook.id.clone(),
                    tenant: d.hook.tenant.clone(),
                    event: d.event.to_string(),
                    data: d.data.to_string(),
                    event_time: to_time(now),
                    url: d.hook.url.clone(),
                    secrets,
                    attempts: 0,
                    headers: super::rows::parse_headers(&d.hook.headers),
                    lane: None,
                },
                slot,
                bytes,
            });
        }
        if !handing.items.is_empty() {
            handing.to = Some(workers);
        }
        handing
    }
}

/// A webhook's signing secrets, opened (the previous one while it still signs).
fn open(hook: &Hook, sealer: Option<&Sealer>, now: i64) -> Option<Vec<String>> {
    let mut secrets = vec![seal::open(sealer, &hook.id, &hook.secret).ok()?];
    if let (Some(prev), Some(until)) = (&hook.previous_secret, hook.previous_secret_expires_at) {
        if until > now {
            secrets.push(seal::open(sealer, &hook.id, prev).ok()?);
        }
    }
    Some(secrets)
}

/// The deliveries of a batch handed to the workers once it commits.
pub(crate) struct Handing {
    /// Per delivery of the plan: is it handed over (stored claimed by this node)?
    pub handed: Vec<bool>,
    items: Vec<Handed>,
    to: Option<Workers>,
}

impl Handing {
    /// Until when handed deliveries are leased, from `now`.
    pub fn lease_until(&self, now: i64) -> Option<i64> {
        self.to.as_ref().map(|w| now + w.lease_ms)
    }

    /// Are some of the plan's deliveries left in the queue for a worker to claim?
    pub fn leaves_queued(&self, plan: &Plan) -> bool {
        plan.deliveries.iter().zip(&self.handed).any(|(d, handed)| !handed && !d.hook.held)
    }

    /// After the commit: the workers get their deliveries. (Dropped instead, when the commit
    /// failed, the slots return.)
    pub fn send(self) {
        if let Some(workers) = self.to {
            for item in self.items {
                // Closed only when the workers stopped; the delivery's lease then runs out and
                // whoever holds the queue next takes it over.
                let _ = workers.tx.send(item);
            }
        }
    }
}
