//! The PostgreSQL backend: the path for production and for several nodes on one database. Claims
//! take due deliveries with `FOR UPDATE SKIP LOCKED` under a lease each node renews while it lives;
//! `LISTEN/NOTIFY` wakes every node's workers on publish, tells every node of a revoked key or a new
//! event type, and carries the live feed between nodes.

mod listen;
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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Connections each node keeps to the database at most.
const POOL_SIZE: u32 = 24;

/// `NOTIFY` channels between nodes.
pub(crate) mod channel {
    /// Deliveries were queued: idle workers look for them.
    pub const QUEUED: &str = "monay_queued";
    /// A key was revoked: forget authenticated keys.
    pub const KEYS: &str = "monay_keys";
    /// An event type was added: read the catalog again.
    pub const TYPES: &str = "monay_types";
    /// Live feed events (JSON), for every node's console streams.
    pub const LIVE: &str = "monay_live";
}

/// The PostgreSQL database behind the service.
#[derive(Clone, Debug)]
pub struct PgStore {
    /// Reads and writes alike (`writer` is the same pool: the shared SQL names both).
    pool: PgPool,
    writer: PgPool,
    /// This process among the nodes: the holder of its leases.
    node: Arc<str>,
    /// Woken when deliveries are queued: by this node directly, by other nodes through `NOTIFY`.
    queued: Arc<Notify>,
    /// Woken when this node queued deliveries the other nodes should hear of (see `listen`).
    tell_others: Arc<Notify>,
    /// The group-commit queue of publishes.
    publisher: tokio::sync::mpsc::Sender<publisher::Job>,
    /// Recently authenticated keys; every node forgets them when a key is revoked anywhere.
    auth_cache: AuthCache,
    /// The event-type catalog; every node forgets it when a type is added anywhere.
    type_names: Catalog,
    /// Seals webhook secrets at rest (`WEBHOOK_ENCRYPTION_KEY`); `None` stores them as they are.
    sealer: Option<Sealer>,
    /// What the write paths spend.
    activity: Arc<super::Activity>,
}

impl PgStore {
    /// Connects to the database of `url` (creating it when missing and allowed), runs its
    /// migrations (one node at a time: sqlx takes an advisory lock), seeds the catalog and checks
    /// the sealing of secrets.
    pub async fn open_with(url: &str, publishing: super::handoff::Publishing) -> Result<Self, OpenError> {
        let (sealer, node, activity) =
            (publishing.sealer.clone(), publishing.node.clone(), publishing.activity.clone());
        create_if_missing(url).await?;
        let options = PgConnectOptions::from_str(url)?.application_name("monay-webhooks");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .min_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let (queued, tell_others) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let store = PgStore {
            publisher: publisher::spawn(pool.clone(), queued.clone(), tell_others.clone(), publishing),
            writer: pool.clone(),
            pool,
            node,
            queued,
            tell_others,
            auth_cache: AuthCache::default(),
            type_names: Catalog::default(),
            sealer,
            activity,
        };
        store.seed_event_types().await?;
        store.check_sealing().await?;
        store.check_clock().await;
        Ok(store)
    }

    /// This node's name among the nodes.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Resolves when deliveries have been queued since the last call (here or on another node).
    pub async fn queued(&self) {
        self.queued.notified().await
    }

    /// Is the database answering?
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Nothing to do: PostgreSQL checkpoints on its own.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The clock every node shares: the database's, in unix milliseconds.
    pub async fn clock_ms(&self) -> StoreResult<i64> {
        self.db_now().await
    }

    /// The database's clock, in unix milliseconds.
    pub(crate) async fn db_now(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT monay_now_ms()").fetch_one(&self.pool).await?)
    }

    /// Warns when this machine's clock and the database's differ by more than a second: statistics
    /// rollups allow a minute, leases a few seconds.
    async fn check_clock(&self) {
        if let Ok(db) = self.db_now().await {
            let skew = now_ms() - db;
            if skew.abs() > 1_000 {
                tracing::warn!(
                    skew_ms = skew,
                    "this machine's clock differs from the database's: keep the nodes' clocks in sync (NTP)"
                );
            }
        }
    }
}

/// Creates the database of `url` when it does not exist (a role without `CREATEDB` gets a clear
/// error and can create it by hand). Two nodes starting at once may both try: the loser finds it made.
async fn create_if_missing(url: &str) -> Result<(), OpenError> {
    use sqlx::migrate::MigrateDatabase;
    if sqlx::Postgres::database_exists(url).await? {
        return Ok(());
    }
    match sqlx::Postgres::create_database(url).await {
        Ok(()) => Ok(()),
        Err(_) if sqlx::Postgres::database_exists(url).await? => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends a notification on `channel`, within `conn`'s transaction if it is in one (it is delivered
/// at the commit, and not at all after a rollback).
pub(crate) async fn notify<'e>(
    conn: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    channel: &str,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(conn).await.map(drop)
}

impl From<StoreError> for OpenError {
    fn from(err: StoreError) -> Self {
        OpenError::Store(err)
    }
}
