//! The conditions of each list's filters, written once for every backend: the SQL of a filter is
//! the same on SQLite and PostgreSQL, only the query builder's placeholders differ.

use super::model::{AuditFilter, DeliveryFilter, EventFilter, WebhookFilter};
use sqlx::{Database, Encode, QueryBuilder, Type};

/// `AND column = value`, when there is a value.
fn equals<'a, DB>(q: &mut QueryBuilder<'a, DB>, column: &str, value: Option<&String>)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    if let Some(value) = value {
        q.push(format!(" AND {column} = ")).push_bind(value.clone());
    }
}

/// `AND column >= since AND column < until`, for the bounds given.
fn between<'a, DB>(q: &mut QueryBuilder<'a, DB>, column: &str, since: Option<i64>, until: Option<i64>)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(since) = since {
        q.push(format!(" AND {column} >= ")).push_bind(since);
    }
    if let Some(until) = until {
        q.push(format!(" AND {column} < ")).push_bind(until);
    }
}

/// ` (v1, v2, …)`: the values of an `IN` list, bound (give at least one).
pub(crate) fn in_list<'a, DB, T>(q: &mut QueryBuilder<'a, DB>, values: impl IntoIterator<Item = T>)
where
    DB: Database,
    T: Encode<'a, DB> + Type<DB> + 'a,
{
    q.push(" (");
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    q.push(")");
}

/// The page's end: after the cursor, newest first, one row more than the page to know if more follow.
pub(crate) fn page_end<'a, DB>(q: &mut QueryBuilder<'a, DB>, id: &str, cursor: Option<&String>, limit: i64)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(cursor) = cursor {
        q.push(format!(" AND {id} < ")).push_bind(cursor.clone());
    }
    q.push(format!(" ORDER BY {id} DESC LIMIT ")).push_bind(limit + 1);
}

/// The delivery log's filters.
pub(crate) fn deliveries<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &DeliveryFilter)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    equals(q, "tenant", f.scope.as_ref());
    equals(q, "tenant", f.tenant.as_ref());
    equals(q, "webhook_id", f.webhook_id.as_ref());
    equals(q, "event_id", f.event_id.as_ref());
    equals(q, "event", f.event.as_ref());
    equals(q, "status", f.status.map(|s| s.as_str().to_string()).as_ref());
    between(q, "created_at", f.since, f.until);
}

/// The event list's filters (a tenant sees its own events and broadcasts).
pub(crate) fn events<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &EventFilter)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(scope) = &f.scope {
        q.push(" AND (events.tenant = ").push_bind(scope.clone()).push(" OR events.tenant IS NULL)");
    }
    equals(q, "tenant", f.tenant.as_ref());
    equals(q, "event", f.event.as_ref());
    between(q, "timestamp", f.since, f.until);
}

/// The audit log's filters.
pub(crate) fn audit<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &AuditFilter)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    equals(q, "action", f.action.as_ref());
    equals(q, "tenant", f.tenant.as_ref());
    equals(q, "actor_key_id", f.actor_key_id.as_ref());
    between(q, "at", f.since, f.until);
}

/// The webhook list's filters but the event one (its SQL differs between backends); `like` is the
/// backend's case-insensitive match (`LIKE` on SQLite, `ILIKE` on PostgreSQL).
pub(crate) fn webhooks<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &WebhookFilter, like: &str)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
{
    equals(q, "tenant", f.scope.as_ref());
    equals(q, "tenant", f.tenant.as_ref());
    if let Some(search) = f.search.as_deref().filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(search));
        q.push(format!(" AND (url {like} ")).push_bind(pattern.clone()).push(" ESCAPE '\\'");
        q.push(format!(" OR description {like} ")).push_bind(pattern).push(" ESCAPE '\\')");
    }
    if let Some(active) = f.active {
        q.push(" AND active = ").push_bind(active);
    }
    if f.paused {
        q.push(" AND paused = ").push_bind(true);
    }
    if f.failing {
        q.push(" AND active = ").push_bind(true).push(" AND consecutive_failures > 0");
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
