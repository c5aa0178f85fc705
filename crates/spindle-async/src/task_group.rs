//! [`TaskGroup`]: Python 3.11's `asyncio.TaskGroup`, structured concurrency with error
//! aggregation ([`TaskGroupError`], Python's `ExceptionGroup`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::task::{panic_message, spawn, Task, TaskRef};

/// Why one task of a group failed.
///
/// # Examples
///
/// ```
/// use spindle_async::TaskFailure;
///
/// let f: TaskFailure<String> = TaskFailure::Failed("disk full".to_string());
/// assert_eq!(f.to_string(), "disk full");
/// let p: TaskFailure<String> = TaskFailure::Panicked("boom".to_string());
/// assert_eq!(p.to_string(), "panicked: boom");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum TaskFailure<E> {
    /// The task returned `Err(e)`.
    Failed(E),
    /// The task panicked; the message is inside.
    Panicked(String),
}

impl<E: fmt::Debug> fmt::Debug for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            TaskFailure::Panicked(m) => f.debug_tuple("Panicked").field(m).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Failed(e) => write!(f, "{e}"),
            TaskFailure::Panicked(m) => write!(f, "panicked: {m}"),
        }
    }
}

/// Every failure of a [`TaskGroup`], in the order they happened: Python's `ExceptionGroup`.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, TaskFailure, TaskGroup};
///
/// run(async {
///     let tg = TaskGroup::new();
///     tg.create_task(async { Err::<(), _>("bad input") });
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.errors, [TaskFailure::Failed("bad input")]);
///     assert_eq!(err.to_string(), "unhandled errors in a task group (1 sub-error); bad input");
/// });
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TaskGroupError<E> {
    /// The failures, first one first.
    pub errors: Vec<TaskFailure<E>>,
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("errors", &self.errors)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unhandled errors in a task group ({} sub-error",
            self.errors.len()
        )?;
        if self.errors.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for e in &self.errors {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

struct GroupInner<E> {
    tasks: RefCell<Vec<TaskRef>>,
    errors: RefCell<Vec<TaskFailure<E>>>,
    running: Cell<usize>,
    failed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl<E: 'static> GroupInner<E> {
    /// Records a failure; the first one cancels the other tasks from a `call_soon` callback,
    /// as Python's done callback does, so tasks already ready this iteration run their step.
    fn fail(self: &Rc<Self>, failure: TaskFailure<E>) {
        self.errors.borrow_mut().push(failure);
        if !self.failed.replace(true) {
            let group = Rc::downgrade(self);
            let cancel_all = move || {
                if let Some(g) = group.upgrade() {
                    let tasks = g.tasks.borrow().clone();
                    for t in tasks {
                        t.cancel(Some("task group failed".to_owned()));
                    }
                }
            };
            match crate::get_running_loop() {
                Ok(lp) => {
                    lp.call_soon(cancel_all);
                }
                Err(_) => cancel_all(),
            }
        }
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// A group of tasks that succeed or fail together. Python's `async with asyncio.TaskGroup() as tg:`.
///
/// Tasks return `Result<T, E>`. The first task to fail (an `Err`, or a panic) cancels all the
/// others; [`join`](TaskGroup::join) waits for every task and reports all failures together in
/// a [`TaskGroupError`]. Dropping the group cancels the tasks still running, so a parent task
/// that is cancelled while it awaits `join` takes its children with it.
///
/// # Differences from Python
///
/// The `async with` block is spelled `let tg = TaskGroup::new(); ...; tg.join().await`. A
/// failure cancels the sibling tasks but not the parent's own code before `join`.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, TaskGroup, TaskFailure};
///
/// run(async {
///     let tg = TaskGroup::new();
///     let a = tg.create_task(async { Ok::<_, String>(1) });
///     tg.create_task(async { Err::<i32, _>("disk full".to_string()) });
///     tg.create_task(std::future::pending::<Result<i32, String>>()); // gets cancelled
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.errors, [TaskFailure::Failed("disk full".to_string())]);
///     assert_eq!(a.await, Ok(Some(1)));
/// });
/// ```
pub struct TaskGroup<E = Box<dyn std::error::Error>> {
    inner: Rc<GroupInner<E>>,
}

impl<E: 'static> TaskGroup<E> {
    /// An empty group.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, TaskGroup};
    ///
    /// run(async {
    ///     let tg: TaskGroup<String> = TaskGroup::new();
    ///     assert!(tg.is_empty());
    ///     assert_eq!(tg.join().await, Ok(()));
    /// });
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            inner: Rc::new(GroupInner {
                tasks: RefCell::new(Vec::new()),
                errors: RefCell::new(Vec::new()),
                running: Cell::new(0),
                failed: Cell::new(false),
                waker: RefCell::new(None),
            }),
        }
    }

    /// Starts `fut` as a task of the group. Python's `tg.create_task(coro)`.
    ///
    /// The task's value is `Some(v)`, or `None` if it failed (its error is kept for
    /// [`join`](TaskGroup::join)). A task created after the group failed is cancelled at once.
    ///
    /// # Panics
    ///
    /// If no loop runs on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, TaskGroup};
    ///
    /// run(async {
    ///     let tg = TaskGroup::new();
    ///     let t = tg.create_task(async { Ok::<_, String>(2 + 2) });
    ///     tg.join().await.unwrap();
    ///     assert_eq!(t.await, Ok(Some(4)));
    /// });
    /// ```
    pub fn create_task<F, T>(&self, fut: F) -> Task<Option<T>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let group = self.inner.clone();
        let task = spawn(async move {
            let mut fut = std::pin::pin!(fut);
            let caught =
                poll_fn(
                    |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => Poll::Pending,
                        Ok(Poll::Ready(r)) => Poll::Ready(Ok(r)),
                        Err(p) => Poll::Ready(Err(panic_message(&*p))),
                    },
                )
                .await;
            match caught {
                Ok(Ok(v)) => Some(v),
                Ok(Err(e)) => {
                    group.fail(TaskFailure::Failed(e));
                    None
                }
                Err(msg) => {
                    group.fail(TaskFailure::Panicked(msg));
                    None
                }
            }
        });
        self.inner.running.set(self.inner.running.get() + 1);
        let group = Rc::downgrade(&self.inner);
        task.add_done_callback(move |_| {
            if let Some(g) = group.upgrade() {
                g.running.set(g.running.get() - 1);
                g.wake();
            }
        });
        let handle = task.handle();
        if self.inner.failed.get() {
            handle.cancel(Some("task group failed".to_owned()));
        }
        self.inner.tasks.borrow_mut().push(handle);
        task
    }

    /// Waits for every task; returns all failures if any task failed.
    ///
    /// Python's exit from `async with TaskGroup()`.
    ///
    /// # Errors
    ///
    /// A [`TaskGroupError`] listing each failure in the order they happened.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future keeps the group; dropping the group cancels its tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, TaskGroup};
    ///
    /// run(async {
    ///     let tg: TaskGroup<String> = TaskGroup::new();
    ///     for i in 0..3 {
    ///         tg.create_task(async move { Ok(i) });
    ///     }
    ///     assert_eq!(tg.len(), 3);
    ///     tg.join().await.unwrap();
    /// });
    /// ```
    pub async fn join(self) -> Result<(), TaskGroupError<E>> {
        poll_fn(|cx| {
            if self.inner.running.get() == 0 {
                return Poll::Ready(());
            }
            *self.inner.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        self.inner.tasks.borrow_mut().clear();
        let errors = std::mem::take(&mut *self.inner.errors.borrow_mut());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TaskGroupError { errors })
        }
    }

    /// Number of tasks still running.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, TaskGroup};
    ///
    /// run(async {
    ///     let tg = TaskGroup::new();
    ///     tg.create_task(async { Ok::<_, String>(()) });
    ///     tg.create_task(async { Ok::<_, String>(()) });
    ///     assert_eq!(tg.len(), 2);
    ///     tg.join().await.unwrap();
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.inner.running.get()
    }

    /// Whether no task is running.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, TaskGroup};
    ///
    /// run(async {
    ///     let tg = TaskGroup::new();
    ///     assert!(tg.is_empty());
    ///     tg.create_task(async { Ok::<_, String>(()) });
    ///     assert!(!tg.is_empty());
    ///     tg.join().await.unwrap();
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut *self.inner.tasks.borrow_mut());
        for t in tasks {
            t.cancel(Some("task group dropped".to_owned()));
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.inner.running.get())
            .field("failed", &self.inner.failed.get())
            .finish()
    }
}
