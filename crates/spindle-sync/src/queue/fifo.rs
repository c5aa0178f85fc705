//! [`Queue`]: Python's `queue.Queue`, first in first out, on the lock-free engine.

use std::time::Duration;

use super::api::queue_api;
use super::backend::Backend;
use super::error::{GetError, PutError, TaskDoneError};
use super::lockfree::LockFree;

/// A first-in-first-out queue for threads, optionally bounded: Python's `queue.Queue`.
///
/// `Queue::new(maxsize)` holds at most `maxsize` items (0 = unbounded). Blocking calls
/// ([`put`](Queue::put), [`get`](Queue::get), [`join`](Queue::join)) each have a timeout form,
/// and [`shutdown`](Queue::shutdown) (Python 3.13) wakes every waiter, so nothing needs to hang.
///
/// Share it by reference: `&Queue` in [`std::thread::scope`], or `Arc<Queue<T>>` for threads
/// that outlive the caller. It is one object like Python's, not a pair of channel ends: it
/// never disconnects when a handle is dropped; producers and consumers stop through
/// `shutdown`, and `task_done`/`join` belong to the queue as a whole.
///
/// It is lock-free: a put or get is a CAS on a preallocated ring (bounds up to 65 536; larger
/// and unbounded queues grow a linked list of blocks), plus one load to see whether anyone sleeps on
/// the other side. A waiting call spins briefly, then parks, and is woken by the put or get
/// that changes its answer.
///
/// # Differences from Python
///
/// - A refused put hands the item back inside [`PutError`].
/// - `put`/`get` have no `block` flag: `put_nowait`/`get_nowait` and the `_timeout` forms
///   cover it, and a timeout is a [`Duration`] (never negative).
/// - [`join_timeout`](Queue::join_timeout) and the waiter counts are additions.
/// - A bound above 65 536 is not preallocated.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_sync::queue::{GetError, Queue};
///
/// let q = Queue::new(16);
/// thread::scope(|s| {
///     s.spawn(|| {
///         for i in 0..100 {
///             q.put(i).unwrap();
///         }
///         q.shutdown(false); // consumers drain what is left, then stop
///     });
///     let mut sum = 0;
///     loop {
///         match q.get() {
///             Ok(i) => sum += i,
///             Err(GetError::ShutDown) => break,
///             Err(GetError::Empty) => unreachable!("get without timeout never times out"),
///         }
///     }
///     assert_eq!(sum, 4950);
/// });
/// ```
pub struct Queue<T> {
    core: LockFree<T>,
}

impl<T> Queue<T> {
    /// A queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// Python's `queue.Queue(maxsize)`. Bounds up to 65 536 allocate their ring now (one
    /// `u64` stamp plus one `T` per slot); larger bounds and unbounded queues allocate as items
    /// arrive.
    ///
    /// # Differences from Python
    ///
    /// `maxsize` is a `usize`: Python's "negative means unbounded" is spelled 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::Queue;
    ///
    /// let bounded: Queue<String> = Queue::new(100);
    /// assert_eq!(bounded.maxsize(), 100);
    /// let unbounded: Queue<String> = Queue::new(0);
    /// assert!(!unbounded.full());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            core: LockFree::new(maxsize),
        }
    }
}

queue_api!(type = Queue, bound = [], first = 1, second = 2, order = "first-in-first-out order");
