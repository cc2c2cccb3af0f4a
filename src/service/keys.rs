//! API keys, managed by admins: list, create (the key itself is answered once), revoke.

use super::Actor;
use crate::api::auth::require_admin;
use crate::domain::{validate, ApiKey, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyIn {
    /// Tenant keys: the tenant they act for.
    #[schemars(regex(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$"))]
    pub tenant: Option<String>,
    /// `tenant` (default) or `admin`.
    #[schemars(extend("enum" = ["admin", "tenant"]))]
    pub role: Option<String>,
    /// A name to know it by, 1 to 100 characters (not only spaces).
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub name: String,
}

/// The create answer: the stored key plus, this once, the key itself.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyCreatedOut {
    pub id: String,
    /// The API key itself: shown here only.
    pub key: String,
    pub tenant: Option<String>,
    pub role: Role,
    pub name: String,
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates a key; the answer carries the key, which is never shown again.
pub async fn create(state: &AppState, actor: &Actor, input: KeyIn) -> AppResult<KeyCreatedOut> {
    require_admin(actor)?;
    let role = Role::parse(input.role.as_deref().unwrap_or("tenant"))
        .ok_or_else(|| AppError::validation("role", "role must be 'admin' or 'tenant'"))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "name must be 1 to 100 characters"));
    }
    let tenant = input.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = tenant {
        validate::tenant(t).map_err(|m| AppError::validation("tenant", m))?;
    }
    if role == Role::Admin && tenant.is_some() {
        return Err(AppError::validation(
            "tenant",
            "an admin key acts for every tenant; leave tenant out, or make a tenant key for one tenant",
        ));
    }
    if role == Role::Tenant && tenant.is_none() {
        return Err(AppError::validation("tenant", "a tenant key needs a tenant"));
    }
    let (key, secret) = state.store.create_key(tenant, role, name).await?;
    actor.audit(state, "key.created", Some(&key.id), key.tenant.as_deref()).await;
    let ApiKey { id, tenant, role, name, prefix, created_at, .. } = key;
    let out = KeyCreatedOut { id, key: secret, tenant, role, name, prefix, created_at };
    Ok(out)
}

/// The live keys (never their secrets).
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<ApiKey>> {
    require_admin(actor)?;
    Ok(state.store.list_keys().await?)
}

/// Revokes a key at once, ending its console sessions.
pub async fn revoke(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    require_admin(actor)?;
    state.store.revoke_key(id).await?;
    actor.audit(state, "key.revoked", Some(id), None).await;
    Ok(())
}
