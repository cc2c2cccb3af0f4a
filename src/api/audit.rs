//! `GET /api/audit`: the audit log of management actions (admins).

use super::extract::Params;
use super::openapi::{get, Access, Routes};
use crate::domain::{AuditEntry, Page, Principal};
use crate::error::AppResult;
use crate::service::insight;
pub use crate::service::insight::AuditQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;

pub fn routes() -> Routes {
    Routes::new("Insight").op(get("/audit", list_audit)
        .summary("Audit log")
        .describe("Every management action and console login, newest first.")
        .access(Access::Admin)
        .query::<AuditQuery>()
        .json::<Page<AuditEntry>>(200, "A page of the audit log."))
}

/// `GET /api/audit`: newest first; filters `action`, `tenant`, `actorKeyId`, `since`, `until`.
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<AuditQuery>,
) -> AppResult<Json<Page<AuditEntry>>> {
    Ok(Json(insight::audit(&state, &principal, q).await?))
}
