//! Alerts: the seed's thresholds applied to live statistics, remembered between evaluations so each
//! has a start time, and announced as `system.alert` events to the tenant when they start or clear.

use crate::config::AlertConfig;
use crate::domain::{Alert, AlertLevel, SystemAlert, Webhook};
use crate::error::AppResult;
use crate::store::{NewEvent, Stats, StatsQuery, Store, WebhookFilter};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Applies the thresholds to one subject's statistics (pure).
pub fn evaluate(cfg: &AlertConfig, subject: &str, stats: &Stats, now: DateTime<Utc>) -> Vec<Alert> {
    let mut out = Vec::new();
    let alert = |level, kind: &str, message: String| Alert {
        level,
        kind: kind.into(),
        subject: subject.into(),
        message,
        since: now,
    };
    if let Some(rate) = stats.success_rate.filter(|_| stats.attempts >= cfg.min_attempts) {
        let level = if rate < cfg.success_critical {
            Some(AlertLevel::Critical)
        } else if rate < cfg.success_warning {
            Some(AlertLevel::Warning)
        } else {
            None
        };
        if let Some(level) = level {
            out.push(alert(
                level,
                "success_rate",
                format!("success rate {:.1} % over {} attempts", rate * 100.0, stats.attempts),
            ));
        }
    }
    if stats.queue_size > cfg.queue_warning {
        out.push(alert(AlertLevel::Warning, "queue_size", format!("{} deliveries waiting", stats.queue_size)));
    }
    if let Some(avg) =
        stats.avg_response_ms.filter(|a| *a > cfg.latency_warning_ms && stats.attempts >= cfg.min_attempts)
    {
        out.push(alert(AlertLevel::Warning, "latency", format!("average response time {avg:.0} ms")));
    }
    out
}

/// One alert per webhook that is off or paused: a notice while nothing waits for it, a warning once
/// deliveries are held for it (they are not delivered until it is switched on or resumed).
fn disabled_notices(hooks: &[Webhook], held: &HashMap<String, i64>) -> Vec<Alert> {
    hooks
        .iter()
        .map(|w| {
            let name = crate::domain::webhook_name(&w.url, &w.description);
            let state = if w.paused {
                "is paused".to_string()
            } else {
                format!("is disabled: {}", w.disabled_reason.as_deref().unwrap_or("switched off"))
            };
            let waiting = held.get(&w.id).copied().unwrap_or(0);
            let (level, message) = match waiting {
                0 => (AlertLevel::Notice, format!("{name} {state}")),
                1 => (AlertLevel::Warning, format!("{name} {state}; 1 delivery is held for it")),
                n => (AlertLevel::Warning, format!("{name} {state}; {n} deliveries are held for it")),
            };
            Alert { level, kind: "webhook_disabled".into(), subject: w.id.clone(), message, since: w.updated_at }
        })
        .collect()
}

/// Evaluates alerts and announces their changes. Which alerts are on, and since when, is kept in
/// the database: with several nodes, the one leading the `alerts` job announces each change once,
/// and any node shows the same start times.
pub struct AlertMonitor {
    live: std::sync::Arc<crate::live::LiveFeed>,
}

/// The alerts that are on: (kind, subject) → start.
type Started = HashMap<(String, String), DateTime<Utc>>;

async fn started(store: &Store) -> AppResult<Started> {
    Ok(store
        .alert_state()
        .await?
        .into_iter()
        .map(|(subject, kind, since)| ((kind, subject), crate::store::to_time(since)))
        .collect())
}

impl AlertMonitor {
    pub fn new(live: std::sync::Arc<crate::live::LiveFeed>) -> Self {
        AlertMonitor { live }
    }

    /// The alerts of `scope` (a tenant) or of the whole platform (`None`), with their start times.
    pub async fn current(&self, store: &Store, cfg: &AlertConfig, scope: Option<&str>) -> AppResult<Vec<Alert>> {
        let now = Utc::now();
        let subject = scope.map_or("platform".to_string(), |t| format!("tenant:{t}"));
        let stats = store.stats(&query(cfg, scope)).await?;
        let mut alerts = evaluate(cfg, &subject, &stats, now);
        let started = started(store).await?;
        for a in &mut alerts {
            if let Some(since) = started.get(&a.key()) {
                a.since = *since;
            }
        }
        let filter = WebhookFilter {
            scope: scope.map(str::to_string),
            active: Some(false),
            limit: Some(200),
            ..Default::default()
        };
        let held: HashMap<String, i64> = store.held_by_webhook(scope).await?.into_iter().collect();
        alerts.extend(disabled_notices(&store.list_webhooks(&filter).await?.data, &held));
        Ok(alerts)
    }

    /// Evaluates every tenant; announces alerts that started or cleared since the last round.
    pub async fn evaluate_tenants(&self, store: &Store, cfg: &AlertConfig) -> AppResult<()> {
        let now = Utc::now();
        let mut started = started(store).await?;
        for tenant in store.tenants_with_webhooks().await? {
            let subject = format!("tenant:{tenant}");
            let stats = store.stats(&query(cfg, Some(&tenant))).await?;
            let alerts = evaluate(cfg, &subject, &stats, now);
            let raised: Vec<Alert> = alerts.iter().filter(|a| !started.contains_key(&a.key())).cloned().collect();
            let cleared: Vec<(String, String)> =
                started.keys().filter(|k| k.1 == subject && !alerts.iter().any(|a| a.key() == **k)).cloned().collect();
            if raised.is_empty() && cleared.is_empty() {
                continue;
            }
            for a in &raised {
                started.insert(a.key(), a.since);
            }
            for k in &cleared {
                started.remove(k);
            }
            // Stored before announced: a node that takes over next round announces nothing twice.
            let on: Vec<(String, String, i64)> =
                raised.iter().map(|a| (a.subject.clone(), a.kind.clone(), a.since.timestamp_millis())).collect();
            let off: Vec<(String, String)> =
                cleared.iter().map(|(kind, subject)| (subject.clone(), kind.clone())).collect();
            store.save_alert_state(&on, &off).await?;
            for a in raised {
                self.live.send("alert", &tenant, serde_json::json!({ "change": "raised", "alert": a }));
                announce(store, evaluated(&tenant, "alert_raised", &a.kind, a.message.clone(), Some(a.level))).await;
            }
            for (kind, _) in cleared {
                self.live.send("alert", &tenant, serde_json::json!({ "change": "cleared", "kind": kind }));
                let message = format!("{kind} is back to normal");
                announce(store, evaluated(&tenant, "alert_cleared", &kind, message, None)).await;
            }
        }
        Ok(())
    }
}

fn query(cfg: &AlertConfig, scope: Option<&str>) -> StatsQuery {
    let window_ms = cfg.window.as_millis() as i64;
    StatsQuery { scope: scope.map(str::to_string), tenant: None, webhook_id: None, window_ms, bucket_ms: window_ms }
}

/// Publishes a `system.alert` event to the alert's tenant (its webhooks subscribed to `system.alert`
/// carry it on, e.g. to a chat channel or a pager). The one place such events are made.
pub async fn announce(store: &Store, alert: SystemAlert) {
    let event = NewEvent {
        tenant: Some(alert.tenant.clone()),
        event: "system.alert".into(),
        data: serde_json::to_string(&alert).expect("an alert serialises"),
        idempotency: None,
    };
    if let Err(e) = store.publish(&event).await {
        tracing::error!("could not publish a system.alert event ({}): {e}", alert.kind);
    }
}

/// A `system.alert` of an evaluated alert starting or clearing.
fn evaluated(tenant: &str, kind: &str, alert: &str, message: String, level: Option<AlertLevel>) -> SystemAlert {
    SystemAlert {
        kind: kind.into(),
        alert: alert.into(),
        level,
        tenant: tenant.into(),
        message,
        webhook_id: None,
        url: None,
        reason: None,
        consecutive_failures: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn stats(attempts: i64, succeeded: i64, queue: i64, avg: f64) -> Stats {
        Stats {
            since: Utc::now(),
            until: Utc::now(),
            attempts,
            success_rate: (attempts > 0).then(|| succeeded as f64 / attempts as f64),
            deliveries: attempts,
            retry_rate: None,
            failure_rate: None,
            avg_response_ms: Some(avg),
            p95_response_ms: None,
            queue_size: queue,
            by_status: Default::default(),
            event_distribution: vec![],
            series: vec![],
        }
    }

    fn kinds(alerts: &[Alert]) -> Vec<(String, AlertLevel)> {
        alerts.iter().map(|a| (a.kind.clone(), a.level)).collect()
    }

    #[test]
    fn the_seed_thresholds_apply() {
        let cfg = Config::default().alerts;
        let now = Utc::now();
        assert!(evaluate(&cfg, "platform", &stats(100, 95, 10, 100.0), now).is_empty());
        assert_eq!(
            kinds(&evaluate(&cfg, "p", &stats(100, 85, 10, 100.0), now)),
            [("success_rate".into(), AlertLevel::Warning)]
        );
        assert_eq!(
            kinds(&evaluate(&cfg, "p", &stats(100, 70, 10, 100.0), now)),
            [("success_rate".into(), AlertLevel::Critical)]
        );
        assert_eq!(
            kinds(&evaluate(&cfg, "p", &stats(100, 100, 1001, 100.0), now)),
            [("queue_size".into(), AlertLevel::Warning)]
        );
        assert_eq!(
            kinds(&evaluate(&cfg, "p", &stats(100, 100, 0, 2500.0), now)),
            [("latency".into(), AlertLevel::Warning)]
        );
        assert!(evaluate(&cfg, "p", &stats(3, 0, 0, 5000.0), now).is_empty(), "too few attempts to judge");
    }
}
