//! [`State`]: where a future is in its life, and the raw state word behind it.
//!
//! `Header::state` holds one of the constants below. It only moves forward:
//! `PENDING -> RUNNING -> COMPLETING -> FINISHED`, `PENDING -> COMPLETING -> FINISHED`,
//! `PENDING -> CANCELLED -> CANCELLED_NOTIFIED`.

use std::fmt;

/// Not started; can be cancelled.
pub(super) const PENDING: u8 = 0;
/// Claimed by an executor with `set_running_or_notify_cancel`; can no longer be cancelled.
pub(super) const RUNNING: u8 = 1;
/// A setter won the right to settle and is writing the outcome (a few instructions); reported
/// as [`State::Running`], refuses other setters and `cancel`.
pub(super) const COMPLETING: u8 = 2;
/// Cancelled; the executor has not looked at it yet.
pub(super) const CANCELLED: u8 = 3;
/// Cancelled, and the executor saw it in `set_running_or_notify_cancel` (CPython's
/// `CANCELLED_AND_NOTIFIED`); reported as [`State::Cancelled`].
pub(super) const CANCELLED_NOTIFIED: u8 = 4;
/// Settled with a value or an error.
pub(super) const FINISHED: u8 = 5;

/// Where a [`Future`](crate::Future) is in its life: Python's `_state` strings.
///
/// `Pending -> Running -> Finished` for a task that runs; `Pending -> Cancelled` for one
/// cancelled in time; `Pending -> Finished` when an executor fails it without running it.
///
/// # Examples
///
/// ```
/// use spindle_futures::{Future, State};
///
/// let fut = Future::new();
/// assert_eq!(fut.state(), State::Pending);
/// assert!(fut.set_running_or_notify_cancel());
/// assert_eq!(fut.state(), State::Running);
/// fut.set_result("done").unwrap();
/// assert_eq!(fut.state(), State::Finished);
/// assert_eq!(State::Finished.to_string(), "finished");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting to run: Python's `PENDING`.
    Pending,
    /// Running now: Python's `RUNNING`.
    Running,
    /// Cancelled before it ran: Python's `CANCELLED` and `CANCELLED_AND_NOTIFIED`.
    Cancelled,
    /// Has a value or an error: Python's `FINISHED`.
    Finished,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Cancelled => "cancelled",
            Self::Finished => "finished",
        })
    }
}

pub(super) fn public_state(raw: u8) -> State {
    match raw {
        PENDING => State::Pending,
        RUNNING | COMPLETING => State::Running,
        CANCELLED | CANCELLED_NOTIFIED => State::Cancelled,
        _ => State::Finished,
    }
}

pub(super) fn is_done(raw: u8) -> bool {
    raw >= CANCELLED
}
