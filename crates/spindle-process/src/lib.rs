//! Python's `multiprocessing`, in Rust: processes, pipes, process-shared locks and queues,
//! and shared memory.
//!
//! # Map
//!
//! - Processes: [`Process`], [`StartMethod`], [`init`], [`test_support!`],
//!   [`current_process`], [`parent_process`], [`active_children`], [`cpu_count`].
//! - Pipes: [`Pipe`], [`Connection`], [`connection::wait`].
//! - Queues: [`Queue`], [`JoinableQueue`], [`SimpleQueue`].
//! - Locks and friends shared between processes: [`Lock`], [`RLock`], [`Semaphore`],
//!   [`BoundedSemaphore`], [`Event`], [`Condition`], [`Barrier`].
//! - Shared memory: [`shared_memory::SharedMemory`], [`shared_memory::ShareableList`],
//!   [`Value`], [`Array`].
//! - Process pools: [`Pool`], [`ProcessPoolExecutor`], [`AsyncResult`], [`PoolError`],
//!   [`OnWorkerDeath`] (module [`pool`]).
//! - Managers (a server process owning shared objects, reached through proxies): [`Manager`],
//!   [`ManagerError`] (module [`managers`]).
//! - Function shipping (how a `fn` reaches a worker; reused by pools and MPI): [`shipping`].
//!
//! # Starting workers: call `init()` first
//!
//! The default start method re-executes the running program, so the program must recognise
//! that it was started as a worker before doing anything else:
//!
//! ```
//! fn main() {
//!     spindle_process::init(); // returns at once here; never returns in a worker
//!     // ...
//! }
//! # main();
//! ```
//!
//! Test and bench binaries whose `main` belongs to libtest put one line at the top of the file
//! instead: `spindle_process::test_support!();` (it runs `init` from an ELF `.init_array`
//! constructor, before libtest starts). A program started as a worker that did not call
//! `init` refuses to start processes ([`ProcessError::NotInitialized`]) and gets an unknown
//! `--spindle-worker` argument, so it fails fast instead of re-running its `main` forever.
//!
//! # Start methods
//!
//! [`StartMethod::Spawn`] (default) re-executes `/proc/self/exe`; [`StartMethod::ForkServer`]
//! forks children from a single-threaded server spawned on first use; [`StartMethod::Fork`]
//! forks the caller and can only be chosen through the `unsafe` [`StartMethod::fork`],
//! because `fork` in a process with threads can deadlock the child.
//!
//! # Exit, daemons and crashes
//!
//! When a program that started processes exits normally (`main` returns or
//! `std::process::exit` runs), an `atexit` handler sends `SIGTERM` to its daemon children and
//! joins the others, as Python does at interpreter exit. If the parent dies abruptly, daemon
//! children started from its main thread get `SIGKILL` from the kernel
//! (`PR_SET_PDEATHSIG`; that signal follows the spawning *thread*, so it is not armed for
//! children started from other threads). Named shared-memory segments nobody unlinked are
//! removed once the whole process tree has gone (see [`shared_memory`]); process-shared locks
//! whose holder died are taken over by the next acquirer ([`synchronize`]).
//!
//! # Handles as arguments
//!
//! Every handle here implements `Serialize`/`Deserialize` so that it can be an argument of a
//! [`Process`], as Python pickles them: descriptors (pipes, the memory behind locks, values and
//! queues) are inherited by the child, named segments travel by name. Serialising a
//! descriptor-owning handle anywhere else is an error, never a dangling descriptor.
//!
//! # Platform
//!
//! Linux only (futex, `memfd`, `/proc/self/exe`).

mod codec;
pub mod connection;
mod current;
mod forkserver;
mod heap;
pub mod managers;
pub mod pool;
mod process;
pub mod queues;
mod reduction;
mod resource_tracker;
pub mod shared_memory;
mod sharedctypes;
pub mod shipping;
pub mod synchronize;
mod sys;
mod worker;

pub use connection::{Connection, ConnectionError, Pipe};
pub use current::{active_children, current_process, parent_process, ProcessInfo};
pub use managers::{Manager, ManagerError};
pub use pool::{AsyncResult, OnWorkerDeath, Pool, PoolError, ProcessPoolExecutor};
pub use process::{ForkPermit, Process, ProcessError, StartMethod};
pub use queues::{JoinableQueue, Queue, SimpleQueue};
pub use sharedctypes::{Array, Pod, Value};
pub use synchronize::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
pub use worker::init;

/// Number of CPUs the system has online: Python's `multiprocessing.cpu_count()`.
///
/// # Examples
///
/// ```
/// assert!(spindle_process::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    sys::cpu_count()
}
