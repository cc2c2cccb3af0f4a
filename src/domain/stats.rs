//! Delivery statistics of a time window, as the API and the console show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Statistics of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Attempts made in the window.
    pub attempts: i64,
    /// Succeeded attempts / attempts (null without attempts).
    pub success_rate: Option<f64>,
    /// Deliveries created in the window.
    pub deliveries: i64,
    /// Deliveries that needed a second attempt / deliveries attempted, in the window.
    pub retry_rate: Option<f64>,
    /// Deliveries that exhausted their retries in the window / deliveries created in it.
    pub failure_rate: Option<f64>,
    pub avg_response_ms: Option<f64>,
    /// 95th percentile of attempt durations, to two significant digits.
    pub p95_response_ms: Option<i64>,
    /// Deliveries waiting now (pending or held), whatever their age.
    pub queue_size: i64,
    /// Deliveries waiting now (`pending`, `delivering`, `held`), and those that ended in the window
    /// (`succeeded`: successful attempts; `failed`: gave up).
    pub by_status: BTreeMap<String, i64>,
    pub event_distribution: Vec<EventCount>,
    pub series: Vec<Bucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventCount {
    pub event: String,
    pub count: i64,
}

/// One bucket of the time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub attempts: i64,
    /// Attempts answered 2xx.
    pub succeeded: i64,
    pub success_rate: Option<f64>,
    pub avg_response_ms: Option<f64>,
    /// Median attempt duration in the bucket, to two significant digits.
    pub p50_response_ms: Option<i64>,
    /// 95th percentile of attempt durations in the bucket, to two significant digits.
    pub p95_response_ms: Option<i64>,
}
