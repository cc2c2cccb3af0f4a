//! The console's server functions for webhooks: the list with each one's health, one webhook's
//! view, registering and editing, switching on, off and pausing, recovery, the secret, a test send.

// A server function takes one argument per field of the form it answers (a plain HTML post names
// them so), and the `server` macro repeats them in code of its own: the lint cannot be met there.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use super::{answer, ssr};
use crate::app::model::{Answer, Recovery, WebhookHealth, WebhookView};
use crate::domain::{AttemptResult, Page, SecretInfo, Webhook};
use leptos::prelude::*;

/// A page of webhooks.
#[server(prefix = "/console", endpoint = "webhooks", client = crate::app::csrf::ConsoleClient)]
pub async fn webhooks(
    #[server(default)] search: String,
    #[server(default)] status: String,
    #[server(default)] event: String,
    #[server(default)] tenant: String,
    #[server(default)] cursor: String,
) -> Result<Answer<Page<WebhookHealth>>, ServerFnError> {
    answer(async move {
        use crate::service::webhooks::{list, ListQuery};
        let (state, actor) = ssr::actor().await?;
        let query = ListQuery {
            search: ssr::given(search),
            status: ssr::given(status),
            event: ssr::given(event),
            tenant: ssr::given(tenant),
            limit: Some(20),
            cursor: ssr::given(cursor),
        };
        let page = list(&state, &actor, query).await.map_err(ssr::fail)?;
        let data = health(&state, &actor, page.data).await.map_err(ssr::fail)?;
        Ok(Page { data, next_cursor: page.next_cursor })
    })
    .await
}

/// The webhooks a filter may name, by name (description, or URL; the tenant beside it for admins).
#[server(prefix = "/console", endpoint = "webhook_choices", client = crate::app::csrf::ConsoleClient)]
pub async fn webhook_choices() -> Result<Answer<Vec<(String, String)>>, ServerFnError> {
    answer(async move {
        use crate::app::model::webhook_name;
        let (state, actor) = ssr::actor().await?;
        let query = crate::service::webhooks::ListQuery {
            search: None,
            status: None,
            event: None,
            tenant: None,
            limit: Some(200),
            cursor: None,
        };
        let webhooks = crate::service::webhooks::list(&state, &actor, query).await.map_err(ssr::fail)?.data;
        let admin = actor.scope().is_none();
        let mut choices: Vec<(String, String)> = webhooks
            .into_iter()
            .map(|w| {
                let name = webhook_name(&w.url, &w.description);
                (w.id, if admin { format!("{name} · {}", w.tenant) } else { name })
            })
            .collect();
        choices.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(choices)
    })
    .await
}

/// One webhook with its statistics (24 hours) and its latest deliveries.
#[server(prefix = "/console", endpoint = "webhook", client = crate::app::csrf::ConsoleClient)]
pub async fn get_webhook_view(#[server(default)] id: String) -> Result<Answer<WebhookView>, ServerFnError> {
    answer(async move {
        use crate::service::deliveries::ListQuery;
        use crate::service::insight::{webhook_stats, StatsParams};
        let (state, actor) = ssr::actor().await?;
        let p = &actor.principal;
        let webhook = crate::service::webhooks::get(&state, p, &id).await.map_err(ssr::fail)?;
        let params = StatsParams { window: Some("24h".into()), tenant: None };
        let stats = webhook_stats(&state, p, &id, params).await.map_err(ssr::fail)?;
        let query = ListQuery {
            webhook_id: Some(id),
            event_id: None,
            event: None,
            status: None,
            tenant: None,
            since: None,
            until: None,
            limit: Some(10),
            cursor: None,
        };
        let deliveries = crate::service::deliveries::list(&state, p, query).await.map_err(ssr::fail)?;
        let event_types = crate::service::event_types::list(&state).await.map_err(ssr::fail)?;
        Ok(WebhookView { webhook, event_types, stats, deliveries })
    })
    .await
}

/// Registers a webhook; the answer shows its secret this once. Posted as a plain HTML form (before
/// the page is hydrated), it answers with a redirect: to the new webhook's page, or back to the form
/// with what was typed (but a custom secret) and the refusal.
#[server(prefix = "/console", endpoint = "create_webhook", client = crate::app::csrf::ConsoleClient)]
pub async fn create_webhook(
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] description: String,
    #[server(default)] secret: String,
    #[server(default)] tenant: String,
    #[server(default)] new_tenant: String,
    #[server(default)] headers: String,
    #[server(default)] rate_limit: String,
    #[server(default)] max_in_flight: String,
    #[server(default)] ordering: String,
) -> Result<Answer<Webhook>, ServerFnError> {
    let typed = crate::app::model::NewWebhookForm {
        url: url.clone(),
        events: events.clone(),
        description: description.clone(),
        tenant: tenant.clone(),
        new_tenant: new_tenant.clone(),
        headers: headers.clone(),
        rate_limit: rate_limit.clone(),
        max_in_flight: max_in_flight.clone(),
        ordering: ordering.clone(),
    };
    let answer = answer(async move {
        use crate::service::webhooks::{create, WebhookIn};
        let (state, actor) = ssr::actor().await?;
        let tenant = ssr::chosen_tenant(&state, &actor, &tenant, &new_tenant).await?;
        let input = WebhookIn {
            url,
            events,
            description: Some(description),
            secret: ssr::given(secret),
            active: Some(true),
            tenant: ssr::given(tenant),
            headers: Some(ssr::header_lines(&headers)?),
            rate_limit: ssr::whole(&rate_limit, "rateLimit")?,
            max_in_flight: ssr::whole(&max_in_flight, "maxInFlight")?,
            ordering: Some(ssr::ordering(&ordering)?),
        };
        create(&state, &actor, input).await.map_err(ssr::fail)
    })
    .await;
    if ssr::plain_form() {
        match &answer {
            Ok(Ok(w)) => leptos_axum::redirect(&format!("/webhooks/{}?created=1", w.id)),
            Ok(Err(problem)) => leptos_axum::redirect(&format!("/webhooks/new?{}", typed.query(problem))),
            Err(_) => {}
        }
    }
    answer
}

/// Changes a webhook's URL, subscriptions and description.
#[server(prefix = "/console", endpoint = "update_webhook", client = crate::app::csrf::ConsoleClient)]
pub async fn update_webhook(
    #[server(default)] id: String,
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] description: String,
    #[server(default)] headers: String,
    #[server(default)] rate_limit: String,
    #[server(default)] max_in_flight: String,
    #[server(default)] ordering: String,
) -> Result<Answer<Webhook>, ServerFnError> {
    answer(async move {
        use crate::service::webhooks::{update, WebhookPatchIn};
        let (state, actor) = ssr::actor().await?;
        let patch = WebhookPatchIn {
            url: Some(url),
            events: Some(events),
            description: Some(description),
            active: None,
            headers: Some(ssr::header_lines(&headers)?),
            rate_limit: Some(ssr::whole(&rate_limit, "rateLimit")?),
            max_in_flight: Some(ssr::whole(&max_in_flight, "maxInFlight")?),
            ordering: Some(ssr::ordering(&ordering)?),
        };
        update(&state, &actor, &id, patch).await.map_err(ssr::fail)
    })
    .await
}

/// Switches a webhook on (resuming held deliveries) or off (holding them).
#[server(prefix = "/console", endpoint = "set_active", client = crate::app::csrf::ConsoleClient)]
pub async fn set_active(
    #[server(default)] id: String,
    #[server(default)] active: bool,
) -> Result<Answer<Webhook>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::webhook_ops::set_active(&state, &actor, &id, active).await.map_err(ssr::fail)
    })
    .await
}

/// Pauses a webhook (what it would get is held) or resumes it (what was held goes).
#[server(prefix = "/console", endpoint = "set_paused", client = crate::app::csrf::ConsoleClient)]
pub async fn set_paused(
    #[server(default)] id: String,
    #[server(default)] paused: bool,
) -> Result<Answer<Webhook>, ServerFnError> {
    answer(async move {
        use crate::service::webhook_ops::{pause, resume};
        let (state, actor) = ssr::actor().await?;
        if paused { pause(&state, &actor, &id).await } else { resume(&state, &actor, &id).await }.map_err(ssr::fail)
    })
    .await
}

/// What a webhook's recovery would do since `since` (unix ms): its failed deliveries to queue again
/// and the events it missed; with `run`, does the one named by `what` (`recover` or `replay`).
#[server(prefix = "/console", endpoint = "recovery", client = crate::app::csrf::ConsoleClient)]
pub async fn webhook_recovery(
    #[server(default)] id: String,
    #[server(default)] since: i64,
    #[server(default)] what: String,
) -> Result<Answer<Recovery>, ServerFnError> {
    answer(async move {
        use crate::service::webhook_ops::{recover, replay_missing, RecoverIn, ReplayIn};
        let (state, actor) = ssr::actor().await?;
        let since = serde_json::Value::from(since);
        // Counted both before anything runs ("" asks); a run does only its own part.
        let mut answer = Recovery::default();
        if what != "replay" {
            let input = RecoverIn { since: since.clone(), dry_run: what != "recover" };
            answer.failed = recover(&state, &actor, &id, input).await.map_err(ssr::fail)?;
        }
        if what != "recover" {
            let input = ReplayIn { since, dry_run: what != "replay" };
            answer.missed = replay_missing(&state, &actor, &id, input).await.map_err(ssr::fail)?;
        }
        Ok(answer)
    })
    .await
}

/// Deletes a webhook.
#[server(prefix = "/console", endpoint = "delete_webhook", client = crate::app::csrf::ConsoleClient)]
pub async fn delete_webhook(#[server(default)] id: String) -> Result<Answer<()>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::webhooks::delete(&state, &actor, &id).await.map_err(ssr::fail)
    })
    .await
}

/// The signing secret (audited).
#[server(prefix = "/console", endpoint = "reveal_secret", client = crate::app::csrf::ConsoleClient)]
pub async fn reveal_secret(#[server(default)] id: String) -> Result<Answer<SecretInfo>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::webhook_ops::reveal_secret(&state, &actor, &id).await.map_err(ssr::fail)
    })
    .await
}

/// A new generated secret; the old one keeps signing beside it for `grace_seconds`.
#[server(prefix = "/console", endpoint = "rotate_secret", client = crate::app::csrf::ConsoleClient)]
pub async fn rotate_secret(
    #[server(default)] id: String,
    #[server(default)] grace_seconds: i64,
) -> Result<Answer<SecretInfo>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        let input = crate::service::webhook_ops::RotateIn { secret: None, grace_seconds: Some(grace_seconds) };
        crate::service::webhook_ops::rotate_secret(&state, &actor, &id, input).await.map_err(ssr::fail)
    })
    .await
}

/// Sends a test event now.
#[server(prefix = "/console", endpoint = "send_test", client = crate::app::csrf::ConsoleClient)]
pub async fn send_test(#[server(default)] id: String) -> Result<Answer<AttemptResult>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::webhook_ops::test(&state, &actor, &id).await.map_err(ssr::fail)
    })
    .await
}

/// Webhooks with their health over the last 24 hours: success rate per hour, p95 latency, the
/// latest delivery. The figures of the whole page are read together (a few queries, whatever the
/// page's length); the webhooks come from a list already scoped to the actor, so are not read again.
#[cfg(feature = "ssr")]
async fn health(
    state: &crate::state::AppState,
    actor: &crate::service::Actor,
    webhooks: Vec<crate::domain::Webhook>,
) -> Result<Vec<WebhookHealth>, crate::error::AppError> {
    let ids: Vec<String> = webhooks.iter().map(|w| w.id.clone()).collect();
    let (mut attempts, latest) = crate::service::insight::webhook_health(state, actor, &ids).await?;
    let mut latest: std::collections::HashMap<String, _> =
        latest.into_iter().map(|d| (d.webhook_id, (d.created_at, d.status))).collect();
    Ok(webhooks
        .into_iter()
        .map(|webhook| {
            let stats = attempts.remove(&webhook.id).unwrap_or_default();
            WebhookHealth {
                state: crate::app::model::health_state(&webhook, stats.attempts, stats.success_rate).to_string(),
                success_rate: stats.success_rate,
                series: stats.series.iter().map(|b| b.success_rate).collect(),
                p95_ms: stats.p95_response_ms,
                last: latest.remove(&webhook.id),
                webhook,
            }
        })
        .collect())
}
