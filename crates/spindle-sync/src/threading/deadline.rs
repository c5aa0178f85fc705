//! Timeouts become deadlines once, at entry (STYLE 5.2).

use std::time::{Duration, Instant};

/// The instant `timeout` from now, or `None` ("no deadline") when it does not fit in an
/// `Instant`, so huge timeouts wait forever instead of panicking.
#[inline]
pub(crate) fn after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// [`after`] for an optional timeout: `None` means wait forever.
#[inline]
pub(crate) fn after_opt(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(after)
}

/// Whether `deadline` has passed (never, for `None`).
#[inline]
pub(crate) fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}
