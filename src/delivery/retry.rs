//! The retry policy (pure): which attempt outcome leads to what, and how long to wait.

use crate::config::Config;
use std::time::Duration;

/// Shortest and longest wait a receiver's `Retry-After` may ask for.
pub const RETRY_AFTER_MIN: Duration = Duration::from_secs(1);
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// When to retry a failed delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Delays before retry 1, 2, …; their count is the number of retries.
    delays: Vec<Duration>,
    /// Spread of each delay, ±(jitter × delay).
    jitter: f64,
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The receiver took it (2xx).
    Delivered,
    /// Try again after this long.
    RetryIn(Duration),
    /// No retries left: the delivery has failed.
    GiveUp,
    /// The receiver answered 410 Gone: disable the webhook.
    Gone,
}

impl RetryPolicy {
    /// `max_retries` retries, the first after `base`, doubling each time.
    pub fn exponential(max_retries: u32, base: Duration) -> Self {
        let delays = (0..max_retries).map(|n| base.saturating_mul(1u32.checked_shl(n).unwrap_or(u32::MAX))).collect();
        RetryPolicy { delays, jitter: 0.2 }
    }

    /// An explicit schedule, one delay per retry.
    pub fn schedule(delays: Vec<Duration>) -> Self {
        RetryPolicy { delays, jitter: 0.2 }
    }

    pub fn from_config(config: &Config) -> Self {
        match &config.retry_schedule {
            Some(delays) => Self::schedule(delays.clone()),
            None => Self::exponential(config.max_retries, config.retry_delay),
        }
    }

    /// How many retries follow the first attempt.
    pub fn max_retries(&self) -> usize {
        self.delays.len()
    }

    /// The delay before retry `n` (1-based), before jitter.
    pub fn base_delay(&self, n: usize) -> Option<Duration> {
        n.checked_sub(1).and_then(|i| self.delays.get(i)).copied()
    }

    /// Decides what follows attempt number `attempt` (1 = the first try) that ended with `status`
    /// (`None`: no response). `retry_after` is the receiver's `Retry-After`, honoured on 429 and 503
    /// within [`RETRY_AFTER_MIN`, `RETRY_AFTER_MAX`]. `unit` is a random number in [0, 1) for jitter.
    pub fn decide(&self, attempt: usize, status: Option<u16>, retry_after: Option<Duration>, unit: f64) -> Decision {
        match status {
            Some(200..=299) => return Decision::Delivered,
            Some(410) => return Decision::Gone,
            _ => {}
        }
        let Some(base) = self.base_delay(attempt) else { return Decision::GiveUp };
        if let (Some(429 | 503), Some(asked)) = (status, retry_after) {
            return Decision::RetryIn(asked.clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX));
        }
        let factor = 1.0 + self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        Decision::RetryIn(base.mul_f64(factor))
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (when.with_timezone(&chrono::Utc) - now).num_milliseconds().max(0);
    Some(Duration::from_millis(ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn the_default_policy_retries_three_times_doubling_from_five_seconds() {
        let p = RetryPolicy::exponential(3, s(5));
        assert_eq!(p.max_retries(), 3);
        assert_eq!(p.decide(1, Some(500), None, 0.5), Decision::RetryIn(s(5)));
        assert_eq!(p.decide(2, None, None, 0.5), Decision::RetryIn(s(10)));
        assert_eq!(p.decide(3, Some(502), None, 0.5), Decision::RetryIn(s(20)));
        assert_eq!(p.decide(4, Some(500), None, 0.5), Decision::GiveUp);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = RetryPolicy::exponential(3, s(10));
        assert_eq!(p.decide(1, Some(500), None, 0.0), Decision::RetryIn(s(8)));
        for i in 0..100 {
            let Decision::RetryIn(d) = p.decide(1, Some(500), None, i as f64 / 100.0) else { panic!() };
            assert!(d >= s(8) && d <= s(12), "{d:?}");
        }
    }

    #[test]
    fn success_gone_and_retry_after() {
        let p = RetryPolicy::exponential(3, s(5));
        assert_eq!(p.decide(1, Some(204), None, 0.5), Decision::Delivered);
        assert_eq!(p.decide(4, Some(200), None, 0.5), Decision::Delivered);
        assert_eq!(p.decide(1, Some(410), None, 0.5), Decision::Gone);
        assert_eq!(p.decide(1, Some(301), None, 0.5), Decision::RetryIn(s(5)), "redirects are failures");
        assert_eq!(p.decide(1, Some(429), Some(s(42)), 0.5), Decision::RetryIn(s(42)));
        assert_eq!(p.decide(1, Some(503), Some(s(86_400)), 0.5), Decision::RetryIn(RETRY_AFTER_MAX));
        assert_eq!(p.decide(1, Some(503), Some(s(0)), 0.5), Decision::RetryIn(RETRY_AFTER_MIN));
        assert_eq!(p.decide(1, Some(500), Some(s(42)), 0.5), Decision::RetryIn(s(5)), "only on 429 and 503");
        assert_eq!(p.decide(4, Some(429), Some(s(1)), 0.5), Decision::GiveUp, "never past the last retry");
    }

    #[test]
    fn an_explicit_schedule_sets_count_and_delays() {
        let p = RetryPolicy::schedule(crate::config::parse_schedule("5s,5m,30m,2h,5h").unwrap());
        assert_eq!(p.max_retries(), 5);
        assert_eq!(p.decide(5, Some(500), None, 0.5), Decision::RetryIn(s(5 * 3600)));
        assert_eq!(p.decide(6, Some(500), None, 0.5), Decision::GiveUp);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").unwrap().to_utc();
        assert_eq!(parse_retry_after("120", now), Some(s(120)));
        assert_eq!(parse_retry_after("Sun, 29 Nov 2026 10:01:00 GMT", now), Some(s(60)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
