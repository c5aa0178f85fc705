//! [`start_checker`]: a background thread that runs [`check_deadlock`](super::check_deadlock)
//! every interval and reports each new deadlock once, as parking_lot's docs suggest doing
//! with its `check_deadlock`.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::cycle::DeadlockCycle;
use super::graph;
use crate::threading::{Event, Thread};

/// The handle of a running deadlock checker; dropping it (or [`stop`](DeadlockChecker::stop))
/// ends the thread.
///
/// Available with the `deadlock-detection` feature.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::start_checker;
///
/// let checker = start_checker(Duration::from_millis(5), |cycles| assert!(!cycles.is_empty()))
///     .unwrap();
/// assert_eq!(format!("{checker:?}"), "DeadlockChecker { running: true }");
/// drop(checker); // stops the checker thread and joins it
/// ```
pub struct DeadlockChecker {
    stop: Arc<Event>,
    thread: Option<Thread<()>>,
}

impl DeadlockChecker {
    /// Stops the checker and waits for its thread to end (it ends within one check).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::start_checker;
    ///
    /// let checker = start_checker(Duration::from_millis(10), |_| {}).unwrap();
    /// checker.stop();
    /// ```
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.set();
        if let Some(t) = self.thread.take() {
            // A panic in the callback already went to the excepthook.
            let _ = t.join();
        }
    }
}

impl Drop for DeadlockChecker {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl fmt::Debug for DeadlockChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadlockChecker")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// Starts a daemon thread named `spindle-deadlock-checker` that checks for deadlocks every
/// `interval` and calls `callback` with the cycles it had not reported yet (a deadlock that
/// ends and forms again is reported again).
///
/// Available with the `deadlock-detection` feature.
///
/// # Errors
///
/// The `io::Error` of the thread spawn, if the OS refuses one.
///
/// # Examples
///
/// ```
/// use std::sync::{mpsc, Arc};
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::start_checker;
/// use spindle_sync::threading::{Event, Lock, Thread};
///
/// let (tx, rx) = mpsc::channel();
/// let checker = start_checker(Duration::from_millis(5), move |cycles| {
///     for c in cycles {
///         let _ = tx.send(c.to_string());
///     }
/// })
/// .unwrap();
/// let lock = Arc::new(Lock::named("again"));
/// let seen = Arc::new(Event::new());
/// let (l2, s2) = (Arc::clone(&lock), Arc::clone(&seen));
/// let t = Thread::builder().name("self-deadlock").spawn(move || {
///     l2.acquire();
///     while !s2.is_set() {
///         l2.acquire_timeout(Duration::from_millis(20));
///     }
///     l2.release().unwrap();
/// }).unwrap();
/// let report = rx.recv_timeout(Duration::from_secs(10)).unwrap();
/// seen.set();
/// t.join().unwrap();
/// checker.stop();
/// assert!(report.contains("\"self-deadlock\""));
/// ```
pub fn start_checker<F>(interval: Duration, mut callback: F) -> io::Result<DeadlockChecker>
where
    F: FnMut(&[DeadlockCycle]) + Send + 'static,
{
    let stop = Arc::new(Event::new());
    let stop2 = Arc::clone(&stop);
    let thread = Thread::builder()
        .name("spindle-deadlock-checker")
        .daemon(true)
        .spawn(move || {
            let mut reported: Vec<DeadlockCycle> = Vec::new();
            loop {
                let now = graph::all_cycles(&graph::state());
                let new: Vec<DeadlockCycle> = now
                    .iter()
                    .filter(|c| !reported.contains(c))
                    .cloned()
                    .collect();
                reported = now;
                if !new.is_empty() {
                    callback(&new);
                }
                if stop2.wait_timeout(interval) {
                    return;
                }
            }
        })?;
    Ok(DeadlockChecker {
        stop,
        thread: Some(thread),
    })
}
