//! The one error type of the server: every failure becomes a JSON answer
//! `{"error": {"code", "message", "field"?}}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A failure that can be answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait, sent as `Retry-After` (with 429).
    pub retry_after: Option<u64>,
}

/// Result alias for handlers and service functions.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None }
    }

    /// 400: the request could not be read (malformed JSON, bad query string).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: the request was read but a field breaks a rule.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", message) }
    }

    /// 401: no key, or one that is unknown or revoked.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the key is valid but its role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: no such object, or one of another tenant (never 403, so existence does not leak).
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 409: the request conflicts with what is stored.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: the payload is over the limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 429: too many requests; try again after `seconds`.
    pub fn too_many(message: impl Into<String>, seconds: u64) -> Self {
        Self { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message) }
    }

    /// 500: logged in full, answered without detail.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {err}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error")
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {}", field, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for AppError {}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(format!("database: {err}"))
    }
}

/// What each store outcome means to a caller of the API or the console.
impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError as E;
        match err {
            E::NotFound(what) => Self::not_found(what),
            E::EventTypeExists(_) => Self::conflict("already_exists", err.to_string()).with_field("name"),
            E::LastAdminKey => Self::conflict("last_admin_key", err.to_string()),
            E::InFlight(message) => Self::conflict("in_flight", message),
            E::IdempotencyConflict => Self::conflict("idempotency_conflict", err.to_string()),
            E::TooManyWebhooks { .. } => {
                Self { code: "too_many_webhooks", ..Self::validation("tenant", err.to_string()) }
            }
            E::Sealing(_) | E::Database(_) => Self::internal(err),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(err: serde_json::Error) -> Self {
        Self::internal(format!("json: {err}"))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Body { error: Detail { code: self.code, message: &self.message, field: self.field.as_deref() } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
