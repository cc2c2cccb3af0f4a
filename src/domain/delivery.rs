//! Deliveries (one per event and matching webhook) and their attempts (one per HTTP try).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivering,
    Succeeded,
    Failed,
    Held,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivering,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::Held,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivering => "delivering",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One delivery of one event to one webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub tenant: String,
    pub event: String,
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempt_count: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For a webhook with FIFO ordering: the earlier delivery this one waits behind (it starts once
    /// that one succeeded or gave up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_behind: Option<String>,
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    Connect,
    Dns,
    Tls,
    Blocked,
    HttpStatus,
    TooLarge,
    /// The server stopped (or died) while the request was in flight: the outcome is unknown and the
    /// receiver may have the event. Recorded when another worker takes the delivery over.
    Interrupted,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::Blocked,
        ErrorKind::HttpStatus,
        ErrorKind::TooLarge,
        ErrorKind::Interrupted,
    ];

    /// The name stored and shown (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Blocked => "blocked",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

/// What started an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum AttemptTrigger {
    Scheduled,
    Manual,
    Test,
}

impl AttemptTrigger {
    /// The name stored and shown (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptTrigger::Scheduled => "scheduled",
            AttemptTrigger::Manual => "manual",
            AttemptTrigger::Test => "test",
        }
    }
}

/// One HTTP try of a delivery, with what was sent and what came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i64,
    pub trigger: AttemptTrigger,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub request_headers: BTreeMap<String, String>,
    pub response_status: Option<i64>,
    pub response_headers: Option<BTreeMap<String, String>>,
    /// The first 16 KiB of the response body.
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
}

/// The outcome of an attempt made on request.
/// Failed deliveries queued again (or, counting only, that would be): how many, and how many of
/// them are only held, because their webhook is off (they go when it is switched on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Requeued {
    pub total: u64,
    pub held: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptResult {
    pub delivery_id: String,
    pub event_id: String,
    pub success: bool,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}
