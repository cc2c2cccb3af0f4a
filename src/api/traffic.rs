//! Who may call how often, and from where: the client's address (through trusted proxies), each
//! key's address allowlist and rate limit, and the `RateLimit-*` headers on every answer to a key.

use crate::domain::{traffic, Principal};
use crate::error::AppError;
use crate::metrics::Limit;
use crate::state::ratelimit::{Quota, Verdict};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The client's address, worked out once per request by [`layer`]: `None` when a trusted proxy
/// forwarded an entry that cannot be read (the client is then unknown — refused by any allowlist,
/// counted by the sign-in throttle as one unknown client — never taken to be the proxy).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

/// Where the request's rate-limit verdict is left for [`layer`] to write as headers (and so that a
/// handler that identifies its caller twice takes one token, not two).
#[derive(Clone, Default)]
struct VerdictSlot(Arc<Mutex<Option<Verdict>>>);

/// Finds the client's address, then adds the `RateLimit-*` headers to the answer when a key was
/// counted.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    if let Some(peer) = peer {
        let client = forwarded_client(peer, req.headers(), &state.config.trusted_proxies);
        req.extensions_mut().insert(ClientIp(client));
    }
    let slot = VerdictSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    if let Some(verdict) = *slot.0.lock().unwrap_or_else(|p| p.into_inner()) {
        verdict.write(response.headers_mut());
    }
    response
}

/// The client of a request from `peer`: `peer` itself, unless it is a trusted proxy — then the
/// nearest address in `X-Forwarded-For` that is not one (read from the right: the left part is
/// whatever the client claimed). Entries may be addresses, `ip:port` or `[v6]:port`. `None` when
/// the entry that decides cannot be read: the client is unknown, and never the proxy itself.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    if !traffic::in_ranges(trusted, peer) {
        return Some(peer.to_canonical());
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().map(|v| v.split(',').collect::<Vec<_>>()).unwrap_or_else(|_| vec![""]))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        // An unreadable entry is where the trusted chain breaks: whoever is behind it is unknown.
        let hop = forwarded_address(entry)?;
        client = hop;
        if !traffic::in_ranges(trusted, hop) {
            break;
        }
    }
    Some(client.to_canonical())
}

/// One `X-Forwarded-For` entry: `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1`, `[2001:db8::1]`
/// or `[2001:db8::1]:4711` (quotes around it allowed).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok())) {
            return None;
        }
        return inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    entry.parse::<SocketAddr>().ok().filter(|a| a.is_ipv4()).map(|a| a.ip())
}

/// Lets a key's request through, or refuses it: 403 from an address outside the key's allowlist
/// (audited), 429 over its rate (with `Retry-After`). Counted once per request.
pub async fn admit(state: &AppState, parts: &Parts, principal: &Principal) -> Result<(), AppError> {
    crate::service::auth::check_address(state, super::auth::client_ip(parts), principal).await?;
    let Some(slot) = parts.extensions.get::<VerdictSlot>() else { return Ok(()) };
    let default = Quota { per_second: state.config.api_rate_limit, burst: state.config.api_rate_burst };
    let Some(quota) = Quota::for_key(principal.rate_limit, default) else { return Ok(()) };
    let mut counted = slot.0.lock().unwrap_or_else(|p| p.into_inner());
    let verdict = match *counted {
        Some(verdict) => verdict,
        None => {
            let verdict = state.api_limiter.take(&principal.key_id, quota, Instant::now());
            *counted = Some(verdict);
            verdict
        }
    };
    if verdict.allowed {
        return Ok(());
    }
    state.metrics.rate_limited(Limit::Key);
    Err(AppError::too_many(
        format!(
            "this API key is over its rate limit of {} requests per second (bursts of {}); try again in {} s",
            quota.per_second, quota.burst, verdict.retry_after
        ),
        verdict.retry_after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let peer = |s: &str| s.parse::<IpAddr>().unwrap();
        // From a proxy: the nearest untrusted hop (1.2.3.4 is what the client claimed, not believed).
        assert_eq!(forwarded_client(peer("10.0.0.1"), &headers, &trusted), ip("198.51.100.7"));
        // From anyone else the header is ignored.
        assert_eq!(forwarded_client(peer("203.0.113.9"), &headers, &trusted), ip("203.0.113.9"));
        assert_eq!(forwarded_client(peer("10.0.0.1"), &headers, &[]), ip("10.0.0.1"));
        assert_eq!(forwarded_client(peer("::ffff:127.0.0.1"), &HeaderMap::new(), &[]), ip("127.0.0.1"));
        // Only proxies in the header: the leftmost is the client.
        headers.insert("x-forwarded-for", "10.9.9.9, 10.0.0.2".parse().unwrap());
        assert_eq!(forwarded_client(peer("10.0.0.1"), &headers, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn an_unreadable_forwarded_entry_makes_the_client_unknown_not_the_proxy() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let from_proxy = |xff: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("x-forwarded-for", xff.parse().unwrap());
            forwarded_client("10.0.0.1".parse().unwrap(), &headers, &trusted)
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(from_proxy("garbage, 198.51.100.9"), ip("198.51.100.9"), "the nearest untrusted entry decides");
        assert_eq!(from_proxy("198.51.100.9, garbage"), None);
        assert_eq!(from_proxy("garbage"), None);
        assert_eq!(from_proxy("garbage, 10.0.0.5"), None, "behind the last proxy: unknown, never the proxy");
        assert_eq!(from_proxy(""), None);
        assert_eq!(from_proxy("203.0.113.9:4711"), ip("203.0.113.9"));
        assert_eq!(from_proxy("10.0.0.7:80, 203.0.113.9:4711"), ip("203.0.113.9"));
        assert_eq!(from_proxy("[2001:db8::1]:4711"), ip("2001:db8::1"));
        assert_eq!(from_proxy("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(from_proxy("2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(from_proxy("\"203.0.113.9\""), ip("203.0.113.9"));
        assert_eq!(from_proxy("[2001:db8::1]:port"), None);
        assert_eq!(from_proxy("203.0.113.9:99999"), None);
    }
}
