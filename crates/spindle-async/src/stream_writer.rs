//! [`StreamWriter`]: Python's `asyncio.StreamWriter`, buffered writes flushed in the
//! background with `drain()` back-pressure, `write_eof`, `close` and `wait_closed`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::scheduler::LoopInner;
use crate::stream_io::StreamIo;
use crate::task::spawn_on;

/// Default high-water mark: `write` pauses the writer above it (Python's 64 KiB).
const DEFAULT_HIGH_WATER: usize = 64 * 1024;

struct Inner {
    io: Rc<dyn StreamIo>,
    lp: Rc<LoopInner>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    /// Bytes accepted by `write` and not yet sent: `buf[sent..]`.
    buf: RefCell<Vec<u8>>,
    sent: Cell<usize>,
    high: Cell<usize>,
    low: Cell<usize>,
    /// Above the high-water mark: `drain` waits until the buffer falls to the low mark.
    paused: Cell<bool>,
    flushing: Cell<bool>,
    eof_pending: Cell<bool>,
    closing: Cell<bool>,
    closed: Cell<bool>,
    error: RefCell<Option<(io::ErrorKind, String)>>,
    waiters: RefCell<Vec<Waker>>,
}

impl Inner {
    fn pending(&self) -> usize {
        self.buf.borrow().len() - self.sent.get()
    }

    fn wake_waiters(&self) {
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    fn fail(&self, e: io::Error) {
        *self.error.borrow_mut() = Some((e.kind(), e.to_string()));
        self.buf.borrow_mut().clear();
        self.sent.set(0);
        self.paused.set(false);
    }

    fn error(&self) -> Option<io::Error> {
        self.error
            .borrow()
            .as_ref()
            .map(|(k, m)| io::Error::new(*k, m.clone()))
    }

    /// Sends what it can; `Ready` once the buffer is empty or the transport failed.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let sent = self.sent.get();
            let n = {
                let buf = self.buf.borrow();
                if sent >= buf.len() {
                    break;
                }
                match self.io.poll_write(cx, &buf[sent..]) {
                    Poll::Ready(Ok(0)) => Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Poll::Ready(Ok(n)) => Ok(n),
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => return Poll::Pending,
                }
            };
            match n {
                Ok(n) => {
                    self.sent.set(sent + n);
                    if self.paused.get() && self.pending() <= self.low.get() {
                        self.paused.set(false);
                        self.wake_waiters();
                    }
                }
                Err(e) => {
                    self.fail(e);
                    break;
                }
            }
        }
        self.buf.borrow_mut().clear();
        self.sent.set(0);
        Poll::Ready(())
    }

    /// After the buffer empties: apply a pending `write_eof`/`close`.
    fn finish_flush(&self) {
        self.flushing.set(false);
        if self.closing.get() {
            let _ = self.io.shutdown(Shutdown::Both);
            self.closed.set(true);
        } else if self.eof_pending.replace(false) {
            let _ = self.io.shutdown(Shutdown::Write);
        }
        self.paused.set(false);
        self.wake_waiters();
    }

    /// Starts the background flush task if data is waiting and none runs.
    fn ensure_flusher(self: &Rc<Self>) {
        if self.flushing.get() {
            return;
        }
        self.flushing.set(true);
        let me = self.clone();
        let lp = self.lp.clone();
        let task = spawn_on(&lp, Some("stream-writer-flush".to_owned()), async move {
            poll_fn(|cx| me.poll_flush(cx)).await;
            me.finish_flush();
        });
        drop(task);
    }
}

/// The writing half of a stream. Python's `asyncio.StreamWriter`.
///
/// [`write`](StreamWriter::write) sends at once what the socket takes and buffers the rest,
/// which a background task flushes; [`drain`](StreamWriter::drain) is the back-pressure
/// point (it waits while more than the high-water mark is buffered, until the buffer falls to
/// the low-water mark). [`close`](StreamWriter::close) flushes, then closes;
/// [`wait_closed`](StreamWriter::wait_closed) waits for that. Clones share the same stream.
///
/// # Examples
///
/// ```
/// use spindle_async::{open_connection, run, start_server};
///
/// run(async {
///     let server = start_server(|r, w| async move {
///         let line = r.readline().await.unwrap();
///         w.write(&line);
///         w.drain().await.unwrap();
///         w.close();
///     }, "127.0.0.1", 0).await.unwrap();
///     let (r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
///     w.write(b"ping\n");
///     w.drain().await.unwrap();
///     assert_eq!(r.readline().await.unwrap(), b"ping\n");
///     w.close();
///     w.wait_closed().await.unwrap();
///     server.close();
/// });
/// ```
#[derive(Clone)]
pub struct StreamWriter {
    inner: Rc<Inner>,
}

impl StreamWriter {
    pub(crate) fn new(
        io: Rc<dyn StreamIo>,
        lp: Rc<LoopInner>,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
    ) -> StreamWriter {
        StreamWriter {
            inner: Rc::new(Inner {
                io,
                lp,
                peer,
                local,
                buf: RefCell::new(Vec::new()),
                sent: Cell::new(0),
                high: Cell::new(DEFAULT_HIGH_WATER),
                low: Cell::new(DEFAULT_HIGH_WATER / 4),
                paused: Cell::new(false),
                flushing: Cell::new(false),
                eof_pending: Cell::new(false),
                closing: Cell::new(false),
                closed: Cell::new(false),
                error: RefCell::new(None),
                waiters: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Queues `data` for sending; never waits. Python's `writer.write(data)`.
    ///
    /// Ignored once the writer is closing or has failed (the failure is reported by `drain`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let echo = |r: spindle_async::StreamReader, w: spindle_async::StreamWriter| async move {
    ///         w.write(&r.read_to_end().await.unwrap());
    ///         w.close();
    ///     };
    ///     let server = start_server(echo, "127.0.0.1", 0).await.unwrap();
    ///     let (r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.write(b"hello");
    ///     w.write_eof();
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"hello");
    /// });
    /// ```
    pub fn write(&self, data: &[u8]) {
        let inner = &self.inner;
        if data.is_empty() || inner.closing.get() || inner.eof_pending.get() {
            return;
        }
        if inner.error.borrow().is_some() {
            return;
        }
        let mut rest = data;
        if inner.pending() == 0 {
            // Fast path: hand the bytes to the socket now.
            let mut cx = Context::from_waker(Waker::noop());
            while !rest.is_empty() {
                match inner.io.poll_write(&mut cx, rest) {
                    Poll::Ready(Ok(0)) => break,
                    Poll::Ready(Ok(n)) => rest = &rest[n..],
                    Poll::Ready(Err(e)) => {
                        inner.fail(e);
                        return;
                    }
                    Poll::Pending => break,
                }
            }
            if rest.is_empty() {
                return;
            }
        }
        inner.buf.borrow_mut().extend_from_slice(rest);
        if inner.pending() > inner.high.get() {
            inner.paused.set(true);
        }
        inner.ensure_flusher();
    }

    /// Queues several buffers. Python's `writer.writelines(data)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let echo = |r: spindle_async::StreamReader, w: spindle_async::StreamWriter| async move {
    ///         w.write(&r.read_to_end().await.unwrap());
    ///         w.close();
    ///     };
    ///     let server = start_server(echo, "127.0.0.1", 0).await.unwrap();
    ///     let (r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.writelines([&b"a\n"[..], b"b\n"]);
    ///     w.write_eof();
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"a\nb\n");
    /// });
    /// ```
    pub fn writelines<'a>(&self, data: impl IntoIterator<Item = &'a [u8]>) {
        for d in data {
            self.write(d);
        }
    }

    /// Waits until it is fine to write more. Python's `await writer.drain()`.
    ///
    /// # Errors
    ///
    /// The transport's error, if sending failed.
    ///
    /// # Cancel safety
    ///
    /// Safe: it only waits; the data keeps being flushed in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|r, _w| async move { let _ = r.read_to_end().await; }, "127.0.0.1", 0)
    ///         .await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.set_write_buffer_limits(1024, 256);
    ///     w.write(&[0u8; 4096]);
    ///     w.drain().await.unwrap(); // waits until at most 256 bytes are still buffered
    ///     assert!(w.write_buffer_size() <= 256);
    ///     w.close();
    ///     w.wait_closed().await.unwrap();
    /// });
    /// ```
    pub async fn drain(&self) -> io::Result<()> {
        let inner = &self.inner;
        poll_fn(|cx| {
            if let Some(e) = inner.error() {
                return Poll::Ready(Err(e));
            }
            if !inner.paused.get() {
                return Poll::Ready(Ok(()));
            }
            inner.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Sets the high- and low-water marks of the buffer. Python's
    /// `transport.set_write_buffer_limits(high, low)`; `low` is capped at `high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|r, _w| async move { let _ = r.read_to_end().await; }, "127.0.0.1", 0)
    ///         .await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.set_write_buffer_limits(64, 0);
    ///     w.write(&[1u8; 1000]);
    ///     w.drain().await.unwrap(); // low mark 0: waits until everything is sent
    ///     assert_eq!(w.write_buffer_size(), 0);
    /// });
    /// ```
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) {
        self.inner.high.set(high);
        self.inner.low.set(low.min(high));
    }

    /// Bytes buffered and not yet sent. Python's `transport.get_write_buffer_size()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|r, _w| async move { let _ = r.read_to_end().await; }, "127.0.0.1", 0)
    ///         .await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     assert_eq!(w.write_buffer_size(), 0);
    ///     w.write(b"x");
    ///     w.close();
    ///     w.wait_closed().await.unwrap();
    ///     assert_eq!(w.write_buffer_size(), 0);
    /// });
    /// ```
    pub fn write_buffer_size(&self) -> usize {
        self.inner.pending()
    }

    /// Closes the write side once the buffer is flushed. Python's `writer.write_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|r, w| async move {
    ///         let all = r.read_to_end().await.unwrap(); // ends at the client's EOF
    ///         w.write(&all);
    ///         w.close();
    ///     }, "127.0.0.1", 0).await.unwrap();
    ///     let (r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.write(b"bye");
    ///     w.write_eof();
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"bye");
    /// });
    /// ```
    pub fn write_eof(&self) {
        let inner = &self.inner;
        if inner.closing.get() {
            return;
        }
        if inner.pending() == 0 && !inner.flushing.get() {
            let _ = inner.io.shutdown(Shutdown::Write);
        } else {
            inner.eof_pending.set(true);
        }
    }

    /// Whether `write_eof` is supported (always, for sockets and pipes).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     assert!(w.can_write_eof());
    /// });
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Flushes what is buffered, then closes the stream. Python's `writer.close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, w| async move { w.write(b"done"); w.close(); }, "127.0.0.1", 0)
    ///         .await.unwrap();
    ///     let (r, _w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     // The server's close flushed "done" first, then ended the stream.
    ///     assert_eq!(r.read_to_end().await.unwrap(), b"done");
    /// });
    /// ```
    pub fn close(&self) {
        let inner = &self.inner;
        if inner.closing.replace(true) {
            return;
        }
        if inner.pending() == 0 && !inner.flushing.get() {
            let _ = inner.io.shutdown(Shutdown::Both);
            inner.closed.set(true);
            inner.wake_waiters();
        }
    }

    /// Whether `close` was called. Python's `writer.is_closing()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     assert!(!w.is_closing());
    ///     w.close();
    ///     assert!(w.is_closing());
    /// });
    /// ```
    pub fn is_closing(&self) -> bool {
        self.inner.closing.get()
    }

    /// Waits until the stream is closed. Python's `await writer.wait_closed()`.
    ///
    /// # Errors
    ///
    /// The transport's error, if the final flush failed.
    ///
    /// # Cancel safety
    ///
    /// Safe: it only waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|r, _w| async move { let _ = r.read_to_end().await; }, "127.0.0.1", 0)
    ///         .await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     w.write(b"last words");
    ///     w.close();
    ///     w.wait_closed().await.unwrap();
    ///     assert_eq!(w.write_buffer_size(), 0);
    /// });
    /// ```
    pub async fn wait_closed(&self) -> io::Result<()> {
        let inner = &self.inner;
        poll_fn(|cx| {
            if inner.closed.get() {
                return Poll::Ready(match inner.error() {
                    Some(e) => Err(e),
                    None => Ok(()),
                });
            }
            inner.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// The remote address, for TCP streams. Python's `get_extra_info("peername")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     assert_eq!(w.peer_addr(), Some(server.local_addr()));
    /// });
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.peer
    }

    /// The local address, for TCP streams. Python's `get_extra_info("sockname")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     let (_r, w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     let local = w.local_addr().unwrap();
    ///     assert!(local.ip().is_loopback());
    ///     assert_ne!(local.port(), 0);
    /// });
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("buffered", &self.inner.pending())
            .field("closing", &self.inner.closing.get())
            .field("peer", &self.inner.peer)
            .finish()
    }
}
