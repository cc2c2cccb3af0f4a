//! Statistics over a time window: whole five-minute buckets from the rollup tables
//! ([`super::rollup`]), the rest from the log. Identifiers sort by creation time, so a stretch of the
//! log is a primary-key range (`id >= id_floor(since)`) and reads only its own rows.

use super::rollup::{latency_class, BUCKET_MS};
use super::StoreResult;
use super::{now_ms, to_time, SqliteStore};
use crate::crypto::id_floor;
pub use crate::domain::stats::{Bucket, EventCount, Stats};
use crate::store::model::StatsQuery;
use sqlx::{QueryBuilder, Sqlite};
use std::collections::BTreeMap;

/// Adds the tenant and webhook conditions.
fn scoped<'a>(q: &mut QueryBuilder<'a, Sqlite>, s: &'a StatsQuery) {
    scoped_as(q, s, "");
}

/// The same conditions written `+tenant = …`, which keeps SQLite off the tenant and webhook indexes:
/// for the few waiting or failed deliveries, the small partial indexes by status are the way in.
fn scoped_by_status<'a>(q: &mut QueryBuilder<'a, Sqlite>, s: &'a StatsQuery) {
    scoped_as(q, s, "+");
}

fn scoped_as<'a>(q: &mut QueryBuilder<'a, Sqlite>, s: &'a StatsQuery, unary: &str) {
    if let Some(scope) = &s.scope {
        q.push(format!(" AND {unary}tenant = ")).push_bind(scope);
    }
    if let Some(tenant) = &s.tenant {
        q.push(format!(" AND {unary}tenant = ")).push_bind(tenant);
    }
    if let Some(webhook_id) = &s.webhook_id {
        q.push(format!(" AND {unary}webhook_id = ")).push_bind(webhook_id);
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64).min(1.0))
}

/// Attempt counters, for the whole window or one bucket of the series.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    attempts: i64,
    succeeded: i64,
    first: i64,
    second: i64,
    duration_sum: i64,
}

impl Tally {
    fn add(&mut self, (attempts, succeeded, first, second, duration_sum): (i64, i64, i64, i64, i64)) {
        self.attempts += attempts;
        self.succeeded += succeeded;
        self.first += first;
        self.second += second;
        self.duration_sum += duration_sum;
    }

    fn avg(&self) -> Option<f64> {
        (self.attempts > 0).then(|| self.duration_sum as f64 / self.attempts as f64)
    }
}

/// What the window adds up to, before it becomes [`Stats`].
struct Window {
    /// Start of the series' first bucket (buckets are aligned to the clock).
    first: i64,
    bucket_ms: i64,
    total: Tally,
    series: Vec<Tally>,
    /// Attempts per duration class ([`latency_class`]).
    latency: BTreeMap<i64, i64>,
    events: BTreeMap<String, i64>,
}

impl Window {
    fn slot(&self, t: i64) -> usize {
        (t - self.first).div_euclid(self.bucket_ms).clamp(0, self.series.len() as i64 - 1) as usize
    }

    fn add(&mut self, t: i64, row: (i64, i64, i64, i64, i64)) {
        self.total.add(row);
        let slot = self.slot(t);
        self.series[slot].add(row);
    }

    /// The duration class at rank floor((n - 1) * 0.95).
    fn p95(&self) -> Option<i64> {
        let n: i64 = self.latency.values().sum();
        let rank = ((n - 1) as f64 * 0.95).floor() as i64;
        let mut seen = 0;
        self.latency.iter().find_map(|(class, count)| {
            seen += count;
            (seen > rank).then_some(*class)
        })
    }
}

type TallyRow = (i64, i64, i64, i64, i64, i64);

impl SqliteStore {
    /// Statistics of the last `window_ms`.
    pub async fn stats(&self, s: &StatsQuery) -> StoreResult<Stats> {
        self.stats_at(s, now_ms()).await
    }

    /// Statistics of the `window_ms` before `until`. Whole five-minute buckets that are rolled up
    /// come from the rollup tables; the window's edges (and whatever is not rolled up yet) from the
    /// log, by primary-key range. Totals are exact; the p95 is exact to two significant digits.
    pub async fn stats_at(&self, s: &StatsQuery, until: i64) -> StoreResult<Stats> {
        let since = until - s.window_ms;
        let buckets = ((s.window_ms + s.bucket_ms - 1) / s.bucket_ms).max(1);
        let last = until.div_euclid(s.bucket_ms) * s.bucket_ms;
        let mut w = Window {
            first: last - (buckets - 1) * s.bucket_ms,
            bucket_ms: s.bucket_ms,
            total: Tally::default(),
            series: vec![Tally::default(); buckets as usize],
            latency: BTreeMap::new(),
            events: BTreeMap::new(),
        };

        let rolled_until = self.rolled_until().await?.unwrap_or(i64::MIN);
        let rolled_from = since.div_euclid(BUCKET_MS) * BUCKET_MS + if since % BUCKET_MS == 0 { 0 } else { BUCKET_MS };
        if rolled_until > rolled_from {
            self.read_rollups(s, rolled_from, rolled_until, &mut w).await?;
            self.read_log(s, since, rolled_from, &mut w).await?;
            self.read_log(s, rolled_until, until + 1, &mut w).await?;
        } else {
            self.read_log(s, since, until + 1, &mut w).await?;
        }

        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND updated_at >= ");
        q.push_bind(since);
        scoped_by_status(&mut q, s);
        let failed: i64 = q.build_query_scalar().fetch_one(&self.pool).await?;
        let mut waiting = BTreeMap::new();
        for (status, condition) in [
            ("pending", "status = 'pending' AND next_attempt_at IS NOT NULL"),
            ("delivering", "status = 'delivering'"),
            ("held", "status = 'held'"),
        ] {
            let mut q = QueryBuilder::new(format!("SELECT COUNT(*) FROM deliveries WHERE {condition}"));
            scoped_by_status(&mut q, s);
            waiting.insert(status, q.build_query_scalar::<i64>().fetch_one(&self.pool).await?);
        }
        let queue_size = waiting["pending"] + waiting["held"];

        let deliveries: i64 = w.events.values().sum();
        let mut by_status: BTreeMap<String, i64> = waiting.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        by_status.insert("succeeded".into(), w.total.succeeded);
        by_status.insert("failed".into(), failed);
        let mut event_distribution: Vec<EventCount> =
            w.events.iter().map(|(event, count)| EventCount { event: event.clone(), count: *count }).collect();
        event_distribution.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.event.cmp(&b.event)));
        let series = w
            .series
            .iter()
            .enumerate()
            .map(|(i, t)| Bucket {
                start: to_time(w.first + i as i64 * s.bucket_ms),
                attempts: t.attempts,
                success_rate: ratio(t.succeeded, t.attempts),
                avg_response_ms: t.avg(),
            })
            .collect();
        Ok(Stats {
            since: to_time(since),
            until: to_time(until),
            attempts: w.total.attempts,
            success_rate: ratio(w.total.succeeded, w.total.attempts),
            deliveries,
            retry_rate: ratio(w.total.second, w.total.first),
            failure_rate: ratio(failed, deliveries),
            avg_response_ms: w.total.avg(),
            p95_response_ms: w.p95(),
            queue_size,
            by_status,
            event_distribution,
            series,
        })
    }

    /// Adds the rollup buckets in `[from, to)`.
    async fn read_rollups(&self, s: &StatsQuery, from: i64, to: i64, w: &mut Window) -> StoreResult<()> {
        let mut q = QueryBuilder::new(
            "SELECT bucket, SUM(attempts), SUM(succeeded), SUM(first), SUM(second), SUM(duration_sum)
             FROM stats_attempts WHERE bucket >= ",
        );
        q.push_bind(from).push(" AND bucket < ").push_bind(to);
        scoped(&mut q, s);
        q.push(" GROUP BY bucket");
        for (bucket, n, ok, first, second, sum) in q.build_query_as::<TallyRow>().fetch_all(&self.pool).await? {
            w.add(bucket, (n, ok, first, second, sum));
        }
        let mut q = QueryBuilder::new("SELECT class_ms, SUM(n) FROM stats_latency WHERE bucket >= ");
        q.push_bind(from).push(" AND bucket < ").push_bind(to);
        scoped(&mut q, s);
        q.push(" GROUP BY class_ms");
        for (class, n) in q.build_query_as::<(i64, i64)>().fetch_all(&self.pool).await? {
            *w.latency.entry(class).or_default() += n;
        }
        let mut q = QueryBuilder::new("SELECT event, SUM(created) FROM stats_deliveries WHERE bucket >= ");
        q.push_bind(from).push(" AND bucket < ").push_bind(to);
        scoped(&mut q, s);
        q.push(" GROUP BY event");
        for (event, n) in q.build_query_as::<(String, i64)>().fetch_all(&self.pool).await? {
            *w.events.entry(event).or_default() += n;
        }
        Ok(())
    }

    /// Adds the attempts and deliveries written in `[from, to)`, read from the log by id range.
    async fn read_log(&self, s: &StatsQuery, from: i64, to: i64, w: &mut Window) -> StoreResult<()> {
        if from >= to {
            return Ok(());
        }
        let (a_from, a_to) = (id_floor("att_", from), id_floor("att_", to));
        let mut q = QueryBuilder::new("SELECT MIN(started_at), COUNT(*), COALESCE(SUM(response_status BETWEEN 200 AND 299), 0), COALESCE(SUM(attempt = 1), 0), COALESCE(SUM(attempt = 2), 0), COALESCE(SUM(duration_ms), 0) FROM attempts WHERE id >= ");
        q.push_bind(&a_from).push(" AND id < ").push_bind(&a_to);
        scoped(&mut q, s);
        q.push(" GROUP BY (started_at - ").push_bind(w.first).push(") / ").push_bind(w.bucket_ms);
        for (t, n, ok, first, second, sum) in q.build_query_as::<TallyRow>().fetch_all(&self.pool).await? {
            w.add(t, (n, ok, first, second, sum));
        }
        let mut q = QueryBuilder::new("SELECT duration_ms, COUNT(*) FROM attempts WHERE id >= ");
        q.push_bind(&a_from).push(" AND id < ").push_bind(&a_to);
        scoped(&mut q, s);
        q.push(" GROUP BY duration_ms");
        for (ms, n) in q.build_query_as::<(i64, i64)>().fetch_all(&self.pool).await? {
            *w.latency.entry(latency_class(ms)).or_default() += n;
        }
        let mut q = QueryBuilder::new("SELECT event, COUNT(*) FROM deliveries WHERE id >= ");
        q.push_bind(id_floor("dlv_", from)).push(" AND id < ").push_bind(id_floor("dlv_", to));
        scoped(&mut q, s);
        q.push(" GROUP BY event");
        for (event, n) in q.build_query_as::<(String, i64)>().fetch_all(&self.pool).await? {
            *w.events.entry(event).or_default() += n;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Deliveries waiting now, by status (`pending`, `held`, `delivering`), across tenants.
    pub async fn queue_depth(&self) -> StoreResult<Vec<(&'static str, i64)>> {
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
    pub async fn disabled_webhooks(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE active = 0").fetch_one(&self.pool).await?)
    }
}

impl SqliteStore {
    /// Every tenant that has a webhook.
    pub async fn tenants_with_webhooks(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT tenant FROM webhooks").fetch_all(&self.pool).await?)
    }
}
