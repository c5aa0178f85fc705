//! Deadlines: [`timeout`], [`timeout_at`] (Python's `asyncio.timeout` scopes) and
//! [`wait_for`], failing with [`TimeoutError`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sleep::{sleep_until, Sleep};

/// The deadline passed first: Python's `TimeoutError` from `asyncio.timeout`/`wait_for`.
///
/// # Examples
///
/// ```
/// assert_eq!(spindle_async::TimeoutError.to_string(), "operation timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("operation timed out")]
pub struct TimeoutError;

/// Runs `fut` with a time limit of `delay`. Python's `async with asyncio.timeout(delay):`.
///
/// Gives `Ok(value)` if `fut` finishes first; otherwise `fut` is dropped (cancelled, in
/// Python's words) when the deadline passes and `Err(TimeoutError)` comes back. A delay too
/// large for `Instant` means no limit.
///
/// # Panics
///
/// When polled outside a running spindle loop (the deadline is a loop timer).
///
/// # Cancel safety
///
/// As cancel-safe as `fut`, which is dropped with it.
///
/// # Differences from Python
///
/// The scope is a future wrapping the body rather than an `async with` block; the body may
/// itself be an `async {}` block. Cancelling the surrounding task while it waits in here
/// cancels the task, never turns into a timeout.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_async::{run, timeout, TimeoutError};
///
/// run(async {
///     let slow = std::future::pending::<()>();
///     assert_eq!(timeout(Duration::from_millis(5), slow).await, Err(TimeoutError));
///     assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
/// });
/// ```
pub fn timeout<F: Future>(delay: Duration, fut: F) -> Timeout<F> {
    Timeout {
        fut: Some(fut),
        deadline: Instant::now().checked_add(delay),
        sleep: None,
    }
}

/// Runs `fut` until the instant `deadline`. Python's `asyncio.timeout_at(when)`.
///
/// # Panics
///
/// When polled outside a running spindle loop.
///
/// # Cancel safety
///
/// As cancel-safe as `fut`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use spindle_async::{run, timeout_at};
///
/// run(async {
///     let at = Instant::now() + Duration::from_millis(2);
///     assert!(timeout_at(at, std::future::pending::<()>()).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Timeout<F> {
    Timeout {
        fut: Some(fut),
        deadline: Some(deadline),
        sleep: None,
    }
}

/// Waits for `fut` for at most `limit` (`None`: no limit). Python's `asyncio.wait_for(fut, timeout)`.
///
/// # Errors
///
/// [`TimeoutError`] if the limit passed first; `fut` has then been dropped.
///
/// # Panics
///
/// When polled outside a running spindle loop with a limit.
///
/// # Cancel safety
///
/// As cancel-safe as `fut`.
///
/// # Differences from Python
///
/// Waiting for a [`Task`](crate::Task) drops the handle on timeout; the task itself goes on
/// unless you also [`cancel`](crate::Task::cancel) it (Python cancels it).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_async::{run, wait_for};
///
/// run(async {
///     assert_eq!(wait_for(async { 1 }, None).await, Ok(1));
///     assert!(wait_for(std::future::pending::<()>(), Some(Duration::ZERO)).await.is_err());
/// });
/// ```
pub async fn wait_for<F: Future>(
    fut: F,
    limit: Option<Duration>,
) -> Result<F::Output, TimeoutError> {
    match limit {
        None => Ok(fut.await),
        Some(d) => timeout(d, fut).await,
    }
}

/// The future of [`timeout`] and [`timeout_at`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_async::{run, timeout, Timeout};
///
/// run(async {
///     let t: Timeout<_> = timeout(Duration::from_secs(60), async { "in time" });
///     assert_eq!(t.await, Ok("in time"));
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    fut: Option<F>,
    deadline: Option<Instant>,
    sleep: Option<Sleep>,
}

impl<F> Timeout<F> {
    /// The current deadline (`None`: no limit). Python's `Timeout.when()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use spindle_async::{run, timeout, timeout_at};
    ///
    /// run(async {
    ///     let deadline = Instant::now() + Duration::from_secs(60);
    ///     assert_eq!(timeout_at(deadline, async {}).when(), Some(deadline));
    ///     assert!(timeout(Duration::from_secs(60), async {}).when().is_some());
    /// });
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline passed and the body was dropped. Python's `Timeout.expired()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{pin::pin, time::Duration};
    /// use spindle_async::{run, timeout, TimeoutError};
    ///
    /// run(async {
    ///     let mut t = pin!(timeout(Duration::ZERO, std::future::pending::<()>()));
    ///     assert!(!t.expired());
    ///     assert_eq!(t.as_mut().await, Err(TimeoutError));
    ///     assert!(t.expired());
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        self.fut.is_none()
    }

    /// Moves the deadline (`None`: no limit). Python's `Timeout.reschedule(when)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{pin::pin, time::{Duration, Instant}};
    /// use spindle_async::{run, timeout, TimeoutError};
    ///
    /// run(async {
    ///     let mut t = pin!(timeout(Duration::from_secs(3600), std::future::pending::<()>()));
    ///     t.as_mut().reschedule(Some(Instant::now()));
    ///     assert_eq!(t.as_mut().await, Err(TimeoutError));
    ///     assert!(t.expired());
    /// });
    /// ```
    pub fn reschedule(self: Pin<&mut Self>, when: Option<Instant>) {
        // SAFETY:
        // - Only the unpinned fields `deadline` and `sleep` are touched; `fut` is not moved.
        let this = unsafe { self.get_unchecked_mut() };
        this.deadline = when;
        this.sleep = None;
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY:
        // - `fut` is structurally pinned: never moved, only dropped in place by `= None`.
        // - `sleep` and `deadline` are not pinned (`Sleep` is `Unpin`).
        let this = unsafe { self.get_unchecked_mut() };
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(Err(TimeoutError));
        };
        // SAFETY: see above.
        if let Poll::Ready(v) = unsafe { Pin::new_unchecked(fut) }.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        let sleep = this.sleep.get_or_insert_with(|| sleep_until(deadline));
        if Pin::new(sleep).poll(cx).is_ready() {
            this.fut = None;
            this.sleep = None;
            return Poll::Ready(Err(TimeoutError));
        }
        Poll::Pending
    }
}
