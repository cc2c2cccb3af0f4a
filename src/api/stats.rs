//! `GET /api/stats` and `GET /api/webhooks/{id}/stats`: rates, latency, queue size, event
//! distribution and a time series, over `window=1h|24h|7d` (default 24h).

use super::extract::Params;
use super::openapi::{get, Routes};
use crate::domain::Principal;
use crate::domain::Stats;
use crate::error::AppResult;
use crate::service::insight;
pub use crate::service::insight::StatsParams;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;

pub fn routes() -> Routes {
    Routes::new("Insight")
        .op(get("/stats", platform_stats)
            .summary("Delivery statistics")
            .describe("Rates, latency, queue size, event distribution and a time series over the window, for what the key can see.")
            .query::<StatsParams>()
            .json::<Stats>(200, "The statistics."))
        .op(get("/webhooks/{id}/stats", webhook_stats)
            .summary("One webhook's statistics")
            .query::<StatsParams>()
            .json::<Stats>(200, "The statistics."))
}

/// `GET /api/stats`: everything the caller can see (admins may pick a `tenant`).
pub(crate) async fn platform_stats(
    State(state): State<AppState>,
    principal: Principal,
    Params(p): Params<StatsParams>,
) -> AppResult<Json<Stats>> {
    Ok(Json(insight::stats(&state, &principal, p).await?))
}

/// `GET /api/webhooks/{id}/stats`: one webhook's.
pub(crate) async fn webhook_stats(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Params(p): Params<StatsParams>,
) -> AppResult<Json<Stats>> {
    Ok(Json(insight::webhook_stats(&state, &principal, &id, p).await?))
}
