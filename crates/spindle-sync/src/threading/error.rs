//! Error types of the threading module: one small enum per concept, like Python's exceptions.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// Why a lock release was refused: Python's `RuntimeError` from `release()`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle_sync::threading::{Lock, RLock, ReleaseError, Thread};
///
/// let lock = Lock::new();
/// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
/// assert_eq!(ReleaseError::Unlocked.to_string(), "release unlocked lock");
///
/// let rlock = Arc::new(RLock::new());
/// rlock.acquire();
/// let r2 = Arc::clone(&rlock);
/// let t = Thread::spawn(move || r2.release()).unwrap();
/// assert_eq!(t.join().unwrap(), Err(ReleaseError::NotOwner));
/// rlock.release().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// Nobody held the lock: Python's `RuntimeError: release unlocked lock`.
    #[error("release unlocked lock")]
    Unlocked,
    /// Another thread holds this owner-tracking lock (an [`RLock`](super::RLock)): Python's
    /// `RuntimeError: cannot release un-acquired lock`.
    #[error("cannot release un-acquired lock")]
    NotOwner,
}

/// A [`Condition`](super::Condition) call made without holding its lock: Python's
/// `RuntimeError` from `wait`/`notify`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{Condition, ConditionError};
///
/// let cond = Condition::default();
/// assert_eq!(cond.notify(1), Err(ConditionError::NotifyUnacquired));
/// assert_eq!(cond.wait_unguarded(None), Err(ConditionError::WaitUnacquired));
/// assert_eq!(
///     ConditionError::NotifyUnacquired.to_string(),
///     "cannot notify on un-acquired lock"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// `wait` without holding the lock: Python's `cannot wait on un-acquired lock`.
    #[error("cannot wait on un-acquired lock")]
    WaitUnacquired,
    /// `notify`/`notify_all` without holding the lock: Python's
    /// `cannot notify on un-acquired lock`.
    #[error("cannot notify on un-acquired lock")]
    NotifyUnacquired,
}

/// A [`BoundedSemaphore`](super::BoundedSemaphore) was released above its initial value:
/// Python's `ValueError: Semaphore released too many times`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{BoundedSemaphore, OverReleaseError};
///
/// let sem = BoundedSemaphore::new(1);
/// assert_eq!(sem.release(1), Err(OverReleaseError { requested: 1 }));
/// assert_eq!(sem.value(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("semaphore released too many times")]
pub struct OverReleaseError {
    /// How many releases were asked for (none of them happened).
    pub requested: usize,
}

/// A [`Barrier`](super::Barrier) was broken (by `abort`, a timeout, a `reset` while threads
/// waited, or a panicking action): Python's `threading.BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{Barrier, BrokenBarrierError};
///
/// let barrier = Barrier::new(2, None);
/// barrier.abort();
/// assert_eq!(barrier.wait(None), Err(BrokenBarrierError));
/// assert_eq!(BrokenBarrierError.to_string(), "barrier is broken");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("barrier is broken")]
pub struct BrokenBarrierError;

/// Why [`Timer::start`](super::Timer::start) did not start the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::{Timer, TimerError};
///
/// let timer = Timer::new(Duration::from_secs(3600), || ());
/// timer.start().unwrap();
/// assert!(matches!(timer.start(), Err(TimerError::AlreadyStarted)));
/// timer.cancel();
/// timer.join().unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    /// `start` was called before: Python's `RuntimeError: threads can only be started once`.
    #[error("threads can only be started once")]
    AlreadyStarted,
    /// The operating system refused to create the timer's thread.
    #[error("could not spawn the timer thread")]
    Spawn(#[source] std::io::Error),
}

/// The panic that ended a [`Thread`](super::Thread), returned by
/// [`Thread::join`](super::Thread::join): the Rust form of the exception Python prints.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
///
/// # set_excepthook(|_: &ExceptHookArgs<'_>| {});
/// let t = Thread::builder().name("worker").spawn(|| -> u32 { panic!("boom") }).unwrap();
/// let err = t.join().unwrap_err();
/// assert_eq!((err.thread_name(), err.message()), ("worker", "boom"));
/// ```
pub struct Panicked {
    thread_name: String,
    message: String,
    payload: Mutex<Option<Box<dyn Any + Send + 'static>>>,
}

impl Panicked {
    pub(crate) fn new(thread_name: String, payload: Box<dyn Any + Send + 'static>) -> Self {
        let message = panic_message(&*payload);
        Self {
            thread_name,
            message,
            payload: Mutex::new(Some(payload)),
        }
    }

    /// The panic message (`"<non-string panic payload>"` when the payload was not a string).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// # set_excepthook(|_: &ExceptHookArgs<'_>| {});
    /// let t = Thread::spawn(|| -> () { panic!("disk full") }).unwrap();
    /// assert_eq!(t.join().unwrap_err().message(), "disk full");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the thread that panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// # set_excepthook(|_: &ExceptHookArgs<'_>| {});
    /// let t = Thread::builder().name("w").spawn(|| -> () { panic!("x") }).unwrap();
    /// assert_eq!(t.join().unwrap_err().thread_name(), "w");
    /// ```
    pub fn thread_name(&self) -> &str {
        &self.thread_name
    }

    /// The original payload, for `std::panic::resume_unwind`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// # set_excepthook(|_: &ExceptHookArgs<'_>| {});
    /// let t = Thread::spawn(|| std::panic::panic_any(7u32)).unwrap();
    /// let payload = t.join().unwrap_err().into_payload();
    /// assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        let payload = self.payload.into_inner().unwrap_or_else(|e| e.into_inner());
        payload.unwrap_or_else(|| Box::new(self.message))
    }
}

impl fmt::Debug for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panicked")
            .field("thread_name", &self.thread_name)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread {} panicked: {}", self.thread_name, self.message)
    }
}

impl std::error::Error for Panicked {}

/// The text a panic payload carries: the `&str` or `String` given to `panic!`, or `None` for
/// any other payload (`std::panic::panic_any(5)`).
///
/// This is what Python shows as the exception's message. The threading excepthook and
/// spindle-futures' pools use it to report a caught panic, each with its own placeholder for
/// a payload that is not text.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::panic_payload_text;
///
/// let caught = std::panic::catch_unwind(|| panic!("disk {} full", 2)).unwrap_err();
/// assert_eq!(panic_payload_text(&*caught), Some("disk 2 full"));
/// let caught = std::panic::catch_unwind(|| std::panic::panic_any(5_u8)).unwrap_err();
/// assert_eq!(panic_payload_text(&*caught), None);
/// ```
pub fn panic_payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

/// The text of a panic payload: the `&str` or `String` given to `panic!`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    panic_payload_text(payload)
        .unwrap_or("<non-string panic payload>")
        .to_owned()
}
