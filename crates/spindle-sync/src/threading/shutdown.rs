//! [`shutdown`] and [`MainGuard`]: waiting for non-daemon threads, as Python does at exit.

use std::time::{Duration, Instant};

use super::deadline;
use super::thread_info::{get_ident, registry, Kind, ThreadInfo};

fn pending() -> Vec<ThreadInfo> {
    let me = get_ident();
    registry()
        .lock()
        .values()
        .filter(|t| t.kind() == Kind::Spindle && !t.is_daemon() && t.ident() != me)
        .cloned()
        .collect()
}

fn shutdown_until(deadline: Option<Instant>) -> bool {
    loop {
        let threads = pending();
        if threads.is_empty() {
            return true;
        }
        for t in threads {
            if !t.inner.finished.wait_until(deadline) {
                return false;
            }
        }
    }
}

/// Waits until every non-daemon spindle thread (other than the caller) has finished: what
/// Python's interpreter does at exit (`threading._shutdown`).
///
/// A Rust program ends when `main` returns, whatever other threads are doing, so call this
/// (or hold a [`MainGuard`]) at the end of `main` to get Python's behaviour. Threads started
/// while it waits are waited for too. Daemon threads are not waited for; they die with the
/// process, as in Python.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use spindle_sync::threading::{shutdown, Thread};
///
/// let done = Arc::new(AtomicBool::new(false));
/// let d = Arc::clone(&done);
/// let _detached = Thread::builder().daemon(false).spawn(move || d.store(true, Ordering::SeqCst));
/// shutdown();
/// assert!(done.load(Ordering::SeqCst));
/// ```
pub fn shutdown() {
    let finished = shutdown_until(None);
    debug_assert!(finished);
}

/// [`shutdown`] that gives up after `timeout`; returns whether every non-daemon thread
/// finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::shutdown_timeout;
///
/// assert!(shutdown_timeout(Duration::from_secs(5)));
/// ```
pub fn shutdown_timeout(timeout: Duration) -> bool {
    shutdown_until(deadline::after(timeout))
}

/// Calls [`shutdown`] when dropped: put `let _guard = MainGuard::new();` first in `main` so
/// returning from `main` waits for non-daemon threads, as Python does.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use spindle_sync::threading::{MainGuard, Thread};
///
/// let count = Arc::new(AtomicUsize::new(0));
/// {
///     let _guard = MainGuard::new();
///     for _ in 0..3 {
///         let c = Arc::clone(&count);
///         let _ = Thread::spawn(move || c.fetch_add(1, Ordering::SeqCst));
///     }
/// } // the guard waits here
/// assert_eq!(count.load(Ordering::SeqCst), 3);
/// ```
#[derive(Debug, Default)]
#[must_use = "dropping the guard at once waits at once"]
pub struct MainGuard {
    _private: (),
}

impl MainGuard {
    /// A guard whose drop waits for every non-daemon spindle thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::MainGuard;
    ///
    /// let guard = MainGuard::new();
    /// drop(guard); // nothing to wait for
    /// ```
    pub fn new() -> Self {
        Self { _private: () }
    }
}

impl Drop for MainGuard {
    fn drop(&mut self) {
        shutdown();
    }
}
