//! API keys: created with a random secret shown once, stored as a hash, revoked by id.

use super::{now_ms, to_time, SqliteStore};
use super::{StoreError, StoreResult};
use crate::crypto;
use crate::domain::{ApiKey, Principal, Role};

/// How long an authenticated key is remembered (another node's revocation takes this long to apply).
pub const AUTH_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// Prefix of every API key, so a leaked one is recognisable.
pub const KEY_PREFIX: &str = "mwk_";

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    pub id: String,
    pub tenant: Option<String>,
    pub role: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl KeyRow {
    pub fn into_key(self) -> ApiKey {
        ApiKey {
            id: self.id,
            tenant: self.tenant,
            role: Role::parse(&self.role).unwrap_or(Role::Tenant),
            name: self.name,
            prefix: self.prefix,
            created_at: to_time(self.created_at),
            last_used_at: self.last_used_at.map(to_time),
        }
    }

    pub fn principal(&self) -> Principal {
        Principal {
            key_id: self.id.clone(),
            key_name: self.name.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Tenant),
            tenant: self.tenant.clone(),
        }
    }
}

const KEY_COLUMNS: &str = "id, tenant, role, name, prefix, created_at, last_used_at";

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
        self.auth_cache.lock().expect("auth cache").clear();
        Ok(())
    }

    /// The principal a key secret stands for, if it is a live key. Answers are remembered for
    /// [`AUTH_CACHE_TTL`]; revoking a key forgets them at once.
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Principal>> {
        let hash = crypto::token_hash(secret);
        if let Some((principal, at)) = self.auth_cache.lock().expect("auth cache").get(&hash) {
            if at.elapsed() < AUTH_CACHE_TTL {
                return Ok(Some(principal.clone()));
            }
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
        let mut cache = self.auth_cache.lock().expect("auth cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(hash, (principal.clone(), std::time::Instant::now()));
        Ok(Some(principal))
    }
}
