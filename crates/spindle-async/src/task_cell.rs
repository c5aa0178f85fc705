//! The machinery behind a [`Task`](crate::Task): its waker (`Header`), its non-generic
//! state (`TaskCore`), the typed cell holding future and output, and `spawn_on`.
//!
//! A task is one `Rc` allocation holding its future and result, plus one `Arc<Header>` that is
//! its `Waker` (so it may be woken from any thread). The waker is built once at spawn; a wake
//! on the loop's own thread pushes the task's slab key on the ready queue, a wake from another
//! thread goes through the loop's injector and `Poller::notify`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::task::{Context, Poll, Waker};

use crate::cancel::Cancelled;
use crate::scheduler::{with_current, LoopInner, Ready, Shared};
use crate::task::Task;
use crate::task_error::{panic_message, Outcome, TaskError};

/// The thread-safe half of a task: its waker.
pub(crate) struct Header {
    key: u64,
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let local = with_current(|cur| match cur {
            Some(lp) if lp.shared.id == self.shared.id => {
                lp.push_ready(Ready::Task(self.key));
                true
            }
            _ => false,
        });
        if !local {
            self.shared.inject_task(self.key);
        }
    }
}

type DoneCallback = Box<dyn FnOnce(Outcome)>;

/// The non-generic state of a task.
pub(crate) struct TaskCore {
    pub(crate) id: u64,
    key: u64,
    name: RefCell<Option<String>>,
    header: Arc<Header>,
    waker: Waker,
    pub(crate) outcome: Cell<Option<Outcome>>,
    cancel_requested: Cell<bool>,
    cancel_msg: RefCell<Option<String>>,
    pub(crate) num_cancels: Cell<u32>,
    /// How many `catch_cancelled` wrappers of this task are suspended right now.
    pub(crate) catchers: Cell<u32>,
    join_waker: RefCell<Option<Waker>>,
    callbacks: RefCell<Vec<DoneCallback>>,
}

impl TaskCore {
    pub(crate) fn is_done(&self) -> bool {
        self.outcome.get().is_some()
    }

    pub(crate) fn name(&self) -> String {
        match &*self.name.borrow() {
            Some(n) => n.clone(),
            None => format!("Task-{}", self.id),
        }
    }

    pub(crate) fn set_name(&self, name: String) {
        *self.name.borrow_mut() = Some(name);
    }

    /// Whether the task ended by cancellation.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.outcome.get() == Some(Outcome::Cancelled)
    }

    pub(crate) fn describe(&self) -> String {
        format!("<Task {}>", self.name())
    }

    /// Requests cancellation; returns false if the task is already done.
    pub(crate) fn cancel(&self, msg: Option<String>) -> bool {
        if self.is_done() {
            return false;
        }
        self.num_cancels.set(self.num_cancels.get() + 1);
        if !self.cancel_requested.replace(true) {
            *self.cancel_msg.borrow_mut() = msg;
        }
        self.header.wake_by_ref();
        true
    }

    /// Takes a pending cancellation request (a `catch_cancelled` delivering it).
    pub(crate) fn take_cancel(&self) -> Option<Cancelled> {
        if self.cancel_requested.replace(false) {
            Some(Cancelled::new(self.cancel_msg.borrow_mut().take()))
        } else {
            None
        }
    }

    pub(crate) fn add_done_callback(&self, f: DoneCallback) {
        match self.outcome.get() {
            Some(o) => schedule_callback(f, o),
            None => self.callbacks.borrow_mut().push(f),
        }
    }
}

fn schedule_callback(f: DoneCallback, o: Outcome) {
    match crate::get_running_loop() {
        Ok(lp) => {
            lp.call_soon(move || f(o));
        }
        Err(_) => f(o),
    }
}

/// The type-erased face of a task the loop runs.
pub(crate) trait Runnable {
    fn core(&self) -> &TaskCore;
    fn run(self: Rc<Self>, lp: &LoopInner);
    fn drop_future(&self);
}

/// The typed face of a task its `Task<T>` handle reads.
pub(crate) trait JoinTarget<T> {
    fn core(&self) -> &TaskCore;
    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    fn peek(&self, f: &mut dyn FnMut(&Result<T, TaskError>));
    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()>;
    fn runnable(self: Rc<Self>) -> Rc<dyn Runnable>;
}

struct TaskCell<F: Future> {
    core: TaskCore,
    /// The future, pinned in place: it lives inside this `Rc` allocation and is only ever
    /// dropped in place (set to `None`), never moved.
    future: RefCell<Option<F>>,
    output: RefCell<Option<Result<F::Output, TaskError>>>,
}

impl<F: Future> TaskCell<F> {
    fn finish(&self, lp: &LoopInner, result: Result<F::Output, TaskError>) {
        let outcome = match &result {
            Ok(_) => Outcome::Finished,
            Err(TaskError::Cancelled(_)) => Outcome::Cancelled,
            Err(TaskError::Panicked(_)) => Outcome::Panicked,
        };
        *self.future.borrow_mut() = None;
        *self.output.borrow_mut() = Some(result);
        self.core.outcome.set(Some(outcome));
        let me = lp.tasks.borrow_mut().remove(self.core.key);
        if let Some(w) = self.core.join_waker.borrow_mut().take() {
            w.wake();
        }
        let callbacks = std::mem::take(&mut *self.core.callbacks.borrow_mut());
        for cb in callbacks {
            schedule_callback(cb, outcome);
        }
        drop(me);
    }
}

impl<F: Future + 'static> Runnable for TaskCell<F> {
    fn core(&self) -> &TaskCore {
        &self.core
    }

    fn run(self: Rc<Self>, lp: &LoopInner) {
        let core = &self.core;
        core.header.scheduled.store(false, Ordering::Release);
        if core.is_done() {
            return;
        }
        if core.cancel_requested.get() && core.catchers.get() == 0 {
            let c = core.take_cancel().unwrap_or_else(|| Cancelled::new(None));
            self.finish(lp, Err(TaskError::Cancelled(c)));
            return;
        }
        let prev = lp.current_task.replace(core.key);
        let res = {
            let mut slot = self.future.borrow_mut();
            let Some(fut) = slot.as_mut() else {
                lp.current_task.set(prev);
                return;
            };
            // SAFETY:
            // - `fut` lives inside the `Rc` allocation of this cell, which never moves.
            // - It is only ever dropped in place (`*slot = None`), never moved out.
            let fut = unsafe { Pin::new_unchecked(fut) };
            let mut cx = Context::from_waker(&core.waker);
            catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx)))
        };
        lp.current_task.set(prev);
        match res {
            Ok(Poll::Pending) => {}
            Ok(Poll::Ready(v)) => self.finish(lp, Ok(v)),
            Err(p) => self.finish(lp, Err(TaskError::Panicked(panic_message(&*p)))),
        }
    }

    fn drop_future(&self) {
        if self.core.is_done() {
            return;
        }
        *self.future.borrow_mut() = None;
        let c = Cancelled::new(Some("event loop closed".to_owned()));
        *self.output.borrow_mut() = Some(Err(TaskError::Cancelled(c)));
        self.core.outcome.set(Some(Outcome::Cancelled));
        if let Some(w) = self.core.join_waker.borrow_mut().take() {
            w.wake();
        }
        self.core.callbacks.borrow_mut().clear();
    }
}

impl<F: Future + 'static> JoinTarget<F::Output> for TaskCell<F> {
    fn core(&self) -> &TaskCore {
        &self.core
    }

    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, TaskError>> {
        if let Some(out) = self.output.borrow_mut().take() {
            return Poll::Ready(out);
        }
        let mut w = self.core.join_waker.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn peek(&self, f: &mut dyn FnMut(&Result<F::Output, TaskError>)) {
        if let Some(out) = &*self.output.borrow() {
            f(out);
        }
    }

    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.core.is_done() {
            return Poll::Ready(());
        }
        let mut w = self.core.join_waker.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn runnable(self: Rc<Self>) -> Rc<dyn Runnable> {
        self
    }
}

/// Creates a task on `lp` (the body of `create_task`).
pub(crate) fn spawn_on<F>(lp: &LoopInner, name: Option<String>, fut: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    let key = lp.tasks.borrow().next_key();
    let id = lp.next_task_id.get();
    lp.next_task_id.set(id + 1);
    let header = Arc::new(Header {
        key,
        scheduled: AtomicBool::new(true),
        shared: lp.shared.clone(),
    });
    let waker = Waker::from(header.clone());
    let cell = Rc::new(TaskCell {
        core: TaskCore {
            id,
            key,
            name: RefCell::new(name),
            header,
            waker,
            outcome: Cell::new(None),
            cancel_requested: Cell::new(false),
            cancel_msg: RefCell::new(None),
            num_cancels: Cell::new(0),
            catchers: Cell::new(0),
            join_waker: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
        },
        future: RefCell::new(Some(fut)),
        output: RefCell::new(None),
    });
    lp.tasks.borrow_mut().insert(cell.clone());
    if lp.closed.get() {
        cell.drop_future();
    } else if lp.is_current() {
        lp.push_ready(Ready::Task(key));
    } else {
        lp.shared.inject_task(key);
    }
    Task::from_cell(cell)
}
