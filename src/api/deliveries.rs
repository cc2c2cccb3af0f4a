//! `/api/deliveries`: the delivery log, one delivery with its attempts, retries (the rules are in
//! `service::deliveries`).

use super::auth::Actor;
use super::extract::{Body, Params};
use super::openapi::{get, post, Routes};
use crate::domain::{Delivery, Page, Principal};
use crate::error::AppResult;
pub use crate::service::deliveries::ListQuery;
use crate::service::deliveries::{self, DeliveryOut, RetryFailedIn, RetryOut};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

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
        .op(post("/deliveries/retry-failed", retry_failed)
            .summary("Retry failed deliveries in bulk")
            .describe(
                "Queues again every failed delivery the filters select (those of a webhook that is off are \
                 held until it is switched on). The filters are the delivery log's; `dryRun` only counts.",
            )
            .body::<RetryFailedIn>()
            .json::<RetriedOut>(200, "How many deliveries were (or, with dryRun, would be) queued again."))
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RetriedOut {
    /// Deliveries queued again (with `dryRun`: that would be).
    retried: u64,
    /// Of those, the ones only held, because their webhook is off: they go when it is switched on.
    held: u64,
    dry_run: bool,
}

/// `POST /api/deliveries/retry-failed`: queues again the failed deliveries the filters select.
async fn retry_failed(
    State(state): State<AppState>,
    actor: Actor,
    Body(input): Body<RetryFailedIn>,
) -> AppResult<Json<RetriedOut>> {
    let dry_run = input.dry_run;
    let done = deliveries::retry_failed(&state, &actor, input).await?;
    Ok(Json(RetriedOut { retried: done.total, held: done.held, dry_run }))
}

/// `GET /api/deliveries`: a page of the log (`webhookId`, `event`, `status`, `since`, `until`, …).
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<Page<Delivery>>> {
    Ok(Json(deliveries::list(&state, &principal, q).await?))
}

/// `GET /api/deliveries/{id}`: one delivery and every attempt made for it.
pub(crate) async fn get_delivery(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryOut>> {
    Ok(Json(deliveries::get(&state, &principal, &id).await?))
}

/// `POST /api/deliveries/{id}/retry`: sends the delivery again now and answers with the outcome.
pub(crate) async fn retry_delivery(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> AppResult<Json<RetryOut>> {
    Ok(Json(deliveries::retry(&state, &actor, &id).await?))
}
