//! Errors of the queue module: [`PutError`], [`GetError`], [`TaskDoneError`].

use std::fmt;

/// Why a put did not store its item; the item is inside, so nothing is lost.
///
/// Python raises `queue.Full` or (3.13) `queue.ShutDown` and the caller still holds the
/// object; here the refused item travels back in the error. Take it out with
/// [`into_inner`](PutError::into_inner).
///
/// `Debug` prints `Full(..)` / `ShutDown(..)` and needs no `T: Debug`.
///
/// # Examples
///
/// ```
/// use spindle_sync::queue::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.put_nowait("first").unwrap();
/// let err = q.put_nowait("second").unwrap_err();
/// assert!(matches!(err, PutError::Full("second")));
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), "second");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PutError<T> {
    /// No free slot in time: Python's `queue.Full`; the item is inside.
    #[error("queue is full")]
    Full(T),
    /// The queue was shut down: Python 3.13's `queue.ShutDown`; the item is inside.
    #[error("queue is shut down")]
    ShutDown(T),
}

impl<T> PutError<T> {
    /// Hands back the item the queue refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.shutdown(false);
    /// let refused = q.put(String::from("late")).unwrap_err().into_inner();
    /// assert_eq!(refused, "late");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full (Python's `queue.Full`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the queue was shut down (Python 3.13's `queue.ShutDown`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.shutdown(false);
    /// assert!(q.put_nowait(1).unwrap_err().is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, Self::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

/// Why a get returned no item.
///
/// # Examples
///
/// ```
/// use spindle_sync::queue::{GetError, Queue};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
/// assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum GetError {
    /// Nothing arrived in time: Python's `queue.Empty`.
    #[error("queue is empty")]
    Empty,
    /// Shut down and drained: Python 3.13's `queue.ShutDown`.
    #[error("queue is shut down")]
    ShutDown,
}

/// [`task_done`](crate::queue::Queue::task_done) was called more times than items were put.
///
/// Python raises `ValueError('task_done() called too many times')`.
///
/// # Examples
///
/// ```
/// use spindle_sync::queue::{Queue, TaskDoneError};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// assert_eq!(TaskDoneError.to_string(), "task_done() called too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("task_done() called too many times")]
pub struct TaskDoneError;
