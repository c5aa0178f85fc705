//! The robust lock word shared by [`Lock`](super::Lock), [`RLock`](super::RLock) and the
//! internal locks of `Condition` and `Barrier`.
//!
//! The word (a `u32` in shared memory) holds:
//!
//! | value                 | meaning                                                   |
//! |-----------------------|-----------------------------------------------------------|
//! | `0`                   | free                                                      |
//! | `owner`               | held by `owner` (a pid or tid), nobody parked             |
//! | `owner \| WAITERS`    | held, and someone may be parked: release must wake one    |
//!
//! Linux ids are below 2^22, so bit 31 is free for `WAITERS`. The fast paths are one
//! compare-exchange (acquire) and one swap (release); the slow path spins with
//! `crossbeam_utils::Backoff`, then parks with a shared futex wait (parking_lot's
//! `raw_mutex.rs` scheme, with the owner id in place of its "locked" bit).
//!
//! Robustness: a parked waiter wakes at least every [`ROBUST_CHECK`]; if the word still names
//! the same owner and `/proc/<owner>/stat` shows it gone or a zombie, the waiter takes the lock
//! over with a compare-exchange and reports [`Acquired::OwnerDied`]. A recycled pid can hide a
//! dead owner (the lock then waits for the new process to exit); Linux hands out pids
//! cyclically, so this needs the whole pid space to wrap while the lock is held.

use crate::sys::{self, futex};
use crossbeam_utils::Backoff;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Bit set while a waiter may be parked on the word.
pub(crate) const WAITERS: u32 = 1 << 31;

/// How often a parked waiter of a [`Lock`](crate::Lock) or [`RLock`](crate::RLock) checks
/// whether the holder is still alive: the longest a dead holder's lock stays blocked.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::synchronize::ROBUST_CHECK;
///
/// assert!(ROBUST_CHECK <= Duration::from_secs(1));
/// ```
pub const ROBUST_CHECK: Duration = Duration::from_millis(25);

/// How a blocking acquire ended when it got the lock.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// Taken normally.
    Clean,
    /// Taken over from an owner that died holding it; the data it protected may be
    /// half-updated (pthread's `EOWNERDEAD`).
    OwnerDied {
        /// Id of the dead owner (a pid for `Lock`, a thread id for `RLock`).
        owner: u32,
    },
}

/// The owner id stored in `v`.
#[inline]
pub(crate) fn owner_of(v: u32) -> u32 {
    v & !WAITERS
}

#[inline]
pub(crate) fn try_lock(word: &AtomicU32, id: u32) -> bool {
    word.compare_exchange(0, id, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
}

/// Takes the lock for `id`, waiting until `deadline`; `None` if the time ran out.
#[inline]
pub(crate) fn lock_until(word: &AtomicU32, id: u32, deadline: Option<Instant>) -> Option<Acquired> {
    if try_lock(word, id) {
        return Some(Acquired::Clean);
    }
    lock_slow(word, id, deadline)
}

#[cold]
fn lock_slow(word: &AtomicU32, id: u32, deadline: Option<Instant>) -> Option<Acquired> {
    let backoff = Backoff::new();
    while !backoff.is_completed() {
        let v = word.load(Ordering::Relaxed);
        if owner_of(v) == 0
            && word
                .compare_exchange(v, id | (v & WAITERS), Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return Some(Acquired::Clean);
        }
        backoff.snooze();
    }
    let mut last_check = Instant::now();
    loop {
        let v = word.load(Ordering::Relaxed);
        if owner_of(v) == 0 {
            // Keep WAITERS: others may still be parked, and we cannot tell.
            if word
                .compare_exchange(v, id | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Some(Acquired::Clean);
            }
            continue;
        }
        if v & WAITERS == 0
            && word
                .compare_exchange(v, v | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            continue;
        }
        if futex::wait_until(word, v | WAITERS, deadline, Some(ROBUST_CHECK))
            == futex::WaitResult::TimedOut
        {
            // One last chance, so a release racing the deadline is not lost.
            return try_lock(word, id).then_some(Acquired::Clean);
        }
        if last_check.elapsed() >= ROBUST_CHECK {
            last_check = Instant::now();
            let cur = word.load(Ordering::Relaxed);
            let owner = owner_of(cur);
            if owner != 0
                && sys::process_is_dead(owner)
                && word
                    .compare_exchange(cur, id | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Some(Acquired::OwnerDied { owner });
            }
        }
    }
}

/// Releases the lock, waking one parked waiter if there may be one.
#[inline]
pub(crate) fn unlock(word: &AtomicU32) {
    if word.swap(0, Ordering::Release) & WAITERS != 0 {
        futex::wake(word, 1);
    }
}

/// Releases the lock if it is held (by anyone); returns false if it was free.
///
/// Of two racing calls on a once-held lock exactly one succeeds.
pub(crate) fn unlock_checked(word: &AtomicU32) -> bool {
    let mut v = word.load(Ordering::Relaxed);
    loop {
        if owner_of(v) == 0 {
            return false;
        }
        match word.compare_exchange_weak(v, 0, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => {
                if v & WAITERS != 0 {
                    futex::wake(word, 1);
                }
                return true;
            }
            Err(now) => v = now,
        }
    }
}

/// A deadline `timeout` from now; `None` (wait forever) if it cannot be represented.
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}
