//! Starting workers: re-executing `/proc/self/exe` (spawn) and plain `fork`.

use super::cvt;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// The argument a re-executed worker gets after `argv[0]`.
///
/// A program that forgot `init()` then fails fast on an unknown flag (libtest, clap) instead of
/// re-running its `main`.
pub(crate) const WORKER_ARG: &str = "--spindle-worker";

/// What a re-executed worker inherits.
#[derive(Debug)]
pub(crate) struct SpawnConfig<'a> {
    /// Extra environment variables.
    pub(crate) env: &'a [(&'a str, String)],
    /// Descriptors (open and close-on-exec here) the child keeps at the same numbers.
    pub(crate) keep_fds: &'a [RawFd],
    /// Signal the child gets when the spawning thread exits (`PR_SET_PDEATHSIG`).
    pub(crate) death_signal: Option<i32>,
}

/// Re-executes this program as a worker; returns the child's pid.
///
/// stdin becomes `/dev/null` (as in Python's spawn); stdout and stderr are inherited.
pub(crate) fn spawn_worker(cfg: &SpawnConfig<'_>) -> io::Result<u32> {
    let mut cmd = Command::new("/proc/self/exe");
    if let Some(arg0) = std::env::args_os().next() {
        cmd.arg0(arg0);
    }
    cmd.arg(WORKER_ARG).stdin(Stdio::null());
    for (k, v) in cfg.env {
        cmd.env(k, v);
    }
    let keep: Vec<RawFd> = cfg.keep_fds.to_vec();
    let death = cfg.death_signal;
    // SAFETY:
    // - the closure runs between fork and exec and makes only async-signal-safe system calls
    //   (fcntl, prctl) on values captured before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &keep {
                cvt(libc::fcntl(fd, libc::F_SETFD, 0))?;
            }
            if let Some(sig) = death {
                cvt(libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    sig as libc::c_ulong,
                    0,
                    0,
                    0,
                ))?;
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    // The pid is reaped by our own `waitpid`; std's `Child` neither kills nor waits on drop.
    Ok(child.id())
}

/// `fork()`: `Ok(None)` in the child, `Ok(Some(pid))` in the parent.
///
/// # Safety
///
/// Sound only while the calling process has one thread, or if the child touches nothing
/// another thread could have held locked at the fork (the allocator, stdout, ...).
pub(crate) unsafe fn fork_worker() -> io::Result<Option<u32>> {
    // SAFETY:
    // - the caller upholds the single-thread contract documented above.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 { None } else { Some(pid as u32) })
}

/// Exits at once without running `atexit` handlers or flushing stdio (`_exit`).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY:
    // - _exit has no preconditions and never returns.
    unsafe { libc::_exit(code) }
}

/// Sets `PR_SET_PDEATHSIG` for this process (used by a worker for its own children).
pub(crate) fn set_death_signal(sig: i32) -> io::Result<()> {
    // SAFETY:
    // - prctl with PR_SET_PDEATHSIG takes a signal number and no pointers.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) })?;
    Ok(())
}

/// Registers `f` to run at normal process exit (`atexit`).
pub(crate) fn at_exit(f: extern "C" fn()) {
    // SAFETY:
    // - `f` is a plain `extern "C"` function with no arguments, valid for the whole program.
    unsafe { libc::atexit(f) };
}

/// Ignores `SIGPIPE`, as Rust's `main` does, so writing to a closed pipe is an `EPIPE` error.
///
/// A worker started from `test_support!`'s constructor runs before std's runtime setup.
pub(crate) fn ignore_sigpipe() {
    // SAFETY:
    // - installing SIG_IGN for SIGPIPE involves no handler code and no memory of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
