//! Who is calling: a `Bearer` API key, or the console's session cookie.

use crate::domain::Principal;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// Name of the console's session cookie.
pub const SESSION_COOKIE: &str = "monay_session";

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::unauthorized("the Authorization header must be 'Bearer <API key>'"))?;
            return state
                .store
                .authenticate(token)
                .await?
                .ok_or_else(|| AppError::unauthorized("the API key is not valid or has been revoked"));
        }
        if let Some(token) = session_token(&parts.headers) {
            if let Some(principal) = state.store.session_principal(&token).await? {
                return Ok(principal);
            }
        }
        Err(AppError::unauthorized("missing API key: send 'Authorization: Bearer <API key>'"))
    }
}

/// The session token from the `Cookie` header, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

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

/// The principal of a management action, with the client's address, for the audit log.
pub struct Actor {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl std::ops::Deref for Actor {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        Ok(Actor { principal, ip })
    }
}

impl Actor {
    /// Records `action` on `target` in the audit log (failures are logged, never shown to the caller:
    /// the action itself has happened).
    pub async fn audit(&self, state: &AppState, action: &str, target: Option<&str>, tenant: Option<&str>) {
        if let Err(e) = state.store.audit(&self.principal, self.ip.as_deref(), action, target, tenant).await {
            tracing::error!("audit log write failed for {action}: {e}");
        }
    }
}
