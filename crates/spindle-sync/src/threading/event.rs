//! [`Event`]: Python's `threading.Event`, a flag threads can wait for.
//!
//! One `u32`: bit 0 `SET`, bit 1 `PARKED` (threads may be parked on the event's address),
//! the rest a generation counting the `set` calls that found the flag clear.
//!
//! A waiter notes the generation when it enters. It returns `true` as soon as the flag is
//! set *or the generation moved*, so a `set` followed at once by `clear` still releases
//! every thread already inside `wait` (CPython's issue 13502), spinning or parked. `set`
//! bumps the generation, sets `SET`, drops `PARKED`, and wakes everyone parked if `PARKED`
//! was there. A waiter sets `PARKED` and parks only if, under the parking-lot bucket lock,
//! the flag is still clear with `PARKED` set and the generation unchanged, so a `set` is
//! never missed.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

use super::deadline;

const SET: u32 = 0b01;
const PARKED: u32 = 0b10;
const ONE_GENERATION: u32 = 0b100;
const GENERATION_MASK: u32 = !(ONE_GENERATION - 1);

/// A flag that threads can wait for: Python's `threading.Event`.
///
/// [`set`](Event::set) wakes every waiter; [`clear`](Event::clear) resets the flag;
/// [`wait`](Event::wait) returns once the flag is set. Checking the flag is one atomic load;
/// a waiter spins briefly, then parks.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Event;
///
/// let ready = Event::new();
/// std::thread::scope(|s| {
///     let waiter = s.spawn(|| {
///         ready.wait();
///         "went"
///     });
///     ready.set();
///     assert_eq!(waiter.join().unwrap(), "went");
/// });
/// assert!(ready.is_set());
/// ```
#[derive(Default)]
pub struct Event {
    /// See the state table in this file's `//!`.
    state: AtomicU32,
}

impl Event {
    /// A new event with its flag clear; Python's `threading.Event()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Event;
    ///
    /// static DONE: Event = Event::new();
    /// assert!(!DONE.is_set());
    /// ```
    pub const fn new() -> Self {
        Self {
            state: AtomicU32::new(0),
        }
    }

    /// Whether the flag is set; Python's `event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting thread; Python's `event.set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// e.set(); // idempotent
    /// assert!(e.wait_timeout(std::time::Duration::ZERO));
    /// ```
    #[inline]
    pub fn set(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & SET != 0 {
                // Already set: nobody parks while it is, so nobody needs waking.
                std::sync::atomic::fence(Ordering::Release);
                return;
            }
            let next = (state & GENERATION_MASK).wrapping_add(ONE_GENERATION) | SET;
            match self.state.compare_exchange_weak(
                state,
                next,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        if state & PARKED != 0 {
            self.wake_all();
        }
    }

    /// Clears the flag, so later waits block until the next [`set`](Event::set); Python's
    /// `event.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        // Leaves `PARKED` alone: parked waiters stay parked until the next `set`.
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Waits until the flag is set; Python's `event.wait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Event;
    ///
    /// let e = Event::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| e.set());
    ///     e.wait();
    /// });
    /// assert!(e.is_set());
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.is_set() {
            let set = self.wait_slow(None);
            debug_assert!(set);
        }
    }

    /// Waits until the flag is set or `timeout` has passed; returns whether it was set.
    ///
    /// Python's `event.wait(timeout)`. A waiter woken by [`set`](Event::set) returns `true`
    /// even if the flag was cleared again before it ran, as in CPython. A zero timeout only
    /// checks the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Event;
    ///
    /// let e = Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(1)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::from_millis(1)));
    /// ```
    #[inline]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        if timeout.is_zero() {
            return false;
        }
        self.wait_slow(deadline::after(timeout))
    }

    /// [`wait_timeout`](Event::wait_timeout) against a deadline computed by the caller.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        self.is_set() || self.wait_slow(deadline)
    }

    #[cold]
    fn wait_slow(&self, deadline: Option<Instant>) -> bool {
        let entered = self.state.load(Ordering::Acquire);
        if entered & SET != 0 {
            return true;
        }
        let generation = entered & GENERATION_MASK;
        // Released if the flag is set now, or was set (and maybe cleared) since we entered.
        let released = |state: u32| state & SET != 0 || state & GENERATION_MASK != generation;
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if released(self.state.load(Ordering::Acquire)) {
                return true;
            }
            backoff.snooze();
        }
        let key = self as *const Self as usize;
        loop {
            let state = self.state.load(Ordering::Acquire);
            if released(state) {
                return true;
            }
            if deadline::passed(deadline) {
                return false;
            }
            if state & PARKED == 0
                && self
                    .state
                    .compare_exchange(state, state | PARKED, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            let validate = || self.state.load(Ordering::Relaxed) == generation | PARKED;
            // SAFETY:
            // - `key` is this event's address; only `Event` parks or unparks on it.
            // - the callbacks neither panic nor call into parking_lot_core.
            let result = unsafe {
                parking_lot_core::park(
                    key,
                    validate,
                    || {},
                    |_, _| {},
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            match result {
                // Woken by `set`: report it even if a `clear` already followed.
                ParkResult::Unparked(_) => {
                    std::sync::atomic::fence(Ordering::Acquire);
                    return true;
                }
                ParkResult::Invalid => {}
                ParkResult::TimedOut => return released(self.state.load(Ordering::Acquire)),
            }
        }
    }

    #[cold]
    fn wake_all(&self) {
        let key = self as *const Self as usize;
        // SAFETY:
        // - `key` is this event's address; only `Event` parks or unparks on it.
        unsafe {
            parking_lot_core::unpark_all(key, DEFAULT_UNPARK_TOKEN);
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
