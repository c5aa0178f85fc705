//! File descriptors: pipes, socket pairs, `poll`, and reads/writes that retry on `EINTR`.

use super::{cvt, cvt_r};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

/// A one-way pipe `(read end, write end)`, both close-on-exec.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY:
    // - `fds` is a valid array of two ints for the kernel to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY:
    // - pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A connected pair of Unix stream sockets, both close-on-exec.
pub(crate) fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY:
    // - `fds` is a valid array of two ints for the kernel to fill.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY:
    // - socketpair succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets or clears `FD_CLOEXEC` on `fd`.
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY:
    // - `fd` is a live descriptor for the duration of the borrow; F_SETFD takes an int flag.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flag) })?;
    Ok(())
}

/// Waits until one of `fds` is readable (or hung up) or `deadline` passes; returns which are.
///
/// `None` waits forever. Retries on `EINTR` with the time left.
pub(crate) fn poll_fds(fds: &[BorrowedFd<'_>], deadline: Option<Instant>) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds.iter().map(|fd| pollin(*fd)).collect();
    poll_until(&mut pfds, deadline)?;
    Ok(pfds.iter().map(|p| p.revents != 0).collect())
}

/// [`poll_fds`] for one descriptor, without allocating: whether `fd` became readable (or hung
/// up) before `deadline`.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    let mut pfd = [pollin(fd)];
    poll_until(&mut pfd, deadline)?;
    Ok(pfd[0].revents != 0)
}

fn pollin(fd: BorrowedFd<'_>) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

/// `poll(2)` over `pfds` until one is ready or `deadline` passes, retrying on `EINTR` and on
/// an early wake-up with the time left.
pub(super) fn poll_until(pfds: &mut [libc::pollfd], deadline: Option<Instant>) -> io::Result<()> {
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so a sub-millisecond wait does not spin with timeout 0.
                let ms = left.as_micros().div_ceil(1000);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        // SAFETY:
        // - `pfds` is a valid array of `pfds.len()` pollfd structs that outlives the call.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 && deadline.is_some_and(|d| Instant::now() < d) {
            continue;
        }
        return Ok(());
    }
}

/// One `read` into `buf`, retrying on `EINTR`; `Ok(0)` means end of file.
pub(crate) fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let n = cvt_r(|| {
        // SAFETY:
        // - `buf` is valid for writes of `buf.len()` bytes; `fd` is live for the borrow.
        unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
    })?;
    Ok(n as usize)
}

/// One read of up to `max` bytes appended to `out`'s spare capacity (which the caller
/// reserved), retrying on `EINTR`; returns how many arrived, `Ok(0)` at end of file.
///
/// With `nowait` (sockets only) it is a `recv(MSG_DONTWAIT)`, failing with `WouldBlock`
/// instead of blocking, so a receiver with a deadline never sleeps in the kernel past it; a
/// pipe has no per-call non-blocking flag (`O_NONBLOCK` would change every process sharing
/// the pipe), so its callers poll first.
pub(crate) fn read_append(
    fd: BorrowedFd<'_>,
    out: &mut Vec<u8>,
    max: usize,
    nowait: bool,
) -> io::Result<usize> {
    let spare = out.spare_capacity_mut();
    let want = spare.len().min(max);
    debug_assert!(want > 0, "a read of 0 bytes would look like end of file");
    let ptr = spare.as_mut_ptr().cast::<libc::c_void>();
    let n = cvt_r(|| {
        if nowait {
            // SAFETY:
            // - `ptr` is valid for writes of `want` bytes (spare capacity of `out`); recv
            //   only writes, so the bytes need not be initialised; `fd` is live for the borrow.
            unsafe { libc::recv(fd.as_raw_fd(), ptr, want, libc::MSG_DONTWAIT) }
        } else {
            // SAFETY:
            // - as above, with read.
            unsafe { libc::read(fd.as_raw_fd(), ptr, want) }
        }
    })? as usize;
    // SAFETY:
    // - the kernel initialised the first `n <= want` bytes of the spare capacity.
    unsafe { out.set_len(out.len() + n) };
    Ok(n)
}

/// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends first.
pub(crate) fn read_exact_fd(fd: BorrowedFd<'_>, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match read_some(fd, buf)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

/// Writes every byte of `parts` in order, with as few system calls as the kernel allows.
///
/// Sockets use `sendmsg(MSG_NOSIGNAL)` so a closed peer gives `EPIPE`, never `SIGPIPE`.
pub(crate) fn write_all_vectored(
    fd: BorrowedFd<'_>,
    socket: bool,
    parts: &[&[u8]],
) -> io::Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut done = 0;
    while done < total {
        done += write_vectored_from(fd, socket, parts, done)?;
    }
    Ok(())
}

/// One `writev` (`sendmsg(MSG_NOSIGNAL)` for a socket) of `parts` after their first `skip`
/// bytes, at most four parts at a time; returns how many bytes the kernel took
/// (`WouldBlock` if none fit in a non-blocking descriptor). Retries on `EINTR`.
pub(crate) fn write_vectored_from(
    fd: BorrowedFd<'_>,
    socket: bool,
    parts: &[&[u8]],
    mut skip: usize,
) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; 4];
    let mut n_iov = 0;
    for part in parts {
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
        if n_iov == iov.len() {
            break;
        }
    }
    if n_iov == 0 {
        return Ok(0);
    }
    let n = cvt_r(|| {
        if socket {
            // SAFETY:
            // - `msg` points at `iov`, whose first `n_iov` entries describe live slices.
            // - sendmsg only reads those buffers; no control data is passed.
            unsafe {
                let mut msg: libc::msghdr = std::mem::zeroed();
                msg.msg_iov = iov.as_mut_ptr();
                msg.msg_iovlen = n_iov as _;
                libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL)
            }
        } else {
            // SAFETY:
            // - the first `n_iov` entries of `iov` describe live, readable slices.
            unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), n_iov as i32) }
        }
    })?;
    Ok(n as usize)
}

/// Asks for a pipe buffer of `size` bytes (`F_SETPIPE_SZ`); best effort, the kernel may cap it.
pub(crate) fn set_pipe_size(fd: BorrowedFd<'_>, size: usize) {
    // SAFETY:
    // - `fd` is live for the borrow; F_SETPIPE_SZ takes an int and touches no memory of ours.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size as libc::c_int) };
}

/// Most descriptors one `SCM_RIGHTS` message carries (Linux's `SCM_MAX_FD`).
pub(crate) const MAX_PASSED_FDS: usize = 253;

/// Sends `data` (at least one byte) with `fds` attached as `SCM_RIGHTS`, in one `sendmsg`.
pub(crate) fn send_with_fds(sock: BorrowedFd<'_>, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    if data.is_empty() || fds.len() > MAX_PASSED_FDS {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let payload = std::mem::size_of_val(fds) as u32;
    // SAFETY:
    // - CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
    let mut control = vec![0u8; space.max(1)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY:
    // - msghdr is a plain C struct; all-zero is its "empty" value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY:
        // - `msg` points at `control`, which has room for one header plus `fds` (CMSG_SPACE);
        //   CMSG_FIRSTHDR is therefore non-null and CMSG_DATA stays inside `control`.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr(),
                libc::CMSG_DATA(cmsg).cast::<RawFd>(),
                fds.len(),
            );
        }
    }
    let n = cvt_r(|| {
        // SAFETY:
        // - `msg` describes `iov` (over `data`) and `control`, all alive for the call.
        unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) }
    })? as usize;
    if n < data.len() {
        // The descriptors went with the first byte; the rest is ordinary data.
        write_all_vectored(sock, true, &[&data[n..]])?;
    }
    Ok(())
}

/// Receives exactly `data.len()` bytes, the first `recvmsg` also taking up to `max_fds`
/// descriptors (close-on-exec). `UnexpectedEof` if the stream ends first.
pub(crate) fn recv_with_fds(
    sock: BorrowedFd<'_>,
    data: &mut [u8],
    max_fds: usize,
) -> io::Result<Vec<OwnedFd>> {
    let max_fds = max_fds.min(MAX_PASSED_FDS);
    // SAFETY:
    // - CMSG_SPACE only computes a size.
    let space =
        unsafe { libc::CMSG_SPACE((max_fds * std::mem::size_of::<RawFd>()) as u32) } as usize;
    let mut control = vec![0u8; space.max(1)];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY:
    // - msghdr is a plain C struct; all-zero is its "empty" value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    let n = cvt_r(|| {
        // SAFETY:
        // - `msg` describes `iov` (over `data`) and `control`, both writable and alive.
        unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) }
    })? as usize;
    let mut fds = Vec::new();
    // SAFETY:
    // - the kernel filled `control` up to `msg_controllen`; CMSG_FIRSTHDR/CMSG_NXTHDR walk
    //   only inside it, and each SCM_RIGHTS payload holds `(len - CMSG_LEN(0)) / 4` fresh
    //   descriptors that now belong to us.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let p = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(p.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "too many descriptors passed",
        ));
    }
    if n == 0 && !data.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    read_exact_fd(sock, &mut data[n..])?;
    Ok(fds)
}

/// Closes `fd` (for descriptors owned through a raw number, such as a forked child's copies).
pub(crate) fn close_raw(fd: RawFd) {
    // SAFETY:
    // - the caller owns `fd` in this process and never uses the number again.
    unsafe { libc::close(fd) };
}
