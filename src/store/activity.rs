//! What the store's write paths spend: transactions, rows and time per kind of work, and how long
//! publishes wait for their group commit. Exposed on `/metrics`, and read by the benchmark to show
//! where a publish's time goes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The kinds of write the hot path makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Storing published events and their deliveries (acknowledged, so synced to disk).
    Publish,
    /// Claiming due deliveries from the queue.
    Claim,
    /// Storing attempt outcomes.
    Record,
    /// Renewing and taking over leases.
    Leases,
}

impl Work {
    pub const ALL: [Work; 4] = [Work::Publish, Work::Claim, Work::Record, Work::Leases];

    pub fn as_str(self) -> &'static str {
        match self {
            Work::Publish => "publish",
            Work::Claim => "claim",
            Work::Record => "record",
            Work::Leases => "leases",
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    transactions: AtomicU64,
    rows: AtomicU64,
    busy_us: AtomicU64,
}

/// The counters of one store (shared by its clones).
#[derive(Default, Debug)]
pub struct Activity {
    tallies: [Tally; 4],
    /// Publishes stored, and the time they waited for their commit to start, summed.
    waited: AtomicU64,
    wait_us: AtomicU64,
}

/// One kind of work's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkTotals {
    pub work: Work,
    pub transactions: u64,
    pub rows: u64,
    pub busy_us: u64,
}

impl Activity {
    /// A transaction of `work` that wrote `rows` rows, begun at `started`.
    pub fn done(&self, work: Work, rows: usize, started: Instant) {
        let t = &self.tallies[work as usize];
        t.transactions.fetch_add(1, Ordering::Relaxed);
        t.rows.fetch_add(rows as u64, Ordering::Relaxed);
        t.busy_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Publishes whose commit starts now, queued at `queued`.
    pub fn waited(&self, queued: impl Iterator<Item = Instant>) {
        let now = Instant::now();
        let (mut n, mut us) = (0, 0);
        for at in queued {
            n += 1;
            us += now.saturating_duration_since(at).as_micros() as u64;
        }
        self.waited.fetch_add(n, Ordering::Relaxed);
        self.wait_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Totals per kind of work.
    pub fn totals(&self) -> Vec<WorkTotals> {
        Work::ALL
            .iter()
            .zip(&self.tallies)
            .map(|(work, t)| WorkTotals {
                work: *work,
                transactions: t.transactions.load(Ordering::Relaxed),
                rows: t.rows.load(Ordering::Relaxed),
                busy_us: t.busy_us.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Publishes stored, and the microseconds they waited for their commit to start, summed.
    pub fn publish_wait(&self) -> (u64, u64) {
        (self.waited.load(Ordering::Relaxed), self.wait_us.load(Ordering::Relaxed))
    }
}
