//! Rows as every backend stores them, and how they become domain types. The schemas of both
//! backends keep the same columns and types (times in unix milliseconds, JSON as text), so one row
//! type decodes from either.

use super::{to_time, StoreResult};
use crate::crypto::{seal, Sealer};
use crate::domain::{
    ApiKey, Attempt, AttemptTrigger, AuditEntry, Delivery, DeliveryOrder, DeliveryStatus, ErrorKind, Event, EventType,
    Principal, Role, Webhook,
};
use crate::store::model::DueDelivery;

/// A webhook as stored (its secret sealed when the store has a key).
#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    pub id: String,
    pub tenant: String,
    pub url: String,
    pub events: String,
    pub description: String,
    pub secret: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub paused: bool,
    pub headers: String,
    pub rate_limit: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub ordering: String,
}

pub(crate) const WEBHOOK_COLUMNS: &str = "id, tenant, url, events, description, secret, active, disabled_reason, \
    consecutive_failures, created_at, updated_at, paused, headers, rate_limit, max_in_flight, ordering";

/// A webhook's stored headers (a JSON object), in name order.
pub(crate) fn parse_headers(text: &str) -> Vec<(String, String)> {
    serde_json::from_str::<std::collections::BTreeMap<String, String>>(text).unwrap_or_default().into_iter().collect()
}

impl WebhookRow {
    pub fn into_webhook(self, sealer: Option<&Sealer>) -> StoreResult<Webhook> {
        let secret = seal::open(sealer, &self.id, &self.secret)?;
        Ok(Webhook {
            id: self.id,
            tenant: self.tenant,
            url: self.url,
            events: serde_json::from_str(&self.events).unwrap_or_default(),
            description: self.description,
            secret,
            active: self.active,
            paused: self.paused,
            disabled_reason: self.disabled_reason,
            consecutive_failures: self.consecutive_failures,
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
            headers: parse_headers(&self.headers).into_iter().collect(),
            rate_limit: self.rate_limit.map(|r| r.clamp(0, u32::MAX as i64) as u32),
            max_in_flight: self.max_in_flight.map(|m| m.clamp(0, u32::MAX as i64) as u32),
            ordering: DeliveryOrder::parse(&self.ordering).unwrap_or_default(),
        })
    }
}

/// A delivery as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: String,
    event_id: String,
    webhook_id: String,
    tenant: String,
    event: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

pub(crate) const DELIVERY_COLUMNS: &str = "id, event_id, webhook_id, tenant, event, status, attempts, \
    next_attempt_at, last_status_code, last_error, created_at, updated_at";

impl DeliveryRow {
    pub fn into_delivery(self) -> Delivery {
        Delivery {
            id: self.id,
            event_id: self.event_id,
            webhook_id: self.webhook_id,
            tenant: self.tenant,
            event: self.event,
            status: DeliveryStatus::parse(&self.status).unwrap_or(DeliveryStatus::Pending),
            attempt_count: self.attempts,
            next_attempt_at: self.next_attempt_at.map(to_time),
            last_status_code: self.last_status_code,
            last_error: self.last_error,
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
            waiting_behind: None,
        }
    }
}

/// One attempt as stored (headers as JSON text).
#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    id: String,
    delivery_id: String,
    attempt: i64,
    trigger: String,
    started_at: i64,
    duration_ms: i64,
    request_headers: String,
    response_status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    error_kind: Option<String>,
    error: Option<String>,
}

pub(crate) const ATTEMPT_COLUMNS: &str = "id, delivery_id, attempt, trigger, started_at, duration_ms, \
    request_headers, response_status, response_headers, response_body, error_kind, error";

impl AttemptRow {
    pub fn into_attempt(self) -> Attempt {
        let quoted = |s: &str| serde_json::Value::String(s.to_string());
        Attempt {
            id: self.id,
            delivery_id: self.delivery_id,
            attempt: self.attempt,
            trigger: serde_json::from_value(quoted(&self.trigger)).unwrap_or(AttemptTrigger::Scheduled),
            started_at: to_time(self.started_at),
            duration_ms: self.duration_ms,
            request_headers: serde_json::from_str(&self.request_headers).unwrap_or_default(),
            response_status: self.response_status,
            response_headers: self.response_headers.and_then(|h| serde_json::from_str(&h).ok()),
            response_body: self.response_body,
            error_kind: self.error_kind.and_then(|k| serde_json::from_value::<ErrorKind>(quoted(&k)).ok()),
            error: self.error,
        }
    }
}

/// An event as a reader may see it (see `SCOPED_EVENT_COLUMNS`).
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: String,
    tenant: Option<String>,
    event: String,
    data: String,
    timestamp: i64,
    idempotency_key: Option<String>,
    deliveries: i64,
}

/// The columns of an event as a reader with scope `$1` (a tenant, or NULL for admins) may see them:
/// a tenant never sees another publisher's idempotency key, and of a broadcast only its own
/// deliveries.
pub(crate) const SCOPED_EVENT_COLUMNS: &str = "id, tenant, event, data, timestamp,
    CASE WHEN $1 IS NULL OR idempotency_scope = 'tenant:' || $1 THEN idempotency_key END AS idempotency_key,
    CASE WHEN $1 IS NOT NULL AND tenant IS NULL
         THEN (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = events.id AND d.tenant = $1)
         ELSE deliveries END AS deliveries";

impl EventRow {
    pub fn into_event(self) -> Event {
        Event {
            id: self.id,
            tenant: self.tenant,
            event: self.event,
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
            timestamp: to_time(self.timestamp),
            idempotency_key: self.idempotency_key,
            deliveries: self.deliveries,
        }
    }
}

/// An API key as stored (without its hash).
#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub id: String,
    pub tenant: Option<String>,
    pub role: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub rate_limit: Option<i64>,
    pub allowed_ips: Option<String>,
}

pub(crate) const KEY_COLUMNS: &str =
    "id, tenant, role, name, prefix, created_at, last_used_at, rate_limit, allowed_ips";

impl KeyRow {
    pub fn into_key(self) -> ApiKey {
        let (rate_limit, allowed_ips) = (self.rate_limit(), self.allowed_ips());
        ApiKey {
            id: self.id,
            tenant: self.tenant,
            role: Role::parse(&self.role).unwrap_or(Role::Tenant),
            name: self.name,
            prefix: self.prefix,
            created_at: to_time(self.created_at),
            last_used_at: self.last_used_at.map(to_time),
            rate_limit,
            allowed_ips,
        }
    }

    fn rate_limit(&self) -> Option<u32> {
        self.rate_limit.map(|r| r.clamp(0, u32::MAX as i64) as u32)
    }

    fn allowed_ips(&self) -> Vec<String> {
        self.allowed_ips.as_deref().and_then(|list| serde_json::from_str(list).ok()).unwrap_or_default()
    }

    pub fn principal(&self) -> Principal {
        Principal {
            key_id: self.id.clone(),
            key_name: self.name.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Tenant),
            tenant: self.tenant.clone(),
            rate_limit: self.rate_limit(),
            allowed_ips: self.allowed_ips(),
        }
    }
}

/// An audit row as stored (`at` in unix milliseconds).
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: String,
    at: i64,
    actor_key_id: String,
    actor_name: String,
    tenant: Option<String>,
    action: String,
    target: Option<String>,
    client_ip: Option<String>,
    count: i64,
}

pub(crate) const AUDIT_COLUMNS: &str = "id, at, actor_key_id, actor_name, tenant, action, target, client_ip, count";

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: to_time(r.at),
            actor_key_id: r.actor_key_id,
            actor_name: r.actor_name,
            tenant: r.tenant,
            action: r.action,
            target: r.target,
            client_ip: r.client_ip,
            count: r.count,
        }
    }
}

/// An event type of the catalog.
#[derive(sqlx::FromRow)]
pub(crate) struct TypeRow {
    name: String,
    category: String,
    description: String,
    custom: bool,
}

impl From<TypeRow> for EventType {
    fn from(r: TypeRow) -> Self {
        EventType { name: r.name, category: r.category, description: r.description, custom: r.custom }
    }
}

/// A claimed delivery joined with its event and webhook: everything its request needs.
#[derive(sqlx::FromRow)]
pub(crate) struct DueRow {
    pub id: String,
    event_id: String,
    webhook_id: String,
    tenant: String,
    event: String,
    attempts: i64,
    data: String,
    timestamp: i64,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<i64>,
    pub active: bool,
    headers: String,
}

/// The columns of a [`DueRow`], over `deliveries d JOIN events e JOIN webhooks w`.
pub(crate) const DUE_COLUMNS: &str = "d.id, d.event_id, d.webhook_id, d.tenant, d.event, d.attempts, e.data, \
    e.timestamp, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at, w.active, w.headers";

/// [`DUE_COLUMNS`] with their joins.
pub(crate) const DUE_SELECT: &str = "SELECT d.id, d.event_id, d.webhook_id, d.tenant, d.event, d.attempts, e.data,
        e.timestamp, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at, w.active, w.headers
    FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id";

impl DueRow {
    /// The delivery to send at `now`, its secrets opened (the previous one while it still signs).
    pub fn into_due(self, sealer: Option<&Sealer>, now: i64) -> StoreResult<DueDelivery> {
        let mut secrets = vec![seal::open(sealer, &self.webhook_id, &self.secret)?];
        if let (Some(prev), Some(until)) = (self.previous_secret, self.previous_secret_expires_at) {
            if until > now {
                secrets.push(seal::open(sealer, &self.webhook_id, &prev)?);
            }
        }
        Ok(DueDelivery {
            delivery_id: self.id,
            event_id: self.event_id,
            webhook_id: self.webhook_id,
            tenant: self.tenant,
            event: self.event,
            data: self.data,
            event_time: to_time(self.timestamp),
            url: self.url,
            secrets,
            attempts: self.attempts,
            headers: parse_headers(&self.headers),
            lane: None,
        })
    }
}

/// Of the stored secrets `(webhook id, secret, previous secret)`, those to store again sealed with
/// the current key (held in the clear, or sealed with the previous key), as the values to store.
/// Fails when one does not open with the keys given (or with none, when there is none).
pub(crate) fn to_reseal(
    sealer: Option<&Sealer>,
    rows: Vec<(String, String, Option<String>)>,
) -> Result<Vec<(String, String, Option<String>)>, crate::crypto::SealError> {
    let mut again = Vec::new();
    for (id, secret, previous) in rows {
        let (secret, redo) = seal::opened(sealer, &id, &secret)?;
        let (previous, redo_previous) = match previous {
            Some(p) => seal::opened(sealer, &id, &p).map(|(p, r)| (Some(p), r))?,
            None => (None, false),
        };
        if redo || redo_previous {
            let sealed = seal::store(sealer, &id, &secret);
            let previous = previous.map(|p| seal::store(sealer, &id, &p));
            again.push((id, sealed, previous));
        }
    }
    Ok(again)
}
