//! `/api/webhooks`: register, list, read (secret masked), update and delete webhooks (the rules are
//! in `service::webhooks`).

use super::auth::Actor;
use super::extract::{Body, Params};
use super::openapi::{delete, get, patch, post, Routes};
use crate::domain::{Page, Principal, Webhook};
use crate::error::AppResult;
use crate::service::webhooks::{self, ListQuery, WebhookIn, WebhookPatchIn};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

pub fn routes() -> Routes {
    Routes::new("Webhooks")
        .op(get("/webhooks", list_webhooks)
            .summary("List webhooks")
            .query::<ListQuery>()
            .json::<Page<Webhook>>(200, "A page of webhooks, secrets masked."))
        .op(post("/webhooks", create_webhook)
            .summary("Register a webhook")
            .describe("The answer is the only one that shows a generated secret without asking for it.")
            .body::<WebhookIn>()
            .json::<Webhook>(201, "The webhook, with its secret."))
        .op(get("/webhooks/{id}", get_webhook)
            .summary("Get a webhook")
            .json::<Webhook>(200, "The webhook, secret masked."))
        .op(patch("/webhooks/{id}", update_webhook)
            .summary("Update a webhook")
            .describe("Changes the given fields only. Disabling holds its pending deliveries; enabling resumes them.")
            .body::<WebhookPatchIn>()
            .json::<Webhook>(200, "The updated webhook, secret masked."))
        .op(delete("/webhooks/{id}", delete_webhook)
            .summary("Delete a webhook")
            .describe("Deletes the webhook with its deliveries and their attempts (its delivery log).")
            .empty(204, "Deleted."))
}

/// `POST /api/webhooks`: registers a webhook; the answer is the only one that shows a generated secret
/// without asking for it.
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Body(input): Body<WebhookIn>,
) -> AppResult<(StatusCode, Json<Webhook>)> {
    Ok((StatusCode::CREATED, Json(webhooks::create(&state, &actor, input).await?)))
}

/// `GET /api/webhooks`: a page of webhooks (`search`, `status`, `event`, `tenant`, `limit`, `cursor`).
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<Page<Webhook>>> {
    Ok(Json(webhooks::list(&state, &principal, q).await?))
}

/// `GET /api/webhooks/{id}`: one webhook, secret masked.
pub(crate) async fn get_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhooks::get(&state, &principal, &id).await?))
}

/// `PATCH /api/webhooks/{id}`: changes the given fields only.
pub(crate) async fn update_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<WebhookPatchIn>,
) -> AppResult<Json<Webhook>> {
    Ok(Json(webhooks::update(&state, &actor, &id, input).await?))
}

/// `DELETE /api/webhooks/{id}`: removes the webhook with its delivery log.
pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    webhooks::delete(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
