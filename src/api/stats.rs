//! `GET /api/stats` and `GET /api/webhooks/{id}/stats`: rates, latency, queue size, event
//! distribution and a time series, over `window=1h|24h|7d` (default 24h).

use super::extract::Params;
use super::openapi::{get, Routes};
use crate::domain::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{Stats, StatsQuery};
use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

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

#[derive(Deserialize, JsonSchema)]
pub(crate) struct StatsParams {
    /// `1h`, `24h` (default) or `7d`.
    #[schemars(extend("enum" = ["", "1h", "24h", "7d"]))]
    pub(crate) window: Option<String>,
    pub(crate) tenant: Option<String>,
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// (window, bucket) in ms for a window name.
fn window(name: Option<&str>) -> AppResult<(i64, i64)> {
    match name.filter(|n| !n.is_empty()).unwrap_or("24h") {
        "1h" => Ok((HOUR, 5 * MINUTE)),
        "24h" => Ok((24 * HOUR, HOUR)),
        "7d" => Ok((7 * 24 * HOUR, 6 * HOUR)),
        _ => Err(AppError::validation("window", "window must be 1h, 24h or 7d")),
    }
}

/// `GET /api/stats`: everything the caller can see (admins may pick a `tenant`).
pub(crate) async fn platform_stats(
    State(state): State<AppState>,
    principal: Principal,
    Params(p): Params<StatsParams>,
) -> AppResult<Json<Stats>> {
    let (window_ms, bucket_ms) = window(p.window.as_deref())?;
    let query = StatsQuery {
        scope: principal.scope().map(str::to_string),
        tenant: p.tenant.filter(|t| !t.is_empty()),
        webhook_id: None,
        window_ms,
        bucket_ms,
    };
    Ok(Json(state.store.stats(&query).await?))
}

/// `GET /api/webhooks/{id}/stats`: one webhook's.
pub(crate) async fn webhook_stats(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Params(p): Params<StatsParams>,
) -> AppResult<Json<Stats>> {
    let (window_ms, bucket_ms) = window(p.window.as_deref())?;
    state.store.get_webhook(&id, principal.scope()).await?;
    let query = StatsQuery {
        scope: principal.scope().map(str::to_string),
        tenant: None,
        webhook_id: Some(id),
        window_ms,
        bucket_ms,
    };
    Ok(Json(state.store.stats(&query).await?))
}
