//! What went wrong in the store, in the store's own terms. The store builds no HTTP answers: the
//! service and API layers decide what each case means to a caller (`impl From<StoreError> for
//! AppError` in `error.rs`).

use crate::crypto::SealError;

/// Why a store operation did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such object, or none the given scope may see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An event type of this name exists already.
    #[error("the event type '{0}' already exists")]
    EventTypeExists(String),
    /// Revoking this key would leave no admin key.
    #[error("the last admin key cannot be revoked")]
    LastAdminKey,
    /// The delivery is being sent right now, or changed while it was being claimed.
    #[error("{0}")]
    InFlight(&'static str),
    /// The Idempotency-Key was used before with a different request.
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyConflict,
    /// The tenant has as many webhooks as it may have.
    #[error("tenant {tenant} has {max} webhooks, the most a tenant may have (WEBHOOK_MAX_WEBHOOKS_PER_TENANT); delete one first")]
    TooManyWebhooks { tenant: String, max: u64 },
    /// A stored secret that does not open with the configured key.
    #[error(transparent)]
    Sealing(#[from] SealError),
    /// The database failed, or the store is shutting down.
    #[error("database: {0}")]
    Database(String),
}

/// Result alias of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(err.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Database(format!("json: {err}"))
    }
}
