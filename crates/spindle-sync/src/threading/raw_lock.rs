//! The raw lock trait every spindle lock implements, so guards and [`Condition`] are written once.
//!
//! Modelled on `lock_api::RawMutex` (lock_api: lock_api/src/mutex.rs), with the extra hooks
//! Python's `threading.Condition` needs (`_is_owned`, `_release_save`, `_acquire_restore`).
//! `threading::Lock`, `threading::RLock` and the process-shared locks of `spindle-process`
//! implement it and share [`LockGuard`] and [`Condition`].
//!
//! [`Condition`]: super::Condition
//! [`LockGuard`]: super::LockGuard

use std::time::{Duration, Instant};

use super::deadline;
use super::error::ReleaseError;

/// A lock word with Python's acquire/release operations and no data.
///
/// Implement this trait to get [`LockGuard`](super::LockGuard) and
/// [`Condition`](super::Condition) for a lock of your own (spindle-process does this for its
/// locks in shared memory). Users normally call the typed wrappers
/// ([`Lock`](super::Lock), [`RLock`](super::RLock)) instead.
///
/// # Safety
///
/// Implementors guarantee exclusion: after a successful `try_acquire`/`acquire_until` no
/// other thread's acquire succeeds until the matching release (for a re-entrant lock: no other
/// *thread's*). `release` must be atomic: of two racing releases of a once-held lock at most
/// one returns `Ok`. `release_save` must release the lock completely, and `acquire_restore`
/// must take it back in the state `release_save` described.
///
/// # Examples
///
/// Code written against the trait works with every spindle lock:
///
/// ```
/// use spindle_sync::threading::{Lock, RawLock, RLock};
///
/// fn held_twice<R: RawLock>(raw: &R) -> bool {
///     raw.acquire();
///     let again = raw.try_acquire();
///     if again {
///         raw.release().unwrap();
///     }
///     raw.release().unwrap();
///     again
/// }
/// assert!(!held_twice(Lock::new().raw()));
/// assert!(held_twice(RLock::new().raw())); // re-entrant
/// ```
pub unsafe trait RawLock {
    /// Takes the lock if that needs no waiting; returns whether it is now held.
    ///
    /// Python's `lock.acquire(blocking=False)`.
    fn try_acquire(&self) -> bool;

    /// Waits until the lock is taken or `deadline` passes (`None`: no deadline); returns
    /// whether it is now held.
    ///
    /// Python's `lock.acquire(timeout=t)`, with the deadline computed once by the caller.
    fn acquire_until(&self, deadline: Option<Instant>) -> bool;

    /// Waits as long as it takes to get the lock.
    ///
    /// Python's `lock.acquire()`.
    #[inline]
    fn acquire(&self) {
        let held = self.acquire_until(None);
        debug_assert!(held, "acquire_until(None) returned false");
    }

    /// Releases the lock, which the caller holds.
    ///
    /// # Safety
    ///
    /// The lock is held, and, where the implementor tracks an owner, held by the calling
    /// thread (a [`LockGuard`](super::LockGuard) is the proof guards rely on).
    unsafe fn release_unchecked(&self);

    /// Releases the lock after checking that the caller may; Python's `lock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Unlocked`] if nobody holds the lock; [`ReleaseError::NotOwner`] if an
    /// owner-tracking lock is held by another thread.
    fn release(&self) -> Result<(), ReleaseError>;

    /// Whether any thread holds the lock now (a snapshot); Python's `lock.locked()`.
    fn is_locked(&self) -> bool;

    /// Whether the calling thread may release the lock and use a [`Condition`] over it;
    /// Python's `Condition._is_owned`.
    ///
    /// The default is [`is_locked`](RawLock::is_locked): a lock without an owner (Python's
    /// `Lock`) counts as owned by whoever sees it held, exactly as CPython decides.
    ///
    /// [`Condition`]: super::Condition
    #[inline]
    fn is_owned(&self) -> bool {
        self.is_locked()
    }

    /// Releases the lock completely and returns what [`acquire_restore`] needs to take it
    /// back; Python's `Condition._release_save`. The default releases once and returns `1`.
    ///
    /// # Safety
    ///
    /// As for [`release_unchecked`](RawLock::release_unchecked): the caller holds the lock.
    ///
    /// [`acquire_restore`]: RawLock::acquire_restore
    #[inline]
    unsafe fn release_save(&self) -> usize {
        // SAFETY:
        // - the caller holds the lock, as this function's contract requires.
        unsafe { self.release_unchecked() };
        1
    }

    /// Takes the lock back after [`release_save`](RawLock::release_save) returned `saved`;
    /// Python's `Condition._acquire_restore`. Waits as long as it takes.
    #[inline]
    fn acquire_restore(&self, saved: usize) {
        let _ = saved;
        self.acquire();
    }
}

/// A value that owns or borrows a [`RawLock`], so [`Condition`](super::Condition) can be built
/// over `Lock`, `RLock`, `&Lock`, `Arc<RLock>` and the process-shared locks alike.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{AsRawLock, Lock, RawLock};
///
/// let lock = Lock::new();
/// let _g = lock.lock();
/// assert!(lock.as_raw_lock().is_locked());
/// assert!((&lock).as_raw_lock().is_locked());
/// ```
pub trait AsRawLock {
    /// The raw lock inside.
    type Raw: RawLock + ?Sized;

    /// Borrows the raw lock.
    fn as_raw_lock(&self) -> &Self::Raw;
}

impl<L: AsRawLock + ?Sized> AsRawLock for &L {
    type Raw = L::Raw;

    #[inline]
    fn as_raw_lock(&self) -> &Self::Raw {
        (**self).as_raw_lock()
    }
}

impl<L: AsRawLock + ?Sized> AsRawLock for std::sync::Arc<L> {
    type Raw = L::Raw;

    #[inline]
    fn as_raw_lock(&self) -> &Self::Raw {
        (**self).as_raw_lock()
    }
}

/// Python's `lock.acquire(timeout=t)` on any raw lock: one try first, so a zero `timeout`
/// never parks; otherwise wait until the deadline (none when `timeout` is too large to add to
/// `Instant::now()`). Returns whether the lock is now held.
#[inline]
pub(crate) fn acquire_timeout<R: RawLock + ?Sized>(raw: &R, timeout: Duration) -> bool {
    raw.try_acquire() || (!timeout.is_zero() && raw.acquire_until(deadline::after(timeout)))
}
