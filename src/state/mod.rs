//! The state every REST handler and server function shares, with the per-process counters it
//! holds (sign-in throttle, rate limits, where keys are used from).

pub mod key_uses;
pub mod ratelimit;
pub mod throttle;

use crate::config::Config;
use crate::delivery::ssrf::IpPolicy;
use crate::delivery::Engine;
use crate::store::Store;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Handed to axum handlers as `State`, and to server functions as context by `leptos_routes`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub config: Arc<Config>,
    pub ip_policy: Arc<IpPolicy>,
    pub engine: Engine,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub alerts: Arc<crate::alerts::AlertMonitor>,
    pub live: Arc<crate::live::LiveFeed>,
    /// Addresses refused for guessing keys.
    pub auth_throttle: Arc<throttle::AuthThrottle>,
    /// API rate limits: a bucket per key (and per tenant for publishing).
    pub api_limiter: Arc<ratelimit::RateLimiter>,
    /// Where keys are used from, noted at most every few minutes per key and address.
    pub key_uses: Arc<key_uses::KeyUses>,
    /// Cancelled at shutdown (ends live streams so the server can stop).
    pub stop: tokio_util::sync::CancellationToken,
}
