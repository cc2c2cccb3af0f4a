//! Statistics over a time window, written once for every backend (their SQL is the same but for
//! one index hint) and stamped out for each by [`stats_queries!`]: whole five-minute buckets from
//! the rollup tables, the rest from the log. Identifiers sort by creation time, so a stretch of the
//! log is a primary-key range (`id >= id_floor(since)`) and reads only its own rows.

/// Implements `stats`, `stats_at`, `attempts_by_webhook`, `queue_depth`, `disabled_webhooks` and `tenants_with_webhooks`
/// for `$store` over its `$pool` of `$db`. `$by_status` prefixes the tenant and webhook columns
/// where waiting or failed deliveries are counted (SQLite's `+`, which keeps it on the small partial
/// indexes by status).
macro_rules! stats_queries {
    ($store:ident, $db:ty, $pool:ident, $by_status:literal) => {
        use $crate::crypto::id_floor;
        use $crate::domain::stats::Stats;
        use $crate::store::model::{AttemptSummary, StatsQuery};
        use $crate::store::tally::{first_whole_bucket, latency_class, Window};
        use $crate::store::{now_ms, StoreResult};
        use sqlx::QueryBuilder;
        use std::collections::BTreeMap;

        /// Adds the tenant and webhook conditions, each column prefixed with `unary`.
        fn scoped_as<'a>(q: &mut QueryBuilder<'a, $db>, s: &'a StatsQuery, unary: &str) {
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

        type TallyRow = (String, i64, i64, i64, i64, i64, i64);

        /// What the rows are added up by: the whole query (one window, key `''`), or each of these
        /// webhooks (a window per webhook id).
        #[derive(Clone, Copy)]
        enum By<'a> {
            All,
            Webhooks(&'a [String]),
        }

        impl<'a> By<'a> {
            /// The key column, first in every select.
            fn key(self) -> &'static str {
                match self {
                    By::All => "CAST('' AS TEXT), ",
                    By::Webhooks(_) => "webhook_id, ",
                }
            }

            /// The query's tenant and webhook conditions, then those naming the webhooks.
            fn narrow(self, q: &mut QueryBuilder<'a, $db>, s: &'a StatsQuery) {
                scoped_as(q, s, "");
                if let By::Webhooks(ids) = self {
                    q.push(" AND webhook_id IN");
                    $crate::store::filters::in_list(q, ids);
                }
            }

            /// The grouping it adds (after the others).
            fn group(self) -> &'static str {
                match self {
                    By::All => "",
                    By::Webhooks(_) => ", webhook_id",
                }
            }
        }

        impl $store {
            /// Statistics of the last `window_ms`.
            pub async fn stats(&self, s: &StatsQuery) -> StoreResult<Stats> {
                self.stats_at(s, now_ms()).await
            }

            /// Statistics of the `window_ms` before `until`. Whole five-minute buckets that are rolled up
            /// come from the rollup tables; the window's edges (and whatever is not rolled up yet) from the
            /// log, by primary-key range. Totals are exact; the p95 is exact to two significant digits.
            pub async fn stats_at(&self, s: &StatsQuery, until: i64) -> StoreResult<Stats> {
                let since = until - s.window_ms;
                let mut windows = BTreeMap::from([(String::new(), Window::new(since, until, s))]);
                self.read_window(s, By::All, since, until, &mut windows).await?;
                let w = windows.remove("").expect("the one window");

                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND updated_at >= ");
                q.push_bind(since);
                scoped_as(&mut q, s, $by_status);
                let failed: i64 = q.build_query_scalar().fetch_one(&self.$pool).await?;
                let mut waiting = BTreeMap::new();
                for (status, condition) in [
                    ("pending", "status = 'pending' AND next_attempt_at IS NOT NULL"),
                    ("delivering", "status = 'delivering'"),
                    ("held", "status = 'held'"),
                ] {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT COUNT(*) FROM deliveries WHERE {condition}"));
                    scoped_as(&mut q, s, $by_status);
                    waiting.insert(status, q.build_query_scalar::<i64>().fetch_one(&self.$pool).await?);
                }
                Ok(w.finish(failed, waiting))
            }

            /// The attempts of each of `ids` in the `window_ms` before `until` (`s.webhook_id` is not
            /// read), in one pass for all of them: what a list of webhooks shows per row. A webhook
            /// without attempts has an empty summary.
            pub async fn attempts_by_webhook(
                &self,
                s: &StatsQuery,
                ids: &[String],
                until: i64,
            ) -> StoreResult<BTreeMap<String, AttemptSummary>> {
                let since = until - s.window_ms;
                let mut windows: BTreeMap<String, Window> =
                    ids.iter().map(|id| (id.clone(), Window::new(since, until, s))).collect();
                if !ids.is_empty() {
                    let s = StatsQuery { webhook_id: None, ..s.clone() };
                    self.read_window(&s, By::Webhooks(ids), since, until, &mut windows).await?;
                }
                Ok(windows.into_iter().map(|(id, w)| (id, w.attempts())).collect())
            }

            /// Adds up `[since, until]` into `windows`: whole five-minute buckets that are rolled up
            /// from the rollup tables, the edges (and what is not rolled up yet) from the log.
            async fn read_window(
                &self,
                s: &StatsQuery,
                by: By<'_>,
                since: i64,
                until: i64,
                windows: &mut BTreeMap<String, Window>,
            ) -> StoreResult<()> {
                let rolled_until = self.rolled_until().await?.unwrap_or(i64::MIN);
                let rolled_from = first_whole_bucket(since);
                if rolled_until > rolled_from {
                    self.read_rollups(s, by, rolled_from, rolled_until, windows).await?;
                    self.read_log(s, by, since, rolled_from, windows).await?;
                    self.read_log(s, by, rolled_until, until + 1, windows).await?;
                } else {
                    self.read_log(s, by, since, until + 1, windows).await?;
                }
                Ok(())
            }

            /// Adds the rollup buckets in `[from, to)`.
            async fn read_rollups(
                &self,
                s: &StatsQuery,
                by: By<'_>,
                from: i64,
                to: i64,
                windows: &mut BTreeMap<String, Window>,
            ) -> StoreResult<()> {
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT {}bucket, CAST(SUM(attempts) AS BIGINT), CAST(SUM(succeeded) AS BIGINT), CAST(SUM(first) AS BIGINT),
                            CAST(SUM(second) AS BIGINT), CAST(SUM(duration_sum) AS BIGINT)
                     FROM stats_attempts WHERE bucket >= ",
                    by.key()
                ));
                q.push_bind(from).push(" AND bucket < ").push_bind(to);
                by.narrow(&mut q, s);
                q.push(" GROUP BY bucket").push(by.group());
                for (key, bucket, n, ok, first, second, sum) in q.build_query_as::<TallyRow>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        w.add(bucket, (n, ok, first, second, sum));
                    }
                }
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT {}bucket, class_ms, CAST(SUM(n) AS BIGINT) FROM stats_latency WHERE bucket >= ",
                    by.key()
                ));
                q.push_bind(from).push(" AND bucket < ").push_bind(to);
                by.narrow(&mut q, s);
                q.push(" GROUP BY bucket, class_ms").push(by.group());
                for (key, bucket, class, n) in q.build_query_as::<(String, i64, i64, i64)>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        w.add_latency(bucket, class, n);
                    }
                }
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT {}event, CAST(SUM(created) AS BIGINT) FROM stats_deliveries WHERE bucket >= ",
                    by.key()
                ));
                q.push_bind(from).push(" AND bucket < ").push_bind(to);
                by.narrow(&mut q, s);
                q.push(" GROUP BY event").push(by.group());
                for (key, event, n) in q.build_query_as::<(String, String, i64)>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        *w.events.entry(event).or_default() += n;
                    }
                }
                Ok(())
            }

            /// Adds the attempts and deliveries written in `[from, to)`, read from the log by id range.
            async fn read_log(
                &self,
                s: &StatsQuery,
                by: By<'_>,
                from: i64,
                to: i64,
                windows: &mut BTreeMap<String, Window>,
            ) -> StoreResult<()> {
                if from >= to {
                    return Ok(());
                }
                // Every window of one read has the same buckets.
                let Some((first, bucket_ms)) = windows.values().next().map(|w| (w.first, w.bucket_ms)) else {
                    return Ok(());
                };
                let (a_from, a_to) = (id_floor("att_", from), id_floor("att_", to));
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {}MIN(started_at), COUNT(*), COUNT(*) FILTER (WHERE response_status BETWEEN 200 AND 299), COUNT(*) FILTER (WHERE attempt = 1), COUNT(*) FILTER (WHERE attempt = 2), CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) FROM attempts WHERE id >= ", by.key()));
                q.push_bind(&a_from).push(" AND id < ").push_bind(&a_to);
                by.narrow(&mut q, s);
                q.push(" GROUP BY (started_at - ").push_bind(first).push(") / ").push_bind(bucket_ms).push(by.group());
                for (key, t, n, ok, first, second, sum) in q.build_query_as::<TallyRow>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        w.add(t, (n, ok, first, second, sum));
                    }
                }
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {}MIN(started_at), duration_ms, COUNT(*) FROM attempts WHERE id >= ", by.key()));
                q.push_bind(&a_from).push(" AND id < ").push_bind(&a_to);
                by.narrow(&mut q, s);
                q.push(" GROUP BY (started_at - ").push_bind(first).push(") / ").push_bind(bucket_ms).push(", duration_ms").push(by.group());
                for (key, t, ms, n) in q.build_query_as::<(String, i64, i64, i64)>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        w.add_latency(t, latency_class(ms), n);
                    }
                }
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {}event, COUNT(*) FROM deliveries WHERE id >= ", by.key()));
                q.push_bind(id_floor("dlv_", from)).push(" AND id < ").push_bind(id_floor("dlv_", to));
                by.narrow(&mut q, s);
                q.push(" GROUP BY event").push(by.group());
                for (key, event, n) in q.build_query_as::<(String, String, i64)>().fetch_all(&self.$pool).await? {
                    if let Some(w) = windows.get_mut(&key) {
                        *w.events.entry(event).or_default() += n;
                    }
                }
                Ok(())
            }
        }

        impl $store {
            /// Deliveries waiting now, by status (`pending`, `held`, `delivering`), across tenants.
            pub async fn queue_depth(&self) -> StoreResult<Vec<(&'static str, i64)>> {
                let pending: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
                )
                .fetch_one(&self.$pool)
                .await?;
                let held: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'held'").fetch_one(&self.$pool).await?;
                let delivering: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'delivering'")
                    .fetch_one(&self.$pool)
                    .await?;
                Ok(vec![("pending", pending), ("held", held), ("delivering", delivering)])
            }

            /// Held deliveries per webhook (of `scope`'s webhooks only, given a tenant).
            pub async fn held_by_webhook(&self, scope: Option<&str>) -> StoreResult<Vec<(String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT webhook_id, COUNT(*) FROM deliveries WHERE status = 'held' AND ($1 IS NULL OR tenant = $1)
                     GROUP BY webhook_id",
                )
                .bind(scope)
                .fetch_all(&self.$pool)
                .await?)
            }

            /// How many webhooks are switched off.
            pub async fn disabled_webhooks(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE active = FALSE").fetch_one(&self.$pool).await?)
            }
        }

        impl $store {
            /// Every tenant that has a webhook.
            pub async fn tenants_with_webhooks(&self) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT DISTINCT tenant FROM webhooks").fetch_all(&self.$pool).await?)
            }
        }
    };
}

pub(crate) use stats_queries;
