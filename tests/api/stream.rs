//! `GET /api/stream`: a real SSE client sees its tenant's delivery attempts as they happen.

use crate::harness::{TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Reads SSE events from `resp` until `want` returns true for one (panics after 10 s).
pub async fn read_until(
    resp: &mut reqwest::Response,
    mut want: impl FnMut(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buffer = String::new();
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk =
            tokio::time::timeout(left, resp.chunk()).await.expect("an event in time").unwrap().expect("open stream");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message").to_string();
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| serde_json::from_str(d).ok());
            if let Some(data) = data {
                let done = want(&event, &data);
                seen.push((event, data));
                if done {
                    return seen;
                }
            }
        }
    }
}

#[tokio::test]
async fn the_stream_carries_a_tenants_attempts_and_nothing_of_others() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let acme = s.tenant_key("acme").await;
    let globex = s.tenant_key("globex").await;
    let mine = s.webhook(&acme, &r.url("/acme"), &["*"]).await;
    s.webhook(&globex, &r.url("/globex"), &["*"]).await;

    let mut resp = reqwest::Client::new().get(s.url("/api/stream")).bearer_auth(&acme).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));

    s.post(&globex, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    r.wait_for(1, Duration::from_secs(10)).await;
    s.post(&acme, "/api/events", json!({"event": "wallet.created", "data": {}})).await;
    let seen = read_until(&mut resp, |event, _| event == "attempt").await;
    let (_, attempt) = seen.iter().find(|(e, _)| e == "attempt").unwrap();
    assert_eq!(attempt["tenant"], "acme", "globex's attempt is not on acme's stream");
    assert_eq!(attempt["webhookId"], mine["id"]);
    assert_eq!(attempt["status"], "succeeded");
    assert_eq!(attempt["responseStatus"], 200);

    // An admin's stream carries every tenant.
    let mut all = reqwest::Client::new().get(s.url("/api/stream")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    s.post(&globex, "/api/events", json!({"event": "user.created", "data": {}})).await;
    let seen = read_until(&mut all, |event, data| event == "attempt" && data["tenant"] == "globex").await;
    assert!(!seen.is_empty());

    // Open streams do not hold up a shutdown.
    tokio::time::timeout(Duration::from_secs(10), s.stop()).await.expect("the server stops with streams open");
    drop((resp, all));
}
