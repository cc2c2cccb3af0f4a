//! Persistence: one `Store` facade over the database, used alike by REST handlers, server functions
//! and the delivery workers. SQLite (WAL) is the embedded backend; the facade's methods speak in
//! domain types only, so another backend can join behind it without touching its callers.

mod audit;
mod deliveries;
mod error;
mod event_types;
mod events;
mod keys;
mod publisher;
mod queue;
mod recovery;
mod retention;
pub mod rollup;
mod sealing;
mod sessions;
mod stats;
mod webhooks;

pub use audit::AuditFilter;
pub use deliveries::{DeliveryFilter, LastAttempt};
pub use error::{StoreError, StoreResult};
pub use events::{EventFilter, NewEvent, Published};
pub use queue::{AttemptOutcome, Disabled, DueDelivery};
pub use recovery::SecretInfo;
pub use stats::{Stats, StatsQuery};
pub use webhooks::{NewWebhook, WebhookFilter, WebhookPatch};

use crate::crypto::{SealError, Sealer};
use crate::domain::Principal;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use std::time::Instant;
use tokio::sync::Notify;

/// The database behind the service.
#[derive(Clone, Debug)]
pub struct Store {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The one writing connection. SQLite admits one writer at a time anyway; queueing writers here,
    /// in order, beats letting them collide in SQLite's busy handler, which sleeps.
    writer: SqlitePool,
    /// Woken when deliveries are queued, so workers start at once instead of at their next poll.
    queued: Arc<Notify>,
    /// The group-commit queue of publishes.
    publisher: tokio::sync::mpsc::Sender<publisher::Job>,
    /// Recently authenticated keys, so a busy publisher does not cost a query per request.
    auth_cache: Arc<Mutex<HashMap<String, (Principal, Instant)>>>,
    /// The event-type catalog: name → category (cleared when a type is added).
    type_names: Arc<RwLock<Option<Arc<Catalog>>>>,
    /// Seals webhook secrets at rest (`WEBHOOK_ENCRYPTION_KEY`); `None` stores them as they are.
    sealer: Option<Sealer>,
}

/// The event-type catalog in memory: name → category.
type Catalog = HashMap<String, String>;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {0:?} is not supported: use sqlite://path/to/file.db")]
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
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| OpenError::Unsupported(url.to_string()))?;
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| OpenError::Folder(dir.display().to_string(), e))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        // The writer never checkpoints: a checkpoint run inside a commit (SQLite's default) holds up
        // every write behind it for as long as it copies and syncs. A background task checkpoints
        // on a reader instead (`Store::checkpoint`, run by the `checkpoints` job).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone().pragma("cache_size", "-16000").pragma("wal_autocheckpoint", "0"))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        // The file holds webhook secrets: readable by this user only (the WAL files too).
        #[cfg(unix)]
        for suffix in ["", "-wal", "-shm"] {
            use std::os::unix::fs::PermissionsExt;
            let path = format!("{file}{suffix}");
            if std::path::Path::new(&path).exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| OpenError::Permissions(path.clone(), e))?;
            }
        }
        let pool = SqlitePoolOptions::new().max_connections(8).min_connections(1).connect_with(options).await?;
        let queued = Arc::new(Notify::new());
        let store = Store {
            pool,
            publisher: publisher::spawn(writer.clone(), queued.clone()),
            writer,
            queued,
            auth_cache: Arc::default(),
            type_names: Arc::default(),
            sealer,
        };
        store.seed_event_types().await?;
        store.check_sealing().await?;
        Ok(store)
    }

    /// Resolves when deliveries have been queued since the last call.
    pub async fn queued(&self) {
        self.queued.notified().await
    }

    /// Wakes a worker waiting in [`Store::queued`].
    pub fn wake_workers(&self) {
        self.queued.notify_one();
    }

    /// Is the database answering?
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.writer).await.is_ok()
    }

    /// Copies the write-ahead log back into the database file, beside the writer (a passive
    /// checkpoint never waits for it, nor it for the checkpoint).
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await.map(drop)
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
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
