//! The live feed: delivery attempts and alert changes as they happen, fanned out to SSE clients.
//! A broadcast channel with a bounded backlog: a slow client misses events (and is told so); it
//! never slows the workers.

use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for slow readers before they start missing some.
const BACKLOG: usize = 1024;

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

/// The feed's sending side: an in-process broadcast, so a stream sees the attempts this process
/// makes (all of them, with one process).
pub struct LiveFeed {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        LiveFeed { tx: broadcast::channel(BACKLOG).0 }
    }
}

impl LiveFeed {
    /// Sends to whoever listens (nobody listening is fine).
    pub fn send(&self, kind: &'static str, tenant: &str, data: serde_json::Value) {
        let _ = self.tx.send(LiveEvent { kind, tenant: tenant.to_string(), data });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }
}
