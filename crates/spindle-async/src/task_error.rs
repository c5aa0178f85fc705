//! [`TaskError`] and [`Outcome`]: how a task ended when it has no value.

use crate::cancel::Cancelled;

/// Why a task has no value: it was cancelled or it panicked.
///
/// Python raises `CancelledError` or the task's exception from `await task`.
///
/// # Examples
///
/// ```
/// use spindle_async::{EventLoop, TaskError};
///
/// let lp = EventLoop::new().unwrap();
/// let out = lp.run_until_complete(async {
///     let t = spindle_async::spawn(async { panic!("boom") });
///     t.await
/// }).unwrap();
/// assert_eq!(out.unwrap_err(), TaskError::Panicked("boom".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task was cancelled before it finished.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
    /// The task's future panicked; the panic message is inside.
    #[error("task panicked: {0}")]
    Panicked(String),
}

impl TaskError {
    /// Whether this is [`TaskError::Cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{Cancelled, TaskError};
    ///
    /// assert!(TaskError::Cancelled(Cancelled::new(None)).is_cancelled());
    /// assert!(!TaskError::Panicked("boom".into()).is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled(_))
    }
}

/// How a finished task ended, as passed to [`Task::add_done_callback`](crate::Task::add_done_callback).
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use spindle_async::{run, spawn, yield_now, Outcome};
///
/// run(async {
///     let o = Rc::new(Cell::new(None));
///     let o2 = o.clone();
///     let t = spawn(std::future::pending::<()>());
///     t.add_done_callback(move |x| o2.set(Some(x)));
///     t.cancel(None);
///     let _ = t.await;
///     yield_now().await;
///     assert_eq!(o.get(), Some(Outcome::Cancelled));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The future returned a value.
    Finished,
    /// The task was cancelled.
    Cancelled,
    /// The future panicked.
    Panicked,
}

/// Extracts the message of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}
