//! Operations on one webhook: send a test, switch on and off, reveal and rotate the secret, recover
//! failed deliveries, replay missed events (the rules are in `service::webhook_ops`).

use super::auth::Actor;
use super::extract::{parse_json, Body};
use super::openapi::{get, post, Routes};
use crate::domain::{AttemptResult, SecretInfo, Webhook};
use crate::error::AppResult;
use crate::service::webhook_ops::{self, RecoverIn, ReplayIn, RotateIn};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

pub fn routes() -> Routes {
    Routes::new("Webhooks")
        .op(post("/webhooks/{id}/test", test_webhook)
            .summary("Send a test event")
            .describe("Sends a signed `webhook.test` event now and answers with the attempt's outcome.")
            .json::<AttemptResult>(200, "What the receiver answered."))
        .op(post("/webhooks/{id}/enable", enable_webhook)
            .summary("Enable a webhook")
            .describe("Resets its failure count and resumes its held deliveries.")
            .json::<Webhook>(200, "The webhook, secret masked."))
        .op(post("/webhooks/{id}/disable", disable_webhook)
            .summary("Disable a webhook")
            .describe("Its pending deliveries are held until it is enabled again.")
            .json::<Webhook>(200, "The webhook, secret masked."))
        .op(post("/webhooks/{id}/pause", pause_webhook)
            .summary("Pause a webhook")
            .describe(
                "Switches it off without losing anything: its pending deliveries, and those of events published \
                 while it is paused, are held until it is resumed.",
            )
            .json::<Webhook>(200, "The webhook, secret masked."))
        .op(post("/webhooks/{id}/resume", resume_webhook)
            .summary("Resume a paused webhook")
            .describe("Switches it on; what was held is sent. A webhook that is on is answered as it is.")
            .json::<Webhook>(200, "The webhook, secret masked.")
            .error(409, "The webhook is disabled, not paused: enable it instead."))
        .op(get("/webhooks/{id}/secret", reveal_secret)
            .summary("Reveal the signing secret")
            .json::<SecretInfo>(200, "The secret, and the previous one while it still signs."))
        .op(post("/webhooks/{id}/rotate-secret", rotate_secret)
            .summary("Rotate the signing secret")
            .describe("The old secret keeps signing beside the new one for `graceSeconds` (default a day). The body is optional.")
            .optional_body::<RotateIn>()
            .json::<SecretInfo>(200, "The new secret."))
        .op(post("/webhooks/{id}/recover", recover_webhook)
            .summary("Recover failed deliveries")
            .describe(
                "Queues again the webhook's failed deliveries created since `since` (held while it is off). \
                 `dryRun` only counts.",
            )
            .body::<RecoverIn>()
            .json::<RecoveredOut>(200, "How many deliveries were (or, with dryRun, would be) queued again."))
        .op(post("/webhooks/{id}/replay-missing", replay_missing)
            .summary("Replay the events a webhook missed")
            .describe(
                "Queues to the webhook every event since `since` that it subscribes to and has no delivery for \
                 (published while it was switched off, or before it subscribed to the type). Events it already \
                 got are not sent again. Held when the webhook is off. `dryRun` only counts.",
            )
            .body::<ReplayIn>()
            .json::<ReplayedOut>(200, "How many events were (or, with dryRun, would be) queued."))
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RecoveredOut {
    /// Deliveries queued again (with `dryRun`: that would be).
    recovered: u64,
    dry_run: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ReplayedOut {
    /// Events queued to the webhook (with `dryRun`: that would be).
    replayed: u64,
    dry_run: bool,
}

/// `POST /api/webhooks/{id}/test`: sends a `webhook.test` event now and answers with the outcome.
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<AttemptResult>> {
    Ok(Json(webhook_ops::test(&state, &actor, &id).await?))
}

/// `POST /api/webhooks/{id}/enable`: switches the webhook on, clears its failure count, and resumes
/// its held deliveries.
pub(crate) async fn enable_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhook_ops::set_active(&state, &actor, &id, true).await?))
}

/// `POST /api/webhooks/{id}/disable`: switches the webhook off; its pending deliveries are held.
pub(crate) async fn disable_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhook_ops::set_active(&state, &actor, &id, false).await?))
}

/// `POST /api/webhooks/{id}/pause`: switches the webhook off; what it would get is held.
pub(crate) async fn pause_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhook_ops::pause(&state, &actor, &id).await?))
}

/// `POST /api/webhooks/{id}/resume`: switches a paused webhook on; what was held goes.
pub(crate) async fn resume_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhook_ops::resume(&state, &actor, &id).await?))
}

/// `GET /api/webhooks/{id}/secret`: the signing secret, and the previous one while it still signs.
pub(crate) async fn reveal_secret(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<SecretInfo>> {
    Ok(Json(webhook_ops::reveal_secret(&state, &actor, &id).await?))
}

/// `POST /api/webhooks/{id}/rotate-secret`: a new secret; the body is optional.
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<SecretInfo>> {
    // The body is optional: none means "generate a secret, default grace".
    let input: RotateIn =
        if body.iter().all(u8::is_ascii_whitespace) { RotateIn::default() } else { parse_json(&body)? };
    Ok(Json(webhook_ops::rotate_secret(&state, &actor, &id, input).await?))
}

/// `POST /api/webhooks/{id}/recover`: queues again its failed deliveries created since `since`.
async fn recover_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<RecoverIn>,
) -> AppResult<Json<RecoveredOut>> {
    let dry_run = input.dry_run;
    Ok(Json(RecoveredOut { recovered: webhook_ops::recover(&state, &actor, &id, input).await?, dry_run }))
}

/// `POST /api/webhooks/{id}/replay-missing`: queues to the webhook the events it missed since `since`.
async fn replay_missing(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<ReplayIn>,
) -> AppResult<Json<ReplayedOut>> {
    let dry_run = input.dry_run;
    Ok(Json(ReplayedOut { replayed: webhook_ops::replay_missing(&state, &actor, &id, input).await?, dry_run }))
}
