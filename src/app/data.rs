//! The console's server functions. Each calls the service function of the same action as the REST
//! API (`crate::service`: the same validation, tenant scoping and audit entries), with the signed-in
//! session as the key.

use crate::app::model::{
    Answer, CreatedKey, DeliveryLog, DeliveryView, LogFilter, Overview, Recovery, WebhookHealth, WebhookView,
};
use crate::domain::{ApiKey, AttemptResult, AuditEntry, EventType, Page, SecretInfo, Webhook};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::app::model::{Problem, SIGNED_OUT};
    use crate::error::AppError;
    use crate::service::Actor;
    use crate::state::AppState;

    /// The server state and the signed-in actor, or the `signed_out` problem.
    pub async fn actor() -> Result<(AppState, Actor), Problem> {
        let state = crate::app::session::ssr::state()?;
        let principal = crate::app::session::ssr::current_principal().await?.ok_or_else(|| Problem {
            code: SIGNED_OUT.to_string(),
            message: "your session has ended; sign in again".to_string(),
            field: None,
        })?;
        let ip = leptos_axum::extract::<axum::http::request::Parts>()
            .await
            .ok()
            .and_then(|parts| crate::api::auth::client_ip(&parts))
            .map(|ip| ip.to_string());
        Ok((state, Actor { principal, ip }))
    }

    /// An API error as the console shows it.
    pub fn fail(e: AppError) -> Problem {
        Problem { code: e.code.to_string(), message: e.message, field: e.field }
    }

    /// The request is a plain HTML form post (the page was not hydrated yet): it wants a page back.
    pub fn plain_form() -> bool {
        leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// A webhook with its health over the last 24 hours: success rate per hour, p95 latency, its
    /// latest delivery.
    pub async fn health(
        state: &AppState,
        actor: &Actor,
        webhook: crate::domain::Webhook,
    ) -> Result<crate::app::model::WebhookHealth, AppError> {
        use crate::service::deliveries::{list, ListQuery};
        use crate::service::insight::{webhook_stats, StatsParams};
        let params = StatsParams { window: Some("24h".into()), tenant: None };
        let stats = webhook_stats(state, &actor.principal, &webhook.id, params).await?;
        let latest = ListQuery {
            webhook_id: Some(webhook.id.clone()),
            event: None,
            status: None,
            tenant: None,
            since: None,
            until: None,
            limit: Some(1),
            cursor: None,
        };
        let last = list(state, &actor.principal, latest).await?.data.first().map(|d| (d.created_at, d.status));
        Ok(crate::app::model::WebhookHealth {
            state: crate::app::model::health_state(&webhook, stats.attempts, stats.success_rate).to_string(),
            success_rate: stats.success_rate,
            series: stats.series.iter().map(|b| b.success_rate).collect(),
            p95_ms: stats.p95_response_ms,
            last,
            webhook,
        })
    }

    /// `Some(s)` unless `s` is blank.
    pub fn given(s: String) -> Option<String> {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    }
}

/// Runs a server function's body; a refusal is an ordinary answer (see [`Answer`]).
#[cfg(feature = "ssr")]
async fn answer<T>(body: impl std::future::Future<Output = Answer<T>>) -> Result<Answer<T>, ServerFnError> {
    Ok(body.await)
}

/// Statistics over `window` (`1h`, `24h`, `7d`) and the active alerts.
#[server(prefix = "/console", endpoint = "overview", client = crate::app::csrf::ConsoleClient)]
pub async fn get_overview(
    #[server(default)] window: String,
    #[server(default)] tenant: String,
) -> Result<Answer<Overview>, ServerFnError> {
    answer(async move {
        use crate::service::insight::{self, StatsParams};
        let (state, actor) = ssr::actor().await?;
        let params = StatsParams { window: Some(window), tenant: ssr::given(tenant.clone()) };
        let stats = insight::stats(&state, &actor, params).await.map_err(ssr::fail)?;
        let alerts = insight::alerts(&state, &actor, ssr::given(tenant)).await.map_err(ssr::fail)?;
        Ok(Overview { stats, alerts })
    })
    .await
}

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
        let mut data = Vec::with_capacity(page.data.len());
        for webhook in page.data {
            data.push(ssr::health(&state, &actor, webhook).await.map_err(ssr::fail)?);
        }
        Ok(Page { data, next_cursor: page.next_cursor })
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
) -> Result<Answer<Webhook>, ServerFnError> {
    let typed = crate::app::model::NewWebhookForm {
        url: url.clone(),
        events: events.clone(),
        description: description.clone(),
        tenant: tenant.clone(),
    };
    let answer = answer(async move {
        use crate::service::webhooks::{create, WebhookIn};
        let (state, actor) = ssr::actor().await?;
        let input = WebhookIn {
            url,
            events,
            description: Some(description),
            secret: ssr::given(secret),
            active: Some(true),
            tenant: ssr::given(tenant),
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
) -> Result<Answer<Webhook>, ServerFnError> {
    answer(async move {
        use crate::service::webhooks::{update, WebhookPatchIn};
        let (state, actor) = ssr::actor().await?;
        let patch =
            WebhookPatchIn { url: Some(url), events: Some(events), description: Some(description), active: None };
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
        let since_value = serde_json::Value::from(since);
        let failed = recover(&state, &actor, &id, RecoverIn { since: since_value.clone(), dry_run: what != "recover" })
            .await
            .map_err(ssr::fail)?;
        let missed = replay_missing(&state, &actor, &id, ReplayIn { since: since_value, dry_run: what != "replay" })
            .await
            .map_err(ssr::fail)?;
        Ok(Recovery { failed, missed })
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

/// The tenants a principal may filter by: every tenant with webhooks for an admin, its own for a
/// tenant key.
#[server(prefix = "/console", endpoint = "tenants", client = crate::app::csrf::ConsoleClient)]
pub async fn tenants() -> Result<Answer<Vec<String>>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        match actor.principal.scope() {
            Some(own) => Ok(vec![own.to_string()]),
            None => state.store.tenants_with_webhooks().await.map_err(|e| ssr::fail(e.into())),
        }
    })
    .await
}

/// A page of the delivery log, with its webhooks' names.
#[server(prefix = "/console", endpoint = "deliveries", client = crate::app::csrf::ConsoleClient)]
pub async fn deliveries(#[server(default)] filter: LogFilter) -> Result<Answer<DeliveryLog>, ServerFnError> {
    answer(async move {
        use crate::service::deliveries::{list, ListQuery};
        let (state, actor) = ssr::actor().await?;
        let query = ListQuery {
            webhook_id: ssr::given(filter.webhook_id),
            event: ssr::given(filter.event),
            status: ssr::given(filter.status),
            tenant: ssr::given(filter.tenant),
            since: ssr::given(filter.since),
            until: ssr::given(filter.until),
            limit: Some(25),
            cursor: ssr::given(filter.cursor),
        };
        let page = list(&state, &actor, query).await.map_err(ssr::fail)?;
        let mut ids: Vec<String> = page.data.iter().map(|d| d.webhook_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let rows = state.store.webhook_names(&ids).await.map_err(|e| ssr::fail(e.into()))?;
        let names = rows
            .into_iter()
            .map(|(id, url, description)| (id, crate::app::model::webhook_name(&url, &description)))
            .collect();
        Ok(DeliveryLog { page, names })
    })
    .await
}

/// How many failed deliveries the log's view holds; with `run`, queues them again.
#[server(prefix = "/console", endpoint = "retry_failed", client = crate::app::csrf::ConsoleClient)]
pub async fn retry_failed(
    #[server(default)] filter: LogFilter,
    #[server(default)] run: bool,
) -> Result<Answer<u64>, ServerFnError> {
    answer(async move {
        use crate::service::deliveries::RetryFailedIn;
        let (state, actor) = ssr::actor().await?;
        let input = RetryFailedIn {
            webhook_id: ssr::given(filter.webhook_id),
            event: ssr::given(filter.event),
            tenant: ssr::given(filter.tenant),
            since: ssr::given(filter.since),
            until: ssr::given(filter.until),
            dry_run: !run,
        };
        crate::service::deliveries::retry_failed(&state, &actor, input).await.map_err(ssr::fail)
    })
    .await
}

/// One delivery with its attempts.
#[server(prefix = "/console", endpoint = "delivery", client = crate::app::csrf::ConsoleClient)]
pub async fn get_delivery_view(#[server(default)] id: String) -> Result<Answer<DeliveryView>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        let out = crate::service::deliveries::get(&state, &actor, &id).await.map_err(ssr::fail)?;
        Ok(DeliveryView { delivery: out.delivery, attempts: out.attempts, request_body: out.request_body })
    })
    .await
}

/// Sends a delivery again now.
#[server(prefix = "/console", endpoint = "retry", client = crate::app::csrf::ConsoleClient)]
pub async fn retry(#[server(default)] id: String) -> Result<Answer<AttemptResult>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        Ok(crate::service::deliveries::retry(&state, &actor, &id).await.map_err(ssr::fail)?.attempt)
    })
    .await
}

/// The event catalog.
#[server(prefix = "/console", endpoint = "event_types", client = crate::app::csrf::ConsoleClient)]
pub async fn event_types() -> Result<Answer<Vec<EventType>>, ServerFnError> {
    answer(async move {
        // Signed-in users only, whoever they are.
        let (state, _actor) = ssr::actor().await?;
        crate::service::event_types::list(&state).await.map_err(ssr::fail)
    })
    .await
}

/// The live API keys (admins).
#[server(prefix = "/console", endpoint = "keys", client = crate::app::csrf::ConsoleClient)]
pub async fn keys() -> Result<Answer<Vec<ApiKey>>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::keys::list(&state, &actor).await.map_err(ssr::fail)
    })
    .await
}

/// Creates an API key (admins); the key is in the answer only.
#[server(prefix = "/console", endpoint = "create_key", client = crate::app::csrf::ConsoleClient)]
pub async fn create_key(
    #[server(default)] name: String,
    #[server(default)] role: String,
    #[server(default)] tenant: String,
) -> Result<Answer<CreatedKey>, ServerFnError> {
    answer(async move {
        use crate::service::keys::KeyIn;
        let (state, actor) = ssr::actor().await?;
        let input = KeyIn { tenant: ssr::given(tenant), role: ssr::given(role), name };
        let created = crate::service::keys::create(&state, &actor, input).await.map_err(ssr::fail)?;
        Ok(CreatedKey { id: created.id, name: created.name, key: created.key })
    })
    .await
}

/// Revokes an API key (admins).
#[server(prefix = "/console", endpoint = "revoke_key", client = crate::app::csrf::ConsoleClient)]
pub async fn revoke_key(#[server(default)] id: String) -> Result<Answer<()>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::keys::revoke(&state, &actor, &id).await.map_err(ssr::fail)
    })
    .await
}

/// A page of the audit log (admins).
#[server(prefix = "/console", endpoint = "audit", client = crate::app::csrf::ConsoleClient)]
pub async fn audit(
    #[server(default)] action: String,
    #[server(default)] cursor: String,
) -> Result<Answer<Page<AuditEntry>>, ServerFnError> {
    answer(async move {
        use crate::service::insight::{audit, AuditQuery};
        let (state, actor) = ssr::actor().await?;
        let query = AuditQuery {
            action: ssr::given(action),
            tenant: None,
            actor_key_id: None,
            since: None,
            until: None,
            limit: Some(50),
            cursor: ssr::given(cursor),
        };
        audit(&state, &actor, query).await.map_err(ssr::fail)
    })
    .await
}
