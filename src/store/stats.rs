//! Statistics over a time window, computed in the database. Identifiers sort by creation time, so a
//! window is a primary-key range (`id >= id_floor(since)`): the queries read the window's rows only,
//! however long the history.

use super::{now_ms, to_time, Store};
use crate::crypto::id_floor;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite};
use std::collections::BTreeMap;

/// What to compute statistics over.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// A tenant key's own tenant; `None` for admins.
    pub scope: Option<String>,
    pub tenant: Option<String>,
    pub webhook_id: Option<String>,
    pub window_ms: i64,
    pub bucket_ms: i64,
}

/// Statistics of one window.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub attempts: i64,
    /// Succeeded attempts / attempts (null without attempts).
    pub success_rate: Option<f64>,
    pub deliveries: i64,
    /// Deliveries that needed more than one attempt / deliveries attempted.
    pub retry_rate: Option<f64>,
    /// Deliveries that exhausted their retries / deliveries.
    pub failure_rate: Option<f64>,
    pub avg_response_ms: Option<f64>,
    pub p95_response_ms: Option<i64>,
    /// Deliveries waiting now (pending or held), whatever their age.
    pub queue_size: i64,
    pub by_status: BTreeMap<String, i64>,
    pub event_distribution: Vec<EventCount>,
    pub series: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EventCount {
    pub event: String,
    pub count: i64,
}

/// One bucket of the time series.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub attempts: i64,
    pub success_rate: Option<f64>,
    pub avg_response_ms: Option<f64>,
}

/// Adds the tenant and webhook conditions.
fn scoped<'a>(q: &mut QueryBuilder<'a, Sqlite>, s: &'a StatsQuery) {
    if let Some(scope) = &s.scope {
        q.push(" AND tenant = ").push_bind(scope);
    }
    if let Some(tenant) = &s.tenant {
        q.push(" AND tenant = ").push_bind(tenant);
    }
    if let Some(webhook_id) = &s.webhook_id {
        q.push(" AND webhook_id = ").push_bind(webhook_id);
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Store {
    /// Statistics of the last `window_ms`.
    pub async fn stats(&self, s: &StatsQuery) -> AppResult<Stats> {
        let until = now_ms();
        let since = until - s.window_ms;
        let attempts_from = id_floor("att_", since);
        let deliveries_from = id_floor("dlv_", since);

        let mut q = QueryBuilder::new(
            "SELECT COUNT(*), COALESCE(SUM(response_status BETWEEN 200 AND 299), 0), AVG(duration_ms)
             FROM attempts WHERE id >= ",
        );
        q.push_bind(&attempts_from);
        scoped(&mut q, s);
        let (attempts, succeeded, avg): (i64, i64, Option<f64>) = q.build_query_as().fetch_one(&self.pool).await?;

        let p95 = if attempts > 0 {
            let mut q = QueryBuilder::new("SELECT duration_ms FROM attempts WHERE id >= ");
            q.push_bind(&attempts_from);
            scoped(&mut q, s);
            q.push(" ORDER BY duration_ms LIMIT 1 OFFSET ").push_bind(((attempts - 1) as f64 * 0.95).floor() as i64);
            q.build_query_scalar::<i64>().fetch_optional(&self.pool).await?
        } else {
            None
        };

        let mut q = QueryBuilder::new(
            "SELECT status, COUNT(*), COALESCE(SUM(attempts > 1), 0), COALESCE(SUM(attempts > 0), 0)
             FROM deliveries WHERE id >= ",
        );
        q.push_bind(&deliveries_from);
        scoped(&mut q, s);
        q.push(" GROUP BY status");
        let rows: Vec<(String, i64, i64, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
        let by_status: BTreeMap<String, i64> = rows.iter().map(|(st, n, _, _)| (st.clone(), *n)).collect();
        let deliveries: i64 = rows.iter().map(|r| r.1).sum();
        let retried: i64 = rows.iter().map(|r| r.2).sum();
        let attempted: i64 = rows.iter().map(|r| r.3).sum();
        let failed = by_status.get("failed").copied().unwrap_or(0);

        let mut q = QueryBuilder::new(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
        );
        scoped(&mut q, s);
        q.push(") + (SELECT COUNT(*) FROM deliveries WHERE status = 'held'");
        scoped(&mut q, s);
        q.push(")");
        let queue_size: i64 = q.build_query_scalar().fetch_one(&self.pool).await?;

        let mut q = QueryBuilder::new("SELECT event, COUNT(*) FROM deliveries WHERE id >= ");
        q.push_bind(&deliveries_from);
        scoped(&mut q, s);
        q.push(" GROUP BY event ORDER BY 2 DESC, 1");
        let event_distribution = q
            .build_query_as::<(String, i64)>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(event, count)| EventCount { event, count })
            .collect();

        let mut q = QueryBuilder::new("SELECT (started_at - ");
        q.push_bind(since).push(") / ").push_bind(s.bucket_ms);
        q.push(", COUNT(*), COALESCE(SUM(response_status BETWEEN 200 AND 299), 0), AVG(duration_ms) FROM attempts WHERE id >= ");
        q.push_bind(&attempts_from);
        scoped(&mut q, s);
        q.push(" GROUP BY 1");
        let rows: Vec<(i64, i64, i64, Option<f64>)> = q.build_query_as().fetch_all(&self.pool).await?;
        let by_bucket: BTreeMap<i64, (i64, i64, Option<f64>)> =
            rows.into_iter().map(|(b, n, ok, avg)| (b, (n, ok, avg))).collect();
        let buckets = (s.window_ms + s.bucket_ms - 1) / s.bucket_ms;
        let series = (0..buckets)
            .map(|b| {
                let (n, ok, avg) = by_bucket.get(&b).copied().unwrap_or((0, 0, None));
                Bucket {
                    start: to_time(since + b * s.bucket_ms),
                    attempts: n,
                    success_rate: ratio(ok, n),
                    avg_response_ms: avg,
                }
            })
            .collect();

        Ok(Stats {
            since: to_time(since),
            until: to_time(until),
            attempts,
            success_rate: ratio(succeeded, attempts),
            deliveries,
            retry_rate: ratio(retried, attempted),
            failure_rate: ratio(failed, deliveries),
            avg_response_ms: avg,
            p95_response_ms: p95,
            queue_size,
            by_status,
            event_distribution,
            series,
        })
    }
}

impl Store {
    /// Deliveries waiting now, by status (`pending`, `held`, `delivering`), across tenants.
    pub async fn queue_depth(&self) -> AppResult<Vec<(&'static str, i64)>> {
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let held: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'held'").fetch_one(&self.pool).await?;
        let delivering: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'delivering'")
            .fetch_one(&self.pool)
            .await?;
        Ok(vec![("pending", pending), ("held", held), ("delivering", delivering)])
    }

    /// How many webhooks are switched off.
    pub async fn disabled_webhooks(&self) -> AppResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE active = 0").fetch_one(&self.pool).await?)
    }
}

impl Store {
    /// Every tenant that has a webhook.
    pub async fn tenants_with_webhooks(&self) -> AppResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT tenant FROM webhooks").fetch_all(&self.pool).await?)
    }
}
