//! What the store takes and gives besides the domain types: new objects, changes, filters, queue
//! items. Shared by every backend.

use crate::domain::{AttemptTrigger, DeliveryStatus, ErrorKind};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub tenant: Option<String>,
    pub actor_key_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// The caller's tenant for tenant keys; `None` for admins.
    pub scope: Option<String>,
    pub tenant: Option<String>,
    pub webhook_id: Option<String>,
    pub event_id: Option<String>,
    pub event: Option<String>,
    pub status: Option<DeliveryStatus>,
    /// Created at or after (unix ms).
    pub since: Option<i64>,
    /// Created before (unix ms).
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The last attempt of a delivery, as the CSV export shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastAttempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error_kind: Option<String>,
}

/// An event to publish (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `None`: a broadcast to every tenant's matching webhooks.
    pub tenant: Option<String>,
    pub event: String,
    /// The compact JSON text of the event's `data` object.
    pub data: String,
    /// `(scope, key, request fingerprint)` when an `Idempotency-Key` came with the request.
    pub idempotency: Option<(String, String, String)>,
}

/// The outcome of a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    pub deliveries: i64,
    /// The same idempotency key and body were seen before: this is the first answer again.
    pub replayed: bool,
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Tenant keys see their own events and broadcasts; `None` for admins.
    pub scope: Option<String>,
    pub tenant: Option<String>,
    pub event: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A delivery ready to be sent, with everything the request needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub tenant: String,
    pub event: String,
    /// The stored JSON text of the event's data.
    pub data: String,
    pub event_time: DateTime<Utc>,
    pub url: String,
    /// The active signing secrets, newest first.
    pub secrets: Vec<String>,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The webhook's own headers, sent beside ours.
    pub headers: Vec<(String, String)>,
    /// Claimed by its webhook's lane: not to start before this time (unix ms), and to wake the
    /// lane once recorded.
    pub lane: Option<i64>,
}

/// What one claim may take: at most `limit` deliveries and `bytes` of payload memory (counted with
/// [`super::payload_cost`]; the first delivery whatever its size, when `bytes` is above 0), none of
/// the tenants in `skip_tenants` (those over their share of the workers while others wait).
#[derive(Debug, Clone, Default)]
pub struct ClaimRoom {
    pub limit: usize,
    pub bytes: usize,
    pub skip_tenants: Vec<String>,
}

impl ClaimRoom {
    /// Of candidates `(id, payload length)` in claim order, the ids that fit.
    pub fn fitting(&self, candidates: Vec<(String, i64)>) -> Vec<String> {
        let mut spent = 0usize;
        let mut ids = Vec::new();
        for (id, len) in candidates.into_iter().take(self.limit) {
            let cost = super::payload_cost(len.max(0) as usize);
            if !ids.is_empty() && spent + cost > self.bytes {
                break;
            }
            spent += cost;
            ids.push(id);
        }
        if self.bytes == 0 {
            ids.clear();
        }
        ids
    }
}

/// What to store after an attempt.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub delivery_id: String,
    pub webhook_id: String,
    pub tenant: String,
    /// The event type (for the live feed).
    pub event: String,
    /// This attempt's number (1 = the first try).
    pub attempt: i64,
    pub trigger: AttemptTrigger,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub request_headers: BTreeMap<String, String>,
    pub response_status: Option<u16>,
    pub response_headers: Option<BTreeMap<String, String>>,
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    /// The delivery's state after this attempt.
    pub status: DeliveryStatus,
    /// When to try again, for `Pending`.
    pub next_attempt_at: Option<i64>,
    /// Whether the attempt counts toward the webhook's consecutive failures (scheduled attempts do).
    pub counts_for_health: bool,
    /// The receiver asked never to be called again (410 Gone).
    pub gone: bool,
    /// Claimed by its webhook's lane (which may take the next one once this is recorded).
    pub lane: bool,
}

/// A webhook the recording disabled, for the caller to announce.
#[derive(Debug, Clone)]
pub struct Disabled {
    pub webhook_id: String,
    pub tenant: String,
    pub url: String,
    pub reason: String,
    pub consecutive_failures: i64,
}

/// What to compute statistics over.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// A tenant key's own tenant; `None` for admins.
    pub scope: Option<String>,
    pub tenant: Option<String>,
    pub webhook_id: Option<String>,
    pub window_ms: i64,
    pub bucket_ms: i64,
}

/// One webhook's attempts over a window, without its queue: what a list of webhooks shows per row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptSummary {
    pub attempts: i64,
    pub success_rate: Option<f64>,
    pub p95_response_ms: Option<i64>,
    pub series: Vec<crate::domain::stats::Bucket>,
}

/// The latest delivery of a webhook: when it was made and how it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestDelivery {
    pub webhook_id: String,
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
}

/// What a new webhook is made of (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub tenant: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub secret: String,
    pub active: bool,
    pub headers: std::collections::BTreeMap<String, String>,
    pub controls: crate::domain::DeliveryControls,
    /// The most webhooks its tenant may have (this one included).
    pub max_per_tenant: u64,
}

/// A key's traffic controls (validated by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyControls {
    /// Requests per second (0: unlimited); `None`: the server's default.
    pub rate_limit: Option<u32>,
    /// CIDRs it may be used from; empty: anywhere.
    pub allowed_ips: Vec<String>,
}

/// What a key update changes; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub controls: Option<KeyControls>,
}

/// The fields an update may change (validated by the caller); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub headers: Option<std::collections::BTreeMap<String, String>>,
    pub controls: Option<crate::domain::DeliveryControls>,
}

/// Filters of the webhook list.
#[derive(Debug, Clone, Default)]
pub struct WebhookFilter {
    /// The caller's own tenant for tenant keys; `None` for admins.
    pub scope: Option<String>,
    /// An admin's choice of tenant.
    pub tenant: Option<String>,
    /// Text in the URL or the description.
    pub search: Option<String>,
    /// `Some(true)` active only, `Some(false)` disabled (or paused) only.
    pub active: Option<bool>,
    /// Paused only.
    pub paused: bool,
    /// Only those whose latest attempts failed (active, with consecutive failures).
    pub failing: bool,
    /// Only webhooks that would receive this event type.
    pub event: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A webhook's health over one batch of outcomes.
#[derive(Default)]
pub struct Health {
    /// A success came: the count starts again from the failures after it.
    pub reset: bool,
    /// Failures since the last success of the batch (or in all of it).
    pub failures: i64,
    /// The receiver answered 410 Gone.
    pub gone: bool,
}

impl Health {
    pub fn add(&mut self, o: &AttemptOutcome) {
        if o.response_status.is_some_and(|s| (200..300).contains(&s)) {
            self.reset = true;
            self.failures = 0;
        } else {
            self.failures += 1;
        }
        self.gone |= o.gone;
    }

    /// Nothing but a reset to write (the common case, which writes nothing when already at zero).
    pub fn only_success(&self) -> bool {
        self.reset && self.failures == 0 && !self.gone
    }

    /// Why the webhook is to be switched off with `count` consecutive failures, if it is.
    pub fn disable_reason(&self, count: i64, max_failures: i64) -> Option<String> {
        if self.gone {
            Some("the receiver answered 410 Gone".to_string())
        } else if count >= max_failures {
            Some(format!("{count} consecutive failed attempts"))
        } else {
            None
        }
    }
}

impl AttemptOutcome {
    /// The attempt of a delivery taken over from a process that stopped with its request in flight.
    pub fn interrupted(
        delivery_id: &str,
        webhook_id: &str,
        tenant: &str,
        event: &str,
        attempt: i64,
        claimed_at: i64,
        why: &str,
    ) -> Self {
        AttemptOutcome {
            delivery_id: delivery_id.to_string(),
            webhook_id: webhook_id.to_string(),
            tenant: tenant.to_string(),
            event: event.to_string(),
            attempt,
            trigger: AttemptTrigger::Scheduled,
            started_at: super::to_time(claimed_at),
            duration_ms: 0,
            request_headers: BTreeMap::new(),
            response_status: None,
            response_headers: None,
            response_body: None,
            error_kind: Some(ErrorKind::Interrupted),
            error: Some(why.to_string()),
            status: DeliveryStatus::Pending,
            next_attempt_at: None,
            counts_for_health: false,
            gone: false,
            lane: false,
        }
    }
}
