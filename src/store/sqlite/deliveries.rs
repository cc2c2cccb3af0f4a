//! Deliveries and their attempts, as the log shows them.

use super::{into_page, page_limit, to_time, SqliteStore};
use super::{StoreError, StoreResult};
use crate::domain::{Attempt, AttemptTrigger, Delivery, DeliveryStatus, ErrorKind, Page};
use crate::store::model::{DeliveryFilter, LastAttempt};
use sqlx::{QueryBuilder, Sqlite};

#[derive(sqlx::FromRow)]
pub(super) struct DeliveryRow {
    id: String,
    event_id: String,
    webhook_id: String,
    tenant: String,
    event: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl DeliveryRow {
    pub fn into_delivery(self) -> Delivery {
        Delivery {
            id: self.id,
            event_id: self.event_id,
            webhook_id: self.webhook_id,
            tenant: self.tenant,
            event: self.event,
            status: DeliveryStatus::parse(&self.status).unwrap_or(DeliveryStatus::Pending),
            attempt_count: self.attempts,
            next_attempt_at: self.next_attempt_at.map(to_time),
            last_status_code: self.last_status_code,
            last_error: self.last_error,
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
        }
    }
}

pub(super) const DELIVERY_COLUMNS: &str = "id, event_id, webhook_id, tenant, event, status, attempts, \
    next_attempt_at, last_status_code, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    attempt: i64,
    trigger: String,
    started_at: i64,
    duration_ms: i64,
    request_headers: String,
    response_status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    error_kind: Option<String>,
    error: Option<String>,
}

impl AttemptRow {
    fn into_attempt(self) -> Attempt {
        let quoted = |s: &str| serde_json::Value::String(s.to_string());
        Attempt {
            id: self.id,
            delivery_id: self.delivery_id,
            attempt: self.attempt,
            trigger: serde_json::from_value(quoted(&self.trigger)).unwrap_or(AttemptTrigger::Scheduled),
            started_at: to_time(self.started_at),
            duration_ms: self.duration_ms,
            request_headers: serde_json::from_str(&self.request_headers).unwrap_or_default(),
            response_status: self.response_status,
            response_headers: self.response_headers.and_then(|h| serde_json::from_str(&h).ok()),
            response_body: self.response_body,
            error_kind: self.error_kind.and_then(|k| serde_json::from_value::<ErrorKind>(quoted(&k)).ok()),
            error: self.error,
        }
    }
}

impl SqliteStore {
    /// One delivery, if `scope` may see it.
    pub async fn get_delivery(&self, id: &str, scope: Option<&str>) -> StoreResult<Delivery> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1 AND ($2 IS NULL OR tenant = $2)"
        ))
        .bind(id)
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?;
        row.map(DeliveryRow::into_delivery).ok_or(StoreError::NotFound("delivery"))
    }

    /// The attempts of a delivery, oldest first.
    pub async fn list_attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT id, delivery_id, attempt, trigger, started_at, duration_ms, request_headers, response_status,
                    response_headers, response_body, error_kind, error
             FROM attempts WHERE delivery_id = $1 ORDER BY attempt, started_at",
        )
        .bind(delivery_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
    }

    /// A page of the delivery log, newest first.
    pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Page<Delivery>> {
        self.page_of_deliveries(filter, page_limit(filter.limit)).await
    }

    /// A page of `limit` deliveries (the export reads in larger pages than the API serves).
    pub async fn page_of_deliveries(&self, filter: &DeliveryFilter, limit: i64) -> StoreResult<Page<Delivery>> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE 1 = 1"));
        if let Some(scope) = &filter.scope {
            q.push(" AND tenant = ").push_bind(scope.clone());
        }
        if let Some(tenant) = &filter.tenant {
            q.push(" AND tenant = ").push_bind(tenant.clone());
        }
        if let Some(webhook_id) = &filter.webhook_id {
            q.push(" AND webhook_id = ").push_bind(webhook_id.clone());
        }
        if let Some(event) = &filter.event {
            q.push(" AND event = ").push_bind(event.clone());
        }
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(since) = filter.since {
            q.push(" AND created_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND created_at < ").push_bind(until);
        }
        if let Some(cursor) = &filter.cursor {
            q.push(" AND id < ").push_bind(cursor.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows: Vec<DeliveryRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let deliveries = rows.into_iter().map(DeliveryRow::into_delivery).collect();
        Ok(into_page(deliveries, limit, |d: &Delivery| d.id.clone()))
    }
}

impl SqliteStore {
    /// The last attempt of each of these deliveries (those with none are absent).
    pub async fn last_attempts(
        &self,
        delivery_ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, LastAttempt>> {
        let mut out = std::collections::HashMap::new();
        for chunk in delivery_ids.chunks(500) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT delivery_id, attempt, started_at, duration_ms, response_status, error_kind FROM attempts
                 WHERE delivery_id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            q.push(")");
            let rows: Vec<LastAttempt> = q.build_query_as().fetch_all(&self.pool).await?;
            for row in rows {
                let keep = out
                    .get(&row.delivery_id)
                    .is_none_or(|seen: &LastAttempt| (row.attempt, row.started_at) > (seen.attempt, seen.started_at));
                if keep {
                    out.insert(row.delivery_id.clone(), row);
                }
            }
        }
        Ok(out)
    }
}
