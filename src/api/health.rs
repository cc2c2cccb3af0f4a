//! Operations: `/healthz` (the process answers), `/readyz` (the database answers too) and
//! `/metrics` (Prometheus text format, no key needed: no tenant data in it).

use super::openapi::{get, Access, Routes};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

pub fn routes() -> Routes {
    Routes::new("Operations")
        .op(get("/healthz", healthz)
            .summary("Liveness")
            .access(Access::Public)
            .json::<Health>(200, "The process serves requests."))
        .op(get("/readyz", readyz)
            .summary("Readiness")
            .access(Access::Public)
            .json::<Health>(200, "The database answers.")
            .json::<Health>(503, "The database does not answer."))
        .op(get("/metrics", metrics).summary("Prometheus metrics").access(Access::Public).text(
            200,
            "text/plain",
            "Prometheus text format 0.0.4.",
        ))
}

/// A probe's answer.
#[derive(Serialize, JsonSchema)]
struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// `GET /healthz`: 200 while the process serves requests.
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", version: Some(env!("CARGO_PKG_VERSION")), reason: None })
}

/// `GET /readyz`: 200 when the database answers, 503 otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if crate::service::insight::ready(&state).await {
        (StatusCode::OK, Json(Health { status: "ready", version: None, reason: None }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health { status: "unavailable", version: None, reason: Some("database") }),
        )
    }
}

/// `GET /metrics`: this process's counters and histograms, the queue depth and disabled webhooks.
async fn metrics(
    State(state): State<AppState>,
) -> crate::error::AppResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let text = crate::service::insight::metrics(&state).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}
