//! [`shield`]: Python's `asyncio.shield`, protecting a coroutine from its awaiter's cancellation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{spawn, Task, TaskError};

/// Runs `fut` as its own task, so cancelling (dropping) the awaiter does not cancel it.
///
/// Python's `await asyncio.shield(aw)`: if the task awaiting the shield is cancelled, it
/// stops waiting but `fut` runs on to its end. [`Shield::task`] gives the inner task.
///
/// # Panics
///
/// If no loop runs on this thread.
///
/// # Cancel safety
///
/// Safe, by design: dropping the shield leaves the inner task running.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use spindle_async::{run, shield, spawn, yield_now};
///
/// run(async {
///     let finished = Rc::new(Cell::new(false));
///     let f = finished.clone();
///     let outer = spawn(async move {
///         shield(async move { yield_now().await; f.set(true) }).await
///     });
///     yield_now().await;
///     outer.cancel(None);
///     assert!(outer.await.unwrap_err().is_cancelled());
///     yield_now().await;
///     yield_now().await;
///     assert!(finished.get()); // the shielded work went on
/// });
/// ```
pub fn shield<F>(fut: F) -> Shield<F::Output>
where
    F: Future + 'static,
{
    Shield { task: spawn(fut) }
}

/// The future of [`shield`]; resolves to the inner task's result.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, shield, Shield};
///
/// run(async {
///     let s: Shield<i32> = shield(async { 9 });
///     assert_eq!(s.await, Ok(9));
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T: 'static> Shield<T> {
    /// The inner task, which outlives the shield.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, shield};
    ///
    /// run(async {
    ///     let s = shield(async { 1 });
    ///     let inner = s.task().handle();
    ///     drop(s); // dropping the shield leaves the inner task running
    ///     assert!(!inner.cancelled());
    /// });
    /// ```
    pub fn task(&self) -> &Task<T> {
        &self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}
