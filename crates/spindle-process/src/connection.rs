//! Connections: the two ends of a [`Pipe`] carrying length-prefixed messages (Python's
//! `multiprocessing.connection`).
//!
//! Each message is one frame: a 4-byte little-endian length and the body. [`Connection::send`]
//! encodes a `serde` value with the crate's codec; [`Connection::send_bytes`] sends raw bytes.
//! A frame over the connection's maximum size, or one that does not decode, is read and
//! dropped whole, so the stream stays in step and the next `recv` sees the next message.
//!
//! This file passes 600 lines on purpose: it is the one `Connection` type and its framing, and
//! each of its methods carries its own runnable example.

use crate::codec::{self, HEADER};
use crate::reduction;
use crate::sys;
use parking_lot::Mutex;
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Default largest message a connection accepts: 256 MiB.
///
/// # Examples
///
/// ```
/// use spindle_process::{connection::DEFAULT_MAX_MESSAGE, Pipe};
///
/// let (a, _b) = Pipe(true).unwrap();
/// assert_eq!(a.max_message_size(), DEFAULT_MAX_MESSAGE);
/// ```
pub const DEFAULT_MAX_MESSAGE: usize = 256 << 20;

/// Bytes read from the descriptor at a time for small messages.
const READ_CHUNK: usize = 16 * 1024;

/// Why a connection operation failed.
///
/// # Examples
///
/// ```
/// use spindle_process::{ConnectionError, Pipe};
///
/// let (a, mut b) = Pipe(true).unwrap();
/// b.close();
/// assert!(matches!(b.recv_bytes(), Err(ConnectionError::Closed)));
/// drop(b);
/// assert!(matches!(a.recv_bytes(), Err(ConnectionError::Eof)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The other end is closed and every message it sent has been read: Python's `EOFError`.
    #[error("end of file: the other end of the connection is closed")]
    Eof,
    /// Sending failed because the other end is closed: Python's `BrokenPipeError`.
    #[error("broken pipe: the other end of the connection is closed")]
    BrokenPipe,
    /// `close` was called on this end.
    #[error("connection is closed")]
    Closed,
    /// This end was created send-only (`Pipe(false)`'s second end).
    #[error("connection is write-only")]
    NotReadable,
    /// This end was created receive-only (`Pipe(false)`'s first end).
    #[error("connection is read-only")]
    NotWritable,
    /// No message arrived within the timeout.
    #[error("timed out waiting for a message")]
    Timeout,
    /// A message is larger than the limit; on receive it was read and dropped.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size of the message.
        size: usize,
        /// The connection's limit ([`Connection::set_max_message_size`]).
        max: usize,
    },
    /// The value could not be encoded; nothing was sent.
    #[error("cannot encode the message: {0}")]
    Encode(String),
    /// The message was received but is not a valid encoding of the requested type; it was
    /// consumed.
    #[error("cannot decode the message: {0}")]
    Decode(String),
    /// Another operating-system error.
    #[error("connection i/o failed")]
    Io(#[source] io::Error),
}

impl From<io::Error> for ConnectionError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => ConnectionError::Eof,
            io::ErrorKind::BrokenPipe => ConnectionError::BrokenPipe,
            _ => ConnectionError::Io(e),
        }
    }
}

/// Bytes read ahead of the current message: `buf[pos..end]` is unread. The buffer is
/// allocated once, on first use, and never zero-filled again.
#[derive(Debug, Default)]
struct ReadBuf {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl ReadBuf {
    fn available(&self) -> usize {
        self.end - self.pos
    }

    /// Reads more from `fd` into the buffer (which must be drained); `Eof` at end of stream.
    fn fill(&mut self, fd: BorrowedFd<'_>) -> Result<(), ConnectionError> {
        debug_assert_eq!(self.available(), 0);
        if self.buf.len() < READ_CHUNK {
            self.buf = vec![0; READ_CHUNK];
        }
        self.pos = 0;
        self.end = 0;
        match sys::read_some(fd, &mut self.buf)? {
            0 => Err(ConnectionError::Eof),
            n => {
                self.end = n;
                Ok(())
            }
        }
    }

    /// Fills `out` completely, from the buffer first, then (for large rests) straight from `fd`.
    fn read_exact(&mut self, fd: BorrowedFd<'_>, out: &mut [u8]) -> Result<(), ConnectionError> {
        let mut done = 0;
        while done < out.len() {
            if self.available() == 0 {
                if out.len() - done >= READ_CHUNK {
                    match sys::read_some(fd, &mut out[done..])? {
                        0 => return Err(ConnectionError::Eof),
                        n => done += n,
                    }
                    continue;
                }
                self.fill(fd)?;
            }
            let n = self.available().min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    /// Drops the next `n` bytes of the stream.
    fn discard(&mut self, fd: BorrowedFd<'_>, mut n: usize) -> Result<(), ConnectionError> {
        let mut scratch = vec![0u8; READ_CHUNK.min(n.max(1))];
        while n > 0 {
            let take = n.min(scratch.len());
            self.read_exact(fd, &mut scratch[..take])?;
            n -= take;
        }
        Ok(())
    }
}

/// One end of a [`Pipe`]: Python's `multiprocessing.connection.Connection`.
///
/// All methods take `&self`; a `Connection` is `Send + Sync`, and concurrent senders (or
/// receivers) on the same end are serialised so frames never interleave. Pass a connection to
/// a child as (part of) a [`Process`](crate::Process) argument; the child's copy talks over the
/// same pipe.
///
/// # Differences from Python
///
/// Messages over [`max_message_size`](Connection::max_message_size) are refused with
/// [`ConnectionError::TooLarge`] and, on receive, skipped whole, keeping the stream usable.
/// `send`/`recv` use `serde` with bincode instead of pickle.
///
/// # Examples
///
/// ```
/// use spindle_process::Pipe;
///
/// let (a, b) = Pipe(true).unwrap();
/// a.send(&("hello", 42u32)).unwrap();
/// let (word, n): (String, u32) = b.recv().unwrap();
/// assert_eq!((word.as_str(), n), ("hello", 42));
/// b.send_bytes(b"raw").unwrap();
/// assert_eq!(a.recv_bytes().unwrap(), b"raw");
/// ```
pub struct Connection {
    fd: Option<OwnedFd>,
    socket: bool,
    readable: bool,
    writable: bool,
    max_message: AtomicUsize,
    rbuf: Mutex<ReadBuf>,
    wlock: Mutex<Vec<u8>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.fd.as_ref().map(|f| f.as_raw_fd()))
            .field("readable", &self.readable)
            .field("writable", &self.writable)
            .field("max_message", &self.max_message_size())
            .finish()
    }
}

/// A pair of connected [`Connection`]s: Python's `multiprocessing.Pipe(duplex)`.
///
/// With `duplex` both ends send and receive (a Unix socket pair). Without it the first end
/// only receives and the second only sends (an OS pipe), as in Python.
///
/// # Errors
///
/// The operating system's error if it cannot create the descriptors.
///
/// # Examples
///
/// ```
/// use spindle_process::Pipe;
///
/// let (rx, tx) = Pipe(false).unwrap();
/// tx.send(&vec![1u8, 2, 3]).unwrap();
/// assert_eq!(rx.recv::<Vec<u8>>().unwrap(), vec![1, 2, 3]);
/// assert!(tx.recv_bytes().is_err()); // send-only end
/// ```
#[allow(non_snake_case)]
pub fn Pipe(duplex: bool) -> io::Result<(Connection, Connection)> {
    if duplex {
        let (a, b) = sys::socketpair()?;
        Ok((
            Connection::new(a, true, true, true),
            Connection::new(b, true, true, true),
        ))
    } else {
        let (r, w) = sys::pipe()?;
        Ok((
            Connection::new(r, false, true, false),
            Connection::new(w, false, false, true),
        ))
    }
}

impl Connection {
    fn new(fd: OwnedFd, socket: bool, readable: bool, writable: bool) -> Connection {
        Connection {
            fd: Some(fd),
            socket,
            readable,
            writable,
            max_message: AtomicUsize::new(DEFAULT_MAX_MESSAGE),
            rbuf: Mutex::new(ReadBuf::default()),
            wlock: Mutex::new(Vec::new()),
        }
    }

    /// Whether this end can receive (Python's `conn.readable`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (rx, tx) = spindle_process::Pipe(false).unwrap();
    /// assert!(rx.readable() && !tx.readable());
    /// ```
    pub fn readable(&self) -> bool {
        self.readable
    }

    /// Whether this end can send (Python's `conn.writable`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (rx, tx) = spindle_process::Pipe(false).unwrap();
    /// assert!(tx.writable() && !rx.writable());
    /// ```
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Whether [`close`](Connection::close) ran (Python's `conn.closed`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut a, _b) = spindle_process::Pipe(true).unwrap();
    /// assert!(!a.closed());
    /// a.close();
    /// assert!(a.closed());
    /// ```
    pub fn closed(&self) -> bool {
        self.fd.is_none()
    }

    /// The largest message this end sends or accepts (default [`DEFAULT_MAX_MESSAGE`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::connection::DEFAULT_MAX_MESSAGE;
    ///
    /// let (a, _b) = spindle_process::Pipe(true).unwrap();
    /// assert_eq!(a.max_message_size(), DEFAULT_MAX_MESSAGE);
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.max_message.load(Ordering::Relaxed)
    }

    /// Changes the message size limit of this end.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{ConnectionError, Pipe};
    ///
    /// let (a, _b) = Pipe(true).unwrap();
    /// a.set_max_message_size(4);
    /// assert!(matches!(a.send_bytes(b"too long"), Err(ConnectionError::TooLarge { size: 8, max: 4 })));
    /// ```
    pub fn set_max_message_size(&self, max: usize) {
        self.max_message
            .store(max.min(codec::MAX_FRAME), Ordering::Relaxed);
    }

    fn fd(&self) -> Result<BorrowedFd<'_>, ConnectionError> {
        self.fd
            .as_ref()
            .map(|f| f.as_fd())
            .ok_or(ConnectionError::Closed)
    }

    fn write_fd(&self) -> Result<BorrowedFd<'_>, ConnectionError> {
        let fd = self.fd()?;
        if !self.writable {
            return Err(ConnectionError::NotWritable);
        }
        Ok(fd)
    }

    fn read_fd(&self) -> Result<BorrowedFd<'_>, ConnectionError> {
        let fd = self.fd()?;
        if !self.readable {
            return Err(ConnectionError::NotReadable);
        }
        Ok(fd)
    }

    /// Sends `bytes` as one message: Python's `conn.send_bytes(buf)`.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::TooLarge`] (nothing sent) if `bytes` exceeds the limit;
    /// [`ConnectionError::BrokenPipe`] if the other end is closed; [`ConnectionError::Closed`],
    /// [`ConnectionError::NotWritable`], [`ConnectionError::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = spindle_process::Pipe(true).unwrap();
    /// a.send_bytes(b"ping").unwrap();
    /// assert_eq!(b.recv_bytes().unwrap(), b"ping");
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), ConnectionError> {
        let fd = self.write_fd()?;
        let max = self.max_message_size();
        let header = codec::frame_header(bytes.len())
            .filter(|_| bytes.len() <= max)
            .ok_or(ConnectionError::TooLarge {
                size: bytes.len(),
                max,
            })?;
        let _w = self.wlock.lock();
        sys::write_all_vectored(fd, self.socket, &[&header, bytes])?;
        Ok(())
    }

    /// Encodes `value` and sends it as one message: Python's `conn.send(obj)`.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Encode`] if `value` does not serialise (nothing sent); otherwise as
    /// [`send_bytes`](Connection::send_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = spindle_process::Pipe(true).unwrap();
    /// a.send(&vec![1u16, 2, 3]).unwrap();
    /// assert_eq!(b.recv::<Vec<u16>>().unwrap(), [1, 2, 3]);
    /// ```
    pub fn send<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), ConnectionError> {
        let fd = self.write_fd()?;
        let mut buf = self.wlock.lock();
        buf.clear();
        buf.extend_from_slice(&[0; HEADER]);
        codec::encode_into(value, &mut buf).map_err(|e| match e {
            codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => {
                ConnectionError::Encode(m)
            }
        })?;
        let len = buf.len() - HEADER;
        let max = self.max_message_size();
        let header = codec::frame_header(len)
            .filter(|_| len <= max)
            .ok_or(ConnectionError::TooLarge { size: len, max })?;
        buf[..HEADER].copy_from_slice(&header);
        let r = sys::write_all_vectored(fd, self.socket, &[&buf]);
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new(); // do not pin a large buffer
        }
        r.map_err(Into::into)
    }

    /// Receives one message's bytes, blocking until it arrives: Python's `conn.recv_bytes()`.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Eof`] once the other end is closed and everything was read;
    /// [`ConnectionError::TooLarge`] for a message over the limit (it is skipped);
    /// [`ConnectionError::Closed`], [`ConnectionError::NotReadable`], [`ConnectionError::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{ConnectionError, Pipe};
    ///
    /// let (rx, tx) = Pipe(false).unwrap();
    /// tx.send_bytes(b"last").unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv_bytes().unwrap(), b"last");
    /// assert!(matches!(rx.recv_bytes(), Err(ConnectionError::Eof)));
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>, ConnectionError> {
        let fd = self.read_fd()?;
        let mut rb = self.rbuf.lock();
        let mut header = [0u8; HEADER];
        rb.read_exact(fd, &mut header)?;
        let len = codec::frame_len(header);
        let max = self.max_message_size();
        if len > max {
            rb.discard(fd, len)?;
            return Err(ConnectionError::TooLarge { size: len, max });
        }
        let mut body = vec![0u8; len];
        rb.read_exact(fd, &mut body)?;
        Ok(body)
    }

    /// Receives and decodes one message: Python's `conn.recv()`.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Decode`] if the message is not a `T` (it is consumed); otherwise as
    /// [`recv_bytes`](Connection::recv_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = spindle_process::Pipe(true).unwrap();
    /// b.send(&Some(String::from("hi"))).unwrap();
    /// assert_eq!(a.recv::<Option<String>>().unwrap().as_deref(), Some("hi"));
    /// ```
    pub fn recv<T: DeserializeOwned>(&self) -> Result<T, ConnectionError> {
        let body = self.recv_bytes()?;
        codec::decode(&body).map_err(|e| match e {
            codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => {
                ConnectionError::Decode(m)
            }
        })
    }

    /// [`recv_bytes`](Connection::recv_bytes) that gives up after `timeout` with
    /// [`ConnectionError::Timeout`].
    ///
    /// # Errors
    ///
    /// As `recv_bytes`, plus `Timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::{ConnectionError, Pipe};
    ///
    /// let (a, b) = Pipe(true).unwrap();
    /// assert!(matches!(a.recv_bytes_timeout(Duration::ZERO), Err(ConnectionError::Timeout)));
    /// b.send_bytes(b"x").unwrap();
    /// assert_eq!(a.recv_bytes_timeout(Duration::from_secs(5)).unwrap(), b"x");
    /// ```
    pub fn recv_bytes_timeout(&self, timeout: Duration) -> Result<Vec<u8>, ConnectionError> {
        self.read_fd()?;
        if !self.poll(Some(timeout)) {
            return Err(ConnectionError::Timeout);
        }
        self.recv_bytes()
    }

    /// [`recv`](Connection::recv) that gives up after `timeout` with
    /// [`ConnectionError::Timeout`].
    ///
    /// # Errors
    ///
    /// As `recv`, plus `Timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::{ConnectionError, Pipe};
    ///
    /// let (a, b) = Pipe(true).unwrap();
    /// let r = a.recv_timeout::<u8>(Duration::from_millis(1));
    /// assert!(matches!(r, Err(ConnectionError::Timeout)));
    /// b.send(&7u8).unwrap();
    /// assert_eq!(a.recv_timeout::<u8>(Duration::from_secs(5)).unwrap(), 7);
    /// ```
    pub fn recv_timeout<T: DeserializeOwned>(
        &self,
        timeout: Duration,
    ) -> Result<T, ConnectionError> {
        self.read_fd()?;
        if !self.poll(Some(timeout)) {
            return Err(ConnectionError::Timeout);
        }
        self.recv()
    }

    /// Whether a message (or end of file) is ready to read, waiting up to `timeout`
    /// (`None`: forever): Python's `conn.poll(timeout)`. `Some(Duration::ZERO)` checks without
    /// blocking.
    ///
    /// Returns false on a closed or send-only end. True at end of file too, so the next `recv`
    /// reports [`ConnectionError::Eof`] rather than blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (a, b) = spindle_process::Pipe(true).unwrap();
    /// assert!(!a.poll(Some(Duration::ZERO)));
    /// b.send(&1u8).unwrap();
    /// assert!(a.poll(Some(Duration::from_secs(5))));
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> bool {
        let Ok(fd) = self.read_fd() else { return false };
        if self.rbuf.lock().available() > 0 {
            return true;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let deadline = match (timeout, deadline) {
            (Some(_), None) => None, // too large to add: wait forever
            (_, d) => d,
        };
        matches!(sys::poll_fds(&[fd], deadline).as_deref(), Ok([true]))
    }

    /// Closes this end: Python's `conn.close()`. Later calls fail with
    /// [`ConnectionError::Closed`]; the other end sees end of file once every copy of this end
    /// (in all processes) is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{ConnectionError, Pipe};
    ///
    /// let (mut a, _b) = Pipe(true).unwrap();
    /// a.close();
    /// assert!(matches!(a.send(&1u8), Err(ConnectionError::Closed)));
    /// ```
    pub fn close(&mut self) {
        self.fd = None;
    }

    fn has_buffered(&self) -> bool {
        self.rbuf.lock().available() > 0
    }
}

impl AsFd for Connection {
    /// The descriptor (Python's `fileno()`).
    ///
    /// # Panics
    ///
    /// If the connection is closed.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_ref().expect("connection is closed").as_fd()
    }
}

impl AsRawFd for Connection {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Waits until at least one of `conns` has a message (or end of file) ready, or `timeout`
/// passes (`None`: forever); returns the indices of the ready ones: Python's
/// `multiprocessing.connection.wait(object_list, timeout)`.
///
/// Closed or send-only connections are never ready. An empty result means the time ran out.
///
/// # Errors
///
/// The operating system's error if `poll` fails.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::{connection::wait, Pipe};
///
/// let (a1, b1) = Pipe(true).unwrap();
/// let (a2, b2) = Pipe(true).unwrap();
/// b2.send(&7u8).unwrap();
/// assert_eq!(wait(&[&a1, &a2], Some(Duration::from_secs(5))).unwrap(), vec![1]);
/// assert!(wait(&[&a1], Some(Duration::ZERO)).unwrap().is_empty());
/// # drop(b1);
/// ```
pub fn wait(conns: &[&Connection], timeout: Option<Duration>) -> io::Result<Vec<usize>> {
    let ready: Vec<usize> = conns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.read_fd().is_ok() && c.has_buffered())
        .map(|(i, _)| i)
        .collect();
    if !ready.is_empty() {
        return Ok(ready);
    }
    let live: Vec<(usize, BorrowedFd<'_>)> = conns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.read_fd().ok().map(|fd| (i, fd)))
        .collect();
    let deadline = match timeout {
        None => None,
        Some(t) => Instant::now().checked_add(t),
    };
    let fds: Vec<BorrowedFd<'_>> = live.iter().map(|&(_, fd)| fd).collect();
    if fds.is_empty() {
        // Nothing can become ready; honour the timeout without a busy loop.
        if let Some(t) = timeout {
            std::thread::sleep(t);
        }
        return Ok(Vec::new());
    }
    let flags = sys::poll_fds(&fds, deadline)?;
    Ok(live
        .iter()
        .zip(flags)
        .filter(|(_, r)| *r)
        .map(|(&(i, _), _)| i)
        .collect())
}

#[derive(Serialize, Deserialize)]
struct Wire {
    socket: bool,
    readable: bool,
    writable: bool,
    max_message: u64,
}

impl Serialize for Connection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let fd = self
            .fd()
            .map_err(|_| S::Error::custom("cannot send a closed connection"))?;
        if self.has_buffered() {
            return Err(S::Error::custom(
                "cannot send a connection with unread buffered data",
            ));
        }
        struct Fd<'a>(BorrowedFd<'a>);
        impl Serialize for Fd<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                reduction::serialize_fd(self.0, s)
            }
        }
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&Fd(fd))?;
        t.serialize_element(&Wire {
            socket: self.socket,
            readable: self.readable,
            writable: self.writable,
            max_message: self.max_message_size() as u64,
        })?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fd(OwnedFd);
        impl<'de> Deserialize<'de> for Fd {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                reduction::deserialize_fd(d).map(Fd)
            }
        }
        let (Fd(fd), w): (Fd, Wire) = Deserialize::deserialize(d)?;
        let c = Connection::new(fd, w.socket, w.readable, w.writable);
        c.set_max_message_size(usize::try_from(w.max_message).map_err(D::Error::custom)?);
        Ok(c)
    }
}
