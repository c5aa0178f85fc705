//! [`ThreadPoolExecutor`]: Python's `concurrent.futures.ThreadPoolExecutor`.
//!
//! `builder.rs` holds the settings, `worker.rs` the shared queue, the worker loop and the
//! wake-up protocol, `task.rs` the queued task, `spawn.rs` the worker threads.

mod builder;
mod spawn;
mod task;
mod worker;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use builder::ThreadPoolBuilder;

use task::TaskCell;
use worker::{Shared, RUNNING};

use crate::{Executor, Future, FutureError, Map, PoolStats, RemoteExecutor};

/// A pool of threads running submitted closures: Python's
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// Tasks go to a lock-free queue (crossbeam's `Injector`); a worker that finishes a task
/// looks for the next one, spins a few microseconds, then sleeps without using CPU. A submit
/// wakes a sleeper only when no worker is looking already, and starts a new thread only when no
/// worker is idle and fewer than `max_workers` run (Python 3.8's rule), so a quiet pool reuses
/// one thread. Workers are spindle threads named `{prefix}_{i}`, visible to
/// `spindle_sync::threading::enumerate()`. A panicking task fails only its own future
/// ([`FutureError::Panicked`]); the worker goes on.
///
/// The pool is `Send + Sync`: share it by reference (or in an `Arc`) between threads.
/// Dropping it is `shutdown(true, false)`: queued tasks run, then the workers are joined
/// (Python's `with ThreadPoolExecutor() as pool:`).
///
/// It implements [`Executor`] and [`RemoteExecutor`]; the inherent `submit`, `map` and
/// `shutdown` are the same methods without importing a trait.
///
/// # Differences from Python
///
/// `map` is lazy with bounded read-ahead (see [`Map`]). A task returning `Result<T, E>` gives
/// a `Future<Result<T, E>>` (see the crate docs). Workers are daemon threads as far as
/// `spindle_sync::threading::shutdown()` is concerned, so an idle pool does not hold it up; the
/// pool's own `shutdown`/`Drop` joins them (Python joins them from an `atexit` hook).
///
/// # Examples
///
/// ```
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(4).build();
/// let futures: Vec<_> = (0..8u64).map(|i| pool.submit(move || i * i)).collect();
/// let total: u64 = futures.into_iter().map(|f| f.into_result().unwrap()).sum();
/// assert_eq!(total, 140);
/// ```
pub struct ThreadPoolExecutor {
    shared: Arc<Shared>,
}

impl Default for ThreadPoolExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.shared.max_workers)
            .field("thread_name_prefix", &self.shared.prefix)
            .field("threads", &self.num_threads())
            .field("queued", &self.shared.injector.len())
            .field(
                "state",
                &match self.shared.refusal() {
                    None => "running",
                    Some(FutureError::ShutDown) => "shut down",
                    Some(_) => "broken",
                },
            )
            .finish()
    }
}

impl ThreadPoolExecutor {
    /// A pool with Python's defaults: `ThreadPoolExecutor()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// assert!(pool.max_workers() >= 5 && pool.max_workers() <= 32);
    /// ```
    pub fn new() -> Self {
        ThreadPoolBuilder::new().build()
    }

    /// A builder for a pool: Python's keyword arguments; see [`ThreadPoolBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().thread_name_prefix("io").build();
    /// assert_eq!(pool.thread_name_prefix(), "io");
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// The most threads this pool runs: Python's `_max_workers`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(4).build();
    /// assert_eq!(pool.max_workers(), 4);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// The prefix of the worker thread names.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().thread_name_prefix("db").build();
    /// assert_eq!(pool.thread_name_prefix(), "db");
    /// let default = ThreadPoolExecutor::new();
    /// assert!(default.thread_name_prefix().starts_with("ThreadPoolExecutor-"));
    /// ```
    pub fn thread_name_prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// How many worker threads are alive (Python's `len(pool._threads)` before shutdown);
    /// never above [`max_workers`](Self::max_workers). Threads start on demand and leave
    /// only after [`shutdown`](Self::shutdown).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    /// assert_eq!(pool.num_threads(), 0);
    /// assert_eq!(pool.submit(|| ()).result(), Ok(()));
    /// assert_eq!(pool.num_threads(), 1); // the worker stays until shutdown
    /// pool.shutdown(true, false);
    /// ```
    pub fn num_threads(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// A snapshot of the pool's counters: tasks submitted, running, completed, failed
    /// (panicked, or failed by a broken pool) and cancelled, and per worker thread the tasks
    /// it ran and its busy time; see [`PoolStats`]. Cheap enough to poll (one lock to list
    /// the workers, no pause of the pool).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    /// let futures: Vec<_> = (0..10u32).map(|i| pool.submit(move || i * 2)).collect();
    /// pool.shutdown(true, false);
    /// let stats = pool.stats();
    /// assert_eq!((stats.submitted, stats.completed, stats.running), (10, 10, 0));
    /// assert!(stats.workers.len() <= 2);
    /// let total: u32 = futures.into_iter().map(|f| f.into_result().unwrap()).sum();
    /// assert_eq!(total, 90);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.shared.stats.snapshot(self.shared.injector.len())
    }

    /// Schedules `f` and returns its future: Python's `pool.submit(fn)`.
    ///
    /// After [`shutdown`](Self::shutdown) the future is already failed with
    /// [`FutureError::ShutDown`]; on a broken pool with
    /// [`FutureError::BrokenExecutor`]. Use [`try_submit`](Self::try_submit) to get those
    /// errors directly.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{FutureError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// assert_eq!(pool.submit(|| 2 + 2).result(), Ok(4));
    /// let bad = pool.submit(|| -> u8 { panic!("no") });
    /// assert_eq!(bad.result(), Err(FutureError::Panicked("no".into())));
    /// pool.shutdown(true, false);
    /// assert_eq!(pool.submit(|| 1).result(), Err(FutureError::ShutDown));
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.try_submit(f).unwrap_or_else(Future::failed)
    }

    /// Schedules `f` like [`submit`](Self::submit), but reports a refusal as an error.
    ///
    /// # Errors
    ///
    /// [`FutureError::ShutDown`] after [`shutdown`](Self::shutdown) (Python's
    /// `RuntimeError`); [`FutureError::BrokenExecutor`] if an initializer failed (Python's
    /// `BrokenThreadPool`). The closure is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{FutureError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// pool.shutdown(false, false);
    /// assert_eq!(pool.try_submit(|| 1).unwrap_err(), FutureError::ShutDown);
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<Future<T>, FutureError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(refusal) = self.shared.refusal() {
            return Err(refusal);
        }
        let (job, future) = TaskCell::job_and_future(f);
        self.shared.push(job);
        Ok(future)
    }

    /// `f` over `iter` in input order, lazily: Python's `pool.map(fn, iterable)`; see
    /// [`Executor::map`] and [`Map`]. The read-ahead defaults to `2 x max_workers`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    /// let out: Vec<i32> = pool.map(|x: i32| x + 1, vec![1, 2, 3]).map(Result::unwrap).collect();
    /// assert_eq!(out, vec![2, 3, 4]);
    /// ```
    pub fn map<F, I, T>(&self, f: F, iter: I) -> Map<'_, I::IntoIter, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        Executor::map(self, f, iter)
    }

    /// Stops the pool: Python's `pool.shutdown(wait, cancel_futures=...)`.
    ///
    /// From now on submits are refused. With `cancel_futures`, queued tasks that have not
    /// started are cancelled (their futures end [`Cancelled`](crate::State::Cancelled));
    /// without it they still run. With `wait`, returns once the workers have run what remains
    /// and exited (a call from one of the pool's own tasks does not wait for its own thread).
    /// Calling it again is harmless; a later `wait = true` call still waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    /// let fut = pool.submit(|| "ran");
    /// pool.shutdown(true, false);
    /// assert_eq!(fut.result(), Ok("ran"), "queued work still runs without cancel_futures");
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        let shared = &self.shared;
        let _ = shared.state.compare_exchange(
            RUNNING,
            worker::SHUT_DOWN,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if cancel_futures {
            shared.drain(&FutureError::Cancelled);
        }
        shared.wake_all();
        if wait {
            // A worker may start another while we join (passing on a backlog), so repeat
            // until no new handle appeared.
            let mut own = Vec::new();
            loop {
                let handles = std::mem::take(&mut *shared.handles.lock());
                if handles.is_empty() {
                    break;
                }
                for handle in handles {
                    if handle.is_current() {
                        own.push(handle);
                    } else {
                        handle.join();
                    }
                }
            }
            shared.handles.lock().extend(own);
        }
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl Executor for ThreadPoolExecutor {
    fn submit<F, T>(&self, f: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ThreadPoolExecutor::submit(self, f)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        ThreadPoolExecutor::shutdown(self, wait, cancel_futures);
    }

    fn parallelism(&self) -> usize {
        self.shared.max_workers
    }
}

/// Runs the function on a pool thread; nothing is serialized.
impl RemoteExecutor for ThreadPoolExecutor {
    fn submit_fn<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        ThreadPoolExecutor::submit(self, move || f(args))
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        ThreadPoolExecutor::shutdown(self, wait, cancel_futures);
    }

    fn parallelism(&self) -> usize {
        self.shared.max_workers
    }
}
