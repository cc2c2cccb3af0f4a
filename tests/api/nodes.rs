//! Several nodes on one PostgreSQL database, as real processes: they share the delivery queue (no
//! delivery attempted twice, none lost), take over a dead node's deliveries within its lease, and
//! share the live feed and key revocations. Run only with `TEST_POSTGRES_URL` (SQLite is one node).

use crate::crash::{register, signal, spawn_with, Server};
use crate::harness::ADMIN_TOKEN;
use crate::receiver::{Receiver, Reply};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// `n` nodes on the database of `dir`, each with `concurrency` delivery slots.
fn nodes(dir: &std::path::Path, n: usize, concurrency: &str) -> Vec<(Server, String)> {
    (0..n).map(|_| spawn_with(dir, &[("WEBHOOK_CONCURRENCY", concurrency)])).collect()
}

/// Publishes `n` events over `publishers` concurrent connections spread across the nodes; returns
/// the event ids.
async fn publish_across(bases: &[String], n: usize, publishers: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let (client, bases) = (client.clone(), bases.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (p..n).step_by(publishers) {
                let base = &bases[i % bases.len()];
                let a: Value = client
                    .post(format!("{base}/api/events"))
                    .bearer_auth(ADMIN_TOKEN)
                    .json(&json!({"event": "transaction.completed", "data": {"n": i}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                ids.push(a["id"].as_str().expect("published").to_string());
            }
            ids
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    ids
}

/// A node's count of attempts it made (from its `/metrics`).
async fn attempts_made(base: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("monay_attempts_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// How many times each event id reached the receiver.
fn copies(r: &Receiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for got in r.received() {
        *seen.entry(got.header("x-webhook-id").to_string()).or_default() += 1;
    }
    seen
}

async fn get(base: &str, path: &str, key: &str) -> (u16, Value) {
    call(reqwest::Method::GET, base, path, key, None).await
}

/// A request with a key and an optional JSON body: its status and JSON answer.
async fn call(method: reqwest::Method, base: &str, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}")).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// `POST` of a JSON body.
async fn post(base: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
    call(reqwest::Method::POST, base, path, key, Some(body)).await
}

/// Every delivery in the log, page after page.
async fn every_delivery(base: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = get(base, &format!("/api/deliveries?limit=200{cursor}"), ADMIN_TOKEN).await;
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_queue_and_deliver_every_event_once() {
    if !crate::database::on_postgres() {
        return;
    }
    const EVENTS: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start().await;
    let first = spawn_with(dir.path(), &[("WEBHOOK_CONCURRENCY", "32")]);
    register(&first.1, &r.url("/in")).await;
    let mut all = vec![first];
    all.extend(nodes(dir.path(), 2, "32"));
    let bases: Vec<String> = all.iter().map(|(_, b)| b.clone()).collect();

    let ids = publish_across(&bases, EVENTS, 32).await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), EVENTS);
    let deadline = Instant::now() + Duration::from_secs(180);
    while r.count() < EVENTS {
        assert!(Instant::now() < deadline, "only {} of {EVENTS} deliveries arrived", r.count());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing more comes: no delivery was attempted by two nodes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = copies(&r);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} events delivered more than once, e.g. {:?}", twice.len(), twice.first());
    assert!(ids.iter().all(|id| seen.contains_key(id)), "every published event was delivered");
    // Every node did part of the work, and together exactly one attempt per delivery.
    let mut made = Vec::new();
    for base in &bases {
        made.push(attempts_made(base).await);
    }
    assert!(made.iter().all(|n| *n > 0), "attempts per node: {made:?}");
    assert_eq!(made.iter().sum::<u64>(), EVENTS as u64, "attempts per node: {made:?}");
    let (_, stats) = get(&bases[2], "/api/stats?window=1h", ADMIN_TOKEN).await;
    assert_eq!(stats["deliveries"], EVENTS, "{stats}");
    assert_eq!(stats["queueSize"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_deliveries_are_sent_by_another_within_the_lease() {
    if !crate::database::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Slow answers, so that many deliveries are in flight when the node dies.
    let r = Receiver::answering(|_, _| Reply { delay: Duration::from_millis(400), ..Reply::status(200) }).await;
    let mut all = nodes(dir.path(), 2, "16");
    register(&all[0].1, &r.url("/in")).await;
    let bases: Vec<String> = all.iter().map(|(_, b)| b.clone()).collect();
    let ids = publish_across(&bases, 300, 8).await;
    r.wait_for(20, Duration::from_secs(30)).await;

    let (victim, _) = &mut all[1];
    signal(victim, "KILL");
    victim.wait().unwrap();
    let killed_at = Instant::now();
    let survivor = bases[0].clone();

    let deadline = killed_at + Duration::from_secs(60);
    loop {
        let (_, rest) = get(&survivor, "/api/stats?window=1h", ADMIN_TOKEN).await;
        if rest["queueSize"] == 0 && rest["byStatus"]["delivering"] == 0 {
            let seen = copies(&r);
            if ids.iter().all(|id| seen.contains_key(id)) {
                break;
            }
        }
        assert!(Instant::now() < deadline, "not every event was delivered after the kill: {rest}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The deliveries the dead node held were taken over: each has an `interrupted` attempt, and
    // reached the receiver again within the lease (10 s) and a sweep of the survivor.
    let mut taken_over = 0;
    for d in every_delivery(&survivor).await {
        let (_, detail) = get(&survivor, &format!("/api/deliveries/{}", d["id"].as_str().unwrap()), ADMIN_TOKEN).await;
        if detail["attempts"].as_array().unwrap().iter().any(|a| a["errorKind"] == "interrupted") {
            taken_over += 1;
            let event_id = d["eventId"].as_str().unwrap();
            let last =
                r.received().into_iter().filter(|g| g.header("x-webhook-id") == event_id).map(|g| g.at).max().unwrap();
            assert!(
                last.saturating_duration_since(killed_at) <= Duration::from_secs(15),
                "{event_id} was sent again {:?} after the kill",
                last.saturating_duration_since(killed_at)
            );
        }
    }
    assert!(taken_over >= 1, "the kill left deliveries in flight to take over");
    drop(all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_one_node_shows_attempts_made_by_another() {
    if !crate::database::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start().await;
    let all = nodes(dir.path(), 2, "4");
    let (a, b) = (&all[0].1, &all[1].1);
    register(a, &r.url("/in")).await;
    let (_, hooks) = get(a, "/api/webhooks", ADMIN_TOKEN).await;
    let hook = hooks["data"][0]["id"].as_str().unwrap().to_string();

    let mut stream =
        reqwest::Client::new().get(format!("{a}/api/stream")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    // A test delivery is sent by the node that is asked: B.
    let (status, sent) = call(reqwest::Method::POST, b, &format!("/api/webhooks/{hook}/test"), ADMIN_TOKEN, None).await;
    assert_eq!(status, 200);
    let delivery = sent["deliveryId"].as_str().map(str::to_string);
    let seen = crate::stream::read_until(&mut stream, |event, data| {
        event == "attempt" && data["trigger"] == "test" && data["webhookId"] == hook.as_str()
    })
    .await;
    let (_, attempt) = seen.last().unwrap();
    if let Some(delivery) = delivery {
        assert_eq!(attempt["deliveryId"], delivery.as_str());
    }
    assert_eq!(attempt["responseStatus"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_node_is_refused_by_the_others_at_once() {
    if !crate::database::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let all = nodes(dir.path(), 2, "4");
    let (a, b) = (&all[0].1, &all[1].1);
    let (_, created) = post(a, "/api/keys", ADMIN_TOKEN, json!({"tenant": "acme", "name": "leaked"})).await;
    let (key, id) = (created["key"].as_str().unwrap(), created["id"].as_str().unwrap());
    // B knows the key (and remembers it for a few seconds).
    assert_eq!(get(b, "/api/webhooks", key).await.0, 200);
    let (revoked, _) = call(reqwest::Method::DELETE, a, &format!("/api/keys/{id}"), ADMIN_TOKEN, None).await;
    assert!((200..300).contains(&revoked), "{revoked}");
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if get(b, "/api/webhooks", key).await.0 == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "node B still accepts the revoked key a second later");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_announced_once_whatever_the_number_of_nodes() {
    if !crate::database::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("WEBHOOK_CONCURRENCY", "4"),
        ("WEBHOOK_MAX_RETRIES", "0"),
        ("WEBHOOK_MAX_FAILURES", "1000"),
        ("WEBHOOK_ALERT_MIN_ATTEMPTS", "5"),
        ("WEBHOOK_ALERT_WINDOW", "600000"),
        ("WEBHOOK_ALERT_INTERVAL", "200"),
    ];
    let all: Vec<(Server, String)> = (0..2).map(|_| spawn_with(dir.path(), &env)).collect();
    let (a, b) = (&all[0].1, &all[1].1);
    let r = Receiver::answering(|path, _| Reply::status(if path == "/erp" { 500 } else { 200 })).await;
    let (_, created) = post(a, "/api/keys", ADMIN_TOKEN, json!({"tenant": "acme", "name": "acme"})).await;
    let acme = created["key"].as_str().unwrap().to_string();
    for (path, events) in [("/erp", "wallet.*"), ("/pager", "system.alert")] {
        let (status, _) = post(a, "/api/webhooks", &acme, json!({"url": r.url(path), "events": [events]})).await;
        assert_eq!(status, 201);
    }
    for i in 0..8 {
        let base = if i % 2 == 0 { a } else { b };
        let (status, _) = post(base, "/api/events", &acme, json!({"event": "wallet.created", "data": {}})).await;
        assert_eq!(status, 202);
    }
    let raised = |r: &Receiver| {
        r.received().iter().filter(|g| g.path == "/pager" && g.json()["data"]["kind"] == "alert_raised").count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while raised(&r) == 0 {
        assert!(Instant::now() < deadline, "no alert was announced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Many evaluation rounds later, on both nodes: still one announcement, and both show the alert
    // with the same start.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(raised(&r), 1, "the alert was announced by more than one node");
    let mut since = Vec::new();
    for base in [a, b] {
        let (_, list) = get(base, "/api/alerts", &acme).await;
        let alert = list["data"].as_array().unwrap().iter().find(|a| a["kind"] == "success_rate").cloned();
        since.push(alert.expect("the alert is on")["since"].clone());
    }
    assert_eq!(since[0], since[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhooks_rate_and_concurrency_limits_hold_across_nodes() {
    if !crate::database::on_postgres() {
        return;
    }
    const EVENTS: usize = 15;
    let dir = tempfile::tempdir().unwrap();
    let slow = Duration::from_millis(300);
    let r = Receiver::answering(move |_, _| Reply { delay: slow, ..Reply::status(200) }).await;
    let all = nodes(dir.path(), 3, "32");
    let bases: Vec<String> = all.iter().map(|(_, b)| b.clone()).collect();
    let (status, hook) = post(
        &bases[0],
        "/api/webhooks",
        ADMIN_TOKEN,
        json!({"url": r.url("/limited"), "events": ["*"], "rateLimit": 5, "maxInFlight": 2}),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    publish_across(&bases, EVENTS, 3).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while r.count() < EVENTS {
        assert!(Instant::now() < deadline, "only {} of {EVENTS} deliveries arrived", r.count());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut at: Vec<Instant> = r.received().iter().map(|g| g.at).collect();
    at.sort();
    let span = at[EVENTS - 1].duration_since(at[0]);
    assert!(span >= Duration::from_millis(2_500), "15 at 5/s from three nodes take 2.8 s, not {span:?}");
    let most_per_second = (0..EVENTS)
        .map(|i| at[i..].iter().take_while(|t| t.duration_since(at[i]) < Duration::from_secs(1)).count())
        .max();
    assert!(most_per_second <= Some(6), "at most 5 a second across the nodes: {most_per_second:?}");
    // Each request takes 300 ms: never more than two under way at once.
    let most_at_once =
        (0..EVENTS).map(|i| at[..i].iter().filter(|t| at[i].duration_since(**t) < slow).count() + 1).max();
    assert!(most_at_once <= Some(2), "at most 2 at once across the nodes: {most_at_once:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(copies(&r).values().filter(|n| **n > 1).count(), 0, "none twice");
}
