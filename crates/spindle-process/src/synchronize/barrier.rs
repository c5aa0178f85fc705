//! `Barrier`: a meeting point for a fixed number of processes (Python's
//! `multiprocessing.Barrier`).
//!
//! Block layout (words): 0 internal robust lock; 1 arrivals in this generation; 2 generation
//! counter (the futex word); 3 broken flag; 4 abort bits; 5 parties. A generation ends either
//! normally (the last party arrives) or by abort (`abort`, `reset` with waiters, a timeout);
//! bit `g % 32` of word 4 records how generation `g` ended, so a woken waiter learns its own
//! outcome even if later generations already started.

use super::raw;
use super::BrokenBarrierError;
use crate::heap::{arc_block, SharedBlock};
use crate::sys::{self, futex};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A barrier for `parties` processes (or threads): Python's `multiprocessing.Barrier`.
///
/// Each [`wait`](Barrier::wait) blocks until `parties` calls are waiting, then all return,
/// each with a distinct arrival index in `0..parties`.
///
/// # Differences from Python
///
/// No `action` callable (a closure cannot cross processes; run the action in the process
/// whose `wait` returned index 0). A timeout is an `Option<Duration>` argument of `wait`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::Barrier;
///
/// let b = Barrier::new(1).unwrap();
/// assert_eq!(b.wait(Some(Duration::from_secs(1))), Ok(0));
/// let two = Barrier::new(2).unwrap();
/// // Nobody else comes: the wait times out and breaks the barrier.
/// assert!(two.wait(Some(Duration::from_millis(5))).is_err());
/// assert!(two.broken());
/// two.reset();
/// assert!(!two.broken());
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Barrier {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}

impl Barrier {
    /// A barrier for `parties` participants.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `parties` is 0 or above `u32::MAX`; the operating system's error if the shared block
    /// cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle_process::Barrier::new(1).unwrap();
    /// assert_eq!(b.parties(), 1);
    /// assert_eq!(b.wait(None), Ok(0)); // the only party passes at once
    /// ```
    pub fn new(parties: usize) -> io::Result<Barrier> {
        let parties = u32::try_from(parties)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "parties must be in 1..=u32::MAX",
                )
            })?;
        let block = SharedBlock::new(64)?;
        block.word(20).store(parties, Ordering::Relaxed);
        Ok(Barrier { block })
    }

    fn w(&self, i: usize) -> &AtomicU32 {
        self.block.word(i * 4)
    }

    fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        raw::lock_until(self.w(0), sys::getpid(), None);
        let r = f();
        raw::unlock(self.w(0));
        r
    }

    /// Ends generation `g` (under the internal lock) and wakes its waiters.
    fn end_generation(&self, g: u32, aborted: bool) {
        let bits = self.w(4).load(Ordering::Relaxed);
        let me = 1u32 << (g % 32);
        let next = 1u32 << (g.wrapping_add(1) % 32);
        let bits = if aborted { bits | me } else { bits & !me };
        self.w(4).store(bits & !next, Ordering::Relaxed);
        self.w(1).store(0, Ordering::Relaxed);
        self.w(2).store(g.wrapping_add(1), Ordering::Release);
        futex::wake_all(self.w(2));
    }

    /// Waits for all parties; returns this caller's arrival index: Python's `barrier.wait()`.
    ///
    /// With a `timeout`, a wait that runs out breaks the barrier for everyone (as in Python).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is or becomes broken while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::Barrier;
    ///
    /// let b = Barrier::new(2).unwrap();
    /// std::thread::scope(|s| {
    ///     let other = s.spawn(|| b.wait(Some(Duration::from_secs(30))).unwrap());
    ///     let mine = b.wait(Some(Duration::from_secs(30))).unwrap();
    ///     assert_eq!(mine + other.join().unwrap(), 1); // arrival indices 0 and 1
    /// });
    /// ```
    pub fn wait(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrierError> {
        let deadline = raw::deadline(timeout);
        let parties = self.parties() as u32;
        let arrival = self.locked(|| {
            if self.w(3).load(Ordering::Relaxed) != 0 {
                return Err(BrokenBarrierError);
            }
            let idx = self.w(1).load(Ordering::Relaxed);
            let g = self.w(2).load(Ordering::Relaxed);
            if idx + 1 == parties {
                self.end_generation(g, false);
                return Ok((idx, g, true));
            }
            self.w(1).store(idx + 1, Ordering::Relaxed);
            Ok((idx, g, false))
        })?;
        let (idx, g, last) = arrival;
        if last {
            return Ok(idx as usize);
        }
        while self.w(2).load(Ordering::Acquire) == g {
            if futex::wait_until(self.w(2), g, deadline, None) == futex::WaitResult::TimedOut {
                self.locked(|| {
                    if self.w(2).load(Ordering::Relaxed) == g {
                        self.w(3).store(1, Ordering::Relaxed);
                        self.end_generation(g, true);
                    }
                });
            }
        }
        if self.w(4).load(Ordering::Acquire) & (1 << (g % 32)) != 0 {
            Err(BrokenBarrierError)
        } else {
            Ok(idx as usize)
        }
    }

    /// Breaks the barrier: current and future waits fail until [`reset`](Barrier::reset):
    /// Python's `barrier.abort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle_process::Barrier::new(2).unwrap();
    /// b.abort();
    /// assert!(b.broken());
    /// assert!(b.wait(None).is_err());
    /// ```
    pub fn abort(&self) {
        self.locked(|| {
            self.w(3).store(1, Ordering::Relaxed);
            if self.w(1).load(Ordering::Relaxed) > 0 {
                self.end_generation(self.w(2).load(Ordering::Relaxed), true);
            }
        });
    }

    /// Returns the barrier to its empty, unbroken state; current waiters fail with
    /// [`BrokenBarrierError`]: Python's `barrier.reset()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle_process::Barrier::new(1).unwrap();
    /// b.abort();
    /// b.reset();
    /// assert!(!b.broken());
    /// assert_eq!(b.wait(None), Ok(0));
    /// ```
    pub fn reset(&self) {
        self.locked(|| {
            if self.w(1).load(Ordering::Relaxed) > 0 {
                self.end_generation(self.w(2).load(Ordering::Relaxed), true);
            }
            self.w(3).store(0, Ordering::Relaxed);
        });
    }

    /// Number of parties needed: Python's `barrier.parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle_process::Barrier::new(3).unwrap().parties(), 3);
    /// ```
    pub fn parties(&self) -> usize {
        self.w(5).load(Ordering::Relaxed) as usize
    }

    /// Number of parties waiting now: Python's `barrier.n_waiting`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle_process::Barrier::new(2).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.w(1).load(Ordering::Relaxed) as usize
    }

    /// Whether the barrier is broken: Python's `barrier.broken`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle_process::Barrier::new(2).unwrap();
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.w(3).load(Ordering::Relaxed) != 0
    }
}
