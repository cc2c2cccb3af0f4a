//! Benchmark of Monay Webhooks on this machine: starts the release server binary on a fresh SQLite
//! file and a receiver on loopback, then measures and prints
//!   1. saturated publishing (N events × M webhooks): publish throughput and latency, deliveries/s;
//!   2. 1,000 events/s offered: publish p50/p99 and publish → first attempt p50/p99;
//!   3. peak RSS of the server with a large backlog of pending deliveries.
//!
//! Run it with `scripts/bench.sh` (it builds first). Options: --events N --webhooks M --rate R
//! --seconds S --backlog B (deliveries pending for the RSS phase; 0 skips it).

use axum::http::HeaderMap;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-admin-token-0123456789abcdef";

struct Args {
    events: usize,
    webhooks: usize,
    rate: usize,
    seconds: usize,
    backlog: usize,
    publishers: usize,
}

fn args() -> Args {
    let mut a = Args { events: 20_000, webhooks: 10, rate: 1_000, seconds: 10, backlog: 1_000_000, publishers: 32 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v: usize = pair.get(1).and_then(|v| v.replace('_', "").parse().ok()).expect("a number after each option");
        match pair[0].as_str() {
            "--events" => a.events = v,
            "--webhooks" => a.webhooks = v,
            "--rate" => a.rate = v,
            "--seconds" => a.seconds = v,
            "--backlog" => a.backlog = v,
            "--publishers" => a.publishers = v,
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// What the receiver saw: arrivals per event id (first one kept) and a running count.
#[derive(Default)]
struct Seen {
    first: Mutex<HashMap<String, Instant>>,
    count: AtomicUsize,
}

async fn start_receiver(delay: Duration) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let s = s.clone();
        async move {
            let now = Instant::now();
            if let Some(id) = headers.get("x-webhook-id").and_then(|v| v.to_str().ok()) {
                s.first.lock().unwrap().entry(id.to_string()).or_insert(now);
            }
            s.count.fetch_add(1, Ordering::Relaxed);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &std::path::Path) -> Server {
        let bin = std::env::var("MONAY_BIN").unwrap_or_else(|_| "target/release/monay-webhooks".into());
        let mut child = Command::new(&bin)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("WEBHOOK_ADMIN_TOKEN", TOKEN)
            .env("WEBHOOK_ALLOW_HTTP", "true")
            .env("WEBHOOK_ALLOWED_SUBNETS", "127.0.0.0/8")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("the server prints its address").unwrap();
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..].trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    /// Peak resident memory of the server process, in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&v, 0.5), percentile(&v, 0.99))
}

async fn register(client: &reqwest::Client, base: &str, url: &str, n: usize) {
    for i in 0..n {
        let r = client
            .post(format!("{base}/api/webhooks"))
            .bearer_auth(TOKEN)
            .json(&json!({"url": format!("{url}/hook/{i}"), "events": ["*"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "registering a webhook");
    }
}

/// Publishes one event; returns (its id, latency in ms).
async fn publish(client: &reqwest::Client, base: &str, n: usize) -> (String, f64) {
    let started = Instant::now();
    let body = json!({"event": "transaction.completed",
                      "data": {"transactionId": format!("txn_{n}"), "amount": 1000, "currency": "USD"}});
    let r = client.post(format!("{base}/api/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 202, "publishing");
    let v: serde_json::Value = r.json().await.unwrap();
    (v["id"].as_str().unwrap().to_string(), started.elapsed().as_secs_f64() * 1000.0)
}

async fn wait_count(seen: &Seen, n: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while seen.count.load(Ordering::Relaxed) < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    println!("Monay Webhooks benchmark ({} cores)", std::thread::available_parallelism().map_or(0, |n| n.get()));

    // 1. Saturated: N events × M webhooks.
    {
        let server = Server::start(&dir.path().join("throughput.db"));
        let (url, seen) = start_receiver(Duration::ZERO).await;
        register(&client, &server.base, &url, a.webhooks).await;
        let total = a.events * a.webhooks;
        let next = Arc::new(AtomicUsize::new(0));
        let latencies = Arc::new(Mutex::new(Vec::with_capacity(a.events)));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..a.publishers {
            let (client, base, next, latencies) =
                (client.clone(), server.base.clone(), next.clone(), latencies.clone());
            let events = a.events;
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    let (_, ms) = publish(&client, &base, n).await;
                    latencies.lock().unwrap().push(ms);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let publish_secs = started.elapsed().as_secs_f64();
        let done = wait_count(&seen, total, Duration::from_secs(600)).await;
        let all_secs = started.elapsed().as_secs_f64();
        let (p50, p99) = summary(latencies.lock().unwrap().clone());
        println!(
            "\n[1] saturated: {} events × {} webhooks = {} deliveries, {} publishers",
            a.events, a.webhooks, total, a.publishers
        );
        println!("    publish throughput        {:>10.0} events/s", a.events as f64 / publish_secs);
        println!("    publish latency           p50 {p50:.2} ms   p99 {p99:.2} ms   (saturated)");
        println!(
            "    deliveries end to end     {:>10.0} deliveries/s  ({} delivered in {:.1} s{})",
            seen.count.load(Ordering::Relaxed) as f64 / all_secs,
            seen.count.load(Ordering::Relaxed),
            all_secs,
            if done { "" } else { ", INCOMPLETE" }
        );
        println!("    server peak RSS           {:>10.1} MB", server.peak_rss_mb());
    }

    // 2. Offered load: `rate` events/s for `seconds` to one webhook.
    {
        let server = Server::start(&dir.path().join("latency.db"));
        let (url, seen) = start_receiver(Duration::ZERO).await;
        register(&client, &server.base, &url, 1).await;
        let n = a.rate * a.seconds;
        let sent: Arc<Mutex<Vec<(String, Instant, f64)>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate as f64));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            ticker.tick().await;
            let (client, base, sent) = (client.clone(), server.base.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let at = Instant::now();
                let (id, ms) = publish(&client, &base, i).await;
                sent.lock().unwrap().push((id, at, ms));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        wait_count(&seen, n, Duration::from_secs(120)).await;
        let sent = sent.lock().unwrap().clone();
        let first = seen.first.lock().unwrap();
        let to_first: Vec<f64> = sent
            .iter()
            .filter_map(|(id, at, _)| first.get(id).map(|t| t.duration_since(*at).as_secs_f64() * 1000.0))
            .collect();
        let (p50, p99) = summary(sent.iter().map(|s| s.2).collect());
        let (f50, f99) = summary(to_first);
        println!("\n[2] offered load: {} events/s for {} s to 1 webhook", a.rate, a.seconds);
        println!("    publish latency           p50 {p50:.2} ms   p99 {p99:.2} ms");
        println!("    publish → first attempt   p50 {f50:.2} ms   p99 {f99:.2} ms");
    }

    // 3. Backlog: peak RSS with `backlog` deliveries pending (the receiver answers slowly).
    if a.backlog > 0 {
        let server = Server::start(&dir.path().join("backlog.db"));
        let (url, _seen) = start_receiver(Duration::from_secs(30)).await;
        let fan_out = 100.min(a.backlog);
        register(&client, &server.base, &url, fan_out).await;
        let events = a.backlog / fan_out;
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, base, next) = (client.clone(), server.base.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    publish(&client, &base, n).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "\n[3] backlog: {} events × {} webhooks = {} deliveries queued in {:.1} s ({:.0} rows/s)",
            events,
            fan_out,
            events * fan_out,
            secs,
            (events * fan_out) as f64 / secs
        );
        println!("    server peak RSS           {:>10.1} MB", server.peak_rss_mb());
        // Statistics over the whole backlog (every delivery is inside the 24-hour window).
        let started = Instant::now();
        let r = client.get(format!("{}/api/stats?window=24h", server.base)).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 200, "stats");
        let _ = r.bytes().await;
        println!(
            "    GET /api/stats?window=24h {:>10.0} ms over {} deliveries",
            started.elapsed().as_secs_f64() * 1000.0,
            events * fan_out
        );
    }
}
