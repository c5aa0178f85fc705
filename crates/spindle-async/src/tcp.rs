//! TCP streams: [`open_connection`], [`start_server`] and [`Server`] (Python's
//! `asyncio.open_connection`, `asyncio.start_server`, `asyncio.Server`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::rc::Rc;

use crate::reactor::{AsyncFd, Direction};
use crate::stream_reader::{StreamReader, DEFAULT_LIMIT};
use crate::stream_writer::StreamWriter;
use crate::task::{spawn_on, Task};
use crate::{get_running_loop, sys};

fn no_loop() -> io::Error {
    io::Error::other("no running event loop")
}

/// Wraps a connected, non-blocking socket into a reader/writer pair.
fn streams(stream: TcpStream, limit: usize) -> io::Result<(StreamReader, StreamWriter)> {
    streams_from_fd(AsyncFd::new(stream)?, limit)
}

/// Same, for a socket already registered with the loop.
fn streams_from_fd(
    fd: AsyncFd<TcpStream>,
    limit: usize,
) -> io::Result<(StreamReader, StreamWriter)> {
    let lp = get_running_loop().map_err(|_| no_loop())?.inner;
    let peer = fd.get_ref().peer_addr().ok();
    let local = fd.get_ref().local_addr().ok();
    let io = Rc::new(fd);
    let reader = StreamReader::with_io(io.clone(), limit);
    let writer = StreamWriter::new(io, lp, peer, local);
    Ok((reader, writer))
}

/// Connects to `host:port` and returns the stream's reader and writer.
/// Python's `reader, writer = await asyncio.open_connection(host, port)`.
///
/// Each resolved address is tried in turn with a non-blocking connect; `TCP_NODELAY` is set
/// (as asyncio does).
///
/// # Errors
///
/// Resolution or connection failure (the last address's error); an error of kind `Other`
/// outside a running loop.
///
/// # Cancel safety
///
/// Safe: a connection not yet returned is closed when the future is dropped.
///
/// # Differences from Python
///
/// Name resolution runs inline (fine for addresses and `localhost`), not in the executor.
///
/// # Examples
///
/// ```
/// use spindle_async::{open_connection, run};
///
/// run(async {
///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
///     let port = listener.local_addr().unwrap().port();
///     let (_r, w) = open_connection("127.0.0.1", port).await.unwrap();
///     assert_eq!(w.peer_addr().unwrap().port(), port);
/// });
/// ```
pub async fn open_connection(host: &str, port: u16) -> io::Result<(StreamReader, StreamWriter)> {
    open_connection_with_limit(host, port, DEFAULT_LIMIT).await
}

/// [`open_connection`] with the reader's buffer limit. Python's `open_connection(..., limit=n)`.
///
/// # Errors
///
/// As [`open_connection`].
///
/// # Cancel safety
///
/// Safe.
///
/// # Examples
///
/// ```
/// use spindle_async::{open_connection_with_limit, run, start_server, StreamError};
///
/// run(async {
///     let s = start_server(|_r, w| async move { w.write(&[b'x'; 64]); w.write(b"\n"); }, "127.0.0.1", 0)
///         .await.unwrap();
///     let (r, _w) = open_connection_with_limit("127.0.0.1", s.local_addr().port(), 16).await.unwrap();
///     assert!(matches!(r.readline().await, Err(StreamError::LimitOverrun { .. })));
/// });
/// ```
pub async fn open_connection_with_limit(
    host: &str,
    port: u16,
    limit: usize,
) -> io::Result<(StreamReader, StreamWriter)> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for addr in (host, port).to_socket_addrs()? {
        match connect(addr).await {
            Ok(fd) => return streams_from_fd(fd, limit),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn connect(addr: SocketAddr) -> io::Result<AsyncFd<TcpStream>> {
    let (stream, connected) = sys::connect_start(addr)?;
    let fd = AsyncFd::new(stream)?;
    if connected {
        return Ok(fd);
    }
    fd.io(Direction::Write, |s| match sys::take_socket_error(s)? {
        Some(e) => Err(e),
        None => match s.peer_addr() {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                Err(io::Error::from(io::ErrorKind::WouldBlock))
            }
            Err(e) => Err(e),
        },
    })
    .await?;
    Ok(fd)
}

struct ServerInner {
    addr: SocketAddr,
    task: RefCell<Option<Task<()>>>,
}

/// A listening TCP server from [`start_server`]. Python's `asyncio.Server`.
///
/// Dropping the handle does not stop the server: its accept task runs until
/// [`close`](Server::close) or until the loop closes, as in Python.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, start_server};
///
/// run(async {
///     let s = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
///     assert!(s.is_serving());
///     assert_ne!(s.local_addr().port(), 0);
///     s.close();
///     s.wait_closed().await;
///     assert!(!s.is_serving());
/// });
/// ```
pub struct Server {
    inner: Rc<ServerInner>,
}

impl Server {
    /// The address the server listens on (with the real port when bound to port 0).
    /// Python's `server.sockets[0].getsockname()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     assert!(server.local_addr().ip().is_loopback());
    ///     assert_ne!(server.local_addr().port(), 0);
    /// });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Whether the server accepts connections. Python's `server.is_serving()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     assert!(server.is_serving());
    ///     server.close();
    ///     server.wait_closed().await;
    ///     assert!(!server.is_serving());
    /// });
    /// ```
    pub fn is_serving(&self) -> bool {
        self.inner.task.borrow().as_ref().is_some_and(|t| !t.done())
    }

    /// Stops listening; connections already accepted go on. Python's `server.close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{open_connection, run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     let port = server.local_addr().port();
    ///     server.close();
    ///     server.wait_closed().await;
    ///     assert!(open_connection("127.0.0.1", port).await.is_err()); // nobody listens now
    /// });
    /// ```
    pub fn close(&self) {
        if let Some(t) = self.inner.task.borrow().as_ref() {
            t.cancel(Some("server closed".to_owned()));
        }
    }

    /// Waits until the listening socket is closed. Python's `await server.wait_closed()`.
    ///
    /// # Cancel safety
    ///
    /// Safe: it only waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, start_server};
    ///
    /// run(async {
    ///     let server = start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap();
    ///     server.close();
    ///     server.wait_closed().await;
    ///     assert!(!server.is_serving());
    /// });
    /// ```
    pub async fn wait_closed(&self) {
        std::future::poll_fn(|cx| match &*self.inner.task.borrow() {
            Some(t) => t.poll_done(cx),
            None => std::task::Poll::Ready(()),
        })
        .await
    }

    /// Serves until the server is closed. Python's `await server.serve_forever()`.
    ///
    /// # Cancel safety
    ///
    /// Dropping it does not close the server.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use spindle_async::{open_connection, run, spawn, start_server};
    ///
    /// run(async {
    ///     let server = Rc::new(start_server(|_r, _w| async {}, "127.0.0.1", 0).await.unwrap());
    ///     let s2 = server.clone();
    ///     let serving = spawn(async move { s2.serve_forever().await });
    ///     let (r, _w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
    ///     assert!(r.read_to_end().await.unwrap().is_empty()); // the handler dropped its end
    ///     server.close();
    ///     serving.await.unwrap(); // serve_forever returns once the server is closed
    /// });
    /// ```
    pub async fn serve_forever(&self) {
        self.wait_closed().await;
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.inner.addr)
            .field("serving", &self.is_serving())
            .finish()
    }
}

/// Listens on `host:port` and runs `client_connected(reader, writer)` as a new task for each
/// connection. Python's `server = await asyncio.start_server(cb, host, port)`.
///
/// Port `0` picks a free port ([`Server::local_addr`] tells which). Accepted sockets get
/// `TCP_NODELAY`. The server starts accepting at once (Python's `start_serving=True`).
///
/// # Errors
///
/// Resolution or bind failure; an error of kind `Other` outside a running loop.
///
/// # Cancel safety
///
/// Safe.
///
/// # Examples
///
/// ```
/// use spindle_async::{open_connection, run, start_server};
///
/// run(async {
///     let server = start_server(|_r, w| async move { w.write(b"hello\n"); w.close(); }, "127.0.0.1", 0)
///         .await.unwrap();
///     let (r, _w) = open_connection("127.0.0.1", server.local_addr().port()).await.unwrap();
///     assert_eq!(r.readline().await.unwrap(), b"hello\n");
///     server.close();
///     server.wait_closed().await;
/// });
/// ```
pub async fn start_server<F, Fut>(client_connected: F, host: &str, port: u16) -> io::Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let listener = TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let lp = get_running_loop().map_err(|_| no_loop())?;
    let fd = AsyncFd::new(listener)?;
    let lp2 = lp.clone();
    let task = spawn_on(&lp.inner, Some(format!("server {addr}")), async move {
        loop {
            match fd.io(Direction::Read, |l| l.accept()).await {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    match streams(stream, DEFAULT_LIMIT) {
                        Ok((r, w)) => drop(lp2.create_task(client_connected(r, w))),
                        Err(e) => eprintln!("spindle-async: cannot register connection: {e}"),
                    }
                }
                Err(e) => {
                    // EMFILE and friends: report and go on, as asyncio does.
                    eprintln!("spindle-async: accept failed on {addr}: {e}");
                    crate::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(Server {
        inner: Rc::new(ServerInner {
            addr,
            task: RefCell::new(Some(task)),
        }),
    })
}
