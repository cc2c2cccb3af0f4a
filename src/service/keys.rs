//! API keys, managed by admins: list, create (the key itself is answered once), change a key's
//! name and controls (rate limit, allowed addresses), revoke.

use super::auth::require_admin;
use super::Actor;
use crate::domain::{traffic, validate, ApiKey, Principal, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{KeyControls, KeyPatch, Store, StoreResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyIn {
    /// Tenant keys: the tenant they act for.
    #[schemars(regex(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$"))]
    pub tenant: Option<String>,
    /// `tenant` (default) or `admin`.
    #[schemars(extend("enum" = ["admin", "tenant"]))]
    pub role: Option<String>,
    /// A name to know it by, 1 to 100 characters (not only spaces).
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub name: String,
    /// Its own request rate: requests per second, 0 (unlimited) to 1000000; absent: the server's
    /// default (`WEBHOOK_API_RATE_LIMIT`). The burst is twice the rate.
    #[schemars(range(min = 0, max = 1_000_000))]
    #[serde(default, deserialize_with = "crate::service::params::whole_number")]
    pub rate_limit: Option<i64>,
    /// The address ranges it may be used from (CIDRs such as `203.0.113.0/24` or single addresses;
    /// at most 50); absent or empty: anywhere.
    #[schemars(length(max = 50))]
    #[schemars(extend("items" = {"anyOf": [
        {"type": "string", "format": "ipv4"},
        {"type": "string", "format": "ipv6"},
        {"type": "string", "pattern": "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$"},
        {"type": "string", "pattern": "^[0-9A-Fa-f:.]+/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$"}
    ]}))]
    pub allowed_ips: Option<Vec<String>>,
}

/// What a key update changes; an absent field is left as it is.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyPatchIn {
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub name: Option<String>,
    /// Requests per second, 0 (unlimited) to 1000000; `null`: back to the server's default.
    #[schemars(range(min = 0, max = 1_000_000))]
    #[serde(default, deserialize_with = "crate::service::params::nullable_whole_number")]
    pub rate_limit: Option<Option<i64>>,
    /// The address ranges it may be used from; `[]` or `null`: anywhere.
    #[schemars(length(max = 50))]
    #[schemars(extend("items" = {"anyOf": [
        {"type": "string", "format": "ipv4"},
        {"type": "string", "format": "ipv6"},
        {"type": "string", "pattern": "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$"},
        {"type": "string", "pattern": "^[0-9A-Fa-f:.]+/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$"}
    ]}))]
    #[serde(default, deserialize_with = "crate::service::params::nullable")]
    pub allowed_ips: Option<Option<Vec<String>>>,
}

/// The create answer: the stored key plus, this once, the key itself.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyCreatedOut {
    pub id: String,
    /// The API key itself: shown here only.
    pub key: String,
    pub tenant: Option<String>,
    pub role: Role,
    pub name: String,
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rate_limit: Option<u32>,
    pub allowed_ips: Vec<String>,
}

/// Creates a key; the answer carries the key, which is never shown again.
pub async fn create(state: &AppState, actor: &Actor, input: KeyIn) -> AppResult<KeyCreatedOut> {
    require_admin(actor)?;
    let role = Role::parse(input.role.as_deref().unwrap_or("tenant"))
        .ok_or_else(|| AppError::validation("role", "role must be 'admin' or 'tenant'"))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "name must be 1 to 100 characters"));
    }
    let tenant = input.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = tenant {
        validate::tenant(t).map_err(|m| AppError::validation("tenant", m))?;
    }
    if role == Role::Admin && tenant.is_some() {
        return Err(AppError::validation(
            "tenant",
            "an admin key acts for every tenant; leave tenant out, or make a tenant key for one tenant",
        ));
    }
    if role == Role::Tenant && tenant.is_none() {
        return Err(AppError::validation("tenant", "a tenant key needs a tenant"));
    }
    let controls = controls(input.rate_limit, input.allowed_ips.unwrap_or_default())?;
    let (key, secret) = state.store.create_key(tenant, role, name, controls).await?;
    actor.audit(state, "key.created", Some(&key.id), key.tenant.as_deref()).await;
    let ApiKey { id, tenant, role, name, prefix, created_at, rate_limit, allowed_ips, .. } = key;
    let out = KeyCreatedOut { id, key: secret, tenant, role, name, prefix, created_at, rate_limit, allowed_ips };
    Ok(out)
}

/// Renames a key or changes its rate limit or allowed addresses, from the next request on.
pub async fn update(state: &AppState, actor: &Actor, id: &str, input: KeyPatchIn) -> AppResult<ApiKey> {
    require_admin(actor)?;
    let keys = state.store.list_keys().await?;
    let current = keys.iter().find(|k| k.id == id).cloned().ok_or(AppError::not_found("API key"))?;
    let name = match input.name.as_deref().map(str::trim) {
        Some(name) if name.is_empty() || name.chars().count() > 100 => {
            return Err(AppError::validation("name", "name must be 1 to 100 characters"));
        }
        name => name.map(str::to_string),
    };
    let changes_controls = input.rate_limit.is_some() || input.allowed_ips.is_some();
    let controls = if changes_controls {
        let rate_limit = input.rate_limit.unwrap_or(current.rate_limit.map(i64::from));
        let allowed_ips = input.allowed_ips.unwrap_or(Some(current.allowed_ips)).unwrap_or_default();
        let controls = controls(rate_limit, allowed_ips)?;
        if current.role == Role::Admin && !leaves_an_admin(state, &keys, id, Some(&controls.allowed_ips)).await? {
            return Err(AppError::validation(
                "allowedIps",
                "no other admin key could still be used (each is revoked, or limited to addresses it has not been \
                 used from in the last day): this list would fence off the last one",
            ));
        }
        if id == actor.key_id && !allows(&controls.allowed_ips, actor.ip.as_deref()) {
            return Err(AppError::validation(
                "allowedIps",
                format!(
                    "this is the key making the request, and {} is not in the list: it would lock you out",
                    actor.ip.as_deref().unwrap_or("your address")
                ),
            ));
        }
        Some(controls)
    } else {
        None
    };
    let key = state.store.update_key(id, KeyPatch { name, controls }).await?;
    actor.audit(state, "key.updated", Some(id), key.tenant.as_deref()).await;
    Ok(key)
}

/// A key's controls, checked: a rate within bounds and well-formed address ranges (kept as written,
/// without repeats).
fn controls(rate_limit: Option<i64>, allowed_ips: Vec<String>) -> AppResult<KeyControls> {
    if let Some(rate) = rate_limit {
        if !(0..=1_000_000).contains(&rate) {
            return Err(AppError::validation("rateLimit", "rateLimit is 0 (unlimited) to 1000000 requests per second"));
        }
    }
    let ranges = traffic::parse_ranges(&allowed_ips)
        .map_err(|(i, message)| AppError::validation(format!("allowedIps[{i}]"), message))?;
    let mut allowed: Vec<String> = Vec::with_capacity(ranges.len());
    for range in ranges {
        let text = range.to_string();
        if !allowed.contains(&text) {
            allowed.push(text);
        }
    }
    Ok(KeyControls { rate_limit: rate_limit.map(|r| r as u32), allowed_ips: allowed })
}

/// Would an admin key that can be used remain if key `changing` were revoked (`allowed` is `None`)
/// or limited to `allowed`? A key can be used when it has no allowlist, or its allowlist takes an
/// address it was used from in the last day (a list that takes none of them has most likely fenced
/// it off).
async fn leaves_an_admin(
    state: &AppState,
    keys: &[ApiKey],
    changing: &str,
    allowed: Option<&[String]>,
) -> AppResult<bool> {
    let since = chrono::Utc::now().timestamp_millis() - 86_400_000;
    let used = state.store.key_addresses(since).await?;
    let usable =
        |id: &str, list: &[String]| list.is_empty() || used.iter().any(|(key, ip)| key == id && allows(list, Some(ip)));
    Ok(keys.iter().filter(|k| k.role == Role::Admin).any(|k| {
        if k.id == changing {
            allowed.is_some_and(|list| usable(&k.id, list))
        } else {
            usable(&k.id, &k.allowed_ips)
        }
    }))
}

/// May a key with `allowed` (CIDRs; empty: anywhere) be used from `ip`?
pub fn allows(allowed: &[String], ip: Option<&str>) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(ip) = ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) else { return false };
    let ranges: Vec<ipnet::IpNet> = allowed.iter().filter_map(|range| traffic::parse_range(range).ok()).collect();
    traffic::in_ranges(&ranges, ip)
}

/// Clears the address allowlist of the operator's key (`WEBHOOK_ADMIN_TOKEN`) at start, audited as
/// `key.access_restored` in the key's own name. Runs before the server's state exists, so it takes
/// the store.
pub async fn restore_bootstrap_access(store: &Store, key: &ApiKey) -> StoreResult<ApiKey> {
    let patch =
        KeyPatch { name: None, controls: Some(KeyControls { rate_limit: key.rate_limit, allowed_ips: Vec::new() }) };
    let key = store.update_key(&key.id, patch).await?;
    let principal = Principal {
        key_id: key.id.clone(),
        key_name: key.name.clone(),
        role: Role::Admin,
        tenant: None,
        rate_limit: key.rate_limit,
        allowed_ips: Vec::new(),
    };
    store.audit(&principal, None, "key.access_restored", Some(&key.id), None).await?;
    Ok(key)
}

/// The live keys (never their secrets).
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<ApiKey>> {
    require_admin(actor)?;
    Ok(state.store.list_keys().await?)
}

/// Revokes a key at once, ending its console sessions.
pub async fn revoke(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    require_admin(actor)?;
    let keys = state.store.list_keys().await?;
    let is_admin = keys.iter().any(|k| k.id == id && k.role == Role::Admin);
    if is_admin && !leaves_an_admin(state, &keys, id, None).await? {
        return Err(crate::store::StoreError::LastAdminKey.into());
    }
    state.store.revoke_key(id).await?;
    actor.audit(state, "key.revoked", Some(id), None).await;
    Ok(())
}
