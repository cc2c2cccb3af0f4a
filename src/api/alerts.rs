//! `GET /api/alerts`: the alerts active now for what the caller can see.

use super::extract::Params;
use super::openapi::{get, Routes};
use crate::domain::{Alert, Principal};
use crate::error::AppResult;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes() -> Routes {
    Routes::new("Insight").op(get("/alerts", list_alerts)
        .summary("Active alerts")
        .describe("Low success rate, long queue, slow receivers, disabled webhooks; each start and clear is also published as a `system.alert` event.")
        .query::<AlertsQuery>()
        .json::<AlertList>(200, "The alerts active now."))
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct AlertList {
    pub(crate) data: Vec<Alert>,
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct AlertsQuery {
    pub(crate) tenant: Option<String>,
}

/// `GET /api/alerts`: `{data: [{level, kind, subject, message, since}]}`; admins see the platform (or
/// one `tenant`), tenants their own.
pub(crate) async fn list_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<AlertsQuery>,
) -> AppResult<Json<AlertList>> {
    Ok(Json(AlertList { data: crate::service::insight::alerts(&state, &principal, q.tenant).await? }))
}
