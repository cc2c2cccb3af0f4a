//! What a user or an attacker found missing: events that went nowhere (category subscriptions,
//! auto-disabled webhooks, numbers JavaScript rounds), cross-site requests, SSRF forms, key
//! guessing, framing, leaks. Each test failed before its fix.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

fn event_types(received: &[crate::receiver::Received]) -> Vec<String> {
    let mut types: Vec<String> = received.iter().map(|g| g.json()["event"].as_str().unwrap().to_string()).collect();
    types.sort();
    types
}

#[tokio::test]
async fn a_category_subscription_receives_every_type_of_that_category_and_nothing_else() {
    let s = TestServer::start().await;
    let security = Receiver::start().await;
    let compliance = Receiver::start().await;
    let hook = s.webhook(ADMIN_TOKEN, &security.url("/security"), &["category:security"]).await;
    assert_eq!(hook["events"], json!(["category:security"]));
    s.webhook(ADMIN_TOKEN, &compliance.url("/compliance"), &["category:compliance"]).await;
    for event in [
        "auth.login.failed",
        "mfa.enabled",
        "security.alert",
        "auth.login.success",
        "wallet.created",
        "kyc.failed",
        "aml.alert",
    ] {
        let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": event, "data": {}, "tenant": "default"})).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    }
    let got = security.wait_for(4, WAIT).await;
    assert_eq!(event_types(&got), ["auth.login.failed", "auth.login.success", "mfa.enabled", "security.alert"]);
    assert_eq!(event_types(&compliance.wait_for(2, WAIT).await), ["aml.alert", "kyc.failed"]);
    // The list filter "would receive this type" agrees.
    let list = data(&s.get(ADMIN_TOKEN, "/api/webhooks?event=mfa.enabled").await);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], hook["id"]);

    let bad =
        s.post(ADMIN_TOKEN, "/api/webhooks", json!({"url": security.url("/x"), "events": ["category:finance"]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field(), "events[0]");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(security.received().len(), 4, "nothing else arrived");
}

#[tokio::test]
async fn an_auto_disabled_webhook_keeps_what_is_published_meanwhile_and_gets_it_when_enabled() {
    // Retries far off, so a failed delivery is still pending (with a retry to come) when the
    // webhook is switched off: it must be held, like everything published after.
    let s = TestServer::start_with(|c| {
        c.max_failures = 2;
        c.max_retries = 5;
        c.retry_delay = Duration::from_secs(60);
    })
    .await;
    let r = Receiver::answering(|_, _| Reply::status(500)).await;
    let acme = s.tenant_key("acme").await;
    let hook = s.webhook(&acme, &r.url("/in"), &["transaction.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    for n in 0..2 {
        s.post(&acme, "/api/events", json!({"event": "transaction.failed", "data": {"n": n}})).await;
    }
    r.wait_for(2, WAIT).await;
    eventually(WAIT, "the webhook is switched off", || async {
        s.get(&acme, &format!("/api/webhooks/{id}")).await.body["active"] == false
    })
    .await;
    for n in 2..5 {
        let a = s.post(&acme, "/api/events", json!({"event": "transaction.completed", "data": {"n": n}})).await;
        assert_eq!(a.body["deliveries"], 1, "kept for the switched-off webhook: {}", a.body);
    }
    let held = data(&s.get(&acme, &format!("/api/deliveries?webhookId={id}&status=held")).await);
    assert_eq!(held.len(), 5, "the two waiting for a retry and the three published meanwhile are held");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.received().len(), 2, "nothing is sent while it is off");

    r.set_rule(|_, _| Reply::status(200));
    s.post(&acme, &format!("/api/webhooks/{id}/enable"), json!({})).await;
    let got = r.wait_for(7, WAIT).await;
    let mut numbers: Vec<i64> = got[2..].iter().map(|g| g.json()["data"]["n"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, [0, 1, 2, 3, 4], "every event reached it once it was fixed");
}

#[tokio::test]
async fn replay_missing_sends_what_a_webhook_missed_and_never_what_it_already_got() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let other = s.tenant_key("other").await;
    let start = chrono::Utc::now().to_rfc3339();
    let hook = s.webhook(&acme, &r.url("/in"), &["wallet.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {"n": 1}})).await;
    r.wait_for(1, WAIT).await;
    // Switched off by its owner: events published meanwhile are not queued to it...
    s.post(&acme, &format!("/api/webhooks/{id}/disable"), json!({})).await;
    for n in 2..4 {
        let a = s.post(&acme, "/api/events", json!({"event": "wallet.updated", "data": {"n": n}})).await;
        assert_eq!(a.body["deliveries"], 0);
    }
    s.post(&acme, "/api/events", json!({"event": "user.created", "data": {"n": 9}})).await; // not subscribed
    s.post(&other, "/api/events", json!({"event": "wallet.created", "data": {"n": 8}})).await; // another tenant
    s.post(&acme, &format!("/api/webhooks/{id}/enable"), json!({})).await;

    let path = format!("/api/webhooks/{id}/replay-missing");
    let dry = s.post(&acme, &path, json!({"since": start, "dryRun": true})).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body, json!({"replayed": 2, "dryRun": true}));
    let done = s.post(&acme, &path, json!({"since": start})).await;
    assert_eq!(done.body["replayed"], 2);
    let got = r.wait_for(3, WAIT).await;
    let mut numbers: Vec<i64> = got.iter().map(|g| g.json()["data"]["n"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(s.post(&acme, &path, json!({"since": start})).await.body["replayed"], 0, "nothing twice");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.received().len(), 3);

    // Another tenant's key cannot replay it; a bad time is a 422.
    assert_eq!(s.post(&other, &path, json!({"since": start})).await.status, StatusCode::NOT_FOUND);
    let bad = s.post(&acme, &path, json!({"since": "yesterday"})).await;
    assert_eq!((bad.status, bad.field()), (StatusCode::UNPROCESSABLE_ENTITY, "since"));
}

#[tokio::test]
async fn numbers_javascript_cannot_hold_are_refused_and_the_rest_arrive_as_javascript_writes_them() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    s.webhook(ADMIN_TOKEN, &r.url("/in"), &["*"]).await;
    let publish = |data: Value| {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "transaction.completed", "data": data, "tenant": "default"}))
    };
    let big = publish(json!({"amount": {"minor": 9007199254740993u64}})).await;
    assert_eq!(big.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", big.body);
    assert_eq!(big.field(), "data.amount.minor");
    assert!(big.body["error"]["message"].as_str().unwrap().contains("as a string"));
    let huge = s
        .call_raw(
            reqwest::Method::POST,
            "/api/events",
            ADMIN_TOKEN,
            br#"{"event":"wallet.created","tenant":"default","data":{"ids":[1,123456789012345678901234567890]}}"#
                .to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!((huge.status, huge.field()), (StatusCode::UNPROCESSABLE_ENTITY, "data.ids[1]"));
    let events = data(&s.get(ADMIN_TOKEN, "/api/events").await);
    assert!(events.is_empty(), "nothing refused was stored");

    let ok = s
        .call_raw(
            reqwest::Method::POST,
            "/api/events",
            ADMIN_TOKEN,
            br#"{"event":"wallet.created","tenant":"default","data":{"b":1,"10":"ten","2":"two","tiny":0.000001,"max":9007199254740991}}"#.to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    let got = r.wait_for(1, WAIT).await.remove(0);
    let body = String::from_utf8(got.body.to_vec()).unwrap();
    assert!(body.contains(r#""data":{"2":"two","10":"ten","b":1,"tiny":0.000001,"max":9007199254740991}"#), "{body}");
}

#[tokio::test]
async fn the_console_refuses_cross_site_posts_and_posts_without_the_pages_token() {
    let s = TestServer::start().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (seed, token) = s.console_token().await;
    let login = |origin: Option<&str>, site: Option<&str>, csrf: Option<&str>| {
        let mut req = client.post(s.url("/console/login")).header("cookie", &seed).header("accept", "text/html");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        let mut form = vec![("key", ADMIN_TOKEN.to_string())];
        if let Some(c) = csrf {
            form.push(("csrf", c.to_string()));
        }
        req.form(&form).send()
    };
    let host = format!("http://{}", s.addr);
    let other_port = format!("http://127.0.0.1:{}", s.addr.port() + 1);
    for (what, r) in [
        ("another port of the same host", login(Some(&other_port), Some("same-site"), Some(&token)).await.unwrap()),
        ("another site", login(Some("https://evil.example"), Some("cross-site"), Some(&token)).await.unwrap()),
        ("no token", login(Some(&host), Some("same-origin"), None).await.unwrap()),
        ("a wrong token", login(Some(&host), Some("same-origin"), Some("0000")).await.unwrap()),
        ("an old browser on another port", login(Some(&other_port), None, Some(&token)).await.unwrap()),
    ] {
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(r.headers().get("set-cookie").is_none(), "{what}: no session");
    }
    let ok = login(Some(&host), Some("same-origin"), Some(&token)).await.unwrap();
    assert!(ok.status().is_redirection(), "{}", ok.status());
    let session = ok.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let both = format!("{seed}; {session}");

    // The session cookie never changes anything through the REST API, and reads only from our pages.
    let post = client
        .post(s.url("/api/keys"))
        .header("cookie", &both)
        .header("origin", &host)
        .json(&json!({"tenant": "evil", "role": "admin", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    let read = client.get(s.url("/api/webhooks")).header("cookie", &both).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK, "the console's own reads (CSV export, live feed) still work");
    let cross = client
        .get(s.url("/api/webhooks"))
        .header("cookie", &both)
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::UNAUTHORIZED);
    let keys = data(&s.get(ADMIN_TOKEN, "/api/keys").await);
    assert_eq!(keys.len(), 1, "no key was made");
}

#[tokio::test]
async fn malformed_console_calls_are_answered_as_the_api_answers_them() {
    let s = TestServer::start().await;
    let (seed, token) = s.console_token().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let empty = client
        .post(s.url("/console/login"))
        .header("cookie", &seed)
        .header("x-csrf-token", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert!(empty.status().is_success(), "{}", empty.status());
    assert!(empty.text().await.unwrap().contains("Enter an API key"));
}

#[tokio::test]
async fn guessing_keys_from_one_address_is_slowed_down_and_audited() {
    let s = TestServer::start_with(|c| c.auth_failure_limit = 5).await;
    for _ in 0..5 {
        assert_eq!(s.get("mwk_guess", "/api/webhooks").await.status, StatusCode::UNAUTHORIZED);
    }
    let refused = s.get("mwk_guess", "/api/webhooks").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "too_many_requests");
    let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // A valid key is never refused by the throttle (keys are 256-bit: it is there for guesses, and a
    // guesser behind the same NAT must not lock its neighbours out).
    assert_eq!(
        s.get(ADMIN_TOKEN, "/api/webhooks").await.status,
        StatusCode::OK,
        "a good key gets in while guesses are refused"
    );
    assert_eq!(s.get("mwk_guess", "/api/webhooks").await.status, StatusCode::TOO_MANY_REQUESTS);
    // Health checks and keyless routes are not affected.
    assert_eq!(s.call(reqwest::Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
    let dir = s.stop().await;
    let s = TestServer::start_in_dir(dir).await;
    let audit = data(&s.get(ADMIN_TOKEN, "/api/audit?limit=200").await);
    let count = |action: &str| audit.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("auth.failed"), 5);
    assert_eq!(count("auth.throttled"), 1);
    assert_eq!(audit.iter().find(|e| e["action"] == "auth.failed").unwrap()["clientIp"], "127.0.0.1");
}

#[tokio::test]
async fn answers_cannot_be_framed_or_sniffed_and_pages_carry_a_content_security_policy() {
    let s = TestServer::start().await;
    let api = reqwest::get(s.url("/api/openapi.json")).await.unwrap();
    assert_eq!(api.headers()["x-frame-options"], "DENY");
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(api.headers()["referrer-policy"], "same-origin");
    let page = reqwest::get(s.url("/login")).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).expect("a script nonce").split('\'').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the page's inline scripts carry the nonce");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start().await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(25), stream.read(&mut buf)).await;
    assert!(read.is_ok(), "the connection was still open after {:?}", started.elapsed());
}

#[tokio::test]
async fn registration_refuses_every_spelling_of_loopback() {
    let s = TestServer::start_with(|c| c.allowed_subnets.clear()).await;
    for url in [
        "https://localhost./hook",
        "https://[::127.0.0.1]/hook",
        "https://LOCALHOST/hook",
        "https://[::ffff:127.0.0.1]/x",
        "https://2130706433/x",
    ] {
        let a = s.post(ADMIN_TOKEN, "/api/webhooks", json!({"url": url, "events": ["*"]})).await;
        assert_eq!((a.status, a.field()), (StatusCode::UNPROCESSABLE_ENTITY, "url"), "{url}: {}", a.body);
    }
}

#[tokio::test]
async fn tenants_see_neither_others_delivery_counts_nor_the_admins_idempotency_key() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let globex = s.tenant_key("globex").await;
    s.webhook(&acme, &r.url("/a"), &["*"]).await;
    s.webhook(&globex, &r.url("/g1"), &["*"]).await;
    s.webhook(&globex, &r.url("/g2"), &["*"]).await;
    let a = s
        .call_raw(
            reqwest::Method::POST,
            "/api/events",
            ADMIN_TOKEN,
            json!({"event": "system.alert", "data": {"m": "maintenance"}}).to_string().into_bytes(),
            &[("idempotency-key", "admin-secret-key-1")],
        )
        .await;
    assert_eq!(a.body["deliveries"], 3);
    let id = a.body["id"].as_str().unwrap();
    let seen = s.get(&acme, &format!("/api/events/{id}")).await.body;
    assert_eq!(seen["deliveries"], 1, "{seen}");
    assert!(seen["idempotencyKey"].is_null(), "{seen}");
    let listed = data(&s.get(&globex, "/api/events").await);
    assert_eq!(listed[0]["deliveries"], 2);
    assert!(listed[0]["idempotencyKey"].is_null());
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/events/{id}")).await.body["idempotencyKey"], "admin-secret-key-1");
}

#[tokio::test]
async fn keys_show_no_part_of_the_operators_token_and_admin_keys_are_not_for_a_tenant() {
    let s = TestServer::start().await;
    let keys = data(&s.get(ADMIN_TOKEN, "/api/keys").await);
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].to_string().contains(&ADMIN_TOKEN[..6]), "{}", keys[0]);
    let a = s.post(ADMIN_TOKEN, "/api/keys", json!({"tenant": "acme", "role": "admin", "name": "x"})).await;
    assert_eq!((a.status, a.field()), (StatusCode::UNPROCESSABLE_ENTITY, "tenant"));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    if crate::database::on_postgres() {
        return; // a file of SQLite's; PostgreSQL keeps its own files
    }
    let s = TestServer::start().await;
    let mode = std::fs::metadata(s.dir.path().join("test.db")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[tokio::test]
async fn another_tenants_key_can_neither_act_on_nor_learn_of_a_webhook() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::answering(|_, _| Reply::status(500)).await;
    let acme = s.tenant_key("acme").await;
    let globex = s.tenant_key("globex").await;
    let hook = s.webhook(&acme, &r.url("/acme"), &["*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let event = s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    assert_eq!(event.status, StatusCode::ACCEPTED);
    r.wait_for(1, WAIT).await;
    let deliveries = data(&s.get(&acme, "/api/deliveries").await);
    let delivery = deliveries[0]["id"].as_str().unwrap().to_string();
    eventually(WAIT, "the delivery has failed", || async {
        s.get(&acme, &format!("/api/deliveries/{delivery}")).await.body["status"] == "failed"
    })
    .await;
    let since = json!({"since": 0});
    for (what, answer) in [
        ("retry", s.post(&globex, &format!("/api/deliveries/{delivery}/retry"), json!({})).await),
        ("recover", s.post(&globex, &format!("/api/webhooks/{id}/recover"), since.clone()).await),
        ("replay", s.post(&globex, &format!("/api/webhooks/{id}/replay-missing"), since.clone()).await),
        ("reveal", s.get(&globex, &format!("/api/webhooks/{id}/secret")).await),
        ("rotate", s.post(&globex, &format!("/api/webhooks/{id}/rotate-secret"), json!({})).await),
        ("disable", s.post(&globex, &format!("/api/webhooks/{id}/disable"), json!({})).await),
        ("enable", s.post(&globex, &format!("/api/webhooks/{id}/enable"), json!({})).await),
        ("test", s.post(&globex, &format!("/api/webhooks/{id}/test"), json!({})).await),
        (
            "verify",
            s.post(
                &globex,
                "/api/webhooks/verify",
                json!({"payload": "{}", "signature": "t=1,v1=00", "webhookId": id}),
            )
            .await,
        ),
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{what}: {}", answer.body);
    }
    // Nothing changed: still active, the same secret, no further request, the delivery still failed.
    let after = s.get(&acme, &format!("/api/webhooks/{id}/secret")).await.body;
    assert_eq!(after["secret"], hook["secret"]);
    assert!(after["previousSecret"].is_null());
    assert_eq!(s.get(&acme, &format!("/api/webhooks/{id}")).await.body["active"], true);
    assert_eq!(s.get(&acme, &format!("/api/deliveries/{delivery}")).await.body["status"], "failed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.received().len(), 1);
}

#[tokio::test]
async fn a_body_must_be_an_object_not_fields_by_position() {
    let s = TestServer::start().await;
    let a = s.post(ADMIN_TOKEN, "/api/webhooks", json!(["https://example.com/by-position", ["*"]])).await;
    assert_eq!((a.status, a.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"), "{}", a.body);
    assert!(data(&s.get(ADMIN_TOKEN, "/api/webhooks").await).is_empty(), "nothing stored");
    let hook = s.webhook(ADMIN_TOKEN, "https://example.com/h", &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let r = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!([null, null])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let secret = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body;
    assert_eq!(secret["secret"], hook["secret"], "the secret is unchanged");
}

#[tokio::test]
async fn an_unknown_field_in_a_body_is_refused_naming_it_and_nothing_is_stored() {
    let s = TestServer::start().await;
    let refused = |a: &crate::harness::Answer, field: &str| {
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert_eq!((a.code(), a.field()), ("unknown_field", field), "{}", a.body);
        assert!(a.body["error"]["message"].as_str().unwrap().contains(field), "{}", a.body);
    };
    // A misspelt control on create: nothing stored, so no webhook runs without the limit asked for.
    let a = s
        .post(ADMIN_TOKEN, "/api/webhooks", json!({"url": "https://example.com/h", "events": ["*"], "rateLimt": 5}))
        .await;
    refused(&a, "rateLimt");
    assert!(data(&s.get(ADMIN_TOKEN, "/api/webhooks").await).is_empty(), "nothing stored");

    let hook = s.webhook(ADMIN_TOKEN, "https://example.com/h", &["*"]).await;
    let id = hook["id"].as_str().unwrap();
    let a =
        s.patch(ADMIN_TOKEN, &format!("/api/webhooks/{id}"), json!({"description": "renamed", "activ": false})).await;
    refused(&a, "activ");
    let now = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}")).await.body;
    assert_eq!((now["description"].clone(), now["active"].clone()), (hook["description"].clone(), json!(true)));

    let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {}, "tenat": "acme"})).await;
    refused(&a, "tenat");
    assert!(data(&s.get(ADMIN_TOKEN, "/api/events").await).is_empty(), "no event stored");
    // Inside the event's data anything goes: that is the customer's own JSON.
    let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {"anything": 1}})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);

    let a =
        s.post(ADMIN_TOKEN, "/api/keys", json!({"name": "k", "role": "tenant", "tenant": "acme", "scope": "x"})).await;
    refused(&a, "scope");
    let a = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/rotate-secret"), json!({"graceSecond": 60})).await;
    refused(&a, "graceSecond");
    let secret = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{id}/secret")).await.body;
    assert_eq!(secret["secret"], hook["secret"], "the secret is unchanged");
}
