//! [`Pool`]: Python's `multiprocessing.Pool`.
//!
//! Over 600 lines: the file is the one `Pool` type, whose methods each carry a runnable
//! example.

use super::async_result::AsyncResult;
use super::broken::BrokenReason;
use super::core::{Config, Shared};
use super::error::PoolError;
use super::iter::{IMap, IMapUnordered};
use super::sinks::{ChunkSink, GatherSink};
use super::{default_config, submit_items, submit_one, OnWorkerDeath};
use crate::shipping::Call;
use crate::StartMethod;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spindle_futures::{Chunks, Future, Map};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A pool of worker processes running plain functions: Python's `multiprocessing.Pool`.
///
/// Tasks are a `fn(A) -> R` (a `fn` item or non-capturing closure) with `serde` arguments and
/// results. [`apply`](Pool::apply) / [`apply_async`](Pool::apply_async) run one call;
/// [`map`](Pool::map), [`map_async`](Pool::map_async), [`imap`](Pool::imap),
/// [`imap_unordered`](Pool::imap_unordered), [`starmap`](Pool::starmap) and
/// [`starmap_async`](Pool::starmap_async) run one function over many inputs, in chunks.
/// [`close`](Pool::close) then [`join`](Pool::join) finishes the work and waits for the
/// workers; [`terminate`](Pool::terminate) (also what dropping the pool does, like leaving
/// Python's `with Pool() as p:` block) kills them.
///
/// Workers start on the first task, not in `new` (so `new` cannot fail); settings are chosen
/// with the builder-style methods before that. Each worker is a re-executed copy of this
/// program (the spawn start method), so `main` must call [`init`](crate::init) first.
///
/// Faults stay local: a task that panics fails alone and its worker lives; a worker killed by
/// a signal or crashing fails only the task it had started (with [`PoolError::WorkerDied`]
/// naming pid and signal), is replaced, and the tasks it had not started run elsewhere. A
/// worker that dies while starting (inside its initializer, say) is replaced too. A task that
/// outlives its [timeout](Pool::task_timeout) is failed with [`PoolError::Timeout`] and its
/// worker is killed and replaced. A panicking initializer, a worker the operating system
/// refuses to create, or [`MAX_START_FAILURES`](super::MAX_START_FAILURES) start-ups failing
/// in a row break the pool ([`PoolError::Broken`], saying why) instead of respawning workers
/// forever.
///
/// # Differences from Python
///
/// Python's `Pool` hangs forever when a worker dies mid-task and has no task timeout; both
/// are handled here. `terminate` fails unfinished results with [`PoolError::Closed`] instead
/// of leaving them pending forever. `starmap` is `map`: a Rust function already takes its
/// arguments as one tuple. The `fork` start method is refused (see
/// [`start_method`](Pool::start_method)).
///
/// # Examples
///
/// ```
/// use spindle_process::pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// # spindle_process::init();
/// let pool = Pool::new(2);
/// assert_eq!(pool.apply(square, 12), Ok(144));
/// assert_eq!(pool.map(square, 1..=5, None), Ok(vec![1, 4, 9, 16, 25]));
/// let mut sum = 0;
/// for r in pool.imap_unordered(square, 0..10u64, 3) {
///     sum += r.unwrap();
/// }
/// assert_eq!(sum, 285);
/// pool.close();
/// pool.join().unwrap();
/// ```
pub struct Pool {
    cfg: Config,
    shared: OnceLock<Arc<Shared>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.cfg.processes)
            .field("maxtasksperchild", &self.cfg.max_tasks)
            .field("task_timeout", &self.cfg.task_timeout)
            .field("started", &self.shared.get().is_some())
            .finish()
    }
}

impl Default for Pool {
    /// A pool with one worker per CPU: Python's `Pool()`.
    fn default() -> Self {
        Pool::new(0)
    }
}

/// Python's default `map` chunk size: `len / (4 x workers)`, rounded up.
pub(crate) fn default_chunksize(len: usize, workers: usize) -> usize {
    let per = 4 * workers.max(1);
    (len / per + usize::from(len % per != 0)).max(1)
}

impl Pool {
    /// A pool of `processes` workers (0 means one per CPU, Python's `processes=None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.processes(), 1);
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn new(processes: usize) -> Pool {
        let mut cfg = default_config("SpawnPool");
        cfg.processes = if processes == 0 {
            crate::cpu_count()
        } else {
            processes
        };
        Pool {
            cfg,
            shared: OnceLock::new(),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Config)) -> Pool {
        // Settings are fixed when the workers start: a pool that already ran tasks is
        // terminated first and starts afresh with the new settings.
        if let Some(old) = self.shared.take() {
            old.terminate();
            old.join_until(None);
        }
        f(&mut self.cfg);
        self
    }

    /// Runs `f(args)` in each worker before its first task: Python's `initializer=`,
    /// `initargs=`. A panicking initializer breaks the pool: tasks fail with
    /// [`PoolError::Broken`] naming the message, and no worker is restarted. A worker killed
    /// or crashing inside the initializer is replaced, up to
    /// [`MAX_START_FAILURES`](super::MAX_START_FAILURES) times in a row.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn setup(_tag: String) {}
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).initializer(setup, "ready".to_string());
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn initializer<A>(self, f: fn(A), args: A) -> Pool
    where
        A: Serialize + DeserializeOwned + Send + 'static,
    {
        let call = Call::new(f, &args);
        self.with(|c| match call {
            Ok(call) => c.initializer = Some(call),
            Err(e) => c.refuse = Some(BrokenReason::with_source("cannot ship the initializer", e)),
        })
    }

    /// Replaces each worker after it has run `n` tasks (a `map` chunk counts as one):
    /// Python's `maxtasksperchild`. No task is lost or run twice across the switch.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn pid(_: ()) -> u32 { std::process::id() }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).maxtasksperchild(1);
    /// let first = pool.apply(pid, ()).unwrap();
    /// let second = pool.apply(pid, ()).unwrap();
    /// assert_ne!(first, second); // each task ran in a fresh worker
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn maxtasksperchild(self, n: usize) -> Pool {
        self.with(|c| c.max_tasks = Some(n.max(1) as u64))
    }

    /// Fails any task running longer than `timeout` with [`PoolError::Timeout`] and kills and
    /// replaces its worker (no Python twin). The clock starts when the worker takes the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).task_timeout(Duration::from_millis(100));
    /// assert_eq!(pool.apply(never_ends, ()), Err(PoolError::Timeout));
    /// assert_eq!(pool.apply(|x: u8| x + 1, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn task_timeout(self, timeout: Duration) -> Pool {
        self.with(|c| c.task_timeout = Some(timeout))
    }

    /// What a worker's death does to the pool: [`OnWorkerDeath::Replace`] (the default) or
    /// Python `concurrent.futures`' [`OnWorkerDeath::Break`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{OnWorkerDeath, Pool, PoolError};
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    /// fn crash(_: ()) -> u32 { std::process::abort() }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).on_worker_death(OnWorkerDeath::Break);
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// assert!(pool.apply(crash, ()).is_err());
    /// // The death broke the pool: later tasks are refused.
    /// assert!(matches!(pool.apply(inc, 1), Err(PoolError::Broken(_))));
    /// pool.terminate();
    /// ```
    pub fn on_worker_death(self, policy: OnWorkerDeath) -> Pool {
        self.with(|c| c.on_death = policy)
    }

    /// How workers are created. Only [`StartMethod::Spawn`] is supported; a pool given another
    /// method is broken (every task fails with [`PoolError::Broken`] saying why): the pool's
    /// own supervisor thread makes `fork` unsound, and fork-server children are not children
    /// of this process, so the pool could neither reap them for their exit signal nor tie
    /// their life to its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    /// use spindle_process::StartMethod;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let refused = Pool::new(1).start_method(StartMethod::ForkServer);
    /// assert!(matches!(refused.apply(inc, 1), Err(PoolError::Broken(_))));
    /// refused.terminate();
    /// let pool = Pool::new(1).start_method(StartMethod::Spawn);
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn start_method(self, method: StartMethod) -> Pool {
        self.with(|c| {
            c.refuse = match method {
                StartMethod::Spawn => None,
                other => Some(BrokenReason::new(format!(
                    "start method {other:?} is not supported by process pools; use Spawn"
                ))),
            }
        })
    }

    /// How long an idle worker (and the supervisor) keeps polling for work before blocking
    /// (default 50 us; zero blocks at once). Polling turns a ~20 us wake-up into ~1 us when
    /// tasks come back to back, at the price of that much CPU per idle period.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::Pool;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).spin(Duration::ZERO);
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn spin(self, spin: Duration) -> Pool {
        self.with(|c| c.spin = spin)
    }

    /// Fixes how many tasks each worker may hold at once. By default this adapts: 2 (one
    /// running, one ready) while tasks are long or new, up to 64 while they take under 0.2 ms,
    /// so that short tasks travel in batches. Tasks already handed to a worker are no longer
    /// pending: `shutdown(cancel_futures)` cannot withdraw them.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).tasks_in_flight(1);
    /// assert_eq!(pool.map(inc, 0..4, Some(1)), Ok(vec![1, 2, 3, 4]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn tasks_in_flight(self, n: usize) -> Pool {
        self.with(|c| c.in_flight = Some(n.max(1)))
    }

    /// Whether tasks and replies travel through per-worker shared-memory rings (the default)
    /// or only through the worker's pipes. Rings hand a message over without a system call
    /// when the other side is polling; pipes remain for wake-ups, end of file and messages
    /// over 32 KiB either way. Turning rings off is for measurement and for systems that
    /// refuse `memfd`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1).shared_memory_rings(false);
    /// assert_eq!(pool.apply(inc, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn shared_memory_rings(self, on: bool) -> Pool {
        self.with(|c| c.rings = on)
    }

    /// The number of workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// # spindle_process::init();
    /// assert_eq!(Pool::new(2).processes(), 2);
    /// assert!(Pool::new(0).processes() >= 1); // one per CPU
    /// ```
    pub fn processes(&self) -> usize {
        self.cfg.processes
    }

    fn shared(&self) -> &Arc<Shared> {
        self.shared.get_or_init(|| Shared::new(self.cfg.clone()))
    }

    /// Pids of the live workers (empty before the first task); for diagnostics and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn pid(_: ()) -> u32 { std::process::id() }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert!(pool.worker_pids().is_empty());
    /// let pid = pool.apply(pid, ()).unwrap();
    /// assert_eq!(pool.worker_pids(), vec![pid]);
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        self.shared.get().map(|s| s.pids()).unwrap_or_default()
    }

    /// A snapshot of the pool's counters, counted in the parent where tasks are dispatched
    /// and results arrive: items submitted, running, completed, failed (panicked, or lost
    /// with a worker that died or overran its timeout, or failed by `terminate`) and
    /// cancelled; `worker_restarts`, the workers started to replace one that died, timed out
    /// or reached `maxtasksperchild`; and per live worker (keyed by pid) the items it sent
    /// back and the time it had a task running. See [`PoolStats`](spindle_futures::PoolStats).
    ///
    /// Counts are per item: a chunk of `map` or `imap` adds its length. A result is counted
    /// before it is delivered, so a caller that has it sees it counted; a replaced worker's
    /// items stay in the totals but leave `workers`. All zero before the first task.
    ///
    /// # Differences from Python
    ///
    /// Python's `Pool` has no counters; this is mpire's `enable_insights` without its cost
    /// in the workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn double(x: u64) -> u64 { x * 2 }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(2);
    /// assert_eq!(pool.stats().submitted, 0);
    /// assert_eq!(pool.map(double, 0..10u64, Some(3)).unwrap().len(), 10);
    /// let stats = pool.stats();
    /// assert_eq!((stats.submitted, stats.completed, stats.failed), (10, 10, 0));
    /// assert_eq!(stats.running, 0);
    /// let pids: Vec<u64> = stats.workers.iter().map(|w| w.id).collect();
    /// assert!(pids.iter().all(|pid| pool.worker_pids().contains(&(*pid as u32))));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn stats(&self) -> spindle_futures::PoolStats {
        self.shared.get().map(|s| s.stats()).unwrap_or_default()
    }

    fn async_one<A, R>(&self, f: fn(A) -> R, args: A, timeout: Option<Duration>) -> AsyncResult<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        AsyncResult::new(submit_one(self.shared(), f, args, timeout, true))
    }

    /// Runs `f(args)` in a worker and waits for the result: Python's `pool.apply(f, args)`.
    ///
    /// # Errors
    ///
    /// [`PoolError::Panicked`] if `f` panicked; [`PoolError::WorkerDied`] if its worker died;
    /// [`PoolError::Timeout`] past the pool's task timeout; [`PoolError::Encode`] /
    /// [`PoolError::Decode`] if the arguments or result do not travel;
    /// [`PoolError::Broken`] / [`PoolError::Closed`] if the pool cannot run it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply(square, 7), Ok(49));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn apply<A, R>(&self, f: fn(A) -> R, args: A) -> Result<R, PoolError>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.async_one(f, args, None).into_result()
    }

    /// [`apply`](Pool::apply) with a timeout for this task: past it the worker is killed and
    /// replaced and the call returns [`PoolError::Timeout`].
    ///
    /// # Errors
    ///
    /// As [`apply`](Pool::apply).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply_timeout(square, 7, Duration::from_secs(60)), Ok(49));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn apply_timeout<A, R>(
        &self,
        f: fn(A) -> R,
        args: A,
        timeout: Duration,
    ) -> Result<R, PoolError>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.async_one(f, args, Some(timeout)).into_result()
    }

    /// Submits `f(args)` and returns at once: Python's `pool.apply_async(f, args)`. Attach
    /// Python's `callback` / `error_callback` with [`AsyncResult::callback`] and
    /// [`AsyncResult::error_callback`]. On a closed or broken pool the result is already failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    /// use spindle_process::pool::Pool;
    ///
    /// fn shout(s: String) -> String { s.to_uppercase() }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let (tx, rx) = channel();
    /// let r = pool.apply_async(shout, "hi".to_string()).callback(move |v| tx.send(v.clone()).unwrap());
    /// assert_eq!(rx.recv().unwrap(), "HI");
    /// assert!(r.ready());
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn apply_async<A, R>(&self, f: fn(A) -> R, args: A) -> AsyncResult<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.async_one(f, args, None)
    }

    /// [`apply_async`](Pool::apply_async) with a timeout for this task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.apply_async_timeout(never_ends, (), Duration::from_millis(100));
    /// assert_eq!(r.get(None), Err(PoolError::Timeout));
    /// // Its worker was killed and replaced; the pool goes on.
    /// assert_eq!(pool.apply(|x: u8| x + 1, 1), Ok(2));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn apply_async_timeout<A, R>(
        &self,
        f: fn(A) -> R,
        args: A,
        timeout: Duration,
    ) -> AsyncResult<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.async_one(f, args, Some(timeout))
    }

    /// Applies `f` to every item and returns the results in input order: Python's
    /// `pool.map(f, iterable, chunksize)`.
    ///
    /// The input is collected first (as Python does, to size the chunks); `chunksize` `None`
    /// picks Python's default, `len / (4 x processes)` rounded up.
    ///
    /// # Errors
    ///
    /// The first failing item's error (see [`apply`](Pool::apply)); the other items still
    /// ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.map(square, 1..=4, None), Ok(vec![1, 4, 9, 16]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn map<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.map_async(f, iter, chunksize).into_result()
    }

    /// [`map`](Pool::map) without waiting: Python's `pool.map_async`. The [`AsyncResult`]
    /// holds the whole vector, or the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.map_async(square, 1..=4, Some(2));
    /// assert_eq!(r.get(None), Ok(vec![1, 4, 9, 16]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn map_async<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: Option<usize>,
    ) -> AsyncResult<Vec<R>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let items: Vec<A> = iter.into_iter().collect();
        let fut = Future::new();
        if items.is_empty() {
            let _ = fut.set_result(Vec::new());
            return AsyncResult::new(fut);
        }
        let size = chunksize
            .unwrap_or_else(|| default_chunksize(items.len(), self.cfg.processes))
            .max(1);
        let chunks = items.len().div_ceil(size);
        let gather = GatherSink::gather(items.len(), chunks);
        let shared = self.shared();
        for (i, chunk) in items.chunks(size).enumerate() {
            let sink = GatherSink {
                offset: i * size,
                n: chunk.len(),
                gather: Arc::clone(&gather),
                fut: fut.clone(),
            };
            submit_items(shared, f, chunk, None, Box::new(sink));
        }
        AsyncResult::new(fut)
    }

    /// Python's `pool.starmap(f, iterable_of_tuples)`: the same as [`map`](Pool::map), since a
    /// Rust `fn((A, B)) -> R` already receives its arguments as one tuple.
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn add((a, b): (u32, u32)) -> u32 { a + b }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.starmap(add, [(1, 2), (3, 4)], None), Ok(vec![3, 7]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn starmap<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.map(f, iter, chunksize)
    }

    /// Python's `pool.starmap_async`: [`map_async`](Pool::map_async) over argument tuples.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn add((a, b): (u32, u32)) -> u32 { a + b }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.starmap_async(add, [(1, 2), (3, 4)], None);
    /// assert_eq!(r.get(None), Ok(vec![3, 7]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn starmap_async<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: Option<usize>,
    ) -> AsyncResult<Vec<R>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.map_async(f, iter, chunksize)
    }

    /// A lazy, ordered stream of `f` over `iter`, sent in chunks of `chunksize` (Python's
    /// default is 1): Python's `pool.imap`. See [`IMap`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn checked_half(x: u32) -> u32 {
    ///     assert!(x % 2 == 0, "{x} is odd");
    ///     x / 2
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(2);
    /// let out: Vec<Result<u32, PoolError>> = pool.imap(checked_half, [2, 3, 8], 1).collect();
    /// assert_eq!(out[0], Ok(1));
    /// assert_eq!(out[1], Err(PoolError::Panicked("3 is odd".into())));
    /// assert_eq!(out[2], Ok(4));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn imap<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: usize,
    ) -> IMap<'_, I::IntoIter, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        ordered(self.shared(), f, iter, chunksize, 2 * self.cfg.processes)
    }

    /// A lazy stream of `f` over `iter` in completion order: Python's `pool.imap_unordered`.
    /// See [`IMapUnordered`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let mut out: Vec<u64> = pool.imap_unordered(square, 1..=4u64, 2).map(Result::unwrap).collect();
    /// out.sort();
    /// assert_eq!(out, [1, 4, 9, 16]);
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn imap_unordered<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: usize,
    ) -> IMapUnordered<I::IntoIter, A, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let chunks = Chunks::new(iter.into_iter(), chunksize);
        IMapUnordered::new(Arc::clone(self.shared()), f, chunks, 2 * self.cfg.processes)
    }

    /// Stops accepting tasks; the accepted ones still run, then the workers leave: Python's
    /// `pool.close()`. Later submissions fail with [`PoolError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply(square, 3), Ok(9));
    /// pool.close();
    /// assert_eq!(pool.apply(square, 3), Err(PoolError::Closed));
    /// pool.join().unwrap();
    /// ```
    pub fn close(&self) {
        self.shared().close();
    }

    /// Kills the workers at once; unfinished results fail with [`PoolError::Closed`]:
    /// Python's `pool.terminate()`. Returns once every worker is reaped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.apply_async(never_ends, ());
    /// pool.terminate();
    /// assert_eq!(r.get(None), Err(PoolError::Closed));
    /// pool.join().unwrap();
    /// ```
    pub fn terminate(&self) {
        let s = self.shared();
        s.terminate();
        s.join_until(None);
    }

    /// Waits for the workers to leave after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate): Python's `pool.join()`.
    ///
    /// # Errors
    ///
    /// [`PoolError::Broken`] with "pool is still running" if neither was called (Python
    /// raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply(square, 3), Ok(9));
    /// assert!(matches!(pool.join(), Err(PoolError::Broken(_))));
    /// pool.close();
    /// assert_eq!(pool.join(), Ok(()));
    /// ```
    pub fn join(&self) -> Result<(), PoolError> {
        self.join_inner(None).map(drop)
    }

    /// [`join`](Pool::join) waiting at most `timeout`; `Ok(true)` once the workers are gone.
    ///
    /// # Errors
    ///
    /// As [`join`](Pool::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply(square, 3), Ok(9));
    /// pool.close();
    /// assert_eq!(pool.join_timeout(Duration::from_secs(60)), Ok(true));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, PoolError> {
        self.join_inner(Instant::now().checked_add(timeout))
    }

    fn join_inner(&self, deadline: Option<Instant>) -> Result<bool, PoolError> {
        let shared = self.shared();
        {
            let st = shared.state.lock();
            if !st.closing {
                return Err(PoolError::Broken(BrokenReason::new(
                    "pool is still running; call close or terminate first",
                )));
            }
        }
        Ok(shared.join_until(deadline))
    }
}

impl Drop for Pool {
    /// Terminates the pool, like leaving Python's `with Pool() as pool:` block.
    fn drop(&mut self) {
        if let Some(s) = self.shared.get() {
            s.terminate();
            s.join_until(None);
        }
    }
}

/// The ordered chunked stream shared by `Pool::imap` and `ProcessPoolExecutor::map`.
pub(crate) fn ordered<'a, A, R, I>(
    shared: &'a Arc<Shared>,
    f: fn(A) -> R,
    iter: I,
    chunksize: usize,
    read_ahead: usize,
) -> IMap<'a, I::IntoIter, R>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    I: IntoIterator<Item = A>,
{
    let chunks = Chunks::new(iter.into_iter(), chunksize);
    let submit = move |chunk: Vec<A>| {
        let fut = Future::new();
        let sink = ChunkSink {
            n: chunk.len(),
            fut: fut.clone(),
        };
        submit_items(shared, f, &chunk, None, Box::new(sink));
        fut
    };
    IMap::new(Map::new(chunks, Box::new(submit), read_ahead))
}

#[cfg(test)]
mod tests {
    use super::default_chunksize;

    #[test]
    fn chunksize_matches_python() {
        // Python: divmod(len, 4 * processes), plus one if there is a remainder.
        assert_eq!(default_chunksize(100, 2), 13);
        assert_eq!(default_chunksize(8, 2), 1);
        assert_eq!(default_chunksize(9, 2), 2);
        assert_eq!(default_chunksize(1, 4), 1);
        assert_eq!(default_chunksize(20_000, 2), 2500);
    }
}
