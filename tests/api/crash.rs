//! Crash safety and shutdown, with the real binary: SIGKILL mid-delivery loses nothing; SIGTERM
//! lets in-flight deliveries finish.

use crate::harness::ADMIN_TOKEN;
use crate::receiver::{Receiver, Reply};
use serde_json::json;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server process, killed when dropped (a failing test leaves no server behind).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// The binary, started on a free port against the database of the folder `dir`; returns it with
/// its address.
fn spawn(dir: &std::path::Path) -> (Server, String) {
    spawn_with(dir, &[])
}

/// The binary with extra environment variables.
pub fn spawn_with(dir: &std::path::Path, env: &[(&str, &str)]) -> (Server, String) {
    start(Command::new(env!("CARGO_BIN_EXE_monay-webhooks")), dir, env)
}

/// The binary with extra environment variables, allowed `files` open files at most (soft and hard).
pub fn spawn_with_file_limit(dir: &std::path::Path, env: &[(&str, &str)], files: u32) -> (Server, String) {
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!("ulimit -n {files} && exec \"$0\"")).arg(env!("CARGO_BIN_EXE_monay-webhooks"));
    start(command, dir, env)
}

/// A copy of the binary, run from the folder `cwd` (its own site settings and bundle, if any).
pub fn spawn_copy(binary: &std::path::Path, cwd: &std::path::Path, dir: &std::path::Path) -> (Server, String) {
    let mut command = Command::new(binary);
    command.current_dir(cwd);
    start(command, dir, &[])
}

fn start(mut command: Command, dir: &std::path::Path, env: &[(&str, &str)]) -> (Server, String) {
    if command.get_current_dir().is_none() {
        command.current_dir(env!("CARGO_MANIFEST_DIR"));
    }
    let mut child = command
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", crate::database::url(dir))
        .env("WEBHOOK_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("WEBHOOK_ALLOW_HTTP", "true")
        .env("WEBHOOK_ALLOWED_SUBNETS", "127.0.0.0/8")
        .env("WEBHOOK_CONCURRENCY", "4")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server prints its address").unwrap();
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Server(child), addr)
}

pub fn signal(child: &Child, sig: &str) {
    Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap();
}

async fn publish_many(base: &str, n: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let a: serde_json::Value = client
            .post(format!("{base}/api/events"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"event": "transaction.completed", "data": {"n": i}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(a["id"].as_str().unwrap().to_string());
    }
    ids
}

pub async fn register(base: &str, url: &str) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"url": url, "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_event_is_delivered_after_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path();
    let r = Receiver::answering(|_, _| Reply { delay: Duration::from_millis(150), ..Reply::status(200) }).await;
    let (mut first, base) = spawn(db);
    register(&base, &r.url("/in")).await;
    let ids = publish_many(&base, 40).await;
    r.wait_for(8, Duration::from_secs(20)).await;
    signal(&first, "KILL");
    first.wait().unwrap();
    let before = r.received().len();
    assert!(before < 40, "the kill came mid-delivery ({before} of 40 received)");

    let (mut second, base2) = spawn(db);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let seen: HashSet<String> = r.received().iter().map(|g| g.header("x-webhook-id").to_string()).collect();
        if ids.iter().all(|id| seen.contains(id)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "only {} of 40 events arrived after the restart", seen.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The ids are the published ones, unchanged: a receiver de-duplicates on them.
    let all: Vec<String> = r.received().iter().map(|g| g.header("x-webhook-id").to_string()).collect();
    assert!(all.iter().all(|id| ids.contains(id)));
    // Every delivery ends delivered: those the kill left in flight are taken over (at once by a
    // restarted SQLite process, after their lease on PostgreSQL, where other nodes may hold leases).
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let deliveries = loop {
        let deliveries: serde_json::Value = client
            .get(format!("{base2}/api/deliveries?limit=200"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list = deliveries["data"].as_array().unwrap();
        if list.len() == 40 && list.iter().all(|d| d["status"] == "succeeded") {
            break deliveries;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries not all settled: {deliveries}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Every event the receiver got twice has, in its log, the attempt the kill interrupted.
    let all: Vec<String> = r.received().iter().map(|g| g.header("x-webhook-id").to_string()).collect();
    let mut interrupted = 0;
    for d in deliveries["data"].as_array().unwrap() {
        let event_id = d["eventId"].as_str().unwrap();
        let copies = all.iter().filter(|id| *id == event_id).count();
        let detail: serde_json::Value = client
            .get(format!("{base2}/api/deliveries/{}", d["id"].as_str().unwrap()))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cut = detail["attempts"].as_array().unwrap().iter().filter(|a| a["errorKind"] == "interrupted").count();
        interrupted += cut;
        if copies > 1 {
            assert!(cut >= 1, "{event_id} arrived {copies} times but its log shows no interrupted attempt: {detail}");
        }
    }
    assert!(interrupted >= 1, "the kill interrupted at least one request in flight");
    signal(&second, "KILL");
    second.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_deliveries_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path();
    let r = Receiver::answering(|_, _| Reply { delay: Duration::from_millis(800), ..Reply::status(200) }).await;
    let (mut server, base) = spawn(db);
    register(&base, &r.url("/in")).await;
    publish_many(&base, 1).await;
    r.wait_for(1, Duration::from_secs(10)).await;
    signal(&server, "TERM");
    let status = server.wait().unwrap();
    assert!(status.success(), "a clean exit: {status:?}");

    // Recorded as delivered before exit: a restart sends nothing again.
    let (mut again, base) = spawn(db);
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/deliveries"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["status"], "succeeded", "{list}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.received().len(), 1);
    signal(&again, "KILL");
    again.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_from_the_environment_is_never_used_for_deliveries() {
    // With HTTP_PROXY honoured, the proxy would be asked for any host name and resolve it itself,
    // past the SSRF guard. Loopback is not allowed here, and the proxy listens on loopback.
    let proxy = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy_url = proxy.url("");
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("WEBHOOK_ALLOWED_SUBNETS", "192.0.2.0/24"),
        ("WEBHOOK_MAX_RETRIES", "0"),
    ];
    let (mut server, base) = spawn_with(dir.path(), &env);
    register(&base, "http://internal-service.invalid/hook").await;
    let ids = publish_many(&base, 1).await;
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let list: serde_json::Value = client
            .get(format!("{base}/api/deliveries"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = list["data"][0]["status"].as_str().unwrap_or("").to_string();
        if status == "failed" || status == "succeeded" {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the delivery of {} never ended: {list}", ids[0]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "failed");
    assert!(proxy.received().is_empty(), "the proxy was asked for {:?}", proxy.received()[0].path);
    signal(&server, "KILL");
    server.wait().unwrap();
}

#[tokio::test]
async fn a_copied_binary_and_site_folder_serve_a_console_that_loads() {
    // A release elsewhere: the binary in bin/, the site folder beside it, no hash.txt anywhere.
    let place = tempfile::tempdir().unwrap();
    let bin = place.path().join("bin");
    let pkg = place.path().join("target/site/pkg");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    // A hard link is the binary elsewhere without copying its 1 GB of debug build.
    let binary = env!("CARGO_BIN_EXE_monay-webhooks");
    if std::fs::hard_link(binary, bin.join("monay-webhooks")).is_err() {
        std::fs::copy(binary, bin.join("monay-webhooks")).unwrap();
    }
    std::fs::write(pkg.join("monay-webhooks.Jh4sh_-1.js"), "export default function init() {}").unwrap();
    std::fs::write(pkg.join("monay-webhooks.Wh4sh.wasm"), b"\0asm").unwrap();
    std::fs::write(pkg.join("monay-webhooks.Ch4sh.css"), "body {}").unwrap();
    let db = tempfile::tempdir().unwrap();
    let (_server, base) = spawn_copy(&bin.join("monay-webhooks"), place.path(), db.path());
    let html = reqwest::get(format!("{base}/login")).await.unwrap().text().await.unwrap();
    for name in ["monay-webhooks.Jh4sh_-1.js", "monay-webhooks.Ch4sh.css"] {
        assert!(html.contains(&format!("/pkg/{name}")), "the page names {name}: {html}");
        let asset = reqwest::get(format!("{base}/pkg/{name}")).await.unwrap();
        assert_eq!(asset.status(), reqwest::StatusCode::OK, "{name}");
    }
    assert!(html.contains("Wh4sh"), "the page loads the hashed WASM: {html}");
}
