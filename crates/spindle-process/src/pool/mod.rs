//! Process pools: [`Pool`] (Python's `multiprocessing.Pool`) and [`ProcessPoolExecutor`]
//! (Python's `concurrent.futures.ProcessPoolExecutor`), on one engine.
//!
//! - Pools: [`Pool`], [`ProcessPoolExecutor`] with its [`ProcessPoolBuilder`].
//! - Results: [`AsyncResult`], the streams [`IMap`], [`IMapUnordered`], [`ExecutorMap`].
//! - Errors and policy: [`PoolError`], [`BrokenReason`], [`OnWorkerDeath`].
//!
//! Each worker is a spawned copy of this program running a task loop. It shares with the pool
//! two private shared-memory rings (tasks in, replies out; see `ring.rs`) and two pipes (for
//! wake-ups, end of file and messages over 32 KiB); no lock is shared between workers. The
//! submitting thread writes a task straight into the ring of the least busy worker (up to two
//! tasks per worker, so a worker never waits for its next task; up to 64, written in one
//! batch, while tasks are short); one supervisor thread per pool takes the replies, settles
//! the results, reaps and replaces dead workers and kills workers whose task overran its
//! timeout. Idle workers and the supervisor spin briefly on their rings (yielding the CPU),
//! then announce their sleep and block in `poll` on their pipe: an idle pool uses no CPU.
//! Workers arm `PR_SET_PDEATHSIG` and also leave on end of file of their task pipe, so they
//! never outlive the pool's process.
//!
//! # Arguments and results
//!
//! Arguments and results are `serde` values. A task is one message however many items it
//! holds: a chunk of a `map` carries its function token once and its items as one `Vec<A>`,
//! and comes back as one `Vec` of per-item results (a panic still fails only its item).
//!
//! `serde` moves a plain `Vec<u8>` one byte at a time (it cannot tell a byte vector from any
//! other sequence), which costs 2-3 ns a byte. For byte payloads use [`ByteBuf`] or mark
//! the field `#[serde(with = "serde_bytes")]` (both re-exported here): the same bytes on the
//! wire, encoded and decoded as one copy.
//!
//! ```
//! use spindle_process::pool::{ByteBuf, ProcessPoolExecutor};
//!
//! fn checksum(data: ByteBuf) -> u64 {
//!     data.iter().map(|&b| u64::from(b)).sum()
//! }
//!
//! # spindle_process::init();
//! let ex = ProcessPoolExecutor::builder().max_workers(1).build();
//! let data = ByteBuf::from(vec![1u8; 1 << 20]);
//! assert_eq!(ex.submit(checksum, data).into_result().unwrap(), 1 << 20);
//! ex.shutdown(true, false);
//! ```

mod async_result;
mod broken;
mod core;
mod error;
mod executor;
mod iter;
#[allow(clippy::module_inception)]
mod pool;
mod progress;
mod ring;
mod sinks;
mod supervisor;
pub(crate) mod wire;
mod worker_loop;

pub use async_result::AsyncResult;
pub use broken::BrokenReason;
pub use error::PoolError;
pub use executor::{ProcessPoolBuilder, ProcessPoolExecutor};
pub use iter::{ExecutorMap, IMap, IMapUnordered};
pub use pool::Pool;
/// `serde` helpers for byte payloads: `#[serde(with = "serde_bytes")]` on a `Vec<u8>` field
/// makes it one copy instead of one `serde` call per byte.
pub use serde_bytes;
/// A `Vec<u8>` that `serde` moves as one byte string: the fast form of a byte payload.
pub use serde_bytes::ByteBuf;

use self::core::{Config, Shared, Sink, Task};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// What a worker's death (a signal, a crash, an exit inside a task) does to the pool.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::{OnWorkerDeath, PoolError, ProcessPoolExecutor};
///
/// fn crash(_: ()) -> u8 { std::process::abort() }
/// fn inc(x: u8) -> u8 { x + 1 }
///
/// # spindle_process::init();
/// assert_eq!(OnWorkerDeath::default(), OnWorkerDeath::Replace);
/// // Python's behaviour: the first death breaks the executor.
/// let strict = ProcessPoolExecutor::builder()
///     .max_workers(1)
///     .on_worker_death(OnWorkerDeath::Break)
///     .build();
/// let err = strict.submit(crash, ()).exception().unwrap();
/// assert!(matches!(PoolError::from_future_error(&err), PoolError::WorkerDied { .. }));
/// assert!(strict.submit(inc, 1).exception().is_some()); // broken: refused
/// strict.shutdown(true, false);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnWorkerDeath {
    /// Fail only the task the worker had started ([`PoolError::WorkerDied`]), start a new
    /// worker, and run the tasks it had not started elsewhere (the default). A worker that
    /// dies before it is ready (during start-up or inside its initializer) fails no task and
    /// is replaced too, up to [`MAX_START_FAILURES`] times in a row.
    #[default]
    Replace,
    /// Fail that task and every other pending one with [`PoolError::Broken`] and refuse new
    /// tasks: Python's `BrokenProcessPool`.
    Break,
}

/// How many worker start-ups may fail in a row (each worker dying before it said it was
/// ready, with no worker becoming ready in between) before a pool under
/// [`OnWorkerDeath::Replace`] gives up and breaks: [`PoolError::Broken`] then lists every one
/// of those deaths in its [`BrokenReason::causes`].
///
/// A worker killed during start-up or inside its initializer is otherwise simply replaced.
/// The cap stops an initializer that crashes its worker (an abort, a segfault, an exit) from
/// restarting workers forever; it is generous so that deaths from outside (an operator's
/// kill, the OOM killer, a storm of `SIGKILL`s) during start-ups never break a pool whose
/// workers can start. An initializer that panics breaks the pool at once, and so does a
/// worker the operating system refuses to create (the `io::Error` is the error's source).
///
/// # Examples
///
/// ```
/// use spindle_process::pool::{Pool, PoolError, MAX_START_FAILURES};
///
/// fn crash(_: ()) { std::process::exit(3) }
/// fn inc(x: u8) -> u8 { x + 1 }
///
/// # spindle_process::init();
/// let pool = Pool::new(2).initializer(crash, ());
/// let Err(PoolError::Broken(reason)) = pool.apply(inc, 1) else { panic!("not broken") };
/// assert_eq!(reason.causes().len(), MAX_START_FAILURES);
/// assert!(reason.to_string().contains("exited with status 3"));
/// ```
pub const MAX_START_FAILURES: usize = 32;

/// The defaults shared by both pools.
fn default_config(name: &'static str) -> Config {
    Config {
        processes: 1,
        initializer: None,
        max_tasks: None,
        on_death: OnWorkerDeath::Replace,
        task_timeout: None,
        in_flight: None,
        spin: Duration::from_micros(50),
        refuse: None,
        name,
        rings: true,
    }
}

/// Submits the single call `f(args)` and returns the future its result lands in; `exact` keeps
/// every [`PoolError`] whole inside it (for `Pool`, which hands it back as it is) instead of
/// mapping it into the executor's `FutureError`s.
fn submit_one<A, R>(
    shared: &Arc<Shared>,
    f: fn(A) -> R,
    args: A,
    timeout: Option<Duration>,
    exact: bool,
) -> spindle_futures::Future<R>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    let fut = spindle_futures::Future::new();
    submit_items(
        shared,
        f,
        std::slice::from_ref(&args),
        timeout,
        Box::new(sinks::FutureSink {
            fut: fut.clone(),
            exact,
        }),
    );
    fut
}

/// Encodes `f` over `args` as one task and hands it to the pool (or fails the sink).
fn submit_items<A, R>(
    shared: &Arc<Shared>,
    f: fn(A) -> R,
    args: &[A],
    timeout: Option<Duration>,
    sink: Box<dyn Sink>,
) where
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    match wire::encode_task(f, args) {
        Ok(frame) => shared.submit(Task {
            frame,
            claimed: false,
            timeout,
            sink,
        }),
        Err(e) => sink.complete(Err(e), None),
    }
}

/// Makes this process reuse the memory of big task buffers instead of returning it to the
/// system after each task: glibc then serves buffers up to 16 MiB from its heap and keeps up
/// to 32 MiB of freed heap. Without it, every MiB-sized argument is a fresh `mmap` faulted in
/// page by page, which costs more than moving the bytes. spindle's pool workers and MPI worker
/// ranks call it when they start; call it only in a process whose allocations you own. Best
/// effort; a no-op outside glibc.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::keep_freed_memory;
///
/// keep_freed_memory();
/// let big = vec![0u8; 1 << 20]; // now from the heap, and reused once freed
/// assert_eq!(big.len(), 1 << 20);
/// ```
pub fn keep_freed_memory() {
    crate::sys::keep_freed_memory();
}
