//! [`TaskRef`]: a non-generic, cloneable handle to a task.

use std::fmt;
use std::rc::Rc;

use crate::task::{Outcome, Runnable};

/// A non-generic handle to a task, from [`current_task`](crate::current_task),
/// [`all_tasks`](crate::all_tasks) or [`Task::handle`](crate::Task::handle).
///
/// # Examples
///
/// ```
/// use spindle_async::{current_task, run};
///
/// run(async {
///     let me = current_task().unwrap();
///     assert!(!me.done());
///     assert!(me.name().starts_with("Task-"));
/// });
/// ```
#[derive(Clone)]
pub struct TaskRef {
    pub(crate) cell: Rc<dyn Runnable>,
}

impl TaskRef {
    /// Requests cancellation, as [`Task::cancel`](crate::Task::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     let r = t.handle();
    ///     yield_now().await;
    ///     assert!(r.cancel(None));
    ///     assert!(t.await.unwrap_err().is_cancelled());
    ///     assert!(r.cancelled() && r.done());
    /// });
    /// ```
    pub fn cancel(&self, msg: Option<String>) -> bool {
        self.cell.core().cancel(msg)
    }

    /// Whether the task ended by cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn, yield_now};
    ///
    /// run(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     let r = t.handle();
    ///     yield_now().await;
    ///     assert!(!r.cancelled());
    ///     t.cancel(None);
    ///     let _ = t.await;
    ///     assert!(r.cancelled());
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cell.core().is_cancelled()
    }

    /// Whether the task has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn};
    ///
    /// run(async {
    ///     let t = spawn(async { 1 });
    ///     let r = t.handle();
    ///     assert!(!r.done());
    ///     assert_eq!(t.await, Ok(1));
    ///     assert!(r.done());
    /// });
    /// ```
    pub fn done(&self) -> bool {
        self.cell.core().is_done()
    }

    /// How many times cancellation was requested.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{current_task, run};
    ///
    /// run(async {
    ///     let me = current_task().unwrap();
    ///     assert_eq!(me.cancelling(), 0);
    ///     me.cancel(None);
    ///     assert_eq!(me.cancelling(), 1);
    ///     me.uncancel();
    /// });
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.cell.core().num_cancels.get()
    }

    /// Withdraws one cancellation request and returns how many remain. Python's `uncancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{current_task, run, yield_now};
    ///
    /// run(async {
    ///     let me = current_task().unwrap();
    ///     me.cancel(None);
    ///     assert_eq!(me.cancelling(), 1);
    ///     assert_eq!(me.uncancel(), 0); // withdrawn: the next await is not a cancellation
    ///     yield_now().await;
    /// });
    /// ```
    pub fn uncancel(&self) -> u32 {
        let core = self.cell.core();
        let n = core.num_cancels.get().saturating_sub(1);
        core.num_cancels.set(n);
        if n == 0 {
            core.take_cancel();
        }
        n
    }

    /// The task's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_task_named, run};
    ///
    /// run(async {
    ///     let t = create_task_named("fetch", async {});
    ///     assert_eq!(t.handle().name(), "fetch");
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn name(&self) -> String {
        self.cell.core().name()
    }

    /// Runs `f(outcome)` once the task is done, as [`Task::add_done_callback`](crate::Task::add_done_callback).
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
    ///     t.handle().add_done_callback(move |o| s.set(Some(o)));
    ///     t.await.unwrap();
    ///     yield_now().await; // callbacks run through call_soon
    ///     assert_eq!(seen.get(), Some(Outcome::Finished));
    /// });
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(Outcome) + 'static) {
        self.cell.core().add_done_callback(Box::new(f));
    }

    /// The unique id of the task within its loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, spawn};
    ///
    /// run(async {
    ///     let (a, b) = (spawn(async {}), spawn(async {}));
    ///     assert_ne!(a.handle().id(), b.handle().id());
    ///     assert_eq!(a.handle().id(), a.handle().id());
    /// });
    /// ```
    pub fn id(&self) -> u64 {
        self.cell.core().id
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.cell, &other.cell)
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRef")
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}
