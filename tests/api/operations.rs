//! Operations on webhooks and deliveries: test sends, manual retries, recovery, secret rotation,
//! signature verification.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_test_send_answers_with_the_outcome() {
    let s = TestServer::start().await;
    let r = Receiver::answering(|path, _| Reply::status(if path == "/ok" { 200 } else { 500 })).await;
    let ok = s.webhook(ADMIN_TOKEN, &r.url("/ok"), &["wallet.created"]).await;
    let a = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{}/test", ok["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["success"], true);
    assert_eq!(a.body["statusCode"], 200);
    assert!(a.body["durationMs"].is_number());
    let got = r.received();
    assert_eq!(got.len(), 1, "sent before the answer");
    assert_eq!(got[0].json()["event"], "webhook.test");
    let d = s.get(ADMIN_TOKEN, &format!("/api/deliveries/{}", a.body["deliveryId"].as_str().unwrap())).await;
    assert_eq!(d.body["status"], "succeeded");
    assert_eq!(d.body["attempts"][0]["trigger"], "test");

    let bad = s.webhook(ADMIN_TOKEN, &r.url("/broken"), &["wallet.created"]).await;
    let b = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{}/test", bad["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(b.body["success"], false);
    assert_eq!(b.body["statusCode"], 500);
    assert_eq!(b.body["errorKind"], "http_status");
    let hook = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{}", bad["id"].as_str().unwrap())).await;
    assert_eq!(hook.body["consecutiveFailures"], 0, "test sends do not count toward auto-disable");

    let acme = s.tenant_key("acme").await;
    let other = s.post(&acme, &format!("/api/webhooks/{}/test", ok["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_by_hand_and_recovered_in_bulk() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::answering(|_, _| Reply::status(500)).await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/x"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    for i in 0..3 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"n": i}})).await;
    }
    eventually(WAIT, "3 failed deliveries", || async {
        data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await).len() == 3
    })
    .await;
    let failed = data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await);

    // By hand: a failing retry changes nothing, a good one succeeds.
    let one = failed[0]["id"].as_str().unwrap();
    let again = s.post(ADMIN_TOKEN, &format!("/api/deliveries/{one}/retry"), json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["attempt"]["success"], false);
    assert_eq!(again.body["delivery"]["status"], "failed");
    r.set_rule(|_, _| Reply::status(200));
    let fixed = s.post(ADMIN_TOKEN, &format!("/api/deliveries/{one}/retry"), json!({})).await;
    assert_eq!(fixed.body["attempt"]["success"], true);
    assert_eq!(fixed.body["delivery"]["status"], "succeeded");
    let detail = s.get(ADMIN_TOKEN, &format!("/api/deliveries/{one}")).await.body;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(detail["attempts"][2]["trigger"], "manual");

    // In bulk: the other two.
    let recovered =
        s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/recover"), json!({"since": since.to_rfc3339()})).await;
    assert_eq!(recovered.status, StatusCode::OK, "{}", recovered.body);
    assert_eq!(recovered.body["recovered"], 2);
    eventually(WAIT, "all 3 succeeded", || async {
        data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=succeeded").await).len() == 3
    })
    .await;
    let bad = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/recover"), json!({"since": "last week"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.post(ADMIN_TOKEN, "/api/deliveries/dlv_nope/retry", json!({})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_failed_deliveries_of_a_filtered_view_are_retried_in_bulk() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::answering(|_, _| Reply::status(500)).await;
    let a = s.webhook(ADMIN_TOKEN, &r.url("/a"), &["*"]).await;
    let b = s.webhook(ADMIN_TOKEN, &r.url("/b"), &["*"]).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    eventually(WAIT, "4 failed deliveries", || async {
        data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await).len() == 4
    })
    .await;
    r.set_rule(|_, _| Reply::status(200));
    let view = json!({"webhookId": a, "event": "user.created"});

    // Counted first: nothing moves.
    let counted = s
        .post(
            ADMIN_TOKEN,
            "/api/deliveries/retry-failed",
            json!({"webhookId": a, "event": "user.created", "dryRun": true}),
        )
        .await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.body);
    assert_eq!(counted.body, json!({"retried": 1, "held": 0, "dryRun": true}));
    let recover_count =
        s.post(ADMIN_TOKEN, &format!("/api/webhooks/{b}/recover"), json!({"since": 0, "dryRun": true})).await;
    assert_eq!(recover_count.body, json!({"recovered": 2, "dryRun": true}));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.count(), 4, "a dry run sends nothing");

    // A tenant sees only its own deliveries: none of these.
    let acme = s.tenant_key("acme").await;
    let theirs = s.post(&acme, "/api/deliveries/retry-failed", json!({})).await;
    assert_eq!(theirs.body["retried"], 0, "{}", theirs.body);

    // The view's one failed delivery goes again; the three others stay failed.
    let retried = s.post(ADMIN_TOKEN, "/api/deliveries/retry-failed", view).await;
    assert_eq!(retried.body, json!({"retried": 1, "held": 0, "dryRun": false}));
    let got = r.wait_for(5, WAIT).await;
    assert_eq!(got[4].path, "/a");
    assert_eq!(got[4].json()["event"], "user.created");
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await).len(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.count(), 5, "only the view's delivery was sent again");
    let audit = data(&s.get(ADMIN_TOKEN, "/api/audit?action=deliveries.retried").await);
    assert_eq!(audit.len(), 2, "each run is audited, the tenant's that found nothing too");
    assert_eq!(audit[0]["target"], a);

    // Those of a webhook that is off are said to be only held, counted and when run.
    s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{b}"), json!({"active": false})).await;
    let of_b = json!({"webhookId": b, "dryRun": true});
    let counted = s.post(ADMIN_TOKEN, "/api/deliveries/retry-failed", of_b).await;
    assert_eq!(counted.body, json!({"retried": 2, "held": 2, "dryRun": true}));
    let all = s.post(ADMIN_TOKEN, "/api/deliveries/retry-failed", json!({"dryRun": true})).await;
    assert_eq!(all.body, json!({"retried": 3, "held": 2, "dryRun": true}));
    let done = s.post(ADMIN_TOKEN, "/api/deliveries/retry-failed", json!({"webhookId": b})).await;
    assert_eq!(done.body, json!({"retried": 2, "held": 2, "dryRun": false}));
    assert_eq!(data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={b}&status=held")).await).len(), 2);

    let bad = s.post(ADMIN_TOKEN, "/api/deliveries/retry-failed", json!({"since": "yesterday"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field(), "since");
}

#[tokio::test]
async fn a_paused_webhook_holds_what_it_would_get_and_sends_it_when_resumed() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/p"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let paused = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/pause"), json!({})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!((paused.body["paused"].clone(), paused.body["active"].clone()), (json!(true), json!(false)));
    for i in 0..2 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"n": i}})).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.count(), 0, "nothing goes while paused");
    let held = data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={id}&status=held")).await);
    assert_eq!(held.len(), 2, "queued, held");

    let resumed = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/resume"), json!({})).await;
    assert_eq!((resumed.body["paused"].clone(), resumed.body["active"].clone()), (json!(false), json!(true)));
    r.wait_for(2, WAIT).await;
    let again = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/resume"), json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "resuming a webhook that is on changes nothing");

    // Disabled is not paused: resuming it is refused, so nobody switches on by mistake what a
    // person switched off.
    s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/disable"), json!({})).await;
    let refused = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/resume"), json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "not_paused");
    for action in ["webhook.paused", "webhook.resumed"] {
        assert_eq!(data(&s.get(ADMIN_TOKEN, &format!("/api/audit?action={action}")).await).len(), 1, "{action}");
    }
    let acme = s.tenant_key("acme").await;
    assert_eq!(s.post(&acme, &format!("/api/webhooks/{id}/pause"), json!({})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_old_secret_stops_signing_when_the_grace_period_ends() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/grace"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["secret"].as_str().unwrap().to_string();
    let rotated = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"graceSeconds": 1})).await;
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    assert_eq!(rotated.body["previousSecret"], old.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;

    let revealed = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body;
    assert!(revealed["previousSecret"].is_null() && revealed["previousSecretExpiresAt"].is_null(), "{revealed}");
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    assert_eq!(got.header("x-webhook-signature").matches("v1=").count(), 1, "{}", got.header("x-webhook-signature"));
    assert_eq!(got.header("webhook-signature").split(' ').count(), 1);
    standardwebhooks::Webhook::new(&new).unwrap().verify(&got.body, &got.headers).unwrap();
    assert!(standardwebhooks::Webhook::new(&old).unwrap().verify(&got.body, &got.headers).is_err());
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_grace_period() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/rot"), &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["secret"].as_str().unwrap().to_string();
    let revealed = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await;
    assert_eq!(revealed.body["secret"], old.as_str());

    let rotated =
        s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"graceSeconds": 3600})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    assert_eq!(rotated.body["previousSecret"], old.as_str());

    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    assert_eq!(got.header("x-webhook-signature").matches("v1=").count(), 2);
    assert_eq!(got.header("webhook-signature").split(' ').count(), 2);
    for secret in [&old, &new] {
        standardwebhooks::Webhook::new(secret).unwrap().verify(&got.body, &got.headers).unwrap();
    }

    // Without grace, the old secret stops at once.
    let custom = "a-custom-secret-of-at-least-24";
    let now = s
        .post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"secret": custom, "graceSeconds": 0}))
        .await;
    assert_eq!(now.body["secret"], custom);
    assert!(now.body["previousSecret"].is_null());
    let bad = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"secret": "short"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"graceSeconds": -1})).await;
    assert_eq!(bad.field(), "graceSeconds");
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body["secret"], custom);
}

#[tokio::test]
async fn signatures_can_be_checked_through_the_api() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/v"), &["*"]).await;
    let secret = hook["secret"].as_str().unwrap();
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"a": 1}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    let raw = String::from_utf8(got.body.to_vec()).unwrap();
    let seed = got.header("x-webhook-signature").to_string();

    let check = |body: serde_json::Value| async { s.post(ADMIN_TOKEN, "/api/webhooks/verify", body).await.body };
    let ok = check(json!({"payload": raw, "signature": seed, "secret": secret})).await;
    assert_eq!(ok, json!({"valid": true, "format": "seed"}));
    let parsed = check(json!({"payload": got.json(), "signature": seed, "webhookId": hook["id"]})).await;
    assert_eq!(parsed["valid"], true, "a parsed payload is re-serialised like the seed's snippet does");
    let std = check(json!({"payload": raw, "signature": got.header("webhook-signature"), "secret": secret,
                           "messageId": got.header("webhook-id"), "timestamp": got.header("webhook-timestamp")}))
    .await;
    assert_eq!(std, json!({"valid": true, "format": "standard"}));

    let tampered =
        check(json!({"payload": raw.replace("\"a\":1", "\"a\":2"), "signature": seed, "secret": secret})).await;
    assert_eq!(tampered["reason"], "mismatch");
    let old = "t=1000000000000,v1=00";
    assert_eq!(check(json!({"payload": raw, "signature": old, "secret": secret})).await["reason"], "expired");
    assert_eq!(check(json!({"payload": raw, "signature": "nonsense", "secret": secret})).await["reason"], "malformed");
    let missing = s.post(ADMIN_TOKEN, "/api/webhooks/verify", json!({"payload": raw, "signature": seed})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_id = s
        .post(ADMIN_TOKEN, "/api/webhooks/verify", json!({"payload": raw, "signature": "v1,abc", "secret": secret}))
        .await;
    assert_eq!(no_id.field(), "messageId");
}

#[tokio::test]
async fn old_attempts_and_finished_events_are_purged_but_nothing_unsent() {
    let s = TestServer::start_with(|c| {
        c.retention = Duration::from_millis(800);
        c.retention_interval = Duration::from_millis(200);
        c.retry_delay = Duration::from_secs(600);
    })
    .await;
    let r = Receiver::answering(|path, _| Reply::status(if path == "/down" { 500 } else { 200 })).await;
    s.webhook(ADMIN_TOKEN, &r.url("/up"), &["wallet.*"]).await;
    s.webhook(ADMIN_TOKEN, &r.url("/down"), &["user.*"]).await;
    let done = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    let waiting = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let done_id = done.body["id"].as_str().unwrap().to_string();
    let waiting_id = waiting.body["id"].as_str().unwrap().to_string();
    r.wait_for(2, WAIT).await;

    eventually(WAIT, "the delivered event is purged", || async {
        s.get(ADMIN_TOKEN, &format!("/api/events/{done_id}")).await.status == StatusCode::NOT_FOUND
    })
    .await;
    // The event still owed a retry stays, with its delivery; only its old attempt went.
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/events/{waiting_id}")).await.status, StatusCode::OK);
    let left = data(&s.get(ADMIN_TOKEN, "/api/deliveries").await);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["eventId"], waiting_id.as_str());
    assert_eq!(left[0]["status"], "pending");
    eventually(WAIT, "its old attempt is purged", || async {
        let d = s.get(ADMIN_TOKEN, &format!("/api/deliveries/{}", left[0]["id"].as_str().unwrap())).await;
        d.body["attempts"].as_array().is_some_and(|a| a.is_empty())
    })
    .await;
}
