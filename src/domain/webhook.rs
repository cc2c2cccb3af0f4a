//! A webhook: one receiver URL of one tenant, the event types it subscribes to and its signing secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A registered webhook endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub tenant: String,
    pub url: String,
    /// Subscription patterns: exact types, `category:<name>`, `prefix.*` or `*`.
    pub events: Vec<String>,
    pub description: String,
    /// The signing secret; masked (see [`mask_secret`]) everywhere but on creation and reveal.
    pub secret: String,
    pub active: bool,
    /// Paused by a person: switched off, and events published meanwhile are queued to it held, to
    /// go when it is resumed.
    pub paused: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Headers of its own sent with every delivery (name → value), beside ours.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Deliveries per second to it at most; absent: as fast as they come.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Requests to it at once at most; absent: no limit but the server's.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// `fifo`: one delivery at a time, in publish order (a later one starts once the earlier one
    /// succeeded or gave up); `none`: any order.
    #[serde(default)]
    pub ordering: DeliveryOrder,
}

/// The order a webhook's deliveries are made in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryOrder {
    /// As they come, several at once.
    #[default]
    None,
    /// One at a time, in publish order.
    Fifo,
}

impl DeliveryOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOrder::None => "none",
            DeliveryOrder::Fifo => "fifo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(DeliveryOrder::None),
            "fifo" => Some(DeliveryOrder::Fifo),
            _ => None,
        }
    }
}

/// A webhook's delivery controls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryControls {
    pub rate_limit: Option<u32>,
    pub max_in_flight: Option<u32>,
    pub ordering: DeliveryOrder,
}

impl DeliveryControls {
    /// Does any control hold? Then its deliveries go through its own lane.
    pub fn any(&self) -> bool {
        self.rate_limit.is_some() || self.max_in_flight.is_some() || self.ordering == DeliveryOrder::Fifo
    }
}

/// A webhook's signing secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub secret: String,
    /// The secret before the last rotation, while it still signs.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl Webhook {
    /// Its delivery controls.
    pub fn controls(&self) -> DeliveryControls {
        DeliveryControls { rate_limit: self.rate_limit, max_in_flight: self.max_in_flight, ordering: self.ordering }
    }

    /// The same webhook with its secret masked, for reads.
    pub fn masked(mut self) -> Self {
        self.secret = mask_secret(&self.secret);
        self
    }
}

/// Masks a secret for display: the `whsec_` prefix (if any) and the last four characters stay visible.
pub fn mask_secret(secret: &str) -> String {
    let (prefix, rest) = secret.strip_prefix("whsec_").map_or(("", secret), |r| ("whsec_", r));
    let tail: String = rest.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}********{tail}")
}

/// What a person calls a webhook: its description, or its URL when it has none.
pub fn webhook_name(url: &str, description: &str) -> String {
    if description.trim().is_empty() {
        url.to_string()
    } else {
        description.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_the_prefix_and_the_last_four_characters() {
        assert_eq!(mask_secret("whsec_abcdefghijklmnop"), "whsec_********mnop");
        assert_eq!(mask_secret("my-custom-secret-of-24-chars"), "********hars");
    }
}
