//! `Process`: a function run in a new operating-system process (Python's
//! `multiprocessing.Process`), and the start methods that create it.
//!
//! This file passes 600 lines on purpose: `Process` and the start methods that create it are
//! one concept, and each of its methods carries its own runnable example.

use crate::current::{self, ChildState, Ended, Identity};
use crate::reduction;
use crate::shipping::{Call, ShipError};
use crate::sys;
use crate::worker::{self, Job};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a child process is created: Python's start methods.
///
/// - [`Spawn`](StartMethod::Spawn) (the default) re-executes this program (`/proc/self/exe`)
///   and hands the function and its arguments over an inherited descriptor. Safe whatever
///   threads are running; costs an `exec` (about a millisecond).
/// - [`Fork`](StartMethod::Fork) calls `fork()` and runs the function in the copy: fastest, and
///   arguments are not even encoded, but only sound while the process has one thread, so it
///   can be chosen only through the `unsafe` [`StartMethod::fork`].
///
/// - [`ForkServer`](StartMethod::ForkServer) asks a server process — spawned once, on first
///   use, while it is still single-threaded — to `fork` the child: safe like spawn, and cheaper
///   per child once the server runs.
///
/// # Examples
///
/// ```
/// use spindle_process::{Process, StartMethod};
///
/// fn noop(_: ()) {}
///
/// # spindle_process::init();
/// assert_eq!(StartMethod::default(), StartMethod::Spawn);
/// let mut p = Process::new(noop, ()).start_method(StartMethod::ForkServer);
/// p.start().unwrap();
/// assert_eq!(p.join().unwrap(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StartMethod {
    /// Re-execute this program as the worker (Python's `"spawn"`).
    #[default]
    Spawn,
    /// Fork from a clean single-threaded server process (Python's `"forkserver"`).
    ForkServer,
    /// `fork()` the current process (Python's `"fork"`); build it with [`StartMethod::fork`].
    Fork(ForkPermit),
}

/// Proof that the caller accepted the contract of [`StartMethod::fork`].
///
/// # Examples
///
/// ```
/// use spindle_process::StartMethod;
///
/// // SAFETY: this doctest's process has a single thread.
/// let StartMethod::Fork(permit) = (unsafe { StartMethod::fork() }) else {
///     panic!("fork() builds StartMethod::Fork");
/// };
/// let copy = permit; // a permit is `Copy`
/// assert_eq!(StartMethod::Fork(copy), StartMethod::Fork(permit));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkPermit(());

impl StartMethod {
    /// The `fork` start method.
    ///
    /// # Safety
    ///
    /// Sound only while the process has one thread: a lock another thread holds at the fork
    /// (inside the allocator, stdout, a `Mutex`) stays held forever in the child, which then
    /// deadlocks or corrupts state. Python warns at run time; spindle makes you write `unsafe`.
    /// libtest runs tests on threads, so tests should not use it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::StartMethod;
    ///
    /// // SAFETY: this doctest's process has a single thread.
    /// let m = unsafe { StartMethod::fork() };
    /// assert!(matches!(m, StartMethod::Fork(_)));
    /// ```
    pub unsafe fn fork() -> StartMethod {
        StartMethod::Fork(ForkPermit(()))
    }
}

/// Why a process operation failed.
///
/// # Examples
///
/// ```
/// use spindle_process::{Process, ProcessError};
///
/// fn noop(_: ()) {}
///
/// let p = Process::new(noop, ());
/// assert!(matches!(p.join(), Err(ProcessError::NotStarted)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// `start` was called a second time (Python: "cannot start a process twice").
    #[error("cannot start a process twice")]
    AlreadyStarted,
    /// The operation needs a started process.
    #[error("process has not been started")]
    NotStarted,
    /// `close` ran before; the handle no longer refers to a process.
    #[error("process object is closed")]
    Closed,
    /// `close` was called while the child still runs.
    #[error("cannot close a process while it is still running")]
    StillRunning,
    /// A daemon process tried to start a child (Python: "daemonic processes are not allowed to
    /// have children").
    #[error("daemonic processes are not allowed to have children")]
    DaemonChildren,
    /// This process was started as a worker but `spindle_process::init()` did not run first,
    /// so it would re-run `main` instead of its job.
    #[error("this program was started as a spindle worker but did not call spindle_process::init() first thing in main")]
    NotInitialized,
    /// The target or its arguments could not be shipped to the child.
    #[error("cannot ship the process target: {0}")]
    Ship(#[source] ShipError),
    /// Creating the child failed; the operating system's error is inside, and in the message
    /// ("failed to start the child process: Too many open files (os error 24)").
    #[error("failed to start the child process: {0}")]
    Spawn(#[source] io::Error),
    /// Sending a signal failed; the operating system's error is inside, and in the message.
    #[error("failed to signal the child process: {0}")]
    Signal(#[source] io::Error),
    /// The child has ended but its exit status cannot be known: the fork server that forked
    /// it (and alone could reap it) died before reporting the status, or something outside
    /// spindle reaped the child (`SIGCHLD` set to `SIG_IGN`, a `waitpid(-1)` elsewhere).
    /// `is_alive()` is false and `exitcode()` `None` for such a child.
    #[error("process {pid} has ended but its exit status is unknown (the process that could reap it, such as the fork server, died first, or another waiter reaped it)")]
    StatusUnknown {
        /// The child's process id.
        pid: u32,
    },
}

/// The type-erased target and its arguments until `start` consumes them.
trait Target: Send {
    /// Encodes the call (inside a descriptor-collecting window).
    fn call(&self) -> Result<Call, ShipError>;
    /// Runs the target in this process (the fork path).
    fn run_here(self: Box<Self>);
}

struct Typed<A> {
    f: fn(A),
    args: A,
}

impl<A: Serialize + DeserializeOwned + Send + 'static> Target for Typed<A> {
    fn call(&self) -> Result<Call, ShipError> {
        Call::new(self.f, &self.args)
    }
    fn run_here(self: Box<Self>) {
        (self.f)(self.args)
    }
}

/// A function run in a child process: Python's `multiprocessing.Process`.
///
/// Create it with a plain function (or non-capturing closure) and its arguments, set a
/// [`name`](Process::name), [`daemon`](Process::daemon) flag or
/// [`start_method`](Process::start_method), then [`start`](Process::start) it. Arguments are
/// `serde` values; handles such as [`Connection`](crate::Connection), [`Queue`](crate::Queue),
/// the shared locks and [`Value`](crate::Value) may be among them and arrive connected to the
/// same pipes and shared memory (see [`shipping`](crate::shipping) for how the function
/// travels).
///
/// The child's exit code follows Python: 0 when the function returns, the status passed to
/// `std::process::exit`, 1 after a panic (whose message is printed to stderr under a
/// `Process <name>:` line), `-N` when signal `N` ended it.
///
/// Dropping a `Process` neither kills nor waits: a running child keeps running and is joined
/// (or, if a daemon, terminated) when this program exits normally.
///
/// # Differences from Python
///
/// The target is a `fn(A)` and `A: Serialize + DeserializeOwned`, because a closure cannot
/// cross a process boundary. Methods that Python makes raise after `close()` return
/// [`ProcessError::Closed`] or a neutral value (documented on each).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::Process;
///
/// fn work(code: i32) {
///     std::process::exit(code);
/// }
///
/// # spindle_process::init();
/// let mut p = Process::new(work, 7).name("worker");
/// p.start().unwrap();
/// assert!(p.join_timeout(Duration::from_secs(30)));
/// assert_eq!(p.exitcode(), Some(7));
/// ```
pub struct Process {
    target: Mutex<Option<Box<dyn Target>>>,
    name: String,
    identity: Vec<u32>,
    daemon: bool,
    method: StartMethod,
    child: Option<Arc<ChildState>>,
    closed: bool,
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("daemon", &self.daemon)
            .field("start_method", &self.method)
            .field("pid", &self.pid())
            .field("exitcode", &self.exitcode())
            .field("closed", &self.closed)
            .finish()
    }
}

impl Process {
    /// A process that will run `target(args)`: Python's `Process(target=..., args=...)`.
    ///
    /// The name defaults to `Process-<n>` (`n` counts the processes this process created, and
    /// a child's names extend its own: `Process-1:1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn add(args: (i32, i32)) {
    ///     std::process::exit(args.0 + args.1);
    /// }
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(add, (2, 3));
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 5);
    /// ```
    pub fn new<A>(target: fn(A), args: A) -> Process
    where
        A: Serialize + DeserializeOwned + Send + 'static,
    {
        let (name, identity) = current::next_child_identity();
        Process {
            target: Mutex::new(Some(Box::new(Typed { f: target, args }))),
            name,
            identity,
            daemon: false,
            method: StartMethod::default(),
            child: None,
            closed: false,
        }
    }

    /// Sets the process name (what `current_process().name()` returns in the child).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// let p = Process::new(noop, ()).name("reader");
    /// assert_eq!(p.get_name(), "reader");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Process {
        self.name = name.into();
        self
    }

    /// Marks the process as a daemon: it is terminated when this program exits normally
    /// (and, when started from the main thread, killed by the kernel if this process dies
    /// abruptly), and it may not start children of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// let p = Process::new(noop, ()).daemon(true);
    /// assert!(p.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Process {
        self.daemon = daemon;
        self
    }

    /// Chooses how the child is created (default [`StartMethod::Spawn`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Process, StartMethod};
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ()).start_method(StartMethod::Spawn);
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 0);
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> Process {
        self.method = method;
        self
    }

    /// The process name.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// assert!(Process::new(noop, ()).get_name().starts_with("Process-"));
    /// ```
    pub fn get_name(&self) -> &str {
        &self.name
    }

    /// Whether this is a daemon process.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// assert!(!Process::new(noop, ()).is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }

    /// The operating-system process id once started (`None` before `start` and after `close`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ());
    /// assert_eq!(p.pid(), None);
    /// p.start().unwrap();
    /// assert!(p.pid().is_some());
    /// p.join().unwrap();
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.pid)
    }

    /// Starts the child: Python's `p.start()`.
    ///
    /// # Errors
    ///
    /// [`ProcessError::AlreadyStarted`] on a second call; [`ProcessError::Closed`] after
    /// `close`; [`ProcessError::DaemonChildren`] inside a daemon process;
    /// [`ProcessError::NotInitialized`] in a worker whose `main` did not call
    /// [`init`](crate::init); [`ProcessError::Ship`] if the arguments do not encode;
    /// [`ProcessError::Spawn`] if the operating system refuses the new process.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Process, ProcessError};
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ());
    /// p.start().unwrap();
    /// assert!(matches!(p.start(), Err(ProcessError::AlreadyStarted)));
    /// p.join().unwrap();
    /// ```
    pub fn start(&mut self) -> Result<(), ProcessError> {
        if self.closed {
            return Err(ProcessError::Closed);
        }
        if self.child.is_some() {
            return Err(ProcessError::AlreadyStarted);
        }
        if current::identity().daemon {
            return Err(ProcessError::DaemonChildren);
        }
        if worker::marker_pending() {
            return Err(ProcessError::NotInitialized);
        }
        let Some(target) = self.target.lock().take() else {
            return Err(ProcessError::AlreadyStarted);
        };
        let child_identity = Identity {
            name: self.name.clone(),
            identity: self.identity.clone(),
            daemon: self.daemon,
            parent: Some((sys::getpid(), current::identity().name)),
        };
        let (name, daemon) = (self.name.clone(), self.daemon);
        let started = if let StartMethod::Fork(_) = self.method {
            fork(target, child_identity).map(|pid| ChildState::new(pid, name, daemon))
        } else {
            let r = if self.method == StartMethod::ForkServer {
                let (call, fds) = reduction::collect_fds(|| target.call());
                call.map_err(ProcessError::Ship)
                    .and_then(|call| crate::forkserver::start(call, child_identity, fds))
            } else {
                spawn(&*target, child_identity).map(|pid| ChildState::new(pid, name, daemon))
            };
            if r.is_err() {
                // A failed start leaves the handle as it was, ready for another try.
                *self.target.lock() = Some(target);
            }
            r
        };
        let child = started?;
        current::register_child(child.clone());
        self.child = Some(child);
        Ok(())
    }

    fn started(&self) -> Result<&Arc<ChildState>, ProcessError> {
        if self.closed {
            return Err(ProcessError::Closed);
        }
        self.child.as_ref().ok_or(ProcessError::NotStarted)
    }

    /// Whether the child runs: Python's `p.is_alive()` (false before `start`, after the child
    /// ended, and after `close`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Pipe, Process};
    ///
    /// fn wait_for_go(rx: spindle_process::Connection) {
    ///     rx.recv::<()>().unwrap();
    /// }
    ///
    /// # spindle_process::init();
    /// let (rx, tx) = Pipe(false).unwrap();
    /// let mut p = Process::new(wait_for_go, rx);
    /// p.start().unwrap();
    /// assert!(p.is_alive());
    /// tx.send(&()).unwrap();
    /// p.join().unwrap();
    /// assert!(!p.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.child.as_ref().is_some_and(|c| c.try_reap().is_none())
    }

    /// Waits for the child to end and returns its exit code: Python's `p.join()`.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`] before `start` (Python: "can only join a started process");
    /// [`ProcessError::Closed`] after `close`; [`ProcessError::StatusUnknown`] if the child
    /// ended but its exit status was lost (its fork server died before reporting it; Python
    /// reports 255 there, which a real exit status could also be).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn fail(_: ()) {
    ///     panic!("boom");
    /// }
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(fail, ());
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 1); // a panic exits with 1
    /// ```
    pub fn join(&self) -> Result<i32, ProcessError> {
        let child = self.started()?;
        // With no deadline, `wait_until` returns only once the child has ended.
        let end = loop {
            if let Some(end) = child.wait_until(None) {
                break end;
            }
        };
        match end {
            Ended::Code(c) => Ok(c),
            Ended::Unknown => Err(ProcessError::StatusUnknown { pid: child.pid }),
        }
    }

    /// Waits up to `timeout` for the child to end; returns whether it has (Python's
    /// `p.join(timeout)` followed by `not p.is_alive()`).
    ///
    /// Returns false if the process was never started or is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ());
    /// assert!(!p.join_timeout(Duration::ZERO)); // not started
    /// p.start().unwrap();
    /// assert!(p.join_timeout(Duration::from_secs(30)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        let Ok(child) = self.started() else {
            return false;
        };
        child
            .wait_until(Instant::now().checked_add(timeout))
            .is_some()
    }

    /// The exit code once the child has ended and been reaped (by `join`, `is_alive`, ...):
    /// 0 for a normal return, the exit status, 1 after a panic, `-N` after signal `N`.
    /// `None` while it runs, before `start`, after `close`, and for a child that ended with
    /// its status unknown (see [`ProcessError::StatusUnknown`]; `is_alive()` is false then).
    ///
    /// A fork-server child outlives its server: if the server is killed, the child is still
    /// reported running (`None`, `is_alive()` true) for as long as the kernel says it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ());
    /// assert_eq!(p.exitcode(), None);
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// assert_eq!(p.exitcode(), Some(0));
    /// ```
    pub fn exitcode(&self) -> Option<i32> {
        self.child
            .as_ref()
            .and_then(|c| c.try_reap())
            .and_then(Ended::code)
    }

    /// Sends `SIGTERM`: Python's `p.terminate()`. A child that already ended is left alone.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotStarted`], [`ProcessError::Closed`], or [`ProcessError::Signal`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn idle(_: ()) {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(idle, ());
    /// p.start().unwrap();
    /// p.terminate().unwrap();
    /// assert_eq!(p.join().unwrap(), -15); // SIGTERM
    /// ```
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.started()?
            .signal(libc::SIGTERM)
            .map_err(ProcessError::Signal)
    }

    /// Sends `SIGKILL`: Python's `p.kill()`. A child that already ended is left alone.
    ///
    /// # Errors
    ///
    /// As [`terminate`](Process::terminate).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Process;
    ///
    /// fn idle(_: ()) {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(idle, ());
    /// p.start().unwrap();
    /// p.kill().unwrap();
    /// assert_eq!(p.join().unwrap(), -9); // SIGKILL
    /// ```
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.started()?
            .signal(libc::SIGKILL)
            .map_err(ProcessError::Signal)
    }

    /// Releases the handle's resources: Python's `p.close()`. Closing twice is fine.
    ///
    /// # Errors
    ///
    /// [`ProcessError::StillRunning`] if the child has not ended (join or kill it first).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{Process, ProcessError};
    ///
    /// fn noop(_: ()) {}
    ///
    /// # spindle_process::init();
    /// let mut p = Process::new(noop, ());
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// p.close().unwrap();
    /// assert!(matches!(p.join(), Err(ProcessError::Closed)));
    /// ```
    pub fn close(&mut self) -> Result<(), ProcessError> {
        if let Some(child) = &self.child {
            if child.try_reap().is_none() {
                return Err(ProcessError::StillRunning);
            }
            current::forget_child(child);
        }
        self.child = None;
        self.target.lock().take();
        self.closed = true;
        Ok(())
    }
}

impl Drop for Process {
    /// Forgets an ended child at once; a running one stays registered (it is joined, or
    /// terminated if a daemon, at exit).
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            if child.try_reap().is_some() {
                current::forget_child(child);
            }
        }
    }
}

impl Process {
    /// Removes a started child from the registry (`active_children`, exit-time cleanup): for
    /// internal helper processes that are stopped explicitly.
    pub(crate) fn detach(&self) {
        if let Some(child) = &self.child {
            current::forget_child(child);
        }
    }
}

/// Spawn: re-execute this program and hand it the job.
fn spawn(target: &dyn Target, identity: Identity) -> Result<u32, ProcessError> {
    let (call, fds) = reduction::collect_fds(|| target.call());
    let call = call.map_err(ProcessError::Ship)?;
    let tracker = crate::resource_tracker::inherited_fd();
    let daemon = identity.daemon;
    let job = Job::new(call, identity, fds.clone(), tracker);
    let bytes = crate::codec::encode(&job).map_err(|e| ProcessError::Ship(e.into()))?;
    let job_fd = sys::shm::memfd_with_contents(&bytes).map_err(ProcessError::Spawn)?;
    let mut keep = fds;
    keep.extend(tracker);
    keep.push(std::os::fd::AsRawFd::as_raw_fd(&job_fd));
    let env = [(
        worker::ENV_JOB_FD,
        std::os::fd::AsRawFd::as_raw_fd(&job_fd).to_string(),
    )];
    // The death signal is tied to the spawning thread; only the main thread lives as long as
    // the process, so only there is it a faithful "parent died" signal.
    let death_signal = (daemon && sys::gettid() == sys::getpid()).then_some(libc::SIGKILL);
    let cfg = sys::SpawnConfig {
        env: &env,
        keep_fds: &keep,
        death_signal,
    };
    sys::spawn_worker(&cfg).map_err(ProcessError::Spawn)
}

/// Fork: copy this process and run the target in the copy.
fn fork(target: Box<dyn Target>, identity: Identity) -> Result<u32, ProcessError> {
    // Flush so buffered output is not written twice (once by each copy).
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    // SAFETY:
    // - the caller built `StartMethod::Fork` through the unsafe `StartMethod::fork`, promising
    //   the process has one thread.
    match unsafe { sys::fork_worker() }.map_err(ProcessError::Spawn)? {
        Some(pid) => Ok(pid),
        None => {
            let daemon = identity.daemon;
            current::become_child(identity);
            if daemon {
                let _ = sys::set_death_signal(libc::SIGKILL);
            }
            worker::install_panic_hook();
            let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                target.run_here()
            })) {
                Ok(()) => 0,
                Err(_) => 1,
            };
            worker::finish(code)
        }
    }
}
