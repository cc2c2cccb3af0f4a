//! `/api/events`: publish an event (stored with its deliveries before the answer) and read events.

use super::extract::{parse_json, Params};
use super::openapi::{get, post, Routes};
use super::{auth::acting_tenant, params};
use crate::crypto;
use crate::domain::{Event, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{EventFilter, NewEvent};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Room in the request body for the envelope around `data` (event name, tenant, whitespace).
const ENVELOPE_SLACK: usize = 64 * 1024;
/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

pub fn routes(max_payload: usize) -> Routes {
    let limit = max_payload + ENVELOPE_SLACK;
    Routes::new("Events")
        .op(post("/events", publish_event)
            .summary("Publish an event")
            .describe(
                "Stores the event and one delivery per matching active webhook before answering. With an \
                 `Idempotency-Key`, a repeat of the same request gets the first answer again (header \
                 `Idempotent-Replayed: true`) and a different request under the same key gets 409.",
            )
            .header(
                "Idempotency-Key",
                "Makes a retried publish safe: 1 to 255 visible ASCII characters, scoped per tenant.",
                "^[!-~]{1,255}$",
            )
            .body::<EventIn>()
            .json::<PublishedOut>(202, "Accepted: stored with its deliveries.")
            .error(409, "The Idempotency-Key was used for a different request.")
            .error(413, "The event is over WEBHOOK_MAX_PAYLOAD.")
            .layer(|handler| handler.layer(DefaultBodyLimit::max(limit))))
        .op(get("/events", list_events)
            .summary("List events")
            .describe("Newest first; tenants also see broadcasts.")
            .query::<ListQuery>()
            .json::<Page<Event>>(200, "A page of events."))
        .op(get("/events/{id}", get_event).summary("Get an event").json::<Event>(200, "The event with its data."))
}

#[derive(Deserialize, JsonSchema)]
struct EventIn {
    /// A known event type (see `GET /api/event-types`).
    event: String,
    /// The event's data: a JSON object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    data: serde_json::Value,
    /// Admins: the tenant it concerns; absent, a broadcast to every tenant's matching webhooks.
    tenant: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct PublishedOut {
    /// The event's id (`evt_…`).
    id: String,
    /// Deliveries queued.
    deliveries: i64,
}

#[derive(Deserialize, JsonSchema)]
struct ListQuery {
    event: Option<String>,
    tenant: Option<String>,
    /// Published at or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    since: Option<String>,
    /// Published before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `POST /api/events`: stores the event and one delivery per matching active webhook, then answers
/// 202 `{id, deliveries}`. With an `Idempotency-Key`, a repeat of the same request gets the first
/// answer again and a different request under the same key gets 409.
async fn publish_event(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<Response> {
    let started = std::time::Instant::now();
    let body = body.map_err(|_| {
        AppError::too_large(format!("the event is larger than the {} byte limit", state.config.max_payload))
    })?;
    let input: EventIn = parse_json(&body)?;
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
    let tenant = acting_tenant(&principal, input.tenant.as_deref())?;
    let idempotency = idempotency(&headers, &principal, &event, tenant.as_deref(), &data)?;
    let published = state.store.publish(&NewEvent { tenant, event, data, idempotency }).await?;
    let mut response =
        (StatusCode::ACCEPTED, Json(PublishedOut { id: published.id, deliveries: published.deliveries }))
            .into_response();
    if !published.replayed {
        state.metrics.published(started.elapsed().as_secs_f64());
    }
    if published.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `(scope, key, fingerprint)` from the `Idempotency-Key` header: keys are per tenant (admins share one
/// scope), and the fingerprint covers everything the request asks for.
fn idempotency(
    headers: &HeaderMap,
    principal: &Principal,
    event: &str,
    tenant: Option<&str>,
    data: &str,
) -> AppResult<Option<(String, String, String)>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=MAX_IDEMPOTENCY_KEY).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
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

/// `GET /api/events`: a page of published events (`event`, `tenant`, `since`, `until`, `limit`, `cursor`).
async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<Page<Event>>> {
    let filter = EventFilter {
        scope: principal.scope().map(str::to_string),
        tenant: q.tenant.filter(|t| !t.is_empty()),
        event: q.event.filter(|e| !e.is_empty()),
        since: params::time("since", q.since.as_deref())?,
        until: params::time("until", q.until.as_deref())?,
        limit: params::limit(q.limit)?,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    Ok(Json(state.store.list_events(&filter).await?))
}

/// `GET /api/events/{id}`: one event with its data.
async fn get_event(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Event>> {
    Ok(Json(state.store.get_event(&id, principal.scope()).await?))
}
