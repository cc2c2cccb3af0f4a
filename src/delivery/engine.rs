//! The engine: sends one attempt, decides what follows from the retry policy, records outcomes, and
//! announces webhooks it had to disable. Shared by the workers and the test and retry endpoints.

use super::retry::{Decision, RetryPolicy};
use super::sender::{self, Sent};
use super::ssrf::IpPolicy;
use crate::config::Config;
use crate::domain::{AlertLevel, AttemptTrigger, DeliveryStatus, SystemAlert};
use crate::error::AppResult;
use crate::live::LiveFeed;
use crate::metrics::Metrics;
use crate::store::{AttemptOutcome, Disabled, DueDelivery, Store};
use rand::Rng;
use std::sync::Arc;

/// Handle to the delivery engine (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    metrics: Arc<Metrics>,
    live: Arc<LiveFeed>,
    client: reqwest::Client,
    policy: Arc<IpPolicy>,
    retry: RetryPolicy,
    allow_http: bool,
    max_failures: i64,
    lease_ms: i64,
}

/// For a manual retry: the state to return to if it fails.
#[derive(Debug, Clone, Copy)]
pub struct Restore {
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<i64>,
}

impl Engine {
    pub fn new(
        store: Store,
        config: &Config,
        policy: Arc<IpPolicy>,
        metrics: Arc<Metrics>,
        live: Arc<LiveFeed>,
    ) -> Self {
        let client = super::client::build(config, policy.clone());
        Engine {
            inner: Arc::new(Inner {
                store,
                metrics,
                live,
                client,
                policy,
                retry: RetryPolicy::from_config(config),
                allow_http: config.allow_http,
                max_failures: config.max_failures as i64,
                // Renewed while this process lives (see `worker`): a dead node's deliveries return after it.
                lease_ms: super::worker::LEASE.as_millis() as i64,
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// How long a claim holds a delivery.
    pub fn lease_ms(&self) -> i64 {
        self.inner.lease_ms
    }

    /// Sends one attempt and works out the delivery's next state.
    /// `restore` is given for manual retries: a failure returns the delivery to that state.
    pub async fn attempt(
        &self,
        due: &DueDelivery,
        trigger: AttemptTrigger,
        restore: Option<Restore>,
    ) -> (Sent, AttemptOutcome) {
        let sent = sender::send(&self.inner.client, &self.inner.policy, self.inner.allow_http, due).await;
        self.inner.metrics.attempt(sent.error_kind, sent.duration_ms);
        let number = due.attempts + 1;
        let decision =
            self.inner.retry.decide(number as usize, sent.status, sent.retry_after, rand::thread_rng().gen());
        let gone = decision == Decision::Gone;
        let (status, next_attempt_at) = match (trigger, decision, restore) {
            (_, Decision::Delivered, _) => (DeliveryStatus::Succeeded, None),
            (AttemptTrigger::Scheduled, Decision::RetryIn(delay), _) => {
                (DeliveryStatus::Pending, Some(sent.started_at.timestamp_millis() + delay.as_millis() as i64))
            }
            (AttemptTrigger::Manual, _, Some(back)) if !gone => (back.status, back.next_attempt_at),
            _ => (DeliveryStatus::Failed, None),
        };
        let outcome = AttemptOutcome {
            delivery_id: due.delivery_id.clone(),
            webhook_id: due.webhook_id.clone(),
            tenant: due.tenant.clone(),
            event: due.event.clone(),
            attempt: number,
            trigger,
            started_at: sent.started_at,
            duration_ms: sent.duration_ms,
            request_headers: sent.request_headers.clone(),
            response_status: sent.status,
            response_headers: sent.response_headers.clone(),
            response_body: sent.response_body.clone(),
            error_kind: sent.error_kind,
            error: sent.error.clone(),
            status,
            next_attempt_at,
            counts_for_health: trigger == AttemptTrigger::Scheduled,
            gone,
            lane: due.lane.is_some(),
        };
        (sent, outcome)
    }

    /// Stores outcomes; webhooks disabled by them are announced with a `system.alert` event.
    pub async fn record(&self, outcomes: &[AttemptOutcome]) -> AppResult<()> {
        let disabled = self.inner.store.record_outcomes(outcomes, self.inner.max_failures).await?;
        for o in outcomes {
            let data = serde_json::json!({
                "deliveryId": o.delivery_id,
                "webhookId": o.webhook_id,
                "event": o.event,
                "attempt": o.attempt,
                "trigger": o.trigger,
                "status": o.status,
                "responseStatus": o.response_status,
                "durationMs": o.duration_ms,
                "errorKind": o.error_kind,
                "at": crate::delivery::payload::iso(o.started_at),
            });
            self.inner.live.send("attempt", &o.tenant, data);
        }
        for d in disabled {
            self.announce(d).await;
        }
        Ok(())
    }

    /// Publishes a `system.alert` to the disabled webhook's tenant (its other webhooks subscribed to
    /// `system.alert` carry it on, e.g. to a chat channel or a pager).
    async fn announce(&self, d: Disabled) {
        tracing::warn!(webhook_id = %d.webhook_id, tenant = %d.tenant, reason = %d.reason, "webhook disabled");
        let engine = crate::domain::Principal::system("delivery engine");
        let audited =
            self.inner.store.audit(&engine, None, "webhook.auto_disabled", Some(&d.webhook_id), Some(&d.tenant));
        if let Err(e) = audited.await {
            tracing::error!(error = %e, webhook_id = %d.webhook_id, "the automatic disable was not audited");
        }
        let alert = SystemAlert {
            kind: "webhook_disabled".into(),
            alert: "webhook_disabled".into(),
            level: Some(AlertLevel::Warning),
            message: format!("Webhook {} was disabled: {}", d.url, d.reason),
            tenant: d.tenant,
            webhook_id: Some(d.webhook_id),
            url: Some(d.url),
            reason: Some(d.reason),
            consecutive_failures: Some(d.consecutive_failures),
        };
        crate::alerts::announce(&self.inner.store, alert).await;
    }
}
