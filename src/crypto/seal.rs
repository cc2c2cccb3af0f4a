//! Webhook secrets sealed at rest: with `WEBHOOK_ENCRYPTION_KEY` set, the database holds each secret
//! encrypted (XChaCha20-Poly1305, a random nonce per value, the webhook's id as associated data, so
//! a sealed secret copied onto another webhook does not open) and the key lives only in the
//! process's environment. A stolen database file, or a backup of it, then holds no usable secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Marks a sealed value; anything else in the column is a secret stored before sealing was set up.
pub const SEALED_PREFIX: &str = "enc:v1:";

/// The shortest key accepted: 32 characters (e.g. `openssl rand -base64 32`).
pub const MIN_KEY_LEN: usize = 32;

/// Seals and opens webhook secrets with the key from `WEBHOOK_ENCRYPTION_KEY`; while the key is
/// being changed, also opens those sealed with `WEBHOOK_ENCRYPTION_KEY_PREVIOUS`.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    previous: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// Why a stored secret could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a webhook secret is stored encrypted, and WEBHOOK_ENCRYPTION_KEY is not set")]
    NoKey,
    #[error(
        "a webhook secret does not open with this WEBHOOK_ENCRYPTION_KEY (another key sealed it, or it was altered)"
    )]
    WrongKey,
}

impl Sealer {
    /// A sealer for `key` (any text of at least [`MIN_KEY_LEN`] characters; the cipher key is its
    /// SHA-256, domain-separated).
    pub fn new(key: &str) -> Result<Self, String> {
        Ok(Self { cipher: cipher("WEBHOOK_ENCRYPTION_KEY", key)?, previous: None })
    }

    /// This sealer, also opening what `previous` (the key being replaced) sealed.
    pub fn with_previous(mut self, previous: &str) -> Result<Self, String> {
        self.previous = Some(cipher("WEBHOOK_ENCRYPTION_KEY_PREVIOUS", previous)?);
        Ok(self)
    }

    /// `secret` sealed for the webhook `id`: `enc:v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, id: &str, secret: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: id.as_bytes() })
            .expect("XChaCha20-Poly1305 encrypts any message of this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// The secret in a value [`Sealer::seal`] made for the webhook `id`, and whether the previous
    /// key opened it (it should be sealed again with the current one).
    fn unseal(&self, id: &str, body: &str) -> Result<(String, bool), SealError> {
        let bytes = STANDARD.decode(body).map_err(|_| SealError::WrongKey)?;
        if bytes.len() < 24 {
            return Err(SealError::WrongKey);
        }
        let (nonce, sealed) = bytes.split_at(24);
        let payload = || Payload { msg: sealed, aad: id.as_bytes() };
        let (plain, by_previous) = match self.cipher.decrypt(XNonce::from_slice(nonce), payload()) {
            Ok(plain) => (plain, false),
            Err(_) => match &self.previous {
                Some(previous) => {
                    (previous.decrypt(XNonce::from_slice(nonce), payload()).map_err(|_| SealError::WrongKey)?, true)
                }
                None => return Err(SealError::WrongKey),
            },
        };
        Ok((String::from_utf8(plain).map_err(|_| SealError::WrongKey)?, by_previous))
    }
}

/// The cipher for a key given in the variable `name` (any text of at least [`MIN_KEY_LEN`]
/// characters; the cipher key is its SHA-256, domain-separated).
fn cipher(name: &str, key: &str) -> Result<XChaCha20Poly1305, String> {
    if key.chars().count() < MIN_KEY_LEN {
        return Err(format!("{name} must be at least {MIN_KEY_LEN} characters (e.g. `openssl rand -base64 32`)"));
    }
    let digest = Sha256::new().chain_update(b"monay-webhooks secret sealing v1\0").chain_update(key).finalize();
    Ok(XChaCha20Poly1305::new(&digest))
}

/// Is this stored value sealed?
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The secret a stored value holds for the webhook `id`: opened with `sealer` when sealed, as it is
/// when it was stored before sealing was set up.
pub fn open(sealer: Option<&Sealer>, id: &str, stored: &str) -> Result<String, SealError> {
    opened(sealer, id, stored).map(|(secret, _)| secret)
}

/// [`open`], and whether the value should be stored again: in the clear while there is a key, or
/// sealed with the previous key.
pub fn opened(sealer: Option<&Sealer>, id: &str, stored: &str) -> Result<(String, bool), SealError> {
    match (stored.strip_prefix(SEALED_PREFIX), sealer) {
        (None, sealer) => Ok((stored.to_string(), sealer.is_some())),
        (Some(_), None) => Err(SealError::NoKey),
        (Some(body), Some(sealer)) => sealer.unseal(id, body),
    }
}

/// The value to store for the webhook `id`'s `secret`: sealed when there is a key.
pub fn store(sealer: Option<&Sealer>, id: &str, secret: &str) -> String {
    match sealer {
        Some(sealer) => sealer.seal(id, secret),
        None => secret.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_id_only() {
        let sealer = Sealer::new(KEY).unwrap();
        let sealed = sealer.seal("wh_1", "whsec_abc");
        assert!(is_sealed(&sealed) && !sealed.contains("whsec_abc"));
        assert_ne!(sealed, sealer.seal("wh_1", "whsec_abc"), "a fresh nonce each time");
        assert_eq!(open(Some(&sealer), "wh_1", &sealed).unwrap(), "whsec_abc");
        assert_eq!(open(Some(&sealer), "wh_2", &sealed), Err(SealError::WrongKey));
        let other = Sealer::new("another key, also long enough to use!").unwrap();
        assert_eq!(open(Some(&other), "wh_1", &sealed), Err(SealError::WrongKey));
        assert_eq!(open(None, "wh_1", &sealed), Err(SealError::NoKey));
    }

    #[test]
    fn plain_secrets_stored_before_sealing_still_open() {
        let sealer = Sealer::new(KEY).unwrap();
        assert_eq!(open(Some(&sealer), "wh_1", "whsec_old").unwrap(), "whsec_old");
        assert_eq!(store(None, "wh_1", "whsec_x"), "whsec_x");
    }

    #[test]
    fn the_previous_key_still_opens_and_asks_for_sealing_again() {
        let old = Sealer::new(KEY).unwrap();
        let sealed = old.seal("wh_1", "whsec_abc");
        let new = Sealer::new("a brand new key of more than 32 characters").unwrap();
        assert_eq!(open(Some(&new), "wh_1", &sealed), Err(SealError::WrongKey));
        let both = new.clone().with_previous(KEY).unwrap();
        assert_eq!(opened(Some(&both), "wh_1", &sealed).unwrap(), ("whsec_abc".to_string(), true));
        let resealed = both.seal("wh_1", "whsec_abc");
        assert_eq!(opened(Some(&new), "wh_1", &resealed).unwrap(), ("whsec_abc".to_string(), false));
        assert_eq!(opened(Some(&new), "wh_1", "whsec_clear").unwrap(), ("whsec_clear".to_string(), true));
        assert_eq!(opened(None, "wh_1", "whsec_clear").unwrap(), ("whsec_clear".to_string(), false));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Sealer::new("too short").unwrap_err().contains("at least 32"));
    }

    #[test]
    fn altered_values_do_not_open() {
        let sealer = Sealer::new(KEY).unwrap();
        let mut sealed = sealer.seal("wh_1", "whsec_abc").into_bytes();
        let last = sealed.len() - 3;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        let sealed = String::from_utf8(sealed).unwrap();
        assert_eq!(open(Some(&sealer), "wh_1", &sealed), Err(SealError::WrongKey));
        assert_eq!(open(Some(&sealer), "wh_1", "enc:v1:!!"), Err(SealError::WrongKey));
    }
}
