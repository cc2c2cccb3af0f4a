//! The durable delivery queue shared by every node: due deliveries are claimed with
//! `FOR UPDATE SKIP LOCKED` (no two nodes take the same one) under a lease the claiming node renews
//! while it lives; leases of a node that died run out, and another node takes the deliveries over.

use super::StoreResult;
use super::{channel, notify, now_ms, PgStore};
use crate::crypto;
use crate::domain::ErrorKind;
use crate::store::model::{AttemptOutcome, ClaimRoom, Disabled, DueDelivery, Health};
use crate::store::rows::{DueRow, DUE_COLUMNS, DUE_SELECT};
use crate::store::Work;
use sqlx::{Postgres, Transaction};
use std::collections::BTreeMap;
use std::time::Instant;

/// Why a taken-over delivery got an `interrupted` attempt.
const WHY: &str = "the server stopped while this request was in flight; the receiver may have received it";

impl PgStore {
    /// A transaction whose commit does not wait for the disk, for claims and attempt records: a
    /// power cut at the database may lose its last moments of them, and then a claim is taken over
    /// after its lease and an attempt made again (a re-send, never a loss). Publishes, which are
    /// acknowledged as stored, wait for the disk.
    async fn relaxed(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Claims due deliveries within `room` for `lease_ms`, for this node (not those of webhooks with
    /// delivery controls: their lanes claim them). Deliveries of webhooks switched off since they
    /// were queued are held instead of returned.
    pub async fn claim_due(&self, room: &ClaimRoom, lease_ms: i64) -> StoreResult<Vec<DueDelivery>> {
        if room.limit == 0 || room.bytes == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        let candidates: Vec<(String, i64)> = sqlx::query_as(
            "SELECT d.id, COALESCE(octet_length(e.data), 0)::BIGINT FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.status = 'pending' AND d.controlled = FALSE AND d.next_attempt_at <= $1
               AND NOT (d.tenant = ANY($2))
             ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED",
        )
        .bind(now)
        .bind(&room.skip_tenants)
        .bind(room.limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        let ids = room.fitting(candidates);
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows: Vec<DueRow> = sqlx::query_as(&format!(
            "WITH claimed AS (
                 UPDATE deliveries SET status = 'delivering', lease_until = $1, leased_by = $2, updated_at = $3
                 WHERE id = ANY($4)
                 RETURNING *)
             SELECT {DUE_COLUMNS} FROM claimed d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id"
        ))
        .bind(now + lease_ms)
        .bind(self.node())
        .bind(now)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        self.activity.done(Work::Claim, rows.len(), started);
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
            sqlx::query(
                "UPDATE deliveries SET status = 'held', lease_until = NULL, leased_by = NULL
                 WHERE status = 'delivering' AND id = ANY($1)",
            )
            .bind(&held)
            .execute(&self.pool)
            .await?;
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

    /// Takes over deliveries whose lease ran out (their node died): each gets an `interrupted`
    /// attempt — its request may have reached the receiver, so a second copy the receiver gets is
    /// explained in the log — and goes back to the queue at once. Rows another node is taking over
    /// at the same moment are skipped.
    pub async fn release_expired_leases(&self) -> StoreResult<u64> {
        let now = now_ms();
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        let expired: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, webhook_id, tenant, event, attempts, updated_at FROM deliveries
             WHERE status = 'delivering' AND lease_until < $1
             ORDER BY lease_until LIMIT 1000 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        if expired.is_empty() {
            return Ok(0);
        }
        let mut a = AttemptColumns::default();
        for (delivery_id, webhook_id, tenant, event, attempts, claimed_at) in &expired {
            let outcome =
                AttemptOutcome::interrupted(delivery_id, webhook_id, tenant, event, attempts + 1, *claimed_at, WHY);
            a.push(&outcome);
        }
        a.insert(&mut tx).await?;
        sqlx::query(
            "UPDATE deliveries SET status = 'pending', lease_until = NULL, leased_by = NULL, attempts = attempts + 1,
                 last_error = $2, next_attempt_at = $3, updated_at = $3
             WHERE id = ANY($1)",
        )
        .bind(&a.delivery_id)
        .bind(WHY)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        notify(&mut *tx, channel::QUEUED, "").await?;
        tx.commit().await?;
        self.activity.done(Work::Leases, expired.len(), started);
        self.queued.notify_one();
        Ok(expired.len() as u64)
    }

    /// At start: nothing to release. Other nodes may be sending their deliveries right now; this
    /// node's own claims from a previous life run out with their lease and are taken over then.
    pub async fn release_at_start(&self) -> StoreResult<u64> {
        self.release_expired_leases().await
    }

    /// Stores a batch of attempt outcomes in one transaction: the attempts, the deliveries' new
    /// states (where this node still holds them), the webhooks' failure counts. Webhooks that reach
    /// `max_failures` consecutive failures (or answered 410) are disabled with their pending
    /// deliveries held; they are returned.
    pub async fn record_outcomes(&self, outcomes: &[AttemptOutcome], max_failures: i64) -> StoreResult<Vec<Disabled>> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        // Rows are locked in the order of their ids (other multi-row writes here skip the rows they
        // would wait for), so two transactions never wait on each other.
        let mut sorted: Vec<&AttemptOutcome> = outcomes.iter().collect();
        sorted.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
        let mut a = AttemptColumns::default();
        for o in &sorted {
            a.push(o);
        }
        let mut tx = self.relaxed().await?;
        let started = Instant::now();
        a.insert(&mut tx).await?;
        let statuses: Vec<&str> = sorted.iter().map(|o| o.status.as_str()).collect();
        let next: Vec<Option<i64>> = sorted.iter().map(|o| o.next_attempt_at).collect();
        sqlx::query(
            "UPDATE deliveries d SET status = u.status, next_attempt_at = u.next, last_status_code = u.code,
                 last_error = u.error, attempts = GREATEST(d.attempts, u.attempt), lease_until = NULL, leased_by = NULL,
                 updated_at = $7
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::int8[])
                  AS u(id, status, next, code, error, attempt)
             WHERE d.id = u.id AND d.status = 'delivering' AND d.leased_by = $8",
        )
        .bind(&a.delivery_id)
        .bind(&statuses)
        .bind(&next)
        .bind(&a.response_status)
        .bind(&a.error)
        .bind(&a.attempt)
        .bind(now)
        .bind(self.node())
        .execute(&mut *tx)
        .await?;
        let disabled = self.count_failures(&mut tx, outcomes, max_failures, now).await?;
        tx.commit().await?;
        self.activity.done(Work::Record, outcomes.len(), started);
        Ok(disabled)
    }

    /// Each webhook's failure count: reset by a success, raised by each failure after it; those
    /// that reach `max_failures` (or answered 410) are switched off.
    async fn count_failures(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        outcomes: &[AttemptOutcome],
        max_failures: i64,
        now: i64,
    ) -> StoreResult<Vec<Disabled>> {
        let mut health: BTreeMap<&str, Health> = BTreeMap::new();
        for o in outcomes.iter().filter(|o| o.counts_for_health || o.gone) {
            health.entry(&o.webhook_id).or_default().add(o);
        }
        let (resets, counted): (Vec<_>, Vec<_>) = health.into_iter().partition(|(_, h)| h.only_success());
        if !resets.is_empty() {
            let ids: Vec<&str> = resets.iter().map(|(id, _)| *id).collect();
            sqlx::query(
                "UPDATE webhooks SET consecutive_failures = 0 WHERE id IN (
                     SELECT id FROM webhooks WHERE consecutive_failures != 0 AND id = ANY($1) ORDER BY id FOR UPDATE)",
            )
            .bind(&ids)
            .execute(&mut **tx)
            .await?;
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
            .fetch_optional(&mut **tx)
            .await?;
            let Some((count, active, tenant, url)) = row else { continue };
            if let (true, Some(reason)) = (active, h.disable_reason(count, max_failures)) {
                Self::disable_in(tx, webhook_id, &reason, true, now).await?;
                disabled.push(Disabled {
                    webhook_id: webhook_id.to_string(),
                    tenant,
                    url,
                    reason,
                    consecutive_failures: count,
                });
            }
        }
        Ok(disabled)
    }
}

/// Attempt outcomes as columns, for one `UNNEST` insert.
#[derive(Default)]
struct AttemptColumns {
    id: Vec<String>,
    delivery_id: Vec<String>,
    webhook_id: Vec<String>,
    tenant: Vec<String>,
    attempt: Vec<i64>,
    trigger: Vec<&'static str>,
    started_at: Vec<i64>,
    duration_ms: Vec<i64>,
    request_headers: Vec<String>,
    response_status: Vec<Option<i64>>,
    response_headers: Vec<Option<String>>,
    response_body: Vec<Option<String>>,
    error_kind: Vec<Option<&'static str>>,
    error: Vec<Option<String>>,
}

impl AttemptColumns {
    /// Inserts the attempts of deliveries that still exist (one deleted with its webhook while in
    /// flight has nothing left to record).
    async fn insert(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO attempts (id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms,
                 request_headers, response_status, response_headers, response_body, error_kind, error)
             SELECT u.* FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::int8[],
                 $8::int8[], $9::text[], $10::int8[], $11::text[], $12::text[], $13::text[], $14::text[])
                 AS u(id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms, request_headers,
                      response_status, response_headers, response_body, error_kind, error)
             WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.delivery_id)",
        )
        .bind(&self.id)
        .bind(&self.delivery_id)
        .bind(&self.webhook_id)
        .bind(&self.tenant)
        .bind(&self.attempt)
        .bind(&self.trigger)
        .bind(&self.started_at)
        .bind(&self.duration_ms)
        .bind(&self.request_headers)
        .bind(&self.response_status)
        .bind(&self.response_headers)
        .bind(&self.response_body)
        .bind(&self.error_kind)
        .bind(&self.error)
        .execute(&mut **tx)
        .await
        .map(drop)
    }

    fn push(&mut self, o: &AttemptOutcome) {
        self.id.push(crypto::new_id("att_"));
        self.delivery_id.push(o.delivery_id.clone());
        self.webhook_id.push(o.webhook_id.clone());
        self.tenant.push(o.tenant.clone());
        self.attempt.push(o.attempt);
        self.trigger.push(o.trigger.as_str());
        self.started_at.push(o.started_at.timestamp_millis());
        self.duration_ms.push(o.duration_ms);
        self.request_headers.push(serde_json::to_string(&o.request_headers).unwrap_or_default());
        self.response_status.push(o.response_status.map(i64::from));
        self.response_headers.push(o.response_headers.as_ref().and_then(|h| serde_json::to_string(h).ok()));
        self.response_body.push(o.response_body.clone());
        self.error_kind.push(o.error_kind.map(ErrorKind::as_str));
        self.error.push(o.error.clone());
    }
}
