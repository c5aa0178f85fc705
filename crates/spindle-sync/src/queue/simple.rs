//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, unbounded FIFO without task tracking.

use std::fmt;
use std::time::Duration;

use super::backend::Backend;
use super::error::{GetError, PutError};
use super::lockfree::LockFree;

/// An unbounded first-in-first-out queue with no `task_done`/`join`: Python's
/// `queue.SimpleQueue`.
///
/// A put never blocks and is lock-free (one CAS reserves a slot in a linked list of
/// 31-slot blocks); a get waits for an item. Unlike Python's, it can be shut down, which is
/// how consumers blocked in [`get`](SimpleQueue::get) are released: after
/// [`shutdown`](SimpleQueue::shutdown) gets drain what is left, then fail with
/// [`GetError::ShutDown`]. Share it by reference or in an `Arc`, like
/// [`Queue`](super::Queue).
///
/// # Differences from Python
///
/// - [`shutdown`](SimpleQueue::shutdown) exists (Python's `SimpleQueue` has none), so `get`
///   returns a `Result`; [`put`](SimpleQueue::put) stays infallible and drops an item put
///   after shutdown, while [`try_put`](SimpleQueue::try_put) hands it back.
/// - No `block` flags: `get_nowait` and `get_timeout` cover them.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_sync::queue::SimpleQueue;
///
/// let q = SimpleQueue::new();
/// thread::scope(|s| {
///     s.spawn(|| {
///         for line in ["a", "b", "c"] {
///             q.put(line);
///         }
///         q.shutdown(false);
///     });
///     let mut got = Vec::new();
///     while let Ok(line) = q.get() {
///         got.push(line);
///     }
///     assert_eq!(got, ["a", "b", "c"]);
/// });
/// ```
pub struct SimpleQueue<T> {
    core: LockFree<T>,
}

impl<T> SimpleQueue<T> {
    /// An empty unbounded queue (Python's `queue.SimpleQueue()`); allocates as items arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q: SimpleQueue<Vec<u8>> = SimpleQueue::new();
    /// assert!(q.empty());
    /// ```
    pub fn new() -> Self {
        Self {
            core: LockFree::new(0),
        }
    }

    /// Adds `item` at the back; never blocks (Python's `q.put(item)`).
    ///
    /// After [`shutdown`](SimpleQueue::shutdown) the item is dropped; use
    /// [`try_put`](SimpleQueue::try_put) to get it back instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put(1);
    /// q.put(2);
    /// assert_eq!(q.get(), Ok(1));
    /// ```
    #[inline]
    pub fn put(&self, item: T) {
        let _dropped_if_shut_down = self.core.put(item, None);
    }

    /// Same as [`put`](SimpleQueue::put) (Python's `q.put_nowait(item)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put_nowait("x");
    /// assert_eq!(q.qsize(), 1);
    /// ```
    #[inline]
    pub fn put_nowait(&self, item: T) {
        self.put(item);
    }

    /// Adds `item` at the back unless the queue is shut down.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item inside once [`shutdown`](SimpleQueue::shutdown)
    /// ran. Never `Full`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::{PutError, SimpleQueue};
    ///
    /// let q = SimpleQueue::new();
    /// assert!(q.try_put(1).is_ok());
    /// q.shutdown(false);
    /// assert!(matches!(q.try_put(2), Err(PutError::ShutDown(2))));
    /// ```
    #[inline]
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, None)
    }

    /// Takes the oldest item, waiting as long as it takes for one (Python's `q.get()`).
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once [`shutdown`](SimpleQueue::shutdown) ran and the queue is
    /// empty, including while this call waited. Never `Empty`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// thread::scope(|s| {
    ///     s.spawn(|| q.put(42));
    ///     assert_eq!(q.get(), Ok(42));
    /// });
    /// ```
    #[inline]
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get(None)
    }

    /// Takes the oldest item, waiting at most `timeout` (Python's `q.get(timeout=t)`).
    ///
    /// A zero `timeout` tries once; one too large to add to `Instant::now()` waits with no
    /// deadline.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if nothing arrived in time; [`GetError::ShutDown`] once
    /// [`shutdown`](SimpleQueue::shutdown) ran and the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::queue::{GetError, SimpleQueue};
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
    /// ```
    #[inline]
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.core.get(Some(timeout))
    }

    /// Takes the oldest item only if one is there now (Python's `q.get_nowait()`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if the queue is empty; [`GetError::ShutDown`] if it is empty and
    /// [`shutdown`](SimpleQueue::shutdown) ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::{GetError, SimpleQueue};
    ///
    /// let q = SimpleQueue::new();
    /// q.put('z');
    /// assert_eq!(q.get_nowait(), Ok('z'));
    /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// ```
    #[inline]
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.core.get(Some(Duration::ZERO))
    }

    /// How many items the queue holds now (Python's `q.qsize()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put(());
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue holds no items now (Python's `q.empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// assert!(q.empty());
    /// q.put(1);
    /// assert!(!q.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.core.qsize() == 0
    }

    /// Shuts the queue down: puts are refused, gets drain what is left then fail, and every
    /// blocked getter wakes. With `immediate`, what is left is dropped now.
    ///
    /// The same semantics as Python 3.13's `Queue.shutdown`, which `SimpleQueue` lacks in
    /// Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use spindle_sync::queue::{GetError, SimpleQueue};
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// thread::scope(|s| {
    ///     let consumer = s.spawn(|| q.get());
    ///     q.shutdown(false);
    ///     assert_eq!(consumer.join().unwrap(), Err(GetError::ShutDown));
    /// });
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        self.core.shutdown(immediate);
    }

    /// Whether [`shutdown`](SimpleQueue::shutdown) ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// q.shutdown(true);
    /// assert!(q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.core.is_shut_down()
    }

    /// How many threads are parked in `get` now (a diagnostic); a thread still spinning in
    /// its first microseconds of waiting does not count.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use spindle_sync::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// thread::scope(|s| {
    ///     let getter = s.spawn(|| q.get());
    ///     while q.waiting_getters() == 0 {
    ///         thread::yield_now();
    ///     }
    ///     q.put(9);
    ///     assert_eq!(getter.join().unwrap(), Ok(9));
    /// });
    /// ```
    pub fn waiting_getters(&self) -> usize {
        self.core.waiting_getters()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

// A panic in user code (an item's `Drop`) never leaves the queue broken.
impl<T> std::panic::UnwindSafe for SimpleQueue<T> {}
impl<T> std::panic::RefUnwindSafe for SimpleQueue<T> {}

impl<T> fmt::Debug for SimpleQueue<T> {
    /// Shows `qsize` and whether it is shut down; needs no `T: Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.core.qsize())
            .field("shut_down", &self.core.is_shut_down())
            .finish_non_exhaustive()
    }
}
