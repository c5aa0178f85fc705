//! Non-blocking pipe I/O for the process queues: every wait is a `poll` with a deadline, never
//! a `read` or `write` that sleeps in the kernel past it.

use super::cvt;
use super::cvt_r;
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

/// One `writev` of `parts` after skipping their first `skip` bytes; returns how many bytes the
/// kernel took (`WouldBlock` if none fit in a non-blocking pipe).
pub(crate) fn writev_from(
    fd: BorrowedFd<'_>,
    parts: &[&[u8]],
    mut skip: usize,
) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; 4];
    let mut n_iov = 0;
    for part in parts.iter().take(4) {
        if skip >= part.len() {
            skip -= part.len();
            continue;
        }
        let rest = &part[skip..];
        skip = 0;
        iov[n_iov] = libc::iovec {
            iov_base: rest.as_ptr() as *mut libc::c_void,
            iov_len: rest.len(),
        };
        n_iov += 1;
    }
    if n_iov == 0 {
        return Ok(0);
    }
    let n = cvt_r(|| {
        // SAFETY:
        // - the first `n_iov` entries of `iov` describe live, readable slices of `parts`.
        unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), n_iov as i32) }
    })?;
    Ok(n as usize)
}

/// Waits until `fd` can take more bytes or `deadline` passes; returns whether it can.
///
/// `None` waits forever. Retries on `EINTR` with the time left.
pub(crate) fn poll_writable(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        // SAFETY:
        // - `pfd` is one valid pollfd that outlives the call.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            if deadline.is_some_and(|d| Instant::now() < d) {
                continue;
            }
            return Ok(false);
        }
        return Ok(true);
    }
}
