//! Webhook secrets sealed at rest with `WEBHOOK_ENCRYPTION_KEY`.

use crate::harness::{test_config, TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use monay_webhooks::crypto::Sealer;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const KEY: &str = "k7Qv2x9LmB4nR8sT1wY6zA3cE5gH0jP2";
const WAIT: Duration = Duration::from_secs(10);

/// The `secret` and `previous_secret` columns as stored, for every webhook.
async fn stored_secrets(dir: &tempfile::TempDir) -> Vec<(String, Option<String>)> {
    crate::database::rows(dir.path(), "SELECT secret, previous_secret FROM webhooks ORDER BY id").await
}

fn sealed_with(key: &str) -> impl FnOnce(&mut monay_webhooks::config::Config) + '_ {
    move |c| c.sealer = Some(Sealer::new(key).unwrap())
}

#[tokio::test]
async fn with_a_key_the_database_holds_no_secret_and_deliveries_are_still_signed() {
    let s = TestServer::start_with(sealed_with(KEY)).await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/sealed"), &["*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let first = hook["secret"].as_str().unwrap().to_string();
    let rotated =
        s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"graceSeconds": 3600})).await;
    let second = rotated.body["secret"].as_str().unwrap().to_string();
    assert_eq!(rotated.body["previousSecret"], first.as_str());
    let revealed = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body;
    assert_eq!((revealed["secret"].as_str(), revealed["previousSecret"].as_str()), (Some(&*second), Some(&*first)));

    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"n": 1}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    for secret in [&first, &second] {
        standardwebhooks::Webhook::new(secret).unwrap().verify(&got.body, &got.headers).unwrap();
    }

    let dir = s.stop().await;
    let stored = stored_secrets(&dir).await;
    let (secret, previous) = &stored[0];
    assert!(secret.starts_with("enc:v1:") && previous.as_deref().unwrap().starts_with("enc:v1:"), "{stored:?}");
    let raw = crate::database::contents(dir.path()).await;
    for secret in [&first, &second] {
        assert!(!raw.contains(&secret["whsec_".len()..]), "the database file holds {secret} in the clear");
    }
}

#[tokio::test]
async fn secrets_stored_in_the_clear_are_sealed_when_a_key_is_set() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/later"), &["*"]).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let dir = s.stop().await;
    assert_eq!(stored_secrets(&dir).await[0].0, secret, "no key: stored as it is");

    let s = TestServer::start_in_with(dir, sealed_with(KEY)).await;
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    standardwebhooks::Webhook::new(&secret).unwrap().verify(&got.body, &got.headers).unwrap();
    let dir = s.stop().await;
    assert!(stored_secrets(&dir).await[0].0.starts_with("enc:v1:"));
}

#[tokio::test]
async fn a_server_without_the_key_or_with_another_refuses_to_start() {
    let s = TestServer::start_with(sealed_with(KEY)).await;
    let created = s.post(ADMIN_TOKEN, "/api/webhooks", json!({"url": "https://example.com/h", "events": ["*"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let dir = s.stop().await;
    for (key, says) in
        [(None, "WEBHOOK_ENCRYPTION_KEY is not set"), (Some("another key that is long enough, too!"), "does not open")]
    {
        let mut config = test_config(&dir);
        config.sealer = key.map(|k| Sealer::new(k).unwrap());
        let options = monay_webhooks::server::leptos_options(&config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = monay_webhooks::server::run(config, options, listener, async {}).await.unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
    // The right key still opens it.
    let s = TestServer::start_in_with(dir, sealed_with(KEY)).await;
    let id = created.body["id"].as_str().unwrap();
    let revealed = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await;
    assert_eq!(revealed.body["secret"], created.body["secret"]);
}

#[test]
fn a_short_key_is_refused_at_start() {
    let err = monay_webhooks::config::Config::from_lookup(|k| (k == "WEBHOOK_ENCRYPTION_KEY").then(|| "short".into()))
        .unwrap_err();
    assert!(err.contains("at least 32"), "{err}");
}

#[tokio::test]
async fn a_custom_secret_that_looks_sealed_is_refused() {
    // Stored as it is without a key, it would read back as a sealed secret no key opens.
    let s = TestServer::start().await;
    let body =
        json!({"url": "https://example.com/h", "events": ["*"], "secret": "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    let a = s.post(ADMIN_TOKEN, "/api/webhooks", body).await;
    assert_eq!((a.status, a.field()), (StatusCode::UNPROCESSABLE_ENTITY, "secret"), "{}", a.body);
    let hook = s.webhook(ADMIN_TOKEN, "https://example.com/h", &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let r = s
        .post(
            ADMIN_TOKEN,
            &format!("/api/webhooks/{id}/rotate-secret"),
            json!({"secret": "enc:v1:BBBBBBBBBBBBBBBBBBBBBBBBBBBB"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (StatusCode::UNPROCESSABLE_ENTITY, "secret"), "{}", r.body);
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_key_is_changed_by_starting_once_with_the_new_key_and_the_previous_one() {
    let new_key = "a-brand-new-key-of-more-than-32-characters";
    let s = TestServer::start_with(sealed_with(KEY)).await;
    let r = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/changed"), &["*"]).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let dir = s.stop().await;
    let before = stored_secrets(&dir).await;

    let s =
        TestServer::start_in_with(dir, |c| c.sealer = Some(Sealer::new(new_key).unwrap().with_previous(KEY).unwrap()))
            .await;
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let got = r.wait_for(1, WAIT).await.remove(0);
    standardwebhooks::Webhook::new(&secret).unwrap().verify(&got.body, &got.headers).unwrap();
    let dir = s.stop().await;
    assert_ne!(stored_secrets(&dir).await, before, "sealed again with the new key");

    // The new key alone opens everything now; the old one no longer does.
    let mut config = test_config(&dir);
    config.sealer = Some(Sealer::new(KEY).unwrap());
    let options = monay_webhooks::server::leptos_options(&config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = monay_webhooks::server::run(config, options, listener, async {}).await.unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    let s = TestServer::start_in_with(dir, sealed_with(new_key)).await;
    let id = hook["id"].as_str().unwrap();
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body["secret"], secret.as_str());
}

#[test]
fn a_previous_key_needs_the_new_one() {
    let err = monay_webhooks::config::Config::from_lookup(|k| {
        (k == "WEBHOOK_ENCRYPTION_KEY_PREVIOUS").then(|| "an old key that is long enough to be a key".into())
    })
    .unwrap_err();
    assert!(err.contains("without WEBHOOK_ENCRYPTION_KEY"), "{err}");
}
