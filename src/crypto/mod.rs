//! Random identifiers, secrets and API keys, the hashes keys are stored under, and the sealing of
//! webhook secrets at rest.

pub mod seal;
pub use seal::{SealError, Sealer};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new identifier: `prefix` + a 26-character ULID (48-bit millisecond time, 80 random bits), so
/// identifiers sort by creation time and serve as pagination cursors.
pub fn new_id(prefix: &str) -> String {
    encode(prefix, monotonic(random_ulid(chrono::Utc::now().timestamp_millis())))
}

/// The last identifier value handed out by this process.
static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);

/// `value`, or one more than the last value handed out if that is not smaller: identifiers made in
/// the same millisecond still sort in the order they were made (a monotonic ULID).
fn monotonic(value: u128) -> u128 {
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let next = if value > *last { value } else { *last + 1 };
    *last = next;
    next
}

fn random_ulid(ms: i64) -> u128 {
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let mut value: u128 = (ms.max(0) as u128) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (8 * (9 - i));
    }
    value
}

/// An identifier as [`new_id`] would have made it at `ms` (for importing history).
pub fn new_id_at(prefix: &str, ms: i64) -> String {
    encode(prefix, random_ulid(ms))
}

/// `prefix` + the 26 Crockford base-32 digits of `value`.
fn encode(prefix: &str, value: u128) -> String {
    let mut out = String::with_capacity(prefix.len() + 26);
    out.push_str(prefix);
    for i in (0..26).rev() {
        out.push(CROCKFORD[((value >> (5 * i)) & 0x1f) as usize] as char);
    }
    out
}

/// The smallest identifier with `prefix` that [`new_id`] can produce at or after `ms`: identifiers
/// sort by time, so `id >= id_floor(prefix, t)` selects what was created since `t` by primary key.
pub fn id_floor(prefix: &str, ms: i64) -> String {
    encode(prefix, (ms.max(0) as u128) << 80)
}

/// The creation time (unix ms) an identifier made by [`new_id`] carries.
pub fn id_time(id: &str) -> Option<i64> {
    let ulid = id.rsplit('_').next()?;
    let mut ms: i64 = 0;
    for ch in ulid.get(..10)?.bytes() {
        let digit = CROCKFORD.iter().position(|&c| c == ch.to_ascii_uppercase())?;
        ms = (ms << 5) | digit as i64;
    }
    Some(ms)
}

/// A new webhook signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form).
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// A new API key or session token: `prefix` + base64url of 32 random bytes.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The hash a key or token is stored under. Keys carry 256 random bits, so a plain SHA-256 is
/// enough: there is nothing to brute-force.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// SHA-256 of arbitrary bytes, hex-encoded (idempotency fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let a = new_id("wh_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("wh_");
        assert!(a.starts_with("wh_") && a.len() == 29);
        assert!(a < b, "{a} should sort before {b}");
    }

    #[test]
    fn ids_made_in_the_same_millisecond_keep_their_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_id("aud_")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn an_id_tells_when_it_was_made() {
        let before = chrono::Utc::now().timestamp_millis();
        let t = id_time(&new_id("att_")).unwrap();
        assert!((before..=before + 1000).contains(&t), "{t} vs {before}");
        assert_eq!(id_time(&id_floor("dlv_", 1_764_000_000_123)), Some(1_764_000_000_123));
        assert_eq!(id_time("att_!!"), None);
    }

    #[test]
    fn an_id_floor_sorts_between_earlier_and_later_ids() {
        let before = new_id("att_");
        std::thread::sleep(std::time::Duration::from_millis(3));
        let floor = id_floor("att_", chrono::Utc::now().timestamp_millis() - 1);
        std::thread::sleep(std::time::Duration::from_millis(3));
        let after = new_id("att_");
        assert!(before < floor && floor <= after, "{before} < {floor} <= {after}");
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let s = new_webhook_secret();
        let raw = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(s, new_webhook_secret());
    }

    #[test]
    fn token_hash_is_stable_and_hides_the_token() {
        let t = new_token("mwk_");
        assert_eq!(token_hash(&t), token_hash(&t));
        assert!(!token_hash(&t).contains(&t[4..]));
    }
}
