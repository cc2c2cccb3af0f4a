//! `GET /api/alerts`: the alerts active now for what the caller can see.

use super::extract::Params;
use crate::domain::{Alert, Principal};
use crate::error::AppResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/alerts", get(list_alerts))
}

#[derive(Deserialize)]
struct AlertsQuery {
    tenant: Option<String>,
}

/// `GET /api/alerts`: `{data: [{level, kind, subject, message, since}]}`; admins see the platform (or
/// one `tenant`), tenants their own.
async fn list_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<AlertsQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let scope = principal.scope().map(str::to_string).or(q.tenant.filter(|t| !t.is_empty()));
    let alerts: Vec<Alert> = state.alerts.current(&state.store, &state.config.alerts, scope.as_deref()).await?;
    Ok(Json(serde_json::json!({ "data": alerts })))
}
