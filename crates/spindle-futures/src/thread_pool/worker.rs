//! The pool's shared state and its worker loop: a lock-free injector queue, workers that spin
//! briefly and then sleep, and Python 3.8's rule for starting threads (only when no worker is
//! idle, never more than `max_workers`).
//!
//! Idle workers are the ones searching (`spinning`) or asleep (`sleeping`). A submit that
//! finds a searcher does nothing more; else it wakes a sleeper; else it starts a thread. A
//! searcher that takes a task while more wait and no other searcher is left wakes a sleeper
//! (or starts a thread) in turn, so a burst of submits spreads over the pool.
//!
//! Waking without a central lock on the task path (the "sleepy worker" handshake, as in
//! rayon's and tokio's schedulers): a submitter pushes, issues a `SeqCst` fence, then reads
//! `spinning` and `sleeping`; a worker about to sleep raises `sleeping` under the sleep lock,
//! issues a `SeqCst` fence, then checks the queue once more. By the fences, at least one of
//! the two sees the other, so a task is never left behind while every worker sleeps. The lock
//! is taken only to sleep or to wake a sleeper, both of which cost a futex call anyway.
//!
//! Leaving after shutdown uses the same pattern with `live`: a worker lowers it, fences, and
//! looks at the queue once more; a submit that raced with `shutdown` pushes, fences, and
//! starts a worker if `live` is zero. So a task accepted before the shutdown always runs.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_deque::{Injector, Steal};
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};

use super::spawn::{spawn_worker, WorkerHandle};
use super::task::Job;
use crate::panic::panic_message;
use crate::spin::spin_then_yield;
use crate::stats::PoolCounters;
use crate::FutureError;

/// `Shared::state`: accepting work.
pub(super) const RUNNING: u8 = 0;
/// `Shared::state`: `shutdown` was called; queued tasks still run, new ones are refused.
pub(super) const SHUT_DOWN: u8 = 1;
/// `Shared::state`: an initializer failed; queued and new tasks fail with `BrokenExecutor`.
pub(super) const BROKEN: u8 = 2;

/// A worker's initializer, run once when its thread starts.
pub(super) type Initializer = Arc<dyn Fn() + Send + Sync + 'static>;

/// Everything the executor handle and the workers share.
pub(super) struct Shared {
    pub(super) injector: Injector<Job>,
    /// One of `RUNNING`, `SHUT_DOWN`, `BROKEN`; only ever moves forward.
    pub(super) state: AtomicU8,
    pub(super) broken_reason: OnceLock<String>,
    /// Idle workers looking for a task without sleeping (Python's idle workers); a submit
    /// wakes nobody and starts no thread while one searches. Padded: it changes whenever a
    /// worker runs dry, while its neighbours are read on every submit.
    spinning: CachePadded<AtomicUsize>,
    /// Workers asleep (or about to be) that no waker has claimed yet. Raised by the worker
    /// under `sleep`, lowered by the waker under `sleep`.
    sleeping: AtomicUsize,
    /// Wake-up tokens handed to sleepers, so no wake-up is lost or spurious.
    sleep: Mutex<usize>,
    wake: Condvar,
    /// Worker threads alive (or being started); never above `max_workers`. A worker leaves
    /// only after shutdown, by the handshake in [`Shared::try_exit`].
    pub(super) live: AtomicUsize,
    /// Threads ever started, for their names (`{prefix}_{n}`).
    spawned: AtomicUsize,
    pub(super) handles: Mutex<Vec<WorkerHandle>>,
    pub(super) max_workers: usize,
    pub(super) prefix: String,
    pub(super) initializer: Option<Initializer>,
    /// What [`ThreadPoolExecutor::stats`](super::ThreadPoolExecutor::stats) reports.
    pub(super) stats: PoolCounters,
}

impl Shared {
    pub(super) fn new(
        max_workers: usize,
        prefix: String,
        initializer: Option<Initializer>,
    ) -> Self {
        Self {
            injector: Injector::new(),
            state: AtomicU8::new(RUNNING),
            broken_reason: OnceLock::new(),
            spinning: CachePadded::new(AtomicUsize::new(0)),
            sleeping: AtomicUsize::new(0),
            sleep: Mutex::new(0),
            wake: Condvar::new(),
            live: AtomicUsize::new(0),
            spawned: AtomicUsize::new(0),
            handles: Mutex::new(Vec::new()),
            max_workers,
            prefix,
            initializer,
            stats: PoolCounters::new(),
        }
    }

    /// The error a refused or drained task gets in the current state, if any.
    pub(super) fn refusal(&self) -> Option<FutureError> {
        match self.state.load(Ordering::Acquire) {
            RUNNING => None,
            SHUT_DOWN => Some(FutureError::ShutDown),
            _ => Some(self.broken_error()),
        }
    }

    fn broken_error(&self) -> FutureError {
        FutureError::broken(
            self.broken_reason
                .get()
                .cloned()
                .unwrap_or_else(|| "the thread pool is broken".to_owned()),
        )
    }

    fn steal(&self) -> Option<Job> {
        loop {
            match self.injector.steal() {
                Steal::Success(job) => return Some(job),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }

    /// Queues `job` and makes sure some worker will run it. Called after `refusal()` was
    /// `None`; a shutdown racing with this still runs the job, a break fails it.
    pub(super) fn push(self: &Arc<Self>, job: Job) {
        self.injector.push(job);
        fence(Ordering::SeqCst);
        match self.state.load(Ordering::SeqCst) {
            RUNNING => {}
            BROKEN => {
                self.drain(&self.broken_error());
                return;
            }
            _ => {
                // A shutdown raced with this submit, which still owes the job a run. Workers
                // leave by `try_exit`, which looks at the queue after lowering `live`: either
                // one of them sees this job and stays, or this sees `live == 0` and starts one.
                if self.live.load(Ordering::SeqCst) == 0 {
                    self.spawn_if_below_max();
                }
                return;
            }
        }
        let sleepers = self.sleeping.load(Ordering::SeqCst);
        if sleepers == 0 && self.live.load(Ordering::Relaxed) >= self.max_workers {
            // Nobody to wake and no thread to start: the busy workers will get to it. Checked
            // first because these two words rarely change, while `spinning` does per task.
            return;
        }
        if self.spinning.load(Ordering::SeqCst) > 0 {
            // An idle worker is searching and will find it.
            return;
        }
        // Read again after `spinning`: a searcher going to sleep joins `sleeping` before it
        // leaves `spinning`, so one that left `spinning` before the load above is counted
        // here (the first read may predate it, and would start a needless thread).
        if self.sleeping.load(Ordering::SeqCst) > 0 {
            if self.wake_one() {
                return;
            }
            // The sleeper backed out (it saw this job) and is searching again: it rejoined
            // `spinning` before releasing the lock `wake_one` took.
            if self.spinning.load(Ordering::SeqCst) > 0 {
                return;
            }
        }
        if self.injector.is_empty() {
            // A searcher took the job between the push and the loads above (and left
            // `spinning` for it): it runs, no thread is needed.
            return;
        }
        // No idle worker: Python 3.8 starts a thread, up to `max_workers`.
        self.spawn_if_below_max();
    }

    /// Claims one sleeper and hands it a wake-up token; `false` if none was asleep.
    fn wake_one(&self) -> bool {
        let mut tokens = self.sleep.lock();
        if self.sleeping.load(Ordering::SeqCst) == 0 {
            return false;
        }
        self.sleeping.fetch_sub(1, Ordering::SeqCst);
        *tokens += 1;
        self.wake.notify_one();
        true
    }

    /// Wakes every sleeper (shutdown, break).
    pub(super) fn wake_all(&self) {
        let mut tokens = self.sleep.lock();
        *tokens += self.sleeping.swap(0, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Settles every queued task with `error` without running it.
    pub(super) fn drain(&self, error: &FutureError) {
        while let Some(job) = self.steal() {
            self.stats.drained(*error == FutureError::Cancelled);
            job.abandon(error.clone());
        }
    }

    fn spawn_if_below_max(self: &Arc<Self>) {
        let max = self.max_workers;
        if self
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_err()
        {
            return;
        }
        let index = self.spawned.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}_{index}", self.prefix);
        let shared = Arc::clone(self);
        match spawn_worker(name, move || shared.work(index)) {
            Ok(handle) => self.handles.lock().push(handle),
            Err(e) => {
                if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
                    // Nobody could run the queued tasks: fail them rather than hang.
                    self.break_pool(format!("cannot start a worker thread: {e}"));
                }
            }
        }
    }

    /// Marks the pool broken, fails what is queued and wakes every worker so it exits.
    pub(super) fn break_pool(&self, reason: String) {
        let _ = self.broken_reason.set(reason);
        self.state.store(BROKEN, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.drain(&self.broken_error());
        self.wake_all();
    }

    /// The worker thread's body: Python's `_worker`.
    ///
    /// A worker is either *busy* or *searching* (counted in `spinning`). It turns searching
    /// the moment it finishes a task while the queue is empty (just before the task's future
    /// is settled, see [`Job::run`](super::task::Job::run)), so a submit that follows a
    /// result sees an idle worker and neither wakes nor starts another. While a backlog lasts
    /// it goes from task to task without touching the shared counters.
    fn work(self: &Arc<Self>, index: usize) {
        if let Some(init) = &self.initializer {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| init())) {
                self.live.fetch_sub(1, Ordering::SeqCst);
                self.break_pool(format!(
                    "a thread initializer failed, the thread pool is not usable anymore: {}",
                    panic_message(&*payload)
                ));
                return;
            }
        }
        let counters = self.stats.register_worker(index as u64);
        self.spinning.fetch_add(1, Ordering::SeqCst);
        // Busy time is taken per stretch: it starts when `searching` turns false and ends when
        // it turns true again.
        let mut searching = true;
        let mut next: Option<Job> = None;
        loop {
            let job = match next.take() {
                Some(job) => Some(job),
                None if searching => self.search(),
                None => self.steal(),
            };
            match job {
                Some(job) => {
                    if searching {
                        self.found_task();
                        searching = false;
                        counters.busy_start();
                    }
                    if self.state.load(Ordering::Relaxed) == BROKEN {
                        // Raced with a failing initializer: fail it like the queued ones.
                        self.stats.drained(false);
                        job.abandon(self.broken_error());
                        continue;
                    }
                    let lookahead = Cell::new(None);
                    let went_idle = Cell::new(false);
                    counters.task_started();
                    job.run(&|outcome| {
                        counters.task_finished(outcome);
                        match self.steal() {
                            // Busy again before anyone sees the result: stay off the shared
                            // counters.
                            Some(job) => lookahead.set(Some(job)),
                            None => {
                                counters.busy_end();
                                self.spinning.fetch_add(1, Ordering::SeqCst);
                                went_idle.set(true);
                            }
                        }
                    });
                    next = lookahead.into_inner();
                    searching = went_idle.get();
                }
                None if !searching => {
                    counters.busy_end();
                    self.spinning.fetch_add(1, Ordering::SeqCst);
                    searching = true;
                }
                None => {
                    if self.state.load(Ordering::SeqCst) != RUNNING {
                        // Shut down (or broken) and nothing queued: Python's worker exit.
                        if self.try_exit() {
                            return;
                        }
                        continue;
                    }
                    self.sleep_until_woken();
                }
            }
        }
    }

    /// Leaves the pool after shutdown unless work arrived meanwhile: lowers `live`, then
    /// looks at the queue once more (the other half of the handshake in [`Shared::push`]).
    /// If a job is there and a worker slot is free, the worker stays (`false`).
    fn try_exit(&self) -> bool {
        self.live.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !self.injector.is_empty() {
            let max = self.max_workers;
            let stayed = self
                .live
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok();
            if stayed {
                return false;
            }
        }
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        true
    }

    /// Looks for a task for a short while before paying for a sleep and a wake-up: a burst of
    /// polls, then up to `SEARCH_YIELDS` yields between short bursts (rayon idles with 32
    /// yields too). Tens of microseconds at most, and only right after a task.
    fn search(&self) -> Option<Job> {
        spin_then_yield(SEARCH_YIELDS, || {
            match self.steal() {
                Some(job) => Some(Some(job)),
                // Shutting down and nothing left: stop looking.
                None if self.state.load(Ordering::Relaxed) != RUNNING => Some(None),
                None => None,
            }
        })
        .flatten()
    }

    /// A searcher took a task. If it was the last searcher and more work waits, pass the baton:
    /// wake a sleeper, or start a worker if none sleeps (Python starts one per submit that
    /// finds no idle worker; this catches the submits that saw this searcher as idle).
    fn found_task(self: &Arc<Self>) {
        let searchers = self.spinning.fetch_sub(1, Ordering::SeqCst) - 1;
        if searchers > 0 || self.injector.is_empty() {
            return;
        }
        if !(self.sleeping.load(Ordering::SeqCst) > 0 && self.wake_one()) {
            self.spawn_if_below_max();
        }
    }

    /// Leaves the searchers and sleeps until a submit (or shutdown) hands over a token.
    fn sleep_until_woken(&self) {
        let mut tokens = self.sleep.lock();
        // Into `sleeping` before out of `spinning`, so a submit that reads `spinning` then
        // `sleeping` always counts this worker in one of them.
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !self.injector.is_empty() || self.state.load(Ordering::SeqCst) != RUNNING {
            // Work arrived (or shutdown) after the last look: back out, into `spinning` before
            // out of `sleeping` so no submit sees this worker in neither. The count was
            // raised under the lock, so no waker has claimed it meanwhile.
            self.spinning.fetch_add(1, Ordering::SeqCst);
            self.sleeping.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        while *tokens == 0 {
            self.wake.wait(&mut tokens);
        }
        *tokens -= 1;
        // The waker took us out of `sleeping`, for the job it queued.
        self.spinning.fetch_add(1, Ordering::SeqCst);
    }
}

/// Yields of a searching worker (between bursts of polls, see `spin.rs`) before it sleeps.
const SEARCH_YIELDS: u32 = 32;

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::SeqCst;

    use super::super::ThreadPoolExecutor;
    use super::{BROKEN, SHUT_DOWN};

    const TASKS: usize = 500;

    #[test]
    fn counters_return_to_zero_after_shutdown() {
        let pool = ThreadPoolExecutor::builder().max_workers(3).build();
        let futures: Vec<_> = (0..TASKS).map(|i| pool.submit(move || i)).collect();
        for (i, f) in futures.into_iter().enumerate() {
            assert_eq!(f.into_result(), Ok(i));
        }
        assert!(pool.shared.live.load(SeqCst) <= 3);
        pool.shutdown(true, false);
        let s = &pool.shared;
        assert_eq!(s.state.load(SeqCst), SHUT_DOWN);
        assert_eq!(s.live.load(SeqCst), 0, "every worker left");
        assert_eq!(s.spinning.load(SeqCst), 0, "no searcher left behind");
        assert_eq!(s.sleeping.load(SeqCst), 0, "no sleeper left behind");
        assert!(s.injector.is_empty());
        assert!(s.handles.lock().is_empty(), "every handle joined");
    }

    #[test]
    fn breaking_drains_the_queue_and_releases_the_workers() {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .initializer(|| panic!("initializer failure (expected by the test)"))
            .build();
        let futures: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
        for f in futures {
            assert!(f.into_result().is_err());
        }
        pool.shutdown(true, false);
        let s = &pool.shared;
        assert_eq!(
            s.state.load(SeqCst),
            BROKEN,
            "shutdown keeps a broken pool broken"
        );
        assert_eq!(s.live.load(SeqCst), 0);
        assert!(s.injector.is_empty());
    }
}
