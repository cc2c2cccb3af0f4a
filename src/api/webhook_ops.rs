//! Operations on one webhook: send a test, switch on and off, reveal and rotate the secret, recover
//! failed deliveries.

use super::auth::Actor;
use super::extract::{parse_json, Body};
use super::openapi::{get, post, Routes};
use super::params;
use crate::crypto;
use crate::delivery::sender::Sent;
use crate::domain::{validate, AttemptResult, AttemptTrigger, SecretInfo, Webhook};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{DueDelivery, WebhookPatch};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
            .describe("Queues again the webhook's failed deliveries created since `since`.")
            .body::<RecoverIn>()
            .json::<RecoveredOut>(200, "How many deliveries were queued again."))
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

/// Longest overlap of an old secret after a rotation: a week.
const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

/// What an attempt made on request tells its caller.
pub(crate) fn attempt_result(due: &DueDelivery, sent: Sent) -> AttemptResult {
    AttemptResult {
        delivery_id: due.delivery_id.clone(),
        event_id: due.event_id.clone(),
        success: sent.succeeded(),
        status_code: sent.status,
        duration_ms: sent.duration_ms,
        error_kind: sent.error_kind,
        error: sent.error,
        response_body: sent.response_body,
    }
}

/// `POST /api/webhooks/{id}/test`: sends a `webhook.test` event now and answers with the outcome.
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<AttemptResult>> {
    let due = state.store.create_test_delivery(&id, principal.scope(), state.engine.lease_ms()).await?;
    let (sent, outcome) = state.engine.attempt(&due, AttemptTrigger::Test, None).await;
    state.engine.record(std::slice::from_ref(&outcome)).await?;
    principal.audit(&state, "webhook.tested", Some(&id), Some(&due.tenant)).await;
    Ok(Json(attempt_result(&due, sent)))
}

/// `POST /api/webhooks/{id}/enable`: switches the webhook on, clears its failure count, and resumes
/// its held deliveries.
pub(crate) async fn enable_webhook(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    switch(&state, &principal, &id, true).await
}

/// `POST /api/webhooks/{id}/disable`: switches the webhook off; its pending deliveries are held.
pub(crate) async fn disable_webhook(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    switch(&state, &principal, &id, false).await
}

async fn switch(state: &AppState, principal: &Actor, id: &str, active: bool) -> AppResult<Json<Webhook>> {
    let patch = WebhookPatch { active: Some(active), ..WebhookPatch::default() };
    let webhook = state.store.update_webhook(id, principal.scope(), patch).await?;
    let action = if active { "webhook.enabled" } else { "webhook.disabled" };
    principal.audit(state, action, Some(id), Some(&webhook.tenant)).await;
    Ok(Json(webhook.masked()))
}

/// `GET /api/webhooks/{id}/secret`: the signing secret, and the previous one while it still signs.
pub(crate) async fn reveal_secret(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<SecretInfo>> {
    let secret = state.store.webhook_secret(&id, principal.scope()).await?;
    principal.audit(&state, "secret.revealed", Some(&id), None).await;
    Ok(Json(secret))
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RotateIn {
    /// A secret of your own: 24 to 256 printable ASCII characters without spaces; generated when absent.
    #[schemars(regex(pattern = r"^[!-~]{24,256}$"))]
    pub(crate) secret: Option<String>,
    /// How long the old secret keeps signing beside the new one: 0 to 604800 seconds (default 86400).
    #[schemars(range(min = 0, max = 604_800))]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    pub(crate) grace_seconds: Option<i64>,
}

/// `POST /api/webhooks/{id}/rotate-secret`: a new secret (given or generated); the old one keeps
/// signing beside it for `graceSeconds` (default 24 hours, at most a week, 0 for none).
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<SecretInfo>> {
    // The body is optional: none means "generate a secret, default grace".
    let input: RotateIn =
        if body.iter().all(u8::is_ascii_whitespace) { RotateIn::default() } else { parse_json(&body)? };
    state.store.get_webhook(&id, principal.scope()).await?;
    let grace = input.grace_seconds.unwrap_or(24 * 3600);
    if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
        return Err(AppError::validation("graceSeconds", format!("graceSeconds must be 0 to {MAX_GRACE_SECONDS}")));
    }
    let secret = match input.secret {
        Some(s) => {
            validate::custom_secret(&s).map_err(|m| AppError::validation("secret", m))?;
            s
        }
        None => crypto::new_webhook_secret(),
    };
    let info = state.store.rotate_secret(&id, principal.scope(), &secret, grace * 1000).await?;
    principal.audit(&state, "secret.rotated", Some(&id), None).await;
    Ok(Json(info))
}

#[derive(Deserialize, JsonSchema)]
struct RecoverIn {
    /// An RFC 3339 time or unix milliseconds.
    #[schemars(extend("anyOf" = [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_i64}
    ]))]
    since: serde_json::Value,
}

#[derive(Serialize, JsonSchema)]
struct RecoveredOut {
    /// Deliveries queued again.
    recovered: u64,
}

/// `POST /api/webhooks/{id}/recover`: queues again its failed deliveries created since `since`.
async fn recover_webhook(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
    Body(input): Body<RecoverIn>,
) -> AppResult<Json<RecoveredOut>> {
    state.store.get_webhook(&id, principal.scope()).await?;
    let since = since_time(&input.since)?;
    let recovered = state.store.recover_failed(&id, principal.scope(), since).await?;
    principal.audit(&state, "webhook.recovered", Some(&id), None).await;
    Ok(Json(RecoveredOut { recovered }))
}

/// A `since` given as an RFC 3339 time or unix milliseconds.
fn since_time(value: &serde_json::Value) -> AppResult<i64> {
    match value {
        serde_json::Value::String(s) => params::time("since", Some(s))?,
        serde_json::Value::Number(n) => super::extract::as_whole(n).filter(|ms| (0..=999_999_999_999_999).contains(ms)),
        _ => None,
    }
    .ok_or_else(|| AppError::validation("since", "since must be an RFC 3339 time or unix milliseconds"))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ReplayIn {
    /// An RFC 3339 time or unix milliseconds.
    #[schemars(extend("anyOf" = [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_i64}
    ]))]
    since: serde_json::Value,
    /// Count only; queue nothing.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ReplayedOut {
    /// Events queued to the webhook (with `dryRun`: that would be).
    replayed: u64,
    dry_run: bool,
}

/// `POST /api/webhooks/{id}/replay-missing`: queues to the webhook the events it missed since `since`.
async fn replay_missing(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
    Body(input): Body<ReplayIn>,
) -> AppResult<Json<ReplayedOut>> {
    let webhook = state.store.get_webhook(&id, principal.scope()).await?;
    let since = since_time(&input.since)?;
    let replayed = state.store.replay_missing(&id, principal.scope(), since, input.dry_run).await?;
    if !input.dry_run {
        principal.audit(&state, "webhook.replayed", Some(&id), Some(&webhook.tenant)).await;
    }
    Ok(Json(ReplayedOut { replayed, dry_run: input.dry_run }))
}
