//! `/api/deliveries`: the delivery log, and one delivery with its attempts.

use super::auth::Actor;
use super::extract::Params;
use super::openapi::{get, post, Routes};
use super::params;
use crate::delivery::Restore;
use crate::domain::{Attempt, AttemptResult, AttemptTrigger, Delivery, DeliveryStatus, Page, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::DeliveryFilter;
use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes() -> Routes {
    Routes::new("Deliveries")
        .op(get("/deliveries", list_deliveries)
            .summary("List deliveries")
            .describe("Newest first.")
            .query::<ListQuery>()
            .json::<Page<Delivery>>(200, "A page of the delivery log."))
        .op(get("/deliveries/{id}", get_delivery).summary("Get a delivery with its attempts").json::<DeliveryOut>(
            200,
            "The delivery and every attempt: request and response headers and bodies, timing, error.",
        ))
        .op(post("/deliveries/{id}/retry", retry_delivery)
            .summary("Retry a delivery now")
            .describe("Sends it again at once, whatever its state; a failed retry leaves the delivery as it was.")
            .json::<RetryOut>(200, "The attempt's outcome and the delivery after it.")
            .error(409, "The delivery is being sent right now; try again shortly."))
}

/// The delivery log's filters, shared with the CSV export.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub(crate) webhook_id: Option<String>,
    /// An event type.
    pub(crate) event: Option<String>,
    /// `pending`, `delivering`, `succeeded`, `failed` or `held`.
    #[schemars(extend("enum" = ["", "pending", "delivering", "succeeded", "failed", "held"]))]
    pub(crate) status: Option<String>,
    pub(crate) tenant: Option<String>,
    /// Created at or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub(crate) since: Option<String>,
    /// Created before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub(crate) until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub(crate) limit: Option<u32>,
    pub(crate) cursor: Option<String>,
}

/// A delivery with its attempts.
#[derive(Serialize, JsonSchema)]
pub struct DeliveryOut {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
    /// The body every attempt sent (the same bytes each time); absent once the event is purged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
}

/// `GET /api/deliveries`: a page of the log (`webhookId`, `event`, `status`, `since`, `until`, …).
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<Page<Delivery>>> {
    Ok(Json(state.store.list_deliveries(&q.filter(&principal)?).await?))
}

impl ListQuery {
    /// The store filter these parameters ask for, within what `principal` may see.
    /// The export reads the whole log: it keeps the filters and ignores `limit` and `cursor`.
    pub fn filter(self, principal: &Principal) -> AppResult<DeliveryFilter> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                AppError::validation("status", "status must be pending, delivering, succeeded, failed or held")
            })?),
        };
        Ok(DeliveryFilter {
            scope: principal.scope().map(str::to_string),
            tenant: self.tenant.filter(|t| !t.is_empty()),
            webhook_id: self.webhook_id.filter(|w| !w.is_empty()),
            event: self.event.filter(|e| !e.is_empty()),
            status,
            since: params::time("since", self.since.as_deref())?,
            until: params::time("until", self.until.as_deref())?,
            limit: params::limit(self.limit)?,
            cursor: self.cursor.filter(|c| !c.is_empty()),
        })
    }
}

/// `GET /api/deliveries/{id}`: one delivery and every attempt made for it.
pub(crate) async fn get_delivery(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryOut>> {
    let delivery = state.store.get_delivery(&id, principal.scope()).await?;
    let attempts = state.store.list_attempts(&id).await?;
    let request_body = match state.store.get_event(&delivery.event_id, None).await {
        Ok(e) => Some(crate::delivery::payload::body(
            &e.id,
            &e.event,
            &serde_json::to_string(&e.data)?,
            e.timestamp,
            &delivery.webhook_id,
        )),
        Err(_) => None,
    };
    Ok(Json(DeliveryOut { delivery, attempts, request_body }))
}

/// The answer to a manual retry: the attempt's outcome and the delivery afterwards.
#[derive(Serialize, JsonSchema)]
pub(crate) struct RetryOut {
    pub(crate) attempt: AttemptResult,
    pub(crate) delivery: Delivery,
}

/// `POST /api/deliveries/{id}/retry`: sends the delivery again now, whatever its state, and answers
/// with the outcome. A failed manual retry leaves the delivery as it was (a pending one keeps its
/// schedule); a success marks it succeeded.
pub(crate) async fn retry_delivery(
    State(state): State<AppState>,
    principal: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<RetryOut>> {
    let (due, status, next_attempt_at) =
        state.store.claim_for_retry(&id, principal.scope(), state.engine.lease_ms()).await?;
    let restore = Restore { status, next_attempt_at };
    let (sent, outcome) = state.engine.attempt(&due, AttemptTrigger::Manual, Some(restore)).await;
    state.engine.record(std::slice::from_ref(&outcome)).await?;
    principal.audit(&state, "delivery.retried", Some(&id), Some(&due.tenant)).await;
    let delivery = state.store.get_delivery(&id, principal.scope()).await?;
    Ok(Json(RetryOut { attempt: super::webhook_ops::attempt_result(&due, sent), delivery }))
}
