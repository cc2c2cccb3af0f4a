//! A published event: the thing that happened, fanned out to every matching webhook.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A published event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    /// `None` for a platform-wide broadcast published by an admin.
    pub tenant: Option<String>,
    pub event: String,
    pub data: serde_json::Value,
    pub timestamp: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    /// How many deliveries the fan-out created.
    pub deliveries: i64,
}
