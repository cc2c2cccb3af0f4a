//! `/api/events`: publish an event (stored with its deliveries before the answer) and read events
//! (the rules are in `service::events`).

use super::auth::Actor;
use super::extract::{parse_json, Body, Params};
use super::openapi::{get, post, Routes};
use crate::domain::{Event, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, EventIn, ListQuery, SendIn, SentOut};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

/// Room in the request body for the envelope around `data` (event name, tenant, whitespace).
const ENVELOPE_SLACK: usize = 64 * 1024;

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
        .op(post("/events/{id}/send", send_event)
            .summary("Send an event again to a webhook")
            .describe(
                "Queues one more delivery of the event to the chosen webhook, whether or not it went there before \
                 (the receiver lost it, or the webhook was made after the event). A tenant's event goes only to that \
                 tenant's webhooks. Held while the webhook is off.",
            )
            .body::<SendIn>()
            .json::<SentOut>(202, "Queued: the new delivery."))
}

#[derive(Serialize, JsonSchema)]
struct PublishedOut {
    /// The event's id (`evt_…`).
    id: String,
    /// Deliveries queued.
    deliveries: i64,
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
    let key = headers.get("idempotency-key").map(HeaderValue::as_bytes);
    let published = events::publish(&state, &principal, input, key).await?;
    let mut response =
        (StatusCode::ACCEPTED, Json(PublishedOut { id: published.id, deliveries: published.deliveries }))
            .into_response();
    if published.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    } else {
        state.metrics.published(started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// `GET /api/events`: a page of published events (`event`, `tenant`, `since`, `until`, `limit`, `cursor`).
async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<Page<Event>>> {
    Ok(Json(events::list(&state, &principal, q).await?))
}

/// `GET /api/events/{id}`: one event with its data.
async fn get_event(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Event>> {
    Ok(Json(events::get(&state, &principal, &id).await?))
}

/// `POST /api/events/{id}/send`: one more delivery of the event to a chosen webhook.
async fn send_event(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<SendIn>,
) -> AppResult<(StatusCode, Json<SentOut>)> {
    Ok((StatusCode::ACCEPTED, Json(events::send_to(&state, &actor, &id, input).await?)))
}
