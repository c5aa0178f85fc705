//! [`RLock`]: Python's `threading.RLock`, a lock its owner may take again.

use std::fmt;
use std::time::Duration;

use super::deadlock::AcquireError;
use super::error::ReleaseError;
use super::lock_guard::LockGuard;
use super::raw_lock::{self, AsRawLock, RawLock};
use super::raw_rlock::RawRLock;

/// A re-entrant lock: Python's `threading.RLock`.
///
/// The thread that holds it may acquire it again; it is free once that thread released it as
/// many times as it acquired it. Only the owner may release it. [`lock`](RLock::lock) returns
/// a guard (Python's `with rlock:`); [`acquire`](RLock::acquire) and
/// [`release`](RLock::release) are the raw form.
///
/// # Differences from Python
///
/// A release by a thread that does not own the lock returns [`ReleaseError::NotOwner`] (or
/// [`ReleaseError::Unlocked`] if nobody holds it) instead of raising `RuntimeError`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::RLock;
///
/// let rlock = RLock::new();
/// let outer = rlock.lock();
/// let inner = rlock.lock(); // same thread: no deadlock
/// drop(inner);
/// std::thread::scope(|s| {
///     // Another thread cannot take it, nor release it.
///     s.spawn(|| {
///         assert!(!rlock.try_acquire());
///         assert!(rlock.release().is_err());
///     });
/// });
/// drop(outer);
/// assert!(!rlock.locked());
/// ```
#[derive(Default)]
pub struct RLock {
    raw: RawRLock,
}

impl RLock {
    /// A new, free re-entrant lock; Python's `threading.RLock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// static R: RLock = RLock::new();
    /// assert!(!R.locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            raw: RawRLock::new(),
        }
    }

    /// A new, free re-entrant lock named `name` for diagnostics:
    /// `RLock::new().with_name(name)` (see [`with_name`](RLock::with_name)).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// static REGISTRY: RLock = RLock::named("registry");
    /// assert!(!REGISTRY.locked());
    /// ```
    pub const fn named(name: &'static str) -> Self {
        Self::new().with_name(name)
    }

    /// The same lock, named `name` for diagnostics (see
    /// [`Lock::with_name`](super::Lock::with_name) for where the name shows and what it costs).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new().with_name("cache").with_level(3);
    /// assert!(!r.locked());
    /// ```
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.raw.set_name(name);
        self
    }

    /// The same lock at `level` for the lock-order checker (see
    /// [`Lock::with_level`](super::Lock::with_level)). Re-entering a held `RLock` is never
    /// an order violation.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::named("tree").with_level(1);
    /// let _a = r.lock();
    /// let _b = r.lock(); // re-entry: no check
    /// assert!(r.is_owned());
    /// ```
    pub const fn with_level(mut self, level: u32) -> Self {
        self.raw.set_level(level);
        self
    }

    /// Waits for the lock (at once if this thread owns it) and returns a guard that releases
    /// one level when dropped; Python's `with rlock:`.
    ///
    /// # Panics
    ///
    /// If this thread already holds it `usize::MAX` times.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let _a = r.lock();
    /// let _b = r.lock();
    /// assert_eq!(r.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_, RawRLock> {
        LockGuard::acquire(&self.raw)
    }

    /// Like [`lock`](RLock::lock), but gives up after `timeout`, returning `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// assert!(r.lock_timeout(Duration::from_millis(1)).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, RawRLock>> {
        LockGuard::acquire_timeout(&self.raw, timeout)
    }

    /// Waits as long as it takes; Python's `rlock.acquire()`.
    ///
    /// # Panics
    ///
    /// If this thread already holds it `usize::MAX` times.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// r.acquire();
    /// r.release().unwrap();
    /// r.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.raw.acquire();
    }

    /// Takes the lock if this thread owns it or it is free; Python's
    /// `rlock.acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// assert!(r.try_acquire());
    /// assert!(r.try_acquire());
    /// # r.release().unwrap(); r.release().unwrap();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Waits until the lock is taken or `timeout` has passed; returns whether it is held.
    /// Python's `rlock.acquire(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let _held = r.lock();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!r.acquire_timeout(Duration::from_millis(5))));
    /// });
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        raw_lock::acquire_timeout(&self.raw, timeout)
    }

    /// [`acquire_timeout`](RLock::acquire_timeout) that says why it failed; see
    /// [`Lock::acquire_timeout_checked`](super::Lock::acquire_timeout_checked).
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] if the lock stayed held by a thread that is not waiting on
    /// this one; [`AcquireError::Deadlock`] with the wait chain if it is part of a cycle
    /// (with the `deadlock-detection` feature).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{AcquireError, RLock};
    ///
    /// let r = RLock::new();
    /// let _held = r.lock();
    /// assert_eq!(r.acquire_timeout_checked(Duration::from_millis(1)), Ok(())); // re-entry
    /// # r.release().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = r.acquire_timeout_checked(Duration::from_millis(5));
    ///         assert_eq!(err, Err(AcquireError::Timeout));
    ///     });
    /// });
    /// ```
    pub fn acquire_timeout_checked(&self, timeout: Duration) -> Result<(), AcquireError> {
        if self.acquire_timeout(timeout) {
            Ok(())
        } else {
            Err(self.raw.timed_out())
        }
    }

    /// Releases one level of this thread's hold; Python's `rlock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::NotOwner`] if another thread holds the lock;
    /// [`ReleaseError::Unlocked`] if nobody does.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{ReleaseError, RLock};
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.release(), Err(ReleaseError::Unlocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw.release()
    }

    /// Whether any thread holds the lock now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let _g = r.lock();
    /// assert!(r.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether the calling thread holds the lock; Python's `rlock._is_owned()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let _g = r.lock();
    /// assert!(r.is_owned());
    /// std::thread::scope(|s| { s.spawn(|| assert!(!r.is_owned())); });
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.raw.is_owned()
    }

    /// How many times the calling thread holds the lock (0 if it does not); Python's
    /// `rlock._recursion_count()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let _a = r.lock();
    /// let _b = r.lock();
    /// assert_eq!(r.recursion_count(), 2);
    /// ```
    pub fn recursion_count(&self) -> usize {
        self.raw.recursion_count()
    }

    /// The raw lock word, for code generic over [`RawLock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{RawLock, RLock};
    ///
    /// let r = RLock::new();
    /// let _g = r.lock();
    /// assert!(r.raw().is_owned());
    /// ```
    pub fn raw(&self) -> &RawRLock {
        &self.raw
    }
}

impl AsRawLock for RLock {
    type Raw = RawRLock;

    #[inline]
    fn as_raw_lock(&self) -> &RawRLock {
        &self.raw
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .finish()
    }
}
