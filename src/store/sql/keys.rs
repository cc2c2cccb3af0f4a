//! API keys (created with a random secret shown once, stored as a hash, revoked by id) and console
//! sessions (a random token in an HttpOnly cookie, stored hashed, bound to a key).

macro_rules! key_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use std::time::Duration;
            use $crate::crypto;
            use $crate::domain::{ApiKey, Principal, Role};
            use $crate::store::rows::{KeyRow, KEY_COLUMNS};
            use $crate::store::{now_ms, to_time, KeyControls, KeyPatch, StoreError, StoreResult, KEY_PREFIX};

            impl $store {
                /// Creates a key; returns it with its secret, which is not stored and cannot be shown again.
                pub async fn create_key(
                    &self,
                    tenant: Option<&str>,
                    role: Role,
                    name: &str,
                    controls: KeyControls,
                ) -> StoreResult<(ApiKey, String)> {
                    let secret = crypto::new_token(KEY_PREFIX);
                    let mut key = self.insert_key(&secret, tenant, role, name, true).await?;
                    if controls != KeyControls::default() {
                        key = self.update_key(&key.id, KeyPatch { name: None, controls: Some(controls) }).await?;
                    }
                    Ok((key, secret))
                }

                /// Renames a key or changes its controls; its principal is forgotten on every node,
                /// so the change holds from the next request.
                pub async fn update_key(&self, id: &str, patch: KeyPatch) -> StoreResult<ApiKey> {
                    let mut tx = self.writer.begin().await?;
                    let row: Option<KeyRow> = sqlx::query_as(&format!(
                        "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL{}",
                        Self::FOR_UPDATE
                    ))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let mut row = row.ok_or(StoreError::NotFound("API key"))?;
                    if let Some(name) = patch.name {
                        row.name = name;
                    }
                    if let Some(controls) = patch.controls {
                        row.rate_limit = controls.rate_limit.map(i64::from);
                        row.allowed_ips = match controls.allowed_ips.is_empty() {
                            true => None,
                            false => Some(serde_json::to_string(&controls.allowed_ips)?),
                        };
                    }
                    sqlx::query("UPDATE api_keys SET name = $1, rate_limit = $2, allowed_ips = $3 WHERE id = $4")
                        .bind(&row.name)
                        .bind(row.rate_limit)
                        .bind(&row.allowed_ips)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    self.revoked_in(&mut tx, id).await?;
                    tx.commit().await?;
                    self.auth_cache.clear();
                    Ok(row.into_key())
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
                    let inserted = sqlx::query(
                        "INSERT INTO api_keys (id, key_hash, prefix, tenant, role, name, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_hash) DO NOTHING",
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
                    if inserted.rows_affected() == 0 {
                        return Err(StoreError::Database("this key is registered already".into()));
                    }
                    Ok(ApiKey {
                        id,
                        tenant: tenant.map(str::to_string),
                        role,
                        name: name.to_string(),
                        prefix,
                        created_at: to_time(now),
                        last_used_at: None,
                        rate_limit: None,
                        allowed_ips: Vec::new(),
                    })
                }

                /// Registers `secret` as an admin key unless it is registered already (the bootstrap
                /// token). Two nodes registering it at once: the second finds the first's.
                pub async fn ensure_admin_key(&self, secret: &str, name: &str) -> StoreResult<ApiKey> {
                    for _ in 0..2 {
                        let existing: Option<KeyRow> = sqlx::query_as(&format!(
                            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
                        ))
                        .bind(crypto::token_hash(secret))
                        .fetch_optional(&self.writer)
                        .await?;
                        if let Some(row) = existing {
                            return Ok(row.into_key());
                        }
                        // A token the operator chose shows no part of itself anywhere: no prefix.
                        if let Ok(key) = self.insert_key(secret, None, Role::Admin, name, false).await {
                            return Ok(key);
                        }
                    }
                    Err(StoreError::Database("WEBHOOK_ADMIN_TOKEN is a revoked key: choose another".into()))
                }

                /// Notes that `key_id` was used from `ip` now (the last use from each address is kept).
                pub async fn note_key_use(&self, key_id: &str, ip: &str) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO key_addresses (key_id, ip, last_used_at) VALUES ($1, $2, $3)
                         ON CONFLICT (key_id, ip) DO UPDATE SET last_used_at = excluded.last_used_at",
                    )
                    .bind(key_id)
                    .bind(ip)
                    .bind(now_ms())
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                /// The addresses each key was used from since `since_ms`: `(key id, address)`.
                pub async fn key_addresses(&self, since_ms: i64) -> StoreResult<Vec<(String, String)>> {
                    Ok(sqlx::query_as("SELECT key_id, ip FROM key_addresses WHERE last_used_at >= $1")
                        .bind(since_ms)
                        .fetch_all(&self.pool)
                        .await?)
                }

                /// How many live admin keys there are.
                pub async fn count_admin_keys(&self) -> StoreResult<i64> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
                        .fetch_one(&self.pool)
                        .await?)
                }

                /// The live keys, newest first.
                pub async fn list_keys(&self) -> StoreResult<Vec<ApiKey>> {
                    let rows: Vec<KeyRow> = sqlx::query_as(&format!(
                        "SELECT {KEY_COLUMNS} FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(KeyRow::into_key).collect())
                }

                /// Revokes a key and ends its console sessions, on every node. The last admin key
                /// cannot be revoked (the admin keys are locked while counted, so two revocations at
                /// once cannot both pass).
                pub async fn revoke_key(&self, id: &str) -> StoreResult<()> {
                    let mut tx = self.writer.begin().await?;
                    let role: Option<String> = sqlx::query_scalar(&format!(
                        "SELECT role FROM api_keys WHERE id = $1 AND revoked_at IS NULL{}",
                        Self::FOR_UPDATE
                    ))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let role = role.ok_or(StoreError::NotFound("API key"))?;
                    if role == "admin" {
                        let admins: Vec<String> = sqlx::query_scalar(&format!(
                            "SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL{}",
                            Self::FOR_UPDATE
                        ))
                        .fetch_all(&mut *tx)
                        .await?;
                        if admins.len() <= 1 {
                            return Err(StoreError::LastAdminKey);
                        }
                    }
                    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                        .bind(now_ms())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM sessions WHERE key_id = $1").bind(id).execute(&mut *tx).await?;
                    self.revoked_in(&mut tx, id).await?;
                    tx.commit().await?;
                    self.auth_cache.clear();
                    Ok(())
                }

                /// The principal a key secret stands for, if it is a live key. Answers are remembered
                /// a few seconds (`store::cache`); a revocation on any node forgets them at once.
                pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Principal>> {
                    let hash = crypto::token_hash(secret);
                    if let Some(principal) = self.auth_cache.get(&hash) {
                        return Ok(Some(principal));
                    }
                    let row: Option<KeyRow> = sqlx::query_as(&format!(
                        "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
                    ))
                    .bind(&hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    // Record use at most once a minute per key: no write on every request.
                    let now = now_ms();
                    if row.last_used_at.is_none_or(|t| now - t > 60_000) {
                        let writer = self.writer.clone();
                        let id = row.id.clone();
                        tokio::spawn(async move {
                            let _ = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                                .bind(now)
                                .bind(id)
                                .execute(&writer)
                                .await;
                        });
                    }
                    let principal = row.principal();
                    self.auth_cache.put(hash, principal.clone());
                    Ok(Some(principal))
                }

                /// Opens a session for a key; returns the token to put in the cookie.
                pub async fn create_session(&self, key_id: &str, ttl: Duration) -> StoreResult<String> {
                    let token = crypto::new_token("mws_");
                    let now = now_ms();
                    sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.writer).await?;
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                    )
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
                        "SELECT k.id, k.tenant, k.role, k.name, k.prefix, k.created_at, k.last_used_at,
                             k.rate_limit, k.allowed_ips
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
        };
    };
}

pub(crate) use key_queries;
