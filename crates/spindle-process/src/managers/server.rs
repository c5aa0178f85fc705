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

use super::state::Object;
use super::wire::{self, Fault, Op, Reply, Request, AUTH_FAILED, AUTH_OK, KEY_LEN};
use crate::sys::socket::{LocalListener, LocalStream};
use crate::Connection;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// File name of the socket inside the manager's private directory.
pub(crate) const SOCKET_NAME: &str = "manager.sock";

/// How long a new connection has to present its key.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// What the parent hands the server process.
#[derive(Serialize, Deserialize)]
pub(crate) struct ServerArgs {
    /// The private directory to listen in.
    pub(crate) dir: PathBuf,
    /// The authentication key.
    pub(crate) key: Vec<u8>,
    /// Where to report `Ok(())` once listening, or why binding failed.
    pub(crate) ready: Connection,
    /// Read end of a pipe whose write end only the owning [`Manager`](super::Manager) holds:
    /// end of file means the owner is gone (even killed), so the server exits too.
    pub(crate) owner: Connection,
}

struct Entry {
    object: Arc<Object>,
    refs: usize,
}

struct Server {
    key: Vec<u8>,
    socket: PathBuf,
    objects: Mutex<HashMap<u64, Entry>>,
    /// References held by serialised proxies not yet deserialised: loan number -> object id.
    loans: Mutex<HashMap<u64, u64>>,
    next_id: AtomicU64,
}

/// The server process's body: bind, report ready, serve until a `Shutdown` request.
pub(crate) fn serve(args: ServerArgs) {
    let socket = args.dir.join(SOCKET_NAME);
    let listener = match LocalListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            let _ = args.ready.send(&Err::<(), String>(e.to_string()));
            return;
        }
    };
    if args.ready.send(&Ok::<(), String>(())).is_err() {
        // The parent is gone before we started: nobody can reach us.
        let _ = std::fs::remove_file(&socket);
        return;
    }
    drop(args.ready);
    let (owner, path, dir) = (args.owner, socket.clone(), args.dir);
    let watch = std::thread::Builder::new()
        .name("manager-owner-watch".into())
        .spawn(move || {
            // Nothing is ever sent: this returns at end of file (or on an error). The owner
            // is gone and cannot clean up, so the server removes its directory itself.
            let _ = owner.recv_bytes();
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_dir(&dir);
            std::process::exit(0);
        });
    if watch.is_err() {
        let _ = std::fs::remove_file(&socket);
        return;
    }
    let server = Arc::new(Server {
        key: args.key,
        socket,
        objects: Mutex::new(HashMap::new()),
        loans: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let server = server.clone();
        // A failed spawn drops the stream: that client sees the connection close.
        let _ = std::thread::Builder::new()
            .name("manager-client".into())
            .spawn(move || server.serve_client(stream));
    }
}

impl Server {
    fn serve_client(&self, mut stream: LocalStream) {
        if !self.authenticate(&mut stream) {
            return;
        }
        // Requests are read through a buffer; replies are written straight to the socket.
        let mut reader = BufReader::new(&stream);
        loop {
            let request: Request = match wire::read_frame(&mut reader) {
                Ok(r) => r,
                Err(_) => return, // client gone or garbage: end this connection only
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
            if wire::write_frame(&stream, &reply).is_err() {
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

    /// Reads the client's key and answers whether it matches (in constant time).
    fn authenticate(&self, stream: &mut LocalStream) -> bool {
        if stream.set_read_timeout(Some(AUTH_TIMEOUT)).is_err() {
            return false;
        }
        let mut key = [0u8; KEY_LEN];
        if stream.read_exact(&mut key).is_err() {
            return false;
        }
        let ok = wire::keys_equal(&key, &self.key);
        let answer = if ok { AUTH_OK } else { AUTH_FAILED };
        stream.write_all(&[answer]).is_ok() && ok && stream.set_read_timeout(None).is_ok()
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
