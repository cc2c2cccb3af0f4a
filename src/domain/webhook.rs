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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_the_prefix_and_the_last_four_characters() {
        assert_eq!(mask_secret("whsec_abcdefghijklmnop"), "whsec_********mnop");
        assert_eq!(mask_secret("my-custom-secret-of-24-chars"), "********hars");
    }
}
