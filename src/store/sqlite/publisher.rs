//! Group commit for publishing: concurrent publishes are queued to one task that stores whatever has
//! arrived meanwhile (events, their idempotency checks and their deliveries) in one transaction.
//! Each publisher still gets its answer only after the commit, so nothing acknowledged can be lost;
//! SQLite writes each touched page once per batch instead of once per event. While the workers
//! have free slots, fresh deliveries are stored claimed and handed straight to them (`handoff`).

use super::now_ms;
use super::{StoreError, StoreResult};
use crate::store::fanout::{self, Hook, Publish, Seen, HOOKS_SQL};
use crate::store::handoff::{Handing, Publishing};
use crate::store::model::{NewEvent, Published};
use crate::store::Work;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most events stored in one transaction.
const MAX_BATCH: usize = 512;
/// Most values bound to one command (SQLite allows 32,766).
const MAX_BOUND: usize = 30_000;

/// One publish waiting for its batch.
pub(super) struct Job {
    pub new: NewEvent,
    /// The event type's catalog category (for `category:` subscriptions).
    pub category: String,
    /// When it was queued for its commit.
    pub queued: std::time::Instant,
    pub reply: oneshot::Sender<StoreResult<Published>>,
}

/// Starts the committer; publishes are sent to the returned queue.
pub(super) fn spawn(writer: SqlitePool, queued: Arc<Notify>, hand: Publishing) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            let batch = std::mem::take(&mut jobs);
            hand.activity.waited(batch.iter().map(|j| j.queued));
            match commit(&writer, &batch, &hand).await {
                Ok((results, handing, left_queued)) => {
                    handing.send();
                    if left_queued {
                        queued.notify_one();
                    }
                    for (job, result) in batch.into_iter().zip(results) {
                        let _ = job.reply.send(result);
                    }
                }
                Err(e) => {
                    let err = StoreError::from(e);
                    for job in batch {
                        let _ = job.reply.send(Err(err.clone()));
                    }
                }
            }
        }
    });
    tx
}

/// What a committed batch comes to: an answer per publish, the deliveries for the workers, and
/// whether some were left in the queue.
type Committed = (Vec<StoreResult<Published>>, Handing, bool);

async fn commit(writer: &SqlitePool, batch: &[Job], hand: &Publishing) -> Result<Committed, sqlx::Error> {
    let now = now_ms();
    let mut conn = writer.acquire().await?;
    let started = std::time::Instant::now();
    let result = commit_in(&mut conn, batch, hand, now).await;
    if let Ok((answers, ..)) = &result {
        hand.activity.done(Work::Publish, answers.len(), started);
    }
    result
}

async fn commit_in(
    conn: &mut sqlx::SqliteConnection,
    batch: &[Job],
    hand: &Publishing,
    now: i64,
) -> Result<Committed, sqlx::Error> {
    use sqlx::Connection;
    // Publishes are acknowledged as stored, so their commit waits for the disk (FULL); the writer's
    // hot transactions (claims, attempt records) may be replayed after a power loss, and skip it
    // (`relaxed`). The setting travels with BEGIN: each statement is a round trip to SQLite's thread.
    let mut tx = conn.begin_with("PRAGMA synchronous = FULL; BEGIN IMMEDIATE").await?;
    let hooks: Vec<Hook> = sqlx::query_as(HOOKS_SQL).fetch_all(&mut *tx).await?.into_iter().map(Hook::new).collect();
    let publishes: Vec<Publish> = batch.iter().map(|j| Publish { new: &j.new, category: &j.category }).collect();
    let mut seen = HashMap::new();
    for (scope, key) in fanout::keys(&publishes) {
        let row: Option<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, request_hash, deliveries FROM events WHERE idempotency_scope = $1 AND idempotency_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((event_id, fingerprint, deliveries)) = row {
            seen.insert((scope.to_string(), key.to_string()), Seen { event_id, fingerprint, deliveries });
        }
    }
    let plan = fanout::plan(&publishes, &hooks, &seen);
    let handing = hand.reserve(&plan, now);
    let lease_until = handing.lease_until(now);

    // The inserts go as few commands as SQLite's limit on bound values allows: each statement sent
    // on its own is a round trip to SQLite's thread.
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("");
    let mut bound = 0;
    for chunk in plan.events.chunks(256) {
        q.push(
            "INSERT INTO events (id, tenant, event, data, timestamp, idempotency_scope, idempotency_key, request_hash, deliveries) ",
        );
        q.push_values(chunk, |mut row, e| {
            let (scope, key, fingerprint) = match &e.new.idempotency {
                Some((s, k, f)) => (Some(s.as_str()), Some(k.as_str()), Some(f.as_str())),
                None => (None, None, None),
            };
            row.push_bind(e.id.as_str())
                .push_bind(e.new.tenant.as_deref())
                .push_bind(e.new.event.as_str())
                .push_bind(e.new.data.as_str())
                .push_bind(now)
                .push_bind(scope)
                .push_bind(key)
                .push_bind(fingerprint)
                .push_bind(e.deliveries);
        });
        q.push(";\n");
        bound += 9 * chunk.len();
    }
    let deliveries: Vec<_> = plan.deliveries.iter().zip(&handing.handed).collect();
    for chunk in deliveries.chunks(400) {
        if bound + 10 * chunk.len() > MAX_BOUND {
            q.build().execute(&mut *tx).await?;
            q.reset();
            bound = 0;
        }
        q.push(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
             created_at, updated_at, lease_until, leased_by, controlled) ",
        );
        q.push_values(chunk, |mut row, (d, handed)| {
            row.push_bind(d.id.as_str())
                .push_bind(d.event_id.as_str())
                .push_bind(d.hook.id.as_str())
                .push_bind(d.hook.tenant.as_str())
                .push_bind(d.event)
                .push(match (d.hook.held, **handed) {
                    (true, _) => "'held'",
                    (false, true) => "'delivering'",
                    (false, false) => "'pending'",
                })
                .push("0")
                .push_bind(now)
                .push_bind(now)
                .push_bind(now);
            if **handed {
                row.push_bind(lease_until).push_bind(&*hand.node);
            } else {
                row.push("NULL").push("NULL");
            }
            row.push(if d.hook.controlled { "TRUE" } else { "FALSE" });
        });
        q.push(";\n");
        bound += 10 * chunk.len();
    }
    if bound > 0 {
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let left_queued = handing.leaves_queued(&plan);
    Ok((plan.answers, handing, left_queued))
}
