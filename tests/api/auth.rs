//! Keys and tenants: who may call, and what a tenant can see of another tenant.

use crate::harness::{TestServer, ADMIN_TOKEN};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_key_are_refused_with_401() {
    let s = TestServer::start().await;
    let none = s.call(Method::GET, "/api/webhooks", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "unauthorized");
    assert!(none.body["error"]["message"].as_str().unwrap().contains("Bearer"));

    let wrong = s.get("mwk_not-a-real-key", "/api/webhooks").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let mut req = reqwest::Client::new().get(s.url("/api/webhooks"));
    req = req.header("Authorization", format!("Token {ADMIN_TOKEN}"));
    let malformed = req.send().await.unwrap();
    assert_eq!(malformed.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(s.get(ADMIN_TOKEN, "/api/webhooks").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_gets_404_for_every_object_of_another_tenant() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    let globex = s.tenant_key("globex").await;
    let hook = s.webhook(&acme, "https://acme.example.com/hooks", &["wallet.*"]).await;
    let id = hook["id"].as_str().unwrap();
    assert_eq!(hook["tenant"], "acme");

    let published = s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {"walletId": "w1"}})).await;
    assert_eq!(published.status, StatusCode::ACCEPTED);
    let event_id = published.body["id"].as_str().unwrap();
    let deliveries = s.get(&acme, "/api/deliveries").await;
    let delivery_id = deliveries.body["data"][0]["id"].as_str().unwrap().to_string();

    for path in
        [format!("/api/webhooks/{id}"), format!("/api/events/{event_id}"), format!("/api/deliveries/{delivery_id}")]
    {
        let seen = s.get(&globex, &path).await;
        assert_eq!(seen.status, StatusCode::NOT_FOUND, "{path}: {}", seen.body);
        assert_eq!(seen.code(), "not_found");
        assert_eq!(s.get(&acme, &path).await.status, StatusCode::OK, "{path}");
    }
    let patched = s.patch(&globex, &format!("/api/webhooks/{id}"), json!({"description": "mine now"})).await;
    assert_eq!(patched.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&globex, &format!("/api/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);

    // Lists hold only the tenant's own objects.
    for path in ["/api/webhooks", "/api/events", "/api/deliveries"] {
        let list = s.get(&globex, path).await;
        assert_eq!(list.body["data"].as_array().unwrap().len(), 0, "{path}: {}", list.body);
        let own = s.get(&acme, path).await;
        assert_eq!(own.body["data"].as_array().unwrap().len(), 1, "{path}: {}", own.body);
    }
    // And the webhook survived globex's attempts.
    let after = s.get(&acme, &format!("/api/webhooks/{id}")).await;
    assert_eq!(after.body["description"], "");
}

#[tokio::test]
async fn a_tenant_key_cannot_act_for_another_tenant_or_manage_keys() {
    let s = TestServer::start().await;
    let acme = s.tenant_key("acme").await;
    let hook = s
        .post(&acme, "/api/webhooks", json!({"url": "https://x.example.com", "events": ["*"], "tenant": "globex"}))
        .await;
    assert_eq!(hook.status, StatusCode::FORBIDDEN);
    assert_eq!(hook.field(), "tenant");
    let event = s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}, "tenant": "globex"})).await;
    assert_eq!(event.status, StatusCode::FORBIDDEN);
    assert_eq!(s.get(&acme, "/api/keys").await.status, StatusCode::FORBIDDEN);
    let key = s.post(&acme, "/api/keys", json!({"tenant": "acme", "name": "sneaky", "role": "admin"})).await;
    assert_eq!(key.status, StatusCode::FORBIDDEN);
    let et = s.post(&acme, "/api/event-types", json!({"name": "invoice.paid"})).await;
    assert_eq!(et.status, StatusCode::FORBIDDEN);
    // Nothing of it was stored.
    assert_eq!(s.get(ADMIN_TOKEN, "/api/webhooks").await.body["data"].as_array().unwrap().len(), 0);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/events").await.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let s = TestServer::start().await;
    let missing = s.get(ADMIN_TOKEN, "/api/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    let wrong = s.call(Method::PUT, "/api/webhooks", Some(ADMIN_TOKEN), Some(json!({}))).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.code(), "method_not_allowed");
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let s = TestServer::start().await;
    let health = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
}
