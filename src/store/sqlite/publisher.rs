//! Group commit for publishing: concurrent publishes are queued to one task that stores whatever has
//! arrived meanwhile (events, their idempotency checks and their deliveries) in one transaction.
//! Each publisher still gets its answer only after the commit, so nothing acknowledged can be lost;
//! SQLite writes each touched page once per batch instead of once per event.

use super::now_ms;
use super::{StoreError, StoreResult};
use crate::crypto;
use crate::domain::event_type::any_matches;
use crate::store::model::{NewEvent, Published};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most events stored in one transaction.
const MAX_BATCH: usize = 512;

/// One publish waiting for its batch.
pub(super) struct Job {
    pub new: NewEvent,
    /// The event type's catalog category (for `category:` subscriptions).
    pub category: String,
    pub reply: oneshot::Sender<StoreResult<Published>>,
}

/// Starts the committer; publishes are sent to the returned queue.
pub(super) fn spawn(writer: SqlitePool, queued: Arc<Notify>) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            let batch = std::mem::take(&mut jobs);
            match commit(&writer, &batch).await {
                Ok(results) => {
                    if results.iter().any(|r| matches!(r, Ok(p) if p.deliveries > 0 && !p.replayed)) {
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

struct Hook {
    id: String,
    tenant: String,
    patterns: Vec<String>,
    /// Switched off by the engine: its deliveries are queued held.
    held: bool,
}

async fn commit(writer: &SqlitePool, batch: &[Job]) -> Result<Vec<StoreResult<Published>>, sqlx::Error> {
    let now = now_ms();
    // Publishes are acknowledged as stored, so their commit waits for the disk (FULL); the writer's
    // other transactions (claims, attempt records) may be replayed after a power loss, and skip it.
    let mut conn = writer.acquire().await?;
    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
    let result = commit_in(&mut conn, batch, now).await;
    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
    result
}

async fn commit_in(
    conn: &mut sqlx::SqliteConnection,
    batch: &[Job],
    now: i64,
) -> Result<Vec<StoreResult<Published>>, sqlx::Error> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    let hooks: Vec<Hook> = sqlx::query_as::<_, (String, String, String, bool)>(
        "SELECT id, tenant, events, active FROM webhooks WHERE active = 1 OR hold_new = 1",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, tenant, events, active)| Hook {
        id,
        tenant,
        patterns: serde_json::from_str(&events).unwrap_or_default(),
        held: !active,
    })
    .collect();

    let mut results = Vec::with_capacity(batch.len());
    let mut events: Vec<(String, &NewEvent, i64)> = Vec::with_capacity(batch.len());
    let mut deliveries: Vec<(String, String, &Hook, &str)> = Vec::new();
    // Idempotency keys first seen in this batch: (scope, key) → (event id, fingerprint, deliveries).
    let mut fresh: HashMap<(&str, &str), (String, &str, i64)> = HashMap::new();
    for job in batch {
        let new = &job.new;
        if let Some((scope, key, fingerprint)) = &new.idempotency {
            let seen = match fresh.get(&(scope.as_str(), key.as_str())) {
                Some((id, fp, n)) => Some((id.clone(), Some(fp.to_string()), *n)),
                None => {
                    sqlx::query_as::<_, (String, Option<String>, i64)>(
                        "SELECT id, request_hash, deliveries FROM events
                         WHERE idempotency_scope = $1 AND idempotency_key = $2",
                    )
                    .bind(scope)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?
                }
            };
            if let Some((id, hash, n)) = seen {
                results.push(if hash.as_deref() == Some(fingerprint.as_str()) {
                    Ok(Published { id, deliveries: n, replayed: true })
                } else {
                    Err(StoreError::IdempotencyConflict)
                });
                continue;
            }
        }
        let id = crypto::new_id("evt_");
        let targets: Vec<&Hook> = hooks
            .iter()
            .filter(|h| {
                new.tenant.as_deref().is_none_or(|t| t == h.tenant)
                    && any_matches(&h.patterns, &new.event, &job.category)
            })
            .collect();
        for hook in &targets {
            deliveries.push((crypto::new_id("dlv_"), id.clone(), hook, &new.event));
        }
        let count = targets.len() as i64;
        if let Some((scope, key, fingerprint)) = &new.idempotency {
            fresh.insert((scope, key), (id.clone(), fingerprint, count));
        }
        results.push(Ok(Published { id: id.clone(), deliveries: count, replayed: false }));
        events.push((id, new, count));
    }

    for chunk in events.chunks(256) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO events (id, tenant, event, data, timestamp, idempotency_scope, idempotency_key, request_hash, deliveries) ",
        );
        q.push_values(chunk, |mut row, (id, new, count)| {
            let (scope, key, fingerprint) = match &new.idempotency {
                Some((s, k, f)) => (Some(s.as_str()), Some(k.as_str()), Some(f.as_str())),
                None => (None, None, None),
            };
            row.push_bind(id.as_str())
                .push_bind(new.tenant.as_deref())
                .push_bind(new.event.as_str())
                .push_bind(new.data.as_str())
                .push_bind(now)
                .push_bind(scope)
                .push_bind(key)
                .push_bind(fingerprint)
                .push_bind(*count);
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in deliveries.chunks(500) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut row, (id, event_id, hook, event)| {
            row.push_bind(id.as_str())
                .push_bind(event_id.as_str())
                .push_bind(hook.id.as_str())
                .push_bind(hook.tenant.as_str())
                .push_bind(*event)
                .push(if hook.held { "'held'" } else { "'pending'" })
                .push("0")
                .push_bind(now)
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(results)
}
