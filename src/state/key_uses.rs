//! Where keys are used from: noted at most every few minutes per key and address (per process).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// When each key was last noted as used from each address (per node): noted again after
/// [`KeyUses::EVERY`].
#[derive(Debug, Default)]
pub struct KeyUses(Mutex<std::collections::HashMap<(String, IpAddr), Instant>>);

impl KeyUses {
    /// How often a key's use from one address is written.
    pub const EVERY: std::time::Duration = std::time::Duration::from_secs(600);

    /// Is this use to be written (the first from this address, or the first for a while)?
    pub fn due(&self, key_id: &str, ip: IpAddr, now: Instant) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, at| now.duration_since(*at) < Self::EVERY);
        }
        match seen.get_mut(&(key_id.to_string(), ip)) {
            Some(at) if now.duration_since(*at) < Self::EVERY => false,
            Some(at) => {
                *at = now;
                true
            }
            None => {
                seen.insert((key_id.to_string(), ip), now);
                true
            }
        }
    }
}
