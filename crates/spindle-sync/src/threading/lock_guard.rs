//! [`LockGuard`]: the RAII hold on any [`RawLock`], Python's `with lock:` block.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::raw_lock::{acquire_timeout, RawLock};
use super::raw_mutex::RawMutex;

/// Holds a lock until dropped: Python's `with lock:` block.
///
/// Returned by [`Lock::lock`](super::Lock::lock), [`RLock::lock`](super::RLock::lock) and
/// [`Condition::lock`](super::Condition::lock), and generic over the [`RawLock`] so
/// spindle-process's shared locks return the same type. Dropping it releases the lock, also
/// while unwinding from a panic (there is no poisoning). The guard is not `Send`: a lock
/// that tracks its owner must be released by the thread that took it; for an owner-less
/// [`Lock`](super::Lock) use [`release`](super::Lock::release) to end a hold from elsewhere.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Lock;
///
/// let lock = Lock::new();
/// {
///     let _guard = lock.lock();
///     assert!(lock.locked());
/// }
/// assert!(!lock.locked());
/// ```
#[must_use = "if unused the lock is released at once"]
pub struct LockGuard<'a, R: RawLock + ?Sized = RawMutex> {
    raw: &'a R,
    /// Not `Send`: owner-tracking locks must be released on the thread that took them.
    _not_send: PhantomData<*const ()>,
}

// SAFETY:
// - a shared `&LockGuard` only exposes `&R` (through `LockGuard::raw`), which is sound to
//   share across threads exactly when `R: Sync`.
unsafe impl<R: RawLock + ?Sized + Sync> Sync for LockGuard<'_, R> {}

impl<'a, R: RawLock + ?Sized> LockGuard<'a, R> {
    /// Wraps a hold the caller already has, so dropping the guard releases it.
    ///
    /// # Safety
    ///
    /// The calling thread holds `raw` (it acquired it and has not released it) and hands
    /// that hold to the guard: nothing else may release it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{LockGuard, RawLock, RawMutex};
    ///
    /// let raw = RawMutex::new();
    /// assert!(raw.try_acquire());
    /// // SAFETY: this thread took `raw` just above and hands that hold to the guard.
    /// let guard = unsafe { LockGuard::from_held(&raw) };
    /// assert!(raw.is_locked());
    /// drop(guard);
    /// assert!(!raw.is_locked());
    /// ```
    #[inline]
    pub unsafe fn from_held(raw: &'a R) -> Self {
        Self {
            raw,
            _not_send: PhantomData,
        }
    }

    /// Waits for `raw` and wraps the hold: the body of every `lock()`.
    #[inline]
    pub(crate) fn acquire(raw: &'a R) -> Self {
        raw.acquire();
        // SAFETY:
        // - this thread acquired `raw` on the line above and hands the hold to the guard.
        unsafe { Self::from_held(raw) }
    }

    /// Takes `raw` if it is free now and wraps the hold: the body of every `try_lock()`.
    #[inline]
    pub(crate) fn try_acquire(raw: &'a R) -> Option<Self> {
        if raw.try_acquire() {
            // SAFETY:
            // - this thread acquired `raw` just above and hands the hold to the guard.
            Some(unsafe { Self::from_held(raw) })
        } else {
            None
        }
    }

    /// Waits up to `timeout` for `raw` (see [`acquire_timeout`]) and wraps the hold: the body
    /// of every `lock_timeout()`.
    #[inline]
    pub(crate) fn acquire_timeout(raw: &'a R, timeout: Duration) -> Option<Self> {
        if acquire_timeout(raw, timeout) {
            // SAFETY:
            // - this thread acquired `raw` just above and hands the hold to the guard.
            Some(unsafe { Self::from_held(raw) })
        } else {
            None
        }
    }

    /// The raw lock this guard holds (an associated function, so it cannot shadow a method
    /// of a future `Deref` target).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Lock, LockGuard, RawLock};
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// assert!(std::ptr::eq(LockGuard::raw(&guard), lock.raw()));
    /// assert!(LockGuard::raw(&guard).is_locked());
    /// ```
    #[inline]
    pub fn raw(this: &Self) -> &'a R {
        this.raw
    }
}

impl<R: RawLock + ?Sized> Drop for LockGuard<'_, R> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY:
        // - a guard exists only while its thread holds the lock (`from_held`'s contract),
        //   and `Condition::wait` gives the hold back before returning the guard.
        unsafe { self.raw.release_unchecked() };
    }
}

impl<R: RawLock + ?Sized> fmt::Debug for LockGuard<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
