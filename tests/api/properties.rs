//! Property tests of the pure rules: the signer against the official Standard Webhooks crate, the
//! retry policy's invariants, the SSRF address classifier, and the publish normalisation against
//! the seed's JavaScript verifier (every accepted payload must verify after `JSON.parse` and
//! `JSON.stringify`).

use monay_webhooks::delivery::payload::{js_canonical, MAX_SAFE_INTEGER};
use monay_webhooks::delivery::retry::{Decision, RetryPolicy};
use monay_webhooks::delivery::signer;
use monay_webhooks::delivery::ssrf::IpPolicy;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(RunnerConfig { cases, failure_persistence: None, ..RunnerConfig::default() })
}

#[test]
fn every_signature_verifies_with_the_standard_webhooks_crate_and_with_our_own_verifiers() {
    let secret = (proptest::collection::vec(any::<u8>(), 24..=64), any::<bool>());
    runner(200)
        .run(
            &(secret, ".{0,200}", "[a-z0-9_]{1,40}", 1_600_000_000i64..2_000_000_000),
            |((key, whsec), text, id, t)| {
                use base64::Engine;
                let body = text.into_bytes();
                let secret = if whsec {
                    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&key))
                } else {
                    key.iter().map(|b| char::from(b'!' + b % 90)).collect()
                };
                let header = signer::standard_signature(&[&secret], &id, t, &body);
                if whsec {
                    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
                    prop_assert_eq!(wh.sign(&id, t, &body).unwrap(), header.clone());
                }
                prop_assert!(signer::verify_standard(&secret, &id, &t.to_string(), &header, &body, t, 300).is_ok());
                let seed = signer::seed_signature(&[&secret], t * 1000, &body);
                prop_assert!(signer::verify_seed(&secret, &seed, &body, t * 1000, 300_000).is_ok());
                let mut tampered = body.clone();
                tampered.push(b'x');
                prop_assert!(signer::verify_seed(&secret, &seed, &tampered, t * 1000, 300_000).is_err());
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn retries_double_within_the_jitter_and_stop_after_the_last() {
    runner(500)
        .run(
            &(0u32..8, 1u64..100_000, 1usize..12, 0.0f64..1.0, prop::option::of(100u16..600)),
            |(max, base, attempt, unit, status)| {
                let policy = RetryPolicy::exponential(max, Duration::from_millis(base));
                let status = status.filter(|s| !(200..300).contains(s) && *s != 410 && *s != 429 && *s != 503);
                match policy.decide(attempt, status, None, unit) {
                    Decision::RetryIn(delay) => {
                        prop_assert!(attempt <= max as usize, "attempt {attempt} of {max} retried");
                        let nominal = base as f64 * 2f64.powi(attempt as i32 - 1);
                        let ms = delay.as_secs_f64() * 1000.0;
                        prop_assert!(
                            ms >= nominal * 0.8 - 1e-6 && ms <= nominal * 1.2 + 1e-6,
                            "{ms} ms for nominal {nominal}"
                        );
                    }
                    Decision::GiveUp => prop_assert!(attempt > max as usize),
                    other => prop_assert!(false, "{other:?} for status {status:?}"),
                }
                prop_assert_eq!(policy.decide(attempt, Some(200), None, unit), Decision::Delivered);
                prop_assert_eq!(policy.decide(attempt, Some(410), None, unit), Decision::Gone);
                Ok(())
            },
        )
        .unwrap();
}

/// Our own reading of the ranges a webhook must never reach.
fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || ip == Ipv4Addr::new(168, 63, 129, 16)
        || a >= 224
}

#[test]
fn the_ssrf_guard_refuses_every_ipv6_form_of_an_ipv4_address() {
    let policy = IpPolicy::default();
    let opened = IpPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    runner(2000)
        .run(&any::<u32>(), |n| {
            let v4 = Ipv4Addr::from(n);
            let expected = !private_v4(v4);
            prop_assert_eq!(policy.permits(IpAddr::V4(v4)), expected, "{}", v4);
            // The IPv4-mapped form is never reached as such (a webhook names an IPv4 address or a
            // host with an A record); an allowed range opens it as the address it carries.
            prop_assert!(!policy.permits(IpAddr::V6(v4.to_ipv6_mapped())), "{}", v4.to_ipv6_mapped());
            let loopback = v4.octets()[0] == 127;
            prop_assert_eq!(opened.permits(IpAddr::V6(v4.to_ipv6_mapped())), loopback, "{}", v4.to_ipv6_mapped());
            // The deprecated IPv4-compatible form (::a.b.c.d) is never reachable.
            let compatible = Ipv6Addr::from(n as u128);
            prop_assert!(!policy.permits(IpAddr::V6(compatible)), "{}", compatible);
            Ok(())
        })
        .unwrap();
}

/// JSON values as a publisher might send them: every kind of number, keys that look like array
/// indices, strings with escapes and non-ASCII.
fn json_value() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        (-1e-5f64..1e-5).prop_map(|f| serde_json::json!(f)),
        (1e15f64..1e22).prop_map(|f| serde_json::json!(f)),
        (0u32..5, -20i32..25).prop_map(|(m, e)| serde_json::json!(m as f64 * 10f64.powi(e))),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        "(\\PC|[\\x00-\\x1f\"\\\\\u{2028}])*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("([0-9]{1,3}|0[0-9]|[a-z]{1,4}|-1|4294967295)", inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

#[test]
fn every_accepted_payload_verifies_with_the_seeds_javascript_verifier() {
    use proptest::strategy::ValueTree;
    let mut cases = Vec::new();
    let mut refused = 0;
    let strategy = proptest::collection::vec(("[a-z]{1,3}|[0-9]{1,2}", json_value()), 0..5);
    let mut runner = runner(1);
    for _ in 0..600 {
        let data = Value::Object(strategy.new_tree(&mut runner).unwrap().current().into_iter().collect());
        match js_canonical(&data, "data") {
            Ok(text) => cases.push(text),
            Err(e) => {
                refused += 1;
                assert!(e.message.contains("as a string"), "{}", e.message);
            }
        }
    }
    assert!(cases.len() > 300, "most generated payloads are accepted ({} of {})", cases.len(), cases.len() + refused);
    // One node process checks them all: what the seed's snippet signs (JSON.stringify of the parsed
    // body) must be the very bytes sent.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.jsonl");
    std::fs::write(&file, cases.join("\n")).unwrap();
    let script = "const lines = require('fs').readFileSync(process.argv[1], 'utf8').split('\\n');\
        let bad = 0; for (const l of lines) { if (JSON.stringify(JSON.parse(l)) !== l) { bad++; if (bad < 5) console.log(l); } }\
        console.log('mismatches=' + bad + ' of ' + lines.length);";
    let out = std::process::Command::new("node").arg("-e").arg(script).arg(&file).output().expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("mismatches=0 of {}", cases.len())),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
