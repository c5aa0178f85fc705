//! The bridge to thread pools: [`run_in_executor`](crate::EventLoop::run_in_executor),
//! [`to_thread`], [`wrap_future`] and [`run_coroutine_threadsafe`] (Python's
//! `loop.run_in_executor`, `asyncio.to_thread`, `asyncio.wrap_future`,
//! `asyncio.run_coroutine_threadsafe`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use spindle_futures::{Executor, FutureError, ThreadPoolExecutor};

use crate::event_loop::{get_running_loop, EventLoop};
use crate::loop_handle::LoopHandle;
use crate::task::TaskError;

/// Awaits a `spindle_futures::Future` (a thread-pool result) on the loop.
///
/// From [`wrap_future`], [`to_thread`] or [`EventLoop::run_in_executor`]. The output is the
/// concurrent future's result. Dropping it cancels the concurrent future if it has not
/// started (Python cancels the wrapped future too).
///
/// # Examples
///
/// ```
/// use spindle_async::{run, to_thread, ExecutorFuture};
///
/// let v = run(async {
///     let fut: ExecutorFuture<u64> = to_thread(|| (1..=10).sum());
///     fut.await
/// });
/// assert_eq!(v, Ok(55));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ExecutorFuture<T> {
    fut: Option<spindle_futures::Future<T>>,
    waker: Arc<Mutex<Option<Waker>>>,
    registered: bool,
}

/// Awaits `fut` without blocking the loop. Python's `asyncio.wrap_future(fut)`.
///
/// # Cancel safety
///
/// Dropping the returned future cancels `fut` if it has not started running.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, wrap_future};
///
/// let cf = spindle_futures::Future::new();
/// let setter = cf.clone();
/// let t = std::thread::spawn(move || setter.set_result(5).unwrap());
/// assert_eq!(run(async move { wrap_future(cf).await }), Ok(5));
/// t.join().unwrap();
/// ```
pub fn wrap_future<T: Send + 'static>(fut: spindle_futures::Future<T>) -> ExecutorFuture<T> {
    ExecutorFuture {
        fut: Some(fut),
        waker: Arc::new(Mutex::new(None)),
        registered: false,
    }
}

// Nothing in it is pinned: it only holds handles.
impl<T> Unpin for ExecutorFuture<T> {}

impl<T: Send + 'static> Future for ExecutorFuture<T> {
    type Output = Result<T, FutureError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        {
            let mut w = self.waker.lock();
            match &*w {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *w = Some(cx.waker().clone()),
            }
        }
        if !self.registered {
            self.registered = true;
            let slot = self.waker.clone();
            if let Some(f) = &self.fut {
                f.add_done_callback(move |_| {
                    if let Some(w) = slot.lock().take() {
                        w.wake();
                    }
                });
            }
        }
        // Checked after the waker is stored, so a completion in between is not missed.
        match &self.fut {
            Some(f) if f.done() => {
                let f = self.fut.take().expect("checked above");
                Poll::Ready(f.into_result())
            }
            Some(_) => Poll::Pending,
            None => Poll::Ready(Err(FutureError::Taken)),
        }
    }
}

impl<T> Drop for ExecutorFuture<T> {
    fn drop(&mut self) {
        if let Some(f) = &self.fut {
            f.cancel();
        }
    }
}

impl<T> fmt::Debug for ExecutorFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorFuture")
            .field("done", &self.fut.as_ref().map(|f| f.done()))
            .finish()
    }
}

impl EventLoop {
    /// Runs `f` on `executor` and returns an awaitable of its result.
    /// Python's `await loop.run_in_executor(executor, fn)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the awaitable cancels the call if it has not started.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{get_running_loop, run};
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    /// let v = run(async move {
    ///     get_running_loop().unwrap().run_in_executor(&pool, || 6 * 7).await
    /// });
    /// assert_eq!(v, Ok(42));
    /// ```
    pub fn run_in_executor<E, F, T>(&self, executor: &E, f: F) -> ExecutorFuture<T>
    where
        E: Executor,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        wrap_future(executor.submit(f))
    }

    /// Runs `f` on the loop's default thread pool (created on first use).
    /// Python's `await loop.run_in_executor(None, fn)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the awaitable cancels the call if it has not started.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{get_running_loop, run};
    ///
    /// let v = run(async { get_running_loop().unwrap().run_in_default_executor(|| 2 + 2).await });
    /// assert_eq!(v, Ok(4));
    /// ```
    pub fn run_in_default_executor<F, T>(&self, f: F) -> ExecutorFuture<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mut slot = self.inner.default_executor.borrow_mut();
        let pool = slot.get_or_insert_with(|| {
            ThreadPoolExecutor::builder()
                .thread_name_prefix("asyncio")
                .build()
        });
        wrap_future(pool.submit(f))
    }

    /// Replaces the default thread pool. Python's `loop.set_default_executor(executor)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{get_running_loop, run};
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let name = run(async {
    ///     let lp = get_running_loop().unwrap();
    ///     lp.set_default_executor(ThreadPoolExecutor::builder().thread_name_prefix("mine").build());
    ///     lp.run_in_default_executor(|| std::thread::current().name().map(str::to_owned)).await
    /// });
    /// assert!(name.unwrap().unwrap().starts_with("mine"));
    /// ```
    pub fn set_default_executor(&self, executor: ThreadPoolExecutor) {
        let old = self.inner.default_executor.replace(Some(executor));
        if let Some(old) = old {
            old.shutdown(false, false);
        }
    }

    /// Shuts the default pool down, waiting for its running calls.
    /// Python's `await loop.shutdown_default_executor()` (here a blocking call).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{get_running_loop, run};
    ///
    /// let v = run(async {
    ///     let lp = get_running_loop().unwrap();
    ///     let a = lp.run_in_default_executor(|| 1).await.unwrap();
    ///     lp.shutdown_default_executor(); // waits for the pool's threads
    ///     a + lp.run_in_default_executor(|| 2).await.unwrap() // a fresh pool starts on demand
    /// });
    /// assert_eq!(v, 3);
    /// ```
    pub fn shutdown_default_executor(&self) {
        let old = self.inner.default_executor.borrow_mut().take();
        if let Some(old) = old {
            old.shutdown(true, false);
        }
    }
}

/// Runs the blocking `f` on the running loop's default thread pool.
/// Python's `await asyncio.to_thread(fn)`.
///
/// # Panics
///
/// If no loop runs on this thread.
///
/// # Cancel safety
///
/// Dropping the awaitable cancels the call if it has not started.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, to_thread};
///
/// let id = run(async { to_thread(|| std::thread::current().id()).await.unwrap() });
/// assert_ne!(id, std::thread::current().id());
/// ```
pub fn to_thread<F, T>(f: F) -> ExecutorFuture<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match get_running_loop() {
        Ok(lp) => lp.run_in_default_executor(f),
        Err(_) => panic!("no running event loop"),
    }
}

/// Starts the coroutine made by `make` on the loop behind `handle`, from any thread, and
/// returns a `spindle_futures::Future` for its result.
/// Python's `asyncio.run_coroutine_threadsafe(coro, loop)`.
///
/// `make` runs on the loop's thread, so the coroutine itself need not be `Send` (spindle's
/// timers and sockets are not); it runs as a task of that loop. Cancelling the returned future before the task
/// starts keeps it from running. A panic becomes [`FutureError::Panicked`]; a cancelled task
/// [`FutureError::Cancelled`]; a closed loop [`FutureError::ShutDown`].
///
/// # Differences from Python
///
/// Takes a closure making the coroutine rather than a coroutine object.
///
/// # Examples
///
/// ```
/// use spindle_async::{run_coroutine_threadsafe, EventLoop, get_running_loop};
///
/// let lp = EventLoop::new().unwrap();
/// let h = lp.handle();
/// let caller = std::thread::spawn(move || {
///     let f = run_coroutine_threadsafe(|| async { 20 + 1 }, &h);
///     let v = f.result().unwrap();
///     h.stop().unwrap();
///     v
/// });
/// lp.run_forever().unwrap();
/// assert_eq!(caller.join().unwrap(), 21);
/// ```
pub fn run_coroutine_threadsafe<M, F>(
    make: M,
    handle: &LoopHandle,
) -> spindle_futures::Future<F::Output>
where
    M: FnOnce() -> F + Send + 'static,
    F: Future + 'static,
    F::Output: Send + 'static,
{
    let cf = spindle_futures::Future::new();
    let cf2 = cf.clone();
    let queued = handle.call_soon_threadsafe(move || {
        if !cf2.set_running_or_notify_cancel() {
            return;
        }
        let Ok(lp) = get_running_loop() else { return };
        let task = lp.create_task(make());
        drop(lp.create_task(async move {
            let _ = match task.await {
                Ok(v) => cf2.set_result(v).map_err(drop),
                Err(TaskError::Panicked(m)) => {
                    cf2.set_exception(FutureError::Panicked(m)).map_err(drop)
                }
                Err(TaskError::Cancelled(_)) => {
                    cf2.set_exception(FutureError::Cancelled).map_err(drop)
                }
            };
        }));
    });
    if queued.is_err() {
        let _ = cf.set_exception(FutureError::ShutDown);
    }
    cf
}
