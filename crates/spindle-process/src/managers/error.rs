//! `ManagerError`: why a call on a manager or one of its proxies failed.

use crate::ProcessError;
use std::io;

/// Why a manager operation or a proxy call failed: the Python exception a proxy call re-raises.
///
/// Errors raised by the shared object itself (Python's `KeyError`, `IndexError`, ...) come back
/// as their own variants; a manager that is gone is always [`ShutDown`](ManagerError::ShutDown),
/// never a hang.
///
/// # Examples
///
/// ```
/// use spindle_process::ManagerError;
///
/// # spindle_process::init();
/// let manager = spindle_process::Manager::start().unwrap();
/// let d = manager.dict::<u8, u8>().unwrap();
/// assert!(matches!(d.get_item(&1), Err(ManagerError::KeyError)));
/// manager.shutdown().unwrap();
/// assert!(matches!(d.len(), Err(ManagerError::ShutDown)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The manager's server has shut down (or died): nothing is listening any more, or the
    /// connection ended in the middle of a call.
    #[error("the manager has shut down")]
    ShutDown,
    /// The server refused the authentication key (Python's `AuthenticationError`).
    #[error("authentication with the manager failed")]
    Auth,
    /// No such key in a managed dict: Python's `KeyError`.
    #[error("key not found")]
    KeyError,
    /// Index out of range in a managed list or array: Python's `IndexError`.
    #[error("index out of range")]
    IndexError,
    /// No attribute of that name on a managed namespace: Python's `AttributeError`.
    #[error("namespace has no attribute {0:?}")]
    AttributeError(String),
    /// A managed queue stayed empty until the timeout: Python's `queue.Empty`.
    #[error("queue is empty")]
    Empty,
    /// A managed queue stayed full until the timeout: Python's `queue.Full`.
    #[error("queue is full")]
    Full,
    /// A lock or condition was used by a caller that does not hold it, or an unlocked lock was
    /// released (Python's `RuntimeError` / `ValueError` from the same calls); the text says
    /// which.
    #[error("{0}")]
    NotHeld(String),
    /// A bounded semaphore was released more often than acquired (Python's `ValueError`).
    #[error("semaphore released too many times")]
    OverRelease,
    /// The server reported another failure (unknown object, wrong object kind, ...).
    #[error("manager error: {0}")]
    Remote(String),
    /// A value could not be encoded for the server.
    #[error("cannot encode a value for the manager: {0}")]
    Encode(String),
    /// A value from the server did not decode as the requested type (the proxy's type
    /// parameter does not match what was stored).
    #[error("cannot decode a value from the manager: {0}")]
    Decode(String),
    /// The server already serves its maximum number of connections
    /// ([`ManagerBuilder::max_connections`](super::ManagerBuilder::max_connections)) and
    /// refused a new one at once. Connections come back as other clients close theirs.
    #[error(
        "the manager refused the connection: it already serves its maximum of {limit} connections"
    )]
    TooManyConnections {
        /// The server's maximum.
        limit: usize,
    },
    /// The server process could not be started.
    #[error("cannot start the manager process: {0}")]
    Start(#[source] ProcessError),
    /// A socket or file-system operation failed for another reason (including a server that
    /// stopped answering within the reply timeout).
    #[error("manager connection failed: {0}")]
    Io(#[source] io::Error),
}

impl ManagerError {
    /// Sorts an I/O error from a manager socket: the peer being gone means [`ShutDown`].
    ///
    /// [`ShutDown`]: ManagerError::ShutDown
    pub(crate) fn from_io(e: io::Error) -> ManagerError {
        use io::ErrorKind::*;
        match e.kind() {
            NotFound | ConnectionRefused | ConnectionReset | ConnectionAborted | BrokenPipe
            | UnexpectedEof => ManagerError::ShutDown,
            _ => ManagerError::Io(e),
        }
    }
}
