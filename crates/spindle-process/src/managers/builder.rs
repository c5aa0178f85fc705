//! `ManagerBuilder`: the server's limits on its clients, set before it starts.

use super::server::Limits;
use super::{Manager, ManagerError};
use std::time::Duration;

/// Connections a manager's server serves at once unless told otherwise.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::{Manager, DEFAULT_MAX_CONNECTIONS};
///
/// // Twice the default, for a program with many threads blocked in manager calls at once.
/// let builder = Manager::builder().max_connections(2 * DEFAULT_MAX_CONNECTIONS);
/// # let _ = builder;
/// ```
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// How long a client has, unless told otherwise, to complete its handshake, or the rest of a
/// request once it started sending it.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::{Manager, DEFAULT_HANDSHAKE_TIMEOUT};
///
/// assert_eq!(DEFAULT_HANDSHAKE_TIMEOUT.as_secs(), 10);
/// let builder = Manager::builder().handshake_timeout(DEFAULT_HANDSHAKE_TIMEOUT / 2);
/// # let _ = builder;
/// ```
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings for a [`Manager`]'s server, from [`Manager::builder`]; [`start`](Self::start)
/// starts it.
///
/// Python's manager has neither setting: it serves every connection on a thread of its own for
/// as long as the client likes. Here a client cannot hold the server's resources without
/// bound: at most [`max_connections`](Self::max_connections) connections are served at once
/// (each costs the server one thread; more are refused at once with
/// [`ManagerError::TooManyConnections`]), and
/// [`handshake_timeout`](Self::handshake_timeout) bounds the whole key exchange and the rest
/// of each request once it began, so a client sending bytes one at a time is disconnected.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
/// use std::time::Duration;
///
/// # spindle_process::init();
/// let manager = Manager::builder()
///     .max_connections(64)
///     .handshake_timeout(Duration::from_secs(2))
///     .start()
///     .unwrap();
/// manager.namespace().unwrap().set("x", &1).unwrap();
/// manager.shutdown().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ManagerBuilder {
    limits: Limits,
}

impl Default for ManagerBuilder {
    /// The defaults: [`DEFAULT_MAX_CONNECTIONS`] and [`DEFAULT_HANDSHAKE_TIMEOUT`].
    fn default() -> ManagerBuilder {
        ManagerBuilder {
            limits: Limits {
                max_connections: DEFAULT_MAX_CONNECTIONS,
                handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            },
        }
    }
}

impl ManagerBuilder {
    /// How many client connections the server serves at once (at least 1; default
    /// [`DEFAULT_MAX_CONNECTIONS`]). A connection over the cap is refused at once: the client
    /// gets [`ManagerError::TooManyConnections`].
    ///
    /// Each process keeps up to 16 idle connections per manager, plus one per thread blocked
    /// in a call (`acquire`, `wait`, `get`, ...) at the moment; size the cap for that. Each
    /// connection also costs the server a descriptor: keep the cap below its `RLIMIT_NOFILE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::managers::{Manager, ManagerError};
    /// use std::os::unix::net::UnixStream;
    /// use std::time::{Duration, Instant};
    ///
    /// # spindle_process::init();
    /// let manager = Manager::builder().max_connections(1).start().unwrap();
    /// let idle = UnixStream::connect(manager.address()).unwrap(); // takes the one place
    /// assert!(matches!(
    ///     manager.number_of_objects(),
    ///     Err(ManagerError::TooManyConnections { limit: 1 })
    /// ));
    /// drop(idle);
    /// // The place comes back once the server has seen that connection close.
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// while manager.number_of_objects().is_err() {
    ///     assert!(Instant::now() < deadline);
    ///     std::thread::yield_now();
    /// }
    /// manager.shutdown().unwrap();
    /// ```
    pub fn max_connections(mut self, n: usize) -> ManagerBuilder {
        self.limits.max_connections = n.max(1);
        self
    }

    /// How long a client has to complete the whole key exchange after it connects, and the
    /// rest of each request once its first byte arrived (default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`]); also how long the server waits for a client to take a
    /// reply. A connection that misses it is closed (the client's call then fails with
    /// [`ManagerError::ShutDown`]). A connection waiting between requests has no deadline.
    /// Raise it if single values of hundreds of megabytes must cross a heavily loaded machine.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::managers::Manager;
    /// use std::time::Duration;
    ///
    /// # spindle_process::init();
    /// let manager = Manager::builder()
    ///     .handshake_timeout(Duration::from_millis(500))
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(manager.number_of_objects().unwrap(), 0);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> ManagerBuilder {
        self.limits.handshake_timeout = timeout;
        self
    }

    /// Starts the server with these settings and waits until it listens (see
    /// [`Manager::start`], which is `Manager::builder().start()`).
    ///
    /// # Errors
    ///
    /// As [`Manager::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::builder().start().unwrap();
    /// manager.shutdown().unwrap();
    /// ```
    pub fn start(self) -> Result<Manager, ManagerError> {
        Manager::start_with(self.limits)
    }
}
