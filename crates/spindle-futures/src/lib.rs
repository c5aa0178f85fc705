//! Python's `concurrent.futures`, in Rust: futures, executors, `wait` and `as_completed`.
//!
//! Futures: [`Future`], [`State`].
//! Executors: the traits [`Executor`] (closures) and [`RemoteExecutor`] (plain `fn` plus serde
//! arguments, also implemented by spindle's process and MPI pools);
//! [`ThreadPoolExecutor`] with its [`ThreadPoolBuilder`]; the ordered result stream [`Map`] and
//! the [`Chunks`] a remote executor's chunked `map` ships.
//! Counters: [`PoolStats`], [`WorkerStats`] (from [`ThreadPoolExecutor::stats`]).
//! Progress bars (feature `progress`): `progress::ProgressExt` for any iterator of results.
//! Waiting on many: [`wait`] with [`ReturnWhen`], [`as_completed`] with [`AsCompleted`].
//! Errors: [`FutureError`], [`InvalidStateError`].
//!
//! ```
//! use std::time::Duration;
//! use spindle_futures::{as_completed, ThreadPoolExecutor};
//!
//! let pool = ThreadPoolExecutor::builder().max_workers(4).build();
//! let futures: Vec<_> = (1..=5u32).map(|n| pool.submit(move || n * 10)).collect();
//! let mut total = 0;
//! for fut in as_completed(&futures, Some(Duration::from_secs(10))) {
//!     total += fut.unwrap().result().unwrap();
//! }
//! assert_eq!(total, 150);
//! ```
//!
//! # Design decisions
//!
//! - **Tasks returning `Result` stay typed.** `submit(|| -> Result<T, E> {..})` gives a
//!   `Future<Result<T, E>>`; the pool never looks inside the value, so `result()` returns
//!   `Result<Result<T, E>, FutureError>` and `E` keeps its type. [`FutureError`] describes
//!   what went wrong *around* the task (cancelled, panicked, timed out, broken, shut down).
//!   [`FutureError::Failed`] is for executors and for
//!   [`Future::set_exception`]; [`ReturnWhen::FirstException`] therefore fires on panics and
//!   executor failures, not on an `Ok(Err(e))` value.
//! - **Setters live on [`Future`] itself**, as in Python: an executor makes a
//!   [`Future::new`], keeps a clone, and calls
//!   [`set_running_or_notify_cancel`](Future::set_running_or_notify_cancel),
//!   [`set_result`](Future::set_result) or [`set_exception`](Future::set_exception). Settling
//!   twice is an [`InvalidStateError`] carrying the refused value.
//! - **[`Future::into_result`] moves the value out** for any `T`; the first call on any handle
//!   takes it, and other handles then see [`FutureError::Taken`]. `result()` clones
//!   (`T: Clone`).
//! - **Duplicates in [`wait`] and [`as_completed`]** count once (Python uses sets); outputs
//!   keep input order.
//! - **A failing initializer is one that panics**; it breaks the pool.
//! - **`map` is lazy**: nothing is submitted before the first `next`, then at most
//!   `read_ahead` (default `2 x max_workers`) tasks are in flight; errors are items.
//! - **`Future<T>` is `Send + Sync`** (for `T: Send`, which every constructor needs);
//!   [`Future::new`] needs `T: Send + 'static`, so a pool task and its future share one
//!   allocation: a counted cell, not an `Arc`, so it can start with two references.
//! - **Small futures live in per-thread slabs**: a task whose closure and value fit 128 bytes
//!   takes a slot of the submitting thread's 8 KiB slab instead of a `malloc` chunk (glibc's
//!   `malloc`/`free` were half the submit path). A slab is freed when its last future is
//!   dropped, so one long-lived future keeps up to 8 KiB alive.
//! - **Settling takes no lock when nobody listens**: the setter claims the future with one
//!   compare-exchange, writes the outcome and publishes `FINISHED`; it takes the future's lock
//!   only if a callback, waiter or sleeping thread registered (a `SeqCst` handshake).
//! - **Neither executor trait is object-safe**: their methods are generic.

mod as_completed;
mod chunks;
mod deadline;
mod error;
mod executor;
mod future;
mod map;
mod panic;
#[cfg(feature = "progress")]
pub mod progress;
mod slab;
mod spin;
mod stats;
mod thread_pool;
mod wait;
mod waiter;

pub use as_completed::{as_completed, AsCompleted};
pub use chunks::Chunks;
pub use error::{FutureError, InvalidStateError};
pub use executor::{Executor, RemoteExecutor};
pub use future::{Future, State};
pub use map::Map;
pub use stats::{PoolStats, WorkerStats};
pub use thread_pool::{ThreadPoolBuilder, ThreadPoolExecutor};
pub use wait::{wait, ReturnWhen};
