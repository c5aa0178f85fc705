//! [`PoolError`]: why a pool task has no result, [`BrokenReason`]: why a pool is broken, and
//! their mapping into `FutureError`.

use super::broken::BrokenReason;
use spindle_futures::FutureError;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why a task of a [`Pool`](crate::pool::Pool) or
/// [`ProcessPoolExecutor`](crate::pool::ProcessPoolExecutor) gave no result.
///
/// Python raises the task's exception, `BrokenProcessPool` or (for `Pool`) hangs; here each
/// way a task can fail is a variant, and only the task concerned fails.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::PoolError;
///
/// let e = PoolError::WorkerDied { pid: 42, signal: Some(9), exitcode: None };
/// assert_eq!(e.to_string(), "worker process 42 died while running the task (killed by signal 9 (SIGKILL))");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// The worker running the task died (killed, crashed, or exited from inside the task).
    /// The pool replaced it unless it was built with
    /// [`OnWorkerDeath::Break`](crate::pool::OnWorkerDeath::Break).
    WorkerDied {
        /// Process id of the dead worker.
        pid: u32,
        /// The signal that ended it, if a signal did (9 for `SIGKILL`, 11 for `SIGSEGV`).
        signal: Option<i32>,
        /// Its exit status, if it exited instead.
        exitcode: Option<i32>,
    },
    /// The task ran longer than its timeout; its worker was killed and replaced.
    Timeout,
    /// The task panicked; the panic message is inside. The worker lives on.
    Panicked(String),
    /// The arguments could not be encoded, or the function cannot be shipped.
    Encode(String),
    /// The arguments (in the worker) or the result (here) could not be decoded.
    Decode(String),
    /// The pool can run no more tasks (an initializer failed, a worker died under
    /// `OnWorkerDeath::Break`, the operating system refused a worker, start-ups kept failing);
    /// the [reason](BrokenReason) is inside, and [`source`](Error::source) is the error behind
    /// it (the [`io::Error`](std::io::Error) when the operating system refused something). Python's
    /// `BrokenProcessPool`.
    Broken(BrokenReason),
    /// The pool was closed, terminated or shut down before the task could run.
    Closed,
    /// [`AsyncResult::get`](crate::pool::AsyncResult::get) or an iterator's `next_timeout`
    /// ran out of time; the task goes on. Python's `multiprocessing.TimeoutError`.
    NotReady,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WorkerDied {
                pid,
                signal,
                exitcode,
            } => write!(
                f,
                "worker process {pid} died while running the task ({})",
                describe_end(*signal, *exitcode)
            ),
            Self::Timeout => f.write_str("task exceeded its timeout; its worker was killed"),
            Self::Panicked(m) => write!(f, "task panicked: {m}"),
            Self::Encode(m) => write!(f, "cannot encode the task: {m}"),
            Self::Decode(m) => write!(f, "cannot decode: {m}"),
            Self::Broken(r) => write!(f, "process pool is broken: {r}"),
            Self::Closed => f.write_str("process pool is closed"),
            Self::NotReady => f.write_str("result not ready within the timeout"),
        }
    }
}

/// Written by hand rather than derived so that the `source()` of [`PoolError::Broken`] is the
/// error behind it itself (an `io::Error` can be downcast from it), not the reason wrapping it.
impl Error for PoolError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Broken(r) => r.error().map(|e| e as &(dyn Error + 'static)),
            _ => None,
        }
    }
}

/// How a worker ended: "killed by signal 9 (SIGKILL)", "exited with status 3".
pub(crate) fn describe_end(signal: Option<i32>, exitcode: Option<i32>) -> String {
    match (signal, exitcode) {
        (Some(s), _) => format!("killed by signal {s} ({})", signal_name(s)),
        (None, Some(c)) => format!("exited with status {c}"),
        (None, None) => "end status unknown".to_string(),
    }
}

/// The conventional name of a signal number.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGSYS => "SIGSYS",
        _ => "signal",
    }
}

impl fmt::Debug for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WorkerDied {
                pid,
                signal,
                exitcode,
            } => f
                .debug_struct("WorkerDied")
                .field("pid", pid)
                .field("signal", signal)
                .field("exitcode", exitcode)
                .finish(),
            Self::Timeout => f.write_str("Timeout"),
            Self::Panicked(m) => f.debug_tuple("Panicked").field(m).finish(),
            Self::Encode(m) => f.debug_tuple("Encode").field(m).finish(),
            Self::Decode(m) => f.debug_tuple("Decode").field(m).finish(),
            Self::Broken(m) => f.debug_tuple("Broken").field(m).finish(),
            Self::Closed => f.write_str("Closed"),
            Self::NotReady => f.write_str("NotReady"),
        }
    }
}

/// How a pool error reaches a [`Future`](spindle_futures::Future) of the process executor:
/// `Panicked` stays `Panicked`, `Broken` becomes `BrokenExecutor`, `Closed` becomes `ShutDown`,
/// `NotReady` becomes `Timeout`; the rest (`WorkerDied`, `Timeout`, `Encode`, `Decode`) become
/// `FutureError::Failed` holding the `PoolError`, which [`PoolError::from_future_error`] (or a
/// downcast of the source) recovers. A broken pool's `PoolError::Broken` is the
/// `BrokenExecutor`'s source, so its cause (an `io::Error` for "Too many open files") is one
/// more `source()` away.
impl From<PoolError> for FutureError {
    fn from(e: PoolError) -> FutureError {
        match e {
            PoolError::Panicked(m) => FutureError::Panicked(m),
            PoolError::Broken(r) => FutureError::broken_by(r.to_string(), PoolError::Broken(r)),
            PoolError::Closed => FutureError::ShutDown,
            PoolError::NotReady => FutureError::Timeout,
            other => FutureError::Failed(Arc::new(other)),
        }
    }
}

impl PoolError {
    /// The future error that keeps this error whole, reason and source included, for a
    /// future read back through [`from_future_error`](PoolError::from_future_error) (what
    /// `Pool`'s results do): `FutureError::Failed` holding it.
    pub(crate) fn into_exact(self) -> FutureError {
        FutureError::Failed(Arc::new(self))
    }

    /// The pool error behind a future's error: the inverse of `From<PoolError> for
    /// FutureError` (`Cancelled` and `Taken` become [`PoolError::Closed`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use spindle_process::pool::PoolError;
    ///
    /// let e = PoolError::WorkerDied { pid: 7, signal: Some(11), exitcode: None };
    /// assert_eq!(PoolError::from_future_error(&FutureError::from(e.clone())), e);
    /// ```
    pub fn from_future_error(e: &FutureError) -> PoolError {
        match e {
            FutureError::Panicked(m) => PoolError::Panicked(m.clone()),
            FutureError::BrokenExecutor(m, source) => PoolError::Broken(
                source
                    .as_deref()
                    .and_then(|s| match s.downcast_ref::<PoolError>() {
                        Some(PoolError::Broken(r)) => Some(r.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| BrokenReason::new(m.as_str())),
            ),
            FutureError::Timeout => PoolError::NotReady,
            FutureError::Failed(inner) => match inner.downcast_ref::<PoolError>() {
                Some(p) => p.clone(),
                None => PoolError::Broken(BrokenReason::of_shared(Arc::clone(inner))),
            },
            _ => PoolError::Closed,
        }
    }
}
