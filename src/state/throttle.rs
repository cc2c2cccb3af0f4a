//! Guessing keys: failed sign-ins and unknown API keys are counted per client address. Past
//! `WEBHOOK_AUTH_FAILURE_LIMIT` failures in a minute the address is refused (429 with `Retry-After`)
//! for the rest of that minute, whatever key it sends. An IPv6 client is counted by its /64 (one
//! machine usually holds a whole /64, and would otherwise guess from a fresh address each time); a
//! client whose address is unknown (an unreadable `X-Forwarded-For` from a trusted proxy) is counted
//! as one client, "unknown". Counted per process: with several nodes behind a load balancer an
//! address gets the limit once per node.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The failure counts of recent client addresses, per process (the README says so).
#[derive(Debug)]
pub struct AuthThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
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
        if self.limit == 0 {
            return Ok(());
        }
        let failures = self.failures.lock().expect("throttle");
        match failures.get(&counted_as(ip)) {
            Some((since, n)) if *n >= self.limit && now < *since + self.window => {
                Err((*since + self.window - now).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure from `ip`.
    pub fn failed(&self, ip: Option<IpAddr>, now: Instant) -> Failure {
        if self.limit == 0 {
            return Failure::Counted;
        }
        let mut failures = self.failures.lock().expect("throttle");
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| now < *since + self.window);
        }
        let entry = failures.entry(counted_as(ip)).or_insert((now, 0));
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

/// The client a failure is counted against: an IPv4 address, an IPv6 address's /64, or `None` for
/// every client whose address is unknown.
fn counted_as(ip: Option<IpAddr>) -> Option<IpAddr> {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            Some(IpAddr::V6(bits.into()))
        }
        other => other,
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

    #[test]
    fn ipv6_clients_are_counted_per_64_and_unknown_clients_together() {
        let t = AuthThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        t.failed(v6("2001:db8:1:2::1"), now);
        t.failed(v6("2001:db8:1:2:ffff::9"), now);
        assert!(t.check(v6("2001:db8:1:2::77"), now).is_err(), "the same /64 is one client");
        assert!(t.check(v6("2001:db8:1:3::1"), now).is_ok(), "another /64 is another client");
        t.failed(None, now);
        assert!(t.check(None, now).is_ok());
        t.failed(None, now);
        assert!(t.check(None, now).is_err(), "clients of unknown address are counted, as one");
        assert!(t.check(v6("10.0.0.1"), now).is_ok());
    }
}
