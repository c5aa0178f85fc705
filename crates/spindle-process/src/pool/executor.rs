//! [`ProcessPoolExecutor`]: Python's `concurrent.futures.ProcessPoolExecutor`.
//!
//! Over 600 lines: the file is the one executor type and its builder, whose methods each
//! carry a runnable example.

use super::broken::BrokenReason;
use super::core::{Config, Shared};
use super::iter::ExecutorMap;
use super::pool::ordered;
use super::{default_config, submit_one, OnWorkerDeath};
use crate::shipping::Call;
use crate::StartMethod;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spindle_futures::{Future, RemoteExecutor};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Builds a [`ProcessPoolExecutor`]: Python's constructor arguments as setters.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::pool::ProcessPoolExecutor;
///
/// fn inc(x: i32) -> i32 { x + 1 }
///
/// # spindle_process::init();
/// let pool = ProcessPoolExecutor::builder()
///     .max_workers(2)
///     .max_tasks_per_child(100)
///     .task_timeout(Duration::from_secs(60))
///     .build();
/// assert_eq!(pool.submit(inc, 1).into_result(), Ok(2));
/// pool.shutdown(true, false);
/// ```
#[derive(Debug, Clone)]
pub struct ProcessPoolBuilder {
    cfg: Config,
}

impl ProcessPoolBuilder {
    /// Number of worker processes (default: one per CPU, like Python). Zero means the default.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(2).build();
    /// assert_eq!(pool.max_workers(), 2);
    /// pool.shutdown(true, false);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.cfg.processes = if n == 0 { crate::cpu_count() } else { n };
        self
    }

    /// Runs `f(args)` in each worker before its first task: Python's `initializer=`,
    /// `initargs=`. A panicking initializer breaks the executor
    /// ([`FutureError::BrokenExecutor`](spindle_futures::FutureError::BrokenExecutor) with the
    /// message) and no worker is restarted. A worker killed or crashing inside the initializer
    /// is replaced, up to [`MAX_START_FAILURES`](super::MAX_START_FAILURES) times in a row.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn setup(_seed: u32) {}
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .initializer(setup, 42u32)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn initializer<A>(mut self, f: fn(A), args: A) -> Self
    where
        A: Serialize + DeserializeOwned + Send + 'static,
    {
        match Call::new(f, &args) {
            Ok(call) => self.cfg.initializer = Some(call),
            Err(e) => {
                self.cfg.refuse = Some(BrokenReason::with_source("cannot ship the initializer", e))
            }
        }
        self
    }

    /// Replaces each worker after `n` tasks: Python's `max_tasks_per_child`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn pid(_: ()) -> u32 { std::process::id() }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).max_tasks_per_child(1).build();
    /// let first = pool.submit(pid, ()).result().unwrap();
    /// let second = pool.submit(pid, ()).result().unwrap();
    /// assert_ne!(first, second); // each task ran in a fresh worker
    /// pool.shutdown(true, false);
    /// ```
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.cfg.max_tasks = Some(n.max(1) as u64);
        self
    }

    /// Default timeout of every task (see
    /// [`submit_with_timeout`](ProcessPoolExecutor::submit_with_timeout)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{PoolError, ProcessPoolExecutor};
    ///
    /// fn stuck(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .task_timeout(Duration::from_millis(100))
    ///     .build();
    /// let err = pool.submit(stuck, ()).exception().unwrap();
    /// assert_eq!(PoolError::from_future_error(&err), PoolError::Timeout);
    /// pool.shutdown(true, false);
    /// ```
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.task_timeout = Some(timeout);
        self
    }

    /// What a worker's death does: [`OnWorkerDeath::Replace`] (default: only its task fails)
    /// or [`OnWorkerDeath::Break`] (Python's `BrokenProcessPool`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{OnWorkerDeath, ProcessPoolExecutor};
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .on_worker_death(OnWorkerDeath::Break)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn on_worker_death(mut self, policy: OnWorkerDeath) -> Self {
        self.cfg.on_death = policy;
        self
    }

    /// How workers are created; only [`StartMethod::Spawn`] is supported (see
    /// [`Pool::start_method`](super::Pool::start_method)).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    /// use spindle_process::StartMethod;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .start_method(StartMethod::Spawn)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> Self {
        self.cfg.refuse = match method {
            StartMethod::Spawn => None,
            other => Some(BrokenReason::new(format!(
                "start method {other:?} is not supported by process pools; use Spawn"
            ))),
        };
        self
    }

    /// Polling window before an idle worker blocks (see [`Pool::spin`](super::Pool::spin)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .spin(Duration::ZERO)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn spin(mut self, spin: Duration) -> Self {
        self.cfg.spin = spin;
        self
    }

    /// Fixes how many tasks each worker may hold at once (by default it adapts; see
    /// [`Pool::tasks_in_flight`](super::Pool::tasks_in_flight)).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .tasks_in_flight(1)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn tasks_in_flight(mut self, n: usize) -> Self {
        self.cfg.in_flight = Some(n.max(1));
        self
    }

    /// Shared-memory rings (default) or pipes only; see
    /// [`Pool::shared_memory_rings`](super::Pool::shared_memory_rings).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .shared_memory_rings(false)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn shared_memory_rings(mut self, on: bool) -> Self {
        self.cfg.rings = on;
        self
    }

    /// The executor; workers start with the first task, so this cannot fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn build(self) -> ProcessPoolExecutor {
        ProcessPoolExecutor {
            workers: self.cfg.processes,
            shared: Shared::new(self.cfg),
        }
    }
}

/// An executor running plain functions in worker processes: Python's
/// `concurrent.futures.ProcessPoolExecutor`.
///
/// [`submit`](ProcessPoolExecutor::submit) takes a `fn(A) -> R` and its `serde` arguments
/// (a closure cannot cross a process boundary) and returns a [`Future`];
/// [`map`](ProcessPoolExecutor::map) streams results in order with bounded read-ahead.
/// It implements [`RemoteExecutor`], so code generic over it runs unchanged on a
/// `ThreadPoolExecutor`. Errors reach futures as described on
/// [`PoolError`](super::PoolError)'s `From` impl. Dropping it is `shutdown(true, false)`,
/// so it waits for the queued tasks: a task that never ends keeps it waiting, as in Python
/// (give such tasks a timeout, or call
/// [`terminate_workers`](ProcessPoolExecutor::terminate_workers) first).
///
/// # Differences from Python
///
/// A worker's death fails only its own task and the worker is replaced (Python breaks the
/// whole executor; ask for that with [`OnWorkerDeath::Break`]). Tasks can have a timeout
/// ([`submit_with_timeout`](ProcessPoolExecutor::submit_with_timeout)), after which their
/// worker is killed.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::ProcessPoolExecutor;
///
/// fn cube(x: i64) -> i64 { x * x * x }
///
/// # spindle_process::init();
/// let pool = ProcessPoolExecutor::builder().max_workers(2).build();
/// let fut = pool.submit(cube, 3);
/// let all: Vec<i64> = pool.map(cube, 1..=4, 2).map(Result::unwrap).collect();
/// assert_eq!(fut.result(), Ok(27));
/// assert_eq!(all, vec![1, 8, 27, 64]);
/// pool.shutdown(true, false);
/// ```
pub struct ProcessPoolExecutor {
    workers: usize,
    shared: Arc<Shared>,
}

impl fmt::Debug for ProcessPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPoolExecutor")
            .field("max_workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Default for ProcessPoolExecutor {
    fn default() -> Self {
        ProcessPoolExecutor::builder().build()
    }
}

impl ProcessPoolExecutor {
    /// A builder with Python's defaults (one worker per CPU).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// pool.shutdown(true, false);
    /// ```
    pub fn builder() -> ProcessPoolBuilder {
        let mut cfg = default_config("ProcessPool");
        cfg.processes = crate::cpu_count();
        ProcessPoolBuilder { cfg }
    }

    /// The number of workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(2).build();
    /// assert_eq!(pool.max_workers(), 2);
    /// pool.shutdown(true, false);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers
    }

    /// Pids of the live workers (empty before the first task); for diagnostics and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn pid(_: ()) -> u32 { std::process::id() }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// assert!(pool.worker_pids().is_empty());
    /// let pid = pool.submit(pid, ()).result().unwrap();
    /// assert_eq!(pool.worker_pids(), vec![pid]);
    /// pool.shutdown(true, false);
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        self.shared.pids()
    }

    /// Why the executor is broken, if it is: the typed [`BrokenReason`] behind the
    /// `FutureError::BrokenExecutor` text its futures carry, with the error behind it (the
    /// [`io::Error`](std::io::Error) when the operating system refused a worker) and the
    /// start-up deaths that led to it.
    ///
    /// # Differences from Python
    ///
    /// Python keeps the reason in the private `_broken` attribute.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn bad_init(_: ()) { panic!("no database here") }
    /// fn inc(x: u8) -> u8 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).initializer(bad_init, ()).build();
    /// assert!(pool.broken().is_none());
    /// assert!(pool.submit(inc, 1).exception().is_some());
    /// let reason = pool.broken().unwrap();
    /// assert!(reason.message().contains("no database here"));
    /// pool.shutdown(true, false);
    /// ```
    pub fn broken(&self) -> Option<BrokenReason> {
        self.shared.state.lock().broken.clone()
    }

    /// A snapshot of the executor's counters: tasks submitted, running, completed, failed
    /// and cancelled (`shutdown(cancel_futures)`, or a future cancelled before it was sent),
    /// worker replacements, and per live worker (keyed by pid) its tasks and busy time; the
    /// same counters as [`Pool::stats`](super::Pool::stats), counted in items (a `map` chunk
    /// adds its length).
    ///
    /// # Differences from Python
    ///
    /// Python's `ProcessPoolExecutor` has no counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// assert_eq!(pool.submit(id, 7).result(), Ok(7));
    /// let stats = pool.stats();
    /// assert_eq!((stats.submitted, stats.completed), (1, 1));
    /// assert_eq!(stats.workers[0].tasks_completed, 1);
    /// pool.shutdown(true, false);
    /// ```
    pub fn stats(&self) -> spindle_futures::PoolStats {
        self.shared.stats()
    }

    fn submit_inner<A, R>(&self, f: fn(A) -> R, args: A, timeout: Option<Duration>) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        submit_one(&self.shared, f, args, timeout, false)
    }

    /// Schedules `f(args)` in a worker: Python's `executor.submit(fn, *args)`.
    ///
    /// The future fails with `ShutDown` after [`shutdown`](ProcessPoolExecutor::shutdown),
    /// `BrokenExecutor` if the pool is broken, `Panicked` if `f` panicked, and
    /// `Failed(PoolError::..)` if its worker died, it timed out, or a value did not travel.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let fut = pool.submit(inc, 41);
    /// assert_eq!(fut.result(), Ok(42));
    /// pool.shutdown(true, false);
    /// ```
    pub fn submit<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit_inner(f, args, None)
    }

    /// [`submit`](ProcessPoolExecutor::submit) with a time limit: a task still running after
    /// `timeout` fails with `Failed(PoolError::Timeout)`, and its worker is killed and
    /// replaced; other tasks are not affected.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{PoolError, ProcessPoolExecutor};
    ///
    /// fn stuck(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let fut = pool.submit_with_timeout(stuck, (), Duration::from_millis(100));
    /// let err = fut.exception().unwrap();
    /// assert_eq!(PoolError::from_future_error(&err), PoolError::Timeout);
    /// pool.shutdown(true, false);
    /// ```
    pub fn submit_with_timeout<A, R>(&self, f: fn(A) -> R, args: A, timeout: Duration) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit_inner(f, args, Some(timeout))
    }

    /// `f` over `iter`, results in input order, sent in chunks of `chunksize`: Python's
    /// `executor.map(fn, iterable, chunksize=...)`. Lazy, with at most `2 x max_workers`
    /// chunks in flight; see [`ExecutorMap`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let out: Vec<i32> = pool.map(inc, 0..5, 2).map(Result::unwrap).collect();
    /// assert_eq!(out, [1, 2, 3, 4, 5]);
    /// pool.shutdown(true, false);
    /// ```
    pub fn map<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: usize,
    ) -> ExecutorMap<'_, I::IntoIter, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        ExecutorMap::new(ordered(&self.shared, f, iter, chunksize, 2 * self.workers))
    }

    /// Stops accepting work: Python's `executor.shutdown(wait, cancel_futures=...)`.
    ///
    /// With `cancel_futures`, tasks not yet handed to a worker are cancelled (a worker holds up
    /// to 2 tasks, or up to 64 short ones; see
    /// [`ProcessPoolBuilder::tasks_in_flight`]; Python's call queue likewise holds
    /// `max_workers + 1`). With `wait`, it
    /// returns once every remaining task is done and the workers have exited. Calling it again
    /// is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let done = pool.submit(id, 7);
    /// pool.shutdown(true, false);
    /// assert_eq!(done.result(), Ok(7));
    /// assert_eq!(pool.submit(id, 8).result(), Err(FutureError::ShutDown));
    /// assert!(pool.worker_pids().is_empty());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        if cancel_futures {
            self.shared.cancel_pending();
        }
        self.shared.close();
        if wait {
            self.shared.join_until(None);
        }
    }

    /// [`shutdown`](ProcessPoolExecutor::shutdown) with `wait` bounded by `timeout`; returns
    /// whether the workers have exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// assert_eq!(pool.submit(inc, 1).result(), Ok(2));
    /// assert!(pool.shutdown_timeout(Duration::from_secs(60), false));
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration, cancel_futures: bool) -> bool {
        self.shutdown(false, cancel_futures);
        self.shared.join_until(Instant::now().checked_add(timeout))
    }

    /// Kills the workers now and fails every unfinished task with `ShutDown` (no Python twin:
    /// Python 3.14's `terminate_workers`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn stuck(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let fut = pool.submit(stuck, ());
    /// pool.terminate_workers();
    /// assert_eq!(fut.exception(), Some(FutureError::ShutDown));
    /// ```
    pub fn terminate_workers(&self) {
        self.shared.terminate();
        self.shared.join_until(None);
    }
}

impl Drop for ProcessPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl RemoteExecutor for ProcessPoolExecutor {
    fn submit_fn<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit(f, args)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        ProcessPoolExecutor::shutdown(self, wait, cancel_futures);
    }

    fn parallelism(&self) -> usize {
        self.workers
    }
}
