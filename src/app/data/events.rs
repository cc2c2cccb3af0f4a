//! The console's server functions for published events: the list, one event with where it went,
//! and "send again to…" a chosen webhook.

#[cfg(feature = "ssr")]
use super::{answer, ssr};
use crate::app::model::{Answer, EventLog, EventView, LogFilter, SentAgain};
use leptos::prelude::*;

/// A page of published events (the filter's tenant, event type and time) and how many match.
#[server(prefix = "/console", endpoint = "events", client = crate::app::csrf::ConsoleClient)]
pub async fn events(#[server(default)] filter: LogFilter) -> Result<Answer<EventLog>, ServerFnError> {
    answer(async move {
        use crate::app::model::COUNT_CAP;
        use crate::service::events::{count, list};
        let (state, actor) = ssr::actor().await?;
        let as_of = chrono::Utc::now().timestamp_millis();
        let page = list(&state, &actor, ssr::event_query(&filter, Some(25), as_of)).await.map_err(ssr::fail)?;
        let total =
            count(&state, &actor, ssr::event_query(&filter, None, as_of), COUNT_CAP).await.map_err(ssr::fail)?;
        Ok(EventLog { page, total })
    })
    .await
}

/// One event, its deliveries (with their webhooks' names) and the webhooks it may be sent to.
#[server(prefix = "/console", endpoint = "event", client = crate::app::csrf::ConsoleClient)]
pub async fn get_event_view(#[server(default)] id: String) -> Result<Answer<EventView>, ServerFnError> {
    answer(async move {
        use crate::app::model::webhook_name;
        use crate::service::deliveries::ListQuery;
        let (state, actor) = ssr::actor().await?;
        let event = crate::service::events::get(&state, &actor, &id).await.map_err(ssr::fail)?;
        let query = ListQuery { event_id: Some(event.id.clone()), limit: Some(200), ..ListQuery::default() };
        let deliveries = crate::service::deliveries::list(&state, &actor, query).await.map_err(ssr::fail)?.data;
        let query = crate::service::webhooks::ListQuery {
            search: None,
            status: None,
            event: None,
            tenant: event.tenant.clone(),
            limit: Some(200),
            cursor: None,
        };
        let webhooks = crate::service::webhooks::list(&state, &actor, query).await.map_err(ssr::fail)?.data;
        // Each webhook named with what sending it the event would do: held while it is off or
        // paused; said when it does not subscribe to the type, or already has a delivery of it.
        let category = crate::service::event_types::category(&state, &event.event).await.map_err(ssr::fail)?;
        let category = category.unwrap_or_default();
        let mut targets: Vec<crate::app::model::SendTarget> = webhooks
            .iter()
            .map(|w| {
                let mut notes = Vec::new();
                // A paused webhook is off too (`active` false): say which.
                if w.paused {
                    notes.push("paused: it would be held until resumed".to_string());
                } else if !w.active {
                    notes.push("off: it would be held until switched on".to_string());
                }
                let subscribed = crate::domain::event_type::any_matches(&w.events, &event.event, &category);
                if !subscribed {
                    notes.push(format!("not subscribed to {}", event.event));
                }
                if deliveries.iter().any(|d| d.webhook_id == w.id) {
                    notes.push("already has it".to_string());
                }
                let name = webhook_name(&w.url, &w.description);
                let label = if notes.is_empty() { name } else { format!("{name} ({})", notes.join("; ")) };
                crate::app::model::SendTarget { id: w.id.clone(), label, held: !w.active, subscribed }
            })
            .collect();
        targets.sort_by(|a, b| a.label.cmp(&b.label));
        let mut ids: Vec<String> = deliveries.iter().map(|d| d.webhook_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let names = ssr::names(&state, &ids).await?;
        Ok(EventView { event, deliveries, names, targets })
    })
    .await
}

/// Queues the event once more to a chosen webhook.
#[server(prefix = "/console", endpoint = "send_event", client = crate::app::csrf::ConsoleClient)]
pub async fn send_event(
    #[server(default)] id: String,
    #[server(default)] webhook_id: String,
) -> Result<Answer<SentAgain>, ServerFnError> {
    answer(async move {
        use crate::service::events::{send_to, SendIn};
        let (state, actor) = ssr::actor().await?;
        let sent = send_to(&state, &actor, &id, SendIn { webhook_id }).await.map_err(ssr::fail)?;
        Ok(SentAgain { delivery_id: sent.delivery_id, status: sent.status.to_string() })
    })
    .await
}
