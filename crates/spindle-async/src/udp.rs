//! UDP: [`UdpSocket`] and [`create_datagram_endpoint`] (Python's
//! `loop.create_datagram_endpoint`), as async send/receive calls instead of a protocol.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::reactor::{AsyncFd, Direction};

/// A UDP socket registered with the running loop.
///
/// Python's datagram transport + protocol pair, spelled the Rust way: instead of a
/// `datagram_received` callback, a task awaits [`recv_from`](UdpSocket::recv_from).
///
/// # Examples
///
/// ```
/// use spindle_async::{run, UdpSocket};
///
/// run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    fd: AsyncFd<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port) and registers it with the loop.
    ///
    /// # Errors
    ///
    /// Bind failure; an error of kind `Other` outside a running loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     assert_ne!(s.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let s = std::net::UdpSocket::bind(addr)?;
        s.set_nonblocking(true)?;
        Ok(UdpSocket {
            fd: AsyncFd::new(s)?,
        })
    }

    /// Sets the default peer, for [`send`](UdpSocket::send)/[`recv`](UdpSocket::recv).
    ///
    /// # Errors
    ///
    /// Resolution or connect failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     a.connect(b.local_addr().unwrap()).unwrap();
    ///     b.connect(a.local_addr().unwrap()).unwrap();
    ///     a.send(b"one").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.fd.get_ref().connect(addr)
    }

    /// Sends one datagram to `target`. Python's `transport.sendto(data, addr)`.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a datagram is sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    ///     assert_eq!(a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap(), 4);
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 4);
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.fd
            .io(Direction::Write, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram and its sender. Python's `datagram_received(data, addr)`.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom` (for example `ConnectionRefused` after an ICMP error).
    ///
    /// # Cancel safety
    ///
    /// Safe: a datagram is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    ///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.fd.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `send` (`NotConnected` without [`connect`](UdpSocket::connect)).
    ///
    /// # Cancel safety
    ///
    /// Safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    ///     a.connect(b.local_addr().unwrap()).unwrap();
    ///     assert_eq!(a.send(b"hey").await.unwrap(), 3);
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap(), (3, a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.fd.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    ///
    /// # Cancel safety
    ///
    /// Safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    ///     b.connect(a.local_addr().unwrap()).unwrap();
    ///     a.send_to(b"yo", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    ///     assert_eq!(&buf[..2], b"yo");
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// The local address. Python's `get_extra_info("sockname")`.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     assert!(s.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.get_ref().local_addr()
    }

    /// The connected peer. Python's `get_extra_info("peername")`.
    ///
    /// # Errors
    ///
    /// `NotConnected` without [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, UdpSocket};
    ///
    /// run(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    ///     assert!(a.peer_addr().is_err()); // not connected yet
    ///     a.connect(b.local_addr().unwrap()).unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

/// Creates a UDP endpoint bound to `local` (or an ephemeral port on the remote's family) and,
/// with `remote`, connected to it. Python's
/// `await loop.create_datagram_endpoint(factory, local_addr=..., remote_addr=...)`.
///
/// # Errors
///
/// Bind, resolution or connect failure; `InvalidInput` when both addresses are `None`.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_datagram_endpoint, run};
///
/// run(async {
///     let server = create_datagram_endpoint(Some("127.0.0.1:0"), None).unwrap();
///     let addr = server.local_addr().unwrap().to_string();
///     let client = create_datagram_endpoint(None, Some(addr.as_str())).unwrap();
///     client.send(b"ping").await.unwrap();
///     let mut buf = [0u8; 8];
///     let (n, _) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub fn create_datagram_endpoint(
    local: Option<&str>,
    remote: Option<&str>,
) -> io::Result<UdpSocket> {
    let remote_addr = match remote {
        Some(r) => Some(
            r.to_socket_addrs()?
                .next()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no remote address"))?,
        ),
        None => None,
    };
    let sock = match (local, remote_addr) {
        (Some(l), _) => UdpSocket::bind(l)?,
        (None, Some(r)) if r.is_ipv4() => UdpSocket::bind("0.0.0.0:0")?,
        (None, Some(_)) => UdpSocket::bind("[::]:0")?,
        (None, None) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "local or remote address must be given",
            ))
        }
    };
    if let Some(r) = remote_addr {
        sock.connect(r)?;
    }
    Ok(sock)
}
