//! [`StreamReader`]: Python's `asyncio.StreamReader`, buffered reads with `readline`,
//! `readexactly`, `readuntil` and a line-length limit; errors in [`StreamError`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::stream_io::StreamIo;

/// The default buffer limit, as Python's `asyncio.streams._DEFAULT_LIMIT` (64 KiB).
///
/// # Examples
///
/// ```
/// use spindle_async::{run, StreamReader, DEFAULT_LIMIT};
///
/// assert_eq!(DEFAULT_LIMIT, 65_536);
/// run(async {
///     let r = StreamReader::new(DEFAULT_LIMIT);
///     r.feed_data(b"line\n");
///     assert_eq!(r.readline().await.unwrap(), b"line\n");
/// });
/// ```
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// Bytes read from the transport at once, at least.
const READ_CHUNK: usize = 16 * 1024;

/// Why a stream read failed.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, StreamError, StreamReader};
///
/// run(async {
///     let r = StreamReader::new(16);
///     r.feed_data(b"abc");
///     r.feed_eof();
///     match r.readexactly(5).await {
///         Err(StreamError::IncompleteRead { partial, expected }) => {
///             assert_eq!((partial, expected), (b"abc".to_vec(), Some(5)));
///         }
///         other => panic!("unexpected {other:?}"),
///     }
/// });
/// ```
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The transport failed (connection reset, ...).
    #[error("stream i/o failed")]
    Io(#[from] io::Error),
    /// EOF came before the read was complete: Python's `asyncio.IncompleteReadError`.
    /// `partial` holds what was read (and consumed); `expected` is `None` for `readuntil`.
    #[error("{} bytes read on a total of {} expected bytes", .partial.len(), .expected.map_or("undefined".to_string(), |n| n.to_string()))]
    IncompleteRead {
        /// The bytes read before EOF.
        partial: Vec<u8>,
        /// How many bytes were asked for, if a count was.
        expected: Option<usize>,
    },
    /// The separator was not found within the limit: Python's `asyncio.LimitOverrunError`.
    /// The data stays in the buffer (except for `readline`, which discards it as Python does).
    #[error("separator is not found within the limit")]
    LimitOverrun {
        /// How many bytes the caller would have to consume to get past the data.
        consumed: usize,
    },
}

/// The bytes received and not yet read: `data[start..end]`.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.data[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space at the end, at least `min` bytes (compacting or growing).
    fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.data.len() - self.end < min {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.data.len() - self.end < min {
                let want = (self.end + min).max(self.data.len() * 2);
                self.data.resize(want, 0);
            }
        }
        &mut self.data[self.end..]
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.spare(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }
}

struct Inner {
    io: Option<Rc<dyn StreamIo>>,
    buf: RefCell<Buf>,
    eof: Cell<bool>,
    limit: usize,
    /// For readers fed by hand: the task waiting for `feed_data`/`feed_eof`.
    waiter: RefCell<Option<Waker>>,
}

/// The reading half of a stream. Python's `asyncio.StreamReader`.
///
/// From [`open_connection`](crate::open_connection), a server callback or a subprocess
/// pipe; or stand-alone with [`new`](StreamReader::new) and fed by hand with
/// [`feed_data`](StreamReader::feed_data)/[`feed_eof`](StreamReader::feed_eof) (as Python's
/// tests do). Clones share the same buffer.
///
/// # Differences from Python
///
/// Data is read from the socket when a read needs it, not pushed by a protocol in the
/// background, so the buffer never grows past what a read asked for plus one chunk.
/// Two tasks reading one stream at once is not an error, but they race for the data.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, StreamReader};
///
/// run(async {
///     let r = StreamReader::new(1024);
///     r.feed_data(b"hello\nworld");
///     r.feed_eof();
///     assert_eq!(r.readline().await.unwrap(), b"hello\n");
///     assert_eq!(r.read(100).await.unwrap(), b"world");
///     assert!(r.at_eof());
/// });
/// ```
#[derive(Clone)]
pub struct StreamReader {
    inner: Rc<Inner>,
}

impl StreamReader {
    /// A reader fed by hand, with a buffer limit of `limit` bytes for `readuntil`/`readline`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::StreamReader;
    ///
    /// let r = StreamReader::new(1024);
    /// assert_eq!(r.limit(), 1024);
    /// assert!(!r.at_eof());
    /// ```
    pub fn new(limit: usize) -> StreamReader {
        StreamReader::build(None, limit)
    }

    pub(crate) fn with_io(io: Rc<dyn StreamIo>, limit: usize) -> StreamReader {
        StreamReader::build(Some(io), limit)
    }

    fn build(io: Option<Rc<dyn StreamIo>>, limit: usize) -> StreamReader {
        StreamReader {
            inner: Rc::new(Inner {
                io,
                buf: RefCell::new(Buf::default()),
                eof: Cell::new(false),
                limit: limit.max(1),
                waiter: RefCell::new(None),
            }),
        }
    }

    /// Appends `data` to the buffer and wakes a waiting read. Python's `feed_data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(1024);
    ///     r.feed_data(b"hi\n");
    ///     assert_eq!(r.readline().await.unwrap(), b"hi\n");
    /// });
    /// ```
    pub fn feed_data(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.inner.buf.borrow_mut().extend(data);
        if let Some(w) = self.inner.waiter.borrow_mut().take() {
            w.wake();
        }
    }

    /// Marks the end of the stream and wakes a waiting read. Python's `feed_eof`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(1024);
    ///     r.feed_data(b"tail");
    ///     r.feed_eof();
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"tail");
    /// });
    /// ```
    pub fn feed_eof(&self) {
        self.inner.eof.set(true);
        if let Some(w) = self.inner.waiter.borrow_mut().take() {
            w.wake();
        }
    }

    /// Whether EOF was seen and the buffer is empty. Python's `at_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::StreamReader;
    ///
    /// let r = StreamReader::new(1024);
    /// r.feed_eof();
    /// assert!(r.at_eof());
    /// ```
    pub fn at_eof(&self) -> bool {
        self.inner.eof.get() && self.inner.buf.borrow().len() == 0
    }

    /// The buffer limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{StreamReader, DEFAULT_LIMIT};
    ///
    /// assert_eq!(StreamReader::new(DEFAULT_LIMIT).limit(), 64 * 1024);
    /// ```
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Waits for more data (or EOF).
    async fn fill(&self) -> io::Result<()> {
        let inner = &self.inner;
        let before = inner.buf.borrow().len();
        poll_fn(|cx| {
            if inner.eof.get() || inner.buf.borrow().len() > before {
                return Poll::Ready(Ok(()));
            }
            let Some(io) = &inner.io else {
                *inner.waiter.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            };
            let mut buf = inner.buf.borrow_mut();
            let spare = buf.spare(READ_CHUNK);
            match io.poll_read(cx, spare) {
                Poll::Ready(Ok(0)) => {
                    inner.eof.set(true);
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Ok(n)) => {
                    buf.end += n;
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Reads up to `n` bytes; an empty result means EOF. Python's `await reader.read(n)`.
    ///
    /// # Errors
    ///
    /// [`StreamError::Io`] if the transport fails.
    ///
    /// # Cancel safety
    ///
    /// Safe: bytes leave the buffer only in the poll that returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(1024);
    ///     r.feed_data(b"abcdef");
    ///     r.feed_eof();
    ///     assert_eq!(r.read(4).await.unwrap(), b"abcd");
    ///     assert_eq!(r.read(4).await.unwrap(), b"ef");
    ///     assert!(r.read(4).await.unwrap().is_empty()); // EOF
    /// });
    /// ```
    pub async fn read(&self, n: usize) -> Result<Vec<u8>, StreamError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        while self.inner.buf.borrow().len() == 0 && !self.inner.eof.get() {
            self.fill().await?;
        }
        Ok(self.inner.buf.borrow_mut().take(n))
    }

    /// Reads until EOF. Python's `await reader.read()` (`n = -1`).
    ///
    /// # Errors
    ///
    /// [`StreamError::Io`] if the transport fails.
    ///
    /// # Cancel safety
    ///
    /// Safe: the data stays buffered until EOF is reached.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(64);
    ///     r.feed_data(b"all of it");
    ///     r.feed_eof();
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"all of it");
    /// });
    /// ```
    pub async fn read_to_end(&self) -> Result<Vec<u8>, StreamError> {
        while !self.inner.eof.get() {
            self.fill().await?;
        }
        let mut b = self.inner.buf.borrow_mut();
        let n = b.len();
        Ok(b.take(n))
    }

    /// Reads exactly `n` bytes. Python's `await reader.readexactly(n)`.
    ///
    /// # Errors
    ///
    /// [`StreamError::IncompleteRead`] (with what was there, now consumed) if EOF comes
    /// first; [`StreamError::Io`] if the transport fails.
    ///
    /// # Cancel safety
    ///
    /// Safe: nothing is consumed until all `n` bytes are there.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(64);
    ///     r.feed_data(b"\x00\x03abc");
    ///     let len = r.readexactly(2).await.unwrap();
    ///     assert_eq!(r.readexactly(len[1] as usize).await.unwrap(), b"abc");
    /// });
    /// ```
    pub async fn readexactly(&self, n: usize) -> Result<Vec<u8>, StreamError> {
        loop {
            let len = self.inner.buf.borrow().len();
            if len >= n {
                return Ok(self.inner.buf.borrow_mut().take(n));
            }
            if self.inner.eof.get() {
                let partial = self.inner.buf.borrow_mut().take(len);
                return Err(StreamError::IncompleteRead {
                    partial,
                    expected: Some(n),
                });
            }
            self.fill().await?;
        }
    }

    /// Reads up to and including `separator`. Python's `await reader.readuntil(separator)`.
    ///
    /// # Errors
    ///
    /// [`StreamError::IncompleteRead`] (everything buffered, consumed, `expected: None`) on
    /// EOF without the separator; [`StreamError::LimitOverrun`] if the separator is not within
    /// the limit (the data stays buffered); [`StreamError::Io`] if the transport fails.
    ///
    /// # Panics
    ///
    /// If `separator` is empty (Python's `ValueError`).
    ///
    /// # Cancel safety
    ///
    /// Safe: nothing is consumed until the separator is found.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamError, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(64);
    ///     r.feed_data(b"key=value;rest");
    ///     assert_eq!(r.readuntil(b";").await.unwrap(), b"key=value;");
    ///     r.feed_eof();
    ///     assert!(matches!(r.readuntil(b";").await, Err(StreamError::IncompleteRead { .. })));
    /// });
    /// ```
    pub async fn readuntil(&self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        assert!(
            !separator.is_empty(),
            "separator should be at least one byte"
        );
        let limit = self.inner.limit;
        let mut offset = 0;
        loop {
            {
                let mut b = self.inner.buf.borrow_mut();
                let bytes = b.bytes();
                if let Some(i) = memchr::memmem::find(&bytes[offset..], separator) {
                    let end = offset + i + separator.len();
                    if end > limit {
                        return Err(StreamError::LimitOverrun { consumed: end });
                    }
                    return Ok(b.take(end));
                }
                let len = bytes.len();
                offset = (len + 1).saturating_sub(separator.len());
                if len > limit {
                    return Err(StreamError::LimitOverrun { consumed: len });
                }
                if self.inner.eof.get() {
                    let partial = b.take(len);
                    return Err(StreamError::IncompleteRead {
                        partial,
                        expected: None,
                    });
                }
            }
            self.fill().await?;
        }
    }

    /// Reads one line, `\n` included; at EOF the last partial line (or nothing).
    /// Python's `await reader.readline()`.
    ///
    /// # Errors
    ///
    /// [`StreamError::LimitOverrun`] if the line is longer than the limit (the line, or the
    /// whole buffer if no `\n` is in it, is discarded); [`StreamError::Io`] if the transport fails.
    ///
    /// # Cancel safety
    ///
    /// Safe: nothing is consumed until a whole line is there.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, StreamReader};
    ///
    /// run(async {
    ///     let r = StreamReader::new(1024);
    ///     r.feed_data(b"one\ntwo");
    ///     r.feed_eof();
    ///     assert_eq!(r.readline().await.unwrap(), b"one\n");
    ///     assert_eq!(r.readline().await.unwrap(), b"two"); // last line, no newline
    ///     assert!(r.readline().await.unwrap().is_empty());
    /// });
    /// ```
    pub async fn readline(&self) -> Result<Vec<u8>, StreamError> {
        match self.readuntil(b"\n").await {
            Ok(line) => Ok(line),
            Err(StreamError::IncompleteRead { partial, .. }) => Ok(partial),
            Err(StreamError::LimitOverrun { consumed }) => {
                let mut b = self.inner.buf.borrow_mut();
                let found = b.bytes().get(consumed.saturating_sub(1)) == Some(&b'\n');
                let drop_n = if found { consumed } else { b.len() };
                b.consume(drop_n);
                Err(StreamError::LimitOverrun { consumed })
            }
            Err(e) => Err(e),
        }
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.inner.buf.borrow().len())
            .field("eof", &self.inner.eof.get())
            .field("limit", &self.inner.limit)
            .finish()
    }
}
