//! Console sessions: a random token in an HttpOnly cookie, stored hashed, bound to an API key.

use super::StoreResult;
use super::{now_ms, SqliteStore};
use crate::crypto;
use crate::domain::Principal;
use crate::store::rows::KeyRow;
use std::time::Duration;

impl SqliteStore {
    /// Opens a session for a key; returns the token to put in the cookie.
    pub async fn create_session(&self, key_id: &str, ttl: Duration) -> StoreResult<String> {
        let token = crypto::new_token("mws_");
        let now = now_ms();
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.writer).await?;
        sqlx::query("INSERT INTO sessions (token_hash, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(crypto::token_hash(&token))
            .bind(key_id)
            .bind(now)
            .bind(now + ttl.as_millis() as i64)
            .execute(&self.writer)
            .await?;
        Ok(token)
    }

    /// The principal of a live session, if the token names one.
    pub async fn session_principal(&self, token: &str) -> StoreResult<Option<Principal>> {
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT k.id, k.tenant, k.role, k.name, k.prefix, k.created_at, k.last_used_at
             FROM sessions s JOIN api_keys k ON k.id = s.key_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL",
        )
        .bind(crypto::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.principal()))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(crypto::token_hash(token))
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
