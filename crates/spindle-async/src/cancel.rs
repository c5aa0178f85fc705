//! [`catch_cancelled`]: Python's `try: await x / except CancelledError:` for a Rust future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::fmt;

use crate::task::with_current_core;

/// A task was cancelled: Python's `asyncio.CancelledError`, with its optional message.
///
/// # Examples
///
/// ```
/// use spindle_async::Cancelled;
///
/// assert_eq!(Cancelled::new(Some("bye".into())).to_string(), "task cancelled: bye");
/// assert_eq!(Cancelled::new(None).message(), None);
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("task cancelled{}", .msg.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
pub struct Cancelled {
    msg: Option<String>,
}

impl Cancelled {
    /// A cancellation with the message given to `cancel(msg)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{Cancelled, TaskError};
    ///
    /// let e: TaskError = Cancelled::new(Some("shutdown".into())).into();
    /// assert!(e.is_cancelled());
    /// ```
    pub fn new(msg: Option<String>) -> Cancelled {
        Cancelled { msg }
    }

    /// The message given to `cancel(msg)`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{catch_cancelled, run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(catch_cancelled(std::future::pending::<()>()));
    ///     yield_now().await;
    ///     t.cancel(Some("stop".into()));
    ///     let caught = t.await.unwrap().unwrap_err();
    ///     assert_eq!(caught.message(), Some("stop"));
    /// });
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.msg.as_deref()
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cancelled").field(&self.msg).finish()
    }
}

/// Awaits `fut`, but if the current task is cancelled while it waits, returns
/// `Err(Cancelled)` instead of letting the task be dropped.
///
/// Python's
/// ```text
/// try:
///     v = await fut
/// except asyncio.CancelledError:
///     ...cleanup, possibly awaiting...
/// ```
/// A cancellation requested while the task is suspended in this wrapper is delivered here,
/// once (the request is consumed, as catching `CancelledError` consumes it): `fut` is dropped
/// and the task goes on. To end as cancelled after the cleanup, return from the task; with
/// nested wrappers the innermost one that is waiting receives it. Outside a task (for
/// example under another runtime) it simply awaits `fut`.
///
/// # Cancel safety
///
/// As cancel-safe as `fut`, which is dropped when this is.
///
/// # Differences from Python
///
/// Without this wrapper a cancelled task is dropped at its await point (its `Drop` cleanup
/// runs) rather than seeing an exception: Rust cannot inject an error into a future.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use spindle_async::{catch_cancelled, run, spawn, yield_now, Event};
///
/// run(async {
///     let cleaned = Rc::new(Cell::new(false));
///     let c = cleaned.clone();
///     let never = std::sync::Arc::new(Event::new());
///     let t = spawn(async move {
///         match catch_cancelled(never.wait()).await {
///             Ok(()) => "set",
///             Err(_cancelled) => {
///                 yield_now().await; // async cleanup is allowed here
///                 c.set(true);
///                 "cleaned up"
///             }
///         }
///     });
///     yield_now().await;
///     t.cancel(None);
///     assert_eq!(t.await.unwrap(), "cleaned up");
///     assert!(cleaned.get());
/// });
/// ```
pub fn catch_cancelled<F: Future>(fut: F) -> CatchCancelled<F> {
    CatchCancelled {
        fut: Some(fut),
        registered: false,
    }
}

/// The future of [`catch_cancelled`].
///
/// # Examples
///
/// ```
/// use spindle_async::{catch_cancelled, run, CatchCancelled};
///
/// run(async {
///     let fut: CatchCancelled<_> = catch_cancelled(async { 5 });
///     assert_eq!(fut.await, Ok(5)); // not cancelled: the value comes through
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct CatchCancelled<F> {
    fut: Option<F>,
    /// Whether this wrapper counts itself in the current task's `catchers`.
    registered: bool,
}

impl<F> CatchCancelled<F> {
    fn unregister(&mut self) {
        if std::mem::take(&mut self.registered) {
            with_current_core(|core| {
                if let Some(core) = core {
                    core.catchers.set(core.catchers.get().saturating_sub(1));
                }
            });
        }
    }
}

impl<F: Future> Future for CatchCancelled<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY:
        // - `fut` is structurally pinned: it is never moved out, only dropped in place.
        // - `registered` is a plain bool that is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(Err(Cancelled::new(None)));
        };
        // SAFETY: see above; `fut` stays in place inside the pinned `this`.
        let fut = unsafe { Pin::new_unchecked(fut) };
        if let Poll::Ready(v) = fut.poll(cx) {
            this.fut = None;
            this.unregister();
            return Poll::Ready(Ok(v));
        }
        let delivered = with_current_core(|core| {
            let core = core?;
            if let Some(c) = core.take_cancel() {
                return Some(c);
            }
            if !this.registered {
                this.registered = true;
                core.catchers.set(core.catchers.get() + 1);
            }
            None
        });
        match delivered {
            Some(c) => {
                this.fut = None;
                this.unregister();
                Poll::Ready(Err(c))
            }
            None => Poll::Pending,
        }
    }
}

impl<F> Drop for CatchCancelled<F> {
    fn drop(&mut self) {
        self.unregister();
    }
}
