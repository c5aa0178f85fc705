//! Tasks: [`Task`] (Python's `asyncio.Task`), [`spawn`]/[`create_task`], [`current_task`],
//! [`all_tasks`]. The waker and state behind a task live in `task_cell.rs`.
//!
//! Cancellation (see [`catch_cancelled`](crate::catch_cancelled)): `cancel()` flags the task
//! and wakes it. At its next poll, which is its next await point, the loop drops the future in
//! place, so its `Drop` cleanup runs there, and the task ends as cancelled, unless the task is
//! suspended inside `catch_cancelled(..)`: then that await returns `Err(Cancelled)` instead
//! and the task goes on, as a Python `except CancelledError:` block would.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::scheduler::with_current;
use crate::task_cell::JoinTarget;
pub(crate) use crate::task_cell::{spawn_on, Runnable, TaskCore};
pub(crate) use crate::task_error::{panic_message, Outcome, TaskError};
pub(crate) use crate::task_ref::TaskRef;
use crate::EventLoop;

/// A running coroutine: Python's `asyncio.Task`, from [`spawn`] / [`create_task`].
///
/// The task runs on its loop whether or not anyone awaits it. Awaiting the `Task` gives
/// `Ok(value)`, or [`TaskError::Cancelled`] / [`TaskError::Panicked`]. Dropping the handle
/// detaches the task; it keeps running.
///
/// # Differences from Python
///
/// - A task is awaited once: the value moves out to the awaiter. [`result`](Task::result)
///   clones it for `T: Clone` before that.
/// - Cancellation cannot throw into the future: see [`Task::cancel`].
/// - A panic inside a task is its exception: it fails only that task.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, spawn};
///
/// let sum = run(async {
///     let a = spawn(async { 20 });
///     let b = spawn(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 42);
/// ```
pub struct Task<T> {
    cell: Rc<dyn JoinTarget<T>>,
}

impl<T: 'static> Task<T> {
    pub(crate) fn from_cell(cell: Rc<dyn JoinTarget<T>>) -> Task<T> {
        Task { cell }
    }

    /// Requests cancellation; returns `false` if the task is already done.
    ///
    /// Python's `task.cancel(msg=None)`. The task is woken; at its next poll (its current or
    /// next await point) the loop drops its future in place, running its `Drop` cleanup, and
    /// the task ends with [`TaskError::Cancelled`] carrying `msg`. A task suspended inside
    /// [`catch_cancelled`](crate::catch_cancelled) instead sees `Err(Cancelled)` from that
    /// await and may clean up asynchronously and go on. A task never started is never polled.
    ///
    /// # Differences from Python
    ///
    /// Python throws `CancelledError` into the coroutine at its await point. Rust cannot inject
    /// an error into a future, so by default the future is dropped there, and the
    /// `except CancelledError:` of Python is spelled `catch_cancelled(fut).await`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::pending;
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(pending::<()>());
    ///     yield_now().await;
    ///     assert!(t.cancel(Some("stop".into())));
    ///     let err = t.await.unwrap_err();
    ///     assert!(err.is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self, msg: Option<String>) -> bool {
        self.cell.core().cancel(msg)
    }

    /// Whether the task ended by cancellation. Python's `task.cancelled()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     yield_now().await;
    ///     t.cancel(None);
    ///     yield_now().await; // the task's next step ends it
    ///     assert!(t.cancelled() && t.done());
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cell.core().is_cancelled()
    }

    /// Whether the task has ended (value, cancellation or panic). Python's `task.done()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(async {});
    ///     assert!(!t.done() && !t.cancelled());
    ///     yield_now().await;
    ///     assert!(t.done());
    /// });
    /// ```
    pub fn done(&self) -> bool {
        self.cell.core().is_done()
    }

    /// How many times cancellation was requested. Python's `task.cancelling()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     yield_now().await;
    ///     assert_eq!(t.cancelling(), 0);
    ///     t.cancel(None);
    ///     assert_eq!(t.cancelling(), 1);
    ///     assert!(t.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.cell.core().num_cancels.get()
    }

    /// The task's name: the one given to [`create_task_named`] or `Task-<n>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn};
    ///
    /// run(async {
    ///     let t = spawn(async {});
    ///     assert!(t.name().starts_with("Task-"));
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn name(&self) -> String {
        self.cell.core().name()
    }

    /// Renames the task. Python's `task.set_name()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn};
    ///
    /// run(async {
    ///     let t = spawn(async {});
    ///     t.set_name("renamed");
    ///     assert_eq!(t.name(), "renamed");
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        self.cell.core().set_name(name.into());
    }

    /// The outcome so far: `None` while running (Python's `InvalidStateError`) or after the
    /// value was awaited; otherwise a clone of the result.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(async { 2 });
    ///     assert_eq!(t.result(), None); // still pending
    ///     yield_now().await;
    ///     assert_eq!(t.result(), Some(Ok(2)));
    /// });
    /// ```
    pub fn result(&self) -> Option<Result<T, TaskError>>
    where
        T: Clone,
    {
        let mut out = None;
        self.cell.peek(&mut |r| out = Some(r.clone()));
        out
    }

    /// The error the task ended with, if it has ended with one. Python's `task.exception()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now, TaskError};
    ///
    /// run(async {
    ///     let t = spawn(async { panic!("bad") });
    ///     yield_now().await;
    ///     assert_eq!(t.exception(), Some(TaskError::Panicked("bad".into())));
    /// });
    /// ```
    pub fn exception(&self) -> Option<TaskError> {
        let mut out = None;
        self.cell.peek(&mut |r| out = r.as_ref().err().cloned());
        out
    }

    /// Runs `f(outcome)` once the task is done, through `call_soon` on the running loop
    /// (at once if no loop runs). If it is already done, `f` is scheduled now.
    ///
    /// Python's `task.add_done_callback(fn)`; `f` receives the [`Outcome`] instead of the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use spindle_async::{run, spawn, yield_now, Outcome};
    ///
    /// run(async {
    ///     let seen = Rc::new(Cell::new(None));
    ///     let s = seen.clone();
    ///     let t = spawn(async {});
    ///     t.add_done_callback(move |o| s.set(Some(o)));
    ///     t.await.unwrap();
    ///     yield_now().await; // callbacks run through call_soon
    ///     assert_eq!(seen.get(), Some(Outcome::Finished));
    /// });
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(Outcome) + 'static) {
        self.cell.core().add_done_callback(Box::new(f));
    }

    /// A non-generic handle to the same task.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{all_tasks, run, spawn};
    ///
    /// run(async {
    ///     let t = spawn(async {});
    ///     let r = t.handle();
    ///     assert!(all_tasks().contains(&r));
    ///     t.await.unwrap();
    ///     assert!(r.done());
    /// });
    /// ```
    pub fn handle(&self) -> TaskRef {
        TaskRef {
            cell: self.cell.clone().runnable(),
        }
    }

    /// Polls for completion without taking the value (for `wait`, `as_completed`).
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.cell.poll_done(cx)
    }

    #[cfg(test)]
    pub(crate) fn as_runnable(&self) -> Rc<dyn Runnable> {
        self.cell.clone().runnable()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.cell.poll_output(cx)
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.cell.core();
        f.debug_struct("Task")
            .field("name", &core.name())
            .field("outcome", &core.outcome.get())
            .finish()
    }
}

fn running() -> EventLoop {
    match crate::get_running_loop() {
        Ok(lp) => lp,
        Err(_) => panic!("no running event loop"),
    }
}

/// Starts `fut` as a task on the running loop. Python's `asyncio.create_task(coro)`.
///
/// # Panics
///
/// If no loop runs on this thread (Python raises `RuntimeError: no running event loop`).
///
/// # Examples
///
/// ```
/// use spindle_async::{run, spawn};
///
/// assert_eq!(run(async { spawn(async { 7 }).await.unwrap() }), 7);
/// ```
pub fn spawn<F>(fut: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    spawn_on(&running().inner, None, fut)
}

/// Same as [`spawn`], under Python's name.
///
/// # Panics
///
/// If no loop runs on this thread.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_task, run};
///
/// assert_eq!(run(async { create_task(async { 7 }).await.unwrap() }), 7);
/// ```
pub fn create_task<F>(fut: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    spawn(fut)
}

/// Starts a named task on the running loop. Python's `asyncio.create_task(coro, name=...)`.
///
/// # Panics
///
/// If no loop runs on this thread.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_task_named, run};
///
/// run(async {
///     let t = create_task_named("fetcher", async {});
///     assert_eq!(t.name(), "fetcher");
///     t.await.unwrap();
/// });
/// ```
pub fn create_task_named<F>(name: impl Into<String>, fut: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    spawn_on(&running().inner, Some(name.into()), fut)
}

/// The task being polled on this thread's running loop. Python's `asyncio.current_task()`.
///
/// `None` outside a task (or outside a loop).
///
/// # Examples
///
/// ```
/// use spindle_async::{current_task, run};
///
/// assert!(current_task().is_none());
/// run(async { assert!(current_task().is_some()) });
/// ```
pub fn current_task() -> Option<TaskRef> {
    with_current(|lp| {
        let lp = lp?;
        let key = lp.current_task.get();
        let tasks = lp.tasks.borrow();
        tasks.get(key).map(|cell| TaskRef { cell: cell.clone() })
    })
}

/// Calls `f` with the core of the current task, if there is one (no allocation).
pub(crate) fn with_current_core<R>(f: impl FnOnce(Option<&TaskCore>) -> R) -> R {
    let cell = with_current(|lp| {
        let lp = lp?;
        let tasks = lp.tasks.borrow();
        tasks.get(lp.current_task.get()).cloned()
    });
    f(cell.as_ref().map(|c| c.core()))
}

/// Every unfinished task of the running loop. Python's `asyncio.all_tasks()`.
///
/// Empty outside a loop.
///
/// # Examples
///
/// ```
/// use spindle_async::{all_tasks, run, spawn};
///
/// run(async {
///     let t = spawn(std::future::pending::<()>());
///     assert_eq!(all_tasks().len(), 2); // this one and `t`
///     t.cancel(None);
/// });
/// ```
pub fn all_tasks() -> Vec<TaskRef> {
    with_current(|lp| match lp {
        Some(lp) => lp
            .tasks
            .borrow()
            .iter()
            .filter(|c| !c.core().is_done())
            .map(|c| TaskRef { cell: c.clone() })
            .collect(),
        None => Vec::new(),
    })
}
