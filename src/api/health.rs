//! Health probes: `/healthz` (the process answers) and `/readyz` (the database answers too).

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
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
