//! The worker side of the spawn start method: [`init`] and what a child does with its job.

use crate::current::{self, Identity};
use crate::reduction;
use crate::shipping::Call;
use crate::sys;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Environment variable naming the descriptor a re-executed worker reads its job from.
pub(crate) const ENV_JOB_FD: &str = "SPINDLE_WORKER_JOB_FD";

/// Everything a spawned child needs: the call, who it is, and which descriptors it inherited.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    call: Call,
    name: String,
    identity: Vec<u32>,
    daemon: bool,
    parent_pid: u32,
    parent_name: String,
    /// Descriptors of handles inside the arguments, in the order `reduction` indexed them.
    fds: Vec<RawFd>,
    /// The resource tracker's pipe, if this tree has one.
    tracker_fd: Option<RawFd>,
}

impl Job {
    pub(crate) fn new(call: Call, id: Identity, fds: Vec<RawFd>, tracker_fd: Option<RawFd>) -> Job {
        let (parent_pid, parent_name) = id.parent.unwrap_or((0, String::new()));
        Job {
            call,
            name: id.name,
            identity: id.identity,
            daemon: id.daemon,
            parent_pid,
            parent_name,
            fds,
            tracker_fd,
        }
    }
}

impl Job {
    /// Replaces the descriptor numbers (a fork server received its own copies).
    pub(crate) fn set_fds(&mut self, fds: Vec<RawFd>, tracker_fd: Option<RawFd>) {
        self.fds = fds;
        self.tracker_fd = tracker_fd;
    }

    /// Whether the child is a daemon.
    pub(crate) fn daemon(&self) -> bool {
        self.daemon
    }
}

/// Whether this process was started as a worker but `init()` has not consumed its job.
pub(crate) fn marker_pending() -> bool {
    std::env::var_os(ENV_JOB_FD).is_some()
}

/// Makes this program usable as a worker; call it first thing in `main`.
///
/// In a normal process it returns at once (and costs one environment lookup). In a process
/// started by [`Process::start`](crate::Process::start) with the spawn method it never
/// returns: it reads the job, runs the target, joins the worker's own children and exits with
/// the target's exit code (0, or 1 after a panic).
///
/// Integration tests and benches with libtest's harness use
/// [`test_support!`](crate::test_support) instead, which runs this before `main`.
///
/// # Examples
///
/// ```
/// fn main() {
///     spindle_process::init();
///     // ... the program, which may start processes ...
/// }
/// # main();
/// ```
pub fn init() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let Some(fd) = std::env::var_os(ENV_JOB_FD) else {
        return;
    };
    // Remove the marker first so children of this worker do not mistake it for theirs.
    std::env::remove_var(ENV_JOB_FD);
    let code = run_job(fd.to_str().and_then(|s| s.parse().ok()));
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// Why a spawned child could not read its job (printed to its stderr before it exits 1).
#[derive(Debug, thiserror::Error)]
enum JobError {
    /// The environment variable did not name a descriptor.
    #[error("malformed job descriptor")]
    Descriptor,
    /// Reading the descriptor failed.
    #[error("cannot read the job: {0}")]
    Read(#[source] std::io::Error),
    /// The bytes are not a job of this program.
    #[error("cannot decode the job: {0}")]
    Decode(#[source] crate::codec::CodecError),
}

fn read_job(fd: Option<RawFd>) -> Result<Job, JobError> {
    let fd = fd.ok_or(JobError::Descriptor)?;
    // SAFETY:
    // - the parent passed this descriptor for us alone (it is not close-on-exec only in the
    //   child), and nothing else in this process knows its number yet.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(JobError::Read)?;
    crate::codec::decode(&bytes).map_err(JobError::Decode)
}

fn run_job(fd: Option<RawFd>) -> i32 {
    let job = match read_job(fd) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("spindle worker {}: {e}", std::process::id());
            return 1;
        }
    };
    if job.daemon && sys::getppid() != job.parent_pid {
        // The parent died before the death signal was armed: behave as if it had fired.
        let _ = sys::send_signal(sys::getpid(), libc::SIGKILL);
        return 1;
    }
    sys::ignore_sigpipe();
    install_panic_hook();
    execute(job)
}

/// Runs a job in this (new) process: identity, inherited descriptors, the call. Returns the
/// exit code after joining the job's own children.
pub(crate) fn execute(job: Job) -> i32 {
    let name = job.name.clone();
    current::become_child(Identity {
        name: job.name,
        identity: job.identity,
        daemon: job.daemon,
        parent: Some((job.parent_pid, job.parent_name)),
    });
    let fds: Vec<OwnedFd> = job
        .fds
        .iter()
        .map(|&fd| {
            // SAFETY:
            // - the parent kept exactly these descriptors open for us and nothing in this
            //   process has taken ownership of them yet.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let _ = sys::set_cloexec(fd.as_fd(), true);
            fd
        })
        .collect();
    if let Some(t) = job.tracker_fd {
        // SAFETY:
        // - as above: inherited for us, owned by nobody else here.
        let t = unsafe { OwnedFd::from_raw_fd(t) };
        let _ = sys::set_cloexec(t.as_fd(), true);
        crate::resource_tracker::adopt(t);
    }
    let call = job.call;
    let outcome = reduction::with_incoming_fds(fds, || {
        std::panic::catch_unwind(|| {
            // SAFETY:
            // - the job came from our parent over a private descriptor, made by `Call::new`
            //   in the same program (the build id inside is checked).
            unsafe { call.invoke() }
        })
    });
    let code = match outcome {
        Ok(Ok(_)) => 0,
        Ok(Err(e)) => {
            eprintln!("Process {name}:\n{e}");
            1
        }
        Err(_) => 1, // the panic hook already printed the message
    };
    current::cleanup_children();
    code
}

/// Prefixes panic reports with `Process <name>:`, like Python's traceback header.
pub(crate) fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("Process {}:", current::identity().name);
        previous(info);
    }));
}

/// Ends a forked child: join its own children, flush, `_exit(code)`.
pub(crate) fn finish(code: i32) -> ! {
    current::cleanup_children();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    sys::exit_now(code)
}

/// Makes a libtest (or criterion) binary usable as a spindle worker: put
/// `spindle_process::test_support!();` once at the top level of the test file.
///
/// It places a function in the ELF `.init_array` section (what the `ctor` crate does), so
/// [`init`](crate::init) runs before libtest's `main`: a re-executed child runs its job and
/// exits before libtest parses its arguments; a normal run is unaffected. Programs with
/// their own `main` call [`init`](crate::init) there instead.
///
/// # Examples
///
/// ```
/// // At the top of tests/process_smoke.rs (here a doctest's own `main` stands in for libtest's):
/// spindle_process::test_support!();
///
/// fn work(_: ()) {}
///
/// fn main() {
///     let mut p = spindle_process::Process::new(work, ());
///     p.start().unwrap();
///     assert_eq!(p.join().unwrap(), 0);
/// }
/// ```
#[macro_export]
macro_rules! test_support {
    () => {
        #[used]
        #[link_section = ".init_array"]
        static __SPINDLE_PROCESS_WORKER_INIT: extern "C" fn() = {
            extern "C" fn __spindle_process_worker_init() {
                $crate::init();
            }
            __spindle_process_worker_init
        };
    };
}
