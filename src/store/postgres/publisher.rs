//! Group commit for publishing, as on SQLite: concurrent publishes are stored in shared
//! transactions (one WAL flush for many events), each publisher answered after its commit. Several
//! committers run at once, so one batch is gathered while another commits. A commit that finds an
//! idempotency key made meanwhile by another committer or node starts over and answers from it.
//! After a commit that queued deliveries, this node's workers are woken at once and the other
//! nodes' through `NOTIFY`, sent apart from the commit and coalesced (see `listen`): a `NOTIFY`
//! inside each publish would serialise the commits behind PostgreSQL's notification lock. While
//! this node's workers have free slots, fresh deliveries are stored claimed by this node and handed
//! straight to them (`handoff`); only those left queued wake anyone.

use super::now_ms;
use super::{StoreError, StoreResult};
use crate::store::fanout::{self, Hook, Publish, Seen, HOOKS_SQL};
use crate::store::handoff::{Handing, Publishing};
use crate::store::model::{NewEvent, Published};
use crate::store::Work;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex, Notify};

/// Most events stored in one transaction.
const MAX_BATCH: usize = 512;
/// Transactions committing at once.
const COMMITTERS: usize = 4;
/// Commits tried per batch when idempotency keys collide with another commit.
const TRIES: usize = 3;

/// One publish waiting for its batch.
pub(super) struct Job {
    pub new: NewEvent,
    /// The event type's catalog category (for `category:` subscriptions).
    pub category: String,
    /// When it was queued for its commit.
    pub queued: std::time::Instant,
    pub reply: oneshot::Sender<StoreResult<Published>>,
}

/// Starts the committers; publishes are sent to the returned queue. After a commit that queued
/// deliveries, `queued` (this node's workers) and `tell_others` are woken.
pub(super) fn spawn(
    pool: PgPool,
    queued: Arc<Notify>,
    tell_others: Arc<Notify>,
    hand: Publishing,
) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    let rx = Arc::new(Mutex::new(rx));
    let hand = Arc::new(hand);
    for _ in 0..COMMITTERS {
        let (pool, rx, queued, tell_others, hand) =
            (pool.clone(), rx.clone(), queued.clone(), tell_others.clone(), hand.clone());
        tokio::spawn(async move {
            loop {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
                    return;
                }
                hand.activity.waited(batch.iter().map(|j| j.queued));
                let started = std::time::Instant::now();
                let (answers, left_queued) = commit(&pool, &batch, &hand).await;
                hand.activity.done(Work::Publish, batch.len(), started);
                if left_queued {
                    queued.notify_one();
                    tell_others.notify_one();
                }
                for (job, answer) in batch.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
        });
    }
    tx
}

/// Commits a batch: one answer per publish, and whether deliveries were left in the queue (the
/// handed ones are with this node's workers by then).
async fn commit(pool: &PgPool, batch: &[Job], hand: &Publishing) -> (Vec<StoreResult<Published>>, bool) {
    let publishes: Vec<Publish> = batch.iter().map(|j| Publish { new: &j.new, category: &j.category }).collect();
    let failed = |why: String| (batch.iter().map(|_| Err(StoreError::Database(why.clone()))).collect(), false);
    for _ in 0..TRIES {
        match commit_once(pool, &publishes, hand).await {
            Ok(Some((answers, handing, left_queued))) => {
                handing.send();
                return (answers, left_queued);
            }
            Ok(None) => continue,
            Err(e) => return failed(e.to_string()),
        }
    }
    failed("idempotency keys kept colliding".into())
}

/// What a committed batch comes to: an answer per publish, the deliveries for the workers, and
/// whether some were left in the queue.
type Committed = (Vec<StoreResult<Published>>, Handing, bool);

/// One try: `None` when an idempotency key of the batch was stored by another commit meanwhile
/// (nothing is kept; the next try answers from that commit).
async fn commit_once(
    pool: &PgPool,
    publishes: &[Publish<'_>],
    hand: &Publishing,
) -> Result<Option<Committed>, sqlx::Error> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let hooks: Vec<Hook> = sqlx::query_as(HOOKS_SQL).fetch_all(&mut *tx).await?.into_iter().map(Hook::new).collect();
    let keys = fanout::keys(publishes);
    let mut seen = HashMap::new();
    if !keys.is_empty() {
        let (scopes, names): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
        let rows: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT e.idempotency_scope, e.idempotency_key, e.id, e.request_hash, e.deliveries
             FROM events e JOIN UNNEST($1::text[], $2::text[]) AS k(scope, key)
               ON e.idempotency_scope = k.scope AND e.idempotency_key = k.key",
        )
        .bind(&scopes)
        .bind(&names)
        .fetch_all(&mut *tx)
        .await?;
        for (scope, key, event_id, fingerprint, deliveries) in rows {
            seen.insert((scope, key), Seen { event_id, fingerprint, deliveries });
        }
    }
    let plan = fanout::plan(publishes, &hooks, &seen);
    let handing = hand.reserve(&plan, now);
    let lease_until = handing.lease_until(now);

    if !plan.events.is_empty() {
        let mut cols: [Vec<Option<&str>>; 7] = Default::default();
        let mut counts = Vec::with_capacity(plan.events.len());
        for e in &plan.events {
            let (scope, key, fingerprint) = match &e.new.idempotency {
                Some((s, k, f)) => (Some(s.as_str()), Some(k.as_str()), Some(f.as_str())),
                None => (None, None, None),
            };
            let values = [
                Some(e.id.as_str()),
                e.new.tenant.as_deref(),
                Some(e.new.event.as_str()),
                Some(e.new.data.as_str()),
                scope,
                key,
                fingerprint,
            ];
            for (col, value) in cols.iter_mut().zip(values) {
                col.push(value);
            }
            counts.push(e.deliveries);
        }
        let [ids, tenants, types, data, scopes, keys, fingerprints] = &cols;
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO events (id, tenant, event, data, timestamp, idempotency_scope, idempotency_key, request_hash, deliveries)
             SELECT id, tenant, event, data, $8, scope, key, fingerprint, deliveries
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $9::int8[])
                  AS e(id, tenant, event, data, scope, key, fingerprint, deliveries)
             ON CONFLICT (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id",
        )
        .bind(ids)
        .bind(tenants)
        .bind(types)
        .bind(data)
        .bind(scopes)
        .bind(keys)
        .bind(fingerprints)
        .bind(now)
        .bind(&counts)
        .fetch_all(&mut *tx)
        .await?;
        if inserted.len() < plan.events.len() {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    if !plan.deliveries.is_empty() {
        let mut cols: [Vec<&str>; 6] = Default::default();
        let mut leases: (Vec<Option<i64>>, Vec<Option<&str>>) = Default::default();
        let mut controlled: Vec<bool> = Vec::with_capacity(plan.deliveries.len());
        for (d, handed) in plan.deliveries.iter().zip(&handing.handed) {
            let values = [
                d.id.as_str(),
                d.event_id.as_str(),
                d.hook.id.as_str(),
                d.hook.tenant.as_str(),
                d.event,
                match (d.hook.held, handed) {
                    (true, _) => "held",
                    (false, true) => "delivering",
                    (false, false) => "pending",
                },
            ];
            for (col, value) in cols.iter_mut().zip(values) {
                col.push(value);
            }
            leases.0.push(lease_until.filter(|_| *handed));
            leases.1.push(Some(&*hand.node).filter(|_| *handed));
            controlled.push(d.hook.controlled);
        }
        let [ids, events, hooks, tenants, types, statuses] = &cols;
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at,
                                     created_at, updated_at, lease_until, leased_by, controlled)
             SELECT id, event_id, webhook_id, tenant, event, status, 0, $7, $7, $7, lease_until, leased_by, controlled
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::int8[], $9::text[],
                         $10::bool[])
                  AS d(id, event_id, webhook_id, tenant, event, status, lease_until, leased_by, controlled)",
        )
        .bind(ids)
        .bind(events)
        .bind(hooks)
        .bind(tenants)
        .bind(types)
        .bind(statuses)
        .bind(now)
        .bind(&leases.0)
        .bind(&leases.1)
        .bind(&controlled)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let left_queued = handing.leaves_queued(&plan);
    Ok(Some((plan.answers, handing, left_queued)))
}
