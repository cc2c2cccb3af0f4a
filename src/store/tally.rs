//! Statistics arithmetic shared by the backends: the five-minute rollup buckets, the duration
//! classes of the p95, and the window that adds up rollup rows and log rows into [`Stats`].

use super::model::{AttemptSummary, StatsQuery};
use super::to_time;
use crate::domain::stats::{Bucket, EventCount, Stats};
use std::collections::BTreeMap;

/// Width of a rollup bucket.
pub const BUCKET_MS: i64 = 5 * 60_000;
/// A bucket is rolled up this long after its end: rows are written (and their ids minted) within
/// a second or two of their time, so by then the bucket is final. Nodes whose clocks differ by
/// less than this lose no counts.
pub const SETTLE_MS: i64 = 60_000;
/// How far back a first rollup reaches: the longest statistics window (7 days) and a bucket.
pub const HORIZON_MS: i64 = 7 * 24 * 3_600_000 + BUCKET_MS;

/// The duration class of an attempt: `ms` rounded up to two significant digits (exact under
/// 100 ms), so a p95 read from classes is within 10 % of the true one.
pub fn latency_class(ms: i64) -> i64 {
    let ms = ms.max(0);
    let mut scale = 1;
    while ms / scale >= 100 {
        scale *= 10;
    }
    (ms + scale - 1) / scale * scale
}

/// The first whole rollup bucket at or after `t`.
pub fn first_whole_bucket(t: i64) -> i64 {
    t.div_euclid(BUCKET_MS) * BUCKET_MS + if t.rem_euclid(BUCKET_MS) == 0 { 0 } else { BUCKET_MS }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64).min(1.0))
}

/// Attempt counters (attempts, succeeded, first attempts, second attempts, duration sum), for the
/// whole window or one bucket of the series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
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
pub struct Window {
    since: i64,
    until: i64,
    /// Start of the series' first bucket (buckets are aligned to the clock).
    pub first: i64,
    pub bucket_ms: i64,
    total: Tally,
    series: Vec<Tally>,
    /// Attempts per duration class ([`latency_class`]): the window's, and each bucket's.
    latency: BTreeMap<i64, i64>,
    series_latency: Vec<BTreeMap<i64, i64>>,
    /// New deliveries per event type.
    pub events: BTreeMap<String, i64>,
}

impl Window {
    /// The empty window of `s.window_ms` before `until`.
    pub fn new(since: i64, until: i64, s: &StatsQuery) -> Self {
        let buckets = ((s.window_ms + s.bucket_ms - 1) / s.bucket_ms).max(1);
        let last = until.div_euclid(s.bucket_ms) * s.bucket_ms;
        Window {
            since,
            until,
            first: last - (buckets - 1) * s.bucket_ms,
            bucket_ms: s.bucket_ms,
            total: Tally::default(),
            series: vec![Tally::default(); buckets as usize],
            latency: BTreeMap::new(),
            series_latency: vec![BTreeMap::new(); buckets as usize],
            events: BTreeMap::new(),
        }
    }

    fn slot(&self, t: i64) -> usize {
        (t - self.first).div_euclid(self.bucket_ms).clamp(0, self.series.len() as i64 - 1) as usize
    }

    /// Adds attempt counters that happened at `t`.
    pub fn add(&mut self, t: i64, row: (i64, i64, i64, i64, i64)) {
        self.total.add(row);
        let slot = self.slot(t);
        self.series[slot].add(row);
    }

    /// Adds `n` attempts of duration class `class` made at `t`.
    pub fn add_latency(&mut self, t: i64, class: i64, n: i64) {
        *self.latency.entry(class).or_default() += n;
        let slot = self.slot(t);
        *self.series_latency[slot].entry(class).or_default() += n;
    }

    /// The series, bucket by bucket.
    fn buckets(&self) -> Vec<Bucket> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, t)| Bucket {
                start: to_time(self.first + i as i64 * self.bucket_ms),
                attempts: t.attempts,
                succeeded: t.succeeded,
                success_rate: ratio(t.succeeded, t.attempts),
                avg_response_ms: t.avg(),
                p50_response_ms: percentile(&self.series_latency[i], 0.5),
                p95_response_ms: percentile(&self.series_latency[i], 0.95),
            })
            .collect()
    }

    /// The attempts alone (what [`Stats`] holds of them, without the queue).
    pub fn attempts(self) -> AttemptSummary {
        AttemptSummary {
            attempts: self.total.attempts,
            success_rate: ratio(self.total.succeeded, self.total.attempts),
            p95_response_ms: percentile(&self.latency, 0.95),
            series: self.buckets(),
        }
    }

    /// The statistics, with the deliveries that gave up in the window (`failed`) and those waiting
    /// now by status (`pending`, `delivering`, `held`).
    pub fn finish(self, failed: i64, waiting: BTreeMap<&'static str, i64>) -> Stats {
        let queue_size = waiting.get("pending").copied().unwrap_or(0) + waiting.get("held").copied().unwrap_or(0);
        let deliveries: i64 = self.events.values().sum();
        let mut by_status: BTreeMap<String, i64> = waiting.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        by_status.insert("succeeded".into(), self.total.succeeded);
        by_status.insert("failed".into(), failed);
        let mut event_distribution: Vec<EventCount> =
            self.events.iter().map(|(event, count)| EventCount { event: event.clone(), count: *count }).collect();
        event_distribution.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.event.cmp(&b.event)));
        let series = self.buckets();
        Stats {
            since: to_time(self.since),
            until: to_time(self.until),
            attempts: self.total.attempts,
            success_rate: ratio(self.total.succeeded, self.total.attempts),
            deliveries,
            retry_rate: ratio(self.total.second, self.total.first),
            failure_rate: ratio(failed, deliveries),
            avg_response_ms: self.total.avg(),
            p95_response_ms: percentile(&self.latency, 0.95),
            queue_size,
            by_status,
            event_distribution,
            series,
        }
    }
}

/// The duration class at rank floor((n - 1) * q) of attempts counted by class.
fn percentile(classes: &BTreeMap<i64, i64>, q: f64) -> Option<i64> {
    let n: i64 = classes.values().sum();
    let rank = ((n - 1) as f64 * q).floor() as i64;
    let mut seen = 0;
    classes.iter().find_map(|(class, count)| {
        seen += count;
        (seen > rank).then_some(*class)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_from_the_classes_by_rank() {
        let classes = BTreeMap::from([(10, 50), (20, 45), (900, 5)]);
        assert_eq!(percentile(&classes, 0.5), Some(10), "rank 49 of 100");
        assert_eq!(percentile(&classes, 0.95), Some(20), "rank 94: the 95th of 100, the last 20 ms one");
        let slow = BTreeMap::from([(10, 50), (20, 44), (900, 6)]);
        assert_eq!(percentile(&slow, 0.95), Some(900), "six slow attempts in 100 reach the p95");
        assert_eq!(percentile(&BTreeMap::new(), 0.5), None, "no attempts, no figure");
    }

    #[test]
    fn latency_classes_keep_two_significant_digits() {
        assert_eq!(latency_class(0), 0);
        assert_eq!(latency_class(-3), 0);
        assert_eq!(latency_class(87), 87);
        assert_eq!(latency_class(99), 99);
        assert_eq!(latency_class(100), 100);
        assert_eq!(latency_class(101), 110);
        assert_eq!(latency_class(1234), 1300);
        assert_eq!(latency_class(999), 1000);
        assert_eq!(latency_class(30_000), 30_000);
    }

    #[test]
    fn whole_buckets_start_at_or_after_the_time() {
        assert_eq!(first_whole_bucket(0), 0);
        assert_eq!(first_whole_bucket(1), BUCKET_MS);
        assert_eq!(first_whole_bucket(BUCKET_MS), BUCKET_MS);
        assert_eq!(first_whole_bucket(-1), 0);
    }
}
