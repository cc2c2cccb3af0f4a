//! Starts the real server on 127.0.0.1:0 against a fresh database (see `database`), and talks to it
//! over HTTP.

use monay_webhooks::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::sync::oneshot;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// The test configuration: the database of `dir`, a known admin key, loopback receivers allowed.
pub fn test_config(dir: &tempfile::TempDir) -> Config {
    Config {
        database_url: crate::database::url(dir.path()),
        admin_token: Some(ADMIN_TOKEN.to_string()),
        allow_http: true,
        allowed_subnets: vec!["127.0.0.0/8".parse().unwrap()],
        ..Config::default()
    }
}

/// A running server with its own database.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// An answer: status, headers and JSON body (`Value::Null` when the body is empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error code of a JSON error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed the test configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&dir);
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    /// Starts a server on the database of a stopped one.
    pub async fn start_in_dir(dir: tempfile::TempDir) -> Self {
        let config = test_config(&dir);
        Self::start_in(dir, config).await
    }

    /// Starts a server on the database of a stopped one, after `adjust` has changed the configuration.
    pub async fn start_in_with(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(&dir);
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    async fn start_in(dir: tempfile::TempDir, config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = monay_webhooks::server::leptos_options(&config).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            monay_webhooks::server::run(config, options, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server failed");
        });
        let server = TestServer { addr, dir, client: reqwest::Client::new(), stop: Some(stop), task: Some(task) };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(std::time::Instant::now() < deadline, "server did not become ready");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the server and waits until it has closed the database.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown().await;
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// Starts a new server on the same database (a restart).
    pub async fn restart(self, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = self.stop().await;
        Self::start_in_with(dir, adjust).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a request with an optional bearer key and JSON body.
    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    /// Sends raw bytes as the body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(key).body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, body }
    }

    pub async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Answer {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// A GET of the login page: the CSRF seed cookie and the page's token.
    pub async fn console_token(&self) -> (String, String) {
        let page = reqwest::get(self.url("/login")).await.unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("monay_csrf="))
            .expect("a CSRF seed cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let html = page.text().await.unwrap();
        let token = html
            .split(r#"name="csrf-token" content=""#)
            .nth(1)
            .expect("a csrf-token meta tag")
            .split('"')
            .next()
            .unwrap();
        (cookie.split(';').next().unwrap().to_string(), token.to_string())
    }

    /// Creates a tenant key and returns the key itself.
    pub async fn tenant_key(&self, tenant: &str) -> String {
        let a = self.post(ADMIN_TOKEN, "/api/keys", json!({"tenant": tenant, "role": "tenant", "name": tenant})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body["key"].as_str().unwrap().to_string()
    }

    /// Registers a webhook with `key`, asserting success; returns its JSON.
    pub async fn webhook(&self, key: &str, url: &str, events: &[&str]) -> Value {
        let a = self.post(key, "/api/webhooks", json!({"url": url, "events": events})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The `data` array of a list answer. Anything else (an error answer, a body without `data`) fails
/// the test: "no rows" must never pass on a 4xx or 5xx.
pub fn data(answer: &Answer) -> Vec<Value> {
    assert!(answer.status.is_success(), "expected a list, got {}: {}", answer.status, answer.body);
    answer.body["data"].as_array().cloned().unwrap_or_else(|| panic!("expected a `data` list: {}", answer.body))
}

/// Polls `check` until it holds, failing the test with `what` after `within`.
pub async fn eventually<F, Fut>(within: std::time::Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
