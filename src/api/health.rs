//! Operations: `/healthz` (the process answers), `/readyz` (the database answers too) and
//! `/metrics` (Prometheus text format, no key needed: no tenant data in it).

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// `GET /healthz`: 200 while the process serves requests.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /readyz`: 200 when the database answers, 503 otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.store.ping().await {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": "database" })))
    }
}

/// `GET /metrics`: this process's counters and histograms, the queue depth and disabled webhooks.
async fn metrics(
    State(state): State<AppState>,
) -> crate::error::AppResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let queue = state.store.queue_depth().await?;
    let disabled = state.store.disabled_webhooks().await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(&queue, disabled)))
}
