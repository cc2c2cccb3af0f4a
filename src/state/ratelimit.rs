//! API rate limits: a token bucket per API key (and per tenant for publishing). A bucket holds up
//! to `burst` tokens and refills at `rate` per second; each request takes one, and a request that
//! finds none is refused with 429 and told when one will be there. Kept per process: with several
//! nodes behind a load balancer each node allows the rate (the README says so).

use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A rate: `per_second` requests, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub per_second: u32,
    pub burst: u32,
}

impl Quota {
    /// A key's own rate (its burst twice it), or the server's; `None` when unlimited.
    pub fn for_key(own: Option<u32>, default: Quota) -> Option<Quota> {
        let quota = match own {
            Some(rate) => Quota { per_second: rate, burst: rate.saturating_mul(2) },
            None => default,
        };
        (quota.per_second > 0).then_some(Quota { burst: quota.burst.max(1), ..quota })
    }
}

/// What taking a token found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    pub allowed: bool,
    pub quota: Quota,
    /// Whole tokens left after this request.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until a refused request may be made again (0 when allowed).
    pub retry_after: u64,
}

impl Verdict {
    /// The `RateLimit-*` headers (IETF draft): the rate, what is left now, when it is all back, and
    /// the policy with its burst.
    pub fn write(&self, headers: &mut HeaderMap) {
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set("ratelimit-limit", self.quota.per_second.to_string());
        set("ratelimit-remaining", self.remaining.to_string());
        set("ratelimit-reset", self.reset_secs.to_string());
        set("ratelimit-policy", format!("{};w=1;burst={}", self.quota.per_second, self.quota.burst));
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one process.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes a token from `key`'s bucket under `quota`.
    pub fn take(&self, key: &str, quota: Quota, now: Instant) -> Verdict {
        let (rate, burst) = (f64::from(quota.per_second), f64::from(quota.burst));
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            // Forget full buckets: they are what a fresh one would be.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = match buckets.get_mut(key) {
            Some(bucket) => bucket,
            None => buckets.entry(key.to_string()).or_insert(Bucket { tokens: burst, at: now }),
        };
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let tokens = bucket.tokens;
        Verdict {
            allowed,
            quota,
            remaining: tokens.floor() as u32,
            reset_secs: ((burst - tokens) / rate).ceil() as u64,
            retry_after: if allowed { 0 } else { ((1.0 - tokens) / rate).ceil().max(1.0) as u64 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_the_wait_is_told() {
        let limiter = RateLimiter::default();
        let quota = Quota { per_second: 2, burst: 4 };
        let t0 = Instant::now();
        let verdicts: Vec<Verdict> = (0..5).map(|_| limiter.take("k", quota, t0)).collect();
        assert!(verdicts[..4].iter().all(|v| v.allowed));
        assert_eq!(verdicts.iter().map(|v| v.remaining).collect::<Vec<_>>(), [3, 2, 1, 0, 0]);
        let refused = verdicts[4];
        assert!(!refused.allowed);
        assert_eq!((refused.retry_after, refused.reset_secs), (1, 2));
        // Half a second later one token has come back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.take("k", quota, t1).allowed);
        assert!(!limiter.take("k", quota, t1).allowed);
        // Another key has its own bucket.
        assert!(limiter.take("other", quota, t1).allowed);
        // After a long pause the bucket is full, never fuller.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(limiter.take("k", quota, t2).remaining, 3);
    }

    #[test]
    fn a_keys_own_rate_wins_and_zero_is_unlimited() {
        let default = Quota { per_second: 100, burst: 200 };
        assert_eq!(Quota::for_key(None, default), Some(default));
        assert_eq!(Quota::for_key(Some(5), default), Some(Quota { per_second: 5, burst: 10 }));
        assert_eq!(Quota::for_key(Some(0), default), None);
        assert_eq!(Quota::for_key(None, Quota { per_second: 0, burst: 0 }), None);
    }
}
