//! What this node hears from the others through `LISTEN`: queued deliveries (wake the workers), a
//! revoked key (forget authenticated keys), a new event type (forget the catalog), live feed events
//! (pass them to this node's console streams). A lost connection is made again; whatever may have
//! been missed meanwhile is assumed to have happened. And what it tells them of its publishes: one
//! `NOTIFY` for however many commits happened since the last one, at most every few milliseconds.

use super::{channel, notify, PgStore};
use crate::store::LiveSink;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Shortest time between two `NOTIFY`s of this node's publishes.
const TELL_EVERY: Duration = Duration::from_millis(5);

impl PgStore {
    /// Listens until `stop`, handing live feed payloads to `live`; tells the other nodes of this
    /// one's publishes meanwhile.
    pub async fn listen(&self, live: LiveSink, stop: CancellationToken) {
        tokio::join!(self.hear(live, stop.clone()), self.tell(stop));
    }

    /// Sends `NOTIFY` for this node's publishes, coalesced: one per [`TELL_EVERY`] at most.
    async fn tell(&self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = self.tell_others.notified() => {}
                _ = stop.cancelled() => return,
            }
            if let Err(e) = notify(&self.pool, channel::QUEUED, "").await {
                tracing::warn!("could not wake the other nodes: {e}");
            }
            tokio::time::sleep(TELL_EVERY).await;
        }
    }

    /// Hears the other nodes until `stop`.
    async fn hear(&self, live: LiveSink, stop: CancellationToken) {
        loop {
            let mut listener = match self.listener().await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::error!("cannot listen for other nodes' notifications: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.cancelled() => return,
                    }
                }
            };
            self.missed();
            loop {
                let received = tokio::select! {
                    received = listener.try_recv() => received,
                    _ = stop.cancelled() => return,
                };
                match received {
                    Ok(Some(n)) => match n.channel() {
                        channel::QUEUED => self.queued.notify_one(),
                        channel::KEYS => self.auth_cache.clear(),
                        channel::TYPES => self.type_names.clear(),
                        channel::LIVE => live(n.payload()),
                        _ => {}
                    },
                    // The connection was lost: the next call makes it again.
                    Ok(None) => self.missed(),
                    Err(e) => {
                        tracing::warn!("lost the notifications connection: {e}");
                        break;
                    }
                }
            }
        }
    }

    async fn listener(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all([channel::QUEUED, channel::KEYS, channel::TYPES, channel::LIVE]).await?;
        Ok(listener)
    }

    /// After a gap in listening: look for queued deliveries, read keys and types afresh.
    fn missed(&self) {
        self.queued.notify_one();
        self.auth_cache.clear();
        self.type_names.clear();
    }

    /// Sends live feed events to every node's streams (this one's too, through its listener).
    /// Each payload is one `NOTIFY` (PostgreSQL takes up to 8000 bytes each).
    pub async fn send_live(&self, payloads: &[String]) -> crate::store::StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p")
            .bind(channel::LIVE)
            .bind(payloads)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
