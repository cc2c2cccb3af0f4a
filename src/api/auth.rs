//! Who is calling: a `Bearer` API key, or (for reads from the console's own pages) its session
//! cookie; the client's address; refusing addresses that guess keys (and, in `traffic`, keys used
//! from elsewhere than their allowlist or over their rate).

use crate::domain::Principal;
use crate::error::AppError;
use crate::service::auth as access;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// Name of the console's session cookie.
pub const SESSION_COOKIE: &str = "monay_session";

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let ip = client_ip(parts);
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::unauthorized("the Authorization header must be 'Bearer <API key>'"))?;
            // A valid key is never refused by the throttle: keys are 256-bit, the throttle is for
            // guesses (and a guesser sharing an address, a NAT, must not lock its neighbours out).
            return match access::authenticate(state, token).await? {
                Some(principal) => {
                    super::traffic::admit(state, parts, &principal).await?;
                    Ok(principal)
                }
                None => {
                    access::throttled(state, ip)?;
                    access::refused(state, ip, "auth.failed").await;
                    Err(AppError::unauthorized("the API key is not valid or has been revoked"))
                }
            };
        }
        // The console's session cookie opens the API's reads only (the console's live feed and CSV
        // export), and only from the console's own pages: a change needs the Authorization header,
        // which another site's page cannot send, so it cannot act in a signed-in user's name.
        if let Some(token) = session_token(&parts.headers) {
            if parts.method.is_safe() && same_origin(&parts.headers) {
                if let Some(principal) = access::session_principal(state, &token).await? {
                    super::traffic::admit(state, parts, &principal).await?;
                    return Ok(principal);
                }
            }
        }
        Err(AppError::unauthorized("missing API key: send 'Authorization: Bearer <API key>'"))
    }
}

/// The client's address: the connection's, or the one a trusted proxy forwarded (see
/// [`super::traffic::forwarded_client`]). The one place that looks it up.
pub fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    if let Some(super::traffic::ClientIp(ip)) = parts.extensions.get() {
        return *ip;
    }
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_canonical())
}

/// Was the request sent by a page of this site (or typed, or by a program)? Browsers say where a
/// request comes from in `Sec-Fetch-Site` (another port of this host is `same-site`, not ours), which
/// a page cannot forge; that settles it, even behind a proxy that rewrites `Host`. Older browsers
/// send only `Origin` (on posts), which must then name this host. Programs send neither.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str().unwrap_or(""), "same-origin" | "none");
    }
    match headers.get(axum::http::header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            let origin = origin.to_str().unwrap_or("");
            let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
            authority.is_some_and(|a| !host.is_empty() && a.eq_ignore_ascii_case(host))
        }
    }
}

/// The session token from the `Cookie` header, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of cookie `name` in the `Cookie` header, if any and not empty.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

pub use crate::service::Actor;

impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        Ok(Actor { principal, ip: client_ip(parts).map(|ip| ip.to_string()) })
    }
}
