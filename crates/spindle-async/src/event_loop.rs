//! [`EventLoop`] (Python's `asyncio` event loop): its run/stop/close lifecycle and its
//! callback, timer and task scheduling API, plus [`run`] (Python's `asyncio.run`) and
//! [`get_running_loop`]. The `Send` half other threads use is [`LoopHandle`], in `loop_handle.rs`.
//!
//! The file runs a little over 600 lines because it is one type, `EventLoop`, whose many
//! methods each carry a runnable example.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::loop_handle::{LoopHandle, ThreadsafeHandle};
use crate::scheduler::{with_current, CallbackInner, LoopInner, Ready, RunningGuard};
use crate::task::{spawn_on, Task, TaskError};
use crate::timer::{Handle, TimerAction, TimerHandle, TimerInner};

/// Why a loop could not run or a call could not be queued.
///
/// # Examples
///
/// ```
/// use spindle_async::{get_running_loop, LoopError};
///
/// assert_eq!(get_running_loop().unwrap_err(), LoopError::NoRunningLoop);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoopError {
    /// No event loop runs on this thread (Python's `RuntimeError: no running event loop`).
    #[error("no running event loop")]
    NoRunningLoop,
    /// A loop already runs on this thread; loops do not nest.
    #[error("cannot run the event loop while another loop is running")]
    AlreadyRunning,
    /// The loop was closed.
    #[error("event loop is closed")]
    Closed,
}

/// Why [`EventLoop::run_until_complete`] returned without the future's value.
///
/// # Examples
///
/// ```
/// use spindle_async::{get_running_loop, EventLoop, RunError};
///
/// let lp = EventLoop::new().unwrap();
/// let r = lp.run_until_complete(async {
///     get_running_loop().unwrap().stop();
///     std::future::pending::<()>().await
/// });
/// assert_eq!(r, Err(RunError::Stopped));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The loop could not run (closed, or another loop runs on this thread).
    #[error(transparent)]
    Loop(#[from] LoopError),
    /// `stop()` was called before the future completed.
    #[error("event loop stopped before future completed")]
    Stopped,
    /// The main task was cancelled or panicked.
    #[error(transparent)]
    Task(#[from] TaskError),
}

/// A single-threaded event loop: Python's `asyncio` event loop.
///
/// It runs callbacks ([`call_soon`](EventLoop::call_soon), [`call_later`](EventLoop::call_later)),
/// tasks ([`create_task`](EventLoop::create_task)), timers and I/O readiness (a `mio`
/// reactor: epoll, kqueue, ...) on the thread that calls [`run_until_complete`](EventLoop::run_until_complete)
/// or [`run_forever`](EventLoop::run_forever). Tasks need not be `Send`. The value is a cheap,
/// cloneable `Rc` handle; [`handle`](EventLoop::handle) gives the `Send` half that other
/// threads use to wake it ([`LoopHandle::call_soon_threadsafe`]).
///
/// Debug mode ([`set_debug`](EventLoop::set_debug), or `PYTHONASYNCIODEBUG` set in the
/// environment) reports on stderr each callback or task step slower than
/// [`slow_callback_duration`](EventLoop::slow_callback_duration) (100 ms by default) and each
/// task still pending when the loop closes.
///
/// # Differences from Python
///
/// - A loop holding tasks that hold the loop forms an `Rc` cycle: call [`close`](EventLoop::close)
///   (as [`run`] does) to release them.
/// - The clock is `Instant`, not a float of seconds.
///
/// # Examples
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use spindle_async::EventLoop;
///
/// let lp = EventLoop::new().unwrap();
/// let log = Rc::new(RefCell::new(Vec::new()));
/// for i in 0..3 {
///     let log = log.clone();
///     lp.call_soon(move || log.borrow_mut().push(i));
/// }
/// let v = lp.run_until_complete(async { 5 }).unwrap();
/// assert_eq!(v, 5);
/// assert_eq!(*log.borrow(), [0, 1, 2]);
/// lp.close().unwrap();
/// ```
#[derive(Clone)]
pub struct EventLoop {
    pub(crate) inner: Rc<LoopInner>,
}

impl EventLoop {
    /// Creates a new loop. Python's `asyncio.new_event_loop()`.
    ///
    /// # Errors
    ///
    /// The reactor (epoll instance and its eventfd waker) could not be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// assert!(!lp.is_running() && !lp.is_closed());
    /// ```
    pub fn new() -> std::io::Result<EventLoop> {
        Ok(EventLoop {
            inner: LoopInner::new()?,
        })
    }

    pub(crate) fn from_inner(inner: Rc<LoopInner>) -> EventLoop {
        EventLoop { inner }
    }

    /// The thread-safe handle of this loop, for other threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let h = lp.handle();
    /// std::thread::spawn(move || h.stop().unwrap()).join().unwrap();
    /// lp.run_forever().unwrap();
    /// ```
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            shared: self.inner.shared.clone(),
        }
    }

    /// Runs the loop until `fut` (wrapped in a task) completes and returns its value.
    ///
    /// Python's `loop.run_until_complete(fut)`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] / [`LoopError::AlreadyRunning`] inside [`RunError::Loop`];
    /// [`RunError::Stopped`] if [`stop`](EventLoop::stop) ran first; [`RunError::Task`] if
    /// the task was cancelled or panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// assert_eq!(lp.run_until_complete(async { 1 + 1 }).unwrap(), 2);
    /// ```
    pub fn run_until_complete<F>(&self, fut: F) -> Result<F::Output, RunError>
    where
        F: Future + 'static,
    {
        self.check_can_run()?;
        let mut task = spawn_on(&self.inner, None, fut);
        let stopped = self.run_while(|| !task.done());
        if !task.done() {
            if stopped {
                return Err(RunError::Stopped);
            }
            return Err(RunError::Loop(LoopError::Closed));
        }
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(&mut task).poll(&mut cx) {
            std::task::Poll::Ready(r) => r.map_err(RunError::Task),
            std::task::Poll::Pending => Err(RunError::Stopped),
        }
    }

    /// Runs until [`stop`](EventLoop::stop) is called. Python's `loop.run_forever()`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] or [`LoopError::AlreadyRunning`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let l2 = lp.clone();
    /// lp.call_soon(move || l2.stop());
    /// lp.run_forever().unwrap();
    /// ```
    pub fn run_forever(&self) -> Result<(), LoopError> {
        self.check_can_run()?;
        self.run_while(|| true);
        Ok(())
    }

    /// Runs iterations while `cond()` holds; returns whether `stop()` ended the run.
    fn run_while(&self, mut cond: impl FnMut() -> bool) -> bool {
        let _guard = RunningGuard::enter(&self.inner);
        loop {
            self.inner.run_once();
            if self.inner.stopping.replace(false) {
                return true;
            }
            if !cond() {
                return false;
            }
        }
    }

    fn check_can_run(&self) -> Result<(), LoopError> {
        if self.inner.closed.get() {
            return Err(LoopError::Closed);
        }
        if with_current(|c| c.is_some()) {
            return Err(LoopError::AlreadyRunning);
        }
        Ok(())
    }

    /// Asks the loop to stop after the current iteration. Python's `loop.stop()`.
    ///
    /// Called before the loop runs, the next `run_forever` runs one iteration and returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// lp.stop();
    /// lp.run_forever().unwrap(); // one iteration, then back
    /// assert!(!lp.is_running());
    /// ```
    pub fn stop(&self) {
        self.inner.stopping.set(true);
    }

    /// Closes the loop: pending tasks are dropped, queued callbacks discarded, and other
    /// threads' `call_soon_threadsafe` refused. Python's `loop.close()`. Idempotent.
    ///
    /// # Errors
    ///
    /// [`LoopError::AlreadyRunning`] if called while the loop runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{EventLoop, LoopError, RunError};
    ///
    /// let lp = EventLoop::new().unwrap();
    /// lp.close().unwrap();
    /// assert!(lp.is_closed());
    /// assert_eq!(lp.run_until_complete(async {}), Err(RunError::Loop(LoopError::Closed)));
    /// ```
    pub fn close(&self) -> Result<(), LoopError> {
        if self.inner.running.get() {
            return Err(LoopError::AlreadyRunning);
        }
        if !self.inner.closed.get() {
            self.inner.close();
        }
        Ok(())
    }

    /// Whether the loop is running. Python's `loop.is_running()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let l2 = lp.clone();
    /// assert!(lp.run_until_complete(async move { l2.is_running() }).unwrap());
    /// assert!(!lp.is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }

    /// Whether the loop was closed. Python's `loop.is_closed()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// lp.close().unwrap();
    /// assert!(lp.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// The loop's clock. Python's `loop.time()`, as an `Instant` (monotonic).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let (a, b) = (lp.time(), lp.time());
    /// assert!(b >= a);
    /// ```
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// Schedules `f` to run in a later iteration, after the callbacks already queued.
    ///
    /// Python's `loop.call_soon(callback)`: callbacks run in FIFO order. A panic in `f` is
    /// reported on stderr and the loop goes on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, b) = (log.clone(), log.clone());
    /// lp.call_soon(move || a.borrow_mut().push("first"));
    /// lp.call_soon(move || b.borrow_mut().push("second"));
    /// lp.run_until_complete(async {}).unwrap();
    /// assert_eq!(*log.borrow(), ["first", "second"]);
    /// ```
    pub fn call_soon(&self, f: impl FnOnce() + 'static) -> Handle {
        let inner = Rc::new(CallbackInner {
            cancelled: Cell::new(false),
            callback: Cell::new(Some(Box::new(f))),
        });
        self.inner.push_ready(Ready::Callback(inner.clone()));
        Handle { inner }
    }

    /// Schedules `f` to run `delay` from now. Python's `loop.call_later(delay, callback)`.
    ///
    /// Timers due at the same instant run in the order they were scheduled. A delay too large
    /// for `Instant` means "never".
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc, time::Duration};
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let fired = Rc::new(Cell::new(false));
    /// let f = fired.clone();
    /// let l2 = lp.clone();
    /// lp.call_later(Duration::from_millis(2), move || { f.set(true); l2.stop(); });
    /// lp.run_forever().unwrap();
    /// assert!(fired.get());
    /// ```
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
        match Instant::now().checked_add(delay) {
            Some(when) => self.call_at(when, f),
            None => {
                let inner = TimerInner::new(Instant::now(), TimerAction::Callback(None));
                inner.cancel();
                TimerHandle {
                    inner,
                    lp: Rc::downgrade(&self.inner),
                }
            }
        }
    }

    /// Schedules `f` to run at `when` (on the [`time`](EventLoop::time) clock).
    /// Python's `loop.call_at(when, callback)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let when = lp.time() + Duration::from_millis(1);
    /// let l2 = lp.clone();
    /// let h = lp.call_at(when, move || { assert!(l2.time() >= when); l2.stop() });
    /// assert_eq!(h.when(), when);
    /// lp.run_forever().unwrap();
    /// ```
    pub fn call_at(&self, when: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
        let inner = TimerInner::new(when, TimerAction::Callback(Some(Box::new(f))));
        self.inner.add_timer(inner.clone());
        TimerHandle {
            inner,
            lp: Rc::downgrade(&self.inner),
        }
    }

    /// Queues `f` from this thread; same as [`LoopHandle::call_soon_threadsafe`].
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let h = lp.handle();
    /// lp.call_soon_threadsafe(move || h.stop().unwrap()).unwrap();
    /// lp.run_forever().unwrap();
    /// ```
    pub fn call_soon_threadsafe(
        &self,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<ThreadsafeHandle, LoopError> {
        self.handle().call_soon_threadsafe(f)
    }

    /// Starts `fut` as a task on this loop (it runs once the loop runs).
    /// Python's `loop.create_task(coro)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let t = lp.create_task(async { 3 });
    /// assert_eq!(lp.run_until_complete(t).unwrap(), Ok(3));
    /// ```
    pub fn create_task<F>(&self, fut: F) -> Task<F::Output>
    where
        F: Future + 'static,
    {
        spawn_on(&self.inner, None, fut)
    }

    /// Starts a named task on this loop. Python's `loop.create_task(coro, name=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let t = lp.create_task_named("worker", async { 7 });
    /// assert_eq!(t.name(), "worker");
    /// assert_eq!(lp.run_until_complete(t).unwrap(), Ok(7));
    /// ```
    pub fn create_task_named<F>(&self, name: impl Into<String>, fut: F) -> Task<F::Output>
    where
        F: Future + 'static,
    {
        spawn_on(&self.inner, Some(name.into()), fut)
    }

    /// Turns debug mode on or off. Python's `loop.set_debug(enabled)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// lp.set_debug(true);
    /// lp.set_slow_callback_duration(Duration::from_millis(50));
    /// assert!(lp.get_debug());
    /// assert_eq!(lp.slow_callback_duration(), Duration::from_millis(50));
    /// ```
    pub fn set_debug(&self, enabled: bool) {
        self.inner.debug.set(enabled);
    }

    /// Whether debug mode is on. Python's `loop.get_debug()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// lp.set_debug(false);
    /// assert!(!lp.get_debug());
    /// ```
    pub fn get_debug(&self) -> bool {
        self.inner.debug.get()
    }

    /// The step duration above which debug mode reports a slow callback (100 ms by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// assert_eq!(lp.slow_callback_duration(), std::time::Duration::from_millis(100));
    /// ```
    pub fn slow_callback_duration(&self) -> Duration {
        self.inner.slow_callback_duration.get()
    }

    /// Sets [`slow_callback_duration`](EventLoop::slow_callback_duration).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// lp.set_slow_callback_duration(std::time::Duration::from_secs(1));
    /// assert_eq!(lp.slow_callback_duration(), std::time::Duration::from_secs(1));
    /// ```
    pub fn set_slow_callback_duration(&self, d: Duration) {
        self.inner.slow_callback_duration.set(d);
    }

    /// Number of tasks the loop holds that have not finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let t = lp.create_task(async {});
    /// assert_eq!(lp.task_count(), 1);
    /// lp.run_until_complete(t).unwrap().unwrap();
    /// assert_eq!(lp.task_count(), 0);
    /// ```
    pub fn task_count(&self) -> usize {
        self.inner.tasks.borrow().len()
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("debug", &self.get_debug())
            .finish()
    }
}

/// The loop running on this thread. Python's `asyncio.get_running_loop()`.
///
/// # Errors
///
/// [`LoopError::NoRunningLoop`] outside a running loop.
///
/// # Examples
///
/// ```
/// use spindle_async::{get_running_loop, run, LoopError};
///
/// assert_eq!(get_running_loop().unwrap_err(), LoopError::NoRunningLoop);
/// run(async { assert!(get_running_loop().unwrap().is_running()) });
/// ```
pub fn get_running_loop() -> Result<EventLoop, LoopError> {
    with_current(|c| c.cloned())
        .map(EventLoop::from_inner)
        .ok_or(LoopError::NoRunningLoop)
}

/// Runs `fut` on a new loop and returns its value. Python's `asyncio.run(main)`.
///
/// Creates a loop, runs `fut` as its main task, then cancels the tasks still pending and lets
/// them finish their cleanup, and closes the loop.
///
/// # Panics
///
/// If a loop already runs on this thread (Python raises `RuntimeError`), if the main future
/// panics (the panic goes on with its message, as Python re-raises), if the main task is
/// cancelled, or if the reactor cannot be created.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_async::{run, sleep};
///
/// let v = run(async {
///     sleep(Duration::from_millis(1)).await;
///     "done"
/// });
/// assert_eq!(v, "done");
/// ```
pub fn run<F>(fut: F) -> F::Output
where
    F: Future + 'static,
{
    let lp = EventLoop::new().expect("cannot create the event loop reactor");
    let out = lp.run_until_complete(fut);
    cancel_all_tasks(&lp);
    lp.shutdown_default_executor();
    let _ = lp.close();
    match out {
        Ok(v) => v,
        Err(RunError::Task(TaskError::Panicked(msg))) => panic!("{msg}"),
        Err(e) => panic!("asyncio::run: {e}"),
    }
}

/// Cancels every task of `lp` and runs the loop until they have finished.
fn cancel_all_tasks(lp: &EventLoop) {
    let tasks: Vec<_> = lp.inner.tasks.borrow().iter().cloned().collect();
    if tasks.is_empty() {
        return;
    }
    for t in &tasks {
        t.core().cancel(None);
    }
    let _guard = RunningGuard::enter(&lp.inner);
    while lp.inner.tasks.borrow().len() > 0 {
        lp.inner.stopping.set(false);
        lp.inner.run_once();
    }
}
