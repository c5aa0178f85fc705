//! Non-blocking pipe I/O for the process queues: every wait is a `poll` with a deadline, never
//! a `read` or `write` that sleeps in the kernel past it.

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Instant;

/// Sets `O_NONBLOCK` on the open file description behind `fd` (shared by every process that
/// holds a copy of it).
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY:
    // - `fd` is live for the borrow; F_GETFL/F_SETFL take and return int flags only.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// Bytes waiting in a pipe (`FIONREAD`).
pub(crate) fn bytes_readable(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY:
    // - `fd` is live for the borrow; FIONREAD writes one int through the valid pointer `&mut n`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) })?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Waits until `fd` can take more bytes or `deadline` passes; returns whether it can.
///
/// `None` waits forever. Retries on `EINTR` with the time left.
pub(crate) fn poll_writable(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    let mut pfd = [libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    }];
    super::fd::poll_until(&mut pfd, deadline)?;
    Ok(pfd[0].revents != 0)
}
