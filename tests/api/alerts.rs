//! `/api/alerts` and the `system.alert` events: raised by a failing receiver, cleared by a recovered one.

use crate::harness::{eventually, TestServer};
use crate::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_failing_receiver_raises_an_alert_and_a_recovered_one_clears_it() {
    let s = TestServer::start_with(|c| {
        c.max_retries = 0;
        c.max_failures = 1_000;
        c.alerts.min_attempts = 5;
        c.alerts.window = Duration::from_secs(2);
        c.alerts.interval = Duration::from_millis(200);
    })
    .await;
    let receivers = Receiver::answering(|path, _| Reply::status(if path == "/erp" { 500 } else { 200 })).await;
    let acme = s.tenant_key("acme").await;
    s.webhook(&acme, &receivers.url("/erp"), &["wallet.*"]).await;
    s.webhook(&acme, &receivers.url("/pager"), &["system.alert"]).await;
    for _ in 0..8 {
        s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    }
    let success_alert = || async {
        let list = s.get(&acme, "/api/alerts").await.body["data"].clone();
        list.as_array().unwrap().iter().find(|a| a["kind"] == "success_rate").cloned()
    };
    eventually(WAIT, "a success-rate alert is active", || async { success_alert().await.is_some() }).await;
    let alert = success_alert().await.unwrap();
    assert_eq!(alert["level"], "critical");
    assert_eq!(alert["subject"], "tenant:acme");
    assert!(alert["since"].is_string());

    // The pager webhook is told.
    eventually(WAIT, "the pager got alert_raised", || async {
        receivers.received().iter().any(|r| r.path == "/pager" && r.json()["data"]["kind"] == "alert_raised")
    })
    .await;
    let raised = receivers.received().into_iter().find(|r| r.json()["data"]["kind"] == "alert_raised").unwrap();
    let data = &raised.json()["data"];
    assert_eq!((data["alert"].as_str(), data["tenant"].as_str()), (Some("success_rate"), Some("acme")), "{data}");
    assert!(data["level"].is_string() && data["message"].is_string(), "{data}");

    // The receiver recovers; once the failures leave the window, the alert clears and the pager hears.
    receivers.set_rule(|_, _| Reply::status(200));
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    for _ in 0..6 {
        s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    }
    eventually(WAIT, "the pager got alert_cleared", || async {
        receivers.received().iter().any(|r| r.path == "/pager" && r.json()["data"]["kind"] == "alert_cleared")
    })
    .await;
    let list = s.get(&acme, "/api/alerts").await.body;
    assert!(list["data"].as_array().unwrap().iter().all(|a| a["kind"] != "success_rate"), "{list}");

    // Another tenant sees none of it.
    let globex = s.tenant_key("globex").await;
    assert_eq!(s.get(&globex, "/api/alerts").await.body["data"], json!([]));
}

#[tokio::test]
async fn a_disabled_webhook_is_a_notice() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    let hook = s.webhook(&acme, "https://hooks.example.com/in", &["*"]).await;
    s.post(&acme, &format!("/api/webhooks/{}/disable", hook["id"].as_str().unwrap()), json!({})).await;
    let list = s.get(&acme, "/api/alerts").await.body;
    let notice = &list["data"][0];
    assert_eq!(notice["level"], "notice");
    assert_eq!(notice["kind"], "webhook_disabled");
    assert_eq!(notice["subject"], hook["id"]);
}

#[tokio::test]
async fn deliveries_held_for_a_webhook_that_is_off_are_a_warning() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    let hook = s.webhook(&acme, "https://hooks.example.com/held", &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    s.post(&acme, &format!("/api/webhooks/{id}/pause"), json!({})).await;
    let list = s.get(&acme, "/api/alerts").await.body;
    assert_eq!(list["data"][0]["level"], "notice", "paused with nothing waiting: {list}");
    for n in 0..2 {
        let published = s.post(&acme, "/api/events", json!({"event": "user.created", "data": {"n": n}})).await;
        assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.body);
    }
    let list = s.get(&acme, "/api/alerts").await.body;
    let alert = &list["data"][0];
    assert_eq!(alert["level"], "warning", "{list}");
    assert_eq!(alert["kind"], "webhook_disabled");
    assert_eq!(alert["subject"], id);
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains("is paused") && message.contains("2 deliveries are held"), "{message}");
    // Another tenant's webhooks and held deliveries are not counted in.
    let globex = s.tenant_key("globex").await;
    assert_eq!(s.get(&globex, "/api/alerts").await.body["data"], json!([]));
}
