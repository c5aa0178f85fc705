//! The current process: its identity, its parent, and the registry of its children.
//!
//! Python's `multiprocessing.current_process()`, `parent_process()` and `active_children()`.
//! The registry also drives exit-time cleanup: when the program exits normally (`main`
//! returns or `std::process::exit` runs) an `atexit` handler terminates daemon children and
//! joins the others, as Python's `multiprocessing` does at interpreter exit.

use crate::sys;
use parking_lot::Mutex;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// A snapshot of a process's identity, as `current_process()` / `active_children()` give it.
///
/// Python returns `Process` objects; a snapshot is what can be shared safely between threads
/// and processes.
///
/// # Examples
///
/// ```
/// use spindle_process::current_process;
///
/// let me = current_process();
/// assert_eq!(me.pid(), std::process::id());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    name: String,
    pid: u32,
    daemon: bool,
}

impl ProcessInfo {
    /// The process name: `"MainProcess"` for the root, `"Process-1"`, `"Process-1:2"`, ... for
    /// children unless one was given.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle_process::current_process().name(), "MainProcess");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operating-system process id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle_process::current_process().pid(), std::process::id());
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process is a daemon (terminated when its parent exits).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!spindle_process::current_process().is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }
}

/// Who this process is; replaced once when a worker starts.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) name: String,
    pub(crate) identity: Vec<u32>,
    pub(crate) daemon: bool,
    pub(crate) parent: Option<(u32, String)>,
}

static IDENTITY: Mutex<Option<Identity>> = Mutex::new(None);
static COUNTER: AtomicU32 = AtomicU32::new(0);

pub(crate) fn identity() -> Identity {
    IDENTITY.lock().clone().unwrap_or_else(|| Identity {
        name: "MainProcess".into(),
        identity: Vec::new(),
        daemon: false,
        parent: None,
    })
}

/// Installs the identity a worker received from its parent (or a forked child computed), and
/// forgets the children inherited through `fork`.
pub(crate) fn become_child(id: Identity) {
    *IDENTITY.lock() = Some(id);
    COUNTER.store(0, Ordering::Relaxed);
    CHILDREN.lock().clear();
    crate::forkserver::forget_inherited();
}

/// The identity of the next child: `Process-<n>` under this process's own identity.
pub(crate) fn next_child_identity() -> (String, Vec<u32>) {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    let mut ident = identity().identity;
    ident.push(n);
    let name = format!(
        "Process-{}",
        ident
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(":")
    );
    (name, ident)
}

/// The process this code runs in: Python's `multiprocessing.current_process()`.
///
/// # Examples
///
/// ```
/// let me = spindle_process::current_process();
/// assert_eq!(me.name(), "MainProcess");
/// assert_eq!(me.pid(), std::process::id());
/// ```
pub fn current_process() -> ProcessInfo {
    let id = identity();
    ProcessInfo {
        name: id.name,
        pid: sys::getpid(),
        daemon: id.daemon,
    }
}

/// The process that started this one, or `None` in the main process: Python's
/// `multiprocessing.parent_process()`.
///
/// # Examples
///
/// ```
/// assert!(spindle_process::parent_process().is_none());
/// ```
pub fn parent_process() -> Option<ProcessInfo> {
    identity().parent.map(|(pid, name)| ProcessInfo {
        name,
        pid,
        daemon: false,
    })
}

/// How a started child ended, as far as this process can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Python's exit code: the exit status, or `-N` after signal `N`.
    Code(i32),
    /// The child is gone but its exit status is lost: the fork server that reaps it died
    /// before reporting it, or someone else reaped it (a `SIGCHLD` set to `SIG_IGN`, a foreign
    /// `waitpid(-1)`).
    Unknown,
}

impl Ended {
    /// The exit code, if it is known.
    pub(crate) fn code(self) -> Option<i32> {
        match self {
            Ended::Code(c) => Some(c),
            Ended::Unknown => None,
        }
    }
}

/// Shared state of one started child, held by its `Process` handle and by the registry.
///
/// Where the exit status comes from: `waitpid` for a child of this process, the status pipe
/// for a fork-server child. When that source is lost (`ECHILD`; the server died, so the pipe
/// ends without a code), the child is *not* taken for dead: the kernel says through the pidfd
/// (taken while the child could not yet be reaped, so a recycled pid cannot fool it) whether
/// it still runs, and once it has ended the answer is [`Ended::Unknown`].
#[derive(Debug)]
pub(crate) struct ChildState {
    pub(crate) pid: u32,
    pub(crate) name: String,
    pub(crate) daemon: bool,
    pidfd: Option<OwnedFd>,
    /// For a fork-server child (not ours to `waitpid`): the pipe the server writes the exit
    /// code to.
    status: Option<OwnedFd>,
    /// Set once the status source is lost (the status pipe ended without a code, or `waitpid`
    /// said `ECHILD`): from then on only the kernel's view of the pid counts.
    status_lost: AtomicBool,
    /// `Some` once the child has ended (and was reaped, if it is ours). The lock also keeps
    /// `kill` from racing the reap (pid reuse).
    end: Mutex<Option<Ended>>,
}

impl ChildState {
    pub(crate) fn new(pid: u32, name: String, daemon: bool) -> Arc<ChildState> {
        Arc::new(ChildState {
            pid,
            name,
            daemon,
            // Our child cannot be reaped before we `waitpid` it, so this pidfd is its own.
            pidfd: sys::pidfd_open(pid).ok(),
            status: None,
            status_lost: AtomicBool::new(false),
            end: Mutex::new(None),
        })
    }

    /// A child the fork server started: its exit code arrives on `status`; `pidfd` is the
    /// one the server opened before it could reap the child.
    pub(crate) fn via_server(
        pid: u32,
        name: String,
        daemon: bool,
        status: OwnedFd,
        pidfd: Option<OwnedFd>,
    ) -> Arc<ChildState> {
        Arc::new(ChildState {
            pid,
            name,
            daemon,
            pidfd: pidfd.or_else(|| sys::pidfd_open(pid).ok()),
            status: Some(status),
            status_lost: AtomicBool::new(false),
            end: Mutex::new(None),
        })
    }

    /// Reads the exit code the fork server sent, if it has arrived. A pipe that ends without
    /// one means the server died: the status is lost, not the child.
    fn read_status(&self, status: &OwnedFd) -> Option<Ended> {
        if !matches!(
            sys::poll_readable(status.as_fd(), Some(Instant::now())),
            Ok(true)
        ) {
            return None;
        }
        let mut code = [0u8; 4];
        match sys::read_exact_fd(status.as_fd(), &mut code) {
            // Four bytes fit in a pipe's atomic write: a code is whole or absent.
            Ok(()) => Some(Ended::Code(i32::from_le_bytes(code))),
            Err(_) => {
                self.status_lost.store(true, Ordering::Release);
                self.ended_per_kernel()
            }
        }
    }

    /// For a child whose status source is lost: whether it has ended, from the kernel.
    fn ended_per_kernel(&self) -> Option<Ended> {
        let gone = match &self.pidfd {
            // Readable once the process has exited (zombie or reaped), whoever its parent is.
            Some(fd) => matches!(
                sys::poll_readable(fd.as_fd(), Some(Instant::now())),
                Ok(true)
            ),
            // No pidfd (kernel before 5.3): /proc, which a recycled pid can fool.
            None => sys::process_is_dead(self.pid),
        };
        gone.then_some(Ended::Unknown)
    }

    /// Reaps without blocking; how the child ended, once it has.
    pub(crate) fn try_reap(&self) -> Option<Ended> {
        let mut end = self.end.lock();
        if end.is_none() {
            *end = if self.status_lost.load(Ordering::Acquire) {
                self.ended_per_kernel()
            } else if let Some(status) = &self.status {
                self.read_status(status)
            } else {
                match sys::wait_exit(self.pid) {
                    Ok(c) => c.map(Ended::Code),
                    // ECHILD: someone else reaped it (a SIGCHLD=SIG_IGN setting or a foreign
                    // waitpid(-1)), or it is not ours (a handle inherited through fork).
                    Err(_) => {
                        self.status_lost.store(true, Ordering::Release);
                        self.ended_per_kernel()
                    }
                }
            };
        }
        *end
    }

    /// Waits until the child ends or `deadline` passes; how it ended, if it has. With no
    /// deadline it returns only once the child has ended.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Option<Ended> {
        let mut backoff = Duration::from_micros(50);
        loop {
            if let Some(end) = self.try_reap() {
                return Some(end);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            // The status pipe fires when the server reports (or dies); once it is lost, the
            // pidfd fires when the child exits.
            let fd = if self.status_lost.load(Ordering::Acquire) {
                self.pidfd.as_ref()
            } else {
                self.status.as_ref().or(self.pidfd.as_ref())
            };
            let polled = fd.map(|fd| sys::poll_readable(fd.as_fd(), deadline));
            if !matches!(polled, Some(Ok(_))) {
                // No pidfd (kernel before 5.3) or a failed poll: check again after a growing
                // pause.
                let pause = deadline.map_or(backoff, |d| {
                    backoff.min(d.saturating_duration_since(Instant::now()))
                });
                std::thread::sleep(pause);
                backoff = (backoff * 2).min(Duration::from_millis(10));
            }
        }
    }

    /// Sends `signal` unless the child is known to have ended (through its pidfd when there
    /// is one, so a recycled pid is never hit).
    pub(crate) fn signal(&self, signal: i32) -> std::io::Result<()> {
        let end = self.end.lock();
        if end.is_some() {
            return Ok(());
        }
        let sent = match &self.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_fd(), signal),
            None => sys::send_signal(self.pid, signal),
        };
        match sent {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    fn info(&self) -> ProcessInfo {
        ProcessInfo {
            name: self.name.clone(),
            pid: self.pid,
            daemon: self.daemon,
        }
    }
}

static CHILDREN: Mutex<Vec<Arc<ChildState>>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();

/// Adds a started child to the registry (and installs the exit handler once), dropping the
/// entries of children that have ended (as Python's `_cleanup` does on every start), so a
/// long-running parent does not accumulate their descriptors.
pub(crate) fn register_child(child: Arc<ChildState>) {
    AT_EXIT.call_once(|| sys::at_exit(on_exit));
    let mut list = CHILDREN.lock();
    list.retain(|c| c.try_reap().is_none());
    list.push(child);
}

/// Drops a child from the registry (after `close`).
pub(crate) fn forget_child(child: &Arc<ChildState>) {
    CHILDREN.lock().retain(|c| !Arc::ptr_eq(c, child));
}

/// The children still running, reaping those that ended: Python's
/// `multiprocessing.active_children()`.
///
/// # Examples
///
/// ```
/// // In a process that started nothing:
/// assert!(spindle_process::active_children().is_empty());
/// ```
pub fn active_children() -> Vec<ProcessInfo> {
    let mut list = CHILDREN.lock();
    list.retain(|c| c.try_reap().is_none());
    list.iter().map(|c| c.info()).collect()
}

/// Exit-time cleanup: terminate daemon children, then join the rest (Python's `_exit_function`).
pub(crate) fn cleanup_children() {
    let children: Vec<Arc<ChildState>> = std::mem::take(&mut *CHILDREN.lock());
    for c in children.iter().filter(|c| c.daemon) {
        let _ = c.signal(libc::SIGTERM);
    }
    for c in &children {
        if c.try_reap().is_none() {
            // Reap for real (blocking); the pidfd wait then waitpid keeps no zombie behind.
            c.wait_until(None);
        }
    }
    crate::forkserver::stop();
}

extern "C" fn on_exit() {
    cleanup_children();
}
