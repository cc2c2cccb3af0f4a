//! Events: publishing (the event and its fan-out of deliveries in one transaction), idempotency, reads.

use super::{into_page, is_unique_violation, now_ms, page_limit, to_time, Store};
use crate::crypto;
use crate::domain::event_type::any_matches;
use crate::domain::{Event, Page};
use crate::error::{AppError, AppResult};
use sqlx::{QueryBuilder, Sqlite};

/// An event to publish (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `None`: a broadcast to every tenant's matching webhooks.
    pub tenant: Option<String>,
    pub event: String,
    /// The compact JSON text of the event's `data` object.
    pub data: String,
    /// `(scope, key, request fingerprint)` when an `Idempotency-Key` came with the request.
    pub idempotency: Option<(String, String, String)>,
}

/// The outcome of a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    pub deliveries: i64,
    /// The same idempotency key and body were seen before: this is the first answer again.
    pub replayed: bool,
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Tenant keys see their own events and broadcasts; `None` for admins.
    pub scope: Option<String>,
    pub tenant: Option<String>,
    pub event: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

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

const COLUMNS: &str = "id, tenant, event, data, timestamp, idempotency_key, deliveries";

impl Store {
    /// Stores an event and one pending delivery per matching active webhook, in one transaction.
    pub async fn publish(&self, new: &NewEvent) -> AppResult<Published> {
        if let Some((scope, key, fingerprint)) = &new.idempotency {
            if let Some(seen) = self.idempotent_replay(scope, key, fingerprint).await? {
                return Ok(seen);
            }
        }
        match self.publish_once(new).await {
            Err(e) if is_unique_violation(&e) => {
                // A concurrent request with the same idempotency key won the race: answer as it did.
                let (scope, key, fingerprint) = new.idempotency.as_ref().ok_or_else(|| AppError::internal(&e))?;
                self.idempotent_replay(scope, key, fingerprint)
                    .await?
                    .ok_or_else(|| AppError::internal("idempotent event vanished"))
            }
            Err(e) => Err(e.into()),
            Ok(published) => Ok(published),
        }
    }

    async fn idempotent_replay(&self, scope: &str, key: &str, fingerprint: &str) -> AppResult<Option<Published>> {
        let seen: Option<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, request_hash, deliveries FROM events WHERE idempotency_scope = $1 AND idempotency_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        match seen {
            None => Ok(None),
            Some((id, hash, deliveries)) if hash.as_deref() == Some(fingerprint) => {
                Ok(Some(Published { id, deliveries, replayed: true }))
            }
            Some(_) => Err(AppError::conflict(
                "idempotency_conflict",
                "this Idempotency-Key was already used with a different request body",
            )),
        }
    }

    async fn publish_once(&self, new: &NewEvent) -> Result<Published, sqlx::Error> {
        let id = crypto::new_id("evt_");
        let now = now_ms();
        let (scope, key, fingerprint) = match &new.idempotency {
            Some((s, k, f)) => (Some(s.as_str()), Some(k.as_str()), Some(f.as_str())),
            None => (None, None, None),
        };
        let mut tx = self.writer.begin().await?;
        // Write first, so the transaction holds SQLite's write lock from its first statement.
        sqlx::query(
            "INSERT INTO events (id, tenant, event, data, timestamp, idempotency_scope, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&new.tenant)
        .bind(&new.event)
        .bind(&new.data)
        .bind(now)
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .execute(&mut *tx)
        .await?;
        let hooks: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, tenant, events FROM webhooks WHERE active = 1 AND ($1 IS NULL OR tenant = $1)")
                .bind(&new.tenant)
                .fetch_all(&mut *tx)
                .await?;
        let targets: Vec<(String, String)> = hooks
            .into_iter()
            .filter(|(_, _, events)| {
                let patterns: Vec<String> = serde_json::from_str(events).unwrap_or_default();
                any_matches(&patterns, &new.event)
            })
            .map(|(id, tenant, _)| (id, tenant))
            .collect();
        for chunk in targets.chunks(500) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO deliveries (id, event_id, webhook_id, tenant, event, status, attempts, next_attempt_at, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut row, (webhook_id, tenant)| {
                row.push_bind(crypto::new_id("dlv_"))
                    .push_bind(&id)
                    .push_bind(webhook_id)
                    .push_bind(tenant)
                    .push_bind(&new.event)
                    .push("'pending'")
                    .push("0")
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        let deliveries = targets.len() as i64;
        sqlx::query("UPDATE events SET deliveries = $1 WHERE id = $2")
            .bind(deliveries)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Published { id, deliveries, replayed: false })
    }

    /// One event, if `scope` may see it (tenants see their own events and broadcasts).
    pub async fn get_event(&self, id: &str, scope: Option<&str>) -> AppResult<Event> {
        let row: Option<EventRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE id = $1 AND ($2 IS NULL OR tenant = $2 OR tenant IS NULL)"
        ))
        .bind(id)
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?;
        row.map(EventRow::into_event).ok_or_else(|| AppError::not_found("event"))
    }

    /// A page of events, newest first.
    pub async fn list_events(&self, filter: &EventFilter) -> AppResult<Page<Event>> {
        let limit = page_limit(filter.limit);
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM events WHERE 1 = 1"));
        if let Some(scope) = &filter.scope {
            q.push(" AND (tenant = ").push_bind(scope.clone()).push(" OR tenant IS NULL)");
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
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows: Vec<EventRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let events = rows.into_iter().map(EventRow::into_event).collect();
        Ok(into_page(events, limit, |e: &Event| e.id.clone()))
    }
}
