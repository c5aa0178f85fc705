//! Signal dispositions of a long-lived helper process (the manager's server): ignore Ctrl-C,
//! and turn the termination signals into something a thread waits for, so the process can
//! clean up before it exits.

use super::cvt;
use std::io;

/// The signals [`block_stop_signals`] blocks and [`wait_stop_signal`] waits for.
const STOP_SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGHUP];

fn stop_set() -> libc::sigset_t {
    // SAFETY:
    // - sigemptyset/sigaddset only write the local set; the signal numbers are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in STOP_SIGNALS {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Ignores `SIGINT`, as Python's manager server does: a Ctrl-C in the terminal reaches the
/// whole process group, and the server must outlive its owner long enough to clean up.
pub(crate) fn ignore_interrupt() {
    // SAFETY:
    // - installing SIG_IGN involves no handler code and no memory of ours.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
}

/// Blocks `SIGTERM` and `SIGHUP` in the calling thread; threads it starts afterwards inherit
/// the mask, so the signals stay pending for [`wait_stop_signal`] instead of killing the
/// process at once.
pub(crate) fn block_stop_signals() -> io::Result<()> {
    let set = stop_set();
    // SAFETY:
    // - `set` is an initialised signal set; the old mask is not requested (null).
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits until `SIGTERM` or `SIGHUP` is delivered (they must be blocked, see
/// [`block_stop_signals`]) and returns its number.
pub(crate) fn wait_stop_signal() -> io::Result<i32> {
    let set = stop_set();
    loop {
        // SAFETY:
        // - `set` is an initialised signal set; `info` may be null.
        let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
        match cvt(sig) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
