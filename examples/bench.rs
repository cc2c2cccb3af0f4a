//! Benchmark of Monay Webhooks on this machine: starts the release server binary (one or several
//! nodes) on a fresh database — a SQLite file, or a PostgreSQL database made for each phase — and a
//! receiver on loopback, then measures and prints
//!   0. the machine's ceiling: HTTP exchanges per second over loopback with no server at all;
//!   1. saturated publishing (N events × M webhooks, then fan-out 1): publish throughput and latency,
//!      deliveries/s, and where the time went (the nodes' `/metrics` before and after: write
//!      transactions by kind, the group-commit wait, the server's CPU per event);
//!      The servers run with `WEBHOOK_API_RATE_LIMIT` far above the load (`--api-rate-limit`, 0 for
//!      off), so every request goes through the limiter; what it costs is measured by runs with it
//!      off and on (README);
//!   2. 1,000 events/s offered: publish and publish → first attempt p50/p99/p99.9/max, and the same
//!      breakdown;
//!   3. peak RSS of the server with a large backlog of pending deliveries;
//!   4. statistics over a day of history (H deliveries, one attempt each, spread over 24 hours):
//!      read from the log, then from the rollups.
//!
//! Run it with `scripts/bench.sh` (it builds first). Options: --events N --webhooks M --rate R
//! --events1 E (events of the fan-out-1 saturated phase; 0 skips it) --api-rate-limit R (per key;
//! 0 turns the limiter off) --seconds S (of the offered load; 0 skips it)
//! --seconds S --backlog B (deliveries pending for the RSS phase; 0 skips it) --history H (0 skips it)
//! --database sqlite|postgres://user@host:port/db (the server; each phase gets a database of its
//! own beside the one named) --nodes K (server processes on one database, publishers spread across
//! them as a load balancer would; PostgreSQL only).

use axum::http::HeaderMap;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-admin-token-0123456789abcdef";

/// The servers' API rate limit per key (`WEBHOOK_API_RATE_LIMIT`, from `--api-rate-limit`): by
/// default far above what one key reaches here, so every request goes through its token bucket
/// without being refused; 0 turns it off.
static RATE_LIMIT: AtomicUsize = AtomicUsize::new(100_000_000);

struct Args {
    events: usize,
    webhooks: usize,
    rate: usize,
    seconds: usize,
    backlog: usize,
    publishers: usize,
    history: usize,
    /// `None`: SQLite files; `Some(url)`: a PostgreSQL server.
    postgres: Option<String>,
    nodes: usize,
    /// Events of the fan-out-1 saturated phase (0 skips it).
    events1: usize,
    /// The servers' `WEBHOOK_API_RATE_LIMIT` (0: the limiter off).
    api_rate_limit: usize,
}

fn args() -> Args {
    let mut a = Args {
        events: 20_000,
        webhooks: 10,
        rate: 1_000,
        seconds: 10,
        backlog: 1_000_000,
        publishers: 32,
        history: 2_000_000,
        postgres: None,
        nodes: 1,
        events1: 100_000,
        api_rate_limit: 100_000_000,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let text = pair.get(1).cloned().unwrap_or_default();
        if pair[0] == "--database" {
            a.postgres = (text != "sqlite").then_some(text);
            continue;
        }
        let v: usize = text.replace('_', "").parse().expect("a number after each option");
        match pair[0].as_str() {
            "--nodes" => a.nodes = v.max(1),
            "--events1" => a.events1 = v,
            "--api-rate-limit" => a.api_rate_limit = v,
            "--events" => a.events = v,
            "--webhooks" => a.webhooks = v,
            "--rate" => a.rate = v,
            "--seconds" => a.seconds = v,
            "--backlog" => a.backlog = v,
            "--publishers" => a.publishers = v,
            "--history" => a.history = v,
            other => panic!("unknown option {other}"),
        }
    }
    assert!(a.nodes == 1 || a.postgres.is_some(), "several nodes need PostgreSQL (--database postgres://…)");
    a
}

/// Where a phase's database lives.
#[derive(Clone)]
struct Databases {
    dir: std::path::PathBuf,
    postgres: Option<String>,
}

impl Databases {
    /// A fresh database for the phase `name`: a new SQLite file, or a PostgreSQL database dropped
    /// and made again beside the one the server URL names.
    async fn fresh(&self, name: &str) -> String {
        let Some(server) = &self.postgres else {
            return format!("sqlite://{}", self.dir.join(format!("{name}.db")).display());
        };
        let db = format!("monay_bench_{name}");
        let pool = sqlx::PgPool::connect(server).await.expect("the PostgreSQL server answers");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&pool).await.unwrap();
        pool.close().await;
        let mut url = url::Url::parse(server).expect("a PostgreSQL URL");
        url.set_path(&db);
        url.to_string()
    }
}

/// The nodes of one phase, all on one database.
struct Cluster {
    nodes: Vec<Server>,
    next: AtomicUsize,
}

impl Cluster {
    fn start(url: &str, n: usize) -> Cluster {
        let first = Server::start(url);
        // The first node has migrated the database; the others start on it.
        let mut nodes = vec![first];
        nodes.extend((1..n).map(|_| Server::start(url)));
        Cluster { nodes, next: AtomicUsize::new(0) }
    }

    /// The next node, in turn (a load balancer's round robin).
    fn base(&self) -> String {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len();
        self.nodes[i].base.clone()
    }

    /// The counters of every node's `/metrics`, summed (`name{labels}` → value), and the CPU time
    /// the nodes have used, in seconds.
    async fn counters(&self, client: &reqwest::Client) -> (HashMap<String, f64>, f64) {
        let mut sums = HashMap::new();
        let mut cpu = 0.0;
        for node in &self.nodes {
            let text = client.get(format!("{}/metrics", node.base)).bearer_auth(TOKEN).send().await.unwrap();
            for line in text.text().await.unwrap().lines().filter(|l| !l.starts_with('#')) {
                if let Some((name, value)) = line.rsplit_once(' ') {
                    *sums.entry(name.to_string()).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
                }
            }
            cpu += process_cpu(node.child.id());
        }
        (sums, cpu)
    }

    /// Peak resident memory of each node, in MB.
    fn peak_rss(&self) -> String {
        self.nodes.iter().map(|n| format!("{:.1}", n.peak_rss_mb())).collect::<Vec<_>>().join(" + ") + " MB"
    }
}

/// What the receiver saw: arrivals per event id (first one kept) and a running count.
#[derive(Default)]
struct Seen {
    first: Mutex<HashMap<String, Instant>>,
    count: AtomicUsize,
    /// (path, event id) of every request: one webhook per path, so a pair seen twice is a delivery
    /// made twice.
    pairs: Mutex<std::collections::HashSet<(String, String)>>,
    /// Event ids of deliveries made twice.
    twice: Mutex<Vec<String>>,
}

/// How many deliveries reached the receiver twice, with the first few event ids.
fn twice(seen: &Seen) -> String {
    let twice = seen.twice.lock().unwrap();
    match twice.len() {
        0 => "none".to_string(),
        n => format!("{n} (e.g. {})", twice.iter().take(3).cloned().collect::<Vec<_>>().join(", ")),
    }
}

async fn start_receiver(delay: Duration) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
        let s = s.clone();
        async move {
            let now = Instant::now();
            if let Some(id) = headers.get("x-webhook-id").and_then(|v| v.to_str().ok()) {
                s.first.lock().unwrap().entry(id.to_string()).or_insert(now);
                if !s.pairs.lock().unwrap().insert((uri.path().to_string(), id.to_string())) {
                    s.twice.lock().unwrap().push(id.to_string());
                }
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
    fn start(url: &str) -> Server {
        let bin = std::env::var("MONAY_BIN").unwrap_or_else(|_| "target/release/monay-webhooks".into());
        let mut child = Command::new(&bin)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", url)
            .env("WEBHOOK_ADMIN_TOKEN", TOKEN)
            .env("WEBHOOK_ALLOW_HTTP", "true")
            .env("WEBHOOK_ALLOWED_SUBNETS", "127.0.0.0/8")
            .env("WEBHOOK_API_RATE_LIMIT", RATE_LIMIT.load(Ordering::Relaxed).to_string())
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

/// CPU seconds a process has used (user + system, from `/proc/<pid>/stat`).
fn process_cpu(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = text.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

/// CPU seconds the whole machine has been busy (user, nice, system, irq, softirq; `/proc/stat`).
fn machine_cpu() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> =
        text.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    [0, 1, 2, 5, 6].iter().filter_map(|i| fields.get(*i)).sum::<f64>() / 100.0
}

/// Where a saturated phase's time went: the server's CPU per event, the machine's load, and each kind
/// of write transaction (from the nodes' `/metrics`, before and after).
fn breakdown(
    before: &(HashMap<String, f64>, f64),
    after: &(HashMap<String, f64>, f64),
    machine: f64,
    secs: f64,
    events: usize,
) {
    let delta = |name: &str| after.0.get(name).unwrap_or(&0.0) - before.0.get(name).unwrap_or(&0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "    where the time went       server CPU {:.0} µs per event ({:.2} cores); machine {:.0} % busy",
        (after.1 - before.1) * 1e6 / events as f64,
        (after.1 - before.1) / secs,
        100.0 * machine / (secs * cores)
    );
    let (waits, waited) =
        (delta("monay_publish_commit_wait_seconds_count"), delta("monay_publish_commit_wait_seconds_sum"));
    for (work, items) in [("publish", "events"), ("claim", "deliveries"), ("record", "attempts"), ("leases", "leases")]
    {
        let tx = delta(&format!("monay_store_transactions_total{{work=\"{work}\"}}"));
        let rows = delta(&format!("monay_store_rows_total{{work=\"{work}\"}}"));
        let busy = delta(&format!("monay_store_busy_seconds_total{{work=\"{work}\"}}"));
        if tx == 0.0 {
            println!("      {work:<8} no transactions");
            continue;
        }
        println!(
            "      {work:<8} {tx:>7.0} transactions, {:>6.1} {items} each, {:>6.2} ms each, {:>5.1} % of the run{}",
            rows / tx,
            busy * 1000.0 / tx,
            100.0 * busy / secs,
            if work == "publish" && waits > 0.0 {
                format!("; waited {:.2} ms for its commit", waited * 1000.0 / waits)
            } else {
                String::new()
            }
        );
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A latency distribution's tail, in ms.
struct Tail {
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

fn tail(mut v: Vec<f64>) -> Tail {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Tail {
        p50: percentile(&v, 0.5),
        p99: percentile(&v, 0.99),
        p999: percentile(&v, 0.999),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

impl std::fmt::Display for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms   p99 {:.2} ms   p99.9 {:.2} ms   max {:.2} ms",
            self.p50, self.p99, self.p999, self.max
        )
    }
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
    RATE_LIMIT.store(a.api_rate_limit, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let dbs = Databases { dir: dir.path().to_path_buf(), postgres: a.postgres.clone() };
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    println!(
        "Monay Webhooks benchmark ({} cores): {}, {} node{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if a.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        a.nodes,
        if a.nodes == 1 { "" } else { "s" }
    );

    // 0. The machine's ceiling for this load: HTTP exchanges over loopback alone.
    ceiling(&client, a.publishers).await;

    // 1. Saturated: N events × M webhooks, then fan-out 1 (one webhook per event, as most real
    // traffic is): `events1` events.
    saturated(&client, &dbs, &a, "1", a.events, a.webhooks).await;
    if a.events1 > 0 && a.webhooks != 1 {
        saturated(&client, &dbs, &a, "1b", a.events1, 1).await;
    }
    println!(
        "\n    API rate limiter          {} (a token taken in {:.0} ns, one key, one thread)",
        match RATE_LIMIT.load(Ordering::Relaxed) {
            0 => "off".to_string(),
            n => format!("{n} requests/s per key: every request counted"),
        },
        limiter_cost()
    );

    // 2. Offered load: `rate` events/s for `seconds` to one webhook.
    if a.seconds > 0 {
        let server = Arc::new(Cluster::start(&dbs.fresh("latency").await, a.nodes));
        let (url, seen) = start_receiver(Duration::ZERO).await;
        register(&client, &server.base(), &url, 1).await;
        let n = a.rate * a.seconds;
        let sent: Arc<Mutex<Vec<(String, Instant, f64)>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let before = server.counters(&client).await;
        let (machine_before, started) = (machine_cpu(), Instant::now());
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate as f64));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            ticker.tick().await;
            let (client, base, sent) = (client.clone(), server.base(), sent.clone());
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
        let (secs, machine) = (started.elapsed().as_secs_f64(), machine_cpu() - machine_before);
        let after = server.counters(&client).await;
        let sent = sent.lock().unwrap().clone();
        let first = seen.first.lock().unwrap();
        let to_first: Vec<f64> = sent
            .iter()
            .filter_map(|(id, at, _)| first.get(id).map(|t| t.duration_since(*at).as_secs_f64() * 1000.0))
            .collect();
        let delivered = to_first.len();
        println!("\n[2] offered load: {} events/s for {} s to 1 webhook (fan-out 1)", a.rate, a.seconds);
        println!("    publish latency           {}", tail(sent.iter().map(|s| s.2).collect()));
        println!("    publish → first attempt   {}", tail(to_first));
        println!("    delivered                 {delivered} of {n}{}", if delivered == n { "" } else { "  LOST" });
        println!("    delivered twice           {}", twice(&seen));
        breakdown(&before, &after, machine, secs, n);
    }

    // 3. Backlog: peak RSS with `backlog` deliveries pending (the receiver answers slowly).
    if a.backlog > 0 {
        let server = Arc::new(Cluster::start(&dbs.fresh("backlog").await, a.nodes));
        let (url, _seen) = start_receiver(Duration::from_secs(30)).await;
        let fan_out = 100.min(a.backlog);
        register(&client, &server.base(), &url, fan_out).await;
        let events = a.backlog / fan_out;
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, server, next) = (client.clone(), server.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    publish(&client, &server.base(), n).await;
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
        println!("    server peak RSS           {:>10}", server.peak_rss());
        // Statistics over the whole backlog (every delivery is inside the 24-hour window).
        let started = Instant::now();
        let r = client.get(format!("{}/api/stats?window=24h", server.base())).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 200, "stats");
        let _ = r.bytes().await;
        println!(
            "    GET /api/stats?window=24h {:>10.0} ms over {} deliveries",
            started.elapsed().as_secs_f64() * 1000.0,
            events * fan_out
        );
    }

    if a.history > 0 {
        match &a.postgres {
            None => history(&dir.path().join("history.db"), a.history).await,
            Some(_) => history_pg(&dbs.fresh("history").await, a.history).await,
        }
    }
}

/// Phase 0: `publishers` connections POSTing an event-sized body to the benchmark's receiver (an
/// empty handler) for 3 s: the HTTP exchanges per second this machine makes over loopback with the
/// load generator beside the server. Every event costs two (published in, delivered out).
async fn ceiling(client: &reqwest::Client, publishers: usize) {
    let (url, seen) = start_receiver(Duration::ZERO).await;
    let body = json!({"event": "transaction.completed",
                      "data": {"transactionId": "txn_0", "amount": 1000, "currency": "USD"}});
    let machine = machine_cpu();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..publishers {
        let (client, url, body) = (client.clone(), format!("{url}/p{i}"), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while started.elapsed() < Duration::from_secs(3) {
                let r = client.post(&url).header("x-webhook-id", format!("c{n}")).json(&body).send().await.unwrap();
                let _ = r.bytes().await;
                n += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let exchanges = seen.count.load(Ordering::Relaxed) as f64 / secs;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!("\n[0] ceiling: {publishers} connections POSTing an event to an empty handler over loopback (no server)");
    println!(
        "    HTTP exchanges            {exchanges:>10.0} /s  ({:.0} µs of machine CPU each; machine {:.0} % busy)",
        (machine_cpu() - machine) * 1e6 / (exchanges * secs),
        100.0 * (machine_cpu() - machine) / (secs * cores)
    );
    println!(
        "    so at most                {:>10.0} events/s published and delivered (two exchanges each)",
        exchanges / 2.0
    );
}

/// Phase 1: `events` events published by `a.publishers` concurrent connections to `webhooks`
/// webhooks each, as fast as the server takes them; throughput and latency until all are delivered.
/// Takes 1,000,000 tokens from one key's bucket: nanoseconds per request the limiter adds.
fn limiter_cost() -> f64 {
    use monay_webhooks::state::ratelimit::{Quota, RateLimiter};
    let limiter = RateLimiter::default();
    let quota = Quota { per_second: 100_000_000, burst: 200_000_000 };
    let started = Instant::now();
    for _ in 0..1_000_000 {
        assert!(limiter.take("key_bench", quota, Instant::now()).allowed);
    }
    started.elapsed().as_nanos() as f64 / 1e6
}

async fn saturated(client: &reqwest::Client, dbs: &Databases, a: &Args, phase: &str, events: usize, webhooks: usize) {
    let server = Arc::new(Cluster::start(&dbs.fresh(&format!("throughput{webhooks}")).await, a.nodes));
    let (url, seen) = start_receiver(Duration::ZERO).await;
    register(client, &server.base(), &url, webhooks).await;
    let total = events * webhooks;
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(events)));
    let before = server.counters(client).await;
    let machine_before = machine_cpu();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.publishers {
        let (client, server, next, latencies) = (client.clone(), server.clone(), next.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    break;
                }
                let (_, ms) = publish(&client, &server.base(), n).await;
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
    let machine = machine_cpu() - machine_before;
    let after = server.counters(client).await;
    let latency = tail(latencies.lock().unwrap().clone());
    let delivered = seen.count.load(Ordering::Relaxed);
    println!(
        "\n[{phase}] saturated: {events} events × {webhooks} webhook{} = {total} deliveries, {} publishers",
        if webhooks == 1 { " (fan-out 1)" } else { "s" },
        a.publishers
    );
    println!("    publish throughput        {:>10.0} events/s", events as f64 / publish_secs);
    println!("    publish latency           {latency}   (saturated)");
    println!(
        "    deliveries end to end     {:>10.0} deliveries/s  ({delivered} delivered in {all_secs:.1} s{})",
        delivered as f64 / all_secs,
        if done { "" } else { ", INCOMPLETE" }
    );
    if webhooks == 1 {
        println!("    published and delivered   {:>10.0} events/s", delivered.min(events) as f64 / all_secs);
    }
    println!("    delivered twice           {}", twice(&seen));
    println!("    server peak RSS           {:>10}", server.peak_rss());
    breakdown(&before, &after, machine, all_secs, events);
}

/// Phase 4: a day of history written straight into a fresh database (10 webhooks of 3 tenants, one
/// attempt per delivery, 1 in 20 failed and retried), then `GET /api/stats`'s query timed before
/// and after the rollup.
async fn history(db: &std::path::Path, n: usize) {
    use monay_webhooks::crypto::new_id_at;
    use monay_webhooks::store::Store;
    let url = format!("sqlite://{}", db.display());
    Store::open(&url).await.unwrap().close().await;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .foreign_keys(false)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Off);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 24 * 3_600_000i64;
    let headers = r#"{"content-type":"application/json","user-agent":"Monay-Webhooks/0.1","x-webhook-id":"wh_01","x-webhook-event":"wallet.created","x-webhook-signature":"t=1764000000,v1=5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6","webhook-id":"msg_01","webhook-timestamp":"1764000000","webhook-signature":"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}"#;
    let started = Instant::now();
    let batch = 2_000;
    let mut written = 0;
    while written < n {
        let mut tx = pool.begin().await.unwrap();
        let rows = batch.min(n - written);
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, created_at, updated_at) ",
        );
        let mut attempts = Vec::with_capacity(rows);
        q.push_values(0..rows, |mut row, i| {
            let k = written + i;
            let at = now - day + (k as i64 * day) / n as i64;
            let id = new_id_at("dlv_", at);
            let webhook = k % 10;
            let failed = k % 20 == 0;
            attempts.push((id.clone(), webhook, at, failed));
            row.push_bind(id)
                .push_bind("evt_history")
                .push_bind(format!("wh_{webhook}"))
                .push_bind(format!("tenant{}", webhook % 3))
                .push_bind(["wallet.created", "transaction.completed", "user.created"][k % 3])
                .push_bind("succeeded")
                .push_bind(if failed { 2 } else { 1 })
                .push_bind(at)
                .push_bind(at);
        });
        q.build().execute(&mut *tx).await.unwrap();
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO attempts (id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms,
             request_headers, response_status, response_headers, response_body) ",
        );
        q.push_values(attempts.iter(), |mut row, (delivery, webhook, at, failed)| {
            row.push_bind(new_id_at("att_", *at))
                .push_bind(delivery)
                .push_bind(format!("wh_{webhook}"))
                .push_bind(format!("tenant{}", webhook % 3))
                .push_bind(1)
                .push_bind("auto")
                .push_bind(*at)
                .push_bind(20 + (at % 400))
                .push_bind(headers)
                .push_bind(if *failed { 500 } else { 200 })
                .push_bind(r#"{"content-type":"text/plain"}"#)
                .push_bind("ok");
        });
        q.build().execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        written += rows;
    }
    pool.close().await;
    time_stats(&url, n, now, started).await;
}

/// Phase 4 on PostgreSQL: the same day of history, written with `UNNEST` batches.
async fn history_pg(url: &str, n: usize) {
    use monay_webhooks::crypto::new_id_at;
    use monay_webhooks::store::Store;
    Store::open(url).await.unwrap().close().await;
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    // What the deliveries refer to: one event and the ten webhooks.
    sqlx::query("INSERT INTO events (id, tenant, event, data, timestamp) VALUES ('evt_history', NULL, 'wallet.created', '{}', 0)")
        .execute(&pool)
        .await
        .unwrap();
    for w in 0..10 {
        sqlx::query(
            "INSERT INTO webhooks (id, tenant, url, events, secret, created_at, updated_at)
             VALUES ($1, $2, 'https://example.com/', '[\"*\"]', 'whsec_x', 0, 0)",
        )
        .bind(format!("wh_{w}"))
        .bind(format!("tenant{}", w % 3))
        .execute(&pool)
        .await
        .unwrap();
    }
    let now = chrono::Utc::now().timestamp_millis();
    let day = 24 * 3_600_000i64;
    let started = Instant::now();
    let batch = 5_000;
    let mut written = 0;
    while written < n {
        let rows = batch.min(n - written);
        let (mut ids, mut hooks, mut tenants, mut events, mut tries, mut ats) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut att_ids, mut statuses, mut durations) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..rows {
            let k = written + i;
            let at = now - day + (k as i64 * day) / n as i64;
            let failed = k % 20 == 0;
            ids.push(new_id_at("dlv_", at));
            hooks.push(format!("wh_{}", k % 10));
            tenants.push(format!("tenant{}", (k % 10) % 3));
            events.push(["wallet.created", "transaction.completed", "user.created"][k % 3]);
            tries.push(if failed { 2i64 } else { 1 });
            ats.push(at);
            att_ids.push(new_id_at("att_", at));
            statuses.push(if failed { 500i64 } else { 200 });
            durations.push(20 + (at % 400));
        }
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, created_at, updated_at)
             SELECT id, 'evt_history', hook, tenant, event, 'succeeded', tries, at, at
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[])
                  AS d(id, hook, tenant, event, tries, at)",
        )
        .bind(&ids)
        .bind(&hooks)
        .bind(&tenants)
        .bind(&events)
        .bind(&tries)
        .bind(&ats)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO attempts (id, delivery_id, webhook_id, tenant, attempt, trigger, started_at, duration_ms,
                 request_headers, response_status, response_headers, response_body)
             SELECT id, delivery, hook, tenant, 1, 'auto', at, duration, '{}', status, '{}', 'ok'
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[])
                  AS a(id, delivery, hook, tenant, at, duration, status)",
        )
        .bind(&att_ids)
        .bind(&ids)
        .bind(&hooks)
        .bind(&tenants)
        .bind(&ats)
        .bind(&durations)
        .bind(&statuses)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        written += rows;
    }
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool.close().await;
    time_stats(url, n, now, started).await;
}

/// Times `GET /api/stats`'s query over the history, from the log, then from the rollups.
async fn time_stats(url: &str, n: usize, now: i64, started: Instant) {
    use monay_webhooks::store::{StatsQuery, Store};
    let day = 24 * 3_600_000i64;
    println!(
        "\n[4] history: {n} deliveries and attempts over 24 h written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let store = Store::open(url).await.unwrap();
    let query = |tenant: Option<&str>| StatsQuery {
        scope: None,
        tenant: tenant.map(str::to_string),
        webhook_id: None,
        window_ms: day,
        bucket_ms: 3_600_000,
    };
    let time = |label: &'static str, tenant: Option<&'static str>| {
        let store = store.clone();
        async move {
            let started = Instant::now();
            let stats = store.stats_at(&query(tenant), now).await.unwrap();
            println!(
                "    {label:<34} {:>8.0} ms ({} attempts, p95 {} ms)",
                started.elapsed().as_secs_f64() * 1000.0,
                stats.attempts,
                stats.p95_response_ms.unwrap_or(0)
            );
        }
    };
    time("stats 24h, from the log", None).await;
    time("stats 24h of one tenant, from the log", Some("tenant1")).await;
    let started = Instant::now();
    let buckets = store.roll_up(now).await.unwrap();
    println!(
        "    rollup of {buckets} five-minute buckets      {:>8.1} s (once, in the background)",
        started.elapsed().as_secs_f64()
    );
    time("stats 24h, from the rollups", None).await;
    time("stats 24h of one tenant, from the rollups", Some("tenant1")).await;
    store.close().await;
}
