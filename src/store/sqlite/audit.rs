//! The audit log: who did what to which object, when, and from where.

use super::StoreResult;
use super::{into_page, now_ms, page_limit, to_time, SqliteStore};
use crate::crypto;
use crate::domain::{AuditEntry, Page, Principal};
use crate::store::model::AuditFilter;
use sqlx::{QueryBuilder, Sqlite};

/// An audit row as stored (`at` in unix milliseconds).
#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    actor_key_id: String,
    actor_name: String,
    tenant: Option<String>,
    action: String,
    target: Option<String>,
    client_ip: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: to_time(r.at),
            actor_key_id: r.actor_key_id,
            actor_name: r.actor_name,
            tenant: r.tenant,
            action: r.action,
            target: r.target,
            client_ip: r.client_ip,
        }
    }
}

impl SqliteStore {
    /// Records an action by `actor` on `target` (an identifier, never a secret).
    pub async fn audit(
        &self,
        actor: &Principal,
        client_ip: Option<&str>,
        action: &str,
        target: Option<&str>,
        tenant: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_key_id, actor_name, tenant, action, target, client_ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
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

    /// Records a refused sign-in or API key (`auth.failed`, `auth.throttled`): no actor, the address.
    pub async fn audit_refused(&self, client_ip: Option<&str>, action: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_key_id, actor_name, tenant, action, target, client_ip)
             VALUES ($1, $2, '', '(unknown key)', NULL, $3, NULL, $4)",
        )
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, at, actor_key_id, actor_name, tenant, action, target, client_ip FROM audit_log WHERE 1 = 1",
        );
        if let Some(action) = &f.action {
            q.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(tenant) = &f.tenant {
            q.push(" AND tenant = ").push_bind(tenant.clone());
        }
        if let Some(actor) = &f.actor_key_id {
            q.push(" AND actor_key_id = ").push_bind(actor.clone());
        }
        if let Some(since) = f.since {
            q.push(" AND at >= ").push_bind(since);
        }
        if let Some(until) = f.until {
            q.push(" AND at < ").push_bind(until);
        }
        if let Some(cursor) = &f.cursor {
            q.push(" AND id < ").push_bind(cursor.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let entries = rows.into_iter().map(AuditEntry::from).collect();
        Ok(into_page(entries, limit, |e: &AuditEntry| e.id.clone()))
    }
}
