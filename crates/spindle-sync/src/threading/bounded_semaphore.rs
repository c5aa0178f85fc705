//! [`BoundedSemaphore`]: Python's `threading.BoundedSemaphore`, a semaphore that refuses to
//! grow past its initial value.

use std::fmt;
use std::time::Duration;

use super::error::OverReleaseError;
use super::semaphore::{Semaphore, SemaphorePermit};

/// A semaphore whose value may never pass its initial value: Python's
/// `threading.BoundedSemaphore`.
///
/// Releasing more than was acquired is almost always a bug, so
/// [`release`](BoundedSemaphore::release) refuses it with an error, atomically, leaving the
/// value unchanged.
///
/// # Differences from Python
///
/// The over-release is an [`OverReleaseError`] value instead of `ValueError`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::BoundedSemaphore;
///
/// let pool = BoundedSemaphore::new(2);
/// pool.acquire();
/// assert!(pool.release(1).is_ok());
/// assert!(pool.release(1).is_err()); // would make 3 of 2
/// assert_eq!(pool.value(), 2);
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, which is also its bound; Python's
    /// `threading.BoundedSemaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// static SLOTS: BoundedSemaphore = BoundedSemaphore::new(4);
    /// assert_eq!(SLOTS.bound(), 4);
    /// ```
    pub const fn new(value: usize) -> Self {
        Self {
            sem: Semaphore::new(value),
            bound: value,
        }
    }

    /// The initial value, which the value may never pass.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// assert_eq!(BoundedSemaphore::new(2).bound(), 2);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// The number of free permits now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(2);
    /// let _p = s.permit();
    /// assert_eq!(s.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.sem.value()
    }

    /// Takes a permit, waiting as long as it takes; Python's `sem.acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1);
    /// s.acquire();
    /// s.release(1).unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.sem.acquire();
    }

    /// Takes a permit if one is free; Python's `sem.acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(0);
    /// assert!(!s.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.sem.try_acquire()
    }

    /// Takes a permit or gives up after `timeout`; Python's `sem.acquire(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1);
    /// assert!(s.acquire_timeout(Duration::from_millis(1)));
    /// assert!(!s.acquire_timeout(Duration::from_millis(1)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.sem.acquire_timeout(timeout)
    }

    /// Takes a permit and returns a guard that gives it back when dropped; Python's
    /// `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1);
    /// drop(s.permit());
    /// assert_eq!(s.value(), 1);
    /// ```
    pub fn permit(&self) -> SemaphorePermit<'_> {
        self.sem.permit_bounded(self.bound)
    }

    /// Returns `n` permits and wakes up to `n` waiters; Python's `sem.release(n)`.
    ///
    /// # Errors
    ///
    /// [`OverReleaseError`] if the value would pass the bound; then nothing is released.
    ///
    /// # Differences from Python
    ///
    /// `release(0)` does nothing; Python raises `ValueError` for `n < 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(3);
    /// s.acquire();
    /// s.acquire();
    /// assert!(s.release(3).is_err());
    /// assert!(s.release(2).is_ok());
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), OverReleaseError> {
        self.sem.release_up_to(n, Some(self.bound))
    }
}

impl Default for BoundedSemaphore {
    /// Python's default: one permit.
    fn default() -> Self {
        Self::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound)
            .finish()
    }
}
