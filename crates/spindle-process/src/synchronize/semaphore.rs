//! `Semaphore` and `BoundedSemaphore` shared between processes (Python's
//! `multiprocessing.Semaphore` / `BoundedSemaphore`).
//!
//! Block layout: word 0 is the value (the futex word), word 1 counts parked waiters so a
//! release makes the wake system call only when someone sleeps, word 2 is the bound.
//! Waiters increment word 1 before parking and the kernel re-checks the value is 0, while a
//! release adds to the value before reading word 1 (both sequentially consistent), so a wake
//! is never lost.

use super::raw;
use super::OverReleaseError;
use crate::heap::{arc_block, SharedBlock};
use crate::sys::futex;
use crossbeam_utils::Backoff;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Serialize, Deserialize)]
struct Core {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
}

impl Core {
    fn new(value: usize) -> io::Result<Core> {
        let value = u32::try_from(value).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "semaphore value exceeds u32::MAX",
            )
        })?;
        let block = SharedBlock::new(64)?;
        block.word(0).store(value, Ordering::Relaxed);
        block.word(8).store(value, Ordering::Relaxed);
        Ok(Core { block })
    }

    fn value(&self) -> &AtomicU32 {
        self.block.word(0)
    }

    fn waiters(&self) -> &AtomicU32 {
        self.block.word(4)
    }

    fn bound(&self) -> u32 {
        self.block.word(8).load(Ordering::Relaxed)
    }

    fn try_acquire(&self) -> bool {
        let v = self.value();
        let mut cur = v.load(Ordering::Relaxed);
        while cur > 0 {
            match v.compare_exchange_weak(cur, cur - 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
        false
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        if self.try_acquire() {
            return true;
        }
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if self.try_acquire() {
                return true;
            }
            backoff.snooze();
        }
        loop {
            if self.try_acquire() {
                return true;
            }
            self.waiters().fetch_add(1, Ordering::SeqCst);
            let r = futex::wait_until(self.value(), 0, deadline, None);
            self.waiters().fetch_sub(1, Ordering::SeqCst);
            if r == futex::WaitResult::TimedOut {
                return self.try_acquire();
            }
        }
    }

    /// Adds `n`, refusing to pass `limit`; returns whether it did.
    fn release(&self, n: u32, limit: u32) -> bool {
        let v = self.value();
        let mut cur = v.load(Ordering::Relaxed);
        loop {
            let next = if limit == u32::MAX {
                Some(cur.saturating_add(n))
            } else {
                cur.checked_add(n).filter(|&x| x <= limit)
            };
            let Some(next) = next else {
                return false;
            };
            match v.compare_exchange_weak(cur, next, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        if self.waiters().load(Ordering::SeqCst) > 0 {
            futex::wake(v, n);
        }
        true
    }
}

/// A counter processes acquire and release: Python's `multiprocessing.Semaphore`.
///
/// `acquire` waits while the value is 0, then decrements; `release(n)` adds `n` and wakes up to
/// `n` waiters.
///
/// # Differences from Python
///
/// The shared value is 32 bits; a release that would pass `u32::MAX` saturates there.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::Semaphore;
///
/// let s = Semaphore::new(1).unwrap();
/// s.acquire();
/// assert!(!s.acquire_timeout(Duration::from_millis(1)));
/// s.release(1);
/// assert_eq!(s.get_value(), 1);
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Semaphore {
    core: Core,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.get_value())
            .finish()
    }
}

impl Semaphore {
    /// A semaphore starting at `value`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `value` exceeds `u32::MAX` (the shared counter is 32 bits); the
    /// operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::Semaphore::new(2).unwrap();
    /// assert_eq!(s.get_value(), 2);
    /// ```
    pub fn new(value: usize) -> io::Result<Semaphore> {
        Ok(Semaphore {
            core: Core::new(value)?,
        })
    }

    /// Waits until the value is positive and decrements it: Python's `sem.acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::Semaphore::new(1).unwrap();
    /// s.acquire();
    /// assert_eq!(s.get_value(), 0);
    /// s.release(1);
    /// ```
    pub fn acquire(&self) {
        self.core.acquire_until(None);
    }

    /// Decrements if positive now; returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::Semaphore::new(1).unwrap();
    /// assert!(s.try_acquire());
    /// assert!(!s.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Waits up to `timeout`; returns whether the semaphore was acquired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let s = spindle_process::Semaphore::new(0).unwrap();
    /// assert!(!s.acquire_timeout(Duration::from_millis(1)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.core.acquire_until(raw::deadline(Some(timeout)))
    }

    /// Adds `n` and wakes up to `n` waiters: Python's `sem.release(n)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::Semaphore::new(0).unwrap();
    /// s.release(3); // unbounded: may pass the initial value
    /// assert_eq!(s.get_value(), 3);
    /// ```
    pub fn release(&self, n: usize) {
        self.core
            .release(u32::try_from(n).unwrap_or(u32::MAX), u32::MAX);
    }

    /// The current value: Python's `sem.get_value()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::Semaphore::new(5).unwrap();
    /// assert!(s.try_acquire());
    /// assert_eq!(s.get_value(), 4);
    /// ```
    pub fn get_value(&self) -> usize {
        self.core.value().load(Ordering::Relaxed) as usize
    }
}

/// A [`Semaphore`] that refuses to be released above its initial value: Python's
/// `multiprocessing.BoundedSemaphore`.
///
/// # Examples
///
/// ```
/// use spindle_process::BoundedSemaphore;
///
/// let s = BoundedSemaphore::new(2).unwrap();
/// s.acquire();
/// s.release(1).unwrap();
/// assert!(s.release(1).is_err());
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct BoundedSemaphore {
    core: Core,
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.get_value())
            .field("bound", &self.core.bound())
            .finish()
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore starting (and capped) at `value`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `value` exceeds `u32::MAX`; the operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::BoundedSemaphore::new(2).unwrap();
    /// assert_eq!(s.get_value(), 2);
    /// ```
    pub fn new(value: usize) -> io::Result<BoundedSemaphore> {
        Ok(BoundedSemaphore {
            core: Core::new(value)?,
        })
    }

    /// Waits until the value is positive and decrements it.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::BoundedSemaphore::new(1).unwrap();
    /// s.acquire();
    /// assert_eq!(s.get_value(), 0);
    /// s.release(1).unwrap();
    /// ```
    pub fn acquire(&self) {
        self.core.acquire_until(None);
    }

    /// Decrements if positive now; returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::BoundedSemaphore::new(1).unwrap();
    /// assert!(s.try_acquire());
    /// assert!(!s.try_acquire());
    /// s.release(1).unwrap();
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Waits up to `timeout`; returns whether the semaphore was acquired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let s = spindle_process::BoundedSemaphore::new(1).unwrap();
    /// assert!(s.acquire_timeout(Duration::from_secs(1)));
    /// assert!(!s.acquire_timeout(Duration::from_millis(1)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.core.acquire_until(raw::deadline(Some(timeout)))
    }

    /// Adds `n` unless that passes the initial value.
    ///
    /// # Errors
    ///
    /// [`OverReleaseError`] (and nothing changes) if the value would pass its bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::BoundedSemaphore::new(1).unwrap();
    /// assert!(s.release(1).is_err()); // would pass the initial value
    /// ```
    pub fn release(&self, n: usize) -> Result<(), OverReleaseError> {
        let requested = n;
        let n = u32::try_from(n).map_err(|_| OverReleaseError { requested })?;
        if self.core.release(n, self.core.bound()) {
            Ok(())
        } else {
            Err(OverReleaseError { requested })
        }
    }

    /// The current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle_process::BoundedSemaphore::new(3).unwrap();
    /// assert_eq!(s.get_value(), 3);
    /// ```
    pub fn get_value(&self) -> usize {
        self.core.value().load(Ordering::Relaxed) as usize
    }
}
