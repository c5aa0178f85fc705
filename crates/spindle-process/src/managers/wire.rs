//! The manager protocol: requests, replies and their framing on a Unix stream socket.
//!
//! After connecting, the client writes the [`KEY_LEN`]-byte authentication key; the server
//! answers one byte ([`AUTH_OK`] or [`AUTH_FAILED`], then closes). A server that already
//! serves its maximum of connections answers [`AUTH_BUSY`] and that maximum (4 bytes, little
//! endian) at once, without reading the key, and closes. From then on each request
//! is one frame (4-byte little-endian length, then the bincode body from [`crate::codec`]) and
//! gets exactly one reply frame. User values travel pre-encoded as [`Bytes`], so the server
//! never needs their types: dict keys are compared by their encoding.

use super::ManagerError;
use crate::codec;
use crate::sys::socket::LocalStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::time::Duration;

/// An encoded user value.
pub(crate) type Bytes = Vec<u8>;

/// Length of the authentication key.
pub(crate) const KEY_LEN: usize = 32;
/// The server's answer to a correct key.
pub(crate) const AUTH_OK: u8 = 1;
/// The server's answer to a wrong key.
pub(crate) const AUTH_FAILED: u8 = 0;
/// The server's answer when it serves its maximum of connections (followed by the maximum).
pub(crate) const AUTH_BUSY: u8 = 2;
/// Largest frame either side accepts (1 GiB).
const MAX_FRAME: usize = 1 << 30;

/// Who makes a call: process id and a per-process thread number. Lock ownership on the
/// server follows this, so a client thread owns what it acquired whatever connection it used.
pub(crate) type Caller = (u32, u64);

/// A request to the server.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// Creates an object; replies [`Reply::Id`] (the new object has one reference).
    Create(Kind),
    /// Runs `op` on object `id`.
    Call { id: u64, caller: Caller, op: Op },
    /// Adds a reference to `id`.
    Incref(u64),
    /// Drops a reference to `id`; the object goes at zero.
    Decref(u64),
    /// Adds a reference to `id` for a serialised copy and returns a one-time loan number
    /// ([`Reply::Id`]) that travels with the copy.
    Lend(u64),
    /// A deserialised copy of `id` takes the reference of loan `.0` if nobody took it yet,
    /// else a new reference (as `Incref`).
    Claim(u64, u64),
    /// Number of live objects (for tests of the reference counting).
    Count,
    /// Stops the server after replying.
    Shutdown,
}

/// What to create.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Kind {
    Dict,
    List(Vec<Bytes>),
    Namespace,
    Lock,
    RLock,
    /// Initial value and optional upper bound (a `BoundedSemaphore`).
    Semaphore(usize, Option<usize>),
    Event,
    /// Over the lock or rlock with this id, or over a fresh `RLock`.
    Condition(Option<u64>),
    /// Maximum size, 0 for unbounded.
    Queue(usize),
    Value(Bytes),
    Array(Vec<Bytes>),
}

/// An operation on one object. Timeouts are relative; the server turns them into a deadline
/// when the request arrives (`None` waits forever).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Op {
    // Containers.
    Len,
    Clear,
    /// Everything stored, in order (list/array items, dict values).
    Values,
    // Dict.
    Get(Bytes),
    Insert(Bytes, Bytes),
    Pop(Bytes),
    Contains(Bytes),
    SetDefault(Bytes, Bytes),
    Keys,
    Items,
    Update(Vec<(Bytes, Bytes)>),
    // List and array (Python's indexing: negative counts from the end).
    Index(i64),
    SetIndex(i64, Bytes),
    Append(Bytes),
    Extend(Vec<Bytes>),
    InsertAt(i64, Bytes),
    PopAt(i64),
    // Namespace.
    GetAttr(String),
    SetAttr(String, Bytes),
    DelAttr(String),
    Attrs,
    // Locks, semaphores, conditions (acquire/release reach a condition's lock).
    Acquire(Option<Duration>),
    Release,
    Locked,
    SemValue,
    // Event and condition.
    Set,
    ClearFlag,
    IsSet,
    Wait(Option<Duration>),
    Notify(usize),
    NotifyAll,
    // Queue.
    Put(Bytes, Option<Duration>),
    Take(Option<Duration>),
    Full,
    // Value.
    Load,
    Store(Bytes),
}

/// The server's answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    Unit,
    Bool(bool),
    Usize(usize),
    Id(u64),
    Value(Bytes),
    MaybeValue(Option<Bytes>),
    Many(Vec<Bytes>),
    Pairs(Vec<(Bytes, Bytes)>),
    Names(Vec<String>),
    Fault(Fault),
}

/// An error raised by the server, turned into a [`ManagerError`] by the client.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Fault {
    Key,
    Index,
    Attribute(String),
    Empty,
    Full,
    NotHeld(String),
    OverRelease,
    Other(String),
}

impl From<Fault> for ManagerError {
    fn from(f: Fault) -> ManagerError {
        match f {
            Fault::Key => ManagerError::KeyError,
            Fault::Index => ManagerError::IndexError,
            Fault::Attribute(name) => ManagerError::AttributeError(name),
            Fault::Empty => ManagerError::Empty,
            Fault::Full => ManagerError::Full,
            Fault::NotHeld(what) => ManagerError::NotHeld(what),
            Fault::OverRelease => ManagerError::OverRelease,
            Fault::Other(what) => ManagerError::Remote(what),
        }
    }
}

/// Encodes a user value.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, ManagerError> {
    codec::encode(value).map_err(|e| match e {
        codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => ManagerError::Encode(m),
    })
}

/// Decodes a user value.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ManagerError> {
    codec::decode(bytes).map_err(|e| match e {
        codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => ManagerError::Decode(m),
    })
}

/// Writes one frame holding `msg`, in one `write` for small messages.
pub(crate) fn write_frame<T: Serialize>(
    mut stream: &LocalStream,
    msg: &T,
) -> Result<(), ManagerError> {
    let buf = encode_frame(msg)?;
    stream.write_all(&buf).map_err(ManagerError::from_io)
}

/// One frame holding `msg`: header and body in one buffer.
pub(crate) fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, ManagerError> {
    let mut buf = vec![0u8; codec::HEADER];
    codec::encode_into(msg, &mut buf).map_err(|e| match e {
        codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => ManagerError::Encode(m),
    })?;
    let len = buf.len() - codec::HEADER;
    if len > MAX_FRAME {
        return Err(ManagerError::Encode(format!(
            "message of {len} bytes exceeds the limit of {MAX_FRAME}"
        )));
    }
    let header = codec::frame_header(len).expect("checked against MAX_FRAME");
    buf[..codec::HEADER].copy_from_slice(&header);
    Ok(buf)
}

/// Reads one frame and decodes it as `T` (give it a buffered reader: header and body then
/// usually arrive in one `read`).
pub(crate) fn read_frame<T: DeserializeOwned>(stream: &mut impl Read) -> Result<T, ManagerError> {
    let mut header = [0u8; codec::HEADER];
    stream
        .read_exact(&mut header)
        .map_err(ManagerError::from_io)?;
    let len = codec::frame_len(header);
    if len > MAX_FRAME {
        return Err(ManagerError::Decode(format!(
            "frame of {len} bytes exceeds the limit of {MAX_FRAME}"
        )));
    }
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .map_err(ManagerError::from_io)?;
    decode(&body)
}

/// Compares two keys in time that does not depend on where they differ.
pub(crate) fn keys_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // `black_box` keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}
