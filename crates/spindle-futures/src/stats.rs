//! [`PoolStats`]: a snapshot of what a pool has done (tasks submitted, running, finished,
//! per-worker counts and busy time), and the thread pool's counters behind it.
//!
//! The counters keep the task path cheap: a submit touches no counter at all (`submitted` is
//! derived: finished + running + still queued); everything a worker counts lives in that
//! worker's own [`WorkerCounters`], written only by its thread (a load and a store, no
//! read-modify-write) and read by whoever takes a snapshot. Busy time is measured per busy stretch (idle to busy and back), so a worker going
//! from task to task through a backlog reads the clock twice per stretch, not per task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// A snapshot of a pool's counters: tasks submitted, running and finished, and what each
/// worker did. mpire's `WorkerInsights` and the numbers a tqdm bar shows, for spindle's pools.
///
/// Taken by [`ThreadPoolExecutor::stats`](crate::ThreadPoolExecutor::stats) (and by the
/// process pools' `stats()` in `spindle-process`). The counters are read one by one while the
/// pool runs, so a snapshot of a busy pool is consistent only up to the tasks moving at that
/// moment; once the pool is idle (every future settled and nothing left on the queue, as
/// after `shutdown(wait = true)`) it is exact, and `submitted == completed + failed +
/// cancelled`.
///
/// A task counts as finished just before its future is settled, so a caller that saw the
/// result also sees it counted. A future cancelled by the user while queued counts as
/// `cancelled` once the pool takes it off the queue (a worker pops it, or shutdown drains it).
///
/// # Differences from Python
///
/// Python's `concurrent.futures` pools expose no counters; this follows mpire's
/// `enable_insights` (per-worker task counts and working time) without its extra overhead.
///
/// # Examples
///
/// ```
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
/// let ok: Vec<_> = (0..4u32).map(|i| pool.submit(move || i)).collect();
/// let bad = pool.submit(|| -> u32 { panic!("expected by the example") });
/// for f in &ok {
///     f.result().unwrap();
/// }
/// assert!(bad.result().is_err());
///
/// let stats = pool.stats();
/// assert_eq!(stats.submitted, 5);
/// assert_eq!((stats.completed, stats.failed, stats.cancelled), (4, 1, 0));
/// assert_eq!(stats.running, 0);
/// let per_worker: u64 = stats.workers.iter().map(|w| w.tasks_completed).sum();
/// assert_eq!(per_worker, 5, "a panicked task still ran on a worker");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Tasks the pool accepted (a refused submit is not counted). A thread pool derives it
    /// as `running + finished()` plus the tasks still queued, so submitting costs nothing.
    pub submitted: u64,
    /// Tasks a worker is running now.
    pub running: u64,
    /// Tasks that returned a value.
    pub completed: u64,
    /// Tasks that panicked or raised, or that the pool failed without running (a broken pool,
    /// a process worker that died under them).
    pub failed: u64,
    /// Tasks cancelled before they ran (by `Future::cancel` or `shutdown(cancel_futures)`).
    pub cancelled: u64,
    /// Workers started to replace one that exited: process workers that died, timed out or
    /// reached `maxtasksperchild`. Always 0 for a thread pool (a panic does not end a thread).
    pub worker_restarts: u64,
    /// One entry per worker, in start order. A thread pool lists every thread it started; a
    /// process pool lists the workers alive now (a replaced worker's tasks stay in the totals).
    pub workers: Vec<WorkerStats>,
}

impl PoolStats {
    /// Tasks accepted but not yet started or finished: `submitted - running - completed -
    /// failed - cancelled` (0 if a snapshot of a busy pool caught the counters mid-move).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::PoolStats;
    ///
    /// let stats = PoolStats { submitted: 10, running: 2, completed: 5, ..PoolStats::default() };
    /// assert_eq!(stats.queued(), 3);
    /// ```
    pub fn queued(&self) -> u64 {
        self.submitted
            .saturating_sub(self.running)
            .saturating_sub(self.finished())
    }

    /// Tasks done one way or another: `completed + failed + cancelled`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::PoolStats;
    ///
    /// let stats = PoolStats { completed: 5, failed: 1, cancelled: 2, ..PoolStats::default() };
    /// assert_eq!(stats.finished(), 8);
    /// ```
    pub fn finished(&self) -> u64 {
        self.completed + self.failed + self.cancelled
    }
}

/// What one worker of a pool did: part of [`PoolStats`].
///
/// # Examples
///
/// ```
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(1).build();
/// pool.submit(|| (0..1000u64).sum::<u64>()).result().unwrap();
/// let worker = &pool.stats().workers[0];
/// assert_eq!((worker.id, worker.tasks_completed), (0, 1));
/// assert!(worker.busy > std::time::Duration::ZERO);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// The worker's identity: the thread's index in a thread pool (the `i` of its name
    /// `{prefix}_{i}`), the process id in a process pool.
    pub id: u64,
    /// Tasks this worker ran to the end, whether they returned or panicked.
    pub tasks_completed: u64,
    /// Time the worker spent working rather than waiting for work (a thread pool counts from
    /// taking a task while idle until it finds the queue empty again, so the gaps between
    /// back-to-back tasks are included; a process pool counts from dispatch to result).
    pub busy: Duration,
}

/// How a popped task ended, as the worker reports it to its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskOutcome {
    /// Ran and returned.
    Completed,
    /// Ran and panicked.
    Failed,
    /// Was cancelled before it could start.
    Cancelled,
}

/// The thread pool's counters: the rare shared ones and the list of per-worker ones.
#[derive(Debug)]
pub(crate) struct PoolCounters {
    /// Tasks drained off the queue as cancelled (`shutdown(cancel_futures)`).
    drained_cancelled: AtomicU64,
    /// Tasks failed without running (a broken pool).
    drained_failed: AtomicU64,
    workers: Mutex<Vec<Arc<WorkerCounters>>>,
    /// The zero of the workers' `busy_since` stamps.
    epoch: Instant,
}

impl PoolCounters {
    pub(crate) fn new() -> Self {
        Self {
            drained_cancelled: AtomicU64::new(0),
            drained_failed: AtomicU64::new(0),
            workers: Mutex::new(Vec::new()),
            epoch: Instant::now(),
        }
    }

    /// A task left the queue without a worker running it (drained, or popped by a worker of
    /// a pool that broke meanwhile).
    pub(crate) fn drained(&self, cancelled: bool) {
        let counter = if cancelled {
            &self.drained_cancelled
        } else {
            &self.drained_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters for a new worker with identity `id`, listed from now on.
    pub(crate) fn register_worker(&self, id: u64) -> Arc<WorkerCounters> {
        let worker = Arc::new(WorkerCounters {
            id,
            epoch: self.epoch,
            started: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            busy_since: AtomicU64::new(0),
        });
        self.workers.lock().push(Arc::clone(&worker));
        worker
    }

    /// Reads every counter into a [`PoolStats`]; `queued` is the length of the pool's queue.
    pub(crate) fn snapshot(&self, queued: usize) -> PoolStats {
        let mut stats = PoolStats {
            cancelled: self.drained_cancelled.load(Ordering::Relaxed),
            failed: self.drained_failed.load(Ordering::Relaxed),
            ..PoolStats::default()
        };
        let now = self.epoch.elapsed();
        for worker in self.workers.lock().iter() {
            // The finish counts first (`Acquire`, pairing with the owner's `Release` stores),
            // then `started`: every finish seen was started, so `running` cannot underflow.
            let completed = worker.completed.load(Ordering::Acquire);
            let failed = worker.failed.load(Ordering::Acquire);
            let cancelled = worker.cancelled.load(Ordering::Acquire);
            let started = worker.started.load(Ordering::Relaxed);
            stats.completed += completed;
            stats.failed += failed;
            stats.cancelled += cancelled;
            stats.running += started.saturating_sub(completed + failed + cancelled);
            stats.workers.push(WorkerStats {
                id: worker.id,
                tasks_completed: completed + failed,
                busy: worker.busy(now),
            });
        }
        stats.submitted = stats.finished() + stats.running + queued as u64;
        stats
    }
}

/// One worker's counters. Only the worker's own thread writes them (so a load and a store
/// suffice to add); snapshots read them.
#[derive(Debug)]
pub(crate) struct WorkerCounters {
    id: u64,
    epoch: Instant,
    /// Tasks popped to run (including ones found cancelled).
    started: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    /// Busy time of the stretches that ended.
    busy_nanos: AtomicU64,
    /// Start of the current busy stretch in nanoseconds after `epoch`, plus one; 0 when idle.
    busy_since: AtomicU64,
}

impl WorkerCounters {
    /// Adds one to a counter only this worker writes.
    fn bump(counter: &AtomicU64, order: Ordering) {
        counter.store(counter.load(Ordering::Relaxed) + 1, order);
    }

    fn stamp(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// The worker is about to run a popped task.
    pub(crate) fn task_started(&self) {
        Self::bump(&self.started, Ordering::Relaxed);
    }

    /// The task popped last ended (`Release`, so a snapshot that sees it sees its start).
    pub(crate) fn task_finished(&self, outcome: TaskOutcome) {
        let counter = match outcome {
            TaskOutcome::Completed => &self.completed,
            TaskOutcome::Failed => &self.failed,
            TaskOutcome::Cancelled => &self.cancelled,
        };
        Self::bump(counter, Ordering::Release);
    }

    /// The worker goes from idle to busy.
    pub(crate) fn busy_start(&self) {
        self.busy_since.store(self.stamp(), Ordering::Relaxed);
    }

    /// The worker goes from busy to idle; adds the stretch to its busy time.
    pub(crate) fn busy_end(&self) {
        let since = self.busy_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            let stretch = self.stamp().saturating_sub(since);
            let total = self.busy_nanos.load(Ordering::Relaxed);
            self.busy_nanos
                .store(total.saturating_add(stretch), Ordering::Relaxed);
        }
    }

    /// Busy time up to `now` (after `epoch`), counting a stretch still going on.
    fn busy(&self, now: Duration) -> Duration {
        let ended = self.busy_nanos.load(Ordering::Relaxed);
        let since = self.busy_since.load(Ordering::Relaxed);
        let current = if since == 0 {
            0
        } else {
            u64::try_from(now.as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_sub(since - 1)
        };
        Duration::from_nanos(ended.saturating_add(current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_adds_up_workers_and_drains() {
        let counters = PoolCounters::new();
        let a = counters.register_worker(0);
        let b = counters.register_worker(1);
        a.busy_start();
        for outcome in [TaskOutcome::Completed, TaskOutcome::Failed] {
            a.task_started();
            a.task_finished(outcome);
        }
        a.busy_end();
        b.task_started();
        b.task_finished(TaskOutcome::Cancelled);
        b.task_started();
        counters.drained(true);
        let stats = counters.snapshot(1);
        assert_eq!(stats.submitted, 6);
        assert_eq!((stats.completed, stats.failed, stats.cancelled), (1, 1, 2));
        assert_eq!(stats.running, 1);
        assert_eq!(stats.queued(), 1);
        assert_eq!(stats.workers.len(), 2);
        assert_eq!(stats.workers[0].tasks_completed, 2);
        assert_eq!(
            stats.workers[1].tasks_completed, 0,
            "a cancelled task is not run"
        );
        assert_eq!(stats.workers[1].busy, Duration::ZERO);
    }

    #[test]
    fn a_busy_stretch_still_going_counts() {
        let counters = PoolCounters::new();
        let w = counters.register_worker(3);
        w.busy_start();
        let first = counters.snapshot(0).workers[0].busy;
        let second = counters.snapshot(0).workers[0].busy;
        assert!(second >= first);
        w.busy_end();
        let ended = counters.snapshot(0).workers[0].busy;
        assert!(ended >= second);
        assert_eq!(
            counters.snapshot(0).workers[0].busy,
            ended,
            "idle: no growth"
        );
    }
}
