//! [`RawMutex`]: the one-byte lock word under [`Lock`](super::Lock), on `parking_lot_core`.
//!
//! The algorithm is parking_lot's `RawMutex` (parking_lot: src/raw_mutex.rs) without
//! fairness hand-off, plus an atomic *checked* release, because Python lets any thread
//! release a `Lock` and calls releasing an unlocked one an error:
//!
//! | `state`            | meaning                                                    |
//! |--------------------|------------------------------------------------------------|
//! | `0`                | free, nobody parked                                        |
//! | `LOCKED`           | held, nobody parked: release is one CAS                     |
//! | `PARKED`           | free, but threads may be parked: the next release wakes one |
//! | `LOCKED \| PARKED` | held and threads parked: release must wake one              |
//!
//! `PARKED` is only cleared under the parking-lot bucket lock, when the queue for this
//! address is empty, so a wake-up is never lost. The fast paths are one atomic operation;
//! the slow paths spin briefly with `crossbeam_utils::Backoff`, then park.
//!
//! The [`deadlock`](super::deadlock) hooks sit beside the fast paths and around `park`; they
//! are empty `#[inline]` functions unless the `deadlock-detection` feature is on, and
//! `meta` (the lock's name and level for the detector) is then zero-sized.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use crossbeam_utils::Backoff;
use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

use super::deadline;
use super::deadlock::{self, Access, LockKind, LockMeta};
use super::error::ReleaseError;
use super::raw_lock::RawLock;

const LOCKED: u8 = 0b01;
const PARKED: u8 = 0b10;

/// A dataless, owner-less lock word: the raw form of [`Lock`](super::Lock).
///
/// One byte, no allocation, usable in a `static` (`RawMutex::new()` is `const`). Any thread
/// may release it, as with Python's `threading.Lock`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{RawLock, RawMutex};
///
/// static WORD: RawMutex = RawMutex::new();
/// assert!(WORD.try_acquire());
/// assert!(!WORD.try_acquire());
/// WORD.release().unwrap();
/// assert!(WORD.release().is_err());
/// ```
pub struct RawMutex {
    /// See the state table in this file's `//!`.
    state: AtomicU8,
    /// Name, level and kind for the deadlock detector; zero-sized without the feature.
    meta: LockMeta,
}

impl Default for RawMutex {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "deadlock-detection")]
impl Drop for RawMutex {
    fn drop(&mut self) {
        if self.is_locked() {
            deadlock::forget(self.key());
        }
    }
}

impl std::fmt::Debug for RawMutex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

impl RawMutex {
    /// A free lock word.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{RawLock, RawMutex};
    ///
    /// assert!(!RawMutex::new().is_locked());
    /// ```
    pub const fn new() -> Self {
        Self::with_kind(LockKind::Lock)
    }

    /// A free lock word that the deadlock detector reports as a `kind`.
    pub(crate) const fn with_kind(kind: LockKind) -> Self {
        Self {
            state: AtomicU8::new(0),
            meta: LockMeta::new(kind),
        }
    }

    /// Names the lock for the deadlock detector (kept only with the feature on).
    pub(crate) const fn set_name(&mut self, name: &'static str) {
        self.meta = self.meta.with_name(name);
    }

    /// Gives the lock a level for the lock-order checker (kept only with the feature on).
    pub(crate) const fn set_level(&mut self, level: u32) {
        self.meta = self.meta.with_level(level);
    }

    /// A timed acquire of this lock ran out: the error, with the deadlock if there is one.
    #[cold]
    pub(crate) fn timed_out(&self) -> deadlock::AcquireError {
        deadlock::timed_out(self.key(), &self.meta, Access::Exclusive)
    }

    #[inline]
    fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
    }

    #[cold]
    fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            state = match self.lock_from(state) {
                Ok(()) => return true,
                Err(held) => held,
            };
            // Held. Spin a little while nobody is parked yet: holds are usually short.
            if state & PARKED == 0 && !backoff.is_completed() {
                backoff.snooze();
                state = self.state.load(Ordering::Relaxed);
                continue;
            }
            if deadline::passed(deadline) {
                return false;
            }
            if state & PARKED == 0 {
                if let Err(s) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = s;
                    continue;
                }
            }
            let key = self.key();
            let validate = || self.state.load(Ordering::Relaxed) == LOCKED | PARKED;
            let before_sleep = || {};
            let timed_out = |_, was_last_thread: bool| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
            };
            deadlock::parking(key, &self.meta, Access::Exclusive);
            // SAFETY:
            // - `key` is the address of `self.state`; only this type parks or unparks on it.
            // - the callbacks neither panic nor call into parking_lot_core.
            let result = unsafe {
                parking_lot_core::park(
                    key,
                    validate,
                    before_sleep,
                    timed_out,
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            deadlock::unparked();
            match result {
                ParkResult::TimedOut => return false,
                ParkResult::Unparked(_) | ParkResult::Invalid => {
                    backoff.reset();
                    state = self.state.load(Ordering::Relaxed);
                }
            }
        }
    }

    /// Clears `LOCKED` from a state that has it, then wakes one parked thread if any.
    #[cold]
    fn release_slow(&self) -> Result<(), ReleaseError> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                return Err(ReleaseError::Unlocked);
            }
            match self.state.compare_exchange_weak(
                state,
                state & !LOCKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        if state & PARKED != 0 {
            self.wake_one();
        }
        Ok(())
    }

    fn wake_one(&self) {
        let key = self.key();
        let callback = |result: parking_lot_core::UnparkResult| {
            if !result.have_more_threads {
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY:
        // - `key` is the address of `self.state`; only this type parks or unparks on it.
        // - the callback neither panics nor calls into parking_lot_core.
        unsafe {
            parking_lot_core::unpark_one(key, callback);
        }
    }
}

// SAFETY:
// - acquire only succeeds by a CAS that sets `LOCKED` from a state without it, and only a
//   release clears it, so holds exclude each other.
// - `release` clears `LOCKED` by CAS from a state that has it: of two racing releases only
//   one CAS can succeed, the other sees `LOCKED` clear and fails.
unsafe impl RawLock for RawMutex {
    #[inline]
    fn try_acquire(&self) -> bool {
        let held = self.try_acquire_word();
        if held {
            deadlock::acquired(self.key(), &self.meta, Access::Exclusive);
        }
        held
    }

    #[inline]
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        deadlock::before_acquire(self.key(), &self.meta);
        let held = self
            .state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            || self.acquire_slow(deadline);
        if held {
            deadlock::acquired(self.key(), &self.meta, Access::Exclusive);
        }
        held
    }

    #[inline]
    unsafe fn release_unchecked(&self) {
        let _ = self.release();
    }

    #[inline]
    fn release(&self) -> Result<(), ReleaseError> {
        // Before the word is released, so a new holder's record cannot be the one removed.
        deadlock::released(self.key(), Access::Exclusive);
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(());
        }
        self.release_slow()
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }
}

impl RawMutex {
    /// The lock-word half of `try_acquire`.
    #[inline]
    fn try_acquire_word(&self) -> bool {
        match self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(s) => self.lock_from(s).is_ok(),
        }
    }

    /// Sets `LOCKED` in a word last seen as `state`, retrying while the word changes but
    /// stays free; `Err` with the word it saw held. Shared by `try_acquire` and the slow path.
    #[inline]
    fn lock_from(&self, mut state: u8) -> Result<(), u8> {
        loop {
            if state & LOCKED != 0 {
                return Err(state);
            }
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(s) => state = s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_bit_is_cleared_when_the_last_waiter_leaves() {
        let m = RawMutex::new();
        assert!(m.try_acquire());
        let deadline = Instant::now() + std::time::Duration::from_millis(20);
        assert!(!m.acquire_until(Some(deadline)));
        assert_eq!(m.state.load(Ordering::Relaxed), LOCKED);
        m.release().unwrap();
        assert_eq!(m.state.load(Ordering::Relaxed), 0);
    }
}
