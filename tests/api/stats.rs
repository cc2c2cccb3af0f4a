//! `/api/stats` and `/api/webhooks/{id}/stats` agree with what the receivers saw.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn stats_match_what_the_receivers_saw() {
    let s = TestServer::start_with(|c| c.retry_delay = Duration::from_millis(100)).await;
    // /b fails its very first request, then accepts everything.
    let r = Receiver::answering(|path, n| Reply::status(if path == "/b" && n == 0 { 500 } else { 200 })).await;
    s.webhook(ADMIN_TOKEN, &r.url("/a"), &["*"]).await;
    let b = s.webhook(ADMIN_TOKEN, &r.url("/b"), &["*"]).await;
    for i in 0..5 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {"n": i}})).await;
    }
    for i in 0..3 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "user.created", "data": {"n": i}})).await;
    }
    eventually(Duration::from_secs(15), "all 16 deliveries succeeded", || async {
        data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=succeeded").await).len() == 16
    })
    .await;
    let seen = r.received().len();
    assert_eq!(seen, 17, "16 deliveries, one of them retried once");

    let st = s.get(ADMIN_TOKEN, "/api/stats?window=1h").await;
    assert_eq!(st.status, StatusCode::OK, "{}", st.body);
    let st = st.body;
    assert_eq!(st["attempts"], seen);
    assert!((st["successRate"].as_f64().unwrap() - 16.0 / 17.0).abs() < 1e-9, "{st}");
    assert_eq!(st["deliveries"], 16);
    assert!((st["retryRate"].as_f64().unwrap() - 1.0 / 16.0).abs() < 1e-9);
    assert_eq!(st["failureRate"], 0.0);
    assert_eq!(st["queueSize"], 0);
    assert_eq!(st["byStatus"]["succeeded"], 16);
    assert_eq!(
        st["eventDistribution"],
        json!([{"event": "wallet.created", "count": 10}, {"event": "user.created", "count": 6}])
    );
    assert!(st["avgResponseMs"].as_f64().unwrap() >= 0.0);
    assert!(st["p95ResponseMs"].is_number());
    let series = st["series"].as_array().unwrap();
    assert_eq!(series.len(), 12, "5-minute buckets over an hour");
    assert_eq!(series.iter().map(|b| b["attempts"].as_i64().unwrap()).sum::<i64>(), 17);
    assert_eq!(series.iter().map(|b| b["succeeded"].as_i64().unwrap()).sum::<i64>(), 16, "succeeded per bucket");
    for b in series {
        let busy = b["attempts"].as_i64().unwrap() > 0;
        assert_eq!(b["p50ResponseMs"].is_number(), busy, "a bucket's median exists when it has attempts: {b}");
        assert_eq!(b["p95ResponseMs"].is_number(), busy, "{b}");
        if busy {
            assert!(b["p95ResponseMs"].as_i64() >= b["p50ResponseMs"].as_i64(), "{b}");
        }
    }

    let one = s.get(ADMIN_TOKEN, &format!("/api/webhooks/{}/stats?window=24h", b["id"].as_str().unwrap())).await.body;
    assert_eq!(one["attempts"], 9);
    assert_eq!(one["deliveries"], 8);
    assert!((one["successRate"].as_f64().unwrap() - 8.0 / 9.0).abs() < 1e-9);
    assert_eq!(one["series"].as_array().unwrap().len(), 24);

    let acme = s.tenant_key("acme").await;
    let theirs = s.get(&acme, "/api/stats").await.body;
    assert_eq!(theirs["attempts"], 0);
    assert!(theirs["successRate"].is_null());
    assert_eq!(
        s.get(&acme, &format!("/api/webhooks/{}/stats", b["id"].as_str().unwrap())).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = s.get(ADMIN_TOKEN, "/api/stats?window=2d").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field(), "window");
}

/// The value of the metric line that starts with `series` (name and labels).
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn metrics_count_what_happened() {
    let s = TestServer::start_with(|c| c.max_retries = 0).await;
    let r = Receiver::start().await;
    s.webhook(ADMIN_TOKEN, &r.url("/ok"), &["wallet.*"]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    s.webhook(ADMIN_TOKEN, &format!("http://{closed}/nobody"), &["wallet.*"]).await;
    let off = s.webhook(ADMIN_TOKEN, &r.url("/off"), &["user.*"]).await;
    s.post(ADMIN_TOKEN, &format!("/api/webhooks/{}/disable", off["id"].as_str().unwrap()), json!({})).await;
    for _ in 0..3 {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    }
    eventually(Duration::from_secs(15), "all 6 deliveries finished", || async {
        let done = data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=succeeded").await).len()
            + data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=failed").await).len();
        done == 6
    })
    .await;
    let text = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    assert_eq!(metric(&text, "monay_attempts_total{outcome=\"success\"}"), r.received().len() as f64);
    assert_eq!(metric(&text, "monay_attempts_total{outcome=\"failure\",error_kind=\"connect\"}"), 3.0);
    assert_eq!(metric(&text, "monay_attempt_duration_seconds_count"), 6.0);
    assert_eq!(metric(&text, "monay_events_published_total"), 3.0);
    assert_eq!(metric(&text, "monay_publish_duration_seconds_count"), 3.0);
    assert_eq!(metric(&text, "monay_queue_depth{status=\"pending\"}"), 0.0);
    assert_eq!(metric(&text, "monay_webhooks_disabled"), 1.0);
    // Where the writes went: 3 events stored in 1 to 3 group commits, 6 attempts recorded.
    assert_eq!(metric(&text, "monay_store_rows_total{work=\"publish\"}"), 3.0);
    assert!((1.0..=3.0).contains(&metric(&text, "monay_store_transactions_total{work=\"publish\"}")));
    assert_eq!(metric(&text, "monay_store_rows_total{work=\"record\"}"), 6.0);
    assert_eq!(metric(&text, "monay_publish_commit_wait_seconds_count"), 3.0);
}

/// Statistics read from the rollup tables equal those read from the log, for every scope and window:
/// the same deliveries are counted once, whichever side of the rollup mark they fall.
#[tokio::test]
async fn rolled_up_statistics_equal_those_read_from_the_log() {
    let s = TestServer::start_with(|c| c.retry_delay = Duration::from_millis(50)).await;
    // Every third request fails, so there are retries and failures; /slow takes its time.
    let r = Receiver::answering(|path, n| {
        let reply = Reply::status(if n % 3 == 2 { 503 } else { 200 });
        if path == "/slow" {
            Reply { delay: Duration::from_millis(120), ..reply }
        } else {
            reply
        }
    })
    .await;
    let acme = s.tenant_key("acme").await;
    let a = s.webhook(ADMIN_TOKEN, &r.url("/a"), &["*"]).await;
    let slow = s.webhook(&acme, &r.url("/slow"), &["wallet.*"]).await;
    let idle = s.webhook(ADMIN_TOKEN, &r.url("/idle"), &["kyc.failed"]).await;
    let ids: Vec<String> = [&a, &slow, &idle].iter().map(|w| w["id"].as_str().unwrap().to_string()).collect();
    for i in 0..12 {
        let event = if i % 2 == 0 { "wallet.created" } else { "user.created" };
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": event, "data": {"n": i}})).await;
    }
    eventually(Duration::from_secs(20), "every delivery settled", || async {
        let d = data(&s.get(ADMIN_TOKEN, "/api/deliveries?limit=100").await);
        d.len() == 18 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    let sent_to_a = r.received().iter().filter(|x| x.path == "/a").count() as i64;
    let dir = s.stop().await;

    let store = monay_webhooks::store::Store::open(&crate::database::url(dir.path())).await.unwrap();
    // Half an hour on, every bucket of the run has settled.
    let later = chrono::Utc::now().timestamp_millis() + 30 * 60_000;
    let hour = 3_600_000;
    let queries = [
        (None, None, None, hour, 5 * 60_000),
        (None, Some("acme"), None, 24 * hour, hour),
        (Some("acme"), None, None, 7 * 24 * hour, 6 * hour),
        (None, None, Some(a["id"].as_str().unwrap()), hour, 5 * 60_000),
    ];
    let mut from_log = Vec::new();
    for (scope, tenant, webhook, window_ms, bucket_ms) in queries {
        let q = monay_webhooks::store::StatsQuery {
            scope: scope.map(str::to_string),
            tenant: tenant.map(str::to_string),
            webhook_id: webhook.map(str::to_string),
            window_ms,
            bucket_ms,
        };
        from_log.push((q.clone(), serde_json::to_value(store.stats_at(&q, later).await.unwrap()).unwrap()));
    }
    // The webhook list reads every row's attempts in one pass: each the same as read alone.
    let each_alone = || async {
        let mut alone = std::collections::BTreeMap::new();
        for id in &ids {
            let q = monay_webhooks::store::StatsQuery {
                scope: None,
                tenant: None,
                webhook_id: Some(id.clone()),
                window_ms: 24 * hour,
                bucket_ms: hour,
            };
            let st = store.stats_at(&q, later).await.unwrap();
            alone.insert(id.clone(), (st.attempts, st.success_rate, st.p95_response_ms, st.series));
        }
        alone
    };
    let together = || async {
        let q = monay_webhooks::store::StatsQuery {
            scope: None,
            tenant: None,
            webhook_id: None,
            window_ms: 24 * hour,
            bucket_ms: hour,
        };
        let rows = store.attempts_by_webhook(&q, &ids, later).await.unwrap();
        rows.into_iter()
            .map(|(id, a)| (id, (a.attempts, a.success_rate, a.p95_response_ms, a.series)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let alone = each_alone().await;
    assert_eq!(alone[&ids[0]].0, sent_to_a, "{alone:?}");
    assert_eq!(alone[&ids[2]].0, 0, "nothing was sent to /idle");
    assert_eq!(together().await, alone, "read from the log");

    assert_eq!(store.rolled_until().await.unwrap(), None, "nothing rolled up yet");
    assert!(store.roll_up(later).await.unwrap() > 0);
    assert!(store.rolled_until().await.unwrap().unwrap() > later - 10 * 60_000);
    for (q, log) in from_log {
        let rolled = serde_json::to_value(store.stats_at(&q, later).await.unwrap()).unwrap();
        assert_eq!(rolled, log, "{q:?}");
    }
    assert_eq!(each_alone().await, alone, "read from the rollups");
    assert_eq!(together().await, alone, "read from the rollups, every webhook at once");
    let platform = &serde_json::to_value(
        store
            .stats_at(
                &monay_webhooks::store::StatsQuery {
                    scope: None,
                    tenant: None,
                    webhook_id: None,
                    window_ms: hour,
                    bucket_ms: 5 * 60_000,
                },
                later,
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(platform["deliveries"], 18, "12 to /a, 6 wallet events to /slow");
    assert_eq!(platform["attempts"], r.received().len());
    assert!(platform["retryRate"].as_f64().unwrap() > 0.0);
    assert!(platform["p95ResponseMs"].as_i64().unwrap() >= 120, "{platform}");
    store.close().await;
}
