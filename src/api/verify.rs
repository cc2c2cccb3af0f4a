//! `POST /api/webhooks/verify`: checks a signature the way a receiver would, in either format.

use super::extract::Body;
use super::openapi::{post, Routes};
use crate::delivery::signer::{self, VerifyError};
use crate::domain::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn routes() -> Routes {
    Routes::new("Verification").op(post("/webhooks/verify", verify_signature)
        .summary("Verify a signature")
        .describe(
            "Checks a signature in either format against a secret, or against the secrets of a webhook you can see.",
        )
        .body::<VerifyIn>()
        .json::<VerifyOut>(200, "Whether it is valid, the format, and why not.")
        .error(404, "`webhookId` names no webhook this key can see."))
}

/// The secret to check against: given, or a webhook's.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    {"required": ["secret"], "properties": {"secret": {"type": "string"}}},
    {"required": ["webhookId"], "properties": {"webhookId": {"type": "string"}}}
]))]
struct VerifyIn {
    /// The raw body as received (a string), or the parsed JSON (re-serialised compactly).
    payload: Value,
    /// `t=…,v1=…` (the `X-Webhook-Signature` header) or `v1,…` (the `webhook-signature` header).
    signature: String,
    secret: Option<String>,
    webhook_id: Option<String>,
    /// How old a signature may be, in seconds: 0 to 2678400 (31 days; default 300).
    #[schemars(range(min = 0, max = 2_678_400))]
    #[serde(default, deserialize_with = "crate::service::params::whole_number")]
    tolerance_seconds: Option<i64>,
    /// For the Standard Webhooks format: the `webhook-id` header.
    message_id: Option<String>,
    /// For the Standard Webhooks format: the `webhook-timestamp` header.
    timestamp: Option<Value>,
}

#[derive(Serialize, JsonSchema)]
struct VerifyOut {
    valid: bool,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// Verifies a signature against a secret (given, or the secrets of a webhook the caller can see).
async fn verify_signature(
    State(state): State<AppState>,
    principal: Principal,
    Body(input): Body<VerifyIn>,
) -> AppResult<Json<VerifyOut>> {
    let secrets: Vec<String> = match (&input.secret, &input.webhook_id) {
        (Some(secret), _) => vec![secret.clone()],
        (None, Some(id)) => crate::service::webhook_ops::signing_secrets(&state, &principal, id).await?,
        (None, None) => return Err(AppError::validation("secret", "give the secret or a webhookId")),
    };
    let payload = match &input.payload {
        Value::String(raw) => raw.clone(),
        other => serde_json::to_string(other)?,
    };
    let tolerance = input.tolerance_seconds.unwrap_or(300);
    if !(0..=31 * 24 * 3600).contains(&tolerance) {
        return Err(AppError::validation("toleranceSeconds", "toleranceSeconds must be 0 to 2678400"));
    }
    let signature = input.signature.trim();
    let now = chrono::Utc::now();
    let (format, results): (&'static str, Vec<Result<(), VerifyError>>) = if signature.starts_with("t=") {
        let r = secrets
            .iter()
            .map(|s| signer::verify_seed(s, signature, payload.as_bytes(), now.timestamp_millis(), tolerance * 1000))
            .collect();
        ("seed", r)
    } else if signature.starts_with("v1,") {
        let id = input.message_id.as_deref().ok_or_else(|| {
            AppError::validation("messageId", "the Standard Webhooks format needs messageId (the webhook-id header)")
        })?;
        let ts = match &input.timestamp {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(AppError::validation(
                    "timestamp",
                    "the Standard Webhooks format needs timestamp (the webhook-timestamp header)",
                ))
            }
        };
        let r = secrets
            .iter()
            .map(|s| signer::verify_standard(s, id, &ts, signature, payload.as_bytes(), now.timestamp(), tolerance))
            .collect();
        ("standard", r)
    } else {
        return Ok(Json(VerifyOut { valid: false, format: "unknown", reason: Some(VerifyError::Malformed.as_str()) }));
    };
    let outcome = if results.iter().any(Result::is_ok) {
        Ok(())
    } else {
        // The most telling reason: expired or malformed beats a plain mismatch.
        results.into_iter().filter_map(Result::err).min_by_key(|e| *e as u8).map_or(Ok(()), Err)
    };
    Ok(Json(match outcome {
        Ok(()) => VerifyOut { valid: true, format, reason: None },
        Err(e) => VerifyOut { valid: false, format, reason: Some(e.as_str()) },
    }))
}
