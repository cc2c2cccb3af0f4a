//! Fan-out of a batch of publishes, worked out before anything is written (pure, shared by the
//! backends): which events are new, which repeat an idempotency key seen before (answered with the
//! first answer again, or refused when the body differs), and one delivery per matching webhook.

use super::model::{NewEvent, Published};
use super::{StoreError, StoreResult};
use crate::crypto;
use crate::domain::event_type::any_matches;
use std::collections::HashMap;

/// The webhooks that take new deliveries: the active ones, and those the engine switched off (their
/// deliveries are queued held, so nothing published meanwhile is lost to them).
pub(crate) const HOOKS_SQL: &str = "SELECT id, tenant, events, active, url, secret, previous_secret,
    previous_secret_expires_at, headers, controlled FROM webhooks WHERE active = TRUE OR hold_new = TRUE";

/// A row of [`HOOKS_SQL`].
pub(crate) type HookRow = (String, String, String, bool, String, String, Option<String>, Option<i64>, String, bool);

/// A webhook that may receive the batch's events.
pub(crate) struct Hook {
    pub id: String,
    pub tenant: String,
    patterns: Vec<String>,
    /// Switched off by the engine: its deliveries are queued held.
    pub held: bool,
    /// Where and how to send (for deliveries handed straight to the workers).
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    /// Its own headers (a JSON object as stored).
    pub headers: String,
    /// Has delivery controls: its deliveries are queued for its lane, never handed over.
    pub controlled: bool,
}

impl Hook {
    /// From a row of [`HOOKS_SQL`].
    pub fn new(row: HookRow) -> Self {
        let (id, tenant, events, active, url, secret, previous_secret, previous_secret_expires_at, headers, controlled) =
            row;
        Hook {
            id,
            tenant,
            patterns: serde_json::from_str(&events).unwrap_or_default(),
            held: !active,
            url,
            secret,
            previous_secret,
            previous_secret_expires_at,
            headers,
            controlled,
        }
    }
}

/// One publish of the batch: the event and its type's catalog category.
pub(crate) struct Publish<'a> {
    pub new: &'a NewEvent,
    pub category: &'a str,
}

/// An idempotency key seen before the batch: the event it made, the request's fingerprint then,
/// and how many deliveries it made.
pub(crate) struct Seen {
    pub event_id: String,
    pub fingerprint: Option<String>,
    pub deliveries: i64,
}

/// An event to insert.
pub(crate) struct NewRow<'a> {
    pub id: String,
    pub new: &'a NewEvent,
    pub deliveries: i64,
}

/// A delivery to insert.
pub(crate) struct NewDelivery<'a> {
    pub id: String,
    pub event_id: String,
    pub hook: &'a Hook,
    pub event: &'a str,
    pub data: &'a str,
}

/// What a batch comes to: one answer per publish, in order, and the rows to write.
pub(crate) struct Plan<'a> {
    pub answers: Vec<StoreResult<Published>>,
    pub events: Vec<NewRow<'a>>,
    pub deliveries: Vec<NewDelivery<'a>>,
}

/// Works out a batch. `seen` holds the idempotency keys `(scope, key)` of the batch that exist
/// already; keys repeated within the batch are answered like keys seen before.
pub(crate) fn plan<'a>(batch: &[Publish<'a>], hooks: &'a [Hook], seen: &HashMap<(String, String), Seen>) -> Plan<'a> {
    let mut plan = Plan { answers: Vec::with_capacity(batch.len()), events: Vec::new(), deliveries: Vec::new() };
    // Keys first used in this batch: (scope, key) → (event id, fingerprint, deliveries).
    let mut fresh: HashMap<(&str, &str), (String, &str, i64)> = HashMap::new();
    for publish in batch {
        let new = publish.new;
        if let Some((scope, key, fingerprint)) = &new.idempotency {
            let before = match fresh.get(&(scope.as_str(), key.as_str())) {
                Some((id, fp, n)) => Some((id.clone(), Some(*fp), *n)),
                None => seen
                    .get(&(scope.clone(), key.clone()))
                    .map(|s| (s.event_id.clone(), s.fingerprint.as_deref(), s.deliveries)),
            };
            if let Some((id, hash, n)) = before {
                plan.answers.push(if hash == Some(fingerprint.as_str()) {
                    Ok(Published { id, deliveries: n, replayed: true })
                } else {
                    Err(StoreError::IdempotencyConflict)
                });
                continue;
            }
        }
        let id = crypto::new_id("evt_");
        let mut count = 0;
        for hook in hooks.iter().filter(|h| {
            new.tenant.as_deref().is_none_or(|t| t == h.tenant)
                && any_matches(&h.patterns, &new.event, publish.category)
        }) {
            plan.deliveries.push(NewDelivery {
                id: crypto::new_id("dlv_"),
                event_id: id.clone(),
                hook,
                event: &new.event,
                data: &new.data,
            });
            count += 1;
        }
        if let Some((scope, key, fingerprint)) = &new.idempotency {
            fresh.insert((scope, key), (id.clone(), fingerprint, count));
        }
        plan.answers.push(Ok(Published { id: id.clone(), deliveries: count, replayed: false }));
        plan.events.push(NewRow { id, new, deliveries: count });
    }
    plan
}

/// The idempotency keys `(scope, key)` of a batch.
pub(crate) fn keys<'a>(batch: &[Publish<'a>]) -> Vec<(&'a str, &'a str)> {
    batch.iter().filter_map(|p| p.new.idempotency.as_ref().map(|(s, k, _)| (s.as_str(), k.as_str()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: &str, tenant: &str, patterns: &[&str]) -> Hook {
        Hook {
            id: id.into(),
            tenant: tenant.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            held: false,
            url: format!("https://{id}.example/hook"),
            secret: "whsec_test".into(),
            previous_secret: None,
            previous_secret_expires_at: None,
            headers: "{}".into(),
            controlled: false,
        }
    }

    fn event(tenant: Option<&str>, key: Option<(&str, &str)>) -> NewEvent {
        NewEvent {
            tenant: tenant.map(str::to_string),
            event: "transaction.completed".into(),
            data: "{}".into(),
            idempotency: key.map(|(k, fp)| ("tenant:a".to_string(), k.to_string(), fp.to_string())),
        }
    }

    #[test]
    fn an_event_goes_to_its_tenants_matching_webhooks_and_a_broadcast_to_every_tenant() {
        let hooks = [hook("w1", "a", &["transaction.*"]), hook("w2", "b", &["*"]), hook("w3", "a", &["payout.*"])];
        let (own, broadcast) = (event(Some("a"), None), event(None, None));
        let batch =
            [Publish { new: &own, category: "transaction" }, Publish { new: &broadcast, category: "transaction" }];
        let plan = plan(&batch, &hooks, &HashMap::new());
        let to: Vec<&str> = plan.deliveries.iter().map(|d| d.hook.id.as_str()).collect();
        assert_eq!(to, ["w1", "w1", "w2"]);
        assert_eq!(plan.events.iter().map(|e| e.deliveries).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn a_repeated_key_answers_the_first_publish_again_or_is_refused_with_another_body() {
        let hooks = [hook("w1", "a", &["*"])];
        let (first, again, other) = (
            event(Some("a"), Some(("k", "fp1"))),
            event(Some("a"), Some(("k", "fp1"))),
            event(Some("a"), Some(("k", "fp2"))),
        );
        let batch = [
            Publish { new: &first, category: "" },
            Publish { new: &again, category: "" },
            Publish { new: &other, category: "" },
        ];
        let plan = plan(&batch, &hooks, &HashMap::new());
        assert_eq!(plan.events.len(), 1);
        let first = plan.answers[0].as_ref().unwrap();
        let again = plan.answers[1].as_ref().unwrap();
        assert!(!first.replayed && again.replayed && again.id == first.id && again.deliveries == 1);
        assert_eq!(plan.answers[2], Err(StoreError::IdempotencyConflict));
    }

    #[test]
    fn a_key_stored_before_the_batch_is_answered_from_the_store() {
        let seen = HashMap::from([(
            ("tenant:a".to_string(), "k".to_string()),
            Seen { event_id: "evt_1".into(), fingerprint: Some("fp".into()), deliveries: 3 },
        )]);
        let again = event(Some("a"), Some(("k", "fp")));
        let plan = plan(&[Publish { new: &again, category: "" }], &[], &seen);
        assert_eq!(plan.answers[0], Ok(Published { id: "evt_1".into(), deliveries: 3, replayed: true }));
        assert!(plan.events.is_empty());
    }
}
