//! What the console's server functions answer: the views they return, and the [`Problem`] they
//! refuse with. Shared by the server and the browser.

use crate::domain::{Alert, Attempt, Delivery, DeliveryStatus, EventType, Page, Stats, Webhook};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Message of the error a server function gives when there is no session.
pub const SIGNED_OUT: &str = "signed_out";

/// A refusal as the REST API words it: code, message and the field at fault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// What a console server function answers: the value, or the refusal to show. Refusals travel as
/// ordinary answers (HTTP 200) so the browser logs no failed request for a form the user got wrong.
pub type Answer<T> = Result<T, Problem>;

/// The answer of a server function call, transport failures included.
pub fn settle<T>(result: Result<Answer<T>, ServerFnError>) -> Answer<T> {
    result.unwrap_or_else(|e| Err(Problem::of(&e)))
}

impl From<ServerFnError> for Problem {
    fn from(error: ServerFnError) -> Self {
        Problem::of(&error)
    }
}

impl Problem {
    /// The problem a server function reported (or a generic one for a transport failure).
    pub fn of(error: &ServerFnError) -> Problem {
        match error {
            ServerFnError::ServerError(text) => serde_json::from_str(text).unwrap_or_else(|_| Problem {
                code: "error".into(),
                message: text.clone(),
                field: None,
            }),
            other => Problem { code: "network".into(), message: other.to_string(), field: None },
        }
    }

    pub fn signed_out(&self) -> bool {
        self.code == SIGNED_OUT
    }
}

/// The dashboard's data: statistics of the window and the active alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub stats: Stats,
    pub alerts: Vec<Alert>,
}

/// A webhook's page: the webhook, its statistics and its latest deliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    pub webhook: Webhook,
    /// The catalog, for the edit form's event picker.
    pub event_types: Vec<EventType>,
    pub stats: Stats,
    pub deliveries: Page<Delivery>,
}

impl WebhookView {
    /// The webhook's own name, for its latest deliveries.
    pub fn names(&self) -> WebhookNames {
        WebhookNames::from([(self.webhook.id.clone(), webhook_name(&self.webhook.url, &self.webhook.description))])
    }
}

/// A webhook in the list with its health over the last 24 hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookHealth {
    pub webhook: Webhook,
    /// `healthy`, `failing`, `disabled` or `paused` (see [`health_state`]).
    pub state: String,
    pub success_rate: Option<f64>,
    /// Success rate per hour, oldest first (`None`: no attempts that hour).
    pub series: Vec<Option<f64>>,
    pub p95_ms: Option<i64>,
    /// The latest delivery: when it was made and how it stands.
    pub last: Option<(DateTime<Utc>, DeliveryStatus)>,
}

/// A webhook's health: `paused` or `disabled` when it is off; `failing` while its last attempts
/// failed, or when under 90 % of at least 10 attempts in the window succeeded; `healthy` otherwise.
pub fn health_state(webhook: &Webhook, attempts: i64, success_rate: Option<f64>) -> &'static str {
    if webhook.paused {
        "paused"
    } else if !webhook.active {
        "disabled"
    } else if webhook.consecutive_failures > 0 || (attempts >= 10 && success_rate.is_some_and(|r| r < 0.9)) {
        "failing"
    } else {
        "healthy"
    }
}

/// A page of the delivery log, with the names (description, or URL) of the webhooks it shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub page: Page<Delivery>,
    pub names: WebhookNames,
}

/// Webhook names by id, for showing a person names rather than ids.
pub type WebhookNames = std::collections::BTreeMap<String, String>;

/// What a person calls a webhook: its description, or its URL when it has none.
pub fn webhook_name(url: &str, description: &str) -> String {
    if description.trim().is_empty() {
        url.to_string()
    } else {
        description.to_string()
    }
}

/// A delivery with every attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
    /// The body every attempt sent.
    pub request_body: Option<String>,
}

/// A key just created: `key` is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub key: String,
}

/// Filters of the delivery log, as they stand in the page's URL.
/// What was typed into the new-webhook form, carried back to it in the address after a plain form
/// post was refused (a custom secret never is).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewWebhookForm {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub tenant: String,
}

impl NewWebhookForm {
    /// The query string of the form's values and `problem`.
    pub fn query(&self, problem: &Problem) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("url", &self.url)
            .append_pair("description", &self.description)
            .append_pair("tenant", &self.tenant);
        for e in &self.events {
            q.append_pair("events", e);
        }
        q.append_pair("error", &problem.message).append_pair("code", &problem.code);
        if let Some(field) = &problem.field {
            q.append_pair("field", field);
        }
        q.finish()
    }
}

/// A webhook's recovery since a time: its failed deliveries that can be queued again, and the
/// events it missed (counted, or — for the one asked to run — done).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    pub failed: u64,
    pub missed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFilter {
    pub webhook_id: String,
    pub tenant: String,
    pub event: String,
    pub status: String,
    pub since: String,
    pub until: String,
    pub cursor: String,
}

impl LogFilter {
    /// The query string of these filters (without the cursor), for links and the CSV export.
    pub fn query(&self) -> String {
        let pairs = [
            ("webhookId", &self.webhook_id),
            ("tenant", &self.tenant),
            ("event", &self.event),
            ("status", &self.status),
            ("since", &self.since),
            ("until", &self.until),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(active: bool, paused: bool, consecutive_failures: i64) -> Webhook {
        Webhook {
            id: "wh_1".into(),
            tenant: "t".into(),
            url: "https://example.com".into(),
            events: vec!["*".into()],
            description: String::new(),
            secret: String::new(),
            active,
            paused,
            disabled_reason: None,
            consecutive_failures,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn health_says_what_a_person_needs_to_know_first() {
        assert_eq!(health_state(&webhook(false, true, 0), 0, None), "paused");
        assert_eq!(health_state(&webhook(false, false, 12), 100, Some(0.1)), "disabled");
        assert_eq!(health_state(&webhook(true, false, 1), 1, Some(0.0)), "failing", "its last attempt failed");
        assert_eq!(health_state(&webhook(true, false, 0), 20, Some(0.85)), "failing", "most attempts fail");
        assert_eq!(health_state(&webhook(true, false, 0), 3, Some(0.67)), "healthy", "too few attempts to judge");
        assert_eq!(health_state(&webhook(true, false, 0), 0, None), "healthy");
    }
}
