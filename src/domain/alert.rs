//! Operational alerts: a level, what kind, about what, since when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    Notice,
    Warning,
    Critical,
}

/// An active alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub level: AlertLevel,
    /// `success_rate`, `queue_size`, `latency` or `webhook_disabled`.
    pub kind: String,
    /// What it is about: `platform`, `tenant:<name>` or a webhook id.
    pub subject: String,
    pub message: String,
    pub since: DateTime<Utc>,
}

impl Alert {
    /// Identity of an alert across evaluations (its level may change).
    pub fn key(&self) -> (String, String) {
        (self.kind.clone(), self.subject.clone())
    }
}

/// The data of every `system.alert` event: one shape, whatever raised it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemAlert {
    /// What happened: `alert_raised`, `alert_cleared` or `webhook_disabled`.
    pub kind: String,
    /// Which alert: `success_rate`, `queue_size`, `latency` or `webhook_disabled`.
    pub alert: String,
    /// How serious (absent when cleared).
    pub level: Option<AlertLevel>,
    /// The tenant it concerns (the event goes to that tenant's webhooks).
    pub tenant: String,
    /// For a person.
    pub message: String,
    /// A disabled webhook: its id, URL, why, and after how many failures in a row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<i64>,
}
