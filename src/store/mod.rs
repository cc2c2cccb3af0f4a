//! Persistence: one `Store` over the database, used alike by the service layer, the console and the
//! delivery workers. It speaks in domain types and its own `StoreError`; each backend lives in its
//! own folder behind it, chosen by `DATABASE_URL`: `sqlite/` (the embedded default, one process)
//! and `postgres/` (several nodes on one database).

mod activity;
mod cache;
mod capacity;
mod error;
mod fanout;
mod filters;
mod handoff;
mod model;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod stats_sql;
mod tally;

pub use crate::domain::{SecretInfo, Stats};
pub use activity::{Activity, Work, WorkTotals};
pub use capacity::{payload_cost, Bytes, Capacity, Room, Slot, Start};
pub use error::{StoreError, StoreResult};
pub use handoff::{Handed, Handoff};
pub use model::{
    AttemptOutcome, AttemptSummary, AuditFilter, ClaimRoom, DeliveryFilter, Disabled, DueDelivery, EventFilter,
    KeyControls, KeyPatch, LastAttempt, LatestDelivery, NewEvent, NewWebhook, Published, StatsQuery, WebhookFilter,
    WebhookPatch,
};

use crate::crypto::{SealError, Sealer};
use crate::domain::{
    ApiKey, Attempt, AuditEntry, Delivery, DeliveryStatus, Event, EventType, Page, Principal, Requeued, Role, Webhook,
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// Prefix of every API key, so a leaked one is recognisable.
pub const KEY_PREFIX: &str = "mwk_";

/// Where live feed events heard from the database go (PostgreSQL: every node's attempts).
pub type LiveSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// The database behind the service.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// What its write paths spend (for `/metrics` and the benchmark).
    activity: std::sync::Arc<Activity>,
    /// Where its publishes hand fresh deliveries to this process's workers.
    handoff: Handoff,
}

/// The backends a `Store` can stand for.
#[derive(Clone, Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {0:?} is not supported: use sqlite://path/to/file.db or postgres://user@host/database")]
    Unsupported(String),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
    #[error("cannot make {0} private to this user: {1}")]
    Permissions(String, std::io::Error),
    #[error("cannot open the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Sealing(#[from] SealError),
    #[error("{0}")]
    Store(StoreError),
}

impl Store {
    /// Opens (creating when missing) the database at `url`, runs the migrations and seeds the catalog.
    /// Webhook secrets are stored as they are.
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        Self::open_with(url, None).await
    }

    /// [`Store::open`], sealing webhook secrets with `sealer` when there is one: secrets stored in
    /// the clear before are sealed now, and a database whose sealed secrets do not open (no key, or
    /// another one) is refused rather than served.
    pub async fn open_with(url: &str, sealer: Option<Sealer>) -> Result<Self, OpenError> {
        // This process among the nodes sharing the database: the holder of its leases.
        let node = crate::crypto::new_id("node_");
        let activity = std::sync::Arc::new(Activity::default());
        let publishing = handoff::Publishing::new(sealer, node.into(), activity.clone());
        let handoff = publishing.handoff.clone();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::SqliteStore::open_with(url, publishing).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(postgres::PgStore::open_with(url, publishing).await?)
        } else {
            return Err(OpenError::Unsupported(url.to_string()));
        };
        Ok(Store { backend, activity, handoff })
    }

    /// What the write paths have spent since this process started.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// The backend's name (`sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// May other processes share this database (and the live feed travel through it)?
    pub fn shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// This process's name among the nodes.
    pub fn node(&self) -> &str {
        match &self.backend {
            Backend::Sqlite(db) => db.node(),
            Backend::Postgres(db) => db.node(),
        }
    }

    /// Where publishes hand fresh deliveries straight to this process's workers.
    pub fn handoff(&self) -> &Handoff {
        &self.handoff
    }

    /// Hears the other nodes until `stop` (PostgreSQL `LISTEN`): wake-ups, revocations, new event
    /// types, live feed events (handed to `live`). Returns at once for SQLite, which has no others.
    pub async fn listen(&self, live: LiveSink, stop: tokio_util::sync::CancellationToken) {
        match &self.backend {
            Backend::Sqlite(_) => {}
            Backend::Postgres(db) => db.listen(live, stop).await,
        }
    }

    /// Sends live feed events to every node's streams (PostgreSQL `NOTIFY`; nothing for SQLite,
    /// whose one process broadcasts them itself).
    pub async fn send_live(&self, payloads: &[String]) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(db) => db.send_live(payloads).await,
        }
    }
}

/// Each method of the store, handed to the backend behind it.
macro_rules! delegate {
    ($($(#[$doc:meta])* pub async fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        Backend::Sqlite(db) => db.$name($($arg),*).await,
                        Backend::Postgres(db) => db.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

delegate! {
    /// Resolves when deliveries have been queued since the last call.
    pub async fn queued(&self) -> ();
    /// Is the database answering?
    pub async fn ping(&self) -> bool;
    /// Closes every connection (at shutdown).
    pub async fn close(&self) -> ();
    /// Copies the write-ahead log back into the database file (SQLite).
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error>;

    // Audit log.
    pub async fn audit(&self, actor: &Principal, client_ip: Option<&str>, action: &str, target: Option<&str>, tenant: Option<&str>) -> StoreResult<()>;
    pub async fn audit_refused(&self, client_ip: Option<&str>, action: &str) -> StoreResult<()>;
    pub async fn audit_repeated(&self, actor: &Principal, client_ip: Option<&str>, action: &str, tenant: Option<&str>) -> StoreResult<()>;
    pub async fn purge_audit(&self, cutoff_ms: i64, limit: i64) -> StoreResult<u64>;
    pub async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Page<AuditEntry>>;

    // Deliveries and attempts.
    pub async fn get_delivery(&self, id: &str, scope: Option<&str>) -> StoreResult<Delivery>;
    pub async fn list_attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>>;
    pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Page<Delivery>>;
    pub async fn page_of_deliveries(&self, filter: &DeliveryFilter, limit: i64) -> StoreResult<Page<Delivery>>;
    pub async fn last_attempts(&self, ids: &[String]) -> StoreResult<HashMap<String, LastAttempt>>;
    pub async fn count_deliveries(&self, filter: &DeliveryFilter, cap: i64) -> StoreResult<i64>;
    pub async fn latest_deliveries(&self, webhook_ids: &[String], scope: Option<&str>) -> StoreResult<Vec<LatestDelivery>>;

    // The event catalog.
    pub async fn list_event_types(&self) -> StoreResult<Vec<EventType>>;
    pub async fn event_type_names(&self) -> StoreResult<Vec<(String, String)>>;
    pub async fn event_type_category(&self, name: &str) -> StoreResult<Option<String>>;
    pub async fn event_type_exists(&self, name: &str) -> StoreResult<bool>;
    pub async fn create_event_type(&self, event_type: &EventType) -> StoreResult<()>;

    // Events.
    pub async fn publish(&self, new: &NewEvent) -> StoreResult<Published>;
    pub async fn get_event(&self, id: &str, scope: Option<&str>) -> StoreResult<Event>;
    pub async fn list_events(&self, filter: &EventFilter) -> StoreResult<Page<Event>>;
    pub async fn count_events(&self, filter: &EventFilter, cap: i64) -> StoreResult<i64>;
    pub async fn queue_event_to(&self, event_id: &str, webhook: &Webhook) -> StoreResult<String>;

    // API keys and sessions.
    pub async fn create_key(&self, tenant: Option<&str>, role: Role, name: &str, controls: KeyControls) -> StoreResult<(ApiKey, String)>;
    pub async fn update_key(&self, id: &str, patch: KeyPatch) -> StoreResult<ApiKey>;
    pub async fn ensure_admin_key(&self, secret: &str, name: &str) -> StoreResult<ApiKey>;
    pub async fn count_admin_keys(&self) -> StoreResult<i64>;
    pub async fn note_key_use(&self, key_id: &str, ip: &str) -> StoreResult<()>;
    pub async fn key_addresses(&self, since_ms: i64) -> StoreResult<Vec<(String, String)>>;
    pub async fn list_keys(&self) -> StoreResult<Vec<ApiKey>>;
    pub async fn revoke_key(&self, id: &str) -> StoreResult<()>;
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Principal>>;
    pub async fn create_session(&self, key_id: &str, ttl: Duration) -> StoreResult<String>;
    pub async fn session_principal(&self, token: &str) -> StoreResult<Option<Principal>>;
    pub async fn delete_session(&self, token: &str) -> StoreResult<()>;

    // The delivery queue.
    /// Claims due deliveries (not those of lanes) within `room`: at most `limit`, `bytes` of
    /// payload memory (at least one when above 0), none of `skip_tenants`.
    pub async fn claim_due(&self, room: &ClaimRoom, lease_ms: i64) -> StoreResult<Vec<DueDelivery>>;
    pub async fn others_due(&self, skip_tenants: &[String]) -> StoreResult<bool>;
    pub async fn fifo_heads(&self, webhook_ids: &[String]) -> StoreResult<Vec<(String, String)>>;
    pub async fn claim_lanes(&self, lease_ms: i64, lookahead_ms: i64, room: &ClaimRoom) -> StoreResult<Vec<DueDelivery>>;
    pub async fn due_delivery(&self, delivery_id: &str) -> StoreResult<Option<DueDelivery>>;
    pub async fn release_expired_leases(&self) -> StoreResult<u64>;
    /// At start: SQLite queues again whatever the previous process had in flight; PostgreSQL
    /// leaves other nodes' leases alone (expired ones are taken over).
    pub async fn release_at_start(&self) -> StoreResult<u64>;
    pub async fn renew_leases(&self, lease_ms: i64) -> StoreResult<u64>;
    pub async fn record_outcomes(&self, outcomes: &[AttemptOutcome], max_failures: i64) -> StoreResult<Vec<Disabled>>;

    // One webhook's secret and recovery.
    pub async fn webhook_secret(&self, id: &str, scope: Option<&str>) -> StoreResult<SecretInfo>;
    pub async fn rotate_secret(&self, id: &str, scope: Option<&str>, new_secret: &str, grace_ms: i64) -> StoreResult<SecretInfo>;
    pub async fn requeue_failed(&self, filter: &DeliveryFilter, dry_run: bool) -> StoreResult<Requeued>;
    pub async fn replay_missing(&self, id: &str, scope: Option<&str>, since_ms: i64, dry_run: bool) -> StoreResult<u64>;
    pub async fn create_test_delivery(&self, id: &str, scope: Option<&str>, lease_ms: i64) -> StoreResult<DueDelivery>;
    pub async fn claim_for_retry(&self, delivery_id: &str, scope: Option<&str>, lease_ms: i64) -> StoreResult<(DueDelivery, DeliveryStatus, Option<i64>)>;

    // Retention and statistics.
    pub async fn purge_batch(&self, cutoff_ms: i64) -> StoreResult<u64>;
    pub async fn rolled_until(&self) -> StoreResult<Option<i64>>;
    pub async fn roll_up(&self, now: i64) -> StoreResult<usize>;
    pub async fn stats(&self, s: &StatsQuery) -> StoreResult<Stats>;
    pub async fn stats_at(&self, s: &StatsQuery, until: i64) -> StoreResult<Stats>;
    pub async fn attempts_by_webhook(&self, s: &StatsQuery, ids: &[String], until: i64) -> StoreResult<std::collections::BTreeMap<String, AttemptSummary>>;
    pub async fn queue_depth(&self) -> StoreResult<Vec<(&'static str, i64)>>;
    pub async fn disabled_webhooks(&self) -> StoreResult<i64>;
    pub async fn held_by_webhook(&self, scope: Option<&str>) -> StoreResult<Vec<(String, i64)>>;
    pub async fn tenants_with_webhooks(&self) -> StoreResult<Vec<String>>;

    // Coordination between nodes.
    /// The clock the nodes share, in unix milliseconds (the database's, for PostgreSQL).
    pub async fn clock_ms(&self) -> StoreResult<i64>;
    /// Takes or keeps the lease of a job one node runs at a time: `true` while this node holds it.
    pub async fn try_lead(&self, name: &str, ttl_ms: i64) -> StoreResult<bool>;
    pub async fn alert_state(&self) -> StoreResult<Vec<(String, String, i64)>>;
    pub async fn save_alert_state(&self, raised: &[(String, String, i64)], cleared: &[(String, String)]) -> StoreResult<()>;

    // Webhooks.
    pub async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook>;
    pub async fn get_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<Webhook>;
    pub async fn list_webhooks(&self, filter: &WebhookFilter) -> StoreResult<Page<Webhook>>;
    pub async fn update_webhook(&self, id: &str, scope: Option<&str>, patch: WebhookPatch) -> StoreResult<Webhook>;
    pub async fn pause_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<Webhook>;
    pub async fn webhook_names(&self, ids: &[String]) -> StoreResult<Vec<(String, String, String)>>;
    pub async fn delete_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<()>;
}

/// Now, in unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Unix milliseconds to a UTC time.
pub(crate) fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Is this error a unique-constraint violation?
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Clamps a requested page size to 1..=200 (default 50).
pub(crate) fn page_limit(limit: Option<u32>) -> i64 {
    limit.unwrap_or(50).clamp(1, 200) as i64
}

/// Cuts a `limit + 1` fetch into a page and its cursor.
pub(crate) fn into_page<T>(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> String) -> crate::domain::Page<T> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(id)
    } else {
        None
    };
    crate::domain::Page { data: rows, next_cursor }
}
