//! `Event`: a flag processes wait on (Python's `multiprocessing.Event`).

use super::raw;
use crate::heap::{arc_block, SharedBlock};
use crate::sys::futex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A flag that processes set, clear and wait for: Python's `multiprocessing.Event`.
///
/// The flag is a futex word (0 clear, 1 set); `set` wakes every waiter in every process.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::Event;
///
/// let e = Event::new().unwrap();
/// assert!(!e.wait_timeout(Duration::from_millis(1)));
/// e.set();
/// assert!(e.is_set());
/// e.wait();
/// e.clear();
/// assert!(!e.is_set());
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Event {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// A new, clear event.
    ///
    /// # Errors
    ///
    /// The operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle_process::Event::new().unwrap();
    /// assert!(!e.is_set());
    /// ```
    pub fn new() -> io::Result<Event> {
        Ok(Event {
            block: SharedBlock::new(64)?,
        })
    }

    fn flag(&self) -> &AtomicU32 {
        self.block.word(0)
    }

    /// Whether the flag is set: Python's `event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle_process::Event::new().unwrap();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag().load(Ordering::Acquire) != 0
    }

    /// Sets the flag and wakes every waiter: Python's `event.set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle_process::Event::new().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| e.set());
    ///     e.wait();
    /// });
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        if self.flag().swap(1, Ordering::Release) == 0 {
            futex::wake_all(self.flag());
        }
    }

    /// Clears the flag: Python's `event.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle_process::Event::new().unwrap();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag().store(0, Ordering::Release);
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.is_set() {
                return true;
            }
            if futex::wait_until(self.flag(), 0, deadline, None) == futex::WaitResult::TimedOut {
                return self.is_set();
            }
        }
    }

    /// Blocks until the flag is set: Python's `event.wait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle_process::Event::new().unwrap();
    /// e.set();
    /// e.wait(); // already set: returns at once
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Waits up to `timeout`; returns whether the flag is set: Python's `event.wait(timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let e = spindle_process::Event::new().unwrap();
    /// assert!(!e.wait_timeout(Duration::from_millis(1)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::from_secs(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(raw::deadline(Some(timeout)))
    }
}
