//! The client side shared by every proxy: connections to the server, the call path, and the
//! reference a proxy holds on its object.
//!
//! Connections are pooled per process and per manager address: a call borrows an idle
//! connection (or opens and authenticates a new one), sends one request, reads one reply and
//! puts the connection back, so calls from several threads run side by side and a thread
//! blocked in `acquire` never holds up another thread's `release`. A forked child never
//! reuses its parent's connections.

use super::wire::{self, Bytes, Caller, Kind, Op, Reply, Request, AUTH_BUSY, AUTH_OK, KEY_LEN};
use super::ManagerError;
use crate::sys::{self, socket::LocalStream};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a call that does not block by design waits for its reply (and how long any write
/// may take) before the server counts as unresponsive.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// Idle connections kept per manager and process.
const MAX_IDLE: usize = 16;

/// The calling thread's identity for lock ownership: (process id, thread number).
pub(crate) fn caller() -> Caller {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static THREAD_NO: Cell<u64> = const { Cell::new(0) });
    let n = THREAD_NO.with(|c| {
        if c.get() == 0 {
            c.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        c.get()
    });
    (sys::getpid(), n)
}

/// One authenticated connection: the socket behind a read buffer, and the read timeout it
/// has now (kept to skip a `setsockopt` when the next call wants the same).
struct Conn {
    reader: BufReader<LocalStream>,
    timeout: Option<Duration>,
}

/// Where a manager listens and how to prove we may talk to it, plus this process's idle
/// connections to it.
pub(crate) struct Endpoint {
    address: PathBuf,
    key: Vec<u8>,
    /// The pid the idle connections belong to, and the connections.
    idle: Mutex<(u32, Vec<Conn>)>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The endpoint for `address` shared by every proxy of this process.
pub(crate) fn endpoint(address: &Path, key: &[u8]) -> Arc<Endpoint> {
    static ENDPOINTS: Mutex<Vec<Weak<Endpoint>>> = Mutex::new(Vec::new());
    let mut all = ENDPOINTS.lock();
    all.retain(|w| w.strong_count() > 0);
    if let Some(e) = all
        .iter()
        .filter_map(Weak::upgrade)
        .find(|e| e.address == address && wire::keys_equal(&e.key, key))
    {
        return e;
    }
    let e = Arc::new(Endpoint {
        address: address.to_path_buf(),
        key: key.to_vec(),
        idle: Mutex::new((sys::getpid(), Vec::new())),
    });
    all.push(Arc::downgrade(&e));
    e
}

/// How long a call may legitimately wait for its reply.
#[derive(Clone, Copy)]
enum Wait {
    /// The operation answers at once.
    Quick,
    /// The operation blocks up to this long on the server (`None`: without limit).
    Blocking(Option<Duration>),
}

impl Endpoint {
    pub(crate) fn address(&self) -> &Path {
        &self.address
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// Opens and authenticates a new connection.
    fn connect(&self) -> Result<Conn, ManagerError> {
        let mut s = LocalStream::connect(&self.address).map_err(ManagerError::from_io)?;
        s.set_write_timeout(Some(REPLY_TIMEOUT))
            .and_then(|()| s.set_read_timeout(Some(REPLY_TIMEOUT)))
            .map_err(ManagerError::Io)?;
        let mut key = [0u8; KEY_LEN];
        let n = self.key.len().min(KEY_LEN);
        key[..n].copy_from_slice(&self.key[..n]);
        if self.key.len() != KEY_LEN {
            // A key of the wrong length can never match; still go through the exchange so
            // the failure reads as an authentication failure.
            key[0] ^= 0xff;
        }
        // A server at its connection cap answers without reading the key and closes: the key
        // may then fail to go out, but the answer is there to read.
        let wrote = s.write_all(&key);
        let mut answer = [0u8; 1];
        if let Err(e) = s.read_exact(&mut answer) {
            return Err(ManagerError::from_io(wrote.err().unwrap_or(e)));
        }
        match answer[0] {
            AUTH_OK => {
                wrote.map_err(ManagerError::from_io)?;
                Ok(Conn {
                    reader: BufReader::new(s),
                    timeout: Some(REPLY_TIMEOUT),
                })
            }
            AUTH_BUSY => {
                let mut limit = [0u8; 4];
                s.read_exact(&mut limit).map_err(ManagerError::from_io)?;
                Err(ManagerError::TooManyConnections {
                    limit: u32::from_le_bytes(limit) as usize,
                })
            }
            _ => Err(ManagerError::Auth),
        }
    }

    fn checkout(&self) -> Result<Conn, ManagerError> {
        let pid = sys::getpid();
        {
            let mut idle = self.idle.lock();
            if idle.0 != pid {
                // Inherited through fork: those sockets are the parent's conversations.
                idle.1.clear();
                idle.0 = pid;
            }
            if let Some(s) = idle.1.pop() {
                return Ok(s);
            }
        }
        self.connect()
    }

    fn checkin(&self, s: Conn) {
        let mut idle = self.idle.lock();
        if idle.0 == sys::getpid() && idle.1.len() < MAX_IDLE {
            idle.1.push(s);
        }
    }

    /// Closes every idle connection.
    pub(crate) fn forget_idle(&self) {
        self.idle.lock().1.clear();
    }

    /// Sends `request` and returns the reply; a server-side fault becomes its error.
    fn request(&self, request: &Request, wait: Wait) -> Result<Reply, ManagerError> {
        let mut c = self.checkout()?;
        let read_timeout = match wait {
            Wait::Quick => Some(REPLY_TIMEOUT),
            Wait::Blocking(t) => t.and_then(|t| t.checked_add(REPLY_TIMEOUT)),
        };
        if c.timeout != read_timeout {
            c.reader
                .get_ref()
                .set_read_timeout(read_timeout)
                .map_err(ManagerError::Io)?;
            c.timeout = read_timeout;
        }
        wire::write_frame(c.reader.get_ref(), request)?;
        // Any failure drops `c`: a half-read conversation is never reused.
        let reply: Reply = wire::read_frame(&mut c.reader)?;
        self.checkin(c);
        match reply {
            Reply::Fault(f) => Err(f.into()),
            r => Ok(r),
        }
    }

    /// Sends a request that answers at once.
    pub(crate) fn quick(&self, request: &Request) -> Result<Reply, ManagerError> {
        self.request(request, Wait::Quick)
    }
}

fn unexpected(reply: Reply) -> ManagerError {
    ManagerError::Remote(format!("unexpected reply from the manager: {reply:?}"))
}

/// One reference to a managed object: the id plus the way to reach the server.
///
/// Cloning takes another reference, dropping releases one (best effort: a manager that is
/// gone has nothing left to release). Serialising lends the bytes a reference that the first
/// deserialised copy takes over, so an object survives while its proxy is in flight to a
/// child even if the sender drops its own proxy at once.
pub(crate) struct Handle {
    endpoint: Arc<Endpoint>,
    id: u64,
    /// The process that owns this handle's reference, or `None` if it holds none (its
    /// deserialisation could not take one because the manager was gone). A copy inherited
    /// through `fork` has another pid, owns nothing and must not release anything.
    owner: Option<u32>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.id)
            .field("address", &self.endpoint.address)
            .finish()
    }
}

impl Handle {
    /// Asks the server to create `kind`; the handle owns the object's first reference.
    pub(crate) fn create(endpoint: &Arc<Endpoint>, kind: Kind) -> Result<Handle, ManagerError> {
        match endpoint.quick(&Request::Create(kind))? {
            Reply::Id(id) => Ok(Handle {
                endpoint: endpoint.clone(),
                id,
                owner: Some(sys::getpid()),
            }),
            other => Err(unexpected(other)),
        }
    }

    /// The object's id on the server.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Runs `op` on the object for the calling thread.
    pub(crate) fn call(&self, op: Op) -> Result<Reply, ManagerError> {
        let wait = match &op {
            Op::Acquire(t) | Op::Wait(t) | Op::Put(_, t) | Op::Take(t) => Wait::Blocking(*t),
            _ => Wait::Quick,
        };
        let request = Request::Call {
            id: self.id,
            caller: caller(),
            op,
        };
        self.endpoint.request(&request, wait)
    }

    pub(crate) fn unit(&self, op: Op) -> Result<(), ManagerError> {
        match self.call(op)? {
            Reply::Unit => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn bool(&self, op: Op) -> Result<bool, ManagerError> {
        match self.call(op)? {
            Reply::Bool(b) => Ok(b),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn usize(&self, op: Op) -> Result<usize, ManagerError> {
        match self.call(op)? {
            Reply::Usize(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn value<T: DeserializeOwned>(&self, op: Op) -> Result<T, ManagerError> {
        match self.call(op)? {
            Reply::Value(b) => wire::decode(&b),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn maybe<T: DeserializeOwned>(&self, op: Op) -> Result<Option<T>, ManagerError> {
        match self.call(op)? {
            Reply::MaybeValue(b) => b.map(|b| wire::decode(&b)).transpose(),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn many<T: DeserializeOwned>(&self, op: Op) -> Result<Vec<T>, ManagerError> {
        match self.call(op)? {
            Reply::Many(items) => items.iter().map(|b| wire::decode(b)).collect(),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn pairs<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        op: Op,
    ) -> Result<Vec<(K, V)>, ManagerError> {
        match self.call(op)? {
            Reply::Pairs(items) => items
                .iter()
                .map(|(k, v)| Ok((wire::decode(k)?, wire::decode(v)?)))
                .collect(),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) fn names(&self, op: Op) -> Result<Vec<String>, ManagerError> {
        match self.call(op)? {
            Reply::Names(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }
}

impl Clone for Handle {
    fn clone(&self) -> Handle {
        // If the manager is gone the clone's calls fail with `ShutDown` like the original's,
        // and it owns no reference to give back.
        let owned = matches!(
            self.endpoint.quick(&Request::Incref(self.id)),
            Ok(Reply::Unit)
        );
        Handle {
            endpoint: self.endpoint.clone(),
            id: self.id,
            owner: owned.then(sys::getpid),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.owner == Some(sys::getpid()) {
            let _ = self.endpoint.quick(&Request::Decref(self.id));
        }
    }
}

/// The serialised form of a handle.
#[derive(Serialize, Deserialize)]
struct WireHandle {
    address: PathBuf,
    key: Bytes,
    id: u64,
    /// The loan holding a reference for these bytes (see `server.rs`).
    loan: u64,
}

impl Serialize for Handle {
    /// Lends the bytes a reference: the object outlives the sender's proxy until the first
    /// copy is deserialised (bytes never deserialised keep it until shutdown).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let loan = match self.endpoint.quick(&Request::Lend(self.id)) {
            Ok(Reply::Id(loan)) => loan,
            Ok(other) => return Err(serde::ser::Error::custom(unexpected(other))),
            Err(e) => return Err(serde::ser::Error::custom(e)),
        };
        WireHandle {
            address: self.endpoint.address.clone(),
            key: self.endpoint.key.clone(),
            id: self.id,
            loan,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Handle {
    /// Takes the loan's reference (or, for a second copy of the same bytes, a new one). A
    /// manager that is gone still gives a handle, whose calls fail with `ShutDown`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Handle, D::Error> {
        let w = WireHandle::deserialize(d)?;
        let endpoint = endpoint(&w.address, &w.key);
        let owned = matches!(
            endpoint.quick(&Request::Claim(w.loan, w.id)),
            Ok(Reply::Unit)
        );
        Ok(Handle {
            endpoint,
            id: w.id,
            owner: owned.then(sys::getpid),
        })
    }
}

/// Clone, Debug, Serialize and Deserialize for a proxy type `{ handle: Handle, _t: PhantomData }`
/// without bounds on its type parameters.
macro_rules! proxy_impls {
    ($name:ident $(<$($g:ident),+>)?) => {
        impl$(<$($g),+>)? Clone for $name$(<$($g),+>)? {
            /// Another proxy to the same object (it takes its own reference on the server).
            fn clone(&self) -> Self {
                Self { handle: self.handle.clone(), _t: std::marker::PhantomData }
            }
        }
        impl$(<$($g),+>)? std::fmt::Debug for $name$(<$($g),+>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("handle", &self.handle).finish()
            }
        }
        impl$(<$($g),+>)? serde::Serialize for $name$(<$($g),+>)? {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.handle.serialize(s)
            }
        }
        impl<'de $($(, $g)+)?> serde::Deserialize<'de> for $name$(<$($g),+>)? {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::managers::proxy::Handle::deserialize(d)
                    .map(|handle| Self { handle, _t: std::marker::PhantomData })
            }
        }
    };
}
pub(crate) use proxy_impls;
