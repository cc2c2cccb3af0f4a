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
