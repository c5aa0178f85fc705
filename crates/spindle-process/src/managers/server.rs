//! The manager's server process: accepts connections on the Unix socket, checks each
//! client's key, and serves its requests on a thread of its own (Python's
//! `managers.Server.serve_forever` with one `serve_client` thread per connection).
//!
//! Objects live in a registry by id with a reference count, as in Python: creating an object
//! gives its first proxy one reference; a clone adds one; dropping a proxy removes one; the
//! object goes when the count reaches zero, or when the server stops. Serialising a proxy
//! *lends* a reference to the bytes (so the object survives while they travel, even if the
//! sender drops its proxy at once) under a one-time loan number; the first deserialised copy
//! claims it, later copies of the same bytes take references of their own.
//!
//! # Faults
//!
//! - The server survives its owner long enough to clean up: it ignores `SIGINT` (a Ctrl-C
//!   reaches the whole process group), drops the kernel's parent-death `SIGKILL`, and when the
//!   owner's pipe closes or `SIGTERM`/`SIGHUP` arrives it removes its socket and directory,
//!   unregisters the directory from the resource tracker and exits. If the server itself is
//!   killed first, the tracker removes the directory once the process tree is gone.
//! - At most [`Limits::max_connections`] connections are served at once, one thread each; a
//!   connection over the cap is answered [`AUTH_BUSY`] at once and closed, costing no thread.
//! - One deadline ([`Limits::handshake_timeout`]) covers the whole key exchange, and the rest
//!   of each request frame once its first byte has arrived (and the write of each reply), so
//!   a client trickling bytes is disconnected at the deadline. A connection waiting for its
//!   next request has no deadline: pooled client connections are idle by design.

use super::state::Object;
use super::wire::{self, Fault, Op, Reply, Request, AUTH_BUSY, AUTH_FAILED, AUTH_OK, KEY_LEN};
use crate::resource_tracker::{self, TrackedDir};
use crate::sys::{self, socket::LocalListener, socket::LocalStream};
use crate::Connection;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// File name of the socket inside the manager's private directory.
pub(crate) const SOCKET_NAME: &str = "manager.sock";

/// How long the accept loop pauses after a failed `accept` that is not transient.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The server's limits on its clients (see the module notes).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Limits {
    /// Connections served at once; more are refused with [`AUTH_BUSY`].
    pub(crate) max_connections: usize,
    /// Deadline of a whole key exchange, of the rest of a request frame once it began, and of
    /// a reply's write.
    pub(crate) handshake_timeout: Duration,
}

/// What the parent hands the server process.
#[derive(Serialize, Deserialize)]
pub(crate) struct ServerArgs {
    /// The private directory to listen in.
    pub(crate) dir: PathBuf,
    /// The directory's registration with the resource tracker, if it has one.
    pub(crate) tracked: Option<TrackedDir>,
    /// The authentication key.
    pub(crate) key: Vec<u8>,
    /// Connection cap and deadlines.
    pub(crate) limits: Limits,
    /// Where to report `Ok(())` once listening, or why binding failed.
    pub(crate) ready: Connection,
    /// Read end of a pipe whose write end only the owning [`Manager`](super::Manager) holds:
    /// end of file means the owner is gone (even killed), so the server exits too.
    pub(crate) owner: Connection,
}

/// Why the server could not start listening, as it travels back to the owner.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StartFailure {
    /// The OS error number, when there is one.
    pub(crate) os_error: Option<i32>,
    /// The error's text (used when there is no OS error number).
    pub(crate) message: String,
}

impl StartFailure {
    fn new(e: &io::Error) -> StartFailure {
        StartFailure {
            os_error: e.raw_os_error(),
            message: e.to_string(),
        }
    }

    /// The error again, with its OS error number when it had one.
    pub(crate) fn into_io(self) -> io::Error {
        match self.os_error {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::other(self.message),
        }
    }
}

struct Entry {
    object: Arc<Object>,
    refs: usize,
}

struct Server {
    key: Vec<u8>,
    socket: PathBuf,
    limits: Limits,
    objects: Mutex<HashMap<u64, Entry>>,
    /// References held by serialised proxies not yet deserialised: loan number -> object id.
    loans: Mutex<HashMap<u64, u64>>,
    next_id: AtomicU64,
}

/// Removes the socket and the directory, then tells the tracker they are gone (if they are:
/// a directory that could not be removed stays registered).
fn remove_all(dir: &Path, tracked: Option<&TrackedDir>) {
    let _ = std::fs::remove_file(dir.join(SOCKET_NAME));
    let gone = match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    };
    if let (true, Some(t)) = (gone, tracked) {
        resource_tracker::unregister_dir(t);
    }
}

/// Starts a thread running `f` that ends the server: `f` returns when it is time to go; the
/// thread then removes the directory and exits the process.
fn spawn_stopper(
    name: &str,
    dir: &Path,
    tracked: &Option<TrackedDir>,
    f: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    let (dir, tracked) = (dir.to_path_buf(), tracked.clone());
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            f();
            remove_all(&dir, tracked.as_ref());
            std::process::exit(0);
        })
        .map(drop)
}

/// The server process's body: bind, report ready, serve until a `Shutdown` request, the
/// owner's end, or a termination signal.
pub(crate) fn serve(args: ServerArgs) {
    // Before any thread starts, so every thread inherits the mask and the signals wait for
    // the stopper below instead of killing the process with its directory left behind.
    sys::ignore_interrupt();
    let blocked = sys::block_stop_signals().is_ok();
    // The owner's pipe tells us when it dies; the kernel's parent-death SIGKILL (armed for
    // daemons) would end us before we could remove the directory.
    let _ = sys::set_death_signal(0);
    let socket = args.dir.join(SOCKET_NAME);
    let listener = match LocalListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            let _ = args
                .ready
                .send(&Err::<(), StartFailure>(StartFailure::new(&e)));
            return;
        }
    };
    if args.ready.send(&Ok::<(), StartFailure>(())).is_err() {
        // The parent is gone before we started: nobody can reach us.
        remove_all(&args.dir, args.tracked.as_ref());
        return;
    }
    drop(args.ready);
    let owner = args.owner;
    // Nothing is ever sent on the owner pipe: `recv_bytes` returns at end of file (or on an
    // error). The owner is gone and cannot clean up, so the server does.
    let watch = spawn_stopper("manager-owner-watch", &args.dir, &args.tracked, move || {
        let _ = owner.recv_bytes();
    });
    let signals = if blocked {
        spawn_stopper("manager-signals", &args.dir, &args.tracked, || {
            let _ = sys::wait_stop_signal();
        })
    } else {
        Ok(())
    };
    if watch.is_err() || signals.is_err() {
        remove_all(&args.dir, args.tracked.as_ref());
        return;
    }
    let server = Arc::new(Server {
        key: args.key,
        socket,
        limits: args.limits,
        objects: Mutex::new(HashMap::new()),
        loans: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    });
    let busy = busy_answer(server.limits.max_connections);
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors or memory: the connection stays queued, and retrying at
                // once would spin; give the other connections a moment to end.
                if !matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                ) {
                    std::thread::sleep(ACCEPT_BACKOFF);
                }
                continue;
            }
        };
        let accepted = Instant::now();
        // Only this thread adds, so the count never passes the cap between check and add.
        if active.load(Ordering::Acquire) >= server.limits.max_connections {
            refuse(stream, &busy);
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(active.clone());
        let server = server.clone();
        // A failed spawn drops the stream and the slot: that client sees the connection close.
        let _ = std::thread::Builder::new()
            .name("manager-client".into())
            .spawn(move || {
                let _slot = slot;
                server.serve_client(stream, accepted)
            });
    }
}

/// One counted connection; dropping it frees the place.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The refusal a connection over the cap gets: [`AUTH_BUSY`] and the cap.
fn busy_answer(max: usize) -> [u8; 5] {
    let mut answer = [AUTH_BUSY, 0, 0, 0, 0];
    answer[1..].copy_from_slice(&u32::try_from(max).unwrap_or(u32::MAX).to_le_bytes());
    answer
}

/// Answers a connection over the cap and closes it, without blocking the accept loop.
fn refuse(mut stream: LocalStream, busy: &[u8]) {
    // A fresh socket's send buffer is empty, so five bytes always fit; non-blocking anyway,
    // so a misbehaving kernel cannot stall the accept loop.
    if stream.set_nonblocking(true).is_ok() {
        let _ = stream.write_all(busy);
    }
}

/// Reads from a client socket under the whole-exchange deadline.
///
/// While `deadline` is `None` (waiting for the next request) a read blocks without limit; the
/// first bytes of a request arm the deadline for the rest of it. On the usual path (a request
/// arrives in one read) this costs no system call beyond the read.
struct Timed<'a> {
    stream: &'a LocalStream,
    limit: Duration,
    deadline: Option<Instant>,
    /// Whether the socket carries a read timeout now (so an idle wait must clear it).
    timed: bool,
}

impl Timed<'_> {
    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)?;
        self.timed = timeout.is_some();
        Ok(())
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.deadline {
            None if self.timed => self.set_timeout(None)?,
            None => {}
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                self.set_timeout(Some(left))?;
            }
        }
        let mut stream = self.stream;
        let n = stream.read(buf)?;
        if self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.limit);
        }
        Ok(n)
    }
}

/// Writes `buf` whole before `limit` passes (the socket's write timeout is `limit` already);
/// only a write that is cut short costs extra system calls to shorten the timeout.
fn write_by(mut stream: &LocalStream, buf: &[u8], limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    let mut done = 0;
    let mut shortened = false;
    let result = loop {
        match stream.write(&buf[done..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
        if done == buf.len() {
            break Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(io::ErrorKind::TimedOut.into());
        }
        if let Err(e) = stream.set_write_timeout(Some(left)) {
            break Err(e);
        }
        shortened = true;
    };
    if shortened && result.is_ok() {
        stream.set_write_timeout(Some(limit))?;
    }
    result
}

impl Server {
    fn serve_client(&self, stream: LocalStream, accepted: Instant) {
        let limit = self.limits.handshake_timeout;
        if stream.set_write_timeout(Some(limit)).is_err() {
            return;
        }
        // Requests are read through a buffer; replies are written straight to the socket.
        let mut reader = BufReader::new(Timed {
            stream: &stream,
            limit,
            deadline: Some(accepted + limit),
            timed: false,
        });
        if !self.authenticate(&mut reader) {
            return;
        }
        loop {
            // A new request: no deadline until its first byte, unless that came already.
            let deadline = (!reader.buffer().is_empty()).then(|| Instant::now() + limit);
            reader.get_mut().deadline = deadline;
            let request: Request = match wire::read_frame(&mut reader) {
                Ok(r) => r,
                // Client gone, too slow, or garbage: end this connection only.
                Err(_) => return,
            };
            let shutdown = matches!(request, Request::Shutdown);
            // A caller that vanished while blocked in `acquire` (or a condition `wait`, which
            // ends holding the lock) must not keep what it can no longer learn it holds.
            let undo = match &request {
                Request::Call {
                    id,
                    caller,
                    op: op @ (Op::Acquire(_) | Op::Wait(_)),
                } => Some((*id, *caller, matches!(op, Op::Wait(_)))),
                _ => None,
            };
            let reply = self.handle(request);
            let sent = wire::encode_frame(&reply)
                .ok()
                .is_some_and(|frame| write_by(&stream, &frame, limit).is_ok());
            if !sent {
                // `acquire` holds only if it answered true; a condition `wait` holds either
                // way. On an event (whose `wait` answers too) the release is refused, harmlessly.
                if let (Some((id, caller, wait)), Reply::Bool(held)) = (undo, &reply) {
                    if *held || wait {
                        if let Some(object) = self.lookup(id) {
                            let _ = object.apply(caller, Op::Release);
                        }
                    }
                }
                return;
            }
            if shutdown {
                let _ = std::fs::remove_file(&self.socket);
                std::process::exit(0);
            }
        }
    }

    /// Reads the client's key (the whole of it before the deadline) and answers whether it
    /// matches (in constant time).
    fn authenticate(&self, reader: &mut BufReader<Timed<'_>>) -> bool {
        let mut key = [0u8; KEY_LEN];
        if reader.read_exact(&mut key).is_err() {
            return false;
        }
        let ok = wire::keys_equal(&key, &self.key);
        let answer = if ok { AUTH_OK } else { AUTH_FAILED };
        let mut stream = reader.get_ref().stream;
        stream.write_all(&[answer]).is_ok() && ok
    }

    fn lookup(&self, id: u64) -> Option<Arc<Object>> {
        self.objects.lock().get(&id).map(|e| e.object.clone())
    }

    fn handle(&self, request: Request) -> Reply {
        match request {
            Request::Create(kind) => match Object::create(kind, |id| self.lookup(id)) {
                Ok(object) => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let entry = Entry {
                        object: Arc::new(object),
                        refs: 1,
                    };
                    self.objects.lock().insert(id, entry);
                    Reply::Id(id)
                }
                Err(f) => Reply::Fault(f),
            },
            Request::Call { id, caller, op } => match self.lookup(id) {
                Some(object) => object.apply(caller, op),
                None => Reply::Fault(gone(id)),
            },
            Request::Incref(id) => self.incref(id),
            Request::Lend(id) => match self.incref(id) {
                Reply::Unit => {
                    // Loan numbers share the id counter, so they never repeat either.
                    let loan = self.next_id.fetch_add(1, Ordering::Relaxed);
                    self.loans.lock().insert(loan, id);
                    Reply::Id(loan)
                }
                fault => fault,
            },
            Request::Claim(loan, id) => {
                let mut loans = self.loans.lock();
                match loans.get(&loan) {
                    Some(&lent) if lent == id => {
                        loans.remove(&loan);
                        Reply::Unit
                    }
                    // Claimed already (or not this object's loan): a reference of its own.
                    _ => {
                        drop(loans);
                        self.incref(id)
                    }
                }
            }
            Request::Decref(id) => {
                let mut objects = self.objects.lock();
                let Some(e) = objects.get_mut(&id) else {
                    return Reply::Fault(gone(id));
                };
                e.refs -= 1;
                if e.refs == 0 {
                    // A thread still blocked on the object keeps its own `Arc` to it.
                    objects.remove(&id);
                }
                Reply::Unit
            }
            Request::Count => Reply::Usize(self.objects.lock().len()),
            Request::Shutdown => Reply::Unit,
        }
    }
}

impl Server {
    fn incref(&self, id: u64) -> Reply {
        match self.objects.lock().get_mut(&id) {
            Some(e) => {
                e.refs += 1;
                Reply::Unit
            }
            None => Reply::Fault(gone(id)),
        }
    }
}

fn gone(id: u64) -> Fault {
    Fault::Other(format!(
        "no managed object with id {id} (every proxy to it was dropped)"
    ))
}
