//! Deliveries: the log (filtered, scoped to what the principal may see), one delivery with its
//! attempts, and a manual retry.

use super::params;
use super::Actor;
use crate::delivery::Restore;
use crate::domain::{Attempt, AttemptResult, AttemptTrigger, Delivery, DeliveryStatus, Page, Principal, Requeued};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{DeliveryFilter, LastAttempt, StoreResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The delivery log's filters, shared with the CSV export.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub webhook_id: Option<String>,
    /// An event's id (`evt_…`): where that event went.
    pub event_id: Option<String>,
    /// An event type.
    pub event: Option<String>,
    /// `pending`, `delivering`, `succeeded`, `failed` or `held`.
    #[schemars(extend("enum" = ["", "pending", "delivering", "succeeded", "failed", "held"]))]
    pub status: Option<String>,
    pub tenant: Option<String>,
    /// Created at or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub since: Option<String>,
    /// Created before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub until: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
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
            event_id: self.event_id.filter(|e| !e.is_empty()),
            event: self.event.filter(|e| !e.is_empty()),
            status,
            since: params::time("since", self.since.as_deref())?,
            until: params::time("until", self.until.as_deref())?,
            limit: params::limit(self.limit)?,
            cursor: self.cursor.filter(|c| !c.is_empty()),
        })
    }
}

/// The answer to a manual retry: the attempt's outcome and the delivery afterwards.
#[derive(Serialize, JsonSchema)]
pub struct RetryOut {
    pub attempt: AttemptResult,
    pub delivery: Delivery,
}

/// A page of the delivery log.
pub async fn list(state: &AppState, principal: &Principal, q: ListQuery) -> AppResult<Page<Delivery>> {
    let mut page = state.store.list_deliveries(&q.filter(principal)?).await?;
    mark_waiting(state, &mut page.data).await?;
    Ok(page)
}

/// Marks the pending deliveries of FIFO webhooks that wait behind an earlier one.
pub async fn mark_waiting(state: &AppState, deliveries: &mut [Delivery]) -> AppResult<()> {
    let mut hooks: Vec<String> =
        deliveries.iter().filter(|d| d.status == DeliveryStatus::Pending).map(|d| d.webhook_id.clone()).collect();
    hooks.sort();
    hooks.dedup();
    let heads: std::collections::HashMap<String, String> = state.store.fifo_heads(&hooks).await?.into_iter().collect();
    for d in deliveries.iter_mut().filter(|d| d.status == DeliveryStatus::Pending) {
        d.waiting_behind = heads.get(&d.webhook_id).filter(|head| **head != d.id).cloned();
    }
    Ok(())
}

/// One page of the CSV export (from `filter.cursor` on): its deliveries and each one's last attempt.
/// Store errors as they are: the export ends with their text.
pub async fn export_page(
    state: &AppState,
    filter: &DeliveryFilter,
    limit: i64,
) -> StoreResult<(Page<Delivery>, HashMap<String, LastAttempt>)> {
    let page = state.store.page_of_deliveries(filter, limit).await?;
    let ids: Vec<String> = page.data.iter().map(|d| d.id.clone()).collect();
    let last = state.store.last_attempts(&ids).await?;
    Ok((page, last))
}

/// How many deliveries the log's filters select, counted up to `cap`.
pub async fn count(state: &AppState, principal: &Principal, q: ListQuery, cap: i64) -> AppResult<i64> {
    Ok(state.store.count_deliveries(&q.filter(principal)?, cap).await?)
}

/// One delivery, every attempt made for it, and the body they sent (while the event is kept).
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> AppResult<DeliveryOut> {
    let mut delivery = state.store.get_delivery(id, principal.scope()).await?;
    mark_waiting(state, std::slice::from_mut(&mut delivery)).await?;
    let attempts = state.store.list_attempts(id).await?;
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
    Ok(DeliveryOut { delivery, attempts, request_body })
}

/// Sends the delivery again now, whatever its state, and answers with the outcome. A failed manual
/// retry leaves the delivery as it was (a pending one keeps its schedule); a success marks it
/// succeeded.
pub async fn retry(state: &AppState, actor: &Actor, id: &str) -> AppResult<RetryOut> {
    let (due, status, next_attempt_at) =
        state.store.claim_for_retry(id, actor.scope(), state.engine.lease_ms()).await?;
    let restore = Restore { status, next_attempt_at };
    let (sent, outcome) = state.engine.attempt(&due, AttemptTrigger::Manual, Some(restore)).await;
    state.engine.record(std::slice::from_ref(&outcome)).await?;
    actor.audit(state, "delivery.retried", Some(id), Some(&due.tenant)).await;
    let delivery = state.store.get_delivery(id, actor.scope()).await?;
    Ok(RetryOut { attempt: super::webhook_ops::attempt_result(&due, sent), delivery })
}

/// Which failed deliveries to queue again: the delivery log's filters (without status, paging).
#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryFailedIn {
    pub webhook_id: Option<String>,
    /// An event type.
    pub event: Option<String>,
    pub tenant: Option<String>,
    /// Created at or after: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub since: Option<String>,
    /// Created before: RFC 3339 or unix milliseconds.
    #[schemars(extend("anyOf" = [{"format": "date-time"}, {"pattern": "^-?[0-9]{1,15}$"}, {"maxLength": 0}]))]
    pub until: Option<String>,
    /// Count only; queue nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Queues again every failed delivery the filters select (held where its webhook is off); only
/// counts with `dryRun`. Answers how many, and how many of them are only held.
pub async fn retry_failed(state: &AppState, actor: &Actor, input: RetryFailedIn) -> AppResult<Requeued> {
    let dry_run = input.dry_run;
    let query = ListQuery {
        webhook_id: input.webhook_id,
        event_id: None,
        event: input.event,
        status: None,
        tenant: input.tenant,
        since: input.since,
        until: input.until,
        limit: None,
        cursor: None,
    };
    let filter = query.filter(&actor.principal)?;
    let count = state.store.requeue_failed(&filter, dry_run).await?;
    if !dry_run {
        let tenant = filter.scope.as_deref().or(filter.tenant.as_deref());
        actor.audit(state, "deliveries.retried", filter.webhook_id.as_deref(), tenant).await;
    }
    Ok(count)
}
