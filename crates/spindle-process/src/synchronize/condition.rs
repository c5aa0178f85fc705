//! `Condition`: wait for a state change under a shared [`Lock`] (Python's
//! `multiprocessing.Condition`).
//!
//! Each waiter owns a slot in the shared block, as each Python waiter owns a private lock:
//! block word 0 is an internal robust lock, word 1 the next ticket, then [`CONDITION_SLOTS`](super::CONDITION_SLOTS) slots of
//! two words (state, ticket). A waiter claims a free slot (state `WAITING`, a fresh ticket)
//! before releasing the user lock and parks on its state word. `notify(n)` marks the `n`
//! oldest waiting slots `SIGNALLED` and wakes each one, so exactly those waiters — the ones
//! waiting when `notify` ran, oldest first — return true; a later waiter cannot steal their
//! wake-up. A waiter that times out frees its slot under the internal lock, so a notify either
//! reached it (it returns true) or did not count it.

use super::lock::Lock;
use super::raw;
use crate::heap::{arc_block, SharedBlock};
use crate::sys::{self, futex};
use serde::{Deserialize, Serialize};
use spindle_sync::threading::LockGuard;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waiter slots per condition; more simultaneous waiters take turns for a free slot.
///
/// # Examples
///
/// ```
/// use spindle_process::synchronize::CONDITION_SLOTS;
///
/// assert!(CONDITION_SLOTS >= 2);
/// ```
pub const SLOTS: usize = 256;
/// Byte offset of the first slot.
const SLOT_BASE: usize = 64;
const FREE: u32 = 0;
const WAITING: u32 = 1;
const SIGNALLED: u32 = 2;

/// A condition variable shared between processes: Python's `multiprocessing.Condition`.
///
/// Waiters hold the condition's [`Lock`] (through [`lock`](Condition::lock)), call
/// [`wait`](Condition::wait) which releases it while parked, and hold it again on return.
///
/// # Differences from Python
///
/// Python's default lock is an `RLock`; here it is a [`Lock`] (a guard is how you hold it).
/// `notify` may be called without holding the lock; it is still exact. At most [`CONDITION_SLOTS`](super::CONDITION_SLOTS)
/// processes or threads wait at once; further waiters yield until a slot frees.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::Condition;
///
/// let cond = Condition::new(None).unwrap();
/// let mut guard = cond.lock();
/// // Nobody will notify: the wait times out and the lock is held again afterwards.
/// assert!(!cond.wait_timeout(&mut guard, Duration::from_millis(5)));
/// assert!(cond.get_lock().locked());
/// drop(guard);
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Condition {
    lock: Lock,
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field(
                "waiters",
                &(0..SLOTS)
                    .filter(|&i| self.state(i).load(Ordering::Relaxed) == WAITING)
                    .count(),
            )
            .finish()
    }
}

impl Condition {
    /// A condition over `lock`, or over a fresh lock if `None`: Python's `Condition(lock)`.
    ///
    /// # Errors
    ///
    /// The operating system's error if a shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Condition, Lock};
    ///
    /// let lock = Lock::new().unwrap();
    /// let cond = Condition::new(Some(lock)).unwrap();
    /// assert!(!cond.get_lock().locked());
    /// ```
    pub fn new(lock: Option<Lock>) -> io::Result<Condition> {
        let lock = match lock {
            Some(l) => l,
            None => Lock::new()?,
        };
        Ok(Condition {
            lock,
            block: SharedBlock::new(SLOT_BASE + SLOTS * 8)?,
        })
    }

    fn ilock(&self) -> &AtomicU32 {
        self.block.word(0)
    }
    fn next_ticket(&self) -> &AtomicU32 {
        self.block.word(4)
    }
    fn state(&self, slot: usize) -> &AtomicU32 {
        self.block.word(SLOT_BASE + slot * 8)
    }
    fn ticket(&self, slot: usize) -> &AtomicU32 {
        self.block.word(SLOT_BASE + slot * 8 + 4)
    }

    fn with_internal<R>(&self, f: impl FnOnce() -> R) -> R {
        raw::lock_until(self.ilock(), sys::getpid(), None);
        let r = f();
        raw::unlock(self.ilock());
        r
    }

    /// Claims a free slot with a fresh ticket; `None` if all are taken.
    fn claim(&self) -> Option<usize> {
        self.with_internal(|| {
            let slot = (0..SLOTS).find(|&i| self.state(i).load(Ordering::Relaxed) == FREE)?;
            let t = self.next_ticket().fetch_add(1, Ordering::Relaxed);
            self.ticket(slot).store(t, Ordering::Relaxed);
            self.state(slot).store(WAITING, Ordering::Release);
            Some(slot)
        })
    }

    /// The condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = spindle_process::Condition::new(None).unwrap();
    /// let guard = cond.lock();
    /// assert!(cond.get_lock().locked());
    /// drop(guard);
    /// ```
    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }

    /// Acquires the condition's lock: Python's `with cond:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = spindle_process::Condition::new(None).unwrap();
    /// {
    ///     let _guard = cond.lock();
    ///     assert!(cond.get_lock().locked());
    /// }
    /// assert!(!cond.get_lock().locked());
    /// ```
    pub fn lock(&self) -> LockGuard<'_, Lock> {
        self.lock.lock()
    }

    fn wait_until(&self, guard: &mut LockGuard<'_, Lock>, deadline: Option<Instant>) -> bool {
        assert!(
            LockGuard::raw(guard).same_as(&self.lock),
            "Condition::wait needs a guard of the condition's own lock"
        );
        let slot = loop {
            match self.claim() {
                Some(slot) => break slot,
                // More than SLOTS simultaneous waiters: let one leave.
                None => std::thread::yield_now(),
            }
        };
        // Release the user lock while parked; the guard stays borrowed and re-takes it below.
        raw::unlock(self.lock_word(guard));
        let state = self.state(slot);
        let woken = loop {
            if state.load(Ordering::Acquire) == SIGNALLED {
                state.store(FREE, Ordering::Release);
                break true;
            }
            if futex::wait_until(state, WAITING, deadline, None) == futex::WaitResult::TimedOut {
                // Leave under the internal lock, unless a notify reached us meanwhile.
                break self.with_internal(|| {
                    let signalled = state.load(Ordering::Acquire) == SIGNALLED;
                    state.store(FREE, Ordering::Release);
                    signalled
                });
            }
        };
        raw::lock_until(self.lock_word(guard), sys::getpid(), None);
        woken
    }

    fn lock_word<'g>(&self, guard: &'g LockGuard<'_, Lock>) -> &'g AtomicU32 {
        LockGuard::raw(guard).raw_word()
    }

    /// Releases the lock, waits for a notification, re-takes the lock: Python's `cond.wait()`.
    ///
    /// # Panics
    ///
    /// If `guard` holds a different lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Condition, Value};
    ///
    /// let cond = Condition::new(None).unwrap();
    /// let ready = Value::new(0u8).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let _g = cond.lock();
    ///         ready.set(1);
    ///         cond.notify_all();
    ///     });
    ///     let mut g = cond.lock();
    ///     while ready.get() == 0 {
    ///         cond.wait(&mut g);
    ///     }
    /// });
    /// assert_eq!(ready.get(), 1);
    /// ```
    pub fn wait(&self, guard: &mut LockGuard<'_, Lock>) {
        self.wait_until(guard, None);
    }

    /// Like [`wait`](Condition::wait) for at most `timeout`; returns false if it timed out.
    ///
    /// # Panics
    ///
    /// If `guard` holds a different lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = spindle_process::Condition::new(None).unwrap();
    /// let mut g = cond.lock();
    /// assert!(!cond.wait_timeout(&mut g, Duration::from_millis(1))); // nobody notifies
    /// ```
    pub fn wait_timeout(&self, guard: &mut LockGuard<'_, Lock>, timeout: Duration) -> bool {
        self.wait_until(guard, raw::deadline(Some(timeout)))
    }

    /// Waits until `predicate()` is true or `timeout` (`None`: forever) passes; returns the
    /// predicate's last value: Python's `cond.wait_for(predicate, timeout)`.
    ///
    /// # Panics
    ///
    /// If `guard` holds a different lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = spindle_process::Condition::new(None).unwrap();
    /// let mut g = cond.lock();
    /// assert!(cond.wait_for(&mut g, || true, None));
    /// assert!(!cond.wait_for(&mut g, || false, Some(Duration::from_millis(1))));
    /// ```
    pub fn wait_for(
        &self,
        guard: &mut LockGuard<'_, Lock>,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> bool {
        let deadline = raw::deadline(timeout);
        loop {
            if predicate() {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            self.wait_until(guard, deadline);
        }
    }

    /// Wakes exactly `min(n, number of waiters)` waiters, oldest first: Python's
    /// `cond.notify(n)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = spindle_process::Condition::new(None).unwrap();
    /// cond.notify(1); // no waiter: nothing happens
    /// let mut g = cond.lock();
    /// assert!(!cond.wait_timeout(&mut g, Duration::from_millis(1))); // not stored for later
    /// ```
    pub fn notify(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.with_internal(|| {
            let now = self.next_ticket().load(Ordering::Relaxed);
            let mut waiting: Vec<(u32, usize)> = (0..SLOTS)
                .filter(|&i| self.state(i).load(Ordering::Acquire) == WAITING)
                // Age = distance from the next ticket, robust to wrap-around.
                .map(|i| (now.wrapping_sub(self.ticket(i).load(Ordering::Relaxed)), i))
                .collect();
            waiting.sort_unstable_by_key(|w| std::cmp::Reverse(w.0));
            for &(_, i) in waiting.iter().take(n) {
                self.state(i).store(SIGNALLED, Ordering::Release);
                futex::wake(self.state(i), 1);
            }
        });
    }

    /// Wakes every waiter: Python's `cond.notify_all()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Condition, Value};
    ///
    /// let cond = Condition::new(None).unwrap();
    /// let go = Value::new(0u8).unwrap();
    /// std::thread::scope(|s| {
    ///     for _ in 0..2 {
    ///         s.spawn(|| {
    ///             let mut g = cond.lock();
    ///             assert!(cond.wait_for(&mut g, || go.get() == 1, None));
    ///         });
    ///     }
    ///     let _g = cond.lock();
    ///     go.set(1);
    ///     cond.notify_all();
    /// });
    /// ```
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }
}
