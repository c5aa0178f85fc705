//! Unix implementations of the `sys` contract (see `sys/mod.rs`).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use socket2::{Domain, Protocol, Socket, Type};

/// Turns a `-1` return into the thread's last OS error.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Starts a non-blocking connect; returns the socket and whether it is already connected.
pub(crate) fn connect_start(addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_nodelay(true)?;
    let connected = match socket.connect(&addr.into()) {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => false,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
        Err(e) => return Err(e),
    };
    Ok((socket.into(), connected))
}

/// The pending error of a socket whose connect finished (`SO_ERROR`).
pub(crate) fn take_socket_error(s: &TcpStream) -> io::Result<Option<io::Error>> {
    socket2::SockRef::from(s).take_error()
}

/// `O_NONBLOCK` on a descriptor.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY:
    // - `fd` is a valid open descriptor for the duration of the borrow.
    // - F_GETFL/F_SETFL only read and set status flags.
    unsafe {
        let flags = cvt(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
        cvt(libc::fcntl(
            fd.as_raw_fd(),
            libc::F_SETFL,
            flags | libc::O_NONBLOCK,
        ))?;
    }
    Ok(())
}

/// A pidfd for `pid` (Linux 5.3+): readable once the child exits.
#[cfg(target_os = "linux")]
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY:
    // - `pidfd_open` takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY:
    // - `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Without pidfd, child exit is detected by a helper thread (`wait_exit_blocking`).
#[cfg(not(target_os = "linux"))]
pub(crate) fn pidfd_open(_pid: u32) -> io::Result<OwnedFd> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Blocks until child `pid` has exited, leaving it to be reaped (`waitid` with `WNOWAIT`).
pub(crate) fn wait_exit_blocking(pid: u32) -> io::Result<()> {
    loop {
        // SAFETY:
        // - `info` is a properly sized, zeroed siginfo_t that the kernel fills in.
        // - WNOWAIT leaves the child waitable, so std's `Child::try_wait` reaps it later.
        let ret = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        match cvt(ret) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends signal `sig` to process `pid`.
pub(crate) fn kill(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY:
    // - `kill` takes plain integers; a stale pid at worst signals nothing or fails (ESRCH).
    cvt(unsafe { libc::kill(pid as libc::pid_t, sig) }).map(|_| ())
}
