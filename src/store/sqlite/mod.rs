//! The SQLite backend (the embedded default): one file in WAL mode, a pool of readers beside one
//! writing connection, publishes group-committed by one task. Right for one process only: it
//! releases every lease at start and wakes workers in-process.

mod nodes;
mod publisher;
mod queue;
mod replay;
mod rollup;
mod shared;
mod stats;

pub(crate) use super::now_ms;
use super::{OpenError, StoreError, StoreResult};
use crate::crypto::Sealer;
use crate::store::cache::{AuthCache, Catalog};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The SQLite database behind the service.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The one writing connection. SQLite admits one writer at a time anyway; queueing writers here,
    /// in order, beats letting them collide in SQLite's busy handler, which sleeps.
    writer: SqlitePool,
    /// Woken when deliveries are queued, so workers start at once instead of at their next poll.
    /// In-process: right for the one process an embedded file serves (PostgreSQL's nodes wake each
    /// other through the database).
    queued: Arc<Notify>,
    /// The group-commit queue of publishes.
    publisher: tokio::sync::mpsc::Sender<publisher::Job>,
    /// Recently authenticated keys, so a busy publisher does not cost a query per request; a
    /// revocation clears it at once (there is no other process to tell).
    auth_cache: AuthCache,
    /// The event-type catalog: name → category (cleared when a type is added).
    type_names: Catalog,
    /// Seals webhook secrets at rest (`WEBHOOK_ENCRYPTION_KEY`); `None` stores them as they are.
    sealer: Option<Sealer>,
    /// This process: the holder of its leases.
    node: Arc<str>,
    /// What the write paths spend.
    activity: Arc<super::Activity>,
}

impl SqliteStore {
    /// Opens (creating when missing) the SQLite file of `url`, runs its migrations, seeds the
    /// catalog and checks the sealing of secrets with the publisher's `sealer` when there is one: secrets stored in
    /// the clear before are sealed now, and a database whose sealed secrets do not open (no key, or
    /// another one) is refused rather than served.
    pub async fn open_with(url: &str, publishing: super::handoff::Publishing) -> Result<Self, OpenError> {
        let (sealer, node, activity) =
            (publishing.sealer.clone(), publishing.node.clone(), publishing.activity.clone());
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
        // on a reader instead (`Store::checkpoint`, run by the `checkpoints` job). Its commits wait
        // for the disk (FULL), but for the hot transactions that may be replayed (`relaxed`).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(
                options
                    .clone()
                    .synchronous(SqliteSynchronous::Full)
                    .pragma("cache_size", "-16000")
                    .pragma("wal_autocheckpoint", "0"),
            )
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
        let store = SqliteStore {
            pool,
            publisher: publisher::spawn(writer.clone(), queued.clone(), publishing),
            writer,
            queued,
            auth_cache: AuthCache::default(),
            type_names: Catalog::default(),
            sealer,
            node,
            activity,
        };
        store.seed_event_types().await?;
        store.check_sealing().await?;
        Ok(store)
    }

    /// This process's name, as the holder of its leases.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Resolves when deliveries have been queued since the last call.
    pub async fn queued(&self) {
        self.queued.notified().await
    }

    /// A write transaction whose commit does not wait for the disk, for claims, attempt records and
    /// lease take-overs: a power cut may lose its last moments of them, and then a claim is taken
    /// over at the next start and an attempt made again (a re-send, never a loss). Publishes, which
    /// are acknowledged as stored, wait for the disk. (The setting travels with BEGIN, in one round
    /// trip to SQLite's thread; the publisher sets it back.)
    async fn relaxed(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE").await
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
