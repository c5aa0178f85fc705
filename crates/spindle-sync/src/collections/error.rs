//! Errors of the collections module: [`IndexError`] (a list position out of range) and
//! [`WaitTimeout`] (a cache gave up waiting for another thread's computation).

use std::fmt;

/// A list position past the end: Python's `IndexError: list index out of range`.
///
/// It carries the position asked for and the length the list had at that moment. The forms
/// that store a value ([`ThreadSafeList::set`](super::ThreadSafeList::set)) hand the refused
/// value back inside (`IndexError<T>`); take it out with
/// [`into_inner`](IndexError::into_inner). The forms that store nothing use `IndexError<()>`,
/// spelled `IndexError`. `Debug` needs no `T: Debug`.
///
/// # Examples
///
/// ```
/// use spindle_sync::collections::{IndexError, ThreadSafeList};
///
/// let list = ThreadSafeList::from(vec!['a']);
/// let err: IndexError = list.pop_at(3).unwrap_err();
/// assert_eq!((err.index(), err.len()), (3, 1));
/// assert_eq!(err.to_string(), "list index 3 out of range for length 1");
///
/// let refused = list.set(9, 'z').unwrap_err();
/// assert_eq!(refused.into_inner(), 'z');
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("list index {index} out of range for length {len}")]
pub struct IndexError<T = ()> {
    index: usize,
    len: usize,
    value: T,
}

impl IndexError {
    /// The error for position `index` in a list of `len` items.
    pub(crate) fn new(index: usize, len: usize) -> Self {
        Self::with_value(index, len, ())
    }
}

impl<T> IndexError<T> {
    /// The error for position `index` in a list of `len` items, carrying back `value`.
    pub(crate) fn with_value(index: usize, len: usize, value: T) -> Self {
        Self { index, len, value }
    }

    /// The position that was asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list: ThreadSafeList<u8> = ThreadSafeList::new();
    /// assert_eq!(list.pop_at(0).unwrap_err().index(), 0);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The list's length when the position was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2]);
    /// assert_eq!(list.pop_at(5).unwrap_err().len(), 2);
    /// ```
    #[allow(
        clippy::len_without_is_empty,
        reason = "an error value, not a container"
    )]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Hands back the value the list refused to store.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list: ThreadSafeList<String> = ThreadSafeList::new();
    /// let err = list.set(0, String::from("kept")).unwrap_err();
    /// assert_eq!(err.into_inner(), "kept");
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> fmt::Debug for IndexError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexError")
            .field("index", &self.index)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// A cache's `get_or_insert_with_timeout` waited its whole timeout for another thread that was
/// computing the same key, and gave up without computing it itself.
///
/// Python's `functools.lru_cache` never waits (two threads may both compute); this error
/// belongs to the compute-once guarantee of
/// [`ThreadSafeCache`](super::ThreadSafeCache).
///
/// # Examples
///
/// ```
/// use spindle_sync::collections::WaitTimeout;
///
/// assert_eq!(
///     WaitTimeout.to_string(),
///     "timed out waiting for another thread to compute the value"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("timed out waiting for another thread to compute the value")]
pub struct WaitTimeout;
