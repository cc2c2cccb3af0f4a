//! Signing and verifying deliveries (pure): the seed's `X-Webhook-Signature: t=<ms>,v1=<hex>` and
//! Standard Webhooks' `webhook-signature: v1,<base64>`, both from the webhook's secret(s).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The Standard Webhooks key of a secret: the base64-decoded part after `whsec_`; a custom secret
/// that is not of that form signs with its UTF-8 bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `t=<unix ms>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 over `"<t>.<body>"`, keyed by each secret's
/// UTF-8 bytes (one `v1` per active secret, newest first).
pub fn seed_signature<S: AsRef<str>>(secrets: &[S], t_ms: i64, body: &[u8]) -> String {
    let t = t_ms.to_string();
    let mut out = format!("t={t}");
    for secret in secrets {
        let sig = hmac(secret.as_ref().as_bytes(), &[t.as_bytes(), b".", body]);
        out.push_str(",v1=");
        out.push_str(&hex::encode(sig));
    }
    out
}

/// `v1,<base64> [v1,<base64>…]`: HMAC-SHA256 over `"<id>.<unix s>.<body>"`, keyed by each secret's
/// Standard Webhooks key, space-separated.
pub fn standard_signature<S: AsRef<str>>(secrets: &[S], msg_id: &str, t_secs: i64, body: &[u8]) -> String {
    let t = t_secs.to_string();
    secrets
        .iter()
        .map(|secret| {
            let sig = hmac(&standard_key(secret.as_ref()), &[msg_id.as_bytes(), b".", t.as_bytes(), b".", body]);
            format!("v1,{}", STANDARD.encode(sig))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The header is not of the expected form.
    Malformed,
    /// The timestamp is outside the tolerance.
    Expired,
    /// No signature matches.
    Mismatch,
}

impl VerifyError {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyError::Malformed => "malformed",
            VerifyError::Expired => "expired",
            VerifyError::Mismatch => "mismatch",
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a seed-format header (`t=<ms>,v1=<hex>…`) against `body`, within `tolerance_ms` of `now_ms`.
pub fn verify_seed(secret: &str, header: &str, body: &[u8], now_ms: i64, tolerance_ms: i64) -> Result<(), VerifyError> {
    let mut t: Option<&str> = None;
    let mut sigs = Vec::new();
    for part in header.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let t_str = t.ok_or(VerifyError::Malformed)?;
    let t_ms: i64 = t_str.parse().map_err(|_| VerifyError::Malformed)?;
    if sigs.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now_ms - t_ms).abs() > tolerance_ms {
        return Err(VerifyError::Expired);
    }
    let expected = hex::encode(hmac(secret.as_bytes(), &[t_str.as_bytes(), b".", body]));
    if sigs.iter().any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// Verifies Standard Webhooks headers against `body`, within `tolerance_s` of `now_s`.
pub fn verify_standard(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    header: &str,
    body: &[u8],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let t: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Malformed)?;
    let sigs: Vec<&str> = header.split_whitespace().filter_map(|s| s.strip_prefix("v1,")).collect();
    if sigs.is_empty() || msg_id.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now_s - t).abs() > tolerance_s {
        return Err(VerifyError::Expired);
    }
    let expected = STANDARD
        .encode(hmac(&standard_key(secret), &[msg_id.as_bytes(), b".", timestamp.trim().as_bytes(), b".", body]));
    if sigs.iter().any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","event":"wallet.created","data":{"walletId":"w_1"},"timestamp":"2026-11-29T10:00:00.000Z","webhookId":"wh_1"}"#;
    const T_MS: i64 = 1_732_876_800_123;

    #[test]
    fn standard_webhooks_known_answer() {
        // The reference vector published with the Standard Webhooks libraries.
        let sig = standard_signature(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn seed_format_known_answers() {
        assert_eq!(
            seed_signature(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], T_MS, BODY),
            "t=1732876800123,v1=7249cda4a21ad71d9c8b4babf7eb3667aac4abb4a9cad721b477c329a444b4bf"
        );
        assert_eq!(
            seed_signature(&["a-custom-secret-of-24-characters"], T_MS, BODY),
            "t=1732876800123,v1=7cca8ef75fc84876c86776bbf5edfc0f65127adaa5ccf3a3e105f60c080d6a50"
        );
    }

    #[test]
    fn custom_secrets_sign_standard_headers_with_their_bytes() {
        assert_eq!(
            standard_signature(&["a-custom-secret-of-24-characters"], "evt_1", T_MS / 1000, BODY),
            "v1,FPAQVuDFP8dW/6JNrFDuOToaayukuMr2kXMfAQjbhDg="
        );
    }

    #[test]
    fn every_active_secret_signs_during_a_rotation() {
        let both = seed_signature(&["new-secret-000000000000000", "old-secret-000000000000000"], T_MS, BODY);
        assert_eq!(both.matches(",v1=").count(), 2);
        assert!(verify_seed("old-secret-000000000000000", &both, BODY, T_MS, 300_000).is_ok());
        assert!(verify_seed("new-secret-000000000000000", &both, BODY, T_MS, 300_000).is_ok());
        let std = standard_signature(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAAA"], "evt_1", 10, BODY);
        assert_eq!(std.split(' ').count(), 2);
    }

    #[test]
    fn verification_tells_malformed_expired_and_mismatch_apart() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let header = seed_signature(&[secret], T_MS, BODY);
        assert_eq!(verify_seed(secret, &header, BODY, T_MS + 1000, 300_000), Ok(()));
        assert_eq!(verify_seed(secret, &header, BODY, T_MS + 301_000, 300_000), Err(VerifyError::Expired));
        assert_eq!(verify_seed(secret, &header, b"{}", T_MS, 300_000), Err(VerifyError::Mismatch));
        assert_eq!(verify_seed("another-secret-entirely!!", &header, BODY, T_MS, 300_000), Err(VerifyError::Mismatch));
        assert_eq!(verify_seed(secret, "garbage", BODY, T_MS, 300_000), Err(VerifyError::Malformed));
        assert_eq!(verify_seed(secret, "t=abc,v1=00", BODY, T_MS, 300_000), Err(VerifyError::Malformed));

        let t = T_MS / 1000;
        let std = standard_signature(&[secret], "evt_1", t, BODY);
        assert_eq!(verify_standard(secret, "evt_1", &t.to_string(), &std, BODY, t, 300), Ok(()));
        assert_eq!(verify_standard(secret, "evt_2", &t.to_string(), &std, BODY, t, 300), Err(VerifyError::Mismatch));
        assert_eq!(
            verify_standard(secret, "evt_1", &t.to_string(), &std, BODY, t + 301, 300),
            Err(VerifyError::Expired)
        );
        assert_eq!(verify_standard(secret, "evt_1", "soon", &std, BODY, t, 300), Err(VerifyError::Malformed));
        assert_eq!(
            verify_standard(secret, "evt_1", &t.to_string(), "v2,xyz", BODY, t, 300),
            Err(VerifyError::Malformed)
        );
    }
}
