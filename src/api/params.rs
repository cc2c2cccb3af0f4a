//! Query parameters shared by the lists: page size and time bounds.

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
