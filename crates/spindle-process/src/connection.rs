//! Connections: the two ends of a [`Pipe`] carrying length-prefixed messages (Python's
//! `multiprocessing.connection`).
//!
//! Each message is one frame: a 4-byte little-endian length and the body. [`Connection::send`]
//! encodes a `serde` value with the crate's codec; [`Connection::send_bytes`] sends raw bytes.
//! A frame over the connection's maximum size, or one that does not decode, is dropped whole,
//! so the stream stays in step and the next `recv` sees the next message.
//!
//! Receiving is a state machine kept in the connection (`reader.rs`), so a timeout covers the
//! whole frame: a receive that runs out of time in the middle of a frame returns `Timeout`
//! and leaves the bytes it read for the next receive, which completes the frame. A peer that
//! closes mid-frame gives `Truncated`, distinct from `Eof` at a frame boundary; a header
//! announcing more than the limit gives `TooLarge` before anything is allocated for it.
//!
//! This file passes 600 lines on purpose: it is the one `Connection` type and its framing, and
//! each of its methods carries its own runnable example.

mod reader;

use crate::codec::{self, HEADER};
use crate::reduction;
use crate::sys;
use parking_lot::{Mutex, MutexGuard};
use reader::{Reader, Source, Wait};
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
/// A received header announcing more is refused with [`ConnectionError::TooLarge`] before
/// anything is allocated for it. Below the limit, memory still follows the bytes that arrive,
/// not the announced length: a header that lies costs at most 1 MiB until its body comes.
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

/// Why a connection operation failed.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use spindle_process::{ConnectionError, Pipe};
///
/// let (a, mut b) = Pipe(true).unwrap();
/// b.close();
/// assert!(matches!(b.recv_bytes(), Err(ConnectionError::Closed)));
/// drop(b);
/// assert!(matches!(a.recv_bytes(), Err(ConnectionError::Eof)));
///
/// // A peer that closes in the middle of a frame: a header announcing 5 bytes, then 1.
/// let (a, b) = Pipe(true).unwrap();
/// let mut raw = std::fs::File::from(b.as_fd().try_clone_to_owned().unwrap());
/// raw.write_all(&[5, 0, 0, 0, b'x']).unwrap();
/// drop((raw, b));
/// let err = a.recv_bytes().unwrap_err();
/// assert!(matches!(err, ConnectionError::Truncated { expected: 9, got: 5 }));
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
    /// No whole message arrived within the timeout. Part of one may have: it stays in this
    /// end and the next receive completes it.
    #[error("timed out waiting for a message")]
    Timeout,
    /// The other end closed in the middle of a message: Python's `EOFError` for a cut-off
    /// message. The partial message is dropped; later receives report [`Eof`](Self::Eof).
    #[error("message truncated: the other end closed after {got} of its {expected} bytes")]
    Truncated {
        /// Bytes the frame needed as far as known: its 4-byte header plus the body length
        /// the header announced, or just the 4 header bytes if the header itself was cut.
        expected: usize,
        /// Bytes of the frame (header included) that arrived.
        got: usize,
    },
    /// A message is larger than the limit. On send nothing was written. On receive its
    /// header was consumed and nothing was allocated for it; the following receives drop its
    /// body as it arrives (within their own timeouts), then go on with the next message.
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
    /// Another operating-system error; the `io::Error` is the source.
    #[error("connection i/o failed: {0}")]
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
/// `send`/`recv` use `serde` with bincode instead of pickle. A timeout covers the whole
/// message, and [`poll`](Connection::poll) reports whole messages where Python's reports
/// readable bytes.
///
/// # Several receivers
///
/// Threads receiving on the same end take turns; a partial frame read by one is kept in the
/// connection and completed by whichever receives next. A receiver with a timeout counts its
/// wait for another receiver against that timeout. Two *processes* reading one end share
/// only the descriptor, not this state: as in Python, give each reader its own connection (a
/// [`Queue`](crate::Queue) serialises readers for you).
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
    reader: Mutex<Reader>,
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
            reader: Mutex::new(Reader::default()),
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

    /// Changes the message size limit of this end, at most `u32::MAX` bytes (what a frame
    /// header can announce); larger values are clamped to it.
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
    /// If an earlier receive with a timeout gave up in the middle of a frame, this one
    /// completes that frame: no byte is lost and the stream stays in step.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Eof`] once the other end is closed and everything was read;
    /// [`ConnectionError::Truncated`] if it closed in the middle of a frame;
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
        self.recv_bytes_until(None)
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
        decode(&self.recv_bytes()?)
    }

    /// [`recv_bytes`](Connection::recv_bytes) that gives up after `timeout` with
    /// [`ConnectionError::Timeout`].
    ///
    /// The timeout covers the whole call: waiting for another thread that is receiving on
    /// this end, the header and the entire body. If it runs out in the middle of a frame, the
    /// bytes that arrived stay in this end (shared by every thread that uses it) and the next
    /// receive, timed or not, completes the frame; nothing is lost or reordered.
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
        self.recv_bytes_until(deadline_after(Some(timeout)))
    }

    /// [`recv`](Connection::recv) that gives up after `timeout` with
    /// [`ConnectionError::Timeout`]; the timeout covers the whole frame, as in
    /// [`recv_bytes_timeout`](Connection::recv_bytes_timeout).
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
        decode(&self.recv_bytes_until(deadline_after(Some(timeout)))?)
    }

    /// One frame, waiting until `deadline` (`None`: forever) for the read lock and the bytes.
    fn recv_bytes_until(&self, deadline: Option<Instant>) -> Result<Vec<u8>, ConnectionError> {
        let fd = self.read_fd()?;
        let mut reader = self.lock_reader(deadline).ok_or(ConnectionError::Timeout)?;
        reader.recv(
            &self.source(fd, Wait::from_deadline(deadline)),
            self.max_message_size(),
        )
    }

    /// What the frame reader reads from: this end's descriptor, waiting as `wait` says.
    fn source<'a>(&self, fd: BorrowedFd<'a>, wait: Wait) -> Source<'a> {
        Source {
            fd,
            socket: self.socket,
            wait,
        }
    }

    /// The read lock, waited for until `deadline` (`None`: forever).
    fn lock_reader(&self, deadline: Option<Instant>) -> Option<MutexGuard<'_, Reader>> {
        match deadline {
            None => Some(self.reader.lock()),
            Some(d) => self.reader.try_lock_until(d),
        }
    }

    /// Whether a whole message (or end of file) is ready to receive, waiting up to `timeout`
    /// (`None`: forever): Python's `conn.poll(timeout)`. `Some(Duration::ZERO)` checks without
    /// blocking.
    ///
    /// True means the next receive returns at once: a whole message is here, or end of file
    /// (so the next `recv` reports [`ConnectionError::Eof`] or
    /// [`ConnectionError::Truncated`]), or an oversize message's header (so it reports
    /// [`ConnectionError::TooLarge`]). Returns false on a closed or send-only end, and when
    /// another thread holds the read side until the timeout passes.
    ///
    /// # Differences from Python
    ///
    /// Python's `poll` reports readable *bytes*, so a `recv` after it can still block on the
    /// rest of a frame. This one reads what arrives into the connection (the next receive
    /// takes it from there) and reports true only for a whole frame.
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
        let deadline = deadline_after(timeout);
        let Some(mut reader) = self.lock_reader(deadline) else {
            return false;
        };
        reader.ready(
            &self.source(fd, Wait::from_deadline(deadline)),
            self.max_message_size(),
        )
    }

    /// Like `poll` for [`wait`]: `Some(ready)` reading only what `wait` allows, or `None` when
    /// another thread holds the read side (it takes what arrives).
    fn try_ready(&self, fd: BorrowedFd<'_>, wait: Wait) -> Option<bool> {
        let mut reader = self.reader.try_lock()?;
        Some(reader.ready(&self.source(fd, wait), self.max_message_size()))
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

    /// Whether received bytes wait in this end, or another thread is receiving on it.
    fn has_buffered(&self) -> bool {
        self.reader.try_lock().is_none_or(|r| r.holds_data())
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

/// The instant `timeout` from now; `None` (no deadline) for no timeout or one too large to
/// add to the clock.
fn deadline_after(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Decodes a received body as a `T`.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConnectionError> {
    codec::decode(body).map_err(|e| match e {
        codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => ConnectionError::Decode(m),
    })
}

/// While another thread holds a connection's read side, [`wait`] looks at it again this often
/// (that thread may leave whole frames behind when it is done).
const BUSY_RECHECK: Duration = Duration::from_millis(10);

/// Waits until at least one of `conns` has a whole message (or end of file) ready, or
/// `timeout` passes (`None`: forever); returns the indices of the ready ones: Python's
/// `multiprocessing.connection.wait(object_list, timeout)`.
///
/// "Ready" means what [`Connection::poll`] means: the next receive returns at once. Bytes of
/// a partial frame are read into the connection and do not count. Closed or send-only
/// connections, and those another thread is receiving on, are never ready. An empty result
/// means the time ran out.
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
    let deadline = deadline_after(timeout);
    loop {
        // Whole frames already buffered: no system call.
        let mut ready = Vec::new();
        let mut live: Vec<(usize, BorrowedFd<'_>)> = Vec::new();
        let mut busy = false;
        for (i, c) in conns.iter().enumerate() {
            let Ok(fd) = c.read_fd() else { continue };
            match c.try_ready(fd, Wait::NoIo) {
                Some(true) => ready.push(i),
                Some(false) => live.push((i, fd)),
                None => busy = true,
            }
        }
        if !ready.is_empty() {
            return Ok(ready);
        }
        if live.is_empty() && !busy {
            // Nothing can become ready; honour the timeout without a busy loop.
            if let Some(t) = timeout {
                std::thread::sleep(t);
            }
            return Ok(Vec::new());
        }
        let now = Instant::now();
        let until = match (deadline, busy) {
            (Some(d), true) => Some(d.min(now + BUSY_RECHECK)),
            (None, true) => Some(now + BUSY_RECHECK),
            (d, false) => d,
        };
        let fds: Vec<BorrowedFd<'_>> = live.iter().map(|&(_, fd)| fd).collect();
        let flags = sys::poll_fds(&fds, until)?;
        // Pull what the readable ones have, without blocking; only whole frames count.
        for (&(i, fd), readable) in live.iter().zip(flags) {
            if readable && conns[i].try_ready(fd, Wait::Until(now)) == Some(true) {
                ready.push(i);
            }
        }
        if !ready.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(ready);
        }
    }
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
                "cannot send a connection with unread buffered data or a receive in progress",
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
