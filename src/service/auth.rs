//! Who may act, and how often: admin-only actions, the tenant an action acts for, keys and console
//! sessions, refusing addresses that guess keys, a key's address allowlist, the publish rate. The
//! REST extractors (`api::auth`, `api::traffic`) and the console's sign-in call these.

use super::Actor;
use crate::domain::Principal;
use crate::error::{AppError, AppResult};
use crate::metrics::Limit;
use crate::state::ratelimit::Quota;
use crate::state::throttle::Failure;
use crate::state::AppState;
use std::net::IpAddr;
use std::time::Instant;

/// Admin-only actions answer 403 to tenant keys.
pub fn require_admin(principal: &Principal) -> Result<(), AppError> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("this action needs an admin API key"))
    }
}

/// The tenant an action acts for: a tenant key's own (naming another is refused), an admin's choice,
/// or `None` when an admin names none.
pub fn acting_tenant(principal: &Principal, requested: Option<&str>) -> Result<Option<String>, AppError> {
    if let Some(t) = requested {
        crate::domain::validate::tenant(t).map_err(|m| AppError::validation("tenant", m))?;
    }
    match principal.scope() {
        None => Ok(requested.map(str::to_string)),
        Some(own) => match requested {
            Some(other) if other != own => {
                Err(AppError::forbidden("a tenant API key can only act for its own tenant").with_field("tenant"))
            }
            _ => Ok(Some(own.to_string())),
        },
    }
}

/// The principal of an API key, if it is a live one.
pub async fn authenticate(state: &AppState, secret: &str) -> AppResult<Option<Principal>> {
    Ok(state.store.authenticate(secret).await?)
}

/// The principal of a console session, if it is a live one.
pub async fn session_principal(state: &AppState, token: &str) -> AppResult<Option<Principal>> {
    Ok(state.store.session_principal(token).await?)
}

/// Starts a console session for the actor (audited as `console.login`); answers its token.
pub async fn start_session(state: &AppState, actor: &Actor) -> AppResult<String> {
    let token = state.store.create_session(&actor.key_id, state.config.session_ttl).await?;
    actor.audit(state, "console.login", None, None).await;
    Ok(token)
}

/// Ends a console session.
pub async fn end_session(state: &AppState, token: &str) -> AppResult<()> {
    Ok(state.store.delete_session(token).await?)
}

/// 429 while `ip` is refused for guessing keys.
pub fn throttled(state: &AppState, ip: Option<IpAddr>) -> Result<(), AppError> {
    state.auth_throttle.check(ip, Instant::now()).map_err(|seconds| {
        AppError::too_many(format!("too many failed sign-ins from this address; try again in {seconds} s"), seconds)
    })
}

/// Counts a refused key or sign-in from `ip`, logs and audits it (`action`), and the lock-out when
/// this one reached the limit.
pub async fn refused(state: &AppState, ip: Option<IpAddr>, action: &str) {
    let address = ip.map(|ip| ip.to_string());
    let outcome = state.auth_throttle.failed(ip, Instant::now());
    tracing::warn!(client_ip = address.as_deref().unwrap_or("-"), "{action}: an unknown or revoked key was refused");
    let mut actions = vec![action];
    if outcome == Failure::LockedOut {
        tracing::warn!(client_ip = address.as_deref().unwrap_or("-"), "too many failed sign-ins: address refused");
        actions.push("auth.throttled");
    }
    for action in actions {
        if let Err(e) = state.store.audit_refused(address.as_deref(), action).await {
            tracing::error!("audit log write failed for {action}: {e}");
        }
    }
}

/// Refuses (403, audited as `auth.ip_refused`) a key used from outside its allowlist.
pub async fn check_address(state: &AppState, ip: Option<IpAddr>, principal: &Principal) -> Result<(), AppError> {
    let address = ip.map(|ip| ip.to_string());
    if super::keys::allows(&principal.allowed_ips, address.as_deref()) {
        if let Some(ip) = ip {
            if state.key_uses.due(&principal.key_id, ip, Instant::now()) {
                // Where each key is used from (so the last admin key that works is known); written
                // in the background, at most every few minutes per key and address.
                let (store, key, ip) = (state.store.clone(), principal.key_id.clone(), ip.to_string());
                tokio::spawn(async move {
                    if let Err(e) = store.note_key_use(&key, &ip).await {
                        tracing::warn!("noting where key {key} is used from failed: {e}");
                    }
                });
            }
        }
        return Ok(());
    }
    state.metrics.ip_refused();
    tracing::warn!(key_id = %principal.key_id, client_ip = address.as_deref().unwrap_or("-"), "key used from an address outside its allowlist");
    // One entry per key and address per minute, with a count: a client retrying in a loop does
    // not fill the log.
    let audit =
        state.store.audit_repeated(principal, address.as_deref(), "auth.ip_refused", principal.tenant.as_deref());
    if let Err(e) = audit.await {
        tracing::error!("audit log write failed for auth.ip_refused: {e}");
    }
    Err(AppError::new(
        axum::http::StatusCode::FORBIDDEN,
        "ip_not_allowed",
        format!(
            "this API key may not be used from {}; the addresses it may be used from are set on the key",
            address.as_deref().unwrap_or("this address")
        ),
    ))
}

/// Publishing per tenant (`WEBHOOK_PUBLISH_RATE_LIMIT`), whatever key publishes; an admin's
/// broadcast counts for the platform.
pub fn admit_publish(state: &AppState, tenant: Option<&str>) -> Result<(), AppError> {
    let rate = state.config.publish_rate_limit;
    if rate == 0 {
        return Ok(());
    }
    let quota = Quota { per_second: rate, burst: rate.saturating_mul(2) };
    let key = format!("publish\u{0}{}", tenant.unwrap_or(""));
    let verdict = state.api_limiter.take(&key, quota, Instant::now());
    if verdict.allowed {
        return Ok(());
    }
    state.metrics.rate_limited(Limit::TenantPublish);
    Err(AppError::too_many(
        format!(
            "{} is over the publish limit of {rate} events per second; try again in {} s",
            tenant.map_or("the platform".to_string(), |t| format!("tenant {t}")),
            verdict.retry_after
        ),
        verdict.retry_after,
    ))
}
