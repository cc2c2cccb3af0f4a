//! The delivery engine against real receivers on loopback: payload and signatures, retries,
//! Retry-After, redirects, timeouts, auto-disable, 410, the SSRF guard.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// Fast retries for tests: 3 retries, 100 ms doubling.
fn fast(c: &mut monay_webhooks::config::Config) {
    c.retry_delay = Duration::from_millis(100);
}

async fn delivery_of(s: &TestServer, event_id: &str) -> Value {
    let list = data(&s.get(ADMIN_TOKEN, "/api/deliveries").await);
    let d = list.iter().find(|d| d["eventId"] == event_id).expect("a delivery for the event");
    s.get(ADMIN_TOKEN, &format!("/api/deliveries/{}", d["id"].as_str().unwrap())).await.body
}

async fn wait_status(s: &TestServer, event_id: &str, status: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let d = delivery_of(s, event_id).await;
        if d["status"] == status {
            return d;
        }
        assert!(Instant::now() < deadline, "the delivery of {event_id} never became {status}: {d}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn publish(s: &TestServer, event: &str, data: Value) -> String {
    let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": event, "data": data, "tenant": "default"})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    a.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_delivery_carries_the_payload_and_verifies_in_both_signature_formats() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/in"), &["transaction.*"]).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let data_in = json!({"transactionId": "txn_789", "amount": 1000.0, "currency": "USD", "note": "café \"quoted\""});
    let event_id = publish(&s, "transaction.completed", data_in).await;

    let got = r.wait_for(1, WAIT).await.remove(0);
    let body = got.json();
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(body["event"], "transaction.completed");
    assert_eq!(body["data"]["transactionId"], "txn_789");
    assert_eq!(body["data"]["amount"], 1000);
    assert_eq!(body["webhookId"], hook["id"]);
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    assert_eq!(got.header("content-type"), "application/json");
    assert!(got.header("user-agent").starts_with("MonayWebhooks/"));
    assert_eq!(got.header("x-webhook-id"), event_id);
    assert_eq!(got.header("x-webhook-event"), "transaction.completed");
    let attempt_time = chrono::DateTime::parse_from_rfc3339(got.header("x-webhook-timestamp")).unwrap();
    assert_eq!(got.header("webhook-id"), event_id);

    // The seed's format: t=<ms>,v1=hex(HMAC(secret bytes, "<t>.<raw body>")), same instant as the others.
    let sig = got.header("x-webhook-signature");
    let (t, v1) = sig.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
    assert_eq!(t.parse::<i64>().unwrap(), attempt_time.timestamp_millis());
    assert_eq!(got.header("webhook-timestamp"), (attempt_time.timestamp_millis() / 1000).to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&got.body);
    assert_eq!(v1, hex_encode(&mac.finalize().into_bytes()));

    // Standard Webhooks, with the official library.
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    wh.verify(&got.body, &got.headers).expect("standardwebhooks verifies the delivery");
    let other = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert!(other.verify(&got.body, &got.headers).is_err(), "another secret must not verify");

    // The seed's receiver snippet, under node, re-serialising the parsed body.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, &got.body).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/receivers/seed-verify.js");
    let out =
        std::process::Command::new("node").arg(script).arg(&file).arg(sig).arg(&secret).output().expect("node runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "true", "{}", String::from_utf8_lossy(&out.stderr));
    let out = std::process::Command::new("node")
        .arg(script)
        .arg(&file)
        .arg(sig)
        .arg("wrong-secret-000000000000")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "false");

    // The attempt is logged in full.
    let d = wait_status(&s, &event_id, "succeeded").await;
    assert_eq!(d["attemptCount"], 1);
    assert_eq!(d["lastStatusCode"], 200);
    let attempt = &d["attempts"][0];
    assert_eq!(attempt["attempt"], 1);
    assert_eq!(attempt["trigger"], "scheduled");
    assert_eq!(attempt["responseStatus"], 200);
    assert_eq!(attempt["responseBody"], "ok");
    assert_eq!(attempt["requestHeaders"]["x-webhook-signature"], sig);
    assert!(attempt["durationMs"].as_i64().unwrap() >= 0);
    assert!(attempt["errorKind"].is_null());
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_until_they_succeed() {
    let s = TestServer::start_with(fast).await;
    let r = Receiver::answering(|_, n| Reply::status(if n < 2 { 500 } else { 200 })).await;
    s.webhook(ADMIN_TOKEN, &r.url("/flaky"), &["*"]).await;
    let event_id = publish(&s, "wallet.created", json!({"walletId": "w1"})).await;
    let got = r.wait_for(3, WAIT).await;
    assert!(got.iter().all(|g| g.header("x-webhook-id") == event_id), "same id on every retry");
    let d = wait_status(&s, &event_id, "succeeded").await;
    assert_eq!(d["attemptCount"], 3);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["responseStatus"], 500);
    assert_eq!(attempts[0]["errorKind"], "http_status");
    assert_eq!(attempts[2]["responseStatus"], 200);
    // The webhook is healthy again.
    let hooks = data(&s.get(ADMIN_TOKEN, "/api/webhooks").await);
    assert_eq!(hooks[0]["consecutiveFailures"], 0);
}

#[tokio::test]
async fn retries_wait_a_doubling_delay_within_the_jitter_bounds_measured_at_the_receiver() {
    let base = Duration::from_millis(600);
    let s = TestServer::start_with(|c| {
        c.retry_delay = base;
        c.max_retries = 3;
        c.max_failures = 100;
    })
    .await;
    let r = Receiver::answering(|_, _| Reply::status(500)).await;
    s.webhook(ADMIN_TOKEN, &r.url("/timed"), &["*"]).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(publish(&s, "user.created", json!({"n": n})).await);
    }
    let got = r.wait_for(12, Duration::from_secs(15)).await;
    for id in &ids {
        let times: Vec<std::time::Instant> =
            got.iter().filter(|g| g.header("webhook-id") == id.as_str()).map(|g| g.at).collect();
        assert_eq!(times.len(), 4, "the first try and three retries of {id}");
        for (retry, pair) in times.windows(2).enumerate() {
            let wait = pair[1] - pair[0];
            let delay = base * (1 << retry);
            // ±20 % jitter; the upper bound also allows for the workers' 200 ms poll and recording.
            let (low, high) = (delay.mul_f64(0.8), delay.mul_f64(1.2) + Duration::from_millis(400));
            assert!(
                low <= wait && wait <= high,
                "retry {} of {id} came after {wait:?}, not within {low:?}..{high:?}",
                retry + 1
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.received().len(), 12, "nothing after the third retry");
}

#[tokio::test]
async fn a_delivery_fails_after_its_retries_are_spent() {
    let s = TestServer::start_with(|c| {
        c.retry_delay = Duration::from_millis(50);
        c.max_retries = 2;
    })
    .await;
    let r = Receiver::answering(|_, _| Reply::status(503)).await;
    s.webhook(ADMIN_TOKEN, &r.url("/down"), &["*"]).await;
    let event_id = publish(&s, "user.created", json!({})).await;
    let d = wait_status(&s, &event_id, "failed").await;
    assert_eq!(d["attemptCount"], 3, "the first try and two retries");
    assert_eq!(d["lastStatusCode"], 503);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(r.received().len(), 3, "nothing after the last retry");
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let s = TestServer::start_with(|c| c.retry_delay = Duration::from_millis(50)).await;
    let r = Receiver::answering(|_, n| {
        if n == 0 {
            Reply { headers: vec![("retry-after", "2".into())], ..Reply::status(429) }
        } else {
            Reply::status(200)
        }
    })
    .await;
    s.webhook(ADMIN_TOKEN, &r.url("/busy"), &["*"]).await;
    let started = Instant::now();
    publish(&s, "user.created", json!({})).await;
    r.wait_for(1, WAIT).await;
    let first = Instant::now();
    r.wait_for(2, WAIT).await;
    assert!(first.elapsed() >= Duration::from_millis(1_800), "waited {:?}, not the asked 2 s", first.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn redirects_are_not_followed_and_count_as_failures() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::answering(|path, _| {
        if path == "/moved" {
            Reply { headers: vec![("location", "/elsewhere".into())], ..Reply::status(302) }
        } else {
            Reply::status(200)
        }
    })
    .await;
    s.webhook(ADMIN_TOKEN, &r.url("/moved"), &["*"]).await;
    let event_id = publish(&s, "user.created", json!({})).await;
    let d = wait_status(&s, &event_id, "failed").await;
    assert_eq!(d["attempts"][0]["responseStatus"], 302);
    assert_eq!(d["attempts"][0]["errorKind"], "http_status");
    assert!(r.received().iter().all(|g| g.path == "/moved"), "the redirect was not followed");
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let s = TestServer::start_with(|c| {
        c.timeout = Duration::from_millis(300);
        c.max_retries = 0;
    })
    .await;
    let r = Receiver::answering(|_, _| Reply { delay: Duration::from_secs(3), ..Reply::status(200) }).await;
    s.webhook(ADMIN_TOKEN, &r.url("/slow"), &["*"]).await;
    let event_id = publish(&s, "user.created", json!({})).await;
    let d = wait_status(&s, &event_id, "failed").await;
    assert_eq!(d["attempts"][0]["errorKind"], "timeout");
    assert!(d["attempts"][0]["durationMs"].as_i64().unwrap() < 2_000);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    s.webhook(ADMIN_TOKEN, &format!("http://{closed}/nobody"), &["*"]).await;
    let event_id = publish(&s, "user.created", json!({})).await;
    let d = wait_status(&s, &event_id, "failed").await;
    assert_eq!(d["attempts"][0]["errorKind"], "connect");
    assert!(d["attempts"][0]["responseStatus"].is_null());
}

#[tokio::test]
async fn consecutive_failures_disable_the_webhook_hold_its_deliveries_and_raise_an_alert() {
    let s = TestServer::start_with(|c| {
        c.max_retries = 0;
        c.max_failures = 3;
    })
    .await;
    let failing = Receiver::answering(|_, _| Reply::status(500)).await;
    let alerts = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let hook = s.webhook(&acme, &failing.url("/broken"), &["wallet.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    s.webhook(&acme, &alerts.url("/alerts"), &["system.alert"]).await;
    for i in 0..3 {
        s.post(&acme, "/api/events", json!({"event": "wallet.updated", "data": {"n": i}})).await;
    }
    failing.wait_for(3, WAIT).await;
    eventually(WAIT, "the webhook is disabled", || async {
        s.get(&acme, &format!("/api/webhooks/{id}")).await.body["active"] == false
    })
    .await;
    let w = s.get(&acme, &format!("/api/webhooks/{id}")).await.body;
    assert!(w["disabledReason"].as_str().unwrap().contains("3 consecutive failed attempts"), "{w}");
    assert_eq!(w["consecutiveFailures"], 3);

    // The platform hears of it.
    let alert = alerts.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(alert["event"], "system.alert");
    assert_eq!(alert["data"]["kind"], "webhook_disabled");
    assert_eq!(alert["data"]["webhookId"], id.as_str());
    // The one shape of every system.alert.
    assert_eq!(
        (alert["data"]["alert"].as_str(), alert["data"]["level"].as_str()),
        (Some("webhook_disabled"), Some("warning"))
    );
    assert_eq!(alert["data"]["tenant"], "acme");
    assert!(alert["data"]["message"].as_str().unwrap().contains("was disabled"));
    // And the audit log says who did it: the service itself.
    let audit = s.get(ADMIN_TOKEN, "/api/audit?action=webhook.auto_disabled").await.body;
    assert_eq!(audit["data"][0]["target"], id.as_str(), "{audit}");
    assert_eq!(audit["data"][0]["tenant"], "acme");
    assert_eq!(audit["data"][0]["actorName"], "delivery engine", "{audit}");

    // While disabled, new events are kept for it (held, not sent); switched on, it gets them.
    let later = s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    assert_eq!(later.body["deliveries"], 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(failing.received().len(), 3, "nothing is sent while it is disabled");
    failing.set_rule(|_, _| Reply::status(200));
    let enabled = s.post(&acme, &format!("/api/webhooks/{id}/enable"), json!({})).await;
    assert_eq!(enabled.body["active"], true);
    assert_eq!(enabled.body["consecutiveFailures"], 0);
    assert!(enabled.body["disabledReason"].is_null());
    failing.wait_for(4, WAIT).await;
    s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    failing.wait_for(5, WAIT).await;
}

#[tokio::test]
async fn disabling_holds_pending_deliveries_and_enabling_sends_them() {
    let s = TestServer::start_with(|c| c.retry_delay = Duration::from_millis(300)).await;
    let r = Receiver::answering(|_, n| Reply::status(if n == 0 { 500 } else { 200 })).await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/later"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let event_id = publish(&s, "kyc.completed", json!({})).await;
    r.wait_for(1, WAIT).await;
    let off = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/disable"), json!({})).await;
    assert_eq!(off.body["active"], false);
    wait_status(&s, &event_id, "held").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(r.received().len(), 1, "nothing is sent while disabled");
    s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/enable"), json!({})).await;
    wait_status(&s, &event_id, "succeeded").await;
    assert_eq!(r.received().len(), 2);
}

#[tokio::test]
async fn gone_disables_the_webhook_at_once() {
    let s = TestServer::start().await;
    let r = Receiver::answering(|_, _| Reply::status(410)).await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/gone"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let event_id = publish(&s, "user.deleted", json!({})).await;
    let d = wait_status(&s, &event_id, "failed").await;
    assert_eq!(d["attemptCount"], 1, "no retries after 410");
    let w = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await.body;
    assert_eq!(w["active"], false);
    assert!(w["disabledReason"].as_str().unwrap().contains("410"));
}

#[tokio::test]
async fn private_addresses_are_refused_at_connect_time() {
    // Registered while loopback was allowed; the server then restarts without the exception.
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::start().await;
    let by_name = s.webhook(ADMIN_TOKEN, &format!("http://localhost:{}/by-name", r.addr.port()), &["*"]).await;
    let by_ip = s.webhook(ADMIN_TOKEN, &r.url("/by-ip"), &["*"]).await;
    let s = s
        .restart(|c| {
            c.allowed_subnets.clear();
            c.max_retries = 0;
        })
        .await;
    let event_id = publish(&s, "user.created", json!({})).await;
    eventually(WAIT, "both deliveries failed", || async {
        let list = data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await);
        list.iter().filter(|d| d["eventId"] == event_id.as_str()).count() == 2
    })
    .await;
    for hook in [&by_name, &by_ip] {
        let list =
            data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={}", hook["id"].as_str().unwrap())).await);
        let d = s.get(ADMIN_TOKEN, &format!("/api/deliveries/{}", list[0]["id"].as_str().unwrap())).await.body;
        assert_eq!(d["attempts"][0]["errorKind"], "blocked", "{d}");
    }
    assert!(r.received().is_empty(), "nothing reached the private address");
}

#[tokio::test]
async fn deleting_a_webhook_mid_flight_does_not_disturb_other_deliveries() {
    let s = TestServer::start().await;
    let r = Receiver::answering(|_, _| Reply { delay: Duration::from_millis(500), ..Reply::status(200) }).await;
    let doomed = s.webhook(ADMIN_TOKEN, &r.url("/doomed"), &["*"]).await;
    s.webhook(ADMIN_TOKEN, &r.url("/kept"), &["*"]).await;
    let event_id = publish(&s, "wallet.created", json!({})).await;
    r.wait_for(2, WAIT).await;
    let gone = s.delete(ADMIN_TOKEN, &format!("/api/webhooks/{}", doomed["id"].as_str().unwrap())).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    // The other delivery, answered at the same moment, is recorded at once.
    let d = wait_status(&s, &event_id, "succeeded").await;
    assert_eq!(d["attemptCount"], 1);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries").await).len(), 1);
}
