//! Errors of futures and executors: [`FutureError`] and [`InvalidStateError`].

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::State;

/// Why a [`Future`](crate::Future) has no value to give: Python's exceptions from
/// `future.result()`.
///
/// The enum is `Clone` (a user error travels as an `Arc`), so every clone of a future can
/// report the same failure, as every Python reference to a future raises the same exception.
///
/// # Differences from Python
///
/// Python raises the task's own exception; a Rust task that panics gives
/// [`Panicked`](FutureError::Panicked) with the panic message. A task returning
/// `Result<T, E>` keeps its `Err(e)` typed inside a successful `Future<Result<T, E>>`
/// (see the crate docs); [`Failed`](FutureError::Failed) carries errors that an executor or
/// [`Future::set_exception`](crate::Future::set_exception) put there.
///
/// # Examples
///
/// ```
/// use spindle_futures::{Future, FutureError};
///
/// let fut: Future<u8> = Future::new();
/// assert!(fut.cancel());
/// assert_eq!(fut.result(), Err(FutureError::Cancelled));
/// assert_eq!(FutureError::Cancelled.to_string(), "future was cancelled");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before it started: Python's `CancelledError`.
    Cancelled,
    /// The wait ran out of time; the future itself goes on: Python's `TimeoutError`.
    Timeout,
    /// The task panicked; the panic message is inside (Python: the task's exception).
    Panicked(String),
    /// The executor cannot run tasks any more (a failed initializer, a dead worker, a worker
    /// the operating system refused): Python's `BrokenExecutor` / `BrokenThreadPool`. The
    /// reason is inside, and the error behind it, if any, is the `source()` (an `io::Error`
    /// for "Too many open files"). Build one with [`FutureError::broken`] or
    /// [`FutureError::broken_by`].
    BrokenExecutor(String, Option<Arc<dyn Error + Send + Sync + 'static>>),
    /// The task was submitted after `shutdown`: Python's `RuntimeError('cannot schedule new
    /// futures after shutdown')`.
    ShutDown,
    /// A user error set by an executor or [`set_exception`](crate::Future::set_exception):
    /// Python's arbitrary exception object. Build one with [`FutureError::failed`].
    Failed(Arc<dyn Error + Send + Sync + 'static>),
    /// The value was moved out by [`into_result`](crate::Future::into_result) on another
    /// handle of the same future; no Python twin (Python values are shared references).
    Taken,
}

impl FutureError {
    /// Wraps a user error as [`FutureError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    ///
    /// let e = FutureError::failed(std::io::Error::other("disk on fire"));
    /// assert_eq!(e.to_string(), "task failed: disk on fire");
    /// ```
    pub fn failed<E: Error + Send + Sync + 'static>(error: E) -> Self {
        Self::Failed(Arc::new(error))
    }

    /// A [`BrokenExecutor`](FutureError::BrokenExecutor) error with a reason and no source.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    ///
    /// let e = FutureError::broken("the initializer panicked");
    /// assert_eq!(e.to_string(), "executor is broken: the initializer panicked");
    /// assert!(std::error::Error::source(&e).is_none());
    /// ```
    pub fn broken(reason: impl Into<String>) -> Self {
        Self::BrokenExecutor(reason.into(), None)
    }

    /// A [`BrokenExecutor`](FutureError::BrokenExecutor) error whose `source()` is `cause`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use std::error::Error;
    /// use std::io;
    ///
    /// let emfile = io::Error::from_raw_os_error(24);
    /// let e = FutureError::broken_by(format!("cannot start a worker: {emfile}"), emfile);
    /// let cause = e.source().and_then(|s| s.downcast_ref::<io::Error>()).unwrap();
    /// assert_eq!(cause.raw_os_error(), Some(24));
    /// assert!(e.to_string().contains("(os error 24)"));
    /// ```
    pub fn broken_by<E: Error + Send + Sync + 'static>(
        reason: impl Into<String>,
        cause: E,
    ) -> Self {
        Self::BrokenExecutor(reason.into(), Some(Arc::new(cause)))
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cancelled => f.write_str("future was cancelled"),
            Self::Timeout => f.write_str("timed out waiting for the future"),
            Self::Panicked(m) => write!(f, "task panicked: {m}"),
            Self::BrokenExecutor(m, _) => write!(f, "executor is broken: {m}"),
            Self::ShutDown => f.write_str("cannot schedule new futures after shutdown"),
            Self::Failed(e) => write!(f, "task failed: {e}"),
            Self::Taken => f.write_str("future result was already taken by into_result"),
        }
    }
}

/// `source()` is the error inside [`Failed`](FutureError::Failed) or behind a
/// [`BrokenExecutor`](FutureError::BrokenExecutor), itself rather than the `Arc` holding it,
/// so `source().downcast_ref::<io::Error>()` finds an `io::Error`.
impl Error for FutureError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Failed(e) | Self::BrokenExecutor(_, Some(e)) => Some(&**e),
            _ => None,
        }
    }
}

impl fmt::Debug for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cancelled => f.write_str("Cancelled"),
            Self::Timeout => f.write_str("Timeout"),
            Self::Panicked(m) => f.debug_tuple("Panicked").field(m).finish(),
            Self::BrokenExecutor(m, source) => {
                let mut t = f.debug_tuple("BrokenExecutor");
                t.field(m);
                if let Some(e) = source {
                    t.field(&format_args!("{e}"));
                }
                t.finish()
            }
            Self::ShutDown => f.write_str("ShutDown"),
            Self::Failed(e) => f.debug_tuple("Failed").field(&format_args!("{e}")).finish(),
            Self::Taken => f.write_str("Taken"),
        }
    }
}

/// Compares variants and their messages (a [`BrokenExecutor`](FutureError::BrokenExecutor)'s
/// source is not compared: its reason already names it); two [`Failed`](FutureError::Failed)
/// errors are equal when they share the same `Arc` (user errors need not be `PartialEq`).
impl PartialEq for FutureError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Cancelled, Self::Cancelled)
            | (Self::Timeout, Self::Timeout)
            | (Self::ShutDown, Self::ShutDown)
            | (Self::Taken, Self::Taken) => true,
            (Self::Panicked(a), Self::Panicked(b))
            | (Self::BrokenExecutor(a, _), Self::BrokenExecutor(b, _)) => a == b,
            (Self::Failed(a), Self::Failed(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// A setter found the future already settled: Python's `concurrent.futures.InvalidStateError`.
///
/// Returned by [`Future::set_result`](crate::Future::set_result) and
/// [`Future::set_exception`](crate::Future::set_exception) when the future is cancelled or
/// finished. The refused value is handed back ([`into_inner`](Self::into_inner)).
///
/// # Examples
///
/// ```
/// use spindle_futures::{Future, State};
///
/// let fut = Future::new();
/// fut.set_result(1).unwrap();
/// let err = fut.set_result(2).unwrap_err();
/// assert_eq!(err.state(), State::Finished);
/// assert_eq!(err.into_inner(), 2);
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("future is already {state}")]
pub struct InvalidStateError<T> {
    value: T,
    state: State,
}

impl<T> InvalidStateError<T> {
    pub(crate) fn new(value: T, state: State) -> Self {
        Self { value, state }
    }

    /// The state the future was in when the setter was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, State};
    ///
    /// let fut = Future::new();
    /// assert!(fut.cancel());
    /// assert_eq!(fut.set_result("late").unwrap_err().state(), State::Cancelled);
    /// ```
    pub fn state(&self) -> State {
        self.state
    }

    /// Gives back the value the setter could not store.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut = Future::new();
    /// fut.set_result(vec![1]).unwrap();
    /// let refused = fut.set_result(vec![2, 3]).unwrap_err();
    /// assert_eq!(refused.into_inner(), vec![2, 3]);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> fmt::Debug for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidStateError")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_keeps_the_source() {
        let e = FutureError::failed(std::io::Error::other("boom"));
        assert_eq!(e.source().map(ToString::to_string).as_deref(), Some("boom"));
        assert_eq!(e.clone(), e);
        assert_ne!(e, FutureError::failed(std::io::Error::other("boom")));
        assert_eq!(format!("{e:?}"), "Failed(boom)");
    }
}
