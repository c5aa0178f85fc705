//! A list of parked threads keyed by its own address, with a count that keeps `notify` free.
//!
//! The lock-free queues park getters, putters and joiners here through `parking_lot_core`.
//! The protocol that rules out lost wake-ups (a Dekker-style handshake):
//!
//! - a waiter increments [`WaitList::count`] (a `SeqCst` read-modify-write), then parks with a
//!   `should_park` check that re-reads the queue state with `SeqCst` loads; `parking_lot_core`
//!   runs the check under its bucket lock;
//! - a waker publishes its change with a `SeqCst` read-modify-write (the ring's head or tail
//!   CAS, a counter's `fetch_add`), then loads `count` with `SeqCst` and, when it is not zero,
//!   unparks, which takes the same bucket lock.
//!
//! In the single total order of `SeqCst` operations either the waker's load sees the waiter's
//! increment (so it unparks; if the waiter has not queued itself yet, the bucket lock orders its
//! check after the waker's change) or the waiter's check comes after the waker's change and sees
//! it (so it does not park). When nobody waits, `notify_*` is one load and no syscall.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

/// Threads parked (or about to park) on one condition of one queue.
pub(crate) struct WaitList {
    /// Threads between their increment before parking and their decrement after waking.
    ///
    /// | value | meaning                                                        |
    /// |-------|----------------------------------------------------------------|
    /// | 0     | nobody waits: `notify_one`/`notify_all` return after one load |
    /// | n > 0 | n threads registered; a waker must call into `parking_lot_core` |
    count: CachePadded<AtomicUsize>,
}

impl WaitList {
    pub(crate) const fn new() -> Self {
        Self {
            count: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// The parking key: the address of `count`, owned by this list and stable while borrowed.
    #[inline]
    fn key(&self) -> usize {
        std::ptr::from_ref::<AtomicUsize>(&self.count).addr()
    }

    /// How many threads are registered as waiting.
    #[inline]
    pub(crate) fn waiting(&self) -> usize {
        self.count.load(SeqCst)
    }

    /// Parks until woken, until `should_park` (run under the bucket lock) says no, or until
    /// `deadline`. Returns `false` only when the deadline passed while parked.
    ///
    /// `should_park` must only read atomics: it must not panic nor call into `parking_lot`.
    #[cold]
    pub(crate) fn park_until(
        &self,
        should_park: impl FnOnce() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        self.count.fetch_add(1, SeqCst);
        // SAFETY:
        // - the key is the address of `self.count`, which this list owns and no other
        //   primitive uses as a key; `&self` keeps it alive and unmoved until `park` returns;
        // - `should_park` only loads atomics (documented requirement), so it neither panics nor
        //   re-enters `parking_lot`; the `before_sleep` and `timed_out` callbacks do nothing.
        let result = unsafe {
            parking_lot_core::park(
                self.key(),
                should_park,
                || {},
                |_, _| {},
                DEFAULT_PARK_TOKEN,
                deadline,
            )
        };
        self.count.fetch_sub(1, SeqCst);
        result != ParkResult::TimedOut
    }

    /// Wakes one registered waiter, if there is one. The caller has already published the
    /// change the waiter waits for with a `SeqCst` read-modify-write.
    #[inline]
    pub(crate) fn notify_one(&self) {
        if self.count.load(SeqCst) != 0 {
            self.unpark_one();
        }
    }

    /// Wakes every registered waiter.
    #[inline]
    pub(crate) fn notify_all(&self) {
        if self.count.load(SeqCst) != 0 {
            self.unpark_all();
        }
    }

    #[cold]
    fn unpark_one(&self) {
        // SAFETY:
        // - the key is this list's own address (see `park_until`);
        // - the callback only returns a token: it neither panics nor calls into `parking_lot`.
        unsafe {
            parking_lot_core::unpark_one(self.key(), |_| DEFAULT_UNPARK_TOKEN);
        }
    }

    #[cold]
    fn unpark_all(&self) {
        // SAFETY: the key is this list's own address (see `park_until`).
        unsafe {
            parking_lot_core::unpark_all(self.key(), DEFAULT_UNPARK_TOKEN);
        }
    }
}

/// Turns a timeout into a deadline once: `None` (wait forever) when it does not fit.
#[inline]
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Whether `deadline` has passed (`None` never passes).
#[inline]
pub(crate) fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}
