//! A real HTTP receiver on 127.0.0.1:0 that records every request and answers as the test says.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How to answer: status, extra headers, delay before answering.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply { status, headers: Vec::new(), delay: Duration::ZERO, body: "ok".into() }
    }
}

type Rule = dyn Fn(&str, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests so far per path (the `n` of a rule).
    per_path: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    arrived: Arc<Notify>,
    rule: Arc<Mutex<Arc<Rule>>>,
}

/// A running receiver.
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    shared: Shared,
}

impl Receiver {
    /// A receiver that answers 200 to everything.
    pub async fn start() -> Self {
        Self::answering(|_, _| Reply::status(200)).await
    }

    /// A receiver that answers each request by `rule(path, n)`, n counting that path's requests from 0.
    pub async fn answering(rule: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            received: Arc::default(),
            per_path: Arc::default(),
            arrived: Arc::new(Notify::new()),
            rule: Arc::new(Mutex::new(Arc::new(rule))),
        };
        let app = axum::Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { addr, shared }
    }

    /// Changes how the receiver answers from now on.
    pub fn set_rule(&self, rule: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) {
        *self.shared.rule.lock().unwrap() = Arc::new(rule);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// How many requests have arrived.
    pub fn count(&self) -> usize {
        self.shared.received.lock().unwrap().len()
    }

    /// Waits until at least `n` requests have arrived (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            if self.count() >= n {
                return self.received();
            }
            let got = self.received();
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {n} requests, got {}: {:?}",
                got.len(),
                got.iter().map(|r| &r.path).collect::<Vec<_>>()
            );
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

async fn receive(State(shared): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let n = {
        let mut all = shared.received.lock().unwrap();
        let mut counts = shared.per_path.lock().unwrap();
        let n = counts.entry(path.clone()).or_insert(0);
        *n += 1;
        all.push(Received { path: path.clone(), headers, body, at: Instant::now() });
        *n - 1
    };
    shared.arrived.notify_waiters();
    let rule = shared.rule.lock().unwrap().clone();
    let reply = rule(&path, n);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
