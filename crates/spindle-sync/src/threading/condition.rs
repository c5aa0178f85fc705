//! [`Condition`]: Python's `threading.Condition`, over any [`RawLock`].
//!
//! Waiters park on the address of `waiters` with `parking_lot_core`. A waiter is queued
//! *before* it releases the lock (the release happens in `park`'s `before_sleep`), and a
//! notifier must hold the lock, so a notification can never fall between the two. `waiters`
//! counts the parked threads and is changed only under the parking-lot bucket lock (in
//! `validate`, `timed_out` and the unpark callback), so `notify(n)` wakes exactly
//! `min(n, parked)` threads and a notify with nobody waiting is one load.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN};

use super::deadline;
use super::error::{ConditionError, ReleaseError};
use super::lock::Lock;
use super::lock_guard::LockGuard;
use super::raw_lock::{self, AsRawLock, RawLock};
use super::unpark;

/// A condition variable bound to a lock: Python's `threading.Condition`.
///
/// `Condition::default()` owns a fresh [`Lock`]; [`Condition::new`] takes any lock —
/// a [`Lock`], an [`RLock`](super::RLock), a reference or `Arc` to one, or a process-shared
/// lock. Two styles work:
///
/// - guard style: `let mut g = cond.lock();` then [`wait`](Condition::wait)`(&mut g)`; the
///   guard proves the lock is held, so waits cannot fail;
/// - Python's raw style: [`acquire`](Condition::acquire), then
///   [`wait_unguarded`](Condition::wait_unguarded), [`release`](Condition::release); a wait
///   or notify without holding the lock is then a [`ConditionError`], as in Python.
///
/// [`notify`](Condition::notify)`(n)` wakes exactly `n` waiters (or all, if fewer wait).
/// The condition's own state lives outside it, as in Python: use atomics or data the lock
/// protects.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use spindle_sync::threading::Condition;
///
/// let cond = Condition::default();
/// let ready = AtomicBool::new(false);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         let _g = cond.lock();
///         ready.store(true, Ordering::Relaxed);
///         cond.notify_all().unwrap();
///     });
///     let mut g = cond.lock();
///     cond.wait_for(&mut g, || ready.load(Ordering::Relaxed), None);
///     assert!(ready.load(Ordering::Relaxed));
/// });
/// ```
pub struct Condition<L: AsRawLock = Lock> {
    lock: L,
    /// Threads parked on this condition; see the file's `//!`.
    waiters: AtomicUsize,
}

impl Default for Condition<Lock> {
    fn default() -> Self {
        Self::new(Lock::new())
    }
}

impl<L: AsRawLock> Condition<L> {
    /// A condition over `lock`; Python's `threading.Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_sync::threading::{Condition, RLock};
    ///
    /// let shared = Arc::new(RLock::new());
    /// let cond = Condition::new(Arc::clone(&shared));
    /// let _g = cond.lock();
    /// assert!(shared.is_owned());
    /// ```
    pub const fn new(lock: L) -> Self {
        Self {
            lock,
            waiters: AtomicUsize::new(0),
        }
    }

    /// The lock the condition is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let _g = cond.lock();
    /// assert!(cond.get_lock().locked());
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }

    #[inline]
    fn raw(&self) -> &L::Raw {
        self.lock.as_raw_lock()
    }

    #[inline]
    fn key(&self) -> usize {
        &self.waiters as *const AtomicUsize as usize
    }

    /// Takes the condition's lock and returns a guard for it; Python's `with cond:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let _g = cond.lock();
    /// assert!(cond.get_lock().locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_, L::Raw> {
        LockGuard::acquire(self.raw())
    }

    /// Takes the lock, raw style; Python's `cond.acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// cond.acquire();
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.raw().acquire();
    }

    /// Takes the lock if that needs no wait; Python's `cond.acquire(False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// assert!(cond.try_acquire());
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw().try_acquire()
    }

    /// Takes the lock or gives up after `timeout`; Python's `cond.acquire(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// assert!(cond.acquire_timeout(Duration::from_millis(1)));
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        raw_lock::acquire_timeout(self.raw(), timeout)
    }

    /// Releases the lock, raw style; Python's `cond.release()`.
    ///
    /// # Errors
    ///
    /// As the lock's own release: [`ReleaseError::Unlocked`], or
    /// [`ReleaseError::NotOwner`] for an owner-tracking lock held by another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Condition, ReleaseError};
    ///
    /// let cond = Condition::default();
    /// assert_eq!(cond.release(), Err(ReleaseError::Unlocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw().release()
    }

    fn check_guard(&self, guard: &LockGuard<'_, L::Raw>) {
        assert!(
            std::ptr::addr_eq(LockGuard::raw(guard), self.raw()),
            "Condition::wait called with a guard of another lock"
        );
    }

    /// Parks until notified or `deadline`; the caller holds the lock, which is released while
    /// parked and held again on return. Returns whether a notify woke it.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let raw = self.raw();
        let saved = Cell::new(0);
        let validate = || {
            self.waiters.fetch_add(1, Ordering::Relaxed);
            true
        };
        let before_sleep = || {
            // SAFETY:
            // - every caller checked that this thread holds the lock (a guard of this lock, or
            //   `is_owned`), and nothing released it since.
            saved.set(unsafe { raw.release_save() });
        };
        let timed_out = |_, _| {
            self.waiters.fetch_sub(1, Ordering::Relaxed);
        };
        // SAFETY:
        // - the key is the address of `self.waiters`; only `Condition` parks or unparks there.
        // - `validate` and `timed_out` only touch an atomic; `before_sleep` releases the user's
        //   lock, which parks on another key, as parking_lot's `Condvar` does.
        let result = unsafe {
            parking_lot_core::park(
                self.key(),
                validate,
                before_sleep,
                timed_out,
                DEFAULT_PARK_TOKEN,
                deadline,
            )
        };
        raw.acquire_restore(saved.get());
        matches!(result, ParkResult::Unparked(_))
    }

    /// Releases the lock, waits for a notify, takes the lock back; Python's `cond.wait()`.
    ///
    /// The guard stays valid: the lock is held again when this returns. A wake-up is only a
    /// hint that the state may have changed: re-check it, or use
    /// [`wait_for`](Condition::wait_for).
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let items = AtomicU32::new(0);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let _g = cond.lock();
    ///         items.fetch_add(1, Ordering::Relaxed);
    ///         cond.notify(1).unwrap();
    ///     });
    ///     let mut g = cond.lock();
    ///     while items.load(Ordering::Relaxed) == 0 {
    ///         cond.wait(&mut g);
    ///     }
    /// });
    /// ```
    pub fn wait(&self, guard: &mut LockGuard<'_, L::Raw>) {
        self.check_guard(guard);
        self.wait_until(None);
    }

    /// [`wait`](Condition::wait) that gives up after `timeout`; returns `false` if it timed
    /// out. Python's `cond.wait(timeout)`. The lock is held again on return either way.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let mut g = cond.lock();
    /// assert!(!cond.wait_timeout(&mut g, Duration::from_millis(5)));
    /// ```
    pub fn wait_timeout(&self, guard: &mut LockGuard<'_, L::Raw>, timeout: Duration) -> bool {
        self.check_guard(guard);
        self.wait_until(deadline::after(timeout))
    }

    /// Waits until `predicate` returns `true` or `timeout` (if any) has passed; returns the
    /// predicate's last value. Python's `cond.wait_for(predicate, timeout)`.
    ///
    /// The predicate runs with the lock held, first before any wait. The timeout covers the
    /// whole call, not each wait.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let mut g = cond.lock();
    /// assert!(!cond.wait_for(&mut g, || false, Some(Duration::from_millis(5))));
    /// assert!(cond.wait_for(&mut g, || true, None));
    /// ```
    pub fn wait_for(
        &self,
        guard: &mut LockGuard<'_, L::Raw>,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> bool {
        self.check_guard(guard);
        let deadline = deadline::after_opt(timeout);
        loop {
            if predicate() {
                return true;
            }
            if timeout.is_some() && deadline::passed(deadline) {
                return false;
            }
            self.wait_until(deadline);
        }
    }

    /// Raw-style wait for code that took the lock with [`acquire`](Condition::acquire):
    /// Python's `cond.wait(timeout)`. `None` waits for a notify however long it takes.
    /// Returns `Ok(false)` if the timeout passed first.
    ///
    /// # Errors
    ///
    /// [`ConditionError::WaitUnacquired`] if the calling thread does not hold the lock (for a
    /// [`Lock`], which has no owner: if nobody holds it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{Condition, ConditionError};
    ///
    /// let cond = Condition::default();
    /// assert_eq!(cond.wait_unguarded(None), Err(ConditionError::WaitUnacquired));
    /// cond.acquire();
    /// assert_eq!(cond.wait_unguarded(Some(Duration::from_millis(1))), Ok(false));
    /// cond.release().unwrap();
    /// ```
    pub fn wait_unguarded(&self, timeout: Option<Duration>) -> Result<bool, ConditionError> {
        if !self.raw().is_owned() {
            return Err(ConditionError::WaitUnacquired);
        }
        Ok(self.wait_until(deadline::after_opt(timeout)))
    }

    /// Wakes exactly `n` waiting threads (all of them if fewer wait); Python's
    /// `cond.notify(n)`.
    ///
    /// Threads that time out are not counted: the `n` are threads that really wake.
    ///
    /// # Errors
    ///
    /// [`ConditionError::NotifyUnacquired`] if the calling thread does not hold the lock (for
    /// a [`Lock`]: if nobody holds it). Holding a guard from [`lock`](Condition::lock) rules
    /// this out.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Condition, ConditionError};
    ///
    /// let cond = Condition::default();
    /// assert_eq!(cond.notify(1), Err(ConditionError::NotifyUnacquired));
    /// let _g = cond.lock();
    /// assert_eq!(cond.notify(1), Ok(())); // nobody waits: nothing happens
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), ConditionError> {
        if !self.raw().is_owned() {
            return Err(ConditionError::NotifyUnacquired);
        }
        if n == 0 || self.waiters.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        // SAFETY:
        // - the key is the address of `self.waiters`; only `Condition` parks or unparks there,
        //   counting each parked thread in `self.waiters`.
        unsafe { unpark::unpark_up_to(self.key(), n, &self.waiters, Ordering::Relaxed) };
        Ok(())
    }

    /// Wakes every waiting thread; Python's `cond.notify_all()`.
    ///
    /// # Errors
    ///
    /// [`ConditionError::NotifyUnacquired`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Condition;
    ///
    /// let cond = Condition::default();
    /// let _g = cond.lock();
    /// cond.notify_all().unwrap();
    /// ```
    pub fn notify_all(&self) -> Result<(), ConditionError> {
        self.notify(usize::MAX)
    }
}

impl<L: AsRawLock> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.raw().is_locked())
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `waiters` is exact: `notify(2)` of three parked threads leaves exactly one counted.
    #[test]
    fn notify_takes_exactly_n_off_the_count() {
        let cond = Condition::default();
        let woken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mut g = cond.lock();
                    assert!(cond.wait_timeout(&mut g, Duration::from_secs(20)));
                    woken.fetch_add(1, Ordering::SeqCst);
                });
            }
            let start = Instant::now();
            while cond.waiters.load(Ordering::Relaxed) != 3 {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "waiters never parked"
                );
                std::thread::yield_now();
            }
            {
                let _g = cond.lock();
                cond.notify(2).unwrap();
                assert_eq!(cond.waiters.load(Ordering::Relaxed), 1);
            }
            let _g = cond.lock();
            cond.notify_all().unwrap();
            assert_eq!(cond.waiters.load(Ordering::Relaxed), 0);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 3);
    }

    /// A waiter that times out takes itself off the count.
    #[test]
    fn timeout_takes_the_waiter_off_the_count() {
        let cond = Condition::default();
        let mut g = cond.lock();
        assert!(!cond.wait_timeout(&mut g, Duration::from_millis(5)));
        assert_eq!(cond.waiters.load(Ordering::Relaxed), 0);
    }
}
