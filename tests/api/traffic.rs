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

/// Seconds between the first and last of `got`, and the most that arrived within any one second.
fn spread(got: &[crate::receiver::Received]) -> (f64, usize) {
    let mut at: Vec<std::time::Instant> = got.iter().map(|r| r.at).collect();
    at.sort();
    let span = at.last().unwrap().duration_since(at[0]).as_secs_f64();
    let most = (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| t.duration_since(at[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap();
    (span, most)
}

#[tokio::test]
async fn a_webhook_limited_to_5_per_second_gets_that_rate_while_one_beside_it_runs_at_full_speed() {
    let s = TestServer::start().await;
    let receiver = Receiver::start().await;
    let made = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": receiver.url("/limited"), "events": ["wallet.created"], "rateLimit": 5}),
        )
        .await;
    assert_eq!((made.status, made.body["rateLimit"].clone()), (StatusCode::CREATED, json!(5)), "{}", made.body);
    s.webhook(ADMIN_TOKEN, &receiver.url("/free"), &["wallet.updated"]).await;
    let started = std::time::Instant::now();
    for i in 0..15 {
        for event in ["wallet.created", "wallet.updated"] {
            let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": event, "data": {"n": i}})).await;
            assert_eq!(a.status, StatusCode::ACCEPTED);
        }
    }
    let of = |path: &str| receiver.received().into_iter().filter(|r| r.path == path).collect::<Vec<_>>();
    crate::harness::eventually(WAIT, "the unlimited webhook gets its 15", || async { of("/free").len() == 15 }).await;
    let free_done = started.elapsed();
    let limited_then = of("/limited").len();
    assert!(limited_then < 15, "the limited one is still going when the free one is done ({limited_then} of 15)");
    assert!(free_done < Duration::from_millis(2500), "the free one is not slowed: {free_done:?}");
    crate::harness::eventually(WAIT, "the limited webhook gets its 15", || async { of("/limited").len() == 15 }).await;
    let (span, most) = spread(&of("/limited"));
    assert!(span >= 2.5, "15 at 5/s take 2.8 s from the first to the last, not {span:.2} s");
    assert!(most <= 6, "at most 5 a second (6 counting both ends of a window), saw {most}");
    // The waiting ones were never failed nor counted against the webhook.
    let hook = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{}", made.body["id"].as_str().unwrap())).await;
    assert_eq!(hook.body["consecutiveFailures"], json!(0));
    let attempts: usize = data(&s.get(ADMIN_TOKEN, "/api/deliveries?event=wallet.created&limit=50").await)
        .iter()
        .map(|d| d["attemptCount"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(attempts, 15, "one attempt each");
}

#[tokio::test]
async fn max_in_flight_1_never_overlaps_two_requests_at_the_receiver() {
    let s = TestServer::start().await;
    let slow = Duration::from_millis(150);
    let receiver =
        Receiver::answering(move |_, _| crate::receiver::Reply { delay: slow, ..crate::receiver::Reply::status(200) })
            .await;
    let one = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": receiver.url("/one"), "events": ["wallet.created"], "maxInFlight": 1}),
        )
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    s.webhook(ADMIN_TOKEN, &receiver.url("/many"), &["wallet.created"]).await;
    for i in 0..6 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {"n": i}})).await;
    }
    receiver.wait_for(12, WAIT).await;
    let starts = |path: &str| {
        let mut at: Vec<std::time::Instant> =
            receiver.received().iter().filter(|r| r.path == path).map(|r| r.at).collect();
        at.sort();
        at
    };
    let one = starts("/one");
    let gaps: Vec<Duration> = one.windows(2).map(|w| w[1].duration_since(w[0])).collect();
    assert!(
        gaps.iter().all(|g| *g >= slow - Duration::from_millis(5)),
        "each starts after the previous answered: {gaps:?}"
    );
    // Without the limit the same receiver is sent several at once: the measure can tell.
    let many = starts("/many");
    assert!(many.windows(2).any(|w| w[1].duration_since(w[0]) < slow / 2), "the unlimited one overlaps");
}

#[tokio::test]
async fn fifo_deliveries_arrive_in_publish_order_across_retries_of_an_earlier_one() {
    let s = TestServer::start_with(|c| c.retry_schedule = Some(vec![Duration::from_millis(400); 3])).await;
    // The first request fails; every later one succeeds.
    let receiver = Receiver::answering(|_, n| crate::receiver::Reply::status(if n == 0 { 500 } else { 200 })).await;
    let made = s
        .post(
            ADMIN_TOKEN,
            "/api/webhooks",
            json!({"url": receiver.url("/ordered"), "events": ["wallet.created"], "ordering": "fifo"}),
        )
        .await;
    assert_eq!((made.status, made.body["ordering"].clone()), (StatusCode::CREATED, json!("fifo")), "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    for i in 0..5 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {"n": i}})).await;
    }
    // While the first waits for its retry, the others show what they wait behind.
    let path = format!("/api/deliveries?webhookId={id}");
    crate::harness::eventually(WAIT, "the first attempt is recorded", || async {
        data(&s.get(ADMIN_TOKEN, &path).await).iter().any(|d| d["attemptCount"] == json!(1))
    })
    .await;
    let log = data(&s.get(ADMIN_TOKEN, &path).await);
    let first = log.iter().find(|d| d["attemptCount"] == json!(1)).expect("the failed first one");
    assert_eq!(first["status"], json!("pending"), "{log:?}");
    let behind: Vec<&serde_json::Value> = log.iter().filter(|d| d["waitingBehind"].is_string()).collect();
    assert_eq!(behind.len(), 4, "{log:?}");
    assert!(behind.iter().all(|d| d["waitingBehind"] == first["id"]), "{log:?}");
    let got = receiver.wait_for(6, WAIT).await;
    let order: Vec<i64> = got.iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    assert_eq!(order, [0, 0, 1, 2, 3, 4], "the first again, then the rest in publish order");
    crate::harness::eventually(WAIT, "all five succeed and none waits", || async {
        let log = data(&s.get(ADMIN_TOKEN, &path).await);
        log.iter().all(|d| d["status"] == json!("succeeded") && d.get("waitingBehind").is_none())
    })
    .await;
}

#[tokio::test]
async fn delivery_controls_are_checked_changed_and_removed() {
    let s = TestServer::start().await;
    for (body, field) in [
        (json!({"rateLimit": 0}), "rateLimit"),
        (json!({"rateLimit": 10_001}), "rateLimit"),
        (json!({"maxInFlight": 0}), "maxInFlight"),
        (json!({"ordering": "lifo"}), "ordering"),
    ] {
        let mut body = body;
        body.as_object_mut()
            .unwrap()
            .extend([("url".into(), json!("https://example.com/h")), ("events".into(), json!(["*"]))]);
        let a = s.post(ADMIN_TOKEN, "/api/webhooks", body).await;
        assert_eq!((a.status, a.field()), (StatusCode::UNPROCESSABLE_ENTITY, field), "{}", a.body);
    }
    assert!(data(&s.get(ADMIN_TOKEN, "/api/webhooks").await).is_empty());
    let hook = s.webhook(ADMIN_TOKEN, "https://example.com/h", &["*"]).await;
    assert_eq!(
        (hook["rateLimit"].clone(), hook["maxInFlight"].clone(), hook["ordering"].clone()),
        (json!(null), json!(null), json!("none"))
    );
    let id = hook["id"].as_str().unwrap();
    let set = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"rateLimit": 50, "maxInFlight": 4})).await;
    assert_eq!((set.body["rateLimit"].clone(), set.body["maxInFlight"].clone()), (json!(50), json!(4)), "{}", set.body);
    let fifo = s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"ordering": "fifo"})).await;
    assert_eq!(
        (fifo.body["rateLimit"].clone(), fifo.body["ordering"].clone()),
        (json!(50), json!("fifo")),
        "the others kept"
    );
    let off = s
        .patch(
            ADMIN_TOKEN,
            &format!("/api/webhooks/{id}"),
            json!({"rateLimit": null, "maxInFlight": null, "ordering": "none"}),
        )
        .await;
    assert_eq!(
        (off.body["rateLimit"].clone(), off.body["maxInFlight"].clone(), off.body["ordering"].clone()),
        (json!(null), json!(null), json!("none"))
    );
}
