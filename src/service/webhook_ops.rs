//! Operations on one webhook: send a test, switch it on and off, reveal and rotate its secret,
//! recover failed deliveries, replay the events it missed.

use super::params;
use super::Actor;
use crate::crypto;
use crate::delivery::sender::Sent;
use crate::domain::{validate, AttemptResult, AttemptTrigger, Principal, SecretInfo, Webhook};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{DeliveryFilter, DueDelivery, WebhookPatch};
use schemars::JsonSchema;
use serde::Deserialize;

/// Longest overlap of an old secret after a rotation: a week.
const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Deserialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateIn {
    /// A secret of your own: 24 to 256 printable ASCII characters without spaces, not starting with
    /// `enc:`; generated when absent.
    #[schemars(regex(pattern = r"^[!-~]{24,256}$"))]
    pub secret: Option<String>,
    /// How long the old secret keeps signing beside the new one: 0 to 604800 seconds (default 86400).
    #[schemars(range(min = 0, max = 604_800))]
    #[serde(default, deserialize_with = "crate::service::params::whole_number")]
    pub grace_seconds: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoverIn {
    /// An RFC 3339 time or unix milliseconds.
    #[schemars(extend("anyOf" = [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_i64}
    ]))]
    pub since: serde_json::Value,
    /// Count only; queue nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayIn {
    /// An RFC 3339 time or unix milliseconds.
    #[schemars(extend("anyOf" = [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_i64}
    ]))]
    pub since: serde_json::Value,
    /// Count only; queue nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an attempt made on request tells its caller.
pub fn attempt_result(due: &DueDelivery, sent: Sent) -> AttemptResult {
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

/// Sends a `webhook.test` event now and answers with the outcome.
pub async fn test(state: &AppState, actor: &Actor, id: &str) -> AppResult<AttemptResult> {
    let due = state.store.create_test_delivery(id, actor.scope(), state.engine.lease_ms()).await?;
    let (sent, outcome) = state.engine.attempt(&due, AttemptTrigger::Test, None).await;
    state.engine.record(std::slice::from_ref(&outcome)).await?;
    actor.audit(state, "webhook.tested", Some(id), Some(&due.tenant)).await;
    Ok(attempt_result(&due, sent))
}

/// Switches the webhook on (clearing its failure count and resuming its held deliveries) or off
/// (holding its pending deliveries).
pub async fn set_active(state: &AppState, actor: &Actor, id: &str, active: bool) -> AppResult<Webhook> {
    let patch = WebhookPatch { active: Some(active), ..WebhookPatch::default() };
    let webhook = state.store.update_webhook(id, actor.scope(), patch).await?;
    let action = if active { "webhook.enabled" } else { "webhook.disabled" };
    actor.audit(state, action, Some(id), Some(&webhook.tenant)).await;
    Ok(webhook.masked())
}

/// The signing secret, and the previous one while it still signs (audited).
pub async fn reveal_secret(state: &AppState, actor: &Actor, id: &str) -> AppResult<SecretInfo> {
    let secret = state.store.webhook_secret(id, actor.scope()).await?;
    actor.audit(state, "secret.revealed", Some(id), None).await;
    Ok(secret)
}

/// The secrets a signature may be checked against: the webhook's, and the previous one while it
/// still signs (not audited: they are not shown).
pub async fn signing_secrets(state: &AppState, principal: &Principal, id: &str) -> AppResult<Vec<String>> {
    let info = state.store.webhook_secret(id, principal.scope()).await?;
    Ok(std::iter::once(info.secret).chain(info.previous_secret).collect())
}

/// A new secret (given or generated); the old one keeps signing beside it for `graceSeconds`
/// (default 24 hours, at most a week, 0 for none).
pub async fn rotate_secret(state: &AppState, actor: &Actor, id: &str, input: RotateIn) -> AppResult<SecretInfo> {
    state.store.get_webhook(id, actor.scope()).await?;
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
    let info = state.store.rotate_secret(id, actor.scope(), &secret, grace * 1000).await?;
    actor.audit(state, "secret.rotated", Some(id), None).await;
    Ok(info)
}

/// Pauses the webhook: its pending deliveries and those of events published meanwhile are held,
/// to go when it is resumed.
pub async fn pause(state: &AppState, actor: &Actor, id: &str) -> AppResult<Webhook> {
    let webhook = state.store.pause_webhook(id, actor.scope()).await?;
    actor.audit(state, "webhook.paused", Some(id), Some(&webhook.tenant)).await;
    Ok(webhook.masked())
}

/// Resumes a paused webhook: switched on, what was held goes. A webhook that is on already is
/// answered as it is; one switched off (not paused) is refused: enabling it is a separate choice.
pub async fn resume(state: &AppState, actor: &Actor, id: &str) -> AppResult<Webhook> {
    let current = state.store.get_webhook(id, actor.scope()).await?;
    if current.active {
        return Ok(current.masked());
    }
    if !current.paused {
        return Err(AppError::conflict("not_paused", "this webhook is disabled, not paused: enable it instead"));
    }
    let patch = WebhookPatch { active: Some(true), ..WebhookPatch::default() };
    let webhook = state.store.update_webhook(id, actor.scope(), patch).await?;
    actor.audit(state, "webhook.resumed", Some(id), Some(&webhook.tenant)).await;
    Ok(webhook.masked())
}

/// Queues again the webhook's failed deliveries created since `since` (only counts with
/// `dryRun`); answers how many.
pub async fn recover(state: &AppState, actor: &Actor, id: &str, input: RecoverIn) -> AppResult<u64> {
    let webhook = state.store.get_webhook(id, actor.scope()).await?;
    let filter = DeliveryFilter {
        scope: actor.scope().map(str::to_string),
        webhook_id: Some(id.to_string()),
        since: Some(since_time(&input.since)?),
        ..DeliveryFilter::default()
    };
    let recovered = state.store.requeue_failed(&filter, input.dry_run).await?.total;
    if !input.dry_run {
        actor.audit(state, "webhook.recovered", Some(id), Some(&webhook.tenant)).await;
    }
    Ok(recovered)
}

/// Queues to the webhook the events since `since` it subscribes to and has no delivery for (only
/// counts with `dryRun`); answers how many.
pub async fn replay_missing(state: &AppState, actor: &Actor, id: &str, input: ReplayIn) -> AppResult<u64> {
    let webhook = state.store.get_webhook(id, actor.scope()).await?;
    let since = since_time(&input.since)?;
    let replayed = state.store.replay_missing(id, actor.scope(), since, input.dry_run).await?;
    if !input.dry_run {
        actor.audit(state, "webhook.replayed", Some(id), Some(&webhook.tenant)).await;
    }
    Ok(replayed)
}

/// A `since` given as an RFC 3339 time or unix milliseconds.
fn since_time(value: &serde_json::Value) -> AppResult<i64> {
    match value {
        serde_json::Value::String(s) => params::time("since", Some(s))?,
        serde_json::Value::Number(n) => params::as_whole(n).filter(|ms| (0..=999_999_999_999_999).contains(ms)),
        _ => None,
    }
    .ok_or_else(|| AppError::validation("since", "since must be an RFC 3339 time or unix milliseconds"))
}
