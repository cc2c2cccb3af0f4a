//! The console's server functions. Each calls the service function of the same action as the REST
//! API (`crate::service`: the same validation, tenant scoping and audit entries), with the signed-in
//! session as the key. Those of webhooks are in `webhooks.rs`; the log, catalog, keys and audit here.

mod events;
mod webhooks;

pub use events::*;
pub use webhooks::*;

use crate::app::model::{Answer, CreatedKey, DeliveryLog, DeliveryView, LogFilter, Overview};
use crate::domain::{ApiKey, AttemptResult, AuditEntry, EventType, Page};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::app::model::{LogFilter, Problem, SIGNED_OUT};
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
        let parts = leptos_axum::extract::<axum::http::request::Parts>().await.ok();
        // The key's rate limit holds for its console sessions too.
        if let Some(parts) = &parts {
            crate::api::traffic::admit(&state, parts, &principal).await.map_err(fail)?;
        }
        let ip = parts.and_then(|parts| crate::api::auth::client_ip(&parts)).map(|ip| ip.to_string());
        Ok((state, Actor { principal, ip }))
    }

    /// The tenant a new webhook is for, as the console's form chose it: one that exists (it has
    /// webhooks), the default (empty), or — only when "New tenant…" was chosen — the name typed. A
    /// name that was neither picked from the list nor asked for as new is refused, so a typo never
    /// makes a tenant. Tenant keys act for their own tenant whatever the form says.
    pub async fn chosen_tenant(
        state: &AppState,
        actor: &Actor,
        tenant: &str,
        new_tenant: &str,
    ) -> Result<String, Problem> {
        let refused =
            |message: String| Problem { code: "validation_error".into(), message, field: Some("tenant".into()) };
        if actor.principal.scope().is_some() {
            return Ok(tenant.trim().to_string());
        }
        if tenant == crate::app::model::NEW_TENANT {
            let name = new_tenant.trim();
            if name.is_empty() {
                return Err(refused("Type the new tenant's name.".into()));
            }
            return Ok(name.to_string());
        }
        let tenant = tenant.trim();
        if tenant.is_empty() {
            return Ok(String::new());
        }
        let known = crate::service::webhooks::tenants(state, actor).await.map_err(fail)?;
        if known.iter().any(|t| t == tenant) {
            Ok(tenant.to_string())
        } else {
            Err(refused(format!(
                "There is no tenant \u{201c}{tenant}\u{201d}. Pick one from the list, or choose \u{201c}New tenant…\u{201d} to create it."
            )))
        }
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

    /// The names (description, or URL) of these webhooks, by id.
    pub async fn names(state: &AppState, ids: &[String]) -> Result<crate::app::model::WebhookNames, Problem> {
        let rows = crate::service::webhooks::names(state, ids).await.map_err(fail)?;
        Ok(rows
            .into_iter()
            .map(|(id, url, description)| (id, crate::app::model::webhook_name(&url, &description)))
            .collect())
    }

    /// Headers typed one per line (`Name: value`), or the problem naming the field.
    pub fn header_lines(text: &str) -> Result<std::collections::BTreeMap<String, String>, Problem> {
        crate::domain::traffic::header_lines(text).map_err(|(field, message)| Problem {
            code: "validation_error".into(),
            message,
            field: Some(field),
        })
    }

    /// A key's rate typed in a form: empty is none (the server's default).
    pub fn rate(text: &str) -> Result<Option<i64>, Problem> {
        whole(text, "rateLimit")
    }

    /// A whole number typed in a form's `field`: empty is none.
    pub fn whole(text: &str, field: &str) -> Result<Option<i64>, Problem> {
        match text.trim() {
            "" => Ok(None),
            t => t.parse::<i64>().map(Some).map_err(|_| Problem {
                code: "validation_error".into(),
                message: format!("{field} is a whole number (or empty)"),
                field: Some(field.into()),
            }),
        }
    }

    /// The delivery order chosen in a form (empty: any order).
    pub fn ordering(text: &str) -> Result<crate::domain::DeliveryOrder, Problem> {
        match text.trim() {
            "" => Ok(crate::domain::DeliveryOrder::None),
            t => crate::domain::DeliveryOrder::parse(t).ok_or_else(|| Problem {
                code: "validation_error".into(),
                message: "ordering is `none` or `fifo`".into(),
                field: Some("ordering".into()),
            }),
        }
    }

    /// Address ranges typed one per line (or separated by commas or spaces).
    pub fn ranges(text: &str) -> Vec<String> {
        text.split(|c: char| c == ',' || c.is_whitespace()).filter(|r| !r.is_empty()).map(str::to_string).collect()
    }

    /// `Some(s)` unless `s` is blank.
    pub fn given(s: String) -> Option<String> {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    }

    /// The delivery log's query of a filter: a page of `limit` from its cursor or, without a limit,
    /// everything it selects (to count).
    pub fn delivery_query(
        filter: &LogFilter,
        limit: Option<u32>,
        now_ms: i64,
    ) -> crate::service::deliveries::ListQuery {
        let (since, until) = filter.window(now_ms);
        crate::service::deliveries::ListQuery {
            webhook_id: given(filter.webhook_id.clone()),
            event_id: None,
            event: given(filter.event.clone()),
            status: given(filter.status.clone()),
            tenant: given(filter.tenant.clone()),
            since,
            until,
            limit,
            cursor: limit.and(given(filter.cursor.clone())),
        }
    }

    /// The event list's query of a filter (its tenant, event type and time), as [`delivery_query`].
    pub fn event_query(filter: &LogFilter, limit: Option<u32>, now_ms: i64) -> crate::service::events::ListQuery {
        let q = delivery_query(filter, limit, now_ms);
        crate::service::events::ListQuery {
            event: q.event,
            tenant: q.tenant,
            since: q.since,
            until: q.until,
            limit,
            cursor: q.cursor,
        }
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

/// The tenants a principal may filter by: every tenant with webhooks for an admin, its own for a
/// tenant key.
#[server(prefix = "/console", endpoint = "tenants", client = crate::app::csrf::ConsoleClient)]
pub async fn tenants() -> Result<Answer<Vec<String>>, ServerFnError> {
    answer(async move {
        let (state, actor) = ssr::actor().await?;
        crate::service::webhooks::tenants(&state, &actor).await.map_err(ssr::fail)
    })
    .await
}

/// A page of the delivery log, with its webhooks' names.
#[server(prefix = "/console", endpoint = "deliveries", client = crate::app::csrf::ConsoleClient)]
pub async fn deliveries(#[server(default)] filter: LogFilter) -> Result<Answer<DeliveryLog>, ServerFnError> {
    answer(async move {
        use crate::app::model::COUNT_CAP;
        use crate::service::deliveries::{count, list};
        let (state, actor) = ssr::actor().await?;
        // One instant for the page, its count and its export.
        let as_of = chrono::Utc::now().timestamp_millis();
        let page = list(&state, &actor, ssr::delivery_query(&filter, Some(25), as_of)).await.map_err(ssr::fail)?;
        let total =
            count(&state, &actor, ssr::delivery_query(&filter, None, as_of), COUNT_CAP).await.map_err(ssr::fail)?;
        let mut ids: Vec<String> = page.data.iter().map(|d| d.webhook_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let names = ssr::names(&state, &ids).await?;
        Ok(DeliveryLog { page, names, total, as_of })
    })
    .await
}

/// How many failed deliveries the log's view holds; with `run`, queues them again.
#[server(prefix = "/console", endpoint = "retry_failed", client = crate::app::csrf::ConsoleClient)]
pub async fn retry_failed(
    #[server(default)] filter: LogFilter,
    #[server(default)] run: bool,
) -> Result<Answer<crate::domain::Requeued>, ServerFnError> {
    answer(async move {
        use crate::service::deliveries::RetryFailedIn;
        let (state, actor) = ssr::actor().await?;
        let (since, until) = filter.window(chrono::Utc::now().timestamp_millis());
        let input = RetryFailedIn {
            webhook_id: ssr::given(filter.webhook_id),
            event: ssr::given(filter.event),
            tenant: ssr::given(filter.tenant),
            since,
            until,
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
        let webhook_name =
            ssr::names(&state, std::slice::from_ref(&out.delivery.webhook_id)).await?.into_values().next();
        Ok(DeliveryView {
            delivery: out.delivery,
            attempts: out.attempts,
            request_body: out.request_body,
            webhook_name,
        })
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
    #[server(default)] rate_limit: String,
    #[server(default)] allowed_ips: String,
) -> Result<Answer<CreatedKey>, ServerFnError> {
    answer(async move {
        use crate::service::keys::KeyIn;
        let (state, actor) = ssr::actor().await?;
        let input = KeyIn {
            tenant: ssr::given(tenant),
            role: ssr::given(role),
            name,
            rate_limit: ssr::rate(&rate_limit)?,
            allowed_ips: Some(ssr::ranges(&allowed_ips)),
        };
        let created = crate::service::keys::create(&state, &actor, input).await.map_err(ssr::fail)?;
        let known = crate::service::webhooks::tenants(&state, &actor).await.map_err(ssr::fail)?;
        let new_tenant = created.tenant.clone().filter(|t| !known.contains(t));
        Ok(CreatedKey { id: created.id, name: created.name, key: created.key, new_tenant })
    })
    .await
}

/// Changes a key's rate limit (empty: the server's default) and allowed addresses (empty: anywhere).
#[server(prefix = "/console", endpoint = "key_controls", client = crate::app::csrf::ConsoleClient)]
pub async fn set_key_controls(
    #[server(default)] id: String,
    #[server(default)] rate_limit: String,
    #[server(default)] allowed_ips: String,
) -> Result<Answer<ApiKey>, ServerFnError> {
    answer(async move {
        use crate::service::keys::KeyPatchIn;
        let (state, actor) = ssr::actor().await?;
        let patch = KeyPatchIn {
            name: None,
            rate_limit: Some(ssr::rate(&rate_limit)?),
            allowed_ips: Some(Some(ssr::ranges(&allowed_ips))),
        };
        crate::service::keys::update(&state, &actor, &id, patch).await.map_err(ssr::fail)
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
