//! `GET /api/audit`: the audit log of management actions (admins).

use super::auth::require_admin;
use super::extract::Params;
use super::params;
use crate::domain::{Page, Principal};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{AuditEntry, AuditFilter};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditQuery {
    action: Option<String>,
    tenant: Option<String>,
    actor_key_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/audit`: newest first; filters `action`, `tenant`, `actorKeyId`, `since`, `until`.
async fn list_audit(
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
