//! `/api/events` and `/api/deliveries`: fan-out at publish, idempotency, limits, broadcasts, the log.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn publishing_stores_one_pending_delivery_per_matching_active_webhook() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let exact = s.webhook(&acme, &r.url("/exact"), &["transaction.completed"]).await;
    let wildcard = s.webhook(&acme, &r.url("/wildcard"), &["transaction.*"]).await;
    let all = s.webhook(&acme, &r.url("/all"), &["*"]).await;
    let other_type = s.webhook(&acme, &r.url("/other-type"), &["wallet.created"]).await;
    let inactive = s.webhook(&acme, &r.url("/inactive"), &["*"]).await;
    s.patch(&acme, &format!("/api/webhooks/{}", inactive["id"].as_str().unwrap()), json!({"active": false})).await;
    let other_tenant = s.tenant_key("globex").await;
    s.webhook(&other_tenant, &r.url("/other-tenant"), &["*"]).await;

    let data_in = json!({"transactionId": "txn_1", "amount": 1000, "currency": "USD", "nested": {"z": 1, "a": [1, 2]}});
    let published = s.post(&acme, "/api/events", json!({"event": "transaction.completed", "data": data_in})).await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.body);
    assert_eq!(published.body["deliveries"], 3);
    let event_id = published.body["id"].as_str().unwrap();
    assert!(event_id.starts_with("evt_"));

    let event = s.get(&acme, &format!("/api/events/{event_id}")).await;
    assert_eq!(event.body["event"], "transaction.completed");
    assert_eq!(event.body["data"], data_in);
    assert_eq!(event.body["tenant"], "acme");
    assert!(event.body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(event.body["deliveries"], 3);

    let log = s.get(&acme, "/api/deliveries?limit=200").await;
    let deliveries = data(&log);
    assert_eq!(deliveries.len(), 3);
    let mut hooks: Vec<&str> = deliveries.iter().map(|d| d["webhookId"].as_str().unwrap()).collect();
    hooks.sort();
    let mut expected =
        vec![exact["id"].as_str().unwrap(), wildcard["id"].as_str().unwrap(), all["id"].as_str().unwrap()];
    expected.sort();
    assert_eq!(hooks, expected);
    assert!(!hooks.contains(&other_type["id"].as_str().unwrap()));
    for d in &deliveries {
        assert_eq!(d["eventId"], event_id);
        assert_eq!(d["event"], "transaction.completed");
    }
    // Exactly the three matching receivers are called, once each.
    let got = r.wait_for(3, Duration::from_secs(10)).await;
    let mut paths: Vec<&str> = got.iter().map(|g| g.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/all", "/exact", "/wildcard"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.received().len(), 3, "no other webhook was called");
}

#[tokio::test]
async fn an_admin_event_without_tenant_is_a_broadcast_to_every_tenant() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    let globex = s.tenant_key("globex").await;
    s.webhook(&acme, "https://a.example.com", &["system.alert"]).await;
    s.webhook(&globex, "https://b.example.com", &["system.*"]).await;
    s.webhook(&globex, "https://c.example.com", &["wallet.created"]).await;
    let broadcast =
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "system.alert", "data": {"level": "warning"}})).await;
    assert_eq!(broadcast.status, StatusCode::ACCEPTED);
    assert_eq!(broadcast.body["deliveries"], 2);
    let targeted =
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "system.alert", "data": {}, "tenant": "globex"})).await;
    assert_eq!(targeted.body["deliveries"], 1);
    // Each tenant sees the broadcast, and only its own deliveries.
    assert_eq!(data(&s.get(&acme, "/api/deliveries").await).len(), 1);
    assert_eq!(data(&s.get(&globex, "/api/deliveries").await).len(), 2);
    let acme_events = data(&s.get(&acme, "/api/events").await);
    assert_eq!(acme_events.len(), 1);
    assert!(acme_events[0]["tenant"].is_null());
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_give_the_same_answer_and_another_body_409() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    s.webhook(&acme, "https://a.example.com", &["*"]).await;
    let body = json!({"event": "wallet.created", "data": {"walletId": "w_1"}});
    let send = |body: serde_json::Value, key: &'static str| {
        let s = &s;
        let acme = acme.clone();
        async move {
            s.call_raw(
                Method::POST,
                "/api/events",
                &acme,
                serde_json::to_vec(&body).unwrap(),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "order-42").await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = send(body.clone(), "order-42").await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    let changed = send(json!({"event": "wallet.created", "data": {"walletId": "w_2"}}), "order-42").await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(changed.code(), "idempotency_conflict");
    let other_key = send(body.clone(), "order-43").await;
    assert_ne!(other_key.body["id"], first.body["id"]);
    assert_eq!(data(&s.get(&acme, "/api/events").await).len(), 2, "one event per key");
    assert_eq!(data(&s.get(&acme, "/api/deliveries").await).len(), 2, "no duplicate deliveries");

    // Another tenant's identical key is its own.
    let globex = s.tenant_key("globex").await;
    let theirs = s
        .call_raw(
            Method::POST,
            "/api/events",
            &globex,
            serde_json::to_vec(&body).unwrap(),
            &[("Idempotency-Key", "order-42")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::ACCEPTED);
    assert_ne!(theirs.body["id"], first.body["id"]);
}

#[tokio::test]
async fn concurrent_repeats_of_one_idempotency_key_store_one_event() {
    let s = TestServer::start().await;
    let body = serde_json::to_vec(&json!({"event": "user.created", "data": {"userId": "u1"}})).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = s.url("/api/events");
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(ADMIN_TOKEN)
                .header("Idempotency-Key", "same")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/events").await).len(), 1);
}

#[tokio::test]
async fn oversized_events_are_refused_with_413_and_not_stored() {
    let s = TestServer::start_with(|c| c.max_payload = 10_000).await;
    s.webhook(ADMIN_TOKEN, "https://a.example.com", &["*"]).await;
    let big = json!({"event": "wallet.created", "data": {"blob": "x".repeat(10_050)}});
    let a = s.post(ADMIN_TOKEN, "/api/events", big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.body);
    assert_eq!(a.code(), "payload_too_large");
    let huge = json!({"event": "wallet.created", "data": {"blob": "x".repeat(200_000)}});
    let b = s.post(ADMIN_TOKEN, "/api/events", huge).await;
    assert_eq!(b.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(b.code(), "payload_too_large");
    let fits = json!({"event": "wallet.created", "data": {"blob": "x".repeat(9_000)}});
    assert_eq!(s.post(ADMIN_TOKEN, "/api/events", fits).await.status, StatusCode::ACCEPTED);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/events").await).len(), 1);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries").await).len(), 1);
}

#[tokio::test]
async fn bad_events_are_refused_and_store_nothing() {
    let s = TestServer::start().await;
    s.webhook(ADMIN_TOKEN, "https://a.example.com", &["*"]).await;
    let cases = [
        (json!({"event": "wallet.exploded", "data": {}}), "event"),
        (json!({"event": "wallet.created", "data": [1, 2]}), "data"),
        (json!({"event": "wallet.created", "data": "text"}), "data"),
        (json!({"event": "wallet.created"}), "data"),
        (json!({"data": {}}), "event"),
        (json!({"event": "wallet.created", "data": {}, "tenant": "no spaces allowed"}), "tenant"),
    ];
    for (body, field) in cases {
        let a = s.post(ADMIN_TOKEN, "/api/events", body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", a.body);
        assert_eq!(a.field(), field, "{body}: {}", a.body);
    }
    let bad_key = s
        .call_raw(
            Method::POST,
            "/api/events",
            ADMIN_TOKEN,
            br#"{"event":"wallet.created","data":{}}"#.to_vec(),
            &[("Idempotency-Key", "")],
        )
        .await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/events").await).len(), 0);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries").await).len(), 0);
}

#[tokio::test]
async fn events_and_deliveries_filter_and_page() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook_a = s.webhook(ADMIN_TOKEN, &r.url("/a"), &["wallet.*"]).await;
    let hook_b = s.webhook(ADMIN_TOKEN, &r.url("/b"), &["*"]).await;
    for i in 0..5 {
        let event = if i % 2 == 0 { "wallet.created" } else { "user.created" };
        let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": event, "data": {"n": i}})).await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/events?event=wallet.created").await).len(), 3);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries").await).len(), 8);
    let a_id = hook_a["id"].as_str().unwrap();
    let by_hook = data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={a_id}")).await);
    assert_eq!(by_hook.len(), 3);
    assert!(by_hook.iter().all(|d| d["webhookId"] == a_id));
    let b_id = hook_b["id"].as_str().unwrap();
    let b_users = data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={b_id}&event=user.created")).await);
    assert_eq!(b_users.len(), 2);
    r.wait_for(8, Duration::from_secs(10)).await;
    eventually(Duration::from_secs(10), "all 8 deliveries succeeded", || async {
        data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=succeeded").await).len() == 8
    })
    .await;
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=pending").await).len(), 0);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/deliveries?status=lost").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries?since=2000-01-01T00:00:00Z").await).len(), 8);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries?until=2000-01-01T00:00:00Z").await).len(), 0);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/events?since=2999-01-01T00:00:00Z").await).len(), 0);
    let bad_time = s.get(ADMIN_TOKEN, "/api/deliveries?since=yesterday").await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_time.field(), "since");

    let page1 = s.get(ADMIN_TOKEN, "/api/deliveries?limit=5").await;
    assert_eq!(data(&page1).len(), 5);
    let cursor = page1.body["nextCursor"].as_str().unwrap();
    let page2 = s.get(ADMIN_TOKEN, &format!("/api/deliveries?limit=5&cursor={cursor}")).await;
    assert_eq!(data(&page2).len(), 3);
    assert!(page2.body["nextCursor"].is_null());
    let events_page = s.get(ADMIN_TOKEN, "/api/events?limit=2").await;
    assert_eq!(data(&events_page).len(), 2);
    assert!(events_page.body["nextCursor"].is_string());
}

#[tokio::test]
async fn accepted_events_survive_a_restart() {
    let s = TestServer::start().await;
    s.webhook(ADMIN_TOKEN, "https://a.example.com", &["*"]).await;
    let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "kyc.completed", "data": {"userId": "u"}})).await;
    let id = a.body["id"].as_str().unwrap().to_string();
    let s = s.restart(|_| {}).await;
    let event = s.get(ADMIN_TOKEN, &format!("/api/events/{id}")).await;
    assert_eq!(event.status, StatusCode::OK);
    assert_eq!(event.body["data"]["userId"], "u");
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/deliveries").await).len(), 1);
}

/// The write-ahead log is copied back into the database file while the server runs (by a
/// background checkpoint, since the writer itself never checkpoints): the file grows with the data.
#[tokio::test]
async fn the_log_is_checkpointed_into_the_database_file_while_serving() {
    if crate::database::on_postgres() {
        return; // SQLite's write-ahead log; PostgreSQL checkpoints on its own
    }
    let s = TestServer::start().await;
    let file = s.dir.path().join("test.db");
    let before = std::fs::metadata(&file).unwrap().len();
    let big = "x".repeat(4000);
    for i in 0..300 {
        let a =
            s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"n": i, "pad": big}})).await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    eventually(Duration::from_secs(10), "the database file holds the new events", || async {
        std::fs::metadata(&file).unwrap().len() > before + 1_000_000
    })
    .await;
}

#[tokio::test]
async fn an_event_is_sent_again_to_a_chosen_webhook_and_its_deliveries_are_listed() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let first = s.webhook(&acme, &r.url("/first"), &["wallet.created"]).await;
    let published = s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {"n": 1}})).await;
    let event_id = published.body["id"].as_str().unwrap().to_string();
    r.wait_for(1, Duration::from_secs(10)).await;

    // A webhook made after the event (subscribed to something else) gets it when asked.
    let later = s.webhook(&acme, &r.url("/later"), &["user.created"]).await;
    let later_id = later["id"].as_str().unwrap();
    let sent = s.post(&acme, &format!("/api/events/{event_id}/send"), json!({"webhookId": later_id})).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    assert_eq!(sent.body["status"], "pending");
    assert!(sent.body["deliveryId"].as_str().unwrap().starts_with("dlv_"));
    // And the first one gets it a second time.
    let again = s.post(&acme, &format!("/api/events/{event_id}/send"), json!({"webhookId": first["id"]})).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    let got = r.wait_for(3, Duration::from_secs(10)).await;
    let paths: Vec<&str> = got.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths.iter().filter(|p| **p == "/first").count(), 2, "{paths:?}");
    assert_eq!(paths.iter().filter(|p| **p == "/later").count(), 1, "{paths:?}");
    assert!(got.iter().all(|g| g.json()["id"] == event_id.as_str()), "the same event each time");

    // The log filtered by event shows where it went; the event counts its deliveries.
    let log = data(&s.get(&acme, &format!("/api/deliveries?eventId={event_id}")).await);
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d["eventId"] == event_id.as_str()));
    assert_eq!(s.get(&acme, &format!("/api/events/{event_id}")).await.body["deliveries"], 3);

    // Another tenant's webhook is refused; so is one that does not exist, and another tenant's event.
    let globex = s.tenant_key("globex").await;
    let theirs = s.webhook(&globex, &r.url("/theirs"), &["*"]).await;
    let refused =
        s.post(ADMIN_TOKEN, &format!("/api/events/{event_id}/send"), json!({"webhookId": theirs["id"]})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.field(), "webhookId");
    let missing = s.post(&acme, &format!("/api/events/{event_id}/send"), json!({"webhookId": "wh_nope"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let hidden = s.post(&globex, &format!("/api/events/{event_id}/send"), json!({"webhookId": theirs["id"]})).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    let no_body = s.post(&acme, &format!("/api/events/{event_id}/send"), json!({})).await;
    assert_eq!(no_body.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_body.body);
    assert_eq!(
        data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?eventId={event_id}")).await).len(),
        3,
        "nothing stored"
    );

    // A paused webhook holds it until resumed.
    s.post(&acme, &format!("/api/webhooks/{later_id}/pause"), json!({})).await;
    let held = s.post(&acme, &format!("/api/events/{event_id}/send"), json!({"webhookId": later_id})).await;
    assert_eq!(held.body["status"], "held", "{}", held.body);
    s.post(&acme, &format!("/api/webhooks/{later_id}/resume"), json!({})).await;
    r.wait_for(4, Duration::from_secs(10)).await;
    let audit = s.get(ADMIN_TOKEN, "/api/audit?action=event.sent_again").await;
    assert_eq!(data(&audit).len(), 3, "{}", audit.body);
}
