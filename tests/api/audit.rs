//! `/api/audit`: every management action is logged with its actor, target and address; never a secret.

use crate::harness::{data, TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn management_actions_are_audited_without_secrets() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let created = s.post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "name": "acme ops"})).await;
    let acme = created.body["key"].as_str().unwrap().to_string();
    let acme_key_id = created.body["id"].as_str().unwrap().to_string();
    let hook = s.webhook(&acme, &r.url("/in"), &["*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let secret = hook["secret"].as_str().unwrap().to_string();
    s.patch(&acme, &format!("/api/webhooks/{id}"), json!({"description": "x"})).await;
    s.post(&acme, &format!("/api/webhooks/{id}/disable"), json!({})).await;
    s.post(&acme, &format!("/api/webhooks/{id}/enable"), json!({})).await;
    s.get(&acme, &format!("/api/webhooks/{id}/secret")).await;
    let rotated = s.post(&acme, &format!("/api/webhooks/{id}/rotate-secret"), json!({})).await;
    let test = s.post(&acme, &format!("/api/webhooks/{id}/test"), json!({})).await;
    s.post(&acme, &format!("/api/deliveries/{}/retry", test.body["deliveryId"].as_str().unwrap()), json!({})).await;
    s.post(&acme, &format!("/api/webhooks/{id}/recover"), json!({"since": 0})).await;
    s.delete(&acme, &format!("/api/webhooks/{id}")).await;
    s.delete(ADMIN_TOKEN, &format!("/api/keys/{acme_key_id}")).await;

    let log = s.get(ADMIN_TOKEN, "/api/audit?limit=200").await;
    assert_eq!(log.status, StatusCode::OK);
    let entries = data(&log);
    let actions: Vec<&str> = entries.iter().rev().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "key.created",
            "webhook.created",
            "webhook.updated",
            "webhook.disabled",
            "webhook.enabled",
            "secret.revealed",
            "secret.rotated",
            "webhook.tested",
            "delivery.retried",
            "webhook.recovered",
            "webhook.deleted",
            "key.revoked",
        ]
    );
    let by_acme: Vec<_> = entries.iter().filter(|e| e["actorKeyId"] == acme_key_id.as_str()).collect();
    assert_eq!(by_acme.len(), 10);
    assert!(by_acme
        .iter()
        .all(|e| e["tenant"] == "acme" && e["clientIp"] == "127.0.0.1" && e["actorName"] == "acme ops"));
    assert_eq!(entries.iter().find(|e| e["action"] == "webhook.created").unwrap()["target"], id.as_str());

    let text = log.body.to_string();
    for secret in [secret.as_str(), rotated.body["secret"].as_str().unwrap(), acme.as_str()] {
        assert!(!text.contains(&secret[6..]), "the audit log must not hold secrets or keys");
    }
    let filtered = data(&s.get(ADMIN_TOKEN, "/api/audit?action=secret.rotated").await);
    assert_eq!(filtered.len(), 1);

    let tenant = s.tenant_key("globex").await;
    assert_eq!(s.get(&tenant, "/api/audit").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn console_logins_are_audited() {
    let s = TestServer::start().await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (seed, token) = s.console_token().await;
    c.post(s.url("/console/login"))
        .header("cookie", seed)
        .form(&[("key", ADMIN_TOKEN), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    let log = data(&s.get(ADMIN_TOKEN, "/api/audit?action=console.login").await);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["clientIp"], "127.0.0.1");
}
