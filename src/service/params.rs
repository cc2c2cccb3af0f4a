//! Parameters shared by the service's command types: page size and time bounds of the lists, and
//! the serde helpers of their number fields (`5` or `5.0`, `null` apart from absent).

use crate::error::AppError;
use chrono::DateTime;

/// Checks a page size: 1 to 200.
pub fn limit(limit: Option<u32>) -> Result<Option<u32>, AppError> {
    match limit {
        Some(n) if !(1..=200).contains(&n) => Err(AppError::validation("limit", "limit must be between 1 and 200")),
        other => Ok(other),
    }
}

/// Parses a time bound: RFC 3339 (`2026-11-29T10:00:00Z`) or unix milliseconds.
pub fn time(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    // Unix milliseconds: digits only (an optional minus), at most 15 of them.
    let digits = value.strip_prefix('-').unwrap_or(value);
    if (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value.parse::<i64>().ok());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| AppError::validation(field, format!("{field} must be an RFC 3339 time or unix milliseconds")))
}

/// Reads an optional whole number written `5` or `5.0` (one number to JSON and JSON Schema alike):
/// `#[serde(default, deserialize_with = "whole_number")]`.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let Some(n) = <Option<serde_json::Number> as serde::Deserialize>::deserialize(d)? else { return Ok(None) };
    as_whole(&n).map(Some).ok_or_else(|| D::Error::custom(format!("expected a whole number, not {n}")))
}

/// A whole number from a JSON number written `5` or `5.0`.
pub fn as_whole(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= 9.0e15).map(|f| f as i64))
}

/// Reads a field that may be absent (outer `None`), `null` (`Some(None)`) or a value:
/// `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// [`nullable`] for a whole number written `5` or `5.0`.
pub fn nullable_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    whole_number(d).map(Some)
}
