//! The fork server: Python's `forkserver` start method.
//!
//! On the first [`StartMethod::ForkServer`](crate::StartMethod::ForkServer) start, this
//! process spawns a server (the same program re-executed, a daemon named `ForkServer`) and
//! keeps a socket pair to it. The server stays single-threaded, so `fork` is sound there. For
//! each child the client sends the encoded job plus its descriptors (`SCM_RIGHTS`): the
//! argument handles, the resource tracker's pipe, and the write end of a status pipe. The
//! server forks; the copy runs the job like a spawned worker; the server replies with the pid,
//! reaps the child when its pidfd fires, and writes the exit code (4 bytes) to the status pipe,
//! which is how the client's `join`/`exitcode` learn it (the client is not the parent, so it
//! cannot `waitpid`). Signals go through a pidfd, so a recycled pid is never hit.
//!
//! The server exits when the client's end of the socket closes: at normal exit (after
//! non-daemon children were joined), or, as a daemon started from the main thread, by
//! `PR_SET_PDEATHSIG` when the client dies. A forked child that is a daemon gets the same
//! death signal from the server.

use crate::codec;
use crate::current::{ChildState, Identity};
use crate::process::{Process, ProcessError};
use crate::shipping::Call;
use crate::sys;
use crate::worker::{self, Job};
use crate::{Connection, Pipe};
use parking_lot::Mutex;
use std::io;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// Request header: body length, argument descriptor count, tracker flag (little-endian u32s).
const HEADER: usize = 12;

/// How long the client waits for the server to answer a request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

struct Server {
    conn: Connection,
    process: Process,
}

static SERVER: Mutex<Option<Server>> = Mutex::new(None);

/// Why the server could not start a child, as it travels back to the client: the OS error
/// code when there is one, so that the client's [`ProcessError::Spawn`] holds the same
/// `io::Error` (EAGAIN under `RLIMIT_NPROC`, say) instead of its text.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Refusal {
    errno: Option<i32>,
    message: String,
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Refusal {
        Refusal {
            errno: e.raw_os_error(),
            message: e.to_string(),
        }
    }
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal {
            errno: None,
            message,
        }
    }
}

impl From<Refusal> for io::Error {
    fn from(r: Refusal) -> io::Error {
        match r.errno {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::other(r.message),
        }
    }
}

/// Starts a child through the fork server (starting the server first if needed).
pub(crate) fn start(
    call: Call,
    identity: Identity,
    fds: Vec<RawFd>,
) -> Result<Arc<ChildState>, ProcessError> {
    let name = identity.name.clone();
    let daemon = identity.daemon;
    let tracker = crate::resource_tracker::inherited_fd();
    let job = Job::new(call, identity, fds.clone(), tracker);
    let body = codec::encode(&job).map_err(|e| ProcessError::Ship(e.into()))?;
    if fds.len() + 2 > sys::MAX_PASSED_FDS {
        return Err(ProcessError::Spawn(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors in the arguments for the fork server",
        )));
    }
    let mut server = SERVER.lock();
    // One retry: a server that died (killed from outside) is replaced.
    for attempt in 0..2 {
        if server.is_none() {
            *server = Some(launch()?);
        }
        let s = server.as_ref().expect("server was just launched");
        let (status_r, status_w) = sys::pipe().map_err(ProcessError::Spawn)?;
        match request(&s.conn, &body, &fds, tracker, status_w) {
            Ok(pid) => return Ok(ChildState::via_server(pid, name, daemon, status_r)),
            Err(e) if attempt == 0 && is_server_gone(&e) => {
                if let Some(old) = server.take() {
                    retire(old);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(ProcessError::Spawn(io::Error::other(
        "fork server unavailable",
    )))
}

fn is_server_gone(e: &ProcessError) -> bool {
    matches!(e, ProcessError::Spawn(io) if matches!(io.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset))
}

fn request(
    conn: &Connection,
    body: &[u8],
    fds: &[RawFd],
    tracker: Option<RawFd>,
    status_w: OwnedFd,
) -> Result<u32, ProcessError> {
    let mut header = [0u8; HEADER];
    header[0..4].copy_from_slice(&(body.len() as u32).to_le_bytes());
    header[4..8].copy_from_slice(&(fds.len() as u32).to_le_bytes());
    header[8..12].copy_from_slice(&u32::from(tracker.is_some()).to_le_bytes());
    let mut pass: Vec<RawFd> = fds.to_vec();
    pass.extend(tracker);
    pass.push(status_w.as_raw_fd());
    let io_err = ProcessError::Spawn;
    sys::send_with_fds(conn.as_fd(), &header, &pass).map_err(io_err)?;
    sys::write_all_vectored(conn.as_fd(), true, &[body]).map_err(io_err)?;
    drop(status_w); // the server holds its copy
    let reply: Result<u32, Refusal> = conn.recv_timeout(REPLY_TIMEOUT).map_err(|e| match e {
        crate::ConnectionError::Eof => ProcessError::Spawn(io::ErrorKind::UnexpectedEof.into()),
        crate::ConnectionError::Io(os) => ProcessError::Spawn(os),
        e => ProcessError::Spawn(io::Error::other(e)),
    })?;
    reply.map_err(|r| ProcessError::Spawn(r.into()))
}

fn launch() -> Result<Server, ProcessError> {
    let (conn, server_end) = Pipe(true).map_err(ProcessError::Spawn)?;
    let mut process = Process::new(server_main, server_end)
        .name("ForkServer")
        .daemon(true);
    process.start()?;
    // The server is internal: not listed by `active_children`, stopped by `stop`.
    process.detach();
    Ok(Server { conn, process })
}

fn retire(server: Server) {
    let Server { conn, process } = server;
    drop(conn); // EOF: the server exits
    if !process.join_timeout(Duration::from_secs(5)) {
        let _ = process.kill();
        process.join_timeout(Duration::from_secs(5));
    }
}

/// Stops the fork server, if one runs (called at exit after children were joined).
pub(crate) fn stop() {
    let server = SERVER.lock().take();
    if let Some(s) = server {
        retire(s);
    }
}

/// Drops a server handle inherited through `fork`: it belongs to the parent, and sharing its
/// socket would interleave requests. The next fork-server start here launches a new server.
pub(crate) fn forget_inherited() {
    let inherited = SERVER.lock().take();
    if let Some(Server { conn, process }) = inherited {
        // Closes only this process's copies. Dropping the handle sends no signal; its reap
        // attempt fails harmlessly (the server is not our child).
        drop(conn);
        process.detach();
        drop(process);
    }
}

/// A child the server is responsible for.
struct Kid {
    pid: u32,
    pidfd: OwnedFd,
    status: OwnedFd,
}

/// The server process's whole life: accept requests, fork, report exit codes.
fn server_main(conn: Connection) {
    let mut kids: Vec<Kid> = Vec::new();
    loop {
        let ready = {
            let mut fds = vec![conn.as_fd()];
            fds.extend(kids.iter().map(|k| k.pidfd.as_fd()));
            match sys::poll_fds(&fds, None) {
                Ok(r) => r,
                Err(_) => return,
            }
        };
        for i in (0..kids.len()).rev() {
            if ready[i + 1] {
                if let Ok(Some(code)) = sys::wait_exit(kids[i].pid) {
                    let k = kids.swap_remove(i);
                    let _ =
                        sys::write_all_vectored(k.status.as_fd(), false, &[&code.to_le_bytes()]);
                }
            }
        }
        if ready[0] {
            let reply = match serve_one(&conn, &mut kids) {
                Ok(Some(r)) => r,
                Ok(None) => return, // client gone
                Err(e) => Err(e),
            };
            if conn.send(&reply).is_err() {
                return;
            }
        }
    }
}

/// Reads one request and forks its child; `Ok(None)` when the client has gone.
fn serve_one(
    conn: &Connection,
    kids: &mut Vec<Kid>,
) -> Result<Option<Result<u32, Refusal>>, Refusal> {
    let mut header = [0u8; HEADER];
    let mut fds = match sys::recv_with_fds(conn.as_fd(), &mut header, sys::MAX_PASSED_FDS) {
        Ok(fds) => fds,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let word = |i: usize| {
        u32::from_le_bytes(header[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4])) as usize
    };
    let (len, n_args, has_tracker) = (word(0), word(1), word(2) != 0);
    let mut body = vec![0u8; len];
    sys::read_exact_fd(conn.as_fd(), &mut body)?;
    if fds.len() != n_args + usize::from(has_tracker) + 1 {
        return Ok(Some(Err(Refusal::from(String::from(
            "descriptor count does not match the request",
        )))));
    }
    let mut job: Job = codec::decode(&body).map_err(|e| Refusal::from(e.to_string()))?;
    let status = fds.pop().expect("checked above");
    let tracker = has_tracker.then(|| fds.pop()).flatten();
    let daemon = job.daemon();
    // SAFETY:
    // - the server runs only this loop on its main thread and starts no threads, so the
    //   forked copy inherits no lock held by another thread.
    match unsafe { sys::fork_worker() } {
        Err(e) => Ok(Some(Err(e.into()))),
        Ok(Some(pid)) => {
            let pidfd = sys::pidfd_open(pid)?;
            kids.push(Kid { pid, pidfd, status });
            Ok(Some(Ok(pid)))
        }
        Ok(None) => {
            // The child: keep only the job's descriptors.
            sys::close_raw(conn.as_raw_fd());
            drop(std::mem::take(kids));
            drop(status);
            let args: Vec<RawFd> = fds.into_iter().map(IntoRawFd::into_raw_fd).collect();
            job.set_fds(args, tracker.map(IntoRawFd::into_raw_fd));
            if daemon {
                let _ = sys::set_death_signal(libc::SIGKILL);
            }
            worker::finish(worker::execute(job))
        }
    }
}
