//! The REST API: one file per resource, each with its own `router()`, all under `/api`.

pub(crate) mod alerts;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod deliveries;
pub(crate) mod event_types;
pub(crate) mod events;
mod export;
pub(crate) mod extract;
mod health;
pub(crate) mod keys;
pub mod openapi;
pub(crate) mod stats;
mod stream;
pub mod traffic;
mod verify;
pub(crate) mod webhook_ops;
pub(crate) mod webhooks;

pub use auth::{session_token as session_token_from, SESSION_COOKIE};

use crate::error::AppError;
use crate::state::AppState;
use axum::http::{Method, Uri};
use axum::{Json, Router};
use openapi::{get, Access, Routes};
use std::sync::OnceLock;

/// Every REST route: `/api/…` plus the health probes, registered from one table that also
/// produces the OpenAPI document served at `/api/openapi.json`.
pub fn router(state: &AppState) -> Router<AppState> {
    let (router, docs) = routes(state.config.max_payload).into_parts();
    DOCUMENT.get_or_init(|| openapi::document(&docs));
    router
}

/// The document, made once from the route table (it is the same for every server in the process).
static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();

/// `GET /api/openapi.json`.
async fn openapi_document() -> Json<serde_json::Value> {
    Json(DOCUMENT.get().cloned().unwrap_or_default())
}

/// The route table (`max_payload` sets the body limit of `POST /api/events`).
pub fn routes(max_payload: usize) -> Routes {
    let api = Routes::new("Operations")
        .op(get("/openapi.json", openapi_document)
            .summary("This OpenAPI document")
            .access(Access::Public)
            .json::<serde_json::Value>(200, "OpenAPI 3.1."))
        .merge(keys::routes())
        .merge(webhooks::routes())
        .merge(webhook_ops::routes())
        .merge(verify::routes())
        .merge(event_types::routes())
        .merge(events::routes(max_payload))
        .merge(deliveries::routes())
        .merge(export::routes())
        .merge(stats::routes())
        .merge(audit::routes())
        .merge(alerts::routes())
        .merge(stream::routes())
        .map_router(|api| api.fallback(unknown_route).method_not_allowed_fallback(unknown_method));
    Routes::nest("/api", api).merge(health::routes())
}

async fn unknown_route(method: Method, uri: Uri) -> AppError {
    AppError::new(axum::http::StatusCode::NOT_FOUND, "not_found", format!("no route {method} {}", uri.path()))
}

async fn unknown_method(method: Method, uri: Uri) -> AppError {
    AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
