//! spindle's executor across machines: [`MpiPoolExecutor`], mpi4py's `MPIPoolExecutor` in
//! Rust, on MPI (the `mpi` crate over Open MPI).
//!
//! The same binary is every rank of the job. Rank 0 runs `main` and gets the executor; ranks
//! 1.. become its workers inside [`MpiPoolExecutor::start`] and never return from it. Tasks
//! are plain functions with serde arguments, shipped as spindle's process pool ships them
//! ([`spindle_process::shipping`]), and the executor implements spindle's
//! [`RemoteExecutor`](spindle_futures::RemoteExecutor): code written for a
//! `ProcessPoolExecutor` runs on a cluster unchanged.
//!
//! ```no_run
//! use spindle_mpi::{MpiError, MpiPoolExecutor};
//!
//! fn is_prime(n: u64) -> bool {
//!     n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
//! }
//!
//! fn main() -> Result<(), MpiError> {
//!     let pool = MpiPoolExecutor::start()?; // workers serve here and exit
//!     let primes = pool.map(is_prime, 0..100_000, 1_000).filter(|r| r == &Ok(true)).count();
//!     println!("{primes} primes below 100000");
//!     Ok(())
//! }
//! ```
//!
//! Run it with `mpirun -n 3 ./app` (add `--oversubscribe` to start more ranks than cores, and
//! `--allow-run-as-root` in a root container). Run without `mpirun`, it is a one-rank job and
//! `start` returns [`MpiError::NoWorkers`], whose message says how to start it. Tests and
//! benches can relaunch themselves as a job with [`launch`].
//!
//! # Failures
//!
//! - A task that panics fails only its own future, with
//!   [`FutureError::Panicked`](spindle_futures::FutureError::Panicked) naming the rank and host;
//!   the worker goes on with the next task. A panic never ends the job.
//! - A rank that *dies* (killed, crashed, or calling `std::process::exit` in a task) ends the
//!   whole job: Open MPI's `mpirun` aborts every rank when one exits without finalising MPI
//!   (its default error handler, `MPI_ERRORS_ARE_FATAL`), and MPI offers no portable way to go
//!   on without the rank. Rank 0 does not survive to fail the task, so there is no error to
//!   report; `mpirun` names the rank and its exit status. A call that may crash can run in a
//!   [`ProcessPoolExecutor`](spindle_process::ProcessPoolExecutor) inside the task: its crash
//!   then fails only that call, with the signal, and the rank goes on:
//!
//! ```no_run
//! use spindle_process::pool::{PoolError, ProcessPoolExecutor};
//!
//! fn risky(input: u64) -> u64 {
//!     // ... a call into a library that may crash ...
//!     input
//! }
//!
//! /// The task the MPI pool runs: `risky` in a child process of the worker rank.
//! fn isolated(input: u64) -> Result<u64, String> {
//!     let local = ProcessPoolExecutor::builder().max_workers(1).build();
//!     local
//!         .submit(risky, input)
//!         .into_result()
//!         .map_err(|e| PoolError::from_future_error(&e).to_string())
//! }
//! ```
//!
//! - A worker running a different build of the program is refused at start
//!   ([`MpiError::BuildMismatch`]): functions travel as code offsets, valid only in the same
//!   build. The build is identified by the linker's build-id note, so a copy of the binary on
//!   another host matches.
//! - Every error at start tells the workers to exit, so a failed start ends the job rather
//!   than leaving it hanging.
//!
//! # Threads and MPI
//!
//! MPI is initialised with `MPI_THREAD_SERIALIZED`, and while the pool lives its own thread on
//! rank 0 makes every MPI call: do not call MPI yourself in the meantime. Idle ranks do not
//! spin: they poll MPI with pauses that grow to 1 ms (see
//! [`MpiPoolBuilder::idle_poll`]), and rank 0's pool thread sleeps when nothing is in flight.
//!
//! # Messages
//!
//! Each task travels as one frame of an MPI message (its function token and encoded
//! arguments; a `map` chunk is one task of many items), and short tasks for the same worker
//! are packed into one message, answered by one reply. Large values travel without extra
//! copies: each side encodes into the buffer MPI sends from, and receives into a buffer of
//! exactly the message's size that is then decoded. Use `ByteBuf` (re-exported as
//! `spindle_process::pool::ByteBuf`) for byte payloads, as with the process pool. One MPI
//! message carries at most `i32::MAX` bytes; a larger task fails with
//! [`MpiError::MessageTooLarge`].

mod backoff;
mod comm;
mod counters;
mod dispatcher;
mod error;
mod executor;
pub mod launch;
mod map;
mod sink;
mod startup;
mod wire;
mod worker;

pub use error::MpiError;
pub use executor::{MpiPoolBuilder, MpiPoolExecutor};
pub use map::MpiMap;

/// The rank of the calling process in the MPI job (`MPI_Comm_rank` of the world), or `None`
/// if MPI is not running in this process (before [`MpiPoolExecutor::start`] or after the pool
/// dropped). A task calls it to learn which worker runs it.
///
/// # Examples
///
/// ```
/// use spindle_mpi::{current_rank, MpiPoolExecutor};
///
/// fn where_am_i(_: ()) -> Option<i32> {
///     current_rank()
/// }
/// assert_eq!(current_rank(), None);
/// if let Ok(pool) = MpiPoolExecutor::start() {
///     assert_eq!(current_rank(), Some(0));
///     let rank = pool.submit(where_am_i, ()).result().unwrap();
///     assert!(rank >= Some(1));
/// }
/// ```
pub fn current_rank() -> Option<i32> {
    comm::current_rank()
}

/// A worker rank of an [`MpiPoolExecutor`] and the host it runs on.
///
/// # Examples
///
/// ```
/// use spindle_mpi::MpiPoolExecutor;
///
/// if let Ok(pool) = MpiPoolExecutor::start() {
///     for w in pool.workers() {
///         println!("rank {} on {}", w.rank, w.host);
///         assert!(w.rank >= 1 && !w.host.is_empty());
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// The rank in `MPI_COMM_WORLD`.
    pub rank: i32,
    /// The host name MPI reports for it (`MPI_Get_processor_name`).
    pub host: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_executor_and_its_types_cross_threads() {
        is_send_sync::<MpiPoolExecutor>();
        is_send_sync::<MpiPoolBuilder>();
        is_send_sync::<MpiError>();
        is_send_sync::<WorkerInfo>();
    }
}
