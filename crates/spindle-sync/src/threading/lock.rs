//! [`Lock`]: Python's `threading.Lock`, a dataless lock any thread may release.

use std::fmt;
use std::time::Duration;

use super::deadlock::AcquireError;
use super::error::ReleaseError;
use super::lock_guard::LockGuard;
use super::raw_lock::{self, AsRawLock, RawLock};
use super::raw_mutex::RawMutex;

/// A primitive lock: Python's `threading.Lock`.
///
/// It guards no data (pair it with atomics, or use [`RwLock`](super::RwLock) or
/// `parking_lot::Mutex` when the lock should own the data). Take it with
/// [`lock`](Lock::lock) for an RAII guard (Python's `with lock:`), or with
/// [`acquire`](Lock::acquire) and end the hold with [`release`](Lock::release) from any
/// thread, as Python allows. The uncontended acquire and release are one atomic operation
/// each; a contended acquire spins briefly and then parks. There is no poisoning: a panic in
/// a holder that owns a guard releases the lock.
///
/// # Differences from Python
///
/// Releasing an unlocked lock returns [`ReleaseError::Unlocked`] instead of raising
/// `RuntimeError`.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use spindle_sync::threading::Lock;
///
/// let lock = Lock::new();
/// let total = AtomicU64::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 let _g = lock.lock();
///                 // A read-modify-write that is only correct under the lock.
///                 let v = total.load(Ordering::Relaxed);
///                 total.store(v + 1, Ordering::Relaxed);
///             }
///         });
///     }
/// });
/// assert_eq!(total.load(Ordering::Relaxed), 4000);
/// ```
#[derive(Default)]
pub struct Lock {
    raw: RawMutex,
}

impl Lock {
    /// A new, unlocked lock; Python's `threading.Lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// static LOCK: Lock = Lock::new();
    /// assert!(!LOCK.locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            raw: RawMutex::new(),
        }
    }

    /// A new, unlocked lock named `name` for diagnostics: `Lock::new().with_name(name)`
    /// (see [`with_name`](Lock::with_name) for where the name shows).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// static ACCOUNTS: Lock = Lock::named("accounts");
    /// assert!(!ACCOUNTS.locked());
    /// ```
    pub const fn named(name: &'static str) -> Self {
        Self::new().with_name(name)
    }

    /// The same lock, named `name` for diagnostics.
    ///
    /// The name is what the deadlock detector's reports print instead of the lock's address,
    /// and a class for the `lock_order` checker (with the
    /// `deadlock-detection` feature). Without the feature it is not stored, so naming costs
    /// nothing and code compiles either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new().with_name("ledger").with_level(2);
    /// assert!(!lock.locked());
    /// ```
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.raw.set_name(name);
        self
    }

    /// The same lock at `level` for the lock-order checker: in debug builds with the
    /// `deadlock-detection` feature, taking it while holding a lock of an equal or higher
    /// level is reported (see `lock_order`). Not stored without the
    /// feature.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let outer = Lock::named("outer").with_level(1);
    /// let inner = Lock::named("inner").with_level(2);
    /// let _o = outer.lock();
    /// let _i = inner.lock(); // increasing levels: in order
    /// assert!(outer.locked() && inner.locked());
    /// ```
    pub const fn with_level(mut self, level: u32) -> Self {
        self.raw.set_level(level);
        self
    }

    /// Waits for the lock and returns a guard that releases it when dropped; Python's
    /// `with lock:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// assert!(!lock.try_acquire());
    /// drop(guard);
    /// assert!(lock.try_acquire());
    /// # lock.release().unwrap();
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_> {
        LockGuard::acquire(&self.raw)
    }

    /// Like [`lock`](Lock::lock) but gives up after `timeout`, returning `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let held = lock.lock();
    /// assert!(lock.lock_timeout(Duration::from_millis(1)).is_none());
    /// drop(held);
    /// assert!(lock.lock_timeout(Duration::from_millis(1)).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        LockGuard::acquire_timeout(&self.raw, timeout)
    }

    /// Returns a guard if the lock is free now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let g = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(g);
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        LockGuard::try_acquire(&self.raw)
    }

    /// Waits as long as it takes to get the lock; Python's `lock.acquire()`.
    ///
    /// No guard comes back: end the hold with [`release`](Lock::release), from this thread
    /// or any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// // Python lets another thread end the hold.
    /// std::thread::scope(|s| { s.spawn(|| lock.release().unwrap()); });
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.raw.acquire();
    }

    /// Takes the lock if it is free now; Python's `lock.acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// lock.release().unwrap();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Waits until the lock is taken or `timeout` has passed; returns whether it is now held.
    ///
    /// Python's `lock.acquire(timeout=t)`. No guard comes back: end the hold with
    /// [`release`](Lock::release), from this thread or any other. A zero `timeout` tries
    /// once and never parks; one too large to add to `Instant::now()` waits with no deadline.
    ///
    /// # Differences from Python
    ///
    /// `Duration` cannot be negative, so Python's `ValueError` for `timeout=-2` has no twin.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)));
    /// // Held already, so this attempt gives up instead of hanging.
    /// assert!(!lock.acquire_timeout(Duration::from_millis(5)));
    /// lock.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        raw_lock::acquire_timeout(&self.raw, timeout)
    }

    /// [`acquire_timeout`](Lock::acquire_timeout) that says why it failed: a plain timeout,
    /// or the deadlock the wait ran into.
    ///
    /// With the `deadlock-detection` feature, when the time runs out the detector looks for
    /// a cycle through this thread's wait (other threads waiting for locks this thread holds)
    /// and returns it as [`AcquireError::Deadlock`]; the caller can then release what it
    /// holds to break the deadlock. Without the feature, failure is always
    /// [`AcquireError::Timeout`]. `acquire_timeout` keeps Python's `bool`.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] if the lock stayed held by a thread that is not waiting on
    /// this one; [`AcquireError::Deadlock`] with the wait chain if it is part of a cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{AcquireError, Lock};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_timeout_checked(Duration::from_millis(5)), Ok(()));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = lock.acquire_timeout_checked(Duration::from_millis(5));
    ///         assert_eq!(err, Err(AcquireError::Timeout)); // held, but nobody waits on us
    ///     });
    /// });
    /// lock.release().unwrap();
    /// ```
    pub fn acquire_timeout_checked(&self, timeout: Duration) -> Result<(), AcquireError> {
        if self.acquire_timeout(timeout) {
            Ok(())
        } else {
            Err(self.raw.timed_out())
        }
    }

    /// Releases the lock, which any thread may do; Python's `lock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Unlocked`] if the lock was not held. The check and the release are one
    /// atomic step: of two racing releases of one hold, exactly one succeeds.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Lock, ReleaseError};
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw.release()
    }

    /// Whether the lock is held now (a snapshot); Python's `lock.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let _g = lock.lock();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The raw lock word, for code generic over [`RawLock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Lock, RawLock};
    ///
    /// let lock = Lock::new();
    /// assert!(lock.raw().try_acquire());
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    pub fn raw(&self) -> &RawMutex {
        &self.raw
    }
}

impl AsRawLock for Lock {
    type Raw = RawMutex;

    #[inline]
    fn as_raw_lock(&self) -> &RawMutex {
        &self.raw
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}
