//! Prometheus metrics of this process: attempts by outcome and error kind, attempt and publish
//! latency histograms, events published; queue depth and disabled webhooks are read at scrape time;
//! the store's write transactions by kind of work (how many, rows, time) and the group-commit wait.

use crate::domain::ErrorKind;
use crate::store::Activity;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Histogram bucket bounds, in milliseconds.
const BOUNDS_MS: [f64; 12] = [1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0];

/// A latency histogram with fixed buckets.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    /// Sum in microseconds, to keep integer atomics.
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, ms: f64) {
        for (bound, bucket) in BOUNDS_MS.iter().zip(&self.buckets) {
            if ms <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add((ms * 1000.0) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, bucket) in BOUNDS_MS.iter().zip(&self.buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {}", bound / 1000.0, bucket.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_us.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    attempts_ok: AtomicU64,
    attempts_failed: [AtomicU64; 7],
    attempt_latency: Histogram,
    publish_latency: Histogram,
    events_published: AtomicU64,
    /// API requests refused by a rate limit: per key, and publishes per tenant.
    rate_limited: [AtomicU64; 2],
    /// API requests refused because the key may not be used from the client's address.
    ip_refused: AtomicU64,
}

/// Which limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Key,
    TenantPublish,
}

impl Metrics {
    /// One attempt, with its outcome and duration.
    pub fn attempt(&self, error: Option<ErrorKind>, duration_ms: i64) {
        match error {
            None => self.attempts_ok.fetch_add(1, Ordering::Relaxed),
            Some(kind) => {
                let i = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
                self.attempts_failed[i].fetch_add(1, Ordering::Relaxed)
            }
        };
        self.attempt_latency.observe(duration_ms as f64);
    }

    /// One accepted publish and how long it took to answer.
    pub fn published(&self, seconds: f64) {
        self.events_published.fetch_add(1, Ordering::Relaxed);
        self.publish_latency.observe(seconds * 1000.0);
    }

    /// One request refused by a rate limit.
    pub fn rate_limited(&self, limit: Limit) {
        self.rate_limited[limit as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One request refused for its address.
    pub fn ip_refused(&self) {
        self.ip_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text, with the gauges read at scrape time.
    pub fn render(&self, queue: &[(&str, i64)], disabled_webhooks: i64, store: &Activity) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP monay_attempts_total Delivery attempts by outcome and error kind.\n");
        out.push_str("# TYPE monay_attempts_total counter\n");
        let _ =
            writeln!(out, "monay_attempts_total{{outcome=\"success\"}} {}", self.attempts_ok.load(Ordering::Relaxed));
        for (kind, n) in ErrorKind::ALL.iter().zip(&self.attempts_failed) {
            let _ = writeln!(
                out,
                "monay_attempts_total{{outcome=\"failure\",error_kind=\"{}\"}} {}",
                kind.as_str(),
                n.load(Ordering::Relaxed)
            );
        }
        self.attempt_latency.render(&mut out, "monay_attempt_duration_seconds", "Duration of delivery attempts.");
        self.publish_latency.render(&mut out, "monay_publish_duration_seconds", "Time to accept a published event.");
        out.push_str("# HELP monay_events_published_total Events accepted by this process.\n");
        out.push_str("# TYPE monay_events_published_total counter\n");
        let _ = writeln!(out, "monay_events_published_total {}", self.events_published.load(Ordering::Relaxed));
        out.push_str("# HELP monay_api_rate_limited_total API requests refused with 429 by a rate limit.\n");
        out.push_str("# TYPE monay_api_rate_limited_total counter\n");
        for (limit, n) in ["key", "tenant_publish"].iter().zip(&self.rate_limited) {
            let _ = writeln!(out, "monay_api_rate_limited_total{{limit=\"{limit}\"}} {}", n.load(Ordering::Relaxed));
        }
        out.push_str("# HELP monay_api_ip_refused_total API requests refused: the key may not be used from there.\n");
        out.push_str("# TYPE monay_api_ip_refused_total counter\n");
        let _ = writeln!(out, "monay_api_ip_refused_total {}", self.ip_refused.load(Ordering::Relaxed));
        out.push_str("# HELP monay_queue_depth Deliveries waiting, by status.\n# TYPE monay_queue_depth gauge\n");
        for (status, n) in queue {
            let _ = writeln!(out, "monay_queue_depth{{status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP monay_webhooks_disabled Webhooks switched off.\n# TYPE monay_webhooks_disabled gauge\n");
        let _ = writeln!(out, "monay_webhooks_disabled {disabled_webhooks}");
        let totals = store.totals();
        type Value = fn(&crate::store::WorkTotals) -> String;
        let series: [(&str, &str, Value); 3] = [
            ("monay_store_transactions_total", "Write transactions by kind of work.", |t| t.transactions.to_string()),
            (
                "monay_store_rows_total",
                "Items written by kind of work (events published, deliveries claimed, attempts recorded, leases).",
                |t| t.rows.to_string(),
            ),
            ("monay_store_busy_seconds_total", "Time inside write transactions by kind of work.", |t| {
                (t.busy_us as f64 / 1e6).to_string()
            }),
        ];
        for (name, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for t in &totals {
                let _ = writeln!(out, "{name}{{work=\"{}\"}} {}", t.work.as_str(), value(t));
            }
        }
        let (waited, wait_us) = store.publish_wait();
        out.push_str(
            "# HELP monay_publish_commit_wait_seconds Time publishes waited for their group commit to start.\n",
        );
        out.push_str("# TYPE monay_publish_commit_wait_seconds summary\n");
        let _ = writeln!(out, "monay_publish_commit_wait_seconds_sum {}", wait_us as f64 / 1e6);
        let _ = writeln!(out, "monay_publish_commit_wait_seconds_count {waited}");
        out
    }
}
