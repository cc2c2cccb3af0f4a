//! The one shared HTTP client of the delivery engine: keep-alive, no redirects, a timeout, and the
//! SSRF guard in its DNS resolver, so the address checked is the address connected to.

use super::ssrf::IpPolicy;
use crate::config::Config;
use crate::domain::ErrorKind;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;

/// Resolves names, then keeps only the addresses the policy permits.
struct GuardedResolver {
    policy: Arc<IpPolicy>,
}

/// A name resolved only to refused addresses.
#[derive(Debug)]
pub struct Blocked(pub String);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "blocked: {}", self.0)
    }
}
impl std::error::Error for Blocked {}

/// A name that did not resolve.
#[derive(Debug)]
struct DnsFailure(String);

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dns: {}", self.0)
    }
}
impl std::error::Error for DnsFailure {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(DnsFailure(format!("{host}: {e}"))) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| policy.permits(a.ip())).collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = if found.is_empty() {
                    Box::new(DnsFailure(format!("{host} has no addresses")))
                } else {
                    Box::new(Blocked(format!("{host} resolves to a private or reserved address ({})", found[0].ip())))
                };
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Builds the delivery client.
pub fn build(config: &Config, policy: Arc<IpPolicy>) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("MonayWebhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        // Never a proxy from the environment (HTTP(S)_PROXY): the proxy would resolve the webhook's
        // host itself, past the guard in our resolver.
        .no_proxy()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .pool_max_idle_per_host(config.concurrency)
        .tcp_nodelay(true)
        .dns_resolver(Arc::new(GuardedResolver { policy }))
        .build()
        .expect("the HTTP client builds")
}

/// Sorts a failed request into an error kind, with a readable message.
pub fn classify(err: &reqwest::Error) -> (ErrorKind, String) {
    let mut chain = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<Blocked>() {
            return (ErrorKind::Blocked, blocked.to_string());
        }
        if let Some(dns) = e.downcast_ref::<DnsFailure>() {
            return (ErrorKind::Dns, dns.to_string());
        }
        chain.push(e.to_string());
        source = e.source();
    }
    let text = chain.last().cloned().unwrap_or_else(|| err.to_string());
    if err.is_timeout() {
        return (ErrorKind::Timeout, "the receiver did not answer in time".to_string());
    }
    let lower = chain.join(" ").to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return (ErrorKind::Tls, text);
    }
    (ErrorKind::Connect, text)
}
