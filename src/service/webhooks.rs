//! Webhooks: the rules of registering, listing, reading, changing and deleting a webhook, for the
//! REST API and the console alike (validation, tenant scoping, audit entries).

use super::auth::acting_tenant;
use super::params;
use super::Actor;
use crate::crypto;
use crate::domain::event_type::validate_pattern;
use crate::domain::{traffic, validate, DeliveryControls, DeliveryOrder, Page, Principal, Webhook};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewWebhook, WebhookFilter, WebhookPatch};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most subscription patterns one webhook may list.
const MAX_PATTERNS: usize = 100;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookIn {
    /// Where deliveries are POSTed: https (http only where the server allows it), a public address.
    #[schemars(length(max = 2048))]
    pub url: String,
    /// Subscriptions: exact event types, `category:<name>` (every type of a catalog category), `prefix.*` or `*`.
    pub events: Vec<String>,
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// A signing secret of your own (24 to 256 printable ASCII characters without spaces, not starting with `enc:`); generated when absent.
    #[schemars(regex(pattern = r"^[!-~]{24,256}$"))]
    pub secret: Option<String>,
    /// Default true.
    pub active: Option<bool>,
    /// Admins: the tenant that owns it (default `default`). Tenant keys: their own.
    #[schemars(regex(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$"))]
    pub tenant: Option<String>,
    /// Headers of its own sent with every delivery (name → value; at most 20). Our signature and id
    /// headers, `Host`, `Content-Length`, `Content-Type` and hop-by-hop headers cannot be set.
    #[schemars(extend("maxProperties" = 20))]
    pub headers: Option<BTreeMap<String, String>>,
    /// Deliveries per second to it at most, 1 to 10000; absent: as fast as they come. Deliveries over
    /// it wait in the queue (not failed, not counted against it).
    #[schemars(range(min = 1, max = 10_000))]
    #[serde(default, deserialize_with = "crate::service::params::whole_number")]
    pub rate_limit: Option<i64>,
    /// Requests to it at once at most, 1 to 1000; absent: only the server's own limit.
    #[schemars(range(min = 1, max = 1_000))]
    #[serde(default, deserialize_with = "crate::service::params::whole_number")]
    pub max_in_flight: Option<i64>,
    /// `fifo`: one delivery at a time, in publish order; `none` (default): any order.
    pub ordering: Option<DeliveryOrder>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookPatchIn {
    #[schemars(length(max = 2048))]
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    pub active: Option<bool>,
    /// Replaces its headers (`{}` removes them all).
    #[schemars(extend("maxProperties" = 20))]
    pub headers: Option<BTreeMap<String, String>>,
    /// Deliveries per second, 1 to 10000; `null` removes the limit.
    #[schemars(range(min = 1, max = 10_000))]
    #[serde(default, deserialize_with = "crate::service::params::nullable_whole_number")]
    pub rate_limit: Option<Option<i64>>,
    /// Requests at once, 1 to 1000; `null` removes the limit.
    #[schemars(range(min = 1, max = 1_000))]
    #[serde(default, deserialize_with = "crate::service::params::nullable_whole_number")]
    pub max_in_flight: Option<Option<i64>>,
    /// `fifo` or `none`.
    pub ordering: Option<DeliveryOrder>,
}

#[derive(Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Part of the URL or description (at most 200 characters).
    #[schemars(length(max = 200))]
    pub search: Option<String>,
    /// `active`, `failing` (active, its latest attempts failed), `disabled` (switched off or
    /// paused), `paused` or `all`.
    #[schemars(extend("enum" = ["", "active", "failing", "disabled", "paused", "all"]))]
    pub status: Option<String>,
    /// Only webhooks that would receive this event type.
    pub event: Option<String>,
    pub tenant: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Registers a webhook; the answer shows its secret (generated unless given).
pub async fn create(state: &AppState, actor: &Actor, input: WebhookIn) -> AppResult<Webhook> {
    let tenant = acting_tenant(actor, input.tenant.as_deref())?.unwrap_or_else(|| "default".to_string());
    let url = check_url(state, &input.url)?;
    let events = check_events(state, input.events).await?;
    let description = input.description.unwrap_or_default().trim().to_string();
    validate::description(&description).map_err(|m| AppError::validation("description", m))?;
    let secret = match input.secret {
        Some(secret) => {
            validate::custom_secret(&secret).map_err(|m| AppError::validation("secret", m))?;
            secret
        }
        None => crypto::new_webhook_secret(),
    };
    let headers = check_headers(input.headers.unwrap_or_default())?;
    let controls = check_controls(input.rate_limit, input.max_in_flight, input.ordering.unwrap_or_default())?;
    let active = input.active.unwrap_or(true);
    let max_per_tenant = state.config.max_webhooks_per_tenant;
    let new = NewWebhook { tenant, url, events, description, secret, active, headers, controls, max_per_tenant };
    let webhook = state.store.create_webhook(new).await?;
    actor.audit(state, "webhook.created", Some(&webhook.id), Some(&webhook.tenant)).await;
    Ok(webhook)
}

/// Longest `search` of the webhook list.
pub const MAX_SEARCH: usize = 200;

/// A page of the webhooks `principal` can see, secrets masked.
pub async fn list(state: &AppState, principal: &Principal, q: ListQuery) -> AppResult<Page<Webhook>> {
    let (active, paused, failing) = match q.status.as_deref() {
        None | Some("") | Some("all") => (None, false, false),
        Some("active") => (Some(true), false, false),
        Some("failing") => (Some(true), false, true),
        Some("disabled") => (Some(false), false, false),
        Some("paused") => (Some(false), true, false),
        Some(_) => {
            return Err(AppError::validation(
                "status",
                "status must be 'active', 'failing', 'disabled', 'paused' or 'all'",
            ))
        }
    };
    if q.search.as_deref().is_some_and(|t| t.chars().count() > MAX_SEARCH) {
        return Err(AppError::bad_request(
            "search_too_long",
            format!("a search is at most {MAX_SEARCH} characters (part of a URL or a description)"),
        ));
    }
    let filter = WebhookFilter {
        scope: principal.scope().map(str::to_string),
        tenant: q.tenant.filter(|t| !t.is_empty()),
        search: q.search,
        active,
        paused,
        failing,
        event: q.event.filter(|e| !e.is_empty()),
        limit: params::limit(q.limit)?,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    let mut page = state.store.list_webhooks(&filter).await?;
    page.data = page.data.into_iter().map(Webhook::masked).collect();
    Ok(page)
}

/// The tenants `principal` may pick: every tenant with webhooks for an admin, its own for a tenant key.
pub async fn tenants(state: &AppState, principal: &Principal) -> AppResult<Vec<String>> {
    match principal.scope() {
        Some(own) => Ok(vec![own.to_string()]),
        None => Ok(state.store.tenants_with_webhooks().await?),
    }
}

/// `(id, url, description)` of these webhooks, whoever owns them (the ids come from lists already
/// scoped to the caller).
pub async fn names(state: &AppState, ids: &[String]) -> AppResult<Vec<(String, String, String)>> {
    Ok(state.store.webhook_names(ids).await?)
}

/// One webhook, secret masked.
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> AppResult<Webhook> {
    Ok(state.store.get_webhook(id, principal.scope()).await?.masked())
}

/// Changes the given fields only; switching off holds pending deliveries, on resumes them.
pub async fn update(state: &AppState, actor: &Actor, id: &str, input: WebhookPatchIn) -> AppResult<Webhook> {
    // 404 before validation, so another tenant's id reveals nothing.
    let current = state.store.get_webhook(id, actor.scope()).await?;
    let url = input.url.map(|u| check_url(state, &u)).transpose()?;
    let events = match input.events {
        Some(events) => Some(check_events(state, events).await?),
        None => None,
    };
    let description = input.description.map(|d| d.trim().to_string());
    if let Some(d) = &description {
        validate::description(d).map_err(|m| AppError::validation("description", m))?;
    }
    let headers = input.headers.map(check_headers).transpose()?;
    let controls = match (input.rate_limit, input.max_in_flight, input.ordering) {
        (None, None, None) => None,
        (rate, max, ordering) => Some(check_controls(
            rate.unwrap_or(current.rate_limit.map(i64::from)),
            max.unwrap_or(current.max_in_flight.map(i64::from)),
            ordering.unwrap_or(current.ordering),
        )?),
    };
    let patch = WebhookPatch { url, events, description, active: input.active, headers, controls };
    let webhook = state.store.update_webhook(id, actor.scope(), patch).await?;
    actor.audit(state, "webhook.updated", Some(id), Some(&webhook.tenant)).await;
    Ok(webhook.masked())
}

/// Deletes the webhook with its delivery log.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    state.store.delete_webhook(id, actor.scope()).await?;
    actor.audit(state, "webhook.deleted", Some(id), None).await;
    Ok(())
}

/// Checks a URL's form and, where its host is an address (or `localhost`), that it may be reached.
/// Names are checked again at every connection, so DNS cannot be used to slip past.
fn check_url(state: &AppState, raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    let url = validate::webhook_url(raw, state.config.allow_http).map_err(|m| AppError::validation("url", m))?;
    if let Some(ip) = crate::delivery::ssrf::literal_ip(&url) {
        if !state.ip_policy.permits(ip) {
            return Err(AppError::validation(
                "url",
                format!("{ip} is a private or reserved address; webhooks must reach a public address"),
            ));
        }
    }
    Ok(raw.to_string())
}

/// Checks a webhook's delivery controls.
fn check_controls(
    rate: Option<i64>,
    max_in_flight: Option<i64>,
    ordering: DeliveryOrder,
) -> AppResult<DeliveryControls> {
    if rate.is_some_and(|r| !(1..=10_000).contains(&r)) {
        return Err(AppError::validation(
            "rateLimit",
            "rateLimit is 1 to 10000 deliveries per second (null: no limit)",
        ));
    }
    if max_in_flight.is_some_and(|m| !(1..=1_000).contains(&m)) {
        return Err(AppError::validation("maxInFlight", "maxInFlight is 1 to 1000 requests at once (null: no limit)"));
    }
    Ok(DeliveryControls {
        rate_limit: rate.map(|r| r as u32),
        max_in_flight: max_in_flight.map(|m| m as u32),
        ordering,
    })
}

/// Checks a webhook's own headers (values trimmed, as HTTP would).
fn check_headers(headers: BTreeMap<String, String>) -> AppResult<BTreeMap<String, String>> {
    let headers: BTreeMap<String, String> =
        headers.into_iter().map(|(name, value)| (name, value.trim().to_string())).collect();
    traffic::custom_headers(&headers).map_err(|(field, message)| AppError::validation(field, message))?;
    Ok(headers)
}

/// Checks the subscription list against the catalog; drops repeats, keeps order.
async fn check_events(state: &AppState, events: Vec<String>) -> AppResult<Vec<String>> {
    if events.is_empty() {
        return Err(AppError::validation("events", "subscribe to at least one event type (or '*')"));
    }
    if events.len() > MAX_PATTERNS {
        return Err(AppError::validation("events", format!("at most {MAX_PATTERNS} event types")));
    }
    let known = state.store.event_type_names().await?;
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for (i, pattern) in events.into_iter().enumerate() {
        let pattern = pattern.trim().to_string();
        validate_pattern(&pattern, &known).map_err(|m| AppError::validation(format!("events[{i}]"), m))?;
        if !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    Ok(out)
}
