//! API keys: created with a random secret shown once, stored as a hash, revoked by id.

use super::{now_ms, to_time, SqliteStore};
use super::{StoreError, StoreResult};
use crate::crypto;
use crate::domain::{ApiKey, Principal, Role};
use crate::store::rows::{KeyRow, KEY_COLUMNS};
use crate::store::KEY_PREFIX;

impl SqliteStore {
    /// Creates a key; returns it with its secret, which is not stored and cannot be shown again.
    pub async fn create_key(&self, tenant: Option<&str>, role: Role, name: &str) -> StoreResult<(ApiKey, String)> {
        let secret = crypto::new_token(KEY_PREFIX);
        let key = self.insert_key(&secret, tenant, role, name, true).await?;
        Ok((key, secret))
    }

    async fn insert_key(
        &self,
        secret: &str,
        tenant: Option<&str>,
        role: Role,
        name: &str,
        show_prefix: bool,
    ) -> StoreResult<ApiKey> {
        let id = crypto::new_id("key_");
        let prefix: String =
            if show_prefix { secret.chars().take(KEY_PREFIX.len() + 6).collect() } else { String::new() };
        let now = now_ms();
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, prefix, tenant, role, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(crypto::token_hash(secret))
        .bind(&prefix)
        .bind(tenant)
        .bind(role.as_str())
        .bind(name)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(ApiKey {
            id,
            tenant: tenant.map(str::to_string),
            role,
            name: name.to_string(),
            prefix,
            created_at: to_time(now),
            last_used_at: None,
        })
    }

    /// Registers `secret` as an admin key unless it is registered already (the bootstrap token).
    pub async fn ensure_admin_key(&self, secret: &str, name: &str) -> StoreResult<ApiKey> {
        let existing: Option<KeyRow> =
            sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"))
                .bind(crypto::token_hash(secret))
                .fetch_optional(&self.pool)
                .await?;
        match existing {
            Some(row) => Ok(row.into_key()),
            // A token the operator chose shows no part of itself anywhere: its prefix stays empty.
            None => self.insert_key(secret, None, Role::Admin, name, false).await,
        }
    }

    /// How many live admin keys there are.
    pub async fn count_admin_keys(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The live keys, newest first.
    pub async fn list_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let rows: Vec<KeyRow> =
            sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC"))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(KeyRow::into_key).collect())
    }

    /// Revokes a key and ends its console sessions. The last admin key cannot be revoked.
    pub async fn revoke_key(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let role: Option<String> = sqlx::query_scalar("SELECT role FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let role = role.ok_or(StoreError::NotFound("API key"))?;
        if role == "admin" {
            let admins: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
            if admins <= 1 {
                return Err(StoreError::LastAdminKey);
            }
        }
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE key_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.auth_cache.clear();
        Ok(())
    }

    /// The principal a key secret stands for, if it is a live key. Answers are remembered for
    /// [`crate::store::cache::AUTH_CACHE_TTL`]; revoking a key forgets them at once.
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Principal>> {
        let hash = crypto::token_hash(secret);
        if let Some(principal) = self.auth_cache.get(&hash) {
            return Ok(Some(principal));
        }
        let row: Option<KeyRow> =
            sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"))
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        // Record use at most once a minute per key: no write on every request.
        let now = now_ms();
        if row.last_used_at.is_none_or(|t| now - t > 60_000) {
            let pool = self.writer.clone();
            let id = row.id.clone();
            tokio::spawn(async move {
                let _ = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&pool)
                    .await;
            });
        }
        let principal = row.principal();
        self.auth_cache.put(hash, principal.clone());
        Ok(Some(principal))
    }
}
