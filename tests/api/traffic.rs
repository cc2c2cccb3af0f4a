//! Traffic controls: API rate limits per key and per tenant's publishing, keys bound to addresses,
//! a webhook's own headers.

use crate::harness::{data, TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// A tenant key with `extra` fields (rate limit, allowlist) on its creation.
async fn key_with(s: &TestServer, tenant: &str, extra: serde_json::Value) -> (String, String) {
    let mut body = json!({"name": format!("{tenant} key"), "role": "tenant", "tenant": tenant});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let made = s.post(ADMIN_TOKEN, "/api/keys", body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    (made.body["id"].as_str().unwrap().to_string(), made.body["key"].as_str().unwrap().to_string())
}

fn header(a: &crate::harness::Answer, name: &str) -> String {
    a.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test]
async fn a_key_over_its_rate_is_refused_with_429_and_its_headers_and_nothing_is_stored() {
    let s = TestServer::start_with(|c| {
        c.api_rate_limit = 1_000;
        c.api_rate_burst = 2_000;
    })
    .await;
    let (id, key) = key_with(&s, "acme", json!({"rateLimit": 2})).await;
    s.webhook(&key, "http://127.0.0.1:9/hook", &["*"]).await; // 1 request of the burst of 4
    let mut answers = Vec::new();
    for i in 0..6 {
        answers.push(s.post(&key, "/api/events", json!({"event": "wallet.created", "data": {"n": i}})).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(statuses, [202, 202, 202, 429, 429, 429], "a burst of twice the rate of 2/s, then refused");
    let first = &answers[0];
    assert_eq!(header(first, "ratelimit-limit"), "2");
    assert_eq!(header(first, "ratelimit-remaining"), "2");
    assert_eq!(header(first, "ratelimit-policy"), "2;w=1;burst=4");
    let refused = &answers[3];
    assert_eq!(refused.code(), "too_many_requests", "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("2 requests per second"), "{}", refused.body);
    assert_eq!(header(refused, "retry-after"), "1");
    assert_eq!(header(refused, "ratelimit-remaining"), "0");
    assert!(header(refused, "ratelimit-reset").parse::<u64>().unwrap() >= 1);
    // Only the three accepted events exist (read with the admin key, which has its own bucket).
    let events = s.get(ADMIN_TOKEN, "/api/events").await;
    assert_eq!(data(&events).len(), 3, "nothing over the limit was stored");
    assert_eq!(header(&events, "ratelimit-limit"), "1000", "the server's default for keys without their own");
    let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("monay_api_rate_limited_total{limit=\"key\"} 3"), "{metrics}");

    // The key's tokens come back at its rate.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::OK);
    // An admin lifts the limit; it holds from the next request on.
    let changed = s.patch(ADMIN_TOKEN, &format!("/api/keys/{id}"), json!({"rateLimit": 0})).await;
    assert_eq!((changed.status, changed.body["rateLimit"].clone()), (StatusCode::OK, json!(0)), "{}", changed.body);
    for _ in 0..10 {
        let a = s.get(&key, "/api/webhooks").await;
        assert_eq!(a.status, StatusCode::OK, "unlimited now");
        assert!(a.headers.get("ratelimit-limit").is_none());
    }
    // Back to the server's default with null.
    let back = s.patch(ADMIN_TOKEN, &format!("/api/keys/{id}"), json!({"rateLimit": null})).await;
    assert_eq!(back.body["rateLimit"], json!(null), "{}", back.body);
    assert_eq!(header(&s.get(&key, "/api/webhooks").await, "ratelimit-limit"), "1000");
    let bad = s.patch(ADMIN_TOKEN, &format!("/api/keys/{id}"), json!({"rateLimit": -1})).await;
    assert_eq!((bad.status, bad.field()), (StatusCode::UNPROCESSABLE_ENTITY, "rateLimit"), "{}", bad.body);
}

#[tokio::test]
async fn a_tenants_publishing_is_limited_whatever_key_it_uses() {
    let s = TestServer::start_with(|c| c.publish_rate_limit = 1).await;
    let first = s.tenant_key("acme").await;
    let second = s.tenant_key("acme").await;
    let other = s.tenant_key("globex").await;
    let publish = |key: &str| {
        let key = key.to_string();
        let s = &s;
        async move { s.post(&key, "/api/events", json!({"event": "wallet.created", "data": {}})).await }
    };
    assert_eq!(publish(&first).await.status, StatusCode::ACCEPTED);
    assert_eq!(publish(&second).await.status, StatusCode::ACCEPTED, "a burst of 2");
    let refused = publish(&second).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("tenant acme"), "{}", refused.body);
    assert!(!header(&refused, "retry-after").is_empty());
    assert_eq!(publish(&other).await.status, StatusCode::ACCEPTED, "another tenant has its own budget");
    assert_eq!(s.get(&first, "/api/webhooks").await.status, StatusCode::OK, "only publishing is limited");
    let events = data(&s.get(ADMIN_TOKEN, "/api/events?tenant=acme").await);
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn a_key_used_from_outside_its_allowlist_is_refused_and_audited() {
    let s = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let bad =
        s.post(ADMIN_TOKEN, "/api/keys", json!({"name": "x", "tenant": "acme", "allowedIps": ["10.0.0.0/33"]})).await;
    assert_eq!((bad.status, bad.field()), (StatusCode::UNPROCESSABLE_ENTITY, "allowedIps[0]"), "{}", bad.body);
    let (id, key) = key_with(&s, "acme", json!({"allowedIps": ["203.0.113.0/24"]})).await;
    let keys = data(&s.get(ADMIN_TOKEN, "/api/keys").await);
    let listed = keys.iter().find(|k| k["id"] == json!(id)).unwrap();
    assert_eq!(listed["allowedIps"], json!(["203.0.113.0/24"]));

    // From loopback itself (the test's address): refused, audited, nothing stored.
    let refused = s.post(&key, "/api/webhooks", json!({"url": "http://127.0.0.1:9/h", "events": ["*"]})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "ip_not_allowed"), "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("127.0.0.1"), "{}", refused.body);
    assert!(data(&s.get(ADMIN_TOKEN, "/api/webhooks").await).is_empty());
    // Through the trusted proxy (loopback here) for a client inside the range: let through.
    let via = |client: &'static str| {
        let (s, key) = (&s, key.clone());
        async move {
            s.call_raw(Method::GET, "/api/webhooks", &key, Vec::new(), &[("x-forwarded-for", client)]).await.status
        }
    };
    assert_eq!(via("203.0.113.50").await, StatusCode::OK);
    // The client's own claim before the proxy's is not believed: the nearest hop counts.
    assert_eq!(via("203.0.113.50, 198.51.100.1").await, StatusCode::FORBIDDEN);
    let audit = data(&s.get(ADMIN_TOKEN, "/api/audit?action=auth.ip_refused").await);
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["target"], json!(id));
    assert_eq!(audit[0]["clientIp"], json!("198.51.100.1"));
    let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("monay_api_ip_refused_total 2"), "{metrics}");

    // An admin cannot lock out the key it is using.
    let admin_id =
        data(&s.get(ADMIN_TOKEN, "/api/keys").await).into_iter().find(|k| k["role"] == json!("admin")).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
    let locked = s.patch(ADMIN_TOKEN, &format!("/api/keys/{admin_id}"), json!({"allowedIps": ["10.0.0.0/8"]})).await;
    assert_eq!((locked.status, locked.field()), (StatusCode::UNPROCESSABLE_ENTITY, "allowedIps"), "{}", locked.body);
    assert_eq!(s.get(ADMIN_TOKEN, "/api/keys").await.status, StatusCode::OK);
    // Opening the tenant key to loopback lets it in at once.
    let opened = s.patch(ADMIN_TOKEN, &format!("/api/keys/{id}"), json!({"allowedIps": ["127.0.0.0/8", "::1"]})).await;
    assert_eq!(opened.body["allowedIps"], json!(["127.0.0.0/8", "::1/128"]), "{}", opened.body);
    assert_eq!(s.get(&key, "/api/webhooks").await.status, StatusCode::OK);
    let cleared = s.patch(ADMIN_TOKEN, &format!("/api/keys/{id}"), json!({"allowedIps": null})).await;
    assert_eq!(cleared.body["allowedIps"], json!([]), "{}", cleared.body);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_the_proxy_is_trusted() {
    let s = TestServer::start().await;
    let (_, key) = key_with(&s, "acme", json!({"allowedIps": ["203.0.113.0/24"]})).await;
    let a = s.call_raw(Method::GET, "/api/webhooks", &key, Vec::new(), &[("x-forwarded-for", "203.0.113.50")]).await;
    assert_eq!(
        a.status,
        StatusCode::FORBIDDEN,
        "anyone can send X-Forwarded-For: without a trusted proxy it is ignored"
    );
}

#[tokio::test]
async fn a_webhooks_own_headers_arrive_and_reserved_ones_are_refused() {
    let s = TestServer::start().await;
    let receiver = Receiver::start().await;
    for (name, value) in [
        ("Webhook-Signature", "v1,forged"),
        ("X-Webhook-Id", "evt_x"),
        ("Host", "example.com"),
        ("Content-Length", "1"),
        ("Content-Type", "text/plain"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "close"),
    ] {
        let a = s
            .post(
                ADMIN_TOKEN,
                "/api/webhooks",
                json!({"url": receiver.url("/h"), "events": ["*"], "headers": {name: value}}),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", a.body);
        assert_eq!(a.field(), format!("headers.{name}"), "{}", a.body);
    }
    let a = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": receiver.url("/h"), "events": ["*"], "headers": {"X-A": "1\r\nX-B: 2"}}),
        )
        .await;
    assert_eq!((a.status, a.field()), (StatusCode::UNPROCESSABLE_ENTITY, "headers.X-A"), "{}", a.body);
    assert!(data(&s.get(ADMIN_TOKEN, "/api/webhooks").await).is_empty(), "nothing stored");

    let made = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": receiver.url("/h"), "events": ["*"], "tenant": "acme",
                   "headers": {"Authorization": "Bearer receiver-token", "X-Tenant": "acme", "User-Agent": "acme-hooks/1"}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["headers"]["Authorization"], json!("Bearer receiver-token"));
    let id = made.body["id"].as_str().unwrap();
    s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {}, "tenant": "acme"})).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("authorization"), "Bearer receiver-token");
    assert_eq!(got[0].header("x-tenant"), "acme");
    assert_eq!(got[0].header("user-agent"), "acme-hooks/1", "a webhook may name itself");
    assert!(got[0].header("webhook-signature").starts_with("v1,"), "ours are still there");

    // Replaced as a whole on update; {} removes them.
    let changed = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"headers": {"X-Other": "2"}})).await;
    assert_eq!(changed.body["headers"], json!({"X-Other": "2"}), "{}", changed.body);
    s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/test"), json!({})).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!((got[1].header("x-other"), got[1].header("authorization")), ("2", ""));
    let refused = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"headers": {"webhook-id": "x"}})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await;
    assert_eq!(kept.body["headers"], json!({"X-Other": "2"}), "a refused change changes nothing");
    let cleared = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"headers": {}})).await;
    assert_eq!(cleared.body["headers"], json!({}));
}
