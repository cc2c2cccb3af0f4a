//! Events: publishing (validated, normalised as JavaScript would, idempotent under a key, stored
//! with its deliveries before the answer) and reading them back.

use crate::api::auth::acting_tenant;
use crate::api::params;
use crate::crypto;
use crate::domain::{Event, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{EventFilter, NewEvent, Published};
use schemars::JsonSchema;
use serde::Deserialize;

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

#[derive(Deserialize, JsonSchema)]
pub struct EventIn {
    /// A known event type (see `GET /api/event-types`).
    pub event: String,
    /// The event's data: a JSON object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub data: serde_json::Value,
    /// Admins: the tenant it concerns; absent, a broadcast to every tenant's matching webhooks.
    pub tenant: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
pub struct ListQuery {
    pub event: Option<String>,
    pub tenant: Option<String>,
    /// Published at or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub since: Option<String>,
    /// Published before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Publishes an event: stored with one delivery per matching active webhook before this returns.
/// `idempotency_key` is the raw `Idempotency-Key`: a repeat of the same request under it answers as
/// the first did (`replayed`), a different request under it is a conflict.
pub async fn publish(
    state: &AppState,
    principal: &Principal,
    input: EventIn,
    idempotency_key: Option<&[u8]>,
) -> AppResult<Published> {
    let event = input.event.trim().to_string();
    if !input.data.is_object() {
        return Err(AppError::validation("data", "data must be a JSON object"));
    }
    let data = crate::delivery::payload::js_canonical(&input.data, "data")
        .map_err(|unsafe_number| AppError::validation(unsafe_number.path, unsafe_number.message))?;
    if data.len() > state.config.max_payload {
        return Err(AppError::too_large(format!(
            "data is {} bytes; the limit is {} bytes (WEBHOOK_MAX_PAYLOAD)",
            data.len(),
            state.config.max_payload
        ))
        .with_field("data"));
    }
    if !state.store.event_type_exists(&event).await? {
        return Err(AppError::validation(
            "event",
            format!("'{event}' is not a known event type; see GET /api/event-types"),
        ));
    }
    let tenant = acting_tenant(principal, input.tenant.as_deref())?;
    let idempotency = idempotency(idempotency_key, principal, &event, tenant.as_deref(), &data)?;
    Ok(state.store.publish(&NewEvent { tenant, event, data, idempotency }).await?)
}

/// `(scope, key, fingerprint)` for an `Idempotency-Key`: keys are per tenant (admins share one
/// scope), and the fingerprint covers everything the request asks for.
fn idempotency(
    key: Option<&[u8]>,
    principal: &Principal,
    event: &str,
    tenant: Option<&str>,
    data: &str,
) -> AppResult<Option<(String, String, String)>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let key = Some(key)
        .filter(|k| (1..=MAX_IDEMPOTENCY_KEY).contains(&k.len()) && k.iter().all(u8::is_ascii_graphic))
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
            )
        })?;
    let scope = match principal.scope() {
        Some(own) => format!("tenant:{own}"),
        None => "admin".to_string(),
    };
    let fingerprint = crypto::sha256_hex(format!("{event}\n{}\n{data}", tenant.unwrap_or("*")).as_bytes());
    Ok(Some((scope, key.to_string(), fingerprint)))
}

/// A page of published events (tenants also see broadcasts).
pub async fn list(state: &AppState, principal: &Principal, q: ListQuery) -> AppResult<Page<Event>> {
    let filter = EventFilter {
        scope: principal.scope().map(str::to_string),
        tenant: q.tenant.filter(|t| !t.is_empty()),
        event: q.event.filter(|e| !e.is_empty()),
        since: params::time("since", q.since.as_deref())?,
        until: params::time("until", q.until.as_deref())?,
        limit: params::limit(q.limit)?,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    Ok(state.store.list_events(&filter).await?)
}

/// One event with its data.
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> AppResult<Event> {
    Ok(state.store.get_event(id, principal.scope()).await?)
}
