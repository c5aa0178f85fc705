//! Futex wait/wake on a `u32` that lives in memory shared between processes.
//!
//! These use the shared (not `FUTEX_PRIVATE_FLAG`) operations, so the kernel keys the wait
//! queue on the physical page and a waiter in one process is woken by a waker in another.

use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

/// Why [`wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitResult {
    /// Woken, interrupted, or the word no longer held `expected`: re-check the state.
    Woken,
    /// The time limit passed.
    TimedOut,
}

/// Parks while `*word == expected`, for at most `timeout` (`None`: no limit).
///
/// Returns at once if the word differs. Spurious returns are possible; callers loop.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> WaitResult {
    let ts;
    let ts_ptr = match timeout {
        None => std::ptr::null(),
        Some(d) => {
            ts = libc::timespec {
                tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: d.subsec_nanos() as libc::c_long,
            };
            &ts as *const libc::timespec
        }
    };
    // SAFETY:
    // - `word` is a valid, aligned u32 for the duration of the call (a live reference).
    // - FUTEX_WAIT only reads the word and compares it; `ts_ptr` is null or a live timespec
    //   holding a relative timeout.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    if r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
        WaitResult::TimedOut
    } else {
        WaitResult::Woken
    }
}

/// Parks while `*word == expected` until `deadline` (`None`: no limit), capped at `slice`.
///
/// Returns `TimedOut` only once `deadline` itself has passed.
pub(crate) fn wait_until(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<Instant>,
    slice: Option<Duration>,
) -> WaitResult {
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    if left == Some(Duration::ZERO) {
        return WaitResult::TimedOut;
    }
    let timeout = match (left, slice) {
        (Some(l), Some(s)) => Some(l.min(s)),
        (l, s) => l.or(s),
    };
    match wait(word, expected, timeout) {
        WaitResult::TimedOut if deadline.is_some_and(|d| Instant::now() >= d) => {
            WaitResult::TimedOut
        }
        _ => WaitResult::Woken,
    }
}

/// Wakes up to `n` waiters parked on `word`; returns how many woke.
pub(crate) fn wake(word: &AtomicU32, n: u32) -> u32 {
    let n = n.min(i32::MAX as u32) as i32;
    // SAFETY:
    // - FUTEX_WAKE only uses the address as a key; `word` is a live reference so the address
    //   is valid. A stale address would give EFAULT, never memory corruption.
    let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, n) };
    if r > 0 {
        r as u32
    } else {
        0
    }
}

/// Wakes every waiter parked on `word`.
pub(crate) fn wake_all(word: &AtomicU32) -> u32 {
    wake(word, i32::MAX as u32)
}
