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

/// Rewrites numbers the way JavaScript would print them, so a receiver that re-serialises the parsed
/// body (as the seed's verification snippet does) gets the exact bytes that were signed: whole
/// floats (`1.0`) become integers (`1`).
pub fn js_compatible(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                    *n = serde_json::Number::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(js_compatible),
        Value::Object(map) => map.values_mut().for_each(js_compatible),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn whole_floats_become_integers() {
        let mut v = json!({"amount": 1000.0, "rate": 1.5, "list": [2.0, -3.0]});
        js_compatible(&mut v);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"amount":1000,"rate":1.5,"list":[2,-3]}"#);
    }
}
