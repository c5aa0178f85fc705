//! [`RawRLock`]: the re-entrant lock word under [`RLock`](super::RLock): a [`RawMutex`] plus
//! an owner (the holder's [`get_ident`]) and a recursion count, as in parking_lot's
//! `RawReentrantMutex` (lock_api: lock_api/src/remutex.rs).
//!
//! | field   | meaning                                                              |
//! |---------|----------------------------------------------------------------------|
//! | `owner` | 0 when free; else the ident of the holding thread                    |
//! | `count` | how many times the owner acquired it; read and written only by owner |
//!
//! A re-acquire by the owner is one load and one store; the first acquire is the
//! [`RawMutex`] fast path plus two stores.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::deadlock::{AcquireError, LockKind};
use super::error::ReleaseError;
use super::raw_lock::RawLock;
use super::raw_mutex::RawMutex;
use super::thread_info::get_ident;

/// The raw form of [`RLock`](super::RLock): re-entrant, released only by its owner.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{RawLock, RawRLock};
///
/// let raw = RawRLock::new();
/// assert!(raw.try_acquire());
/// assert!(raw.try_acquire()); // again, same thread
/// raw.release().unwrap();
/// assert!(raw.is_locked());
/// raw.release().unwrap();
/// assert!(!raw.is_locked());
/// ```
pub struct RawRLock {
    mutex: RawMutex,
    owner: AtomicU64,
    count: AtomicUsize,
}

impl Default for RawRLock {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RawRLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRLock")
            .field("owner", &self.owner.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RawRLock {
    /// A free re-entrant lock word.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{RawLock, RawRLock};
    ///
    /// assert!(!RawRLock::new().is_locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            mutex: RawMutex::with_kind(LockKind::RLock),
            owner: AtomicU64::new(0),
            count: AtomicUsize::new(0),
        }
    }

    /// Names the lock for the deadlock detector (kept only with the feature on).
    pub(crate) const fn set_name(&mut self, name: &'static str) {
        self.mutex.set_name(name);
    }

    /// Gives the lock a level for the lock-order checker (kept only with the feature on).
    pub(crate) const fn set_level(&mut self, level: u32) {
        self.mutex.set_level(level);
    }

    /// A timed acquire of this lock ran out: the error, with the deadlock if there is one.
    #[cold]
    pub(crate) fn timed_out(&self) -> AcquireError {
        self.mutex.timed_out()
    }

    /// How many times the calling thread holds the lock (0 if it does not).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{RawLock, RawRLock};
    ///
    /// let raw = RawRLock::new();
    /// raw.acquire();
    /// assert_eq!(raw.recursion_count(), 1);
    /// raw.release().unwrap();
    /// ```
    pub fn recursion_count(&self) -> usize {
        if self.owner.load(Ordering::Relaxed) == get_ident() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Re-enters if the caller owns the lock; returns whether it did.
    #[inline]
    fn reenter(&self, me: u64) -> bool {
        if self.owner.load(Ordering::Relaxed) != me {
            return false;
        }
        let count = self.count.load(Ordering::Relaxed);
        let count = count
            .checked_add(1)
            .expect("RLock recursion count overflow");
        self.count.store(count, Ordering::Relaxed);
        true
    }

    #[inline]
    fn take(&self, me: u64, count: usize) {
        self.owner.store(me, Ordering::Relaxed);
        self.count.store(count, Ordering::Relaxed);
    }
}

// SAFETY:
// - exclusion between threads comes from the inner `RawMutex`: a thread other than the owner
//   only succeeds by acquiring it, and only the owner releases it (when the count reaches 0).
// - `owner` equals the caller's ident only on the thread that stored it while holding the
//   mutex, so `reenter` succeeds only for the holder.
// - `release` checks the owner first; racing releases by the owner are impossible (one
//   thread) and releases by others fail.
unsafe impl RawLock for RawRLock {
    #[inline]
    fn try_acquire(&self) -> bool {
        let me = get_ident();
        if self.reenter(me) {
            return true;
        }
        if self.mutex.try_acquire() {
            self.take(me, 1);
            true
        } else {
            false
        }
    }

    #[inline]
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        let me = get_ident();
        if self.reenter(me) {
            return true;
        }
        if self.mutex.acquire_until(deadline) {
            self.take(me, 1);
            true
        } else {
            false
        }
    }

    #[inline]
    unsafe fn release_unchecked(&self) {
        let count = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.owner.store(0, Ordering::Relaxed);
            // SAFETY:
            // - the caller owns this lock, so it holds the inner mutex.
            unsafe { self.mutex.release_unchecked() };
        }
    }

    fn release(&self) -> Result<(), ReleaseError> {
        if self.owner.load(Ordering::Relaxed) != get_ident() {
            return Err(if self.mutex.is_locked() {
                ReleaseError::NotOwner
            } else {
                ReleaseError::Unlocked
            });
        }
        // SAFETY:
        // - the calling thread is the owner, checked just above.
        unsafe { self.release_unchecked() };
        Ok(())
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.mutex.is_locked()
    }

    #[inline]
    fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == get_ident()
    }

    unsafe fn release_save(&self) -> usize {
        let count = self.count.swap(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        // SAFETY:
        // - the caller owns this lock, so it holds the inner mutex.
        unsafe { self.mutex.release_unchecked() };
        count
    }

    fn acquire_restore(&self, saved: usize) {
        self.mutex.acquire();
        self.take(get_ident(), saved);
    }
}
