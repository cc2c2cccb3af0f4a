//! What one tenant or one client cannot take from the others: the workers (a fair share of the
//! slots), the server's memory (payloads held for deliveries are bounded in bytes), its connections
//! (deadlines for silent and slow ones, a bound that keeps `/healthz` answering), its address (an
//! unreadable `X-Forwarded-For` is nobody's), and the number of webhooks.

use crate::harness::{TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A receiver that never answers (the server's timeout ends each request).
async fn black_hole() -> Receiver {
    Receiver::answering(|_, _| Reply { delay: Duration::from_secs(3600), ..Reply::status(200) }).await
}

/// Tenant a: 16 webhooks (with delivery controls or without), 10 deliveries each, to a receiver
/// that never answers, on a server with 16 slots and a 3 s timeout; then tenant b publishes one
/// event. Returns how long b's delivery took to arrive.
async fn wait_behind_a_stuck_tenant(controlled: bool) -> Duration {
    let timeout = Duration::from_secs(3);
    let s = TestServer::start_with(|c| {
        c.concurrency = 16;
        c.timeout = timeout;
        c.max_retries = 0;
    })
    .await;
    let stuck = black_hole().await;
    let fast = Receiver::start().await;
    for i in 0..16 {
        let mut hook = json!({"url": stuck.url(&format!("/a{i}")), "events": ["*"], "tenant": "a"});
        if controlled {
            hook["maxInFlight"] = json!(10);
        }
        let a = s.post(ADMIN_TOKEN, "/api/webhooks", hook).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    for n in 0..10 {
        let a = s
            .post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "tenant": "a", "data": {"n": n}}))
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    // Every slot is taken by tenant a.
    stuck.wait_for(16, Duration::from_secs(10)).await;
    let b = s.post(ADMIN_TOKEN, "/api/webhooks", json!({"url": fast.url("/b"), "events": ["*"], "tenant": "b"})).await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    let published = Instant::now();
    let a = s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "tenant": "b", "data": {}})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    fast.wait_for(1, Duration::from_secs(60)).await;
    published.elapsed()
}

#[tokio::test]
async fn another_tenants_delivery_arrives_within_a_request_timeout_while_one_tenants_webhooks_are_stuck() {
    // One request timeout (3 s), and a second for the rest.
    let bound = Duration::from_secs(4);
    let waited = wait_behind_a_stuck_tenant(true).await;
    assert!(waited <= bound, "behind 160 stuck deliveries of controlled webhooks, tenant b waited {waited:?}");
    let waited = wait_behind_a_stuck_tenant(false).await;
    assert!(waited <= bound, "behind 160 stuck deliveries of plain webhooks, tenant b waited {waited:?}");
}

/// The resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn three_hundred_stuck_controlled_webhooks_and_two_1_mb_events_hold_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = crate::crash::spawn_with(
        dir.path(),
        &[("WEBHOOK_CONCURRENCY", "256"), ("WEBHOOK_TIMEOUT", "30000"), ("WEBHOOK_MAX_RETRIES", "0")],
    );
    let base = addr.clone();
    let stuck = black_hole().await;
    let client = reqwest::Client::new();
    for i in 0..300 {
        let a = client
            .post(format!("{base}/api/webhooks"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"url": stuck.url(&format!("/w{i}")), "events": ["*"], "tenant": "greedy", "maxInFlight": 5}))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), StatusCode::CREATED);
    }
    let before = rss(server.id());
    let blob = "x".repeat(1_000_000);
    for n in 0..2 {
        let a = client
            .post(format!("{base}/api/events"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"event": "wallet.created", "tenant": "greedy", "data": {"n": n, "blob": blob}}))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), StatusCode::ACCEPTED);
    }
    // Requests are under way and the lanes have had many ticks to claim what they may.
    stuck.wait_for(5, Duration::from_secs(20)).await;
    let mut peak = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(rss(server.id()));
    }
    let grown = peak.saturating_sub(before);
    eprintln!("300 stuck controlled webhooks, two 1 MB events: the server grew by {} MB", grown >> 20);
    assert!(grown < 100 << 20, "the server grew by {} MB holding 600 waiting deliveries of 1 MB", grown >> 20);
}

/// Reads from `stream` until the server closes it; returns how long that took.
async fn closed_after(mut stream: TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the server kept the connection open for {within:?}"),
        }
    }
}

#[tokio::test]
async fn silent_idle_and_slow_connections_are_closed_within_their_deadlines() {
    let s = TestServer::start_with(|c| {
        c.http.header = Duration::from_secs(1);
        c.http.body = Duration::from_secs(2);
        c.http.idle = Duration::from_secs(2);
    })
    .await;
    // Silent from the start (HTTP/1 or anything else).
    let silent = TcpStream::connect(s.addr).await.unwrap();
    let took = closed_after(silent, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(800), "closed too soon: {took:?}");

    // HTTP/2 (prior knowledge): the preface and settings, then nothing.
    let mut h2 = TcpStream::connect(s.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00").await.unwrap();
    closed_after(h2, Duration::from_secs(5)).await;

    // A request, then an idle keep-alive connection.
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    closed_after(kept, Duration::from_secs(5)).await;

    // Headers sent a byte at a time.
    let mut trickle = TcpStream::connect(s.addr).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
        if trickle.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    if !closed {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), trickle.read_to_end(&mut rest)).await;
        assert!(!String::from_utf8_lossy(&rest).contains("200 OK"), "a trickled header was served");
    }
    assert!(started.elapsed() < Duration::from_secs(6));

    // A body that trickles, on the API and on the console's server functions (not signed in).
    for path in ["/api/events", "/console/webhooks"] {
        let mut slow = TcpStream::connect(s.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
            s.addr
        );
        slow.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let trickling = tokio::spawn(async move {
            let mut answer = Vec::new();
            loop {
                let mut buf = [0u8; 1024];
                tokio::select! {
                    read = slow.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return answer,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    },
                    _ = tokio::time::sleep(Duration::from_millis(300)) => {
                        if slow.write_all(b" ").await.is_err() {
                            return answer;
                        }
                    }
                }
            }
        });
        let answer = tokio::time::timeout(Duration::from_secs(6), trickling)
            .await
            .unwrap_or_else(|_| panic!("{path}: a trickled body held the connection"))
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(started.elapsed() < Duration::from_secs(4), "{path}: answered after {:?}", started.elapsed());
        assert!(!answer.contains(" 202 ") && !answer.contains(" 500 "), "{path}: {answer}");
    }
    // Nothing was stored from the cut-off body.
    let events = s.get(ADMIN_TOKEN, "/api/events").await;
    assert_eq!(crate::harness::data(&events).len(), 0);
}

#[tokio::test]
async fn healthz_keeps_answering_through_a_flood_of_silent_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = crate::crash::spawn_with_file_limit(dir.path(), &[("WEBHOOK_MAX_CONNECTIONS", "100")], 512);
    let addr = base.trim_start_matches("http://").to_string();
    // (The test process may open these: its own limit is not the server's. A server that stops
    // accepting leaves connections in its backlog, then unanswered: each try is bounded.)
    let connect = |addr: String| async move {
        tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await.ok().and_then(Result::ok)
    };
    let mut flood = Vec::new();
    for _ in 0..700 {
        flood.extend(connect(addr.clone()).await);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for i in 0..10 {
        // More silent ones keep arriving meanwhile.
        for _ in 0..50 {
            flood.extend(connect(addr.clone()).await);
        }
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(3), client.get(format!("{base}/healthz")).send())
            .await
            .unwrap_or_else(|_| panic!("/healthz did not answer within 3 s during the flood (try {i})"))
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "after {:?}", asked.elapsed());
    }
    assert!(flood.len() >= 600, "the flood reached the server: {} connections", flood.len());
}

#[tokio::test]
async fn an_unreadable_forwarded_for_from_a_trusted_proxy_is_an_unknown_client_not_the_proxy() {
    let s = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    // A key that may be used from the proxy's network only.
    let a = s
        .post(
            ADMIN_TOKEN,
            "/api/keys",
            json!({"tenant": "acme", "role": "tenant", "name": "k", "allowedIps": ["127.0.0.0/8"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let key = a.body["key"].as_str().unwrap().to_string();
    let call = |xff: &'static str| {
        let key = key.clone();
        let url = s.url("/api/webhooks");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .header("x-forwarded-for", xff)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(call("127.0.0.5").await, StatusCode::OK);
    for lie in ["garbage, 127.0.0.1", "garbage", "127.0.0.5, not-an-ip", "[::1]:x"] {
        assert_eq!(call(lie).await, StatusCode::FORBIDDEN, "X-Forwarded-For: {lie}");
    }
    // Ports are read, not refused.
    assert_eq!(call("127.0.0.9:4711").await, StatusCode::OK);
    let b = s
        .post(
            ADMIN_TOKEN,
            "/api/keys",
            json!({"tenant": "acme", "role": "tenant", "name": "v6", "allowedIps": ["2001:db8::/32"]}),
        )
        .await;
    let v6 = b.body["key"].as_str().unwrap().to_string();
    let status = reqwest::Client::new()
        .get(s.url("/api/webhooks"))
        .bearer_auth(v6)
        .header("x-forwarded-for", "[2001:db8::7]:443")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_may_have_only_so_many_webhooks() {
    let s = TestServer::start_with(|c| c.max_webhooks_per_tenant = 3).await;
    let r = Receiver::start().await;
    let key = s.tenant_key("acme").await;
    for i in 0..3 {
        s.webhook(&key, &r.url(&format!("/{i}")), &["*"]).await;
    }
    let a = s.post(&key, "/api/webhooks", json!({"url": r.url("/3"), "events": ["*"]})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(a.code(), "too_many_webhooks");
    assert_eq!(a.field(), "tenant");
    let listed = s.get(&key, "/api/webhooks").await;
    assert_eq!(crate::harness::data(&listed).len(), 3, "nothing stored for the refused one");
    // Another tenant is not affected; deleting one makes room.
    let other = s.tenant_key("globex").await;
    s.webhook(&other, &r.url("/g"), &["*"]).await;
    let first = crate::harness::data(&listed)[0]["id"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&key, &format!("/api/webhooks/{first}")).await.status, StatusCode::NO_CONTENT);
    s.webhook(&key, &r.url("/4"), &["*"]).await;
}

#[tokio::test]
async fn a_long_search_is_refused_and_a_receivers_headers_are_stored_capped() {
    let s = TestServer::start().await;
    let long = "a".repeat(201);
    let a = s.get(ADMIN_TOKEN, &format!("/api/webhooks?search={long}")).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, "search_too_long"), "{}", a.body);
    assert_eq!(s.get(ADMIN_TOKEN, &format!("/api/webhooks?search={}", &long[..200])).await.status, StatusCode::OK);

    // A receiver answering with 300 KB of headers: 16 KiB of them are kept.
    let names: Vec<&'static str> = (0..30).map(|i| &*Box::leak(format!("x-big-{i:02}").into_boxed_str())).collect();
    let r = Receiver::answering(move |_, _| Reply {
        headers: names.iter().map(|n| (*n, "v".repeat(10_000))).collect(),
        ..Reply::status(200)
    })
    .await;
    let hook = s.webhook(ADMIN_TOKEN, &r.url("/h"), &["*"]).await;
    let tested = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{}/test", hook["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    let delivery =
        s.get(ADMIN_TOKEN, &format!("/api/deliveries/{}", tested.body["deliveryId"].as_str().unwrap())).await;
    let headers = delivery.body["attempts"][0]["responseHeaders"].as_object().expect("headers kept").clone();
    let size: usize = headers.iter().map(|(k, v)| k.len() + v.as_str().unwrap().len()).sum();
    assert!(size <= 16 * 1024, "{size} bytes of a receiver's headers stored");
    assert!(headers.contains_key("x-big-00"));
}

#[tokio::test]
async fn audit_entries_older_than_their_retention_are_purged() {
    let s = TestServer::start_with(|c| {
        c.audit_retention = Duration::from_millis(300);
        c.retention_interval = Duration::from_millis(200);
    })
    .await;
    s.tenant_key("acme").await;
    let listed = s.get(ADMIN_TOKEN, "/api/audit?action=key.created").await;
    assert_eq!(crate::harness::data(&listed).len(), 1);
    crate::harness::eventually(Duration::from_secs(10), "the old audit entry is purged", || async {
        crate::harness::data(&s.get(ADMIN_TOKEN, "/api/audit?action=key.created").await).is_empty()
    })
    .await;
}
