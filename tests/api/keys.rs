//! `/api/keys`: created once-visible, stored hashed, listed without secrets, revoked at once.

use crate::harness::{TestServer, ADMIN_TOKEN};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_key_is_shown_once_works_and_stops_working_when_revoked() {
    let s = TestServer::start().await;
    let created =
        s.post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "role": "tenant", "name": "acme backend"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.body["key"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("mwk_") && key.len() > 40, "{key}");
    assert_eq!(created.body["tenant"], "acme");
    assert_eq!(created.body["role"], "tenant");
    assert_eq!(created.body["name"], "acme backend");
    assert!(created.body["createdAt"].is_string());

    let listed = s.get(ADMIN_TOKEN, "/api/keys").await;
    let text = listed.body.to_string();
    assert!(text.contains(&id));
    assert!(!text.contains(&key), "the list must not show the key itself");

    assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::OK);
    assert_eq!(s.delete(ADMIN_TOKEN, &format!("/api/keys/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.delete(ADMIN_TOKEN, &format!("/api/keys/{id}")).await.status, StatusCode::NOT_FOUND);
    assert!(!s.get(ADMIN_TOKEN, "/api/keys").await.body.to_string().contains(&id));
}

#[tokio::test]
async fn keys_are_stored_hashed() {
    let s = TestServer::start().await;
    let created = s.post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "name": "k"})).await;
    let key = created.body["key"].as_str().unwrap().to_string();
    let dir = s.stop().await;
    let raw = crate::database::contents(dir.path()).await;
    assert!(!raw.is_empty());
    assert!(!raw.contains(&key[4..]), "key found in the database");
}

#[tokio::test]
async fn bad_key_requests_are_422_and_store_nothing() {
    let s = TestServer::start().await;
    let cases = [
        (json!({"role": "tenant", "name": "no tenant"}), "tenant"),
        (json!({"tenant": "acme", "role": "owner", "name": "x"}), "role"),
        (json!({"tenant": "acme", "name": ""}), "name"),
        (json!({"tenant": "acme corp", "name": "x"}), "tenant"),
        (json!({"tenant": "acme"}), "name"),
    ];
    for (body, field) in cases {
        let a = s.post(ADMIN_TOKEN, "/api/keys", body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", a.body);
        assert_eq!(a.field(), field, "{body}: {}", a.body);
    }
    // Only the bootstrap admin key exists.
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_last_admin_key_cannot_be_revoked() {
    let s = TestServer::start().await;
    let keys = s.get(ADMIN_TOKEN, "/api/keys").await;
    let id = keys.body["data"][0]["id"].as_str().unwrap().to_string();
    let a = s.delete(ADMIN_TOKEN, &format!("/api/keys/{id}")).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "last_admin_key");
    // With a second admin, it can.
    let second = s.post(ADMIN_TOKEN, "/api/keys", json!({"role": "admin", "name": "ops"})).await;
    let second_key = second.body["key"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&second_key, &format!("/api/keys/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_bootstrap_token_survives_a_restart_without_duplicating() {
    let s = TestServer::start().await;
    let s = s.restart(|_| {}).await;
    let keys = s.get(ADMIN_TOKEN, "/api/keys").await;
    assert_eq!(keys.status, StatusCode::OK);
    assert_eq!(keys.body["data"].as_array().unwrap().len(), 1);
}

/// The id of the bootstrap admin key.
async fn bootstrap_id(s: &TestServer) -> String {
    let keys = s.get(ADMIN_TOKEN, "/api/keys").await;
    keys.body["data"]
        .as_array()
        .or(keys.body.as_array())
        .unwrap()
        .iter()
        .find(|k| k["name"].as_str().unwrap_or("").starts_with("bootstrap"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_last_admin_key_that_can_be_used_cannot_be_revoked_or_fenced_off() {
    let s = TestServer::start().await;
    let a = bootstrap_id(&s).await;
    // B: an admin key limited to addresses it has never been used from.
    let b =
        s.post(ADMIN_TOKEN, "/api/keys", json!({"role": "admin", "name": "b", "allowedIps": ["192.0.2.0/24"]})).await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    let b_id = b.body["id"].as_str().unwrap().to_string();
    let revoked = s.delete(ADMIN_TOKEN, &format!("/api/keys/{a}")).await;
    assert_eq!((revoked.status, revoked.code()), (StatusCode::CONFLICT, "last_admin_key"), "{}", revoked.body);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.status, StatusCode::OK, "still usable");

    // C: an admin key usable from anywhere. Now A may be fenced off, and B revoked.
    let c = s.post(ADMIN_TOKEN, "/api/keys", json!({"role": "admin", "name": "c"})).await;
    let c_key = c.body["key"].as_str().unwrap().to_string();
    let c_id = c.body["id"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&c_key, &format!("/api/keys/{b_id}")).await.status, StatusCode::NO_CONTENT);
    let fenced = s.patch(&c_key, &format!("/api/keys/{a}"), json!({"allowedIps": ["10.0.0.0/8"]})).await;
    assert_eq!(fenced.status, StatusCode::OK, "{}", fenced.body);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.status, StatusCode::FORBIDDEN);
    // C is the last admin key that works: it can neither revoke itself nor be fenced off.
    let gone = s.delete(&c_key, &format!("/api/keys/{c_id}")).await;
    assert_eq!((gone.status, gone.code()), (StatusCode::CONFLICT, "last_admin_key"), "{}", gone.body);
    let d = s.post(&c_key, "/api/keys", json!({"role": "admin", "name": "d", "allowedIps": ["198.51.100.0/24"]})).await;
    let d_key = d.body["key"].as_str().unwrap().to_string();
    let _ = d_key;
    let fence_c =
        s.patch(&c_key, &format!("/api/keys/{c_id}"), json!({"allowedIps": ["127.0.0.1", "198.51.100.0/24"]})).await;
    assert_eq!(
        fence_c.status,
        StatusCode::OK,
        "an allowlist that takes where it is used from is fine: {}",
        fence_c.body
    );

    // WEBHOOK_ADMIN_TOKEN always gets back in: its allowlist is cleared at start, and audited.
    let s = s.restart(|_| {}).await;
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.status, StatusCode::OK);
    let restored = s.get(ADMIN_TOKEN, "/api/audit?action=key.access_restored").await;
    let entries = restored.body["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", restored.body);
    assert_eq!(entries[0]["target"], json!(a));
}

#[tokio::test]
async fn refusals_of_one_key_from_one_address_are_one_audit_entry_with_a_count() {
    let s = TestServer::start().await;
    let created = s
        .post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "name": "k", "allowedIps": ["203.0.113.0/24"]}))
        .await;
    let key = created.body["key"].as_str().unwrap().to_string();
    for _ in 0..5 {
        assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::FORBIDDEN);
    }
    let audit = s.get(ADMIN_TOKEN, "/api/audit?action=auth.ip_refused").await;
    let entries = audit.body["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", audit.body);
    assert_eq!(entries[0]["count"], json!(5));
    assert_eq!(entries[0]["clientIp"], json!("127.0.0.1"));
}

#[tokio::test]
async fn an_allowlist_entry_in_ipv4_mapped_form_matches_the_ipv4_client() {
    let s = TestServer::start().await;
    let created = s
        .post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "name": "k", "allowedIps": ["::ffff:127.0.0.1"]}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["allowedIps"], json!(["127.0.0.1/32"]));
    let key = created.body["key"].as_str().unwrap().to_string();
    assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::OK);
}
