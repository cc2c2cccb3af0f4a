//! Insight: statistics over a window, the alerts active now, the audit log (admins) — each scoped
//! to what the principal may see.

use super::auth::require_admin;
use super::params;
use crate::domain::{Alert, AuditEntry, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{AttemptSummary, AuditFilter, LatestDelivery, Stats, StatsQuery};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, JsonSchema)]
pub struct StatsParams {
    /// `1h`, `24h` (default) or `7d`.
    #[schemars(extend("enum" = ["", "1h", "24h", "7d"]))]
    pub window: Option<String>,
    pub tenant: Option<String>,
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

/// Everything the principal can see (admins may pick a `tenant`).
pub async fn stats(state: &AppState, principal: &Principal, p: StatsParams) -> AppResult<Stats> {
    let (window_ms, bucket_ms) = window(p.window.as_deref())?;
    let query = StatsQuery {
        scope: principal.scope().map(str::to_string),
        tenant: p.tenant.filter(|t| !t.is_empty()),
        webhook_id: None,
        window_ms,
        bucket_ms,
    };
    Ok(state.store.stats(&query).await?)
}

/// One webhook's statistics.
pub async fn webhook_stats(state: &AppState, principal: &Principal, id: &str, p: StatsParams) -> AppResult<Stats> {
    let (window_ms, bucket_ms) = window(p.window.as_deref())?;
    state.store.get_webhook(id, principal.scope()).await?;
    let query = StatsQuery {
        scope: principal.scope().map(str::to_string),
        tenant: None,
        webhook_id: Some(id.to_string()),
        window_ms,
        bucket_ms,
    };
    Ok(state.store.stats(&query).await?)
}

/// The alerts active now: admins see the platform (or one `tenant`), tenants their own.
pub async fn alerts(state: &AppState, principal: &Principal, tenant: Option<String>) -> AppResult<Vec<Alert>> {
    let scope = principal.scope().map(str::to_string).or(tenant.filter(|t| !t.is_empty()));
    state.alerts.current(&state.store, &state.config.alerts, scope.as_deref()).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    pub action: Option<String>,
    pub tenant: Option<String>,
    pub actor_key_id: Option<String>,
    /// At or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub since: Option<String>,
    /// Before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A page of the audit log, newest first (admins).
pub async fn audit(state: &AppState, principal: &Principal, q: AuditQuery) -> AppResult<Page<AuditEntry>> {
    require_admin(principal)?;
    let filter = AuditFilter {
        action: q.action.filter(|a| !a.is_empty()),
        tenant: q.tenant.filter(|t| !t.is_empty()),
        actor_key_id: q.actor_key_id.filter(|a| !a.is_empty()),
        since: params::time("since", q.since.as_deref())?,
        until: params::time("until", q.until.as_deref())?,
        limit: params::limit(q.limit)?,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    Ok(state.store.list_audit(&filter).await?)
}

/// Per webhook of `ids` (which the caller may see): its attempts over the last 24 hours, hour by
/// hour, and its latest delivery.
pub async fn webhook_health(
    state: &AppState,
    principal: &Principal,
    ids: &[String],
) -> AppResult<(BTreeMap<String, AttemptSummary>, Vec<LatestDelivery>)> {
    let scope = principal.scope().map(str::to_string);
    let query =
        StatsQuery { scope: scope.clone(), tenant: None, webhook_id: None, window_ms: 24 * HOUR, bucket_ms: HOUR };
    Ok(futures::try_join!(
        state.store.attempts_by_webhook(&query, ids, chrono::Utc::now().timestamp_millis()),
        state.store.latest_deliveries(ids, scope.as_deref())
    )?)
}

/// Does the database answer (`/readyz`)?
pub async fn ready(state: &AppState) -> bool {
    state.store.ping().await
}

/// The `/metrics` text: this process's counters, the queue depth and the disabled webhooks.
pub async fn metrics(state: &AppState) -> AppResult<String> {
    let queue = state.store.queue_depth().await?;
    let disabled = state.store.disabled_webhooks().await?;
    Ok(state.metrics.render(&queue, disabled, state.store.activity()))
}
