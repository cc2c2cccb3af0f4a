//! `/api/keys`: API keys, managed by admins, with their traffic controls. The key itself is shown once, in the create answer
//! (the rules are in `service::keys`).

use super::auth::Actor;
use super::extract::Body;
use super::openapi::{delete, get, patch, post, Access, Routes};
use crate::domain::{ApiKey, Page};
use crate::error::AppResult;
use crate::service::keys::{self, KeyCreatedOut, KeyIn, KeyPatchIn};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

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
        .op(patch("/keys/{id}", update_key)
            .summary("Change an API key")
            .describe(
                "Its name, rate limit or allowed addresses, from its next request on (every node forgets the \
                 old ones at once). A key cannot be given an allowlist that shuts out the request changing it.",
            )
            .access(Access::Admin)
            .body::<KeyPatchIn>()
            .json::<ApiKey>(200, "The key as changed."))
        .op(delete("/keys/{id}", revoke_key)
            .summary("Revoke an API key")
            .describe("At once, ending its console sessions. The last admin key cannot be revoked (409).")
            .access(Access::Admin)
            .empty(204, "Revoked.")
            .error(409, "This is the last admin key."))
}

/// `POST /api/keys`: creates a key; the answer carries the key, which is never shown again.
pub(crate) async fn create_key(
    State(state): State<AppState>,
    actor: Actor,
    Body(input): Body<KeyIn>,
) -> AppResult<(StatusCode, Json<KeyCreatedOut>)> {
    Ok((StatusCode::CREATED, Json(keys::create(&state, &actor, input).await?)))
}

/// `GET /api/keys`: the live keys (never their secrets).
pub(crate) async fn list_keys(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Page<ApiKey>>> {
    Ok(Json(Page { data: keys::list(&state, &actor).await?, next_cursor: None }))
}

/// `PATCH /api/keys/{id}`: renames a key or changes its controls.
pub(crate) async fn update_key(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<KeyPatchIn>,
) -> AppResult<Json<ApiKey>> {
    Ok(Json(keys::update(&state, &actor, &id, input).await?))
}

/// `DELETE /api/keys/{id}`: revokes a key at once, ending its console sessions.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    keys::revoke(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
