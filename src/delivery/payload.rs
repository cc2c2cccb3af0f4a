//! The bytes a receiver gets (pure): the compact JSON envelope around an event's data.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// ISO 8601 in UTC with milliseconds, as JavaScript's `toISOString()` writes it.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `{"id","event","data","timestamp","webhookId"}`, compact, with `data_json` inserted as stored.
pub fn body(event_id: &str, event: &str, data_json: &str, timestamp: DateTime<Utc>, webhook_id: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut out = String::with_capacity(data_json.len() + 160);
    out.push_str("{\"id\":");
    out.push_str(&quote(event_id));
    out.push_str(",\"event\":");
    out.push_str(&quote(event));
    out.push_str(",\"data\":");
    out.push_str(data_json);
    out.push_str(",\"timestamp\":");
    out.push_str(&quote(&iso(timestamp)));
    out.push_str(",\"webhookId\":");
    out.push_str(&quote(webhook_id));
    out.push('}');
    out
}

/// The largest integer JavaScript holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i128 = 9_007_199_254_740_991;

/// A number in an event's data that JavaScript cannot hold exactly, at `path` (`data.items[2].id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeNumber {
    pub path: String,
    pub message: String,
}

/// Writes `value` as compact JSON exactly as JavaScript's `JSON.stringify(JSON.parse(text))` would,
/// so a receiver that re-serialises the parsed body (as the seed's verification snippet does) gets
/// the very bytes that were signed: numbers as JavaScript prints them (`1.0` → `1`, `1e21` →
/// `1e+21`, `0.000001` kept), object keys that look like array indices first in ascending order
/// (JavaScript's property order), strings escaped as JavaScript escapes them. Numbers beyond
/// ±(2^53 − 1) are refused: JavaScript would silently round them, and for amounts and identifiers a
/// refusal beats a wrong number (send them as strings). Other numbers are IEEE doubles, as in
/// JavaScript.
pub fn js_canonical(value: &Value, path: &str) -> Result<String, UnsafeNumber> {
    let mut out = String::new();
    write_js(value, path, &mut out)?;
    Ok(out)
}

fn write_js(value: &Value, path: &str, out: &mut String) -> Result<(), UnsafeNumber> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(&serde_json::to_string(s).expect("strings serialise")),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)) {
                if i.abs() > MAX_SAFE_INTEGER {
                    return Err(UnsafeNumber {
                        path: path.to_string(),
                        message: format!(
                            "{i} is beyond the integers JavaScript holds exactly (±{MAX_SAFE_INTEGER}); \
                             receivers would get another number. Send it as a string"
                        ),
                    });
                }
                out.push_str(&i.to_string());
            } else {
                // Every double beyond 2^53 is whole, and an integer too long for 64 bits arrives here
                // as a double already rounded: refused alike.
                let f = n.as_f64().unwrap_or(0.0);
                if f.abs() > MAX_SAFE_INTEGER as f64 {
                    return Err(UnsafeNumber {
                        path: path.to_string(),
                        message: format!(
                            "{n} is beyond the numbers JavaScript holds exactly (±{MAX_SAFE_INTEGER}); \
                             receivers would get another number. Send it as a string"
                        ),
                    });
                }
                out.push_str(&js_number(f));
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js(item, &format!("{path}[{i}]"), out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut indices: Vec<(u32, &String, &Value)> =
                map.iter().filter_map(|(k, v)| array_index(k).map(|i| (i, k, v))).collect();
            indices.sort_by_key(|(i, _, _)| *i);
            let named = map.iter().filter(|(k, _)| array_index(k).is_none());
            out.push('{');
            for (n, (key, item)) in indices.into_iter().map(|(_, k, v)| (k, v)).chain(named).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("strings serialise"));
                out.push(':');
                write_js(item, &format!("{path}.{key}"), out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// JavaScript orders an object's array-index keys (`"0"` … `"4294967294"`, no leading zeros) first.
fn array_index(key: &str) -> Option<u32> {
    let canonical = !key.is_empty() && (key == "0" || !key.starts_with('0')) && key.bytes().all(|b| b.is_ascii_digit());
    key.parse::<u32>().ok().filter(|i| canonical && *i < u32::MAX)
}

/// ECMAScript's `Number::toString` for a finite double: the shortest digits that round-trip, in
/// plain notation from 1e-6 up to 1e21, in exponent notation (`1e+21`, `1.5e-7`) outside.
pub fn js_number(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return "0".to_string();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    // Rust's `{:e}` writes the shortest round-trip digits, e.g. `1.2345e-7`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("exponent notation");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().expect("an exponent") + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 { format!("+{e}") } else { e.to_string() };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_compact_and_keeps_the_data_as_stored() {
        let t = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").unwrap().to_utc();
        let b = body("evt_1", "wallet.created", r#"{"z":1,"a":"é\""}"#, t, "wh_1");
        assert_eq!(
            b,
            r#"{"id":"evt_1","event":"wallet.created","data":{"z":1,"a":"é\""},"timestamp":"2026-11-29T10:00:00.000Z","webhookId":"wh_1"}"#
        );
        let parsed: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(parsed["data"]["a"], "é\"");
    }

    fn canonical(text: &str) -> Result<String, UnsafeNumber> {
        js_canonical(&serde_json::from_str(text).unwrap(), "data")
    }

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        assert_eq!(
            canonical(r#"{"amount":1000.0,"rate":1.5,"list":[2.0,-3.0]}"#).unwrap(),
            r#"{"amount":1000,"rate":1.5,"list":[2,-3]}"#
        );
        for (f, js) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (0.1, "0.1"),
            (-2.5e300, "-2.5e+300"),
            (123.456, "123.456"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-0.0, "0"),
        ] {
            assert_eq!(js_number(f), js, "{f:e}");
        }
    }

    #[test]
    fn integer_like_keys_come_first_in_ascending_order_as_in_javascript() {
        assert_eq!(
            canonical(r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"-1":6}"#).unwrap(),
            r#"{"2":4,"10":2,"b":1,"a":3,"01":5,"-1":6}"#
        );
    }

    #[test]
    fn integers_javascript_would_round_are_refused_with_their_path() {
        assert!(canonical(r#"{"n":9007199254740991,"m":-9007199254740991}"#).is_ok());
        let err = canonical(r#"{"items":[{"id":1},{"id":9007199254740993}]}"#).unwrap_err();
        assert_eq!(err.path, "data.items[1].id");
        assert!(err.message.contains("as a string"), "{}", err.message);
        assert!(canonical(r#"{"n":-9007199254740992}"#).is_err());
        assert!(canonical(r#"{"n":18446744073709551615}"#).is_err());
        assert_eq!(canonical(r#"{"n":123456789012345678901234}"#).unwrap_err().path, "data.n");
        assert!(canonical(r#"{"n":1e21}"#).is_err());
        assert!(canonical(r#"{"n":1.5e-300}"#).is_ok());
    }
}
