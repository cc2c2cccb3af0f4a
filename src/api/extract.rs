//! Request extractors whose rejections are our JSON errors: a JSON body (any content type, with the
//! path of a bad field) and a query string.

use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(inner) if inner.body_text().contains("length limit") => {
                AppError::too_large("the request body is larger than this server accepts")
            }
            other => AppError::bad_request("invalid_body", other.body_text()),
        })?;
        parse_json(&bytes).map(Body)
    }
}

/// Parses JSON: syntax errors are 400, shape errors 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request("invalid_json", "the request body is empty; send a JSON object"));
    }
    // serde reads a struct from an array too (fields by position): a body is an object, always.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::validation(".", "the request body must be a JSON object, not an array"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            // An unknown field's path ends with it.
            if message.starts_with("unknown field `") {
                let field = path;
                // Dropping it would let a client believe a setting is in force that is not.
                let known = message.split_once(", expected ").map(|(_, rest)| rest).unwrap_or("");
                let message = match known {
                    "" => format!("unknown field `{field}`: this request takes no such field"),
                    known => format!("unknown field `{field}`: expected {known}"),
                };
                let mut error = AppError::validation(field, message);
                error.code = "unknown_field";
                return error;
            }
            // A missing field is reported at its parent; name the field itself.
            let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
            let field = match (missing, path.as_str()) {
                (Some(name), ".") => name.to_string(),
                (Some(name), _) => format!("{path}.{name}"),
                (None, _) => path,
            };
            AppError::validation(field, message)
        } else {
            AppError::bad_request("invalid_json", format!("the request body is not valid JSON: {inner}"))
        }
    })
}

/// A query string.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Params(v))
            .map_err(|e| AppError::bad_request("invalid_query", e.body_text()))
    }
}
