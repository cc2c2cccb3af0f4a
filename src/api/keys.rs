//! `/api/keys`: API keys, managed by admins. The key itself is shown once, in the create answer.

use super::auth::{require_admin, Actor};
use super::extract::Body;
use super::openapi::{delete, get, post, Access, Routes};
use crate::domain::{validate, ApiKey, Page, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes() -> Routes {
    Routes::new("Keys")
        .op(get("/keys", list_keys)
            .summary("List API keys")
            .access(Access::Admin)
            .json::<Page<ApiKey>>(200, "The live keys, never their secrets."))
        .op(post("/keys", create_key)
            .summary("Create an API key")
            .access(Access::Admin)
            .body::<KeyIn>()
            .json::<KeyCreatedOut>(201, "The key; `key` is shown here only."))
        .op(delete("/keys/{id}", revoke_key)
            .summary("Revoke an API key")
            .describe("At once, ending its console sessions. The last admin key cannot be revoked (409).")
            .access(Access::Admin)
            .empty(204, "Revoked.")
            .error(409, "This is the last admin key."))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyIn {
    /// Tenant keys: the tenant they act for.
    #[schemars(regex(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$"))]
    pub(crate) tenant: Option<String>,
    /// `tenant` (default) or `admin`.
    #[schemars(extend("enum" = ["admin", "tenant"]))]
    pub(crate) role: Option<String>,
    /// A name to know it by, 1 to 100 characters (not only spaces).
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub(crate) name: String,
}

/// The create answer: the stored key plus, this once, the key itself.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyCreatedOut {
    pub(crate) id: String,
    /// The API key itself: shown here only.
    pub(crate) key: String,
    pub(crate) tenant: Option<String>,
    pub(crate) role: Role,
    pub(crate) name: String,
    pub(crate) prefix: String,
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/keys`: creates a key; the answer carries the key, which is never shown again.
pub(crate) async fn create_key(
    State(state): State<AppState>,
    principal: Actor,
    Body(input): Body<KeyIn>,
) -> AppResult<(StatusCode, Json<KeyCreatedOut>)> {
    require_admin(&principal)?;
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
    principal.audit(&state, "key.created", Some(&key.id), key.tenant.as_deref()).await;
    let ApiKey { id, tenant, role, name, prefix, created_at, .. } = key;
    let out = KeyCreatedOut { id, key: secret, tenant, role, name, prefix, created_at };
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /api/keys`: the live keys (never their secrets).
pub(crate) async fn list_keys(State(state): State<AppState>, principal: Actor) -> AppResult<Json<Page<ApiKey>>> {
    require_admin(&principal)?;
    let data = state.store.list_keys().await?;
    Ok(Json(Page { data, next_cursor: None }))
}

/// `DELETE /api/keys/{id}`: revokes a key at once, ending its console sessions.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    require_admin(&principal)?;
    state.store.revoke_key(&id).await?;
    principal.audit(&state, "key.revoked", Some(&id), None).await;
    Ok(StatusCode::NO_CONTENT)
}
