//! [`LifoQueue`]: Python's `queue.LifoQueue`, last in first out.

use std::time::Duration;

use super::api::queue_api;
use super::backend::Backend;
use super::error::{GetError, PutError, TaskDoneError};
use super::locked::{Container, Locked};

/// A last-in-first-out queue (a stack) for threads: Python's `queue.LifoQueue`.
///
/// The same API as [`Queue`](super::Queue) (bounds, timeouts, `task_done`/`join`, Python 3.13
/// `shutdown`), but `get` returns the most recently put item. Share it by reference or in an
/// `Arc`, like `Queue`.
///
/// Built as CPython builds it: one mutex over a `Vec` and three condition variables
/// (`parking_lot`'s, so an uncontended call is a CAS to lock and a store to unlock).
///
/// # Differences from Python
///
/// As for [`Queue`](super::Queue): refused items come back inside [`PutError`], timeouts are
/// [`Duration`]s, and `join_timeout` and the waiter counts are additions.
///
/// # Examples
///
/// ```
/// use spindle_sync::queue::LifoQueue;
///
/// let stack = LifoQueue::new(0);
/// for page in ["home", "docs", "queue"] {
///     stack.put(page).unwrap();
/// }
/// assert_eq!(stack.get().unwrap(), "queue");
/// assert_eq!(stack.get().unwrap(), "docs");
/// ```
pub struct LifoQueue<T> {
    core: Locked<Stack<T>>,
}

/// The `Vec` behind a [`LifoQueue`].
pub(crate) struct Stack<T>(Vec<T>);

impl<T> Default for Stack<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Container<T> for Stack<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> LifoQueue<T> {
    /// A stack holding at most `maxsize` items; 0 means unbounded (Python's
    /// `queue.LifoQueue(maxsize)`). Nothing is allocated until items arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::LifoQueue;
    ///
    /// let q: LifoQueue<u32> = LifoQueue::new(4);
    /// assert_eq!(q.maxsize(), 4);
    /// assert!(q.empty());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            core: Locked::new(maxsize),
        }
    }
}

queue_api!(type = LifoQueue, bound = [], first = 2, second = 1, order = "last-in-first-out order");
