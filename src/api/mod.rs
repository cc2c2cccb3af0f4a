//! The REST API: one file per resource, each with its own `router()`, all under `/api`.

mod alerts;
mod audit;
mod auth;
mod deliveries;
mod event_types;
mod events;
mod export;
mod extract;
mod health;
mod keys;
mod params;
mod stats;
mod stream;
mod verify;
mod webhook_ops;
mod webhooks;

pub use auth::{session_token as session_token_from, SESSION_COOKIE};

use crate::error::AppError;
use crate::state::AppState;
use axum::http::{Method, Uri};
use axum::Router;

/// Every REST route: `/api/…` plus the health probes.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .merge(keys::router())
        .merge(webhooks::router())
        .merge(webhook_ops::router())
        .merge(verify::router())
        .merge(event_types::router())
        .merge(events::router(state))
        .merge(deliveries::router())
        .merge(export::router())
        .merge(stats::router())
        .merge(audit::router())
        .merge(alerts::router())
        .merge(stream::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_method);
    Router::new().nest("/api", api).merge(health::router())
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
