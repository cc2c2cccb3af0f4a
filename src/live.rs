//! The live feed: delivery attempts and alert changes as they happen, fanned out to SSE clients.
//! A broadcast channel with a bounded backlog: a slow client misses events (and is told so); it
//! never slows the workers. With a shared database (PostgreSQL) events travel through it, so a
//! console stream on any node sees every node's attempts: [`LiveFeed::send`] queues them to a relay
//! that sends them in `NOTIFY` batches, and every node's listener hands them back through
//! [`LiveFeed::deliver`].

use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Events kept for slow readers before they start missing some.
const BACKLOG: usize = 1024;
/// Largest `NOTIFY` payload sent (PostgreSQL takes up to 8000 bytes).
const MAX_PAYLOAD: usize = 7_000;

/// One thing that happened, for one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    /// `attempt` or `alert`.
    #[serde(skip)]
    pub kind: &'static str,
    #[serde(skip)]
    pub tenant: String,
    #[serde(flatten)]
    pub data: serde_json::Value,
}

/// A live event as it travels between nodes.
#[derive(Serialize, Deserialize)]
struct Wire {
    kind: String,
    tenant: String,
    data: serde_json::Value,
}

/// The feed's sending side.
pub struct LiveFeed {
    tx: broadcast::Sender<LiveEvent>,
    /// With a shared database: events on their way to the relay.
    relay: Option<mpsc::Sender<Wire>>,
    /// The relay's receiving end, until the relay starts.
    relay_rx: Mutex<Option<mpsc::Receiver<Wire>>>,
}

impl LiveFeed {
    /// A feed for the streams of this process alone (an embedded database: there is no other).
    pub fn local() -> Self {
        LiveFeed { tx: broadcast::channel(BACKLOG).0, relay: None, relay_rx: Mutex::new(None) }
    }

    /// A feed through the shared database, when there is one (see [`LiveFeed::run_relay`]).
    pub fn for_store(store: &Store) -> Self {
        if !store.shared() {
            return Self::local();
        }
        let (tx, rx) = mpsc::channel(4 * BACKLOG);
        LiveFeed { tx: broadcast::channel(BACKLOG).0, relay: Some(tx), relay_rx: Mutex::new(Some(rx)) }
    }

    /// Sends to whoever listens, on every node (nobody listening is fine; when the relay falls
    /// behind, events are dropped rather than slow the sender).
    pub fn send(&self, kind: &'static str, tenant: &str, data: serde_json::Value) {
        match &self.relay {
            Some(relay) => {
                let _ = relay.try_send(Wire { kind: kind.to_string(), tenant: tenant.to_string(), data });
            }
            None => {
                let _ = self.tx.send(LiveEvent { kind, tenant: tenant.to_string(), data });
            }
        }
    }

    /// Hands events heard from the database (a JSON array of them) to this node's streams.
    pub fn deliver(&self, payload: &str) {
        let Ok(events) = serde_json::from_str::<Vec<Wire>>(payload) else { return };
        for Wire { kind, tenant, data } in events {
            let kind = match kind.as_str() {
                "attempt" => "attempt",
                "alert" => "alert",
                _ => continue,
            };
            let _ = self.tx.send(LiveEvent { kind, tenant, data });
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Sends queued events through the database, in batches, until `stop` (nothing to do for a
    /// local feed).
    pub async fn run_relay(&self, store: Store, stop: CancellationToken) {
        let Some(mut rx) = self.relay_rx.lock().expect("live relay").take() else { return };
        let mut batch = Vec::with_capacity(256);
        loop {
            let n = tokio::select! {
                n = rx.recv_many(&mut batch, 256) => n,
                _ = stop.cancelled() => return,
            };
            if n == 0 {
                return;
            }
            if let Err(e) = store.send_live(&payloads(&batch)).await {
                tracing::warn!("live feed events not sent to other nodes: {e}");
            }
            batch.clear();
        }
    }
}

/// Events packed into JSON arrays of at most [`MAX_PAYLOAD`] bytes (an event too large alone is
/// dropped).
fn payloads(events: &[Wire]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from("[");
    for event in events {
        let Ok(json) = serde_json::to_string(event) else { continue };
        if json.len() + 2 > MAX_PAYLOAD {
            continue;
        }
        if current.len() + json.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            out.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(n: usize) -> Wire {
        Wire { kind: "attempt".into(), tenant: "t".into(), data: serde_json::json!({ "deliveryId": "x".repeat(n) }) }
    }

    #[test]
    fn payloads_stay_under_the_notify_limit_and_keep_every_event_that_fits() {
        let events: Vec<Wire> = (0..100).map(|_| wire(300)).chain([wire(9_000)]).collect();
        let out = payloads(&events);
        assert!(out.len() > 1);
        assert!(out.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let parsed: usize = out.iter().map(|p| serde_json::from_str::<Vec<Wire>>(p).unwrap().len()).sum();
        assert_eq!(parsed, 100, "every event that fits arrives; the oversized one is dropped");
    }

    #[test]
    fn delivered_events_reach_subscribers() {
        let feed = LiveFeed::local();
        let mut rx = feed.subscribe();
        feed.deliver(&payloads(&[wire(3)])[0]);
        let event = rx.try_recv().unwrap();
        assert_eq!((event.kind, event.tenant.as_str()), ("attempt", "t"));
    }
}
