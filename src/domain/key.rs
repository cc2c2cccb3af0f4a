//! API keys, their roles, and the principal a request acts as.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every tenant; manages keys and the event catalog; publishes for any tenant.
    Admin,
    /// Its own tenant only.
    Tenant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Tenant => "tenant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "tenant" => Some(Role::Tenant),
            _ => None,
        }
    }
}

/// An API key as listed (the secret key itself is shown once, on creation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    /// The tenant of a `tenant` key; an admin key may have none.
    pub tenant: Option<String>,
    pub role: Role,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Its own request rate, per second (0: unlimited); absent: the server's default.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// The address ranges (CIDRs) it may be used from; empty: anywhere.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
}

/// Who a request acts as: the key that authenticated it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub key_id: String,
    pub key_name: String,
    pub role: Role,
    pub tenant: Option<String>,
    /// The key's own request rate, per second (0: unlimited); `None`: the server's default.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Where the key may be used from (CIDRs); empty: anywhere.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
}

impl Principal {
    /// The service itself, as the actor of what it does on its own (an automatic disable) in the
    /// audit log.
    pub fn system(what: &str) -> Principal {
        Principal {
            key_id: String::new(),
            key_name: what.to_string(),
            role: Role::Admin,
            tenant: None,
            rate_limit: None,
            allowed_ips: Vec::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The tenant this principal is confined to; `None` for admins, who see every tenant.
    pub fn scope(&self) -> Option<&str> {
        match self.role {
            Role::Admin => None,
            Role::Tenant => self.tenant.as_deref(),
        }
    }

    /// May this principal see objects of `tenant`?
    pub fn can_see(&self, tenant: &str) -> bool {
        self.scope().is_none_or(|own| own == tenant)
    }
}
