//! `Lock`: a mutual-exclusion lock shared between processes (Python's
//! `multiprocessing.Lock`).

use super::raw::{self, Acquired};
use crate::heap::{arc_block, SharedBlock};
use crate::sys;
use serde::{Deserialize, Serialize};
use spindle_sync::threading::{AsRawLock, LockGuard, RawLock, ReleaseError};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A lock that processes (and threads) share: Python's `multiprocessing.Lock`.
///
/// Like `threading.Lock` it has no owning thread: any thread of any process may release it.
/// The lock word records the holder's process id, which makes it robust: if that process dies
/// holding the lock, the next acquirer takes it over (within about 25 ms) instead of hanging,
/// and [`acquire_robust`](Lock::acquire_robust) tells it so.
///
/// The uncontended path is one atomic operation; waiters spin briefly, then park on a futex.
///
/// # Differences from Python
///
/// Python's lock (a POSIX semaphore) stays locked forever when its holder dies. Creating one
/// can fail (it maps a shared block), so [`Lock::new`] returns `io::Result`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use spindle_process::Lock;
///
/// let lock = Lock::new().unwrap();
/// {
///     let _guard = lock.lock();
///     assert!(lock.locked());
///     assert!(!lock.acquire_timeout(Duration::from_millis(1)));
/// }
/// assert!(!lock.locked());
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Lock {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
    offset: usize,
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

impl Lock {
    /// A new, unlocked lock in its own shared block.
    ///
    /// # Errors
    ///
    /// The operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> io::Result<Lock> {
        Ok(Lock {
            block: SharedBlock::new(64)?,
            offset: 0,
        })
    }

    /// A lock whose word lives at `offset` of an existing block (for `Value`, `Queue`, ...).
    pub(crate) fn in_block(block: Arc<SharedBlock>, offset: usize) -> Lock {
        block.word(offset); // bounds check now rather than at first use
        Lock { block, offset }
    }

    fn word(&self) -> &AtomicU32 {
        self.block.word(self.offset)
    }

    /// The lock word (for `Condition`, which releases and re-takes it around a wait).
    pub(crate) fn raw_word(&self) -> &AtomicU32 {
        self.word()
    }

    /// Whether `other` is a handle to the same shared lock.
    pub(crate) fn same_as(&self, other: &Lock) -> bool {
        std::ptr::eq(self.word(), other.word())
    }

    /// Blocks until the lock is taken: Python's `lock.acquire()`. A dead holder's lock is
    /// taken over (see [`acquire_robust`](Lock::acquire_robust) to learn about it).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    pub fn acquire(&self) {
        raw::lock_until(self.word(), sys::getpid(), None);
    }

    /// Takes the lock if it is free: Python's `lock.acquire(block=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // not re-entrant
    /// lock.release().unwrap();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        raw::try_lock(self.word(), sys::getpid())
    }

    /// Waits up to `timeout` for the lock; returns whether it is now held: Python's
    /// `lock.acquire(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = spindle_process::Lock::new().unwrap();
    /// assert!(lock.acquire_timeout(Duration::from_secs(1)));
    /// assert!(!lock.acquire_timeout(Duration::from_millis(1)));
    /// lock.release().unwrap();
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        raw::lock_until(self.word(), sys::getpid(), raw::deadline(Some(timeout))).is_some()
    }

    /// Waits up to `timeout` (`None`: forever) and says how the lock was obtained:
    /// [`Acquired::OwnerDied`] when its holder process had died, so whatever the lock protects
    /// may be inconsistent. `None` if the time ran out.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{synchronize::Acquired, Lock};
    ///
    /// let lock = Lock::new().unwrap();
    /// assert_eq!(lock.acquire_robust(None), Some(Acquired::Clean));
    /// lock.release().unwrap();
    /// ```
    pub fn acquire_robust(&self, timeout: Option<Duration>) -> Option<Acquired> {
        raw::lock_until(self.word(), sys::getpid(), raw::deadline(timeout))
    }

    /// Releases the lock, from any thread or process: Python's `lock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Unlocked`] if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{synchronize::ReleaseError, Lock};
    ///
    /// let lock = Lock::new().unwrap();
    /// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        if raw::unlock_checked(self.word()) {
            Ok(())
        } else {
            Err(ReleaseError::Unlocked)
        }
    }

    /// Whether some process holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// let g = lock.lock();
    /// assert!(lock.locked());
    /// drop(g);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        raw::owner_of(self.word().load(Ordering::Relaxed)) != 0
    }

    /// Acquires and returns a guard that releases on drop: Python's `with lock:`.
    ///
    /// The guard is spindle-sync's [`LockGuard`], shared with `threading::Lock`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// {
    ///     let _g = lock.lock();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    pub fn lock(&self) -> LockGuard<'_, Lock> {
        self.acquire();
        // SAFETY:
        // - this thread just acquired the lock and hands the hold to the guard.
        unsafe { LockGuard::from_held(self) }
    }

    /// A guard if the lock is free now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::Lock::new().unwrap();
    /// let g = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(g);
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_, Lock>> {
        // SAFETY:
        // - the lock was just acquired by this thread; the guard takes over the hold.
        self.try_acquire()
            .then(|| unsafe { LockGuard::from_held(self) })
    }

    /// A guard if the lock could be taken within `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = spindle_process::Lock::new().unwrap();
    /// let g = lock.lock_timeout(Duration::from_secs(1)).unwrap();
    /// assert!(lock.lock_timeout(Duration::from_millis(1)).is_none());
    /// drop(g);
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, Lock>> {
        // SAFETY:
        // - the lock was just acquired by this thread; the guard takes over the hold.
        self.acquire_timeout(timeout)
            .then(|| unsafe { LockGuard::from_held(self) })
    }
}

// SAFETY:
// - exclusion: acquiring is a compare-exchange from 0 (or from a dead owner's exact word) to
//   this process's id, so one acquirer wins until `unlock` stores 0;
// - `release` is one compare-exchange from a held word to 0, so of two racing releases of a
//   once-held lock exactly one succeeds.
unsafe impl RawLock for Lock {
    #[inline]
    fn try_acquire(&self) -> bool {
        Lock::try_acquire(self)
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        raw::lock_until(self.word(), sys::getpid(), deadline).is_some()
    }

    #[inline]
    unsafe fn release_unchecked(&self) {
        raw::unlock(self.word());
    }

    fn release(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }

    fn is_locked(&self) -> bool {
        self.locked()
    }
}

impl AsRawLock for Lock {
    type Raw = Lock;

    fn as_raw_lock(&self) -> &Lock {
        self
    }
}
