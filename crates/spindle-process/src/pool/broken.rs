//! [`BrokenReason`]: why a pool can run no more tasks, and the error behind it.

use super::error::{describe_end, PoolError};
use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

/// The error behind a broken pool, shared by every task it fails.
type Shared = Arc<dyn Error + Send + Sync + 'static>;

/// Why a pool is broken: what happened, the error behind it (the [`io::Error`] when the
/// operating system refused a pipe, a descriptor or a process), and, when worker start-ups
/// kept failing, how each of those workers ended.
///
/// It is the inside of [`PoolError::Broken`], whose [`source`](Error::source) is
/// [`error`](BrokenReason::error). Its `Display` says everything, causes included:
/// "cannot start a worker process: Too many open files (os error 24)".
///
/// It is `Clone` because one broken pool fails many tasks with the same reason: the error
/// behind it is shared behind an `Arc`. Two reasons are equal when their messages, their
/// causes and the texts of their errors are equal (an `io::Error` has no equality of its own).
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use std::io;
/// use spindle_process::pool::{BrokenReason, PoolError};
///
/// let os = io::Error::from_raw_os_error(libc::EMFILE);
/// let e = PoolError::Broken(BrokenReason::with_source("cannot create a worker pipe", os));
/// assert_eq!(
///     e.to_string(),
///     "process pool is broken: cannot create a worker pipe: Too many open files (os error 24)"
/// );
/// let cause = e.source().and_then(|s| s.downcast_ref::<io::Error>()).unwrap();
/// assert_eq!(cause.raw_os_error(), Some(libc::EMFILE));
/// ```
#[derive(Clone)]
pub struct BrokenReason {
    message: String,
    source: Option<Shared>,
    causes: Vec<PoolError>,
}

impl BrokenReason {
    /// A reason that is only a message.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::BrokenReason;
    ///
    /// let r = BrokenReason::new("pool is still running");
    /// assert_eq!(r.message(), "pool is still running");
    /// assert!(r.error().is_none() && r.causes().is_empty());
    /// ```
    pub fn new(message: impl Into<String>) -> BrokenReason {
        BrokenReason {
            message: message.into(),
            source: None,
            causes: Vec::new(),
        }
    }

    /// A reason with the error behind it, which becomes the `source()` of the
    /// [`PoolError`] and is printed after the message.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use spindle_process::pool::BrokenReason;
    ///
    /// let r = BrokenReason::with_source("cannot start a worker process", io::Error::from_raw_os_error(libc::EAGAIN));
    /// assert_eq!(r.os_error().and_then(io::Error::raw_os_error), Some(libc::EAGAIN));
    /// assert!(r.to_string().ends_with("(os error 11)"));
    /// ```
    pub fn with_source(
        message: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> BrokenReason {
        BrokenReason {
            message: message.into(),
            source: Some(Arc::new(source)),
            causes: Vec::new(),
        }
    }

    /// A reason that is another error, already shared (a `FutureError::Failed` that is not a
    /// pool error).
    pub(crate) fn of_shared(source: Shared) -> BrokenReason {
        BrokenReason {
            message: String::new(),
            source: Some(source),
            causes: Vec::new(),
        }
    }

    /// `message`, then the failures that led to it (each a [`PoolError::WorkerDied`] for a
    /// worker that ended before it was ready).
    pub(crate) fn with_causes(message: impl Into<String>, causes: Vec<PoolError>) -> BrokenReason {
        BrokenReason {
            message: message.into(),
            source: None,
            causes,
        }
    }

    /// What happened, without the error behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::BrokenReason;
    ///
    /// assert_eq!(BrokenReason::from("no workers").message(), "no workers");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error behind the breakage, if one is known: the `source()` of the
    /// [`PoolError::Broken`] holding this reason.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use spindle_process::pool::BrokenReason;
    ///
    /// let r = BrokenReason::with_source("cannot create a worker pipe", io::Error::from(io::ErrorKind::OutOfMemory));
    /// assert!(r.error().is_some());
    /// ```
    pub fn error(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The operating-system error behind the breakage, if that is what it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use spindle_process::pool::BrokenReason;
    ///
    /// let r = BrokenReason::with_source("cannot start a worker process", io::Error::from_raw_os_error(libc::EMFILE));
    /// assert_eq!(r.os_error().unwrap().raw_os_error(), Some(libc::EMFILE));
    /// assert!(BrokenReason::new("x").os_error().is_none());
    /// ```
    pub fn os_error(&self) -> Option<&io::Error> {
        self.error().and_then(|e| e.downcast_ref::<io::Error>())
    }

    /// The failures that led to the breakage, oldest first: for a pool whose worker start-ups
    /// kept failing, one [`PoolError::WorkerDied`] per worker that ended before it was ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::BrokenReason;
    ///
    /// assert!(BrokenReason::new("no workers").causes().is_empty());
    /// ```
    pub fn causes(&self) -> &[PoolError] {
        &self.causes
    }
}

impl fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = &self.source {
            if !self.message.is_empty() {
                f.write_str(": ")?;
            }
            write!(f, "{e}")?;
        }
        for (i, c) in self.causes.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            match c {
                PoolError::WorkerDied {
                    pid,
                    signal,
                    exitcode,
                } => write!(
                    f,
                    "worker process {pid} {}",
                    describe_end(*signal, *exitcode)
                )?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BrokenReason");
        d.field("message", &self.message);
        if let Some(e) = &self.source {
            d.field("source", &format_args!("{e}"));
        }
        if !self.causes.is_empty() {
            d.field("causes", &self.causes);
        }
        d.finish()
    }
}

impl PartialEq for BrokenReason {
    fn eq(&self, other: &Self) -> bool {
        let text = |s: &Option<Shared>| s.as_ref().map(ToString::to_string);
        self.message == other.message
            && self.causes == other.causes
            && text(&self.source) == text(&other.source)
    }
}

impl Eq for BrokenReason {}

impl From<String> for BrokenReason {
    fn from(message: String) -> BrokenReason {
        BrokenReason::new(message)
    }
}

impl From<&str> for BrokenReason {
    fn from(message: &str) -> BrokenReason {
        BrokenReason::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_listed_after_the_message() {
        let died = |pid, signal| PoolError::WorkerDied {
            pid,
            signal: Some(signal),
            exitcode: None,
        };
        let r = BrokenReason::with_causes(
            "2 worker start-ups failed in a row",
            vec![died(7, libc::SIGKILL), died(8, libc::SIGABRT)],
        );
        assert_eq!(
            r.to_string(),
            "2 worker start-ups failed in a row: worker process 7 killed by signal 9 (SIGKILL); \
             worker process 8 killed by signal 6 (SIGABRT)"
        );
        assert_eq!(r.causes().len(), 2);
    }

    #[test]
    fn equality_compares_the_error_text() {
        let a = BrokenReason::with_source("x", io::Error::from_raw_os_error(libc::EMFILE));
        let b = BrokenReason::with_source("x", io::Error::from_raw_os_error(libc::EMFILE));
        let c = BrokenReason::with_source("x", io::Error::from_raw_os_error(libc::EAGAIN));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, BrokenReason::new("x"));
        assert_eq!(a.clone(), a);
    }
}
