//! `/api/webhooks`: registration rules, masked reads, updates, deletion, filters and pagination.

use crate::harness::{data, TestServer, ADMIN_TOKEN};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_webhook_is_created_read_updated_and_deleted() {
    let s = TestServer::start().await;
    let created = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": "https://erp.example.com/hooks", "events": ["transaction.completed", "wallet.*"],
                   "description": "ERP sync", "tenant": "acme"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let w = &created.body;
    let id = w["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"));
    assert_eq!(w["url"], "https://erp.example.com/hooks");
    assert_eq!(w["events"], json!(["transaction.completed", "wallet.*"]));
    assert_eq!(w["description"], "ERP sync");
    assert_eq!(w["tenant"], "acme");
    assert_eq!(w["active"], true);
    assert_eq!(w["consecutiveFailures"], 0);
    assert!(w["disabledReason"].is_null());
    let secret = w["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44, "{secret}");

    let read = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    let masked = read.body["secret"].as_str().unwrap();
    assert!(masked.starts_with("whsec_") && masked.contains("****") && masked.ends_with(&secret[secret.len() - 4..]));
    assert!(!read.body.to_string().contains(&secret[6..30]), "reads must not show the secret");

    let updated = s
        .patch(
            ADMIN_TOKEN,
            &format!("/api/webhooks/{id}"),
            json!({"description": "ERP v2", "events": ["*"], "active": false}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["description"], "ERP v2");
    assert_eq!(updated.body["events"], json!(["*"]));
    assert_eq!(updated.body["active"], false);
    assert_eq!(updated.body["disabledReason"], "disabled by user");
    assert_eq!(updated.body["url"], "https://erp.example.com/hooks", "fields not sent stay as they were");

    let enabled = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"active": true})).await;
    assert_eq!(enabled.body["active"], true);
    assert!(enabled.body["disabledReason"].is_null());

    assert_eq!(s.delete(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_custom_secret_is_kept_when_long_enough() {
    let s = TestServer::start().await;
    let ok = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": "https://a.example.com", "events": ["*"], "secret": "my-own-secret-that-is-long-enough"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body["secret"], "my-own-secret-that-is-long-enough");
    let short = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": "https://a.example.com", "events": ["*"], "secret": "too-short"}),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.field(), "secret");
}

#[tokio::test]
async fn every_bad_registration_is_refused_with_its_field_and_nothing_is_stored() {
    let s = TestServer::start_with(|c| {
        c.allow_http = false;
        c.allowed_subnets.clear();
    })
    .await;
    let cases = [
        (json!({"url": "http://plain.example.com", "events": ["*"]}), "url", "https"),
        (json!({"url": "ftp://files.example.com", "events": ["*"]}), "url", "https"),
        (json!({"url": "not a url", "events": ["*"]}), "url", "absolute"),
        (json!({"url": "/relative/path", "events": ["*"]}), "url", "absolute"),
        (json!({"url": "https://127.0.0.1/hook", "events": ["*"]}), "url", "private"),
        (json!({"url": "https://10.0.0.8/hook", "events": ["*"]}), "url", "private"),
        (json!({"url": "https://[::1]/hook", "events": ["*"]}), "url", "private"),
        (json!({"url": "https://169.254.169.254/latest", "events": ["*"]}), "url", "private"),
        (json!({"url": "https://localhost:8080/hook", "events": ["*"]}), "url", "private"),
        (json!({"url": "https://a.example.com", "events": []}), "events", "at least one"),
        (json!({"url": "https://a.example.com", "events": ["wallet.exploded"]}), "events[0]", "not a known"),
        (json!({"url": "https://a.example.com", "events": ["*", "invoice.*"]}), "events[1]", "matches no known"),
        (json!({"url": "https://a.example.com", "events": ["wal*"]}), "events[0]", "wildcard"),
        (json!({"url": "https://a.example.com", "events": "wallet.created"}), "events", "sequence"),
        (json!({"url": "https://a.example.com", "events": ["*"], "secret": "short"}), "secret", "24"),
        (
            json!({"url": "https://a.example.com", "events": ["*"], "description": "x".repeat(1001)}),
            "description",
            "1000",
        ),
        (json!({"url": "https://a.example.com", "events": ["*"], "tenant": "bad tenant"}), "tenant", "tenant"),
        (json!({"events": ["*"]}), "url", "missing field"),
        (json!({"url": "https://a.example.com"}), "events", "missing field"),
        (json!({"url": 42, "events": ["*"]}), "url", "invalid type"),
    ];
    for (body, field, words) in cases {
        let a = s.post(ADMIN_TOKEN, "/api/webhooks", body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", a.body);
        assert_eq!(a.code(), "validation_error");
        assert_eq!(a.field(), field, "{body}: {}", a.body);
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: message {message:?} should mention {words:?}");
    }
    let list = s.get(ADMIN_TOKEN, "/api/webhooks").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 0, "nothing half-stored");
}

#[tokio::test]
async fn malformed_json_is_400() {
    let s = TestServer::start().await;
    for body in [&b"{\"url\": "[..], b"", b"nope"] {
        let a = s
            .call_raw(
                Method::POST,
                "/api/webhooks",
                ADMIN_TOKEN,
                body.to_vec(),
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}: {}", String::from_utf8_lossy(body), a.body);
        assert_eq!(a.code(), "invalid_json");
    }
}

#[tokio::test]
async fn an_update_with_bad_fields_changes_nothing() {
    let s = TestServer::start().await;
    let w = s.webhook(ADMIN_TOKEN, "https://a.example.com/hook", &["wallet.created"]).await;
    let id = w["id"].as_str().unwrap();
    let a = s
        .patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"description": "new", "events": ["nope.nope"]}))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let b = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"url": "gopher://x"})).await;
    assert_eq!(b.field(), "url");
    let now = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await;
    assert_eq!(now.body["description"], "");
    assert_eq!(now.body["events"], json!(["wallet.created"]));
    assert_eq!(now.body["url"], "https://a.example.com/hook");
}

#[tokio::test]
async fn lists_filter_and_page_with_a_cursor() {
    let s = TestServer::start().await;
    for i in 0..7 {
        let events: &[&str] = if i % 2 == 0 { &["transaction.*"] } else { &["user.created"] };
        let body = json!({"url": format!("https://hook{i}.example.com/in"), "events": events,
                          "description": format!("hook number {i}")});
        assert_eq!(s.post(ADMIN_TOKEN, "/api/webhooks", body).await.status, StatusCode::CREATED);
    }
    let third = s.get(ADMIN_TOKEN, "/api/webhooks?search=hook3").await;
    assert_eq!(third.body["data"][0]["url"], "https://hook3.example.com/in");
    assert_eq!(third.body["data"].as_array().unwrap().len(), 1);
    let by_description = s.get(ADMIN_TOKEN, "/api/webhooks?search=NUMBER%205").await;
    assert_eq!(by_description.body["data"].as_array().unwrap().len(), 1, "search ignores case");

    let tx = s.get(ADMIN_TOKEN, "/api/webhooks?event=transaction.completed").await;
    assert_eq!(tx.body["data"].as_array().unwrap().len(), 4, "wildcards count as matches");
    let users = s.get(ADMIN_TOKEN, "/api/webhooks?event=user.created").await;
    assert_eq!(users.body["data"].as_array().unwrap().len(), 3);

    let first = data(&s.get(ADMIN_TOKEN, "/api/webhooks").await);
    let hook0 = first.iter().find(|w| w["url"] == "https://hook0.example.com/in").unwrap();
    s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{}", hook0["id"].as_str().unwrap()), json!({"active": false})).await;
    let disabled = s.get(ADMIN_TOKEN, "/api/webhooks?status=disabled").await;
    assert_eq!(disabled.body["data"].as_array().unwrap().len(), 1);
    let active = s.get(ADMIN_TOKEN, "/api/webhooks?status=active").await;
    assert_eq!(active.body["data"].as_array().unwrap().len(), 6);
    // Paused: off, but keeping what it would get; the filter finds it, and no other.
    let hook1 = first.iter().find(|w| w["url"] == "https://hook1.example.com/in").unwrap();
    s.post(ADMIN_TOKEN, &format!("/api/webhooks/{}/pause", hook1["id"].as_str().unwrap()), json!({})).await;
    let paused = data(&s.get(ADMIN_TOKEN, "/api/webhooks?status=paused").await);
    assert_eq!(paused.iter().map(|w| &w["id"]).collect::<Vec<_>>(), [&hook1["id"]]);
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/webhooks?status=disabled").await).len(), 2, "off: disabled or paused");
    assert_eq!(data(&s.get(ADMIN_TOKEN, "/api/webhooks?status=failing").await).len(), 0, "none has failed yet");
    assert_eq!(s.get(ADMIN_TOKEN, "/api/webhooks?status=sleeping").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Pages of 3: 3 + 3 + 1, newest first, no repeats, no gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/webhooks?limit=3&cursor={c}"),
            None => "/api/webhooks?limit=3".to_string(),
        };
        let page = s.get(ADMIN_TOKEN, &path).await;
        pages += 1;
        for w in page.body["data"].as_array().unwrap() {
            seen.push(w["description"].as_str().unwrap().to_string());
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).rev().map(|i| format!("hook number {i}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/webhooks?limit=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/webhooks?limit=lots").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_event_catalog_has_the_seed_types_and_takes_custom_ones() {
    let s = TestServer::start().await;
    let catalog = s.get(ADMIN_TOKEN, "/api/event-types").await;
    let types = catalog.body["data"].as_array().unwrap();
    assert_eq!(types.len(), 20);
    let kyc = types.iter().find(|t| t["name"] == "kyc.failed").unwrap();
    assert_eq!(kyc["category"], "compliance");
    assert!(!kyc["description"].as_str().unwrap().is_empty());

    let added = s
        .post(ADMIN_TOKEN, "/api/event-types", json!({"name": "invoice.paid", "description": "An invoice was paid."}))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["category"], "invoice");
    assert_eq!(added.body["custom"], true);
    let again = s.post(ADMIN_TOKEN, "/api/event-types", json!({"name": "invoice.paid"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bad = s.post(ADMIN_TOKEN, "/api/event-types", json!({"name": "Invoice Paid"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field(), "name");
    // The new type can now be subscribed to, also by wildcard.
    s.webhook(ADMIN_TOKEN, "https://a.example.com", &["invoice.*"]).await;
    let tenant = s.tenant_key("acme").await;
    assert_eq!(s.get(&tenant, "/api/event-types").await.body["data"].as_array().unwrap().len(), 21);
}
