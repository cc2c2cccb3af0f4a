//! Events: publishing (the event and its fan-out of deliveries in one transaction), idempotency, reads.

use super::{into_page, page_limit, to_time, SqliteStore};
use super::{StoreError, StoreResult};
use crate::domain::{Event, Page};
use crate::store::model::{EventFilter, NewEvent, Published};
use sqlx::{QueryBuilder, Sqlite};

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    tenant: Option<String>,
    event: String,
    data: String,
    timestamp: i64,
    idempotency_key: Option<String>,
    deliveries: i64,
}

impl EventRow {
    fn into_event(self) -> Event {
        Event {
            id: self.id,
            tenant: self.tenant,
            event: self.event,
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
            timestamp: to_time(self.timestamp),
            idempotency_key: self.idempotency_key,
            deliveries: self.deliveries,
        }
    }
}

/// The columns as a reader with `scope` (`$1`: a tenant, or NULL for admins) may see them: a tenant
/// sees another publisher's idempotency key never, and of a broadcast only its own deliveries.
const SCOPED_COLUMNS: &str = "id, tenant, event, data, timestamp,
    CASE WHEN $1 IS NULL OR idempotency_scope = 'tenant:' || $1 THEN idempotency_key END AS idempotency_key,
    CASE WHEN $1 IS NOT NULL AND tenant IS NULL
         THEN (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = events.id AND d.tenant = $1)
         ELSE deliveries END AS deliveries";

impl SqliteStore {
    /// Stores an event and one pending delivery per matching active webhook, in one transaction
    /// (shared with other publishes arriving at the same moment), and answers after the commit.
    pub async fn publish(&self, new: &NewEvent) -> StoreResult<Published> {
        let category = self.event_type_category(&new.event).await?.unwrap_or_default();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.publisher
            .send(super::publisher::Job { new: new.clone(), category, reply })
            .await
            .map_err(|_| StoreError::Database("the publisher has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Database("the publisher has stopped".into()))?
    }

    /// One event, if `scope` may see it (tenants see their own events and broadcasts).
    pub async fn get_event(&self, id: &str, scope: Option<&str>) -> StoreResult<Event> {
        let row: Option<EventRow> = sqlx::query_as(&format!(
            "SELECT {SCOPED_COLUMNS} FROM events WHERE id = $2 AND ($1 IS NULL OR tenant = $1 OR tenant IS NULL)"
        ))
        .bind(scope)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(EventRow::into_event).ok_or(StoreError::NotFound("event"))
    }

    /// A page of events, newest first.
    pub async fn list_events(&self, filter: &EventFilter) -> StoreResult<Page<Event>> {
        let limit = page_limit(filter.limit);
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("WITH v(scope) AS (SELECT ");
        q.push_bind(filter.scope.clone()).push(") SELECT ");
        q.push(SCOPED_COLUMNS.replace("$1", "v.scope")).push(" FROM events, v WHERE 1 = 1");
        if let Some(scope) = &filter.scope {
            q.push(" AND (events.tenant = ").push_bind(scope.clone()).push(" OR events.tenant IS NULL)");
        }
        if let Some(tenant) = &filter.tenant {
            q.push(" AND tenant = ").push_bind(tenant.clone());
        }
        if let Some(event) = &filter.event {
            q.push(" AND event = ").push_bind(event.clone());
        }
        if let Some(since) = filter.since {
            q.push(" AND timestamp >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND timestamp < ").push_bind(until);
        }
        if let Some(cursor) = &filter.cursor {
            q.push(" AND id < ").push_bind(cursor.clone());
        }
        q.push(" ORDER BY events.id DESC LIMIT ").push_bind(limit + 1);
        let rows: Vec<EventRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let events = rows.into_iter().map(EventRow::into_event).collect();
        Ok(into_page(events, limit, |e: &Event| e.id.clone()))
    }
}
