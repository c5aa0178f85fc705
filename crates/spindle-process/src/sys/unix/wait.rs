//! Reaping children (`waitpid` to Python's exit code), pidfds, signals, and liveness checks.

use super::cvt;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// Reaps `pid` without blocking: `Ok(None)` while it runs, `Ok(Some(code))` once it ended.
///
/// `code` is Python's `exitcode`: the exit status, or `-signal` if a signal killed it.
pub(crate) fn wait_exit(pid: u32) -> io::Result<Option<i32>> {
    let mut status = 0;
    loop {
        // SAFETY:
        // - `status` is a valid out-pointer; WNOHANG makes the call return at once.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
        if r == 0 {
            return Ok(None);
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(Some(decode_status(status)));
    }
}

fn decode_status(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        // Stopped/continued are not reported without WUNTRACED; treat defensively.
        -1
    }
}

/// A pollable descriptor that becomes readable when process `pid` ends (Linux 5.3+).
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY:
    // - pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) })?;
    // SAFETY:
    // - the syscall succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    super::set_cloexec(std::os::fd::AsFd::as_fd(&fd), true)?;
    Ok(fd)
}

/// Sends `signal` to `pid`.
pub(crate) fn send_signal(pid: u32, signal: i32) -> io::Result<()> {
    // SAFETY:
    // - kill has no memory preconditions; the caller only signals a child it has not reaped.
    cvt(unsafe { libc::kill(pid as libc::pid_t, signal) })?;
    Ok(())
}

/// Whether thread or process `id` is gone: no such task, or a zombie (dead, not yet reaped).
///
/// Reads `/proc/<id>/stat`, which also exists for thread ids. Pid reuse can make a dead owner
/// look alive again; see the lock documentation.
pub(crate) fn process_is_dead(id: u32) -> bool {
    match std::fs::read(format!("/proc/{id}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            // The state letter follows the last ')' (the command name may contain ')').
            let Some(close) = stat.iter().rposition(|&b| b == b')') else {
                return false;
            };
            matches!(stat.get(close + 2), Some(b'Z' | b'X' | b'x'))
        }
    }
}

static PID: AtomicU32 = AtomicU32::new(0);
static ATFORK: Once = Once::new();

extern "C" fn reset_pid_after_fork() {
    PID.store(0, Ordering::Relaxed);
}

/// This process's id, cached (glibc no longer caches it); the cache resets in a forked child.
#[inline]
pub(crate) fn getpid() -> u32 {
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    getpid_slow()
}

#[cold]
fn getpid_slow() -> u32 {
    ATFORK.call_once(|| {
        // SAFETY:
        // - the handler only stores to an atomic, which is async-signal-safe after fork.
        unsafe { libc::pthread_atfork(None, None, Some(reset_pid_after_fork)) };
    });
    // SAFETY:
    // - getpid has no preconditions.
    let p = unsafe { libc::getpid() } as u32;
    PID.store(p, Ordering::Relaxed);
    p
}

/// The parent's process id.
pub(crate) fn getppid() -> u32 {
    // SAFETY:
    // - getppid has no preconditions.
    unsafe { libc::getppid() as u32 }
}

thread_local! {
    static TID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// This thread's kernel id (`gettid`), unique across the system while the thread lives.
#[inline]
pub(crate) fn gettid() -> u32 {
    TID.with(|t| {
        let v = t.get();
        // A forked child's only thread has a new tid: the cached value would be the parent's,
        // so also compare the pid the cache was taken under.
        if v != 0 && TID_PID.with(|p| p.get()) == getpid() {
            return v;
        }
        // SAFETY:
        // - gettid has no preconditions.
        let v = unsafe { libc::gettid() } as u32;
        t.set(v);
        TID_PID.with(|p| p.set(getpid()));
        v
    })
}

thread_local! {
    static TID_PID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Sends `signal` through a pidfd, which cannot hit a recycled pid.
pub(crate) fn pidfd_send_signal(pidfd: std::os::fd::BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY:
    // - pidfd_send_signal takes a live pidfd, a signal number, a null siginfo and no flags.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    })?;
    Ok(())
}
