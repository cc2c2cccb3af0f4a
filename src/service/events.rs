//! Events: publishing (validated, normalised as JavaScript would, idempotent under a key, stored
//! with its deliveries before the answer) and reading them back.

use super::auth::acting_tenant;
use super::params;
use crate::crypto;
use crate::domain::{Event, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::service::Actor;
use crate::state::AppState;
use crate::store::{EventFilter, NewEvent, Published};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    super::auth::admit_publish(state, tenant.as_deref())?;
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
    Ok(state.store.list_events(&q.filter(principal)?).await?)
}

/// How many events the filters select, counted up to `cap`.
pub async fn count(state: &AppState, principal: &Principal, q: ListQuery, cap: i64) -> AppResult<i64> {
    Ok(state.store.count_events(&q.filter(principal)?, cap).await?)
}

impl ListQuery {
    /// The store filter these parameters ask for, within what `principal` may see.
    fn filter(self, principal: &Principal) -> AppResult<EventFilter> {
        Ok(EventFilter {
            scope: principal.scope().map(str::to_string),
            tenant: self.tenant.filter(|t| !t.is_empty()),
            event: self.event.filter(|e| !e.is_empty()),
            since: params::time("since", self.since.as_deref())?,
            until: params::time("until", self.until.as_deref())?,
            limit: params::limit(self.limit)?,
            cursor: self.cursor.filter(|c| !c.is_empty()),
        })
    }
}

/// One event with its data.
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> AppResult<Event> {
    Ok(state.store.get_event(id, principal.scope()).await?)
}

/// Where to send an event again.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendIn {
    /// The webhook (`wh_…`): the event's tenant's, or any tenant's for a broadcast.
    pub webhook_id: String,
}

/// The delivery a send-again made.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentOut {
    /// The new delivery (`dlv_…`): follow it in the log.
    pub delivery_id: String,
    pub webhook_id: String,
    /// `pending` (the workers send it now) or `held` (the webhook is off; it goes when switched on).
    pub status: &'static str,
}

/// Queues one more delivery of an event to a chosen webhook, whether or not it was sent there
/// before (the receiver lost it, or the webhook was made after the event). A tenant's event goes
/// only to that tenant's webhooks; a broadcast to anyone's.
pub async fn send_to(state: &AppState, actor: &Actor, event_id: &str, input: SendIn) -> AppResult<SentOut> {
    let event = state.store.get_event(event_id, actor.scope()).await?;
    let webhook = state.store.get_webhook(input.webhook_id.trim(), actor.scope()).await?;
    if let Some(tenant) = event.tenant.as_deref().filter(|t| *t != webhook.tenant) {
        return Err(AppError::validation(
            "webhookId",
            format!("the event belongs to tenant '{tenant}' and the webhook to '{}'", webhook.tenant),
        ));
    }
    let delivery_id = state.store.queue_event_to(&event.id, &webhook).await?;
    actor.audit(state, "event.sent_again", Some(&delivery_id), Some(&webhook.tenant)).await;
    let status = if webhook.active { "pending" } else { "held" };
    Ok(SentOut { delivery_id, webhook_id: webhook.id, status })
}
