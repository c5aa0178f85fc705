//! Python's `multiprocessing.Manager`: a server process that owns shared objects, reached from
//! any process through proxies.
//!
//! # Map
//!
//! - The manager: [`Manager`] ([`Manager::start`], [`Manager::connect`],
//!   [`Manager::shutdown`]), its settings, [`ManagerBuilder`], and its error, [`ManagerError`].
//! - Containers: [`DictProxy`], [`ListProxy`], [`NamespaceProxy`], [`ValueProxy`],
//!   [`ArrayProxy`], [`QueueProxy`].
//! - Synchronisation: [`LockProxy`], [`RLockProxy`], [`SemaphoreProxy`], [`EventProxy`],
//!   [`ConditionProxy`], and the guard they hand out, [`ProxyGuard`].
//!
//! # How it works
//!
//! [`Manager::start`] starts a [`Process`] running the server. It listens on a Unix socket in
//! a fresh directory only this user may enter (mode `0700`, under the temporary directory),
//! and serves each client connection on a thread of its own, so blocking calls (`acquire`,
//! `wait`, `get`) block only their caller; at most
//! [`max_connections`](ManagerBuilder::max_connections) at once, so idle or hostile clients
//! cannot make it start threads without bound. Each connection must first present the
//! manager's 32-byte random key, which the server compares in constant time (the directory's
//! mode keeps other users out; the key keeps out processes of this user that were not given
//! it); the whole exchange has one deadline
//! ([`handshake_timeout`](ManagerBuilder::handshake_timeout)).
//! Requests and replies are bincode frames; user values travel pre-encoded, so the server
//! needs no knowledge of their types.
//!
//! A proxy carries the address, the key and the object's id. It implements `Serialize` and
//! `Deserialize`, so it can be a [`Process`] argument (or travel through a [`Pipe`]
//! or queue) and reconnects wherever it lands. Objects are reference counted on the server, as
//! in Python: every proxy (clones and deserialised copies included) holds one reference, and
//! the object is freed when the last proxy is dropped. Serialising a proxy lends the bytes a
//! reference, so the object survives while they travel even if the sender drops its proxy at
//! once; the first copy deserialised from them takes that reference over, later copies take
//! their own.
//!
//! When the manager has shut down (or its server died), every call, including one blocked at
//! that moment, fails with [`ManagerError::ShutDown`] instead of hanging.
//!
//! The socket's directory is removed however the owner ends: by [`Manager::shutdown`] (or
//! drop); by the server when the owner's pipe closes (the owner was killed, or exited without
//! dropping the manager) or on `SIGTERM`/`SIGHUP` (the server ignores `SIGINT`, so a Ctrl-C
//! that reaches the whole process group leaves it time to clean up); and, if the server was
//! killed too, by the resource tracker once the process tree has gone.
//!
//! # Differences from Python
//!
//! A proxy stored *inside* another managed object (a `DictProxy<String, ListProxy<i32>>`) keeps
//! its object alive until it is first read back, not for as long as it is stored (Python's
//! server unpickles stored proxies and counts them). Bytes that are never deserialised keep
//! their object until shutdown.
//!
//! This file passes 600 lines on purpose: it holds the one `Manager` type, and each of its
//! twenty object constructors carries its own runnable example.

mod builder;
mod dict;
mod error;
mod list;
mod namespace;
mod ordered_dict;
pub(crate) mod proxy;
mod queue;
mod server;
mod state;
mod sync;
mod value;
mod wire;

pub use builder::{ManagerBuilder, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
pub use dict::DictProxy;
pub use error::ManagerError;
pub use list::ListProxy;
pub use namespace::NamespaceProxy;
pub use queue::QueueProxy;
pub use sync::{ConditionProxy, EventProxy, LockProxy, ProxyGuard, RLockProxy, SemaphoreProxy};
pub use value::{ArrayProxy, ValueProxy};

use crate::resource_tracker::{self, TrackedDir};
use crate::sys::socket;
use crate::{Connection, Pipe, Process};
use parking_lot::Mutex;
use proxy::{Endpoint, Handle};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wire::{Kind, Reply, Request};

/// How long `start` waits for the server to report that it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `shutdown` waits for the server to exit before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process owning shared objects: Python's `multiprocessing.Manager()` (a started
/// `SyncManager`).
///
/// Create objects with [`dict`](Manager::dict), [`list`](Manager::list),
/// [`namespace`](Manager::namespace), [`lock`](Manager::lock), [`queue`](Manager::queue), ...;
/// each returns a proxy that any thread, or any process it is passed to, can use. Dropping the
/// manager shuts the server down, like leaving Python's `with Manager() as m:` block.
///
/// # Platform-specific behavior
///
/// The server is a daemon [`Process`] started with the default start method. It ends with the
/// program that started it, however that program ends: it watches a pipe only the owning
/// `Manager` holds, and exits when the pipe closes (a child created with the `fork` start
/// method inherits that pipe, and so keeps the server alive until it exits too). It removes
/// its socket directory as it goes; if it is killed first, the resource tracker removes the
/// directory once the process tree has gone.
///
/// # Differences from Python
///
/// Only the built-in `SyncManager` types exist (no `register` of custom types: a Rust type
/// cannot be shipped to the server as code). Values are `serde` types rather than pickled
/// objects; a proxy's type parameter says what it holds.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::{DictProxy, Manager};
/// use spindle_process::Process;
/// use std::time::Duration;
///
/// fn worker((d, n): (DictProxy<u32, u32>, u32)) {
///     d.insert(&n, &(n * n)).unwrap();
/// }
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let d = manager.dict().unwrap();
/// let mut p = Process::new(worker, (d.clone(), 7));
/// p.start().unwrap();
/// assert!(p.join_timeout(Duration::from_secs(30)));
/// assert_eq!(d.get(&7).unwrap(), Some(49));
/// manager.shutdown().unwrap();
/// assert!(d.len().is_err()); // ManagerError::ShutDown
/// ```
pub struct Manager {
    endpoint: Arc<Endpoint>,
    /// The server, while this manager owns a running one.
    server: Mutex<Option<Server>>,
}

/// What the owner of a running server holds.
struct Server {
    process: Process,
    /// The private directory holding the socket.
    dir: PathBuf,
    /// Its registration with the resource tracker.
    tracked: Option<TrackedDir>,
    /// Write end of the pipe the server watches: closing it (this process ending in any way)
    /// stops the server.
    _owner: Connection,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = self.server.lock();
        f.debug_struct("Manager")
            .field("address", &self.endpoint.address())
            .field("server_pid", &server.as_ref().and_then(|s| s.process.pid()))
            .finish()
    }
}

impl Manager {
    /// Starts the server process and waits until it listens: Python's `Manager()` /
    /// `SyncManager().start()`, with the default settings of [`Manager::builder`].
    ///
    /// # Errors
    ///
    /// [`ManagerError::Io`] if the directory, key or pipe cannot be made or the server cannot
    /// bind its socket; [`ManagerError::Start`] if the process does not start (for example
    /// inside a daemon process); [`ManagerError::ShutDown`] if the server exits before it
    /// reports ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::managers::Manager;
    ///
    /// # spindle_process::init();
    /// let manager = Manager::start().unwrap();
    /// assert_eq!(manager.number_of_objects().unwrap(), 0);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn start() -> Result<Manager, ManagerError> {
        ManagerBuilder::default().start()
    }

    /// Settings for the server (connection cap, handshake deadline), then
    /// [`start`](ManagerBuilder::start).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::managers::Manager;
    ///
    /// # spindle_process::init();
    /// let manager = Manager::builder().max_connections(32).start().unwrap();
    /// manager.shutdown().unwrap();
    /// ```
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    fn start_with(limits: server::Limits) -> Result<Manager, ManagerError> {
        let dir = socket::private_dir("spindle-manager").map_err(ManagerError::Io)?;
        // Before the server starts, so it inherits the tracker and can unregister too.
        let tracked = resource_tracker::register_dir(&dir, server::SOCKET_NAME);
        let started = Self::start_in(&dir, tracked.clone(), limits);
        if started.is_err() {
            remove_dir(&dir);
            if let Some(t) = &tracked {
                resource_tracker::unregister_dir(t);
            }
        }
        started
    }

    fn start_in(
        dir: &Path,
        tracked: Option<TrackedDir>,
        limits: server::Limits,
    ) -> Result<Manager, ManagerError> {
        let mut key = vec![0u8; wire::KEY_LEN];
        socket::random_bytes(&mut key).map_err(ManagerError::Io)?;
        let (ready_rx, ready_tx) = Pipe(false).map_err(ManagerError::Io)?;
        let (owner_rx, owner_tx) = Pipe(false).map_err(ManagerError::Io)?;
        let args = server::ServerArgs {
            dir: dir.to_path_buf(),
            tracked: tracked.clone(),
            key: key.clone(),
            limits,
            ready: ready_tx,
            owner: owner_rx,
        };
        let mut process = Process::new(server::serve, args)
            .name("SyncManager")
            .daemon(true);
        process.start().map_err(ManagerError::Start)?;
        // `start` consumed the target, so our copy of the write end is closed: a server that
        // dies early shows up as end of file here, not as a hang.
        let kill = |process: &Process| {
            let _ = process.kill();
            let _ = process.join_timeout(STOP_TIMEOUT);
        };
        match ready_rx.recv_timeout::<Result<(), server::StartFailure>>(START_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                kill(&process);
                return Err(ManagerError::Io(why.into_io()));
            }
            Err(_) => {
                kill(&process);
                return Err(ManagerError::ShutDown);
            }
        }
        let address = dir.join(server::SOCKET_NAME);
        Ok(Manager {
            endpoint: proxy::endpoint(&address, &key),
            server: Mutex::new(Some(Server {
                process,
                dir: dir.to_path_buf(),
                tracked,
                _owner: owner_tx,
            })),
        })
    }

    /// Connects to a manager another process started, given its
    /// [`address`](Manager::address) and [`authkey`](Manager::authkey): Python's
    /// `BaseManager(address, authkey).connect()`.
    ///
    /// The result creates objects on that server like the owner does; its
    /// [`shutdown`](Manager::shutdown) (and drop) leave the server running.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Auth`] if the key is wrong; [`ManagerError::ShutDown`] if nothing
    /// listens at `address`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::managers::{Manager, ManagerError};
    ///
    /// # spindle_process::init();
    /// let manager = Manager::start().unwrap();
    /// let other = Manager::connect(manager.address(), manager.authkey()).unwrap();
    /// other.namespace().unwrap().set("x", &1).unwrap();
    /// let wrong = Manager::connect(manager.address(), &[0u8; 32]);
    /// assert!(matches!(wrong, Err(ManagerError::Auth)));
    /// ```
    pub fn connect(address: impl AsRef<Path>, authkey: &[u8]) -> Result<Manager, ManagerError> {
        let m = Manager {
            endpoint: proxy::endpoint(address.as_ref(), authkey),
            server: Mutex::new(None),
        };
        m.number_of_objects()?;
        Ok(m)
    }

    /// The path of the server's Unix socket: Python's `manager.address`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.address().exists()); // the server's Unix socket
    /// manager.shutdown().unwrap();
    /// ```
    pub fn address(&self) -> &Path {
        self.endpoint.address()
    }

    /// The authentication key clients must present: Python's `manager._authkey`
    /// (`current_process().authkey` by default there; a fresh random key here).
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert_eq!(manager.authkey().len(), 32);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn authkey(&self) -> &[u8] {
        self.endpoint.key()
    }

    /// Stops the server (if this manager started it) and waits for it to exit: Python's
    /// `manager.shutdown()`. Calling it again does nothing.
    ///
    /// Every proxy call afterwards fails with [`ManagerError::ShutDown`], including calls
    /// blocked in the server at this moment.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Io`] if the server's directory cannot be removed. A server that does
    /// not exit within ten seconds of the request is killed; that is not an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::ManagerError;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// manager.shutdown().unwrap();
    /// manager.shutdown().unwrap(); // a second call does nothing
    /// assert!(matches!(manager.dict::<u8, u8>(), Err(ManagerError::ShutDown)));
    /// ```
    pub fn shutdown(&self) -> Result<(), ManagerError> {
        let Some(Server {
            process,
            dir,
            tracked,
            _owner: owner,
        }) = self.server.lock().take()
        else {
            return Ok(());
        };
        // The server replies, then exits; an error here means it is gone already.
        let _ = self.endpoint.quick(&Request::Shutdown);
        if !process.join_timeout(STOP_TIMEOUT) {
            let _ = process.kill();
            let _ = process.join_timeout(STOP_TIMEOUT);
        }
        // Only now: closing the owner pipe earlier would race the request above.
        drop(owner);
        self.endpoint.forget_idle();
        let gone = |r: std::io::Result<()>| match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ManagerError::Io(e)),
            _ => Ok(()),
        };
        gone(std::fs::remove_file(dir.join(server::SOCKET_NAME)))?;
        gone(std::fs::remove_dir(&dir))?;
        if let Some(t) = &tracked {
            resource_tracker::unregister_dir(t);
        }
        Ok(())
    }

    /// The server process's id, while this manager owns a running server (`None` for a
    /// manager from [`connect`](Manager::connect) or after [`shutdown`](Manager::shutdown)):
    /// Python's `manager._process.pid`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.server_pid().is_some());
    /// manager.shutdown().unwrap();
    /// assert_eq!(manager.server_pid(), None);
    /// ```
    pub fn server_pid(&self) -> Option<u32> {
        self.server.lock().as_ref().and_then(|s| s.process.pid())
    }

    /// Number of objects the server holds now: Python's `manager._number_of_objects()`,
    /// useful to check that dropped proxies released their objects.
    ///
    /// # Errors
    ///
    /// [`ManagerError::ShutDown`] once the manager is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// assert_eq!(manager.number_of_objects().unwrap(), 1);
    /// drop(ns);
    /// assert_eq!(manager.number_of_objects().unwrap(), 0);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn number_of_objects(&self) -> Result<usize, ManagerError> {
        match self.endpoint.quick(&Request::Count)? {
            Reply::Usize(n) => Ok(n),
            other => Err(ManagerError::Remote(format!("unexpected reply {other:?}"))),
        }
    }

    fn create(&self, kind: Kind) -> Result<Handle, ManagerError> {
        Handle::create(&self.endpoint, kind)
    }

    /// A new, empty managed dict: Python's `manager.dict()`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::ShutDown`] once the manager is gone (the same holds for every
    /// constructor below).
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<String, u32>().unwrap();
    /// d.insert(&"a".into(), &1).unwrap();
    /// assert_eq!(d.len().unwrap(), 1);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn dict<K, V>(&self) -> Result<DictProxy<K, V>, ManagerError> {
        Ok(DictProxy {
            handle: self.create(Kind::Dict)?,
            _t: PhantomData,
        })
    }

    /// A new, empty managed list: Python's `manager.list()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// assert!(l.is_empty().unwrap());
    /// manager.shutdown().unwrap();
    /// ```
    pub fn list<T>(&self) -> Result<ListProxy<T>, ManagerError> {
        Ok(ListProxy {
            handle: self.create(Kind::List(Vec::new()))?,
            _t: PhantomData,
        })
    }

    /// A new managed list holding `items`: Python's `manager.list(items)`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Encode`] if an item does not encode, besides `ShutDown`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 2]).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1, 2]);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn list_from<T: Serialize>(&self, items: &[T]) -> Result<ListProxy<T>, ManagerError> {
        let items = items
            .iter()
            .map(wire::encode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ListProxy {
            handle: self.create(Kind::List(items))?,
            _t: PhantomData,
        })
    }

    /// A new managed namespace with no attributes: Python's `manager.Namespace()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// assert!(ns.names().unwrap().is_empty());
    /// manager.shutdown().unwrap();
    /// ```
    pub fn namespace(&self) -> Result<NamespaceProxy, ManagerError> {
        Ok(NamespaceProxy {
            handle: self.create(Kind::Namespace)?,
            _t: PhantomData,
        })
    }

    /// A new managed lock, unlocked: Python's `manager.Lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let lock = manager.lock().unwrap();
    /// assert!(!lock.locked().unwrap());
    /// manager.shutdown().unwrap();
    /// ```
    pub fn lock(&self) -> Result<LockProxy, ManagerError> {
        Ok(LockProxy {
            handle: self.create(Kind::Lock)?,
            _t: PhantomData,
        })
    }

    /// A new managed re-entrant lock: Python's `manager.RLock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let rlock = manager.rlock().unwrap();
    /// drop(rlock.lock().unwrap());
    /// manager.shutdown().unwrap();
    /// ```
    pub fn rlock(&self) -> Result<RLockProxy, ManagerError> {
        Ok(RLockProxy {
            handle: self.create(Kind::RLock)?,
            _t: PhantomData,
        })
    }

    /// A new managed semaphore with counter `value`: Python's `manager.Semaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let sem = manager.semaphore(0).unwrap();
    /// sem.release().unwrap(); // unbounded: may rise above 0
    /// assert_eq!(sem.value().unwrap(), 1);
    /// manager.shutdown().unwrap();
    /// ```
    pub fn semaphore(&self, value: usize) -> Result<SemaphoreProxy, ManagerError> {
        Ok(SemaphoreProxy {
            handle: self.create(Kind::Semaphore(value, None))?,
            _t: PhantomData,
        })
    }

    /// A new managed semaphore that refuses to rise above `value`: Python's
    /// `manager.BoundedSemaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let sem = manager.bounded_semaphore(1).unwrap();
    /// assert!(sem.release().is_err()); // ManagerError::OverRelease
    /// manager.shutdown().unwrap();
    /// ```
    pub fn bounded_semaphore(&self, value: usize) -> Result<SemaphoreProxy, ManagerError> {
        Ok(SemaphoreProxy {
            handle: self.create(Kind::Semaphore(value, Some(value)))?,
            _t: PhantomData,
        })
    }

    /// A new managed event, clear: Python's `manager.Event()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(!manager.event().unwrap().is_set().unwrap());
    /// manager.shutdown().unwrap();
    /// ```
    pub fn event(&self) -> Result<EventProxy, ManagerError> {
        Ok(EventProxy {
            handle: self.create(Kind::Event)?,
            _t: PhantomData,
        })
    }

    /// A new managed condition over a fresh re-entrant lock: Python's `manager.Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// let _held = cond.lock().unwrap();
    /// cond.notify(1).unwrap();
    /// ```
    pub fn condition(&self) -> Result<ConditionProxy, ManagerError> {
        Ok(ConditionProxy {
            handle: self.create(Kind::Condition(None))?,
            _t: PhantomData,
        })
    }

    /// A new managed condition over `lock`: Python's `manager.Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let lock = manager.lock().unwrap();
    /// let cond = manager.condition_with_lock(&lock).unwrap();
    /// let _held = cond.lock().unwrap();
    /// assert!(lock.locked().unwrap()); // the condition took `lock`
    /// ```
    pub fn condition_with_lock(&self, lock: &LockProxy) -> Result<ConditionProxy, ManagerError> {
        Ok(ConditionProxy {
            handle: self.create(Kind::Condition(Some(lock.handle.id())))?,
            _t: PhantomData,
        })
    }

    /// A new managed condition over `lock`: Python's `manager.Condition(rlock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let rlock = manager.rlock().unwrap();
    /// let cond = manager.condition_with_rlock(&rlock).unwrap();
    /// let _held = cond.lock().unwrap();
    /// rlock.acquire().unwrap(); // same thread: re-entrant
    /// rlock.release().unwrap();
    /// ```
    pub fn condition_with_rlock(&self, lock: &RLockProxy) -> Result<ConditionProxy, ManagerError> {
        Ok(ConditionProxy {
            handle: self.create(Kind::Condition(Some(lock.handle.id())))?,
            _t: PhantomData,
        })
    }

    /// A new managed FIFO queue (`maxsize` 0: unbounded): Python's `manager.Queue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(1).unwrap();
    /// q.put(&1).unwrap();
    /// assert!(q.full().unwrap());
    /// ```
    pub fn queue<T>(&self, maxsize: usize) -> Result<QueueProxy<T>, ManagerError> {
        Ok(QueueProxy {
            handle: self.create(Kind::Queue(maxsize))?,
            _t: PhantomData,
        })
    }

    /// A new managed value holding `value`: Python's `manager.Value(typecode, value)`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Encode`] if the value does not encode, besides `ShutDown`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let v = manager.value(&String::from("x")).unwrap();
    /// assert_eq!(v.get().unwrap(), "x");
    /// ```
    pub fn value<T: Serialize + DeserializeOwned>(
        &self,
        value: &T,
    ) -> Result<ValueProxy<T>, ManagerError> {
        Ok(ValueProxy {
            handle: self.create(Kind::Value(wire::encode(value)?))?,
            _t: PhantomData,
        })
    }

    /// A new managed fixed-length array holding `items`: Python's
    /// `manager.Array(typecode, items)`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Encode`] if an item does not encode, besides `ShutDown`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let a = manager.array(&[1i64, 2]).unwrap();
    /// assert_eq!(a.get(-1).unwrap(), 2);
    /// ```
    pub fn array<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
    ) -> Result<ArrayProxy<T>, ManagerError> {
        let items = items
            .iter()
            .map(wire::encode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ArrayProxy {
            handle: self.create(Kind::Array(items))?,
            _t: PhantomData,
        })
    }
}

impl Drop for Manager {
    /// Shuts the server down (if this manager started it), like leaving a `with` block.
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn remove_dir(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(server::SOCKET_NAME));
    let _ = std::fs::remove_dir(dir);
}
