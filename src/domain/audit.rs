//! The audit log's entries: who did what to which object, when, and from where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One management action (or a refused sign-in: no actor, the address).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_key_id: String,
    pub actor_name: String,
    pub tenant: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub client_ip: Option<String>,
    /// How many times it happened: more than 1 for a repeated refusal (a key used from outside its
    /// allowlist), counted per key and address per minute.
    pub count: i64,
}
