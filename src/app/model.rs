//! What the console's server functions answer: the views they return, and the [`Problem`] they
//! refuse with. Shared by the server and the browser.

use crate::domain::{Alert, Attempt, Delivery, DeliveryStatus, Event, EventType, Page, Stats, Webhook};
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
    /// `healthy`, `failing`, `no-traffic`, `disabled` or `paused` (see [`health_state`]).
    pub state: String,
    pub success_rate: Option<f64>,
    /// Success rate per hour, oldest first (`None`: no attempts that hour).
    pub series: Vec<Option<f64>>,
    pub p95_ms: Option<i64>,
    /// The latest delivery: when it was made and how it stands.
    pub last: Option<(DateTime<Utc>, DeliveryStatus)>,
}

/// A webhook's health: `paused` or `disabled` when it is off; `failing` while its last attempts
/// failed, or when under 90 % of at least 10 attempts in the window succeeded; `no-traffic` when
/// nothing was attempted in the window (nothing to judge it by); `healthy` otherwise.
pub fn health_state(webhook: &Webhook, attempts: i64, success_rate: Option<f64>) -> &'static str {
    if webhook.paused {
        "paused"
    } else if !webhook.active {
        "disabled"
    } else if webhook.consecutive_failures > 0 || (attempts >= 10 && success_rate.is_some_and(|r| r < 0.9)) {
        "failing"
    } else if attempts == 0 {
        "no-traffic"
    } else {
        "healthy"
    }
}

/// A page of the delivery log, with the names (description, or URL) of the webhooks it shows and
/// how many deliveries the filters select (counted up to [`COUNT_CAP`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub page: Page<Delivery>,
    pub names: WebhookNames,
    pub total: i64,
    /// When the view was read (unix ms): its window ends then, and its export covers exactly it.
    pub as_of: i64,
}

/// A page of published events and how many the filters select (counted up to [`COUNT_CAP`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLog {
    pub page: Page<Event>,
    pub total: i64,
}

/// Lists count their rows up to this many ("10,000+" beyond): an exact count of a long log would
/// cost more than the page itself.
pub const COUNT_CAP: i64 = 10_000;

/// An event with where it went, and where it may be sent again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub event: Event,
    /// Its deliveries, newest first.
    pub deliveries: Vec<Delivery>,
    pub names: WebhookNames,
    /// The webhooks it may be sent to again (its tenant's; anyone's for a broadcast).
    pub targets: Vec<SendTarget>,
}

/// A webhook an event may be sent again to, and what sending would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendTarget {
    pub id: String,
    /// Its name, with what sending would do ("off: it would be held…", "not subscribed to…").
    pub label: String,
    /// It is off or paused: the delivery would be held.
    pub held: bool,
    pub subscribed: bool,
}

/// A delivery queued by "send again".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentAgain {
    pub delivery_id: String,
    /// `pending`, or `held` while the webhook is off.
    pub status: String,
}

/// Webhook names by id, for showing a person names rather than ids.
pub type WebhookNames = std::collections::BTreeMap<String, String>;

pub use crate::domain::webhook_name;

/// A delivery with every attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
    /// The body every attempt sent.
    pub request_body: Option<String>,
    /// The webhook's name (description, or URL); `None` once it is deleted.
    pub webhook_name: Option<String>,
}

/// A key just created: `key` is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub key: String,
    /// The key's tenant, when no webhook belongs to it yet (a new tenant, or a misspelt one).
    pub new_tenant: Option<String>,
}

/// What was typed into the new-webhook form, carried back to it in the address after a plain form
/// post was refused (a custom secret never is).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewWebhookForm {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    /// A tenant picked from those that exist, or [`NEW_TENANT`] for the one typed in `new_tenant`.
    pub tenant: String,
    pub new_tenant: String,
    pub headers: String,
    pub rate_limit: String,
    pub max_in_flight: String,
    pub ordering: String,
}

/// The new-webhook form's choice "New tenant…": the tenant is the name typed beside it.
pub const NEW_TENANT: &str = "__new__";

impl NewWebhookForm {
    /// The query string of the form's values and `problem`.
    pub fn query(&self, problem: &Problem) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("url", &self.url)
            .append_pair("description", &self.description)
            .append_pair("tenant", &self.tenant)
            .append_pair("new_tenant", &self.new_tenant)
            .append_pair("headers", &self.headers)
            .append_pair("rate_limit", &self.rate_limit)
            .append_pair("max_in_flight", &self.max_in_flight)
            .append_pair("ordering", &self.ordering);
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

/// Filters of the delivery log (and the event list, which uses the tenant, event and time), as
/// they stand in the page's URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFilter {
    pub webhook_id: String,
    pub tenant: String,
    pub event: String,
    pub status: String,
    /// A quick choice (`1h`, `24h`, `7d`, counted back from now), `custom`, or empty (any time,
    /// unless `since`/`until` say otherwise).
    pub range: String,
    /// RFC 3339, unix ms, or a form's local `2026-11-30T07:30` in the zone `tz` says.
    pub since: String,
    pub until: String,
    /// The browser's `getTimezoneOffset()` (minutes, UTC minus local) for local times; empty is UTC.
    pub tz: String,
    pub cursor: String,
    /// The cursors of the pages before this one, oldest first, `0` for the first: for "Previous".
    pub trail: String,
}

/// The quick choices of a time range, and how far back each goes.
pub const RANGE_CHOICES: [(&str, &str, i64); 3] =
    [("1h", "Last hour", 3_600_000), ("24h", "Last 24 hours", 86_400_000), ("7d", "Last 7 days", 604_800_000)];

impl LogFilter {
    /// The filters in a page's URL, `param` reading one query parameter by name ("" when absent).
    pub fn from_url(param: impl Fn(&str) -> String) -> Self {
        LogFilter {
            webhook_id: param("webhookId"),
            tenant: param("tenant"),
            event: param("event"),
            status: param("status"),
            range: param("range"),
            since: param("since"),
            until: param("until"),
            tz: param("tz"),
            cursor: param("cursor"),
            trail: param("trail"),
        }
    }

    /// The filters the event list takes: all but the webhook and the delivery status.
    pub fn of_events(self) -> Self {
        LogFilter { webhook_id: String::new(), status: String::new(), ..self }
    }

    /// The query string of these filters (without the page), for links and the CSV export.
    pub fn query(&self) -> String {
        let pairs = [
            ("webhookId", &self.webhook_id),
            ("tenant", &self.tenant),
            ("event", &self.event),
            ("status", &self.status),
            ("range", &self.range),
            ("since", &self.since),
            ("until", &self.until),
            ("tz", &self.tz),
        ];
        encode(&pairs)
    }

    /// The window's bounds as the API reads them (unix ms, or the text as given for the API to
    /// judge): a quick choice counts back from `now_ms`; local times are turned into UTC.
    pub fn bounds(&self, now_ms: i64) -> (Option<String>, Option<String>) {
        if let Some((.., back)) = RANGE_CHOICES.iter().find(|(key, ..)| *key == self.range) {
            return (Some((now_ms - back).to_string()), None);
        }
        let offset_min: i64 = self.tz.trim().parse().unwrap_or(0);
        let bound = |value: &str| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            let local = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"));
            Some(match local {
                Ok(t) => (t.and_utc().timestamp_millis() + offset_min * 60_000).to_string(),
                Err(_) => value.to_string(),
            })
        };
        (bound(&self.since), bound(&self.until))
    }

    /// The window the log shows when read at `now_ms`: [`Self::bounds`], closed at `now_ms` when it
    /// has no end (what was made after the view was read is not in it).
    pub fn window(&self, now_ms: i64) -> (Option<String>, Option<String>) {
        let (since, until) = self.bounds(now_ms);
        (since, until.or_else(|| Some(now_ms.to_string())))
    }

    /// The CSV export of exactly the view read at `as_of`: the same filters and the same window,
    /// its bounds in unix ms (a quick choice counted back from `as_of`, local times turned to UTC).
    pub fn export_href(&self, as_of: i64) -> String {
        let (since, until) = self.window(as_of);
        let (since, until) = (since.unwrap_or_default(), until.unwrap_or_default());
        let pairs = [
            ("webhookId", &self.webhook_id),
            ("tenant", &self.tenant),
            ("event", &self.event),
            ("status", &self.status),
            ("since", &since),
            ("until", &until),
        ];
        format!("/api/deliveries/export.csv?{}", encode(&pairs))
    }

    /// Which page this is, counting from 1.
    pub fn page_number(&self) -> usize {
        self.trail.split(',').filter(|c| !c.is_empty()).count() + 1
    }

    /// The query string of the page after this one, which starts at `next`.
    pub fn next_page(&self, next: &str) -> String {
        let here = if self.cursor.is_empty() { "0" } else { self.cursor.as_str() };
        let trail = if self.trail.is_empty() { here.to_string() } else { format!("{},{here}", self.trail) };
        self.with_page(next, &trail)
    }

    /// The query string of the page before this one, unless this is the first.
    pub fn previous_page(&self) -> Option<String> {
        let (rest, last) = match self.trail.rsplit_once(',') {
            Some((rest, last)) => (rest, last),
            None if !self.trail.is_empty() => ("", self.trail.as_str()),
            None => return None,
        };
        Some(self.with_page(if last == "0" { "" } else { last }, rest))
    }

    fn with_page(&self, cursor: &str, trail: &str) -> String {
        let page = encode(&[("cursor", &cursor.to_string()), ("trail", &trail.to_string())]);
        match (self.query(), page.is_empty()) {
            (q, true) => q,
            (q, false) if q.is_empty() => page,
            (q, false) => format!("{q}&{page}"),
        }
    }
}

/// `k=v&…` of the pairs with a value, URL-encoded.
fn encode(pairs: &[(&str, &String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect::<Vec<_>>()
        .join("&")
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
            headers: Default::default(),
            rate_limit: None,
            max_in_flight: None,
            ordering: Default::default(),
        }
    }

    #[test]
    fn health_says_what_a_person_needs_to_know_first() {
        assert_eq!(health_state(&webhook(false, true, 0), 0, None), "paused");
        assert_eq!(health_state(&webhook(false, false, 12), 100, Some(0.1)), "disabled");
        assert_eq!(health_state(&webhook(true, false, 1), 1, Some(0.0)), "failing", "its last attempt failed");
        assert_eq!(health_state(&webhook(true, false, 0), 20, Some(0.85)), "failing", "most attempts fail");
        assert_eq!(health_state(&webhook(true, false, 0), 3, Some(0.67)), "healthy", "too few attempts to judge");
        assert_eq!(health_state(&webhook(true, false, 0), 0, None), "no-traffic", "nothing to judge it by");
        assert_eq!(health_state(&webhook(true, false, 0), 1, Some(1.0)), "healthy");
    }

    #[test]
    fn the_export_is_the_view_its_window_closed_when_the_view_was_read() {
        let now = 1_764_500_000_000;
        let quick = LogFilter { range: "1h".into(), status: "failed".into(), ..LogFilter::default() };
        assert_eq!(
            quick.export_href(now),
            format!("/api/deliveries/export.csv?status=failed&since={}&until={now}", now - 3_600_000)
        );
        let custom = LogFilter {
            range: "custom".into(),
            since: "2026-11-30T09:30".into(),
            until: "2026-11-30T10:00".into(),
            tz: "-60".into(),
            ..LogFilter::default()
        };
        let ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis();
        assert_eq!(
            custom.export_href(now),
            format!(
                "/api/deliveries/export.csv?since={}&until={}",
                ms("2026-11-30T08:30:00Z"),
                ms("2026-11-30T09:00:00Z")
            ),
            "local times of UTC+1 in UTC, as the page reads them"
        );
        assert_eq!(LogFilter::default().export_href(now), format!("/api/deliveries/export.csv?until={now}"));
    }

    #[test]
    fn a_range_is_counted_back_from_now_and_local_times_become_utc() {
        let now = 1_800_000_000_000;
        let quick = LogFilter { range: "24h".into(), since: "2026-01-01T00:00".into(), ..LogFilter::default() };
        assert_eq!(quick.bounds(now), (Some((now - 86_400_000).to_string()), None), "a quick choice wins");
        // UTC+2 (getTimezoneOffset -120): 09:30 there is 07:30 UTC.
        let local = LogFilter {
            range: "custom".into(),
            since: "2026-11-30T09:30".into(),
            until: "2026-11-30T10:00".into(),
            tz: "-120".into(),
            ..LogFilter::default()
        };
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis().to_string();
        assert_eq!(local.bounds(now), (Some(at("2026-11-30T07:30:00Z")), Some(at("2026-11-30T08:00:00Z"))));
        let given = LogFilter { since: "2026-11-30T07:30:00Z".into(), ..LogFilter::default() };
        assert_eq!(given.bounds(now), (Some("2026-11-30T07:30:00Z".into()), None), "RFC 3339 goes as given");
        let bad = LogFilter { since: "yesterday".into(), ..LogFilter::default() };
        assert_eq!(bad.bounds(now).0.as_deref(), Some("yesterday"), "left for the API to refuse");
    }

    #[test]
    fn pages_go_forward_and_back_through_the_trail() {
        let first = LogFilter { status: "failed".into(), ..LogFilter::default() };
        assert_eq!(first.page_number(), 1);
        assert_eq!(first.previous_page(), None);
        let second_q = first.next_page("dlv_B");
        assert_eq!(second_q, "status=failed&cursor=dlv_B&trail=0");
        let second = LogFilter { cursor: "dlv_B".into(), trail: "0".into(), ..first.clone() };
        assert_eq!(second.page_number(), 2);
        assert_eq!(second.previous_page().as_deref(), Some("status=failed"));
        let third = LogFilter { cursor: "dlv_C".into(), trail: "0,dlv_B".into(), ..first.clone() };
        assert_eq!(third.page_number(), 3);
        assert_eq!(third.previous_page().as_deref(), Some("status=failed&cursor=dlv_B&trail=0"));
        assert_eq!(third.next_page("dlv_D"), "status=failed&cursor=dlv_D&trail=0%2Cdlv_B%2Cdlv_C");
    }
}
