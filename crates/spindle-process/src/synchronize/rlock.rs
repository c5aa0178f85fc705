//! `RLock`: a re-entrant lock shared between processes (Python's `multiprocessing.RLock`).

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

/// A lock the holding thread may take again: Python's `multiprocessing.RLock`.
///
/// The word holds the owning thread's kernel id (unique across processes) and a count beside
/// it. Only the owner may release. Robust like [`Lock`](super::Lock): when the owning thread
/// is gone (its process died), the next acquirer takes it over with a fresh count.
///
/// # Examples
///
/// ```
/// use spindle_process::RLock;
///
/// let r = RLock::new().unwrap();
/// let a = r.lock();
/// let b = r.lock(); // same thread: no deadlock
/// drop(b);
/// drop(a);
/// assert!(r.release().is_err()); // not held any more
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct RLock {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("owner", &raw::owner_of(self.word().load(Ordering::Relaxed)))
            .field("count", &self.count().load(Ordering::Relaxed))
            .finish()
    }
}

impl RLock {
    /// A new, unlocked re-entrant lock.
    ///
    /// # Errors
    ///
    /// The operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::RLock::new().unwrap();
    /// let _g = lock.lock();
    /// ```
    pub fn new() -> io::Result<RLock> {
        Ok(RLock {
            block: SharedBlock::new(64)?,
        })
    }

    fn word(&self) -> &AtomicU32 {
        self.block.word(0)
    }

    /// Recursion depth; written only by the owner.
    fn count(&self) -> &AtomicU32 {
        self.block.word(4)
    }

    fn mine(&self) -> bool {
        raw::owner_of(self.word().load(Ordering::Relaxed)) == sys::gettid()
    }

    fn acquire_inner(&self, deadline: Option<Instant>) -> Option<Acquired> {
        if self.mine() {
            self.count().fetch_add(1, Ordering::Relaxed);
            return Some(Acquired::Clean);
        }
        let got = raw::lock_until(self.word(), sys::gettid(), deadline)?;
        self.count().store(1, Ordering::Relaxed);
        Some(got)
    }

    /// Blocks until this thread holds the lock (again): Python's `rlock.acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::RLock::new().unwrap();
    /// lock.acquire();
    /// lock.acquire(); // re-entrant
    /// lock.release().unwrap();
    /// lock.release().unwrap();
    /// ```
    pub fn acquire(&self) {
        self.acquire_inner(None);
    }

    /// Takes the lock if it is free or already ours.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::RLock::new().unwrap();
    /// assert!(lock.try_acquire());
    /// assert!(lock.try_acquire()); // the owner may take it again
    /// lock.release().unwrap();
    /// lock.release().unwrap();
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.acquire_inner(Some(Instant::now())).is_some()
    }

    /// Waits up to `timeout`; returns whether this thread now holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = spindle_process::RLock::new().unwrap();
    /// assert!(lock.acquire_timeout(Duration::from_secs(1)));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!lock.acquire_timeout(Duration::from_millis(1))));
    /// });
    /// lock.release().unwrap();
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_inner(raw::deadline(Some(timeout))).is_some()
    }

    /// Like [`Lock::acquire_robust`](super::Lock::acquire_robust): reports a takeover from a
    /// dead owner. `None` if the time ran out.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{synchronize::Acquired, RLock};
    ///
    /// let lock = RLock::new().unwrap();
    /// assert_eq!(lock.acquire_robust(None), Some(Acquired::Clean));
    /// lock.release().unwrap();
    /// ```
    pub fn acquire_robust(&self, timeout: Option<Duration>) -> Option<Acquired> {
        self.acquire_inner(raw::deadline(timeout))
    }

    /// Releases one level: Python's `rlock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Unlocked`] if nobody holds it; [`ReleaseError::NotOwner`] if another
    /// thread does.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{synchronize::ReleaseError, RLock};
    ///
    /// let lock = RLock::new().unwrap();
    /// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    /// lock.acquire();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(lock.release(), Err(ReleaseError::NotOwner)));
    /// });
    /// lock.release().unwrap();
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        let owner = raw::owner_of(self.word().load(Ordering::Relaxed));
        if owner == 0 {
            return Err(ReleaseError::Unlocked);
        }
        if owner != sys::gettid() {
            return Err(ReleaseError::NotOwner);
        }
        if self.count().fetch_sub(1, Ordering::Relaxed) == 1 {
            raw::unlock(self.word());
        }
        Ok(())
    }

    /// Acquires and returns a guard that releases one level on drop (spindle-sync's
    /// [`LockGuard`], shared with `threading::RLock`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle_process::RLock::new().unwrap();
    /// let outer = lock.lock();
    /// let inner = lock.lock();
    /// drop(inner);
    /// drop(outer);
    /// assert!(lock.try_acquire());
    /// lock.release().unwrap();
    /// ```
    pub fn lock(&self) -> LockGuard<'_, RLock> {
        self.acquire();
        // SAFETY:
        // - this thread just acquired one level and hands it to the guard.
        unsafe { LockGuard::from_held(self) }
    }
}

// SAFETY:
// - exclusion between threads: the word goes from 0 (or a dead owner's exact word) to this
//   thread's id by compare-exchange; re-entry only bumps the count of the owning thread;
// - `release` is done by the owner only (checked), so two racing releases cannot both
//   free the last level;
// - `release_save` drops every level at once and `acquire_restore` takes the lock and
//   restores that count.
unsafe impl RawLock for RLock {
    fn try_acquire(&self) -> bool {
        RLock::try_acquire(self)
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.acquire_inner(deadline).is_some()
    }

    unsafe fn release_unchecked(&self) {
        let _ = RLock::release(self);
    }

    fn release(&self) -> Result<(), ReleaseError> {
        RLock::release(self)
    }

    fn is_locked(&self) -> bool {
        raw::owner_of(self.word().load(Ordering::Relaxed)) != 0
    }

    fn is_owned(&self) -> bool {
        self.mine()
    }

    unsafe fn release_save(&self) -> usize {
        let n = self.count().swap(0, Ordering::Relaxed);
        raw::unlock(self.word());
        n as usize
    }

    fn acquire_restore(&self, saved: usize) {
        raw::lock_until(self.word(), sys::gettid(), None);
        self.count().store(saved as u32, Ordering::Relaxed);
    }
}

impl AsRawLock for RLock {
    type Raw = RLock;

    fn as_raw_lock(&self) -> &RLock {
        self
    }
}
