//! `GET /api/audit`: the audit log of management actions (admins).

use super::auth::require_admin;
use super::extract::Params;
use super::openapi::{get, Access, Routes};
use super::params;
use crate::domain::{Page, Principal};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{AuditEntry, AuditFilter};
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new("Insight").op(get("/audit", list_audit)
        .summary("Audit log")
        .describe("Every management action and console login, newest first.")
        .access(Access::Admin)
        .query::<AuditQuery>()
        .json::<Page<AuditEntry>>(200, "A page of the audit log."))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditQuery {
    pub(crate) action: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) actor_key_id: Option<String>,
    /// At or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub(crate) since: Option<String>,
    /// Before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub(crate) until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub(crate) limit: Option<u32>,
    pub(crate) cursor: Option<String>,
}

/// `GET /api/audit`: newest first; filters `action`, `tenant`, `actorKeyId`, `since`, `until`.
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<AuditQuery>,
) -> AppResult<Json<Page<AuditEntry>>> {
    require_admin(&principal)?;
    let filter = AuditFilter {
        action: q.action.filter(|a| !a.is_empty()),
        tenant: q.tenant.filter(|t| !t.is_empty()),
        actor_key_id: q.actor_key_id.filter(|a| !a.is_empty()),
        since: params::time("since", q.since.as_deref())?,
        until: params::time("until", q.until.as_deref())?,
        limit: params::limit(q.limit)?,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    Ok(Json(state.store.list_audit(&filter).await?))
}
