//! [`Semaphore`]: Python's `threading.Semaphore`, a counter of permits, and the core that
//! [`BoundedSemaphore`](super::BoundedSemaphore) shares.
//!
//! `value` is the number of free permits; acquiring is one CAS that decrements a non-zero
//! value. `waiters` counts the threads parked on the semaphore's address and changes only
//! under the parking-lot bucket lock. A releaser adds to `value`, then reads `waiters`; a
//! waiter adds to `waiters` (in `validate`), then reads `value`; all four are `SeqCst`, so at
//! least one side sees the other and no wake-up is lost.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN};

use super::deadline;
use super::error::OverReleaseError;
use super::unpark;

/// A counter of permits: Python's `threading.Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes a permit, waiting while there is none;
/// [`release`](Semaphore::release)`(n)` returns `n` and wakes up to `n` waiters.
/// [`permit`](Semaphore::permit) is Python's `with sem:`. The uncontended acquire is one CAS.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.permit();
/// let b = sem.permit();
/// assert!(!sem.try_acquire());
/// drop(a);
/// assert!(sem.try_acquire());
/// # drop(b);
/// ```
pub struct Semaphore {
    value: AtomicUsize,
    /// Threads parked here; see the file's `//!`.
    waiters: AtomicUsize,
}

impl Semaphore {
    /// A semaphore with `value` permits; Python's `threading.Semaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// static SEM: Semaphore = Semaphore::new(0);
    /// assert!(!SEM.try_acquire());
    /// ```
    pub const fn new(value: usize) -> Self {
        Self {
            value: AtomicUsize::new(value),
            waiters: AtomicUsize::new(0),
        }
    }

    /// The number of free permits now (a snapshot); Python's `sem._value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.value.load(Ordering::Relaxed)
    }

    /// Takes a permit if one is free; Python's `sem.acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut value = self.value.load(Ordering::Relaxed);
        while value > 0 {
            match self.value.compare_exchange_weak(
                value,
                value - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(v) => value = v,
            }
        }
        false
    }

    /// Takes a permit, waiting as long as it takes; Python's `sem.acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| sem.release(1));
    ///     sem.acquire();
    /// });
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    pub fn acquire(&self) {
        if !self.try_acquire() {
            let got = self.acquire_slow(None);
            debug_assert!(got);
        }
    }

    /// Takes a permit or gives up after `timeout`; returns whether it got one. Python's
    /// `sem.acquire(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.try_acquire() || (!timeout.is_zero() && self.acquire_slow(deadline::after(timeout)))
    }

    /// Takes a permit and returns a guard that gives it back when dropped; Python's
    /// `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// {
    ///     let _p = sem.permit();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn permit(&self) -> SemaphorePermit<'_> {
        self.acquire();
        SemaphorePermit {
            sem: self,
            bound: None,
        }
    }

    pub(crate) fn permit_bounded(&self, bound: usize) -> SemaphorePermit<'_> {
        self.acquire();
        SemaphorePermit {
            sem: self,
            bound: Some(bound),
        }
    }

    /// Returns `n` permits and wakes up to `n` waiters; Python's `sem.release(n)`.
    ///
    /// # Panics
    ///
    /// If the value would pass `usize::MAX`.
    ///
    /// # Differences from Python
    ///
    /// `release(0)` does nothing; Python raises `ValueError` for `n < 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.release(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    #[inline]
    pub fn release(&self, n: usize) {
        if self.release_up_to(n, None).is_err() {
            panic!("semaphore value overflow");
        }
    }

    /// Adds `n` permits unless that passes `bound` (or overflows); wakes up to `n` waiters.
    pub(crate) fn release_up_to(
        &self,
        n: usize,
        bound: Option<usize>,
    ) -> Result<(), OverReleaseError> {
        let limit = bound.unwrap_or(usize::MAX);
        let mut value = self.value.load(Ordering::Relaxed);
        loop {
            let new = match value.checked_add(n) {
                Some(new) if new <= limit => new,
                _ => return Err(OverReleaseError { requested: n }),
            };
            match self
                .value
                .compare_exchange_weak(value, new, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(v) => value = v,
            }
        }
        if n > 0 && self.waiters.load(Ordering::SeqCst) > 0 {
            self.wake(n);
        }
        Ok(())
    }

    #[cold]
    fn wake(&self, n: usize) {
        // SAFETY:
        // - the key is this semaphore's address; only `Semaphore` parks or unparks there,
        //   counting each parked thread in `self.waiters`.
        unsafe { unpark::unpark_up_to(self.key(), n, &self.waiters, Ordering::SeqCst) };
    }

    #[inline]
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    #[cold]
    fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        loop {
            if self.try_acquire() {
                return true;
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            if deadline::passed(deadline) {
                return false;
            }
            let validate = || {
                self.waiters.fetch_add(1, Ordering::SeqCst);
                if self.value.load(Ordering::SeqCst) > 0 {
                    self.waiters.fetch_sub(1, Ordering::SeqCst);
                    false
                } else {
                    true
                }
            };
            let timed_out = |_, _| {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
            };
            // SAFETY:
            // - the key is this semaphore's address; only `Semaphore` parks or unparks there.
            // - the callbacks only touch atomics: they neither panic nor call parking_lot_core.
            let result = unsafe {
                parking_lot_core::park(
                    self.key(),
                    validate,
                    || {},
                    timed_out,
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            if let ParkResult::TimedOut = result {
                // A release may have landed just before the timeout: take it if so.
                return self.try_acquire();
            }
        }
    }
}

impl Default for Semaphore {
    /// Python's default: one permit.
    fn default() -> Self {
        Self::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A permit taken from a [`Semaphore`] or [`BoundedSemaphore`](super::BoundedSemaphore),
/// given back when dropped: the body of Python's `with sem:`.
///
/// A permit of a bounded semaphore that was over-released meanwhile is not given back (the
/// value stays at its bound), since a drop cannot return the error.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Semaphore;
///
/// let sem = Semaphore::new(1);
/// let permit = sem.permit();
/// assert!(!sem.try_acquire());
/// drop(permit);
/// assert!(sem.try_acquire());
/// ```
#[must_use = "if unused the permit is returned at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    bound: Option<usize>,
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        match self.bound {
            None => self.sem.release(1),
            Some(bound) => {
                let _ = self.sem.release_up_to(1, Some(bound));
            }
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `waiters` counts parked threads exactly, and a timeout removes its own count.
    #[test]
    fn waiters_count_tracks_parked_threads() {
        let sem = Semaphore::new(0);
        assert!(!sem.acquire_timeout(Duration::from_millis(5)));
        assert_eq!(sem.waiters.load(Ordering::SeqCst), 0);
        std::thread::scope(|s| {
            s.spawn(|| assert!(sem.acquire_timeout(Duration::from_secs(20))));
            let start = Instant::now();
            while sem.waiters.load(Ordering::SeqCst) != 1 {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "waiter never parked"
                );
                std::thread::yield_now();
            }
            sem.release(1);
        });
        assert_eq!(sem.waiters.load(Ordering::SeqCst), 0);
        assert_eq!(sem.value(), 0);
    }
}
