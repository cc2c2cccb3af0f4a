//! Guessing keys: failed sign-ins and unknown API keys are counted per client address. Past
//! `WEBHOOK_AUTH_FAILURE_LIMIT` failures in a minute the address is refused (429 with `Retry-After`)
//! for the rest of that minute, whatever key it sends. Counted per process: with several nodes behind
//! a load balancer an address gets the limit once per node.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The failure counts of recent client addresses, per process (the README says so).
#[derive(Debug)]
pub struct AuthThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted, under the limit.
    Counted,
    /// This failure reached the limit: the address is refused from now on (audit it once).
    LockedOut,
}

impl AuthThrottle {
    /// `limit` failures per `window` (0: no limit).
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, failures: Mutex::default() }
    }

    /// `Err(seconds to wait)` while `ip` is refused.
    pub fn check(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let (Some(ip), true) = (ip, self.limit > 0) else { return Ok(()) };
        let failures = self.failures.lock().expect("throttle");
        match failures.get(&ip) {
            Some((since, n)) if *n >= self.limit && now < *since + self.window => {
                Err((*since + self.window - now).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure from `ip`.
    pub fn failed(&self, ip: Option<IpAddr>, now: Instant) -> Failure {
        let (Some(ip), true) = (ip, self.limit > 0) else { return Failure::Counted };
        let mut failures = self.failures.lock().expect("throttle");
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| now < *since + self.window);
        }
        let entry = failures.entry(ip).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 == self.limit {
            Failure::LockedOut
        } else {
            Failure::Counted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_the_limit_until_the_window_ends() {
        let t = AuthThrottle::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        assert_eq!(t.failed(Some(a), start), Failure::Counted);
        assert_eq!(t.failed(Some(a), start), Failure::Counted);
        assert!(t.check(Some(a), start).is_ok());
        assert_eq!(t.failed(Some(a), start), Failure::LockedOut);
        assert_eq!(t.check(Some(a), start + Duration::from_secs(15)), Err(45));
        assert!(t.check(Some(b), start).is_ok(), "other addresses are not affected");
        assert!(t.check(Some(a), start + Duration::from_secs(60)).is_ok(), "the window ends");
        assert_eq!(t.failed(Some(a), start + Duration::from_secs(61)), Failure::Counted, "a new window counts from 1");
    }

    #[test]
    fn a_limit_of_zero_never_refuses() {
        let t = AuthThrottle::new(0, Duration::from_secs(60));
        let ip = Some("10.0.0.1".parse().unwrap());
        for _ in 0..100 {
            t.failed(ip, Instant::now());
        }
        assert!(t.check(ip, Instant::now()).is_ok());
    }
}
