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
