//! [`Timer`]: Python's `threading.Timer`, a function run once after a delay unless
//! cancelled.
//!
//! The timer thread waits on an [`Event`] with the interval as timeout, so
//! [`cancel`](Timer::cancel) wakes it at once instead of leaving it asleep.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::error::{Panicked, TimerError};
use super::event::Event;
use super::thread::{Builder, Thread};

type Function = Box<dyn FnOnce() + Send + 'static>;

struct Shared {
    interval: Duration,
    /// Set by `cancel` or when the function has run: Python's `timer.finished`.
    finished: Event,
    /// Set when the function started (so it was not cancelled).
    fired: Event,
}

/// Runs a function once after `interval`, on its own thread, unless cancelled first:
/// Python's `threading.Timer`.
///
/// Nothing happens until [`start`](Timer::start). [`cancel`](Timer::cancel) stops a timer
/// that has not fired yet and wakes its thread at once; it cannot stop a function already
/// running. [`join`](Timer::join) waits for the timer thread.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use spindle_sync::threading::{Event, Timer};
///
/// let rang = Arc::new(Event::new());
/// let r = Arc::clone(&rang);
/// let timer = Timer::new(Duration::from_millis(10), move || r.set());
/// timer.start().unwrap();
/// assert!(rang.wait_timeout(Duration::from_secs(10)));
/// timer.join().unwrap();
/// ```
pub struct Timer {
    shared: Arc<Shared>,
    function: Mutex<Option<Function>>,
    thread: Mutex<Option<Thread<()>>>,
}

impl Timer {
    /// A timer that will run `function` `interval` after [`start`](Timer::start); Python's
    /// `threading.Timer(interval, function)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::from_secs(3600), || unreachable!());
    /// t.start().unwrap();
    /// t.cancel();
    /// t.join().unwrap();
    /// assert!(!t.fired());
    /// ```
    pub fn new(interval: Duration, function: impl FnOnce() + Send + 'static) -> Self {
        Self {
            shared: Arc::new(Shared {
                interval,
                finished: Event::new(),
                fired: Event::new(),
            }),
            function: Mutex::new(Some(Box::new(function))),
            thread: Mutex::new(None),
        }
    }

    /// Starts the timer's thread (named `Thread-N`, daemon flag inherited, as in Python);
    /// Python's `timer.start()`.
    ///
    /// # Errors
    ///
    /// [`TimerError::AlreadyStarted`] on a second call; [`TimerError::Spawn`] if the OS
    /// refused the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{Timer, TimerError};
    ///
    /// let t = Timer::new(Duration::ZERO, || {});
    /// t.start().unwrap();
    /// assert!(matches!(t.start(), Err(TimerError::AlreadyStarted)));
    /// t.join().unwrap();
    /// ```
    pub fn start(&self) -> Result<(), TimerError> {
        let Some(function) = self.function.lock().take() else {
            return Err(TimerError::AlreadyStarted);
        };
        let shared = Arc::clone(&self.shared);
        let thread = Builder::new()
            .spawn(move || {
                let cancelled = shared.finished.wait_timeout(shared.interval);
                if !cancelled && !shared.finished.is_set() {
                    shared.fired.set();
                    // Mark finished even if the function panics.
                    let _finish = FinishOnDrop(&shared.finished);
                    function();
                }
                shared.finished.set();
            })
            .map_err(TimerError::Spawn)?;
        *self.thread.lock() = Some(thread);
        Ok(())
    }

    /// Stops the timer if it has not fired yet, waking its thread; Python's `timer.cancel()`.
    ///
    /// Cancelling before `start` makes the later `start` do nothing but end at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::from_secs(60), || panic!("cancelled timers never fire"));
    /// t.start().unwrap();
    /// t.cancel();
    /// assert!(t.join_timeout(Duration::from_secs(10))); // woken at once, not after 60 s
    /// assert!(!t.fired());
    /// ```
    pub fn cancel(&self) {
        self.shared.finished.set();
    }

    /// Whether the function has started running (so `cancel` came too late or never).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::ZERO, || {});
    /// assert!(!t.fired());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(t.fired());
    /// ```
    pub fn fired(&self) -> bool {
        self.shared.fired.is_set()
    }

    /// Whether the timer has fired and finished or was cancelled: Python's
    /// `timer.finished.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::from_secs(60), || {});
    /// assert!(!t.finished());
    /// t.cancel();
    /// assert!(t.finished());
    /// ```
    pub fn finished(&self) -> bool {
        self.shared.finished.is_set()
    }

    /// Waits for the timer thread to end; Python's `timer.join()`. Returns at once if the
    /// timer was never started or was joined before.
    ///
    /// # Errors
    ///
    /// [`Panicked`] if the function panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::from_millis(1), || {});
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(t.finished());
    /// ```
    pub fn join(&self) -> Result<(), Panicked> {
        let thread = self.thread.lock().take();
        match thread {
            Some(t) => t.join(),
            None => Ok(()),
        }
    }

    /// Waits up to `timeout` for the timer thread to end; returns whether it has (also
    /// `true` if never started).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::Timer;
    ///
    /// let t = Timer::new(Duration::from_secs(60), || {});
    /// t.start().unwrap();
    /// assert!(!t.join_timeout(Duration::from_millis(5)));
    /// t.cancel();
    /// assert!(t.join_timeout(Duration::from_secs(10)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        match &*self.thread.lock() {
            Some(t) => t.join_timeout(timeout),
            None => true,
        }
    }
}

struct FinishOnDrop<'a>(&'a Event);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("interval", &self.shared.interval)
            .field("fired", &self.fired())
            .field("finished", &self.finished())
            .finish()
    }
}
