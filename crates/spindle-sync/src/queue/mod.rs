//! Python's `queue` module: queues that threads share to hand work to each other.
//!
//! Queues: [`Queue`] (first in, first out; lock-free), [`LifoQueue`] (last in, first out),
//! [`PriorityQueue`] (smallest first, first-in-first-out among equals), [`SimpleQueue`]
//! (unbounded, no `task_done`).
//! Errors: [`PutError`] (`Full`/`ShutDown`, the item handed back), [`GetError`]
//! (`Empty`/`ShutDown`), [`TaskDoneError`].
//!
//! Every blocking call has a `_timeout` form taking a [`Duration`](std::time::Duration), and
//! every queue has Python 3.13's `shutdown(immediate)`, which wakes all waiters. Queues are
//! shared by reference (`&q` in [`std::thread::scope`]) or in an [`Arc`](std::sync::Arc); they
//! are `Send + Sync` when `T: Send`. A queue is one object, as in Python, not a pair of
//! channel ends: it never disconnects when a handle drops; `shutdown` is how it ends.
//!
//! ```
//! use std::sync::Arc;
//! use std::thread;
//! use spindle_sync::queue::Queue;
//!
//! let jobs = Arc::new(Queue::new(8));
//! let worker = {
//!     let jobs = Arc::clone(&jobs);
//!     thread::spawn(move || {
//!         let mut total = 0;
//!         while let Ok(n) = jobs.get() {
//!             total += n;
//!             jobs.task_done().unwrap();
//!         }
//!         total // `get` failed with ShutDown: the queue is shut down and drained
//!     })
//! };
//! for n in 1..=10 {
//!     jobs.put(n).unwrap();
//! }
//! jobs.join(); // every job marked done
//! jobs.shutdown(false);
//! assert_eq!(worker.join().unwrap(), 55);
//! ```
//!
//! Inside: `fifo`/`simple` run on the lock-free engine in `lockfree.rs` (a Vyukov ring in
//! `ring.rs` or a linked list of blocks in `list.rs`, parking through `wait_list.rs`); `lifo` and
//! `priority` share the mutex-and-condvar engine in `locked.rs`; `api.rs` writes their common
//! methods once.

mod api;
mod backend;
mod error;
mod fifo;
mod lifo;
mod list;
mod locked;
mod lockfree;
mod priority;
mod ring;
mod simple;
mod store;
mod tasks;
mod wait_list;

pub use error::{GetError, PutError, TaskDoneError};
pub use fifo::Queue;
pub use lifo::LifoQueue;
pub use priority::PriorityQueue;
pub use simple::SimpleQueue;
