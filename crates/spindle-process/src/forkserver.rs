//! The fork server: Python's `forkserver` start method.
//!
//! On the first [`StartMethod::ForkServer`](crate::StartMethod::ForkServer) start, this
//! process spawns a server (the same program re-executed, a daemon named `ForkServer`) and
//! keeps a socket pair to it. The server stays single-threaded, so `fork` is sound there. For
//! each child the client sends the encoded job plus its descriptors (`SCM_RIGHTS`): the
//! argument handles, the resource tracker's pipe, and the write end of a status pipe. The
//! server forks; the copy runs the job like a spawned worker; the server replies with the pid
//! and a pidfd of the child (or the `errno` of what failed), reaps the child when its pidfd
//! fires, and writes the exit code (4 bytes) to the status pipe, which is how the client's
//! `join`/`exitcode` learn it (the client is not the parent, so it cannot `waitpid`). Signals
//! go through the pidfd, so a recycled pid is never hit: the server opens it before it can reap
//! the child, so it always names that child.
//!
//! If the server dies (killed from outside), its children live on: their status pipes end
//! without a code, and the client then asks the kernel, through the pidfd, whether each child
//! still runs. One that has ended has an unknown exit status
//! ([`ProcessError::StatusUnknown`](crate::ProcessError::StatusUnknown)). The next fork-server
//! start launches a new server.
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
use std::time::{Duration, Instant};

/// Request header: body length, argument descriptor count, tracker flag (little-endian u32s).
const HEADER: usize = 12;

/// Reply header: a tag and a value (little-endian u32s). [`REPLY_STARTED`] carries the pid,
/// with the child's pidfd attached; [`REPLY_OS_ERROR`] an `errno`; [`REPLY_REFUSED`] the length
/// of a message that follows.
const REPLY: usize = 8;
const REPLY_STARTED: u32 = 0;
const REPLY_OS_ERROR: u32 = 1;
const REPLY_REFUSED: u32 = 2;
/// Longest refusal message the client accepts (a longer one means the stream is garbled).
const MAX_REFUSAL: u32 = 64 * 1024;

/// How long the client waits for the server to answer a request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

struct Server {
    conn: Connection,
    process: Process,
}

static SERVER: Mutex<Option<Server>> = Mutex::new(None);

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
            Ok(Ok((pid, pidfd))) => {
                return Ok(ChildState::via_server(pid, name, daemon, status_r, pidfd))
            }
            // The server answered: this child could not be started, the server is fine.
            Ok(Err(refused)) => return Err(ProcessError::Spawn(refused)),
            Err(e) => {
                // The conversation broke (the server died, or stopped answering): a new
                // server for the next request, since this one's stream may be out of step.
                if let Some(old) = server.take() {
                    retire(old);
                }
                if attempt == 1 || !is_server_gone(&e) {
                    return Err(ProcessError::Spawn(e));
                }
            }
        }
    }
    unreachable!("the second attempt returns")
}

fn is_server_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    )
}

/// One request: `Err` if the conversation with the server failed, `Ok(Err)` if the server
/// answered that the child could not be started (the `errno` travels), `Ok(Ok)` with the pid
/// and pidfd of the new child.
fn request(
    conn: &Connection,
    body: &[u8],
    fds: &[RawFd],
    tracker: Option<RawFd>,
    status_w: OwnedFd,
) -> io::Result<io::Result<(u32, Option<OwnedFd>)>> {
    let mut header = [0u8; HEADER];
    header[0..4].copy_from_slice(&(body.len() as u32).to_le_bytes());
    header[4..8].copy_from_slice(&(fds.len() as u32).to_le_bytes());
    header[8..12].copy_from_slice(&u32::from(tracker.is_some()).to_le_bytes());
    let mut pass: Vec<RawFd> = fds.to_vec();
    pass.extend(tracker);
    pass.push(status_w.as_raw_fd());
    sys::send_with_fds(conn.as_fd(), &header, &pass)?;
    sys::write_all_vectored(conn.as_fd(), true, &[body])?;
    drop(status_w); // the server holds its copy
    let deadline = Instant::now() + REPLY_TIMEOUT;
    if !sys::poll_readable(conn.as_fd(), Some(deadline))? {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the fork server did not answer within 30 s",
        ));
    }
    let mut reply = [0u8; REPLY];
    let mut passed = sys::recv_with_fds(conn.as_fd(), &mut reply, 1)?;
    let word = |i: usize| u32::from_le_bytes([reply[i], reply[i + 1], reply[i + 2], reply[i + 3]]);
    let (tag, value) = (word(0), word(4));
    match tag {
        REPLY_STARTED => Ok(Ok((value, passed.pop()))),
        REPLY_OS_ERROR => Ok(Err(io::Error::from_raw_os_error(value as i32))),
        REPLY_REFUSED if value <= MAX_REFUSAL => {
            let mut msg = vec![0u8; value as usize];
            sys::read_exact_fd(conn.as_fd(), &mut msg)?;
            Ok(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                String::from_utf8_lossy(&msg).into_owned(),
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the fork server sent an unknown reply",
        )),
    }
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

/// Why the server could not start a requested child.
enum Refusal {
    /// A system call failed; its `errno` goes back to the client.
    Os(io::Error),
    /// The request itself was bad.
    Invalid(String),
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Refusal {
        Refusal::Os(e)
    }
}

/// Sends the answer to one request: the new child's pid with its pidfd, or why it failed.
fn reply(conn: &Connection, answer: Result<&Kid, Refusal>) -> io::Result<()> {
    let header = |tag: u32, value: u32| {
        let mut h = [0u8; REPLY];
        h[..4].copy_from_slice(&tag.to_le_bytes());
        h[4..].copy_from_slice(&value.to_le_bytes());
        h
    };
    match answer {
        Ok(kid) => sys::send_with_fds(
            conn.as_fd(),
            &header(REPLY_STARTED, kid.pid),
            &[kid.pidfd.as_raw_fd()],
        ),
        Err(Refusal::Os(e)) if e.raw_os_error().is_some() => {
            let errno = e.raw_os_error().unwrap_or(0) as u32;
            sys::write_all_vectored(conn.as_fd(), true, &[&header(REPLY_OS_ERROR, errno)])
        }
        Err(refusal) => {
            let mut msg = match refusal {
                Refusal::Os(e) => e.to_string(),
                Refusal::Invalid(m) => m,
            };
            let mut end = msg.len().min(MAX_REFUSAL as usize);
            while !msg.is_char_boundary(end) {
                end -= 1;
            }
            msg.truncate(end);
            let h = header(REPLY_REFUSED, msg.len() as u32);
            sys::write_all_vectored(conn.as_fd(), true, &[&h, msg.as_bytes()])
        }
    }
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
            let sent = match serve_one(&conn, &mut kids) {
                Ok(true) => reply(&conn, Ok(kids.last().expect("serve_one pushed the kid"))),
                Ok(false) => return, // client gone
                Err(refusal) => reply(&conn, Err(refusal)),
            };
            if sent.is_err() {
                return;
            }
        }
    }
}

/// Reads one request and forks its child (pushed onto `kids`); `Ok(false)` when the client
/// has gone.
fn serve_one(conn: &Connection, kids: &mut Vec<Kid>) -> Result<bool, Refusal> {
    let mut header = [0u8; HEADER];
    let mut fds = match sys::recv_with_fds(conn.as_fd(), &mut header, sys::MAX_PASSED_FDS) {
        Ok(fds) => fds,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let word = |i: usize| {
        u32::from_le_bytes(header[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4])) as usize
    };
    let (len, n_args, has_tracker) = (word(0), word(1), word(2) != 0);
    let mut body = vec![0u8; len];
    sys::read_exact_fd(conn.as_fd(), &mut body)?;
    if fds.len() != n_args + usize::from(has_tracker) + 1 {
        return Err(Refusal::Invalid(
            "descriptor count does not match the request".into(),
        ));
    }
    let mut job: Job = codec::decode(&body)
        .map_err(|e| Refusal::Invalid(format!("cannot decode the job: {e:?}")))?;
    let status = fds.pop().expect("checked above");
    let tracker = has_tracker.then(|| fds.pop()).flatten();
    let daemon = job.daemon();
    // SAFETY:
    // - the server runs only this loop on its main thread and starts no threads, so the
    //   forked copy inherits no lock held by another thread.
    match unsafe { sys::fork_worker() }? {
        Some(pid) => {
            // Opened before this loop can reap the child, so it names this child for good.
            match sys::pidfd_open(pid) {
                Ok(pidfd) => {
                    kids.push(Kid { pid, pidfd, status });
                    Ok(true)
                }
                Err(e) => {
                    // Without a pidfd the child could be neither watched nor reported here:
                    // end it rather than leave it unsupervised, and reap it (a killed process
                    // ends at once; the bound only keeps a kernel oddity from hanging us).
                    let _ = sys::send_signal(pid, libc::SIGKILL);
                    for _ in 0..1000 {
                        if !matches!(sys::wait_exit(pid), Ok(None)) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e.into())
                }
            }
        }
        None => {
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
