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
                        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
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
                        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, '', '(unknown key)', NULL, $3, NULL, $4)"
                    ))
                    .bind(crypto::new_id("aud_"))
                    .bind(now_ms())
                    .bind(action)
                    .bind(client_ip)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
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
