//! The audit log: who did what to which object, when, and from where.

macro_rules! audit_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::crypto;
            use $crate::domain::{AuditEntry, Page, Principal};
            use $crate::store::rows::{AuditRow, AUDIT_COLUMNS};
            use $crate::store::{filters, into_page, now_ms, page_limit, AuditFilter, StoreResult};
            use sqlx::QueryBuilder;

            impl $store {
                /// Records an action by `actor` on `target` (an identifier, never a secret).
                pub async fn audit(
                    &self,
                    actor: &Principal,
                    client_ip: Option<&str>,
                    action: &str,
                    target: Option<&str>,
                    tenant: Option<&str>,
                ) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)"
                    ))
                    .bind(crypto::new_id("aud_"))
                    .bind(now_ms())
                    .bind(&actor.key_id)
                    .bind(&actor.key_name)
                    .bind(tenant.or(actor.tenant.as_deref()))
                    .bind(action)
                    .bind(target)
                    .bind(client_ip)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                /// Records a refused sign-in or API key (`auth.failed`, `auth.throttled`): no actor,
                /// the address.
                pub async fn audit_refused(&self, client_ip: Option<&str>, action: &str) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, '', '(unknown key)', NULL, $3, NULL, $4, 1)"
                    ))
                    .bind(crypto::new_id("aud_"))
                    .bind(now_ms())
                    .bind(action)
                    .bind(client_ip)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                /// Records a repeated action by `actor` from `client_ip` (a refusal): counted on the entry
                /// of the same action, key and address from the last minute, or a new entry.
                pub async fn audit_repeated(
                    &self,
                    actor: &Principal,
                    client_ip: Option<&str>,
                    action: &str,
                    tenant: Option<&str>,
                ) -> StoreResult<()> {
                    let now = now_ms();
                    let counted = sqlx::query(
                        "UPDATE audit_log SET count = count + 1 WHERE id = (
                             SELECT id FROM audit_log WHERE id >= $1 AND action = $2 AND actor_key_id = $3
                                 AND COALESCE(client_ip, '') = $4 AND at >= $5
                             ORDER BY id DESC LIMIT 1)",
                    )
                    .bind(crypto::id_floor("aud_", now - 60_000))
                    .bind(action)
                    .bind(&actor.key_id)
                    .bind(client_ip.unwrap_or(""))
                    .bind(now - 60_000)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                    if counted == 0 {
                        self.audit(actor, client_ip, action, Some(&actor.key_id), tenant).await?;
                    }
                    Ok(())
                }

                /// Deletes up to `limit` audit entries older than `cutoff_ms`; returns how many.
                pub async fn purge_audit(&self, cutoff_ms: i64, limit: i64) -> StoreResult<u64> {
                    let gone = sqlx::query(
                        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE id < $1 LIMIT $2)",
                    )
                    .bind(crypto::id_floor("aud_", cutoff_ms))
                    .bind(limit)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                    Ok(gone)
                }

                /// A page of the audit log, newest first.
                pub async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Page<AuditEntry>> {
                    let limit = page_limit(f.limit);
                    let mut q =
                        QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1"));
                    filters::audit(&mut q, f);
                    filters::page_end(&mut q, "id", f.cursor.as_ref(), limit);
                    let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
                    let entries = rows.into_iter().map(AuditEntry::from).collect();
                    Ok(into_page(entries, limit, |e: &AuditEntry| e.id.clone()))
                }
            }
        };
    };
}

pub(crate) use audit_queries;
