//! The pool's counters behind [`MpiPoolExecutor::stats`](crate::MpiPoolExecutor::stats):
//! written by the submitting threads (`submitted`) and the pool thread (everything else).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use spindle_futures::{PoolStats, WorkerStats};

use crate::sink::Tally;
use crate::WorkerInfo;

/// Counts of items (calls of the function; a `map` chunk holds several).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    submitted: AtomicU64,
    running: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    /// Per worker rank, in rank order: items run and busy nanoseconds.
    workers: Vec<(AtomicU64, AtomicU64)>,
}

impl Counters {
    pub(crate) fn new(workers: usize) -> Self {
        Counters {
            workers: (0..workers).map(|_| Default::default()).collect(),
            ..Counters::default()
        }
    }

    pub(crate) fn submitted(&self, items: usize) {
        self.submitted.fetch_add(items as u64, Relaxed);
    }

    pub(crate) fn sent(&self, items: usize) {
        self.running.fetch_add(items as u64, Relaxed);
    }

    pub(crate) fn cancelled(&self, items: usize) {
        self.cancelled.fetch_add(items as u64, Relaxed);
    }

    /// A task that never reached a worker settled (`tally` counts its items).
    pub(crate) fn settled(&self, tally: Tally) {
        self.completed.fetch_add(tally.completed, Relaxed);
        self.failed.fetch_add(tally.failed, Relaxed);
    }

    /// A sent task settled without a usable reply (it could not be sent, or its worker's
    /// reply was unreadable): no worker is credited with it.
    pub(crate) fn recalled(&self, items: usize, tally: Tally) {
        self.settled(tally);
        self.running.fetch_sub(items as u64, Relaxed);
    }

    /// A task worker `index` ran settled.
    pub(crate) fn replied(&self, index: usize, items: usize, busy: Duration, tally: Tally) {
        self.recalled(items, tally);
        if let Some((tasks, busy_ns)) = self.workers.get(index) {
            tasks.fetch_add(items as u64, Relaxed);
            busy_ns.fetch_add(u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX), Relaxed);
        }
    }

    pub(crate) fn snapshot(&self, workers: &[WorkerInfo]) -> PoolStats {
        PoolStats {
            submitted: self.submitted.load(Relaxed),
            running: self.running.load(Relaxed),
            completed: self.completed.load(Relaxed),
            failed: self.failed.load(Relaxed),
            cancelled: self.cancelled.load(Relaxed),
            worker_restarts: 0,
            workers: workers
                .iter()
                .zip(&self.workers)
                .map(|(w, (tasks, busy))| WorkerStats {
                    id: w.rank as u64,
                    tasks_completed: tasks.load(Relaxed),
                    busy: Duration::from_nanos(busy.load(Relaxed)),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_adds_up() {
        let c = Counters::new(2);
        c.submitted(5);
        c.sent(3);
        c.cancelled(1);
        c.replied(
            1,
            3,
            Duration::from_micros(7),
            Tally {
                completed: 2,
                failed: 1,
            },
        );
        c.settled(Tally {
            completed: 0,
            failed: 1,
        });
        let workers = [
            WorkerInfo {
                rank: 1,
                host: "a".into(),
            },
            WorkerInfo {
                rank: 2,
                host: "b".into(),
            },
        ];
        let s = c.snapshot(&workers);
        assert_eq!(
            (s.submitted, s.running, s.completed, s.failed, s.cancelled),
            (5, 0, 2, 2, 1)
        );
        assert_eq!(s.finished(), 5);
        assert_eq!(s.workers[1].id, 2);
        assert_eq!(s.workers[1].tasks_completed, 3);
        assert_eq!(s.workers[1].busy, Duration::from_micros(7));
        assert_eq!(s.workers[0].tasks_completed, 0);
    }
}
