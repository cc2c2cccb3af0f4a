//! One attempt: build the signed request for a due delivery, send it, and capture what came back.

use super::client::classify;
use super::payload;
use super::signer;
use super::ssrf::IpPolicy;
use crate::domain::ErrorKind;
use crate::store::DueDelivery;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How much of a response body is kept.
pub const MAX_RESPONSE_BODY: usize = 16 * 1024;
/// How much of a response's headers is kept (names and values; the rest is dropped).
pub const MAX_RESPONSE_HEADERS: usize = 16 * 1024;

/// What one attempt did.
#[derive(Debug, Clone)]
pub struct Sent {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub request_headers: BTreeMap<String, String>,
    pub status: Option<u16>,
    pub response_headers: Option<BTreeMap<String, String>>,
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    /// The receiver's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

impl Sent {
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }
}

/// The headers of a delivery: the webhook's own, then ours, signed with every active secret (`t_ms`
/// is the attempt's time). Ours cannot be overridden: the webhook's may not use their names.
pub fn headers(job: &DueDelivery, body: &str, t_ms: i64) -> BTreeMap<String, String> {
    let mut h: BTreeMap<String, String> =
        job.headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect();
    let at = DateTime::<Utc>::from_timestamp_millis(t_ms).unwrap_or_default();
    h.insert("content-type".into(), "application/json".into());
    // A webhook may name itself to its receiver's firewall: its own User-Agent wins.
    h.entry("user-agent".into()).or_insert_with(|| concat!("MonayWebhooks/", env!("CARGO_PKG_VERSION")).into());
    h.insert("x-webhook-id".into(), job.event_id.clone());
    h.insert("x-webhook-event".into(), job.event.clone());
    h.insert("x-webhook-timestamp".into(), payload::iso(at));
    h.insert("x-webhook-signature".into(), signer::seed_signature(&job.secrets, t_ms, body.as_bytes()));
    h.insert("webhook-id".into(), job.event_id.clone());
    h.insert("webhook-timestamp".into(), (t_ms.div_euclid(1000)).to_string());
    h.insert(
        "webhook-signature".into(),
        signer::standard_signature(&job.secrets, &job.event_id, t_ms.div_euclid(1000), body.as_bytes()),
    );
    h
}

/// Sends one attempt of `job`. Never fails: every outcome is described in the returned [`Sent`].
pub async fn send(client: &reqwest::Client, policy: &IpPolicy, allow_http: bool, job: &DueDelivery) -> Sent {
    let started_at = Utc::now();
    let body = payload::body(&job.event_id, &job.event, &job.data, job.event_time, &job.webhook_id);
    let request_headers = headers(job, &body, started_at.timestamp_millis());
    let clock = Instant::now();
    let failed = |kind: ErrorKind, error: String, request_headers: BTreeMap<String, String>| Sent {
        started_at,
        duration_ms: clock.elapsed().as_millis() as i64,
        request_headers,
        status: None,
        response_headers: None,
        response_body: None,
        error_kind: Some(kind),
        error: Some(error),
        retry_after: None,
    };
    if let Err(reason) = check_target(&job.url, policy, allow_http) {
        return failed(ErrorKind::Blocked, reason, request_headers);
    }
    let mut request = client.post(&job.url).body(body);
    for (name, value) in &request_headers {
        request = request.header(name, value);
    }
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let (kind, message) = classify(&e);
            return failed(kind, message, request_headers);
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::retry::parse_retry_after(v, Utc::now()));
    let response_headers =
        kept_headers(response.headers().iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()))));
    let mut kept: Vec<u8> = Vec::new();
    // A body that breaks off or times out changes nothing: the status has already been given.
    while kept.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(MAX_RESPONSE_BODY - kept.len())]),
            _ => break,
        }
    }
    let (error_kind, error) = match status {
        200..=299 => (None, None),
        413 => (Some(ErrorKind::TooLarge), Some("the receiver answered 413: payload too large".to_string())),
        _ => (Some(ErrorKind::HttpStatus), Some(format!("the receiver answered {status}"))),
    };
    Sent {
        started_at,
        duration_ms: clock.elapsed().as_millis() as i64,
        request_headers,
        status: Some(status),
        response_headers: Some(response_headers),
        response_body: Some(String::from_utf8_lossy(&kept).into_owned()),
        error_kind,
        error,
        retry_after,
    }
}

/// A response's headers as stored: while they fit in [`MAX_RESPONSE_HEADERS`] (a receiver cannot
/// make us store megabytes of headers per attempt); one that would not fit is cut, and the rest
/// dropped.
fn kept_headers<'a>(headers: impl Iterator<Item = (&'a str, std::borrow::Cow<'a, str>)>) -> BTreeMap<String, String> {
    let mut kept = BTreeMap::new();
    let mut room = MAX_RESPONSE_HEADERS;
    for (name, value) in headers {
        if name.len() + 2 >= room {
            break;
        }
        room -= name.len() + 2;
        let mut cut = value.len().min(room);
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        room -= cut;
        kept.entry(name.to_string())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value[..cut]);
            })
            .or_insert_with(|| value[..cut].to_string());
    }
    kept
}

/// Refuses, before any connection, URLs whose scheme is no longer allowed or whose host is a refused
/// address literal (names are checked by the client's resolver at connect time).
fn check_target(url: &str, policy: &IpPolicy, allow_http: bool) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if parsed.scheme() == "http" && !allow_http {
        return Err("plain http:// is not allowed on this server".into());
    }
    match super::ssrf::literal_ip(&parsed) {
        Some(ip) if !policy.permits(ip) => Err(format!("{ip} is a private or reserved address")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receivers_headers_are_kept_up_to_16_kib() {
        let big = "v".repeat(10_000);
        let many: Vec<(String, String)> = (0..50).map(|i| (format!("x-h{i:02}"), big.clone())).collect();
        let kept = kept_headers(many.iter().map(|(n, v)| (n.as_str(), std::borrow::Cow::Borrowed(v.as_str()))));
        let size: usize = kept.iter().map(|(n, v)| n.len() + v.len()).sum();
        assert!(size <= MAX_RESPONSE_HEADERS, "{size}");
        assert_eq!(kept["x-h00"].len(), 10_000);
        assert!(kept.len() < 4);
        let few = [("content-type", "text/plain"), ("set-cookie", "a=1"), ("set-cookie", "b=2")];
        let kept = kept_headers(few.iter().map(|(n, v)| (*n, std::borrow::Cow::Borrowed(*v))));
        assert_eq!(kept["set-cookie"], "a=1, b=2", "repeated headers are all kept");
    }
}
