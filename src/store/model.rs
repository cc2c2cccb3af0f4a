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
}

/// What to store after an attempt.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub delivery_id: String,
    pub webhook_id: String,
    pub tenant: String,
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

/// What a new webhook is made of (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub tenant: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub secret: String,
    pub active: bool,
}

/// The fields an update may change (validated by the caller); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
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
    /// `Some(true)` active only, `Some(false)` disabled only.
    pub active: Option<bool>,
    /// Only webhooks that would receive this event type.
    pub event: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
