//! [`MpiPoolExecutor`] and its builder: `concurrent.futures` over MPI ranks, as mpi4py's
//! `MPIPoolExecutor` run with `mpirun -n N python -m mpi4py.futures app.py`.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spindle_futures::{Future, Map, PoolStats, RemoteExecutor};
use spindle_process::shipping::{encode_batch_into, ShipError};

use crate::backoff::Backoff;
use crate::comm::{self, Session, MAX_MESSAGE};
use crate::counters::Counters;
use crate::dispatcher::{Command, Dispatcher, Job, Plan};
use crate::map::MpiMap;
use crate::sink::{FutureSink, Sink};
use crate::startup;
use crate::wire;
use crate::{MpiError, WorkerInfo};

/// Configures an [`MpiPoolExecutor`]; every rank runs the same builder code, so the settings
/// reach the workers too.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_mpi::{MpiError, MpiPoolExecutor};
///
/// let started = MpiPoolExecutor::builder()
///     .max_workers(2)
///     .tasks_in_flight(4)
///     .idle_poll(Duration::from_micros(500))
///     .start();
/// match started {
///     Ok(pool) => assert!(pool.max_workers() <= 2),
///     // Run as a plain program (as `cargo test` runs this), not under mpirun.
///     Err(e) => assert_eq!(e, MpiError::NoWorkers { size: 1 }),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct MpiPoolBuilder {
    max_workers: Option<usize>,
    initializer: Option<Result<Vec<u8>, ShipError>>,
    depth: Option<usize>,
    idle_poll: Duration,
    keep_freed_memory: bool,
}

impl Default for MpiPoolBuilder {
    fn default() -> Self {
        MpiPoolBuilder {
            max_workers: None,
            initializer: None,
            depth: None,
            idle_poll: Duration::from_millis(1),
            keep_freed_memory: true,
        }
    }
}

impl MpiPoolBuilder {
    /// Uses at most `n` worker ranks (at least 1): Python's `max_workers`. Ranks beyond them
    /// exit at start. The default is every rank but 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// if let Ok(pool) = MpiPoolExecutor::builder().max_workers(1).start() {
    ///     assert_eq!(pool.max_workers(), 1);
    /// }
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n.max(1));
        self
    }

    /// Runs `f(args)` on every worker before its first task: Python's
    /// `initializer=f, initargs=args`. If it panics on any worker, the pool is broken: every
    /// task fails with [`FutureError::BrokenExecutor`](spindle_futures::FutureError::BrokenExecutor) naming the rank and host.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn check_config(expected: u32) {
    ///     assert_eq!(expected, 3, "wrong configuration");
    /// }
    /// if let Ok(pool) = MpiPoolExecutor::builder().initializer(check_config, 3).start() {
    ///     fn one(_: ()) -> u8 { 1 }
    ///     assert_eq!(pool.submit(one, ()).result(), Ok(1));
    /// }
    /// ```
    pub fn initializer<A>(mut self, f: fn(A), args: A) -> Self
    where
        A: Serialize + DeserializeOwned,
    {
        let mut batch = Vec::new();
        self.initializer =
            Some(encode_batch_into(f, std::slice::from_ref(&args), &mut batch).map(|()| batch));
        self
    }

    /// How many tasks rank 0 sends a worker ahead of its results (at least 1), so the worker
    /// starts the next task without waiting for a round trip. By default it adapts: 2 until a
    /// worker's first reply, then enough tasks for about 2 ms of work, up to 64 short ones.
    /// Tasks not yet sent can still be cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::{MpiError, MpiPoolExecutor};
    ///
    /// fn id(x: u8) -> u8 { x }
    /// // One task per worker at a time: the most even spread for long, uneven tasks.
    /// match MpiPoolExecutor::builder().tasks_in_flight(1).start() {
    ///     Ok(pool) => assert_eq!(pool.submit(id, 3).result(), Ok(3)),
    ///     Err(e) => assert_eq!(e, MpiError::NoWorkers { size: 1 }), // not under mpirun
    /// }
    /// ```
    pub fn tasks_in_flight(mut self, n: usize) -> Self {
        self.depth = Some(n.max(1));
        self
    }

    /// The longest pause between two polls of an idle rank (default 1 ms, as mpi4py). MPI's
    /// own waits spin a core; spindle's ranks poll hot for a few microseconds after each
    /// message, then yield, then sleep with doubling pauses up to this ceiling. A lower
    /// ceiling wakes an idle worker sooner at the cost of more wake-ups.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_mpi::{MpiError, MpiPoolExecutor};
    ///
    /// fn id(x: u8) -> u8 { x }
    /// match MpiPoolExecutor::builder().idle_poll(Duration::from_micros(100)).start() {
    ///     Ok(pool) => assert_eq!(pool.submit(id, 3).result(), Ok(3)),
    ///     Err(e) => assert_eq!(e, MpiError::NoWorkers { size: 1 }), // not under mpirun
    /// }
    /// ```
    pub fn idle_poll(mut self, ceiling: Duration) -> Self {
        self.idle_poll = ceiling;
        self
    }

    /// Whether rank 0 also keeps freed memory for reuse (default: yes), as the worker ranks
    /// always do: glibc then serves buffers up to 16 MiB from its heap and keeps up to 32 MiB
    /// of freed heap ([`spindle_process::pool::keep_freed_memory`]). Without it each
    /// MiB-sized argument is a fresh `mmap` faulted in page by page on rank 0, which here made
    /// a 1 MiB task three times slower. It is a process-wide allocator setting, made once at
    /// start; turn it off to leave rank 0's allocator as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::{MpiError, MpiPoolExecutor};
    ///
    /// fn len(b: Vec<u8>) -> usize { b.len() }
    /// match MpiPoolExecutor::builder().keep_freed_memory(false).start() {
    ///     Ok(pool) => assert_eq!(pool.submit(len, vec![0; 4096]).result(), Ok(4096)),
    ///     Err(e) => assert_eq!(e, MpiError::NoWorkers { size: 1 }), // not under mpirun
    /// }
    /// ```
    pub fn keep_freed_memory(mut self, on: bool) -> Self {
        self.keep_freed_memory = on;
        self
    }

    /// Initialises MPI and starts the pool: on rank 0 returns the executor; on every other
    /// rank serves tasks until rank 0 shuts the pool down, then finalises MPI and exits the
    /// process, so workers never run the rest of `main`. Call it first thing in `main`.
    ///
    /// It begins with [`spindle_process::init`], so the program can also use process pools:
    /// on rank 0, or inside a task on a worker to keep a crash-prone call from ending the job
    /// (see the crate docs).
    ///
    /// # Errors
    ///
    /// [`MpiError::NoWorkers`] if the job has a single rank (not started with `mpirun -n 2`
    /// or more); [`MpiError::AlreadyInitialized`] on a second call or if other code
    /// initialised MPI; [`MpiError::ThreadSupport`] if MPI cannot be called from the pool's
    /// thread; [`MpiError::BuildMismatch`] if a worker runs a different build of the program
    /// ([`MpiError::Remote`] if its greeting does not even decode);
    /// [`MpiError::Ship`] if the initializer's arguments do not encode. On every error the
    /// workers are told to exit, so the job ends instead of hanging.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::{MpiError, MpiPoolExecutor};
    ///
    /// match MpiPoolExecutor::builder().start() {
    ///     Ok(pool) => assert!(pool.max_workers() >= 1),
    ///     Err(MpiError::NoWorkers { size }) => assert_eq!(size, 1), // run me with `mpirun -n 3`
    ///     Err(e) => panic!("{e}"),
    /// }
    /// ```
    pub fn start(self) -> Result<MpiPoolExecutor, MpiError> {
        // A process pool's worker re-executes this program: serve it before MPI starts.
        spindle_process::init();
        let session = comm::initialize()?;
        if session.size < 2 {
            return Err(MpiError::NoWorkers { size: session.size });
        }
        let backoff = Backoff::new(self.idle_poll);
        if session.rank != 0 {
            crate::worker::serve(session, backoff);
        }
        if self.keep_freed_memory {
            spindle_process::pool::keep_freed_memory();
        }
        let limit = self.max_workers.unwrap_or(usize::MAX);
        let ready = startup::handshake(&session, limit, self.initializer.as_ref(), &backoff)?;
        Ok(MpiPoolExecutor::launch(
            session,
            ready.workers,
            ready.broken,
            self.depth,
            backoff,
        ))
    }
}

/// A `concurrent.futures` executor whose workers are the ranks 1.. of an MPI job: mpi4py's
/// `MPIPoolExecutor`. Rank 0 runs `main` and submits; tasks are plain functions with serde
/// arguments ([`RemoteExecutor`]), as for the process pool, and results are spindle
/// [`Future`]s, so `wait`, `as_completed` and generic code work unchanged.
///
/// Start the program with `mpirun -n 3 ./app` (rank 0 plus two workers); see the crate docs
/// for what happens when a task panics or a rank dies.
///
/// Dropping the executor shuts it down (waiting for the queued tasks), stops the workers and
/// finalises MPI.
///
/// Futures are settled, and their done callbacks run, on the pool's own thread on rank 0:
/// keep callbacks short, and do not wait in one for another of the pool's futures (the
/// thread that would settle it is the one waiting). `shutdown` from a callback does not wait.
///
/// # Differences from Python
///
/// mpi4py's `MPIPoolExecutor()` can spawn its workers at run time (`MPI_Comm_spawn`); here the
/// workers are the job's own ranks, as with `python -m mpi4py.futures` or
/// `MPICommExecutor`. There is no per-task timeout (a running task cannot be stopped without
/// killing its rank, which ends the job); wait with `result_timeout` instead.
///
/// # Examples
///
/// ```
/// use spindle_mpi::{MpiError, MpiPoolExecutor};
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> Result<(), MpiError> {
///     let pool = match MpiPoolExecutor::start() {
///         Ok(pool) => pool,
///         // `cargo test` runs this without mpirun: a single rank has no workers.
///         Err(MpiError::NoWorkers { size: 1 }) => return Ok(()),
///         Err(e) => return Err(e),
///     };
///     assert_eq!(pool.submit(square, 12).result(), Ok(144));
///     let squares: Vec<u64> = pool.map(square, 0..10, 4).map(Result::unwrap).collect();
///     assert_eq!(squares[9], 81);
///     Ok(())
/// }
/// ```
pub struct MpiPoolExecutor {
    commands: Sender<Command>,
    thread: Mutex<Option<JoinHandle<()>>>,
    workers: Vec<WorkerInfo>,
    counters: Arc<Counters>,
    closed: std::sync::atomic::AtomicBool,
    /// Finalises MPI when dropped, after the pool thread has stopped the workers.
    session: Option<Session>,
}

impl std::fmt::Debug for MpiPoolExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpiPoolExecutor")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl MpiPoolExecutor {
    /// Starts a pool with the default settings: `MpiPoolExecutor::builder().start()`.
    ///
    /// # Errors
    ///
    /// As [`MpiPoolBuilder::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::{MpiError, MpiPoolExecutor};
    ///
    /// match MpiPoolExecutor::start() {
    ///     Ok(pool) => assert!(pool.max_workers() >= 1),
    ///     Err(e) => assert!(e.to_string().contains("mpirun")),
    /// }
    /// ```
    pub fn start() -> Result<MpiPoolExecutor, MpiError> {
        MpiPoolBuilder::default().start()
    }

    /// A builder for a pool with other settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// let builder = MpiPoolExecutor::builder().max_workers(4);
    /// assert!(format!("{builder:?}").contains("max_workers: Some(4)"));
    /// ```
    pub fn builder() -> MpiPoolBuilder {
        MpiPoolBuilder::default()
    }

    fn launch(
        session: Session,
        workers: Vec<WorkerInfo>,
        broken: Option<String>,
        depth: Option<usize>,
        backoff: Backoff,
    ) -> MpiPoolExecutor {
        let (commands, inbox) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::new(workers.len()));
        let plan = Plan {
            workers: workers.clone(),
            depth,
            broken,
            backoff,
        };
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("spindle-mpi-pool".into())
            .spawn(move || Dispatcher::new(plan, inbox, thread_counters).run())
            .expect("cannot start the MPI pool thread");
        MpiPoolExecutor {
            commands,
            thread: Mutex::new(Some(thread)),
            workers,
            counters,
            closed: std::sync::atomic::AtomicBool::new(false),
            session: Some(session),
        }
    }

    /// The number of worker ranks the pool uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     assert_eq!(pool.max_workers(), pool.workers().len());
    /// }
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.len()
    }

    /// The worker ranks and their hosts, in rank order.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     assert_eq!(pool.workers()[0].rank, 1);
    /// }
    /// ```
    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
    }

    /// What the pool has done: tasks submitted, running and finished (counted per item, so
    /// a `map` of 100 items counts 100) and, per worker rank, items run and time spent
    /// running them (`WorkerStats::id` is the rank).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     assert_eq!(pool.submit(id, 1).result(), Ok(1));
    ///     pool.shutdown(true, false);
    ///     let stats = pool.stats();
    ///     assert_eq!((stats.submitted, stats.completed), (1, 1));
    /// }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.counters.snapshot(&self.workers)
    }

    /// Hands a task to the pool thread; a closed pool fails its future with `ShutDown`.
    fn enqueue(&self, batch: Result<Vec<u8>, ShipError>, sink: Box<dyn Sink>, items: usize) {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return; // dropping the sink fails the future with ShutDown
        }
        self.counters.submitted(items);
        let batch = match batch {
            Ok(batch) if batch.len() + wire::TASK_OVERHEAD <= MAX_MESSAGE => batch,
            Ok(batch) => {
                let e = MpiError::MessageTooLarge {
                    bytes: batch.len() + wire::TASK_OVERHEAD,
                    limit: MAX_MESSAGE,
                };
                return self.fail(sink, e.into());
            }
            Err(e) => {
                let e = MpiError::Ship(e).into();
                return self.fail(sink, e);
            }
        };
        // After shutdown the pool thread may be gone: the returned job's sink then fails the
        // future with ShutDown as it drops.
        let _ = self.commands.send(Command::Task(Job { batch, sink }));
    }

    fn fail(&self, sink: Box<dyn Sink>, error: spindle_futures::FutureError) {
        sink.finish(crate::sink::Outcome::Failed(error), &mut |t| {
            self.counters.settled(t);
        });
    }

    /// Schedules `f(args)` on a worker rank: Python's `executor.submit(fn, *args)`.
    ///
    /// The future fails with `ShutDown` after [`shutdown`](Self::shutdown), `BrokenExecutor`
    /// if the initializer failed, `Panicked` (naming the rank and host) if `f` panicked, and
    /// `Failed(MpiError::..)` if a value did not travel.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn greet(name: String) -> String { format!("hello {name}") }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     assert_eq!(pool.submit(greet, "ann".into()).result().unwrap(), "hello ann");
    /// }
    /// ```
    pub fn submit<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let fut = Future::new();
        let mut batch = Vec::new();
        let encoded = encode_batch_into(f, std::slice::from_ref(&args), &mut batch).map(|()| batch);
        self.enqueue(encoded, Box::new(FutureSink::task(fut.clone())), 1);
        fut
    }

    /// `f` over `iter`, results in input order, sent to the workers `chunksize` items per
    /// message: Python's `executor.map(fn, iterable, chunksize=...)`. Lazy, with at most
    /// `2 x` [`max_workers`](Self::max_workers) chunks in flight; see [`MpiMap`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn cube(x: i64) -> i64 { x * x * x }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     let cubes: Vec<i64> = pool.map(cube, 1..=4, 2).map(Result::unwrap).collect();
    ///     assert_eq!(cubes, [1, 8, 27, 64]);
    /// }
    /// ```
    pub fn map<A, R, I>(
        &self,
        f: fn(A) -> R,
        iter: I,
        chunksize: usize,
    ) -> MpiMap<'_, I::IntoIter, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        MpiMap::new(
            iter.into_iter(),
            chunksize,
            2 * self.max_workers(),
            move |chunk: &[A], sink: Box<dyn Sink>| {
                let mut batch = Vec::new();
                let encoded = encode_batch_into(f, chunk, &mut batch).map(|()| batch);
                self.enqueue(encoded, sink, chunk.len());
            },
        )
    }

    /// Stops accepting work: Python's `executor.shutdown(wait, cancel_futures=...)`.
    ///
    /// With `cancel_futures`, tasks not yet sent to a worker are cancelled (each worker holds
    /// up to [`tasks_in_flight`](MpiPoolBuilder::tasks_in_flight) tasks, which still run).
    /// With `wait`, it returns once every remaining task is done and the workers were told to
    /// exit. Calling it again is harmless. MPI itself is finalised when the executor drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     let done = pool.submit(id, 7);
    ///     pool.shutdown(true, false);
    ///     assert_eq!(done.result(), Ok(7));
    ///     assert_eq!(pool.submit(id, 8).result(), Err(FutureError::ShutDown));
    /// }
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        let _ = self.commands.send(Command::Shutdown { cancel_futures });
        if wait {
            // Holding the lock while joining makes a second waiter wait too.
            let mut thread = self.thread.lock();
            // A done callback runs on the pool thread, which cannot wait for itself: from
            // there, shutting down does not wait (the thread stops once it returns).
            let on_pool_thread = thread
                .as_ref()
                .is_some_and(|t| t.thread().id() == std::thread::current().id());
            if !on_pool_thread {
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

impl Drop for MpiPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
        // The workers have been told to exit; finalising waits for them to finalise too.
        drop(self.session.take());
    }
}

impl RemoteExecutor for MpiPoolExecutor {
    fn submit_fn<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit(f, args)
    }

    /// One task per item, as the trait says; the read-ahead is deeper than the trait's
    /// default (16 tasks per worker, not 2) so that short tasks can be packed into messages.
    /// [`MpiPoolExecutor::map`] with a `chunksize` is faster still.
    fn map_fn<A, R, I>(&self, f: fn(A) -> R, iter: I) -> Map<'_, I::IntoIter, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let submit = move |args: A| self.submit(f, args);
        Map::new(iter.into_iter(), Box::new(submit), 16 * self.max_workers())
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) {
        MpiPoolExecutor::shutdown(self, wait, cancel_futures);
    }

    fn parallelism(&self) -> usize {
        self.max_workers()
    }
}
