//! Timeouts become deadlines once, at entry (STYLE 5.2).

use std::time::{Duration, Instant};

/// The instant `timeout` from now; `None` (wait forever) when it does not fit in an `Instant`.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// `None` for no timeout, else the deadline (or `None` again when the timeout is too large).
pub(crate) fn deadline_from(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(deadline_after)
}
