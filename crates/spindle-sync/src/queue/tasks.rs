//! `task_done`/`join` bookkeeping for the lock-free queue: a monotonic count of finished tasks
//! compared with the store's monotonic count of pushes.
//!
//! Python keeps `unfinished_tasks`, incremented by every put. Here a put touches no counter of
//! its own: the store already knows how many items were ever pushed ([`Ring::pushed`] reads it
//! off `tail`), so unfinished tasks are `pushed - done`, and only `task_done` (and an
//! immediate shutdown, which counts the items it drops) writes `done`.
//!
//! [`Ring::pushed`]: super::ring::Ring::pushed

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::error::TaskDoneError;
use super::wait_list::WaitList;

/// Finished-task count and the threads blocked in `join`.
pub(crate) struct Tasks {
    /// Tasks marked done (plus items dropped by an immediate shutdown); never above `pushed`.
    done: CachePadded<AtomicU64>,
    joiners: WaitList,
}

impl Tasks {
    pub(crate) const fn new() -> Self {
        Self {
            done: CachePadded::new(AtomicU64::new(0)),
            joiners: WaitList::new(),
        }
    }

    /// Python's `unfinished_tasks`.
    pub(crate) fn unfinished(&self, pushed: u64) -> u64 {
        pushed.saturating_sub(self.done.load(SeqCst))
    }

    /// Marks one task done; `pushed` reads the store's push count.
    pub(crate) fn task_done(&self, pushed: impl Fn() -> u64) -> Result<(), TaskDoneError> {
        let mut done = self.done.load(SeqCst);
        loop {
            if done >= pushed() {
                return Err(TaskDoneError);
            }
            match self
                .done
                .compare_exchange_weak(done, done + 1, SeqCst, SeqCst)
            {
                Ok(_) => break,
                Err(current) => done = current,
            }
        }
        if done + 1 == pushed() {
            self.joiners.notify_all();
        }
        Ok(())
    }

    /// Counts up to `n` dropped items as done (never past `pushed`), then wakes joiners.
    pub(crate) fn drop_done(&self, n: u64, pushed: impl Fn() -> u64) {
        let mut done = self.done.load(SeqCst);
        loop {
            let new = done.saturating_add(n).min(pushed()).max(done);
            match self.done.compare_exchange_weak(done, new, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(current) => done = current,
            }
        }
        self.joiners.notify_all();
    }

    /// Blocks until every pushed item is done or `deadline` passes; returns whether all are.
    pub(crate) fn join_until(&self, pushed: impl Fn() -> u64, deadline: Option<Instant>) -> bool {
        loop {
            if self.done.load(SeqCst) >= pushed() {
                return true;
            }
            let woken = self
                .joiners
                .park_until(|| self.done.load(SeqCst) < pushed(), deadline);
            if !woken {
                return self.done.load(SeqCst) >= pushed();
            }
        }
    }
}
