//! spindle: Python's concurrency toolbox, rebuilt in Rust.
//!
//! Each module carries the name of its Python twin:
//!
//! - [`threading`]: threads, locks, conditions, semaphores, events, barriers, timers, thread-locals.
//! - [`collections`]: thread-safe dict, list and LRU cache with TTL (the seeds' `ThreadSafe*`).
//! - [`queue`]: `Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`, with Python 3.13's `shutdown`.
//! - [`futures`]: `concurrent.futures`: `Future`, `ThreadPoolExecutor`, `wait`, `as_completed`.
//! - [`multiprocessing`]: processes, pipes, process-shared queues and locks, shared memory.
//! - [`asyncio`]: a single-threaded event loop with tasks, cancellation and async primitives.
//! - `mpi` (feature `mpi`, off by default): `MpiPoolExecutor`, mpi4py's `MPIPoolExecutor`:
//!   the same executor over the ranks of an MPI job.
//!
//! Every item is also reachable from its own crate (`spindle_sync::threading::Lock` is
//! `spindle::threading::Lock`), so each layer can be used alone.

#[doc(inline)]
pub use spindle_sync::{collections, queue, threading};

#[doc(inline)]
pub use spindle_futures as futures;

#[doc(inline)]
pub use spindle_process as multiprocessing;

#[doc(inline)]
pub use spindle_async as asyncio;
#[cfg(feature = "mpi")]
#[doc(inline)]
pub use spindle_mpi as mpi;
