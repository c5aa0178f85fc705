//! [`RawRwLock`]: the writer-preferring reader-writer lock word under
//! [`RwLock`](super::RwLock), on `parking_lot_core`.
//!
//! One `usize` holds everything (layout from low bits up):
//!
//! | bits                  | meaning                                                      |
//! |-----------------------|--------------------------------------------------------------|
//! | `WRITER`              | a writer holds the lock                                      |
//! | `READERS_PARKED`      | readers may be parked on `key_readers`                       |
//! | `WRITERS_PARKED`      | writers may be parked on `key_writers`                       |
//! | `WAITING_*` (count)   | writers that want the lock: while non-zero, new readers wait |
//! | `READER_*` (count)    | readers holding the lock                                     |
//!
//! Writer preference: a writer announces itself in the waiting count before it waits, and a
//! reader only enters when there is no writer and no waiting writer. A releasing writer hands
//! over to a parked writer if any waits, and wakes all parked readers otherwise; the last
//! reader out wakes one parked writer. A writer that times out leaves the waiting count and,
//! if it was the last, wakes the readers it held back. The parked bits are cleared only
//! under the bucket lock or right before an `unpark_all`, so no wake-up is lost.
//! Readers re-entering while a writer waits deadlock, as with parking_lot's lock.
//!
//! The [`deadlock`](super::deadlock) hooks (empty unless the `deadlock-detection` feature is
//! on) record read and write holds on success, the wait around each `park`, and the end of
//! a hold just before the word changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crossbeam_utils::Backoff;
use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

use super::deadline;
use super::deadlock::{self, Access, AcquireError, LockKind, LockMeta};

const WRITER: usize = 0b001;
const READERS_PARKED: usize = 0b010;
const WRITERS_PARKED: usize = 0b100;
const WAITING_SHIFT: u32 = 3;
const WAITING_BITS: u32 = if usize::BITS >= 64 { 20 } else { 10 };
const ONE_WAITING: usize = 1 << WAITING_SHIFT;
const WAITING_MASK: usize = ((1 << WAITING_BITS) - 1) << WAITING_SHIFT;
const READER_SHIFT: u32 = WAITING_SHIFT + WAITING_BITS;
const ONE_READER: usize = 1 << READER_SHIFT;
const READERS_MASK: usize = !(ONE_READER - 1);

/// The raw lock word of [`RwLock`](super::RwLock): many readers or one writer, writers first.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::RawRwLock;
///
/// let raw = RawRwLock::new();
/// assert!(raw.try_read());
/// assert!(raw.try_read());
/// assert!(!raw.try_write());
/// // SAFETY: two read holds were taken above.
/// unsafe { raw.read_unlock(); raw.read_unlock(); }
/// assert!(raw.try_write());
/// // SAFETY: the write hold was taken above.
/// unsafe { raw.write_unlock() };
/// ```
pub struct RawRwLock {
    /// See the table in this file's `//!`.
    state: AtomicUsize,
    /// Name, level and kind for the deadlock detector; zero-sized without the feature.
    meta: LockMeta,
}

impl Default for RawRwLock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "deadlock-detection")]
impl Drop for RawRwLock {
    fn drop(&mut self) {
        if self.is_locked() {
            deadlock::forget(self.key_readers());
        }
    }
}

impl std::fmt::Debug for RawRwLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        f.debug_struct("RawRwLock")
            .field("writer", &(s & WRITER != 0))
            .field("readers", &(s >> READER_SHIFT))
            .finish_non_exhaustive()
    }
}

impl RawRwLock {
    /// A free lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// assert!(!RawRwLock::new().is_locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            meta: LockMeta::new(LockKind::RwLock),
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

    /// A timed acquire of this lock for `access` ran out: the error, with the deadlock if
    /// there is one.
    #[cold]
    pub(crate) fn timed_out(&self, access: Access) -> AcquireError {
        deadlock::timed_out(self.key_readers(), &self.meta, access)
    }

    fn key_readers(&self) -> usize {
        &self.state as *const AtomicUsize as usize
    }

    fn key_writers(&self) -> usize {
        self.key_readers() + 1
    }

    /// Whether a writer holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_write());
    /// assert!(raw.is_locked_exclusive());
    /// // SAFETY: the write hold was taken above.
    /// unsafe { raw.write_unlock() };
    /// ```
    pub fn is_locked_exclusive(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WRITER != 0
    }

    /// Whether anyone (reader or writer) holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_read());
    /// assert!(raw.is_locked() && !raw.is_locked_exclusive());
    /// // SAFETY: the read hold was taken above.
    /// unsafe { raw.read_unlock() };
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & (WRITER | READERS_MASK) != 0
    }

    /// Takes a read hold if no writer holds or waits. End it with
    /// [`read_unlock`](RawRwLock::read_unlock).
    ///
    /// # Panics
    ///
    /// If the number of readers would overflow its field.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_read() && raw.try_read()); // readers share
    /// assert!(!raw.try_write());
    /// // SAFETY: the two read holds were taken above.
    /// unsafe {
    ///     raw.read_unlock();
    ///     raw.read_unlock();
    /// }
    /// assert!(!raw.is_locked());
    /// ```
    #[inline]
    pub fn try_read(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (WRITER | WAITING_MASK) != 0 {
                return false;
            }
            let new = s
                .checked_add(ONE_READER)
                .expect("RwLock reader count overflow");
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => {
                    deadlock::acquired(self.key_readers(), &self.meta, Access::Shared);
                    return true;
                }
                Err(x) => s = x,
            }
        }
    }

    /// Takes the write hold if the lock is free. End it with
    /// [`write_unlock`](RawRwLock::write_unlock).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_write());
    /// assert!(!raw.try_write() && !raw.try_read());
    /// // SAFETY: the write hold was taken above.
    /// unsafe { raw.write_unlock() };
    /// assert!(!raw.is_locked());
    /// ```
    #[inline]
    pub fn try_write(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (WRITER | READERS_MASK) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | WRITER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    deadlock::acquired(self.key_readers(), &self.meta, Access::Exclusive);
                    return true;
                }
                Err(x) => s = x,
            }
        }
    }

    /// Waits for a read hold until `deadline` (`None`: forever); returns whether it got one.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.read_until(None));
    /// // SAFETY: the read hold was taken above.
    /// unsafe { raw.read_unlock() };
    /// ```
    #[inline]
    pub fn read_until(&self, deadline: Option<Instant>) -> bool {
        deadlock::before_acquire(self.key_readers(), &self.meta);
        // Both record the hold: every successful read goes through `try_read`.
        self.try_read() || self.read_slow(deadline)
    }

    /// Waits for the write hold until `deadline` (`None`: forever); returns whether it got it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_read());
    /// assert!(!raw.write_until(Some(Instant::now() + Duration::from_millis(2))));
    /// // SAFETY: the read hold was taken above.
    /// unsafe { raw.read_unlock() };
    /// ```
    #[inline]
    pub fn write_until(&self, deadline: Option<Instant>) -> bool {
        deadlock::before_acquire(self.key_readers(), &self.meta);
        let held = self
            .state
            .compare_exchange_weak(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            || self.write_slow(deadline);
        if held {
            deadlock::acquired(self.key_readers(), &self.meta, Access::Exclusive);
        }
        held
    }

    /// Ends a read hold.
    ///
    /// # Safety
    ///
    /// The caller holds a read hold it has not ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_read());
    /// // SAFETY: the read hold was taken above and is ended once.
    /// unsafe { raw.read_unlock() };
    /// assert!(raw.try_write()); // no reader left
    /// // SAFETY: the write hold was taken just above.
    /// unsafe { raw.write_unlock() };
    /// ```
    #[inline]
    pub unsafe fn read_unlock(&self) {
        deadlock::released(self.key_readers(), Access::Shared);
        let old = self.state.fetch_sub(ONE_READER, Ordering::Release);
        let new = old - ONE_READER;
        if new & READERS_MASK == 0 && new & WRITERS_PARKED != 0 {
            self.wake_writer();
        }
    }

    /// Ends the write hold.
    ///
    /// # Safety
    ///
    /// The caller holds the write hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RawRwLock;
    ///
    /// let raw = RawRwLock::new();
    /// assert!(raw.try_write());
    /// assert!(raw.is_locked_exclusive());
    /// // SAFETY: the write hold was taken above and is ended once.
    /// unsafe { raw.write_unlock() };
    /// assert!(!raw.is_locked());
    /// ```
    #[inline]
    pub unsafe fn write_unlock(&self) {
        deadlock::released(self.key_readers(), Access::Exclusive);
        let old = self.state.fetch_and(!WRITER, Ordering::Release);
        let new = old & !WRITER;
        if new & (READERS_PARKED | WRITERS_PARKED) != 0 {
            self.write_unlock_slow(new);
        }
    }

    #[cold]
    fn write_unlock_slow(&self, new: usize) {
        if new & WAITING_MASK != 0 {
            if new & WRITERS_PARKED != 0 {
                self.wake_writer();
            }
        } else if new & READERS_PARKED != 0 {
            self.wake_readers();
        }
    }

    #[cold]
    fn wake_writer(&self) {
        let callback = |result: parking_lot_core::UnparkResult| {
            if !result.have_more_threads {
                self.state.fetch_and(!WRITERS_PARKED, Ordering::Relaxed);
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY:
        // - `key_writers` is `&self.state + 1`, used only by this type's writers.
        // - the callback neither panics nor calls into parking_lot_core.
        unsafe {
            parking_lot_core::unpark_one(self.key_writers(), callback);
        }
    }

    #[cold]
    fn wake_readers(&self) {
        self.state.fetch_and(!READERS_PARKED, Ordering::Relaxed);
        // SAFETY:
        // - `key_readers` is `&self.state`, used only by this type's readers.
        unsafe {
            parking_lot_core::unpark_all(self.key_readers(), DEFAULT_UNPARK_TOKEN);
        }
    }

    #[cold]
    fn read_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & (WRITER | WAITING_MASK) == 0 {
                if self.try_read() {
                    return true;
                }
                continue;
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            if deadline::passed(deadline) {
                return false;
            }
            if !self.mark_parked(s, READERS_PARKED) {
                continue;
            }
            let validate = || {
                let s = self.state.load(Ordering::Relaxed);
                s & READERS_PARKED != 0 && s & (WRITER | WAITING_MASK) != 0
            };
            deadlock::parking(self.key_readers(), &self.meta, Access::Shared);
            // SAFETY:
            // - `key_readers` is `&self.state`, used only by this type's readers.
            // - the callbacks only read atomics: they neither panic nor call parking_lot_core.
            let result = unsafe {
                parking_lot_core::park(
                    self.key_readers(),
                    validate,
                    || {},
                    |_, _| {},
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            deadlock::unparked();
            match result {
                ParkResult::TimedOut => return self.try_read(),
                ParkResult::Unparked(_) | ParkResult::Invalid => backoff.reset(),
            }
        }
    }

    /// Sets the parked bit `bit` in a word last seen as `s`, before parking on it: `false` if
    /// the word changed meanwhile, so the caller re-reads it and starts over.
    #[inline]
    fn mark_parked(&self, s: usize, bit: usize) -> bool {
        s & bit != 0
            || self
                .state
                .compare_exchange_weak(s, s | bit, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    #[cold]
    fn write_slow(&self, deadline: Option<Instant>) -> bool {
        // Announce: from here on new readers wait.
        let old = self.state.fetch_add(ONE_WAITING, Ordering::Relaxed);
        assert!(
            old & WAITING_MASK != WAITING_MASK,
            "RwLock waiting-writer count overflow"
        );
        let backoff = Backoff::new();
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & (WRITER | READERS_MASK) == 0 {
                if self
                    .state
                    .compare_exchange_weak(
                        s,
                        (s - ONE_WAITING) | WRITER,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return true;
                }
                continue;
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            if deadline::passed(deadline) {
                self.writer_give_up();
                return false;
            }
            if !self.mark_parked(s, WRITERS_PARKED) {
                continue;
            }
            let validate = || {
                let s = self.state.load(Ordering::Relaxed);
                s & WRITERS_PARKED != 0 && s & (WRITER | READERS_MASK) != 0
            };
            let timed_out = |_, was_last_thread: bool| {
                if was_last_thread {
                    self.state.fetch_and(!WRITERS_PARKED, Ordering::Relaxed);
                }
            };
            deadlock::parking(self.key_readers(), &self.meta, Access::Exclusive);
            // SAFETY:
            // - `key_writers` is `&self.state + 1`, used only by this type's writers.
            // - the callbacks only touch atomics: they neither panic nor call parking_lot_core.
            let result = unsafe {
                parking_lot_core::park(
                    self.key_writers(),
                    validate,
                    || {},
                    timed_out,
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            deadlock::unparked();
            if let ParkResult::Unparked(_) | ParkResult::Invalid = result {
                backoff.reset();
            }
            // On `TimedOut` the loop tries once more, then gives up.
        }
    }

    /// A waiting writer leaves without the lock: if it was the last, readers may go.
    fn writer_give_up(&self) {
        let old = self.state.fetch_sub(ONE_WAITING, Ordering::Relaxed);
        let new = old - ONE_WAITING;
        if new & WAITING_MASK == 0 && new & WRITER == 0 && new & READERS_PARKED != 0 {
            self.wake_readers();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timed_out_writer_leaves_no_waiting_count() {
        let l = RawRwLock::new();
        assert!(l.try_read());
        let deadline = Instant::now() + Duration::from_millis(5);
        assert!(!l.write_until(Some(deadline)));
        assert_eq!(
            l.state.load(Ordering::Relaxed) & (WAITING_MASK | WRITERS_PARKED),
            0
        );
        // SAFETY:
        // - the read hold was taken above.
        unsafe { l.read_unlock() };
        assert_eq!(l.state.load(Ordering::Relaxed) & !READERS_PARKED, 0);
    }

    #[test]
    fn field_layout_does_not_overlap() {
        assert_eq!(WAITING_MASK & READERS_MASK, 0);
        assert_eq!(WAITING_MASK & (WRITER | READERS_PARKED | WRITERS_PARKED), 0);
        assert_eq!(READERS_MASK & (WRITER | READERS_PARKED | WRITERS_PARKED), 0);
    }
}
