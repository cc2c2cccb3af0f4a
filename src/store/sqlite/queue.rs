//! The durable delivery queue: claiming due deliveries under a lease, recording attempt outcomes in
//! batches, holding and resuming a webhook's deliveries.

use super::StoreResult;
use super::{now_ms, SqliteStore};
use crate::crypto;
use crate::domain::{AttemptTrigger, ErrorKind};
use crate::store::model::{AttemptOutcome, ClaimRoom, Disabled, DueDelivery, Health};
use crate::store::rows::{DueRow, DUE_SELECT};
use crate::store::Work;
use sqlx::{QueryBuilder, Sqlite};
use std::collections::BTreeMap;
use std::time::Instant;

/// The parts of an attempt row serialised before the write lock is taken.
struct PreparedAttempt {
    id: String,
    request_headers: String,
    response_headers: Option<String>,
}

impl SqliteStore {
    /// Claims due deliveries within `room` for `lease_ms` (not those of webhooks with delivery
    /// controls: their lanes claim them). Deliveries of webhooks switched off since they were queued
    /// are held instead of returned.
    pub async fn claim_due(&self, room: &ClaimRoom, lease_ms: i64) -> StoreResult<Vec<DueDelivery>> {
        if room.limit == 0 || room.bytes == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT d.id, COALESCE(octet_length(e.data), 0) FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.status = 'pending' AND d.controlled = FALSE AND d.next_attempt_at <= ",
        );
        q.push_bind(now);
        if !room.skip_tenants.is_empty() {
            q.push(" AND d.tenant NOT IN");
            crate::store::filters::in_list(&mut q, &room.skip_tenants);
        }
        q.push(" ORDER BY d.next_attempt_at LIMIT ").push_bind(room.limit as i64);
        let candidates: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
        let ids = room.fitting(candidates);
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("UPDATE deliveries SET status = 'delivering', lease_until = ");
        q.push_bind(now + lease_ms)
            .push(", updated_at = ")
            .push_bind(now)
            .push(", leased_by = ")
            .push_bind(self.node().to_string())
            .push(" WHERE status = 'pending' AND id IN");
        crate::store::filters::in_list(&mut q, &ids);
        q.build().execute(&mut *tx).await?;
        tx.commit().await?;
        self.activity.done(Work::Claim, ids.len(), started);
        // Read what to send on a reader, outside the write: the claimed rows are ours until the
        // lease ends, and the writer is free for publishes and records meanwhile.
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!("{DUE_SELECT} WHERE d.id IN"));
        crate::store::filters::in_list(&mut q, &ids);
        let rows: Vec<DueRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let mut due = Vec::with_capacity(rows.len());
        let mut held = Vec::new();
        for row in rows {
            if row.active {
                due.push(row.into_due(self.sealer.as_ref(), now)?);
            } else {
                held.push(row.id);
            }
        }
        if !held.is_empty() {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "UPDATE deliveries SET status = 'held', lease_until = NULL, leased_by = NULL WHERE status = 'delivering' AND id IN",
            );
            crate::store::filters::in_list(&mut q, &held);
            q.build().execute(&self.writer).await?;
        }
        Ok(due)
    }

    /// One delivery as a due delivery, whatever its state (manual retries).
    pub async fn due_delivery(&self, delivery_id: &str) -> StoreResult<Option<DueDelivery>> {
        let row: Option<DueRow> = sqlx::query_as(&format!("{DUE_SELECT} WHERE d.id = $1"))
            .bind(delivery_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.into_due(self.sealer.as_ref(), now_ms())).transpose()
    }

    /// Returns deliveries whose lease ran out (their worker died) to the queue.
    pub async fn release_expired_leases(&self) -> StoreResult<u64> {
        self.take_over(Some(now_ms())).await
    }

    /// Returns every claimed delivery to the queue. Only for a store no other process shares (an
    /// embedded SQLite file at start): whatever was in flight died with the previous process.
    pub async fn release_all_leases(&self) -> StoreResult<u64> {
        self.take_over(None).await
    }

    /// Takes over in-flight deliveries (all, or those whose lease ended before `expired_before`):
    /// each gets an `interrupted` attempt — its request may have reached the receiver, so a second
    /// copy the receiver gets is explained in the log — and goes back to the queue at once.
    async fn take_over(&self, expired_before: Option<i64>) -> StoreResult<u64> {
        const WHERE: &str = "status = 'delivering' AND ($1 IS NULL OR lease_until < $1)";
        const WHY: &str = "the server stopped while this request was in flight; the receiver may have received it";
        let now = now_ms();
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        let taken: Vec<(String, String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT id, webhook_id, tenant, attempts, updated_at FROM deliveries WHERE {WHERE}"
        ))
        .bind(expired_before)
        .fetch_all(&mut *tx)
        .await?;
        if taken.is_empty() {
            return Ok(0);
        }
        for chunk in taken.chunks(64) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO attempts (id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms,
                 request_headers, error_kind, error) ",
            );
            q.push_values(chunk, |mut row, (id, webhook_id, tenant, attempts, claimed_at)| {
                row.push_bind(crypto::new_id("att_"))
                    .push_bind(id)
                    .push_bind(webhook_id)
                    .push_bind(tenant)
                    .push_bind(attempts + 1)
                    .push_bind(AttemptTrigger::Scheduled.as_str())
                    .push_bind(claimed_at)
                    .push_bind(0_i64)
                    .push_bind("{}")
                    .push_bind(ErrorKind::Interrupted.as_str())
                    .push_bind(WHY);
            });
            q.build().execute(&mut *tx).await?;
        }
        let done = sqlx::query(&format!(
            "UPDATE deliveries SET status = 'pending', lease_until = NULL, leased_by = NULL, attempts = attempts + 1, last_error = $2,
                 next_attempt_at = $3, updated_at = $3
             WHERE {WHERE}"
        ))
        .bind(expired_before)
        .bind(WHY)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.activity.done(Work::Leases, taken.len(), started);
        Ok(done.rows_affected())
    }

    /// Stores a batch of attempt outcomes in one transaction: the attempts, the deliveries' new
    /// states, the webhooks' failure counts. Webhooks that reach `max_failures` consecutive failures
    /// (or answered 410) are disabled with their pending deliveries held; they are returned.
    pub async fn record_outcomes(&self, outcomes: &[AttemptOutcome], max_failures: i64) -> StoreResult<Vec<Disabled>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        // Everything that can be prepared is, before the write lock is taken.
        let rows: Vec<PreparedAttempt> = outcomes
            .iter()
            .map(|o| PreparedAttempt {
                id: crypto::new_id("att_"),
                request_headers: serde_json::to_string(&o.request_headers).unwrap_or_default(),
                response_headers: o.response_headers.as_ref().and_then(|h| serde_json::to_string(h).ok()),
            })
            .collect();
        // Each webhook's failure count: reset by a success, raised by each failure after it.
        let mut health: BTreeMap<&str, Health> = BTreeMap::new();
        for o in outcomes.iter().filter(|o| o.counts_for_health || o.gone) {
            health.entry(&o.webhook_id).or_default().add(o);
        }
        let (resets, counted): (Vec<_>, Vec<_>) = health.into_iter().partition(|(_, h)| h.only_success());
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        // The attempts, the deliveries' states and the resets go as one command: each statement
        // sent on its own is a round trip to SQLite's thread, which costs more than the writing.
        let resets: Vec<&str> = resets.iter().map(|(id, _)| *id).collect();
        for (i, (chunk, rows)) in outcomes.chunks(RECORD_CHUNK).zip(rows.chunks(RECORD_CHUNK)).enumerate() {
            let resets = if i == 0 { &resets[..] } else { &[] };
            record_command(chunk, rows, resets, now).build().execute(&mut *tx).await?;
        }
        let mut disabled = Vec::new();
        for (webhook_id, h) in counted {
            let row: Option<(i64, bool, String, String)> = sqlx::query_as(
                "UPDATE webhooks SET consecutive_failures = CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END
                 WHERE id = $3 RETURNING consecutive_failures, active, tenant, url",
            )
            .bind(h.reset)
            .bind(h.failures)
            .bind(webhook_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((count, active, tenant, url)) = row else { continue };
            if let (true, Some(reason)) = (active, h.disable_reason(count, max_failures)) {
                Self::disable_in(&mut tx, webhook_id, &reason, true, now).await?;
                disabled.push(Disabled {
                    webhook_id: webhook_id.to_string(),
                    tenant,
                    url,
                    reason,
                    consecutive_failures: count,
                });
            }
        }
        tx.commit().await?;
        self.activity.done(Work::Record, outcomes.len(), started);
        Ok(disabled)
    }
}

/// Outcomes per command (about 25 bound values each, well under SQLite's limit of 32,766).
const RECORD_CHUNK: usize = 320;
/// Rows per attempts INSERT.
const INSERT_CHUNK: usize = 64;
/// Deliveries per batched UPDATE: its CASE expressions cost rows² comparisons, so keep it small.
const UPDATE_CHUNK: usize = 40;

/// Binds one delivery's new value of a column.
type SetValue<'a> = fn(&mut QueryBuilder<'a, Sqlite>, &'a AttemptOutcome);

/// One command (several statements, their values bound in order) that stores `outcomes`: the
/// attempts of deliveries that still exist (one deleted with its webhook while in flight has
/// nothing left to record), the deliveries' new states found by primary key (an `UPDATE … FROM
/// (VALUES …)` would be planned as a scan), and the failure counts of `resets` set back to zero
/// where they are not already.
fn record_command<'a>(
    outcomes: &'a [AttemptOutcome],
    rows: &'a [PreparedAttempt],
    resets: &[&'a str],
    now: i64,
) -> QueryBuilder<'a, Sqlite> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("");
    for (chunk, rows) in outcomes.chunks(INSERT_CHUNK).zip(rows.chunks(INSERT_CHUNK)) {
        q.push(
            "INSERT INTO attempts (id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms,
             request_headers, response_status, response_headers, response_body, error_kind, error) SELECT * FROM (",
        );
        q.push_values(chunk.iter().zip(rows), |mut row, (o, prepared)| {
            row.push_bind(&prepared.id)
                .push_bind(&o.delivery_id)
                .push_bind(&o.webhook_id)
                .push_bind(&o.tenant)
                .push_bind(o.attempt)
                .push_bind(o.trigger.as_str())
                .push_bind(o.started_at.timestamp_millis())
                .push_bind(o.duration_ms)
                .push_bind(&prepared.request_headers)
                .push_bind(o.response_status.map(i64::from))
                .push_bind(&prepared.response_headers)
                .push_bind(&o.response_body)
                .push_bind(o.error_kind.map(ErrorKind::as_str))
                .push_bind(&o.error);
        });
        q.push(") AS v WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.column2);\n");
    }
    for chunk in outcomes.chunks(UPDATE_CHUNK) {
        q.push("UPDATE deliveries SET ");
        let columns: [(&str, SetValue<'a>); 5] = [
            ("status", |q, o| {
                q.push_bind(o.status.as_str());
            }),
            ("next_attempt_at", |q, o| {
                q.push_bind(o.next_attempt_at);
            }),
            ("last_status_code", |q, o| {
                q.push_bind(o.response_status.map(i64::from));
            }),
            ("last_error", |q, o| {
                q.push_bind(&o.error);
            }),
            ("attempts", |q, o| {
                q.push("MAX(attempts, ").push_bind(o.attempt).push(")");
            }),
        ];
        for (column, value) in columns {
            q.push(column).push(" = CASE id");
            for o in chunk {
                q.push(" WHEN ").push_bind(&o.delivery_id).push(" THEN ");
                value(&mut q, o);
            }
            q.push(" ELSE ").push(column).push(" END, ");
        }
        q.push("lease_until = NULL, leased_by = NULL, updated_at = ").push_bind(now).push(" WHERE id IN (");
        let mut ids = q.separated(", ");
        for o in chunk {
            ids.push_bind(&o.delivery_id);
        }
        q.push(");\n");
    }
    if !resets.is_empty() {
        q.push("UPDATE webhooks SET consecutive_failures = 0 WHERE consecutive_failures != 0 AND id IN (");
        let mut ids = q.separated(", ");
        for id in resets {
            ids.push_bind(*id);
        }
        q.push(");");
    }
    q
}
