//! [`ThreadSafeList`]: a growable array that threads share by reference, with Python's list
//! methods and closures for atomic compound changes.
//!
//! Longer than 600 lines because each method carries its own runnable example; the logic is a
//! `parking_lot::RwLock<Vec<T>>`.

use std::fmt;

use parking_lot::RwLock;

use super::error::IndexError;

/// A growable array that threads share by reference: Python's `list` guarded by a lock.
///
/// Every method takes `&self` and is atomic: [`append`](Self::append), [`extend`](Self::extend),
/// [`insert`](Self::insert), [`pop`](Self::pop), [`remove`](Self::remove),
/// [`index`](Self::index), [`sort`](Self::sort) and the rest each run under one lock
/// acquisition. Compound steps that Python writes `with lock:` around go in one closure:
/// [`update`](Self::update) changes one item in place, [`with_mut`](Self::with_mut) gets the
/// whole `Vec` for as long as the closure runs, [`with`](Self::with) reads the whole slice.
/// [`snapshot`](Self::snapshot) copies every item as of one instant, so iterating over it
/// while other threads change the list is safe.
///
/// Inside: a `parking_lot::RwLock<Vec<T>>`. Readers ([`get`](Self::get), [`len`](Self::len),
/// [`index`](Self::index), [`snapshot`](Self::snapshot), [`with`](Self::with)) share the lock;
/// everything that changes the list takes it alone. The lock does not poison: a panicking
/// closure leaves whatever it had changed so far. Closures run under the lock and must not
/// call back into the same list.
///
/// # Differences from Python
///
/// - Positions are `usize`: no negative indices (use [`len`](Self::len) or
///   [`pop`](Self::pop)) and no slices (use [`with`](Self::with)).
/// - A position out of range is an [`IndexError`] value, never a panic: see
///   [`pop_at`](Self::pop_at), [`set`](Self::set), [`update`](Self::update). Reads that Python
///   answers with an exception answer `None` here, in Rust's manner: [`get`](Self::get),
///   [`pop`](Self::pop) on an empty list, [`index`](Self::index) and [`remove`](Self::remove)
///   of a missing value (Python's `ValueError`).
/// - Items come back cloned from [`get`](Self::get) and [`snapshot`](Self::snapshot); store
///   `Arc<T>` for large items.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_sync::collections::ThreadSafeList;
///
/// let results = ThreadSafeList::new();
/// thread::scope(|s| {
///     for worker in 0..4 {
///         let results = &results;
///         s.spawn(move || results.append(worker * worker));
///     }
/// });
/// results.sort();
/// assert_eq!(results.snapshot(), [0, 1, 4, 9]);
/// ```
#[doc(alias = "list")]
#[doc(alias = "List")]
pub struct ThreadSafeList<T> {
    items: RwLock<Vec<T>>,
}

impl<T> ThreadSafeList<T> {
    /// Creates an empty list: Python's `[]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list: ThreadSafeList<i32> = ThreadSafeList::new();
    /// assert!(list.is_empty());
    /// ```
    pub const fn new() -> Self {
        Self {
            items: RwLock::new(Vec::new()),
        }
    }

    /// Creates an empty list with room for `capacity` items before it reallocates.
    ///
    /// The capacity is only a hint: one too large to allocate gives an empty list that grows
    /// as needed, not a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::with_capacity(16);
    /// list.append(1);
    /// assert_eq!(list.len(), 1);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        let mut items = Vec::new();
        let _ = items.try_reserve_exact(capacity);
        Self::from(items)
    }

    /// Adds `item` at the end: Python's `list.append(item)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::new();
    /// list.append("a");
    /// list.append("b");
    /// assert_eq!(list.snapshot(), ["a", "b"]);
    /// ```
    #[doc(alias = "push")]
    pub fn append(&self, item: T) {
        self.items.write().push(item);
    }

    /// Adds every item of `iter` at the end, in one step (no reader sees half of them):
    /// Python's `list.extend(iterable)`.
    ///
    /// The items are gathered before the lock is taken, so `iter` may be slow or even read
    /// this list.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1]);
    /// list.extend([2, 3]);
    /// assert_eq!(list.snapshot(), [1, 2, 3]);
    /// ```
    pub fn extend(&self, iter: impl IntoIterator<Item = T>) {
        let mut more: Vec<T> = iter.into_iter().collect();
        if !more.is_empty() {
            self.items.write().append(&mut more);
        }
    }

    /// Inserts `item` before position `index`: Python's `list.insert(index, item)`.
    ///
    /// As in Python, a position past the end appends instead of failing.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec!['b']);
    /// list.insert(0, 'a');
    /// list.insert(100, 'c'); // past the end: appended, as in Python
    /// assert_eq!(list.snapshot(), ['a', 'b', 'c']);
    /// ```
    pub fn insert(&self, index: usize, item: T) {
        let mut items = self.items.write();
        let at = index.min(items.len());
        items.insert(at, item);
    }

    /// Removes and returns the last item, or `None` if the list is empty: Python's
    /// `list.pop()`.
    ///
    /// # Differences from Python
    ///
    /// Python raises `IndexError: pop from empty list`; here the empty case is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2]);
    /// assert_eq!(list.pop(), Some(2));
    /// assert_eq!(list.pop(), Some(1));
    /// assert_eq!(list.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        self.items.write().pop()
    }

    /// Removes and returns the item at `index`, shifting later items down: Python's
    /// `list.pop(index)`.
    ///
    /// # Errors
    ///
    /// [`IndexError`] if `index >= len()`; the list is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec!['a', 'b', 'c']);
    /// assert_eq!(list.pop_at(1), Ok('b'));
    /// assert!(list.pop_at(2).is_err());
    /// assert_eq!(list.snapshot(), ['a', 'c']);
    /// ```
    pub fn pop_at(&self, index: usize) -> Result<T, IndexError> {
        let mut items = self.items.write();
        if index < items.len() {
            Ok(items.remove(index))
        } else {
            Err(IndexError::new(index, items.len()))
        }
    }

    /// Removes the first item equal to `value` and returns it, or `None` if there is none:
    /// Python's `list.remove(value)`.
    ///
    /// # Differences from Python
    ///
    /// Python raises `ValueError: list.remove(x): x not in list`; here that case is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2, 1]);
    /// assert_eq!(list.remove(&1), Some(1));
    /// assert_eq!(list.snapshot(), [2, 1]);
    /// assert_eq!(list.remove(&7), None);
    /// ```
    pub fn remove(&self, value: &T) -> Option<T>
    where
        T: PartialEq,
    {
        let mut items = self.items.write();
        let at = items.iter().position(|x| x == value)?;
        Some(items.remove(at))
    }

    /// Position of the first item equal to `value`, or `None`: Python's `list.index(value)`.
    ///
    /// # Differences from Python
    ///
    /// Python raises `ValueError` when the value is missing; here that case is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec!["x", "y"]);
    /// assert_eq!(list.index(&"y"), Some(1));
    /// assert_eq!(list.index(&"z"), None);
    /// ```
    pub fn index(&self, value: &T) -> Option<usize>
    where
        T: PartialEq,
    {
        self.items.read().iter().position(|x| x == value)
    }

    /// How many items equal `value`: Python's `list.count(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2, 1]);
    /// assert_eq!(list.count(&1), 2);
    /// ```
    pub fn count(&self, value: &T) -> usize
    where
        T: PartialEq,
    {
        self.items.read().iter().filter(|x| *x == value).count()
    }

    /// Whether some item equals `value`: Python's `value in list`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2]);
    /// assert!(list.contains(&2));
    /// assert!(!list.contains(&3));
    /// ```
    #[doc(alias = "__contains__")]
    pub fn contains(&self, value: &T) -> bool
    where
        T: PartialEq,
    {
        self.items.read().contains(value)
    }

    /// Number of items: Python's `len(list)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![(); 3]);
    /// assert_eq!(list.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.items.read().len()
    }

    /// Whether the list has no items: Python's `not list`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::new();
    /// assert!(list.is_empty());
    /// list.append(1);
    /// assert!(!list.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.read().is_empty()
    }

    /// A clone of the item at `index`, or `None` past the end: Python's `list[index]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec!["a", "b"]);
    /// assert_eq!(list.get(1), Some("b"));
    /// assert_eq!(list.get(2), None);
    /// ```
    #[doc(alias = "__getitem__")]
    pub fn get(&self, index: usize) -> Option<T>
    where
        T: Clone,
    {
        self.items.read().get(index).cloned()
    }

    /// Replaces the item at `index` with `value` and returns the old item: Python's
    /// `list[index] = value`.
    ///
    /// # Errors
    ///
    /// [`IndexError`] if `index >= len()`, with `value` inside
    /// ([`into_inner`](IndexError::into_inner)); the list is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2]);
    /// assert_eq!(list.set(0, 10), Ok(1));
    /// assert_eq!(list.set(5, 50).unwrap_err().into_inner(), 50);
    /// assert_eq!(list.snapshot(), [10, 2]);
    /// ```
    #[doc(alias = "__setitem__")]
    pub fn set(&self, index: usize, value: T) -> Result<T, IndexError<T>> {
        let mut items = self.items.write();
        let len = items.len();
        match items.get_mut(index) {
            Some(slot) => Ok(std::mem::replace(slot, value)),
            None => Err(IndexError::with_value(index, len, value)),
        }
    }

    /// Changes the item at `index` in place, atomically, and returns what `f` returns:
    /// Python's `with lock: list[i] = f(list[i])`.
    ///
    /// # Errors
    ///
    /// [`IndexError`] if `index >= len()`; `f` does not run.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let scores = ThreadSafeList::from(vec![0, 0]);
    /// scores.update(1, |s| *s += 5).unwrap();
    /// assert_eq!(scores.update(1, |s| *s), Ok(5));
    /// assert!(scores.update(2, |s| *s += 1).is_err());
    /// ```
    pub fn update<R>(&self, index: usize, f: impl FnOnce(&mut T) -> R) -> Result<R, IndexError> {
        let mut items = self.items.write();
        let len = items.len();
        items
            .get_mut(index)
            .map(f)
            .ok_or_else(|| IndexError::new(index, len))
    }

    /// Copies every item as of one instant: Python's `list.copy()` (or `list[:]`) under the
    /// lock. Iterate over the copy while other threads go on changing the list.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2, 3]);
    /// for x in list.snapshot() {
    ///     list.append(x * 10); // changing the list while looping over its copy is fine
    /// }
    /// assert_eq!(list.snapshot(), [1, 2, 3, 10, 20, 30]);
    /// ```
    #[doc(alias = "copy")]
    pub fn snapshot(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.items.read().clone()
    }

    /// Sorts the items in place, stably, in ascending order: Python's `list.sort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![3, 1, 2]);
    /// list.sort();
    /// assert_eq!(list.snapshot(), [1, 2, 3]);
    /// ```
    pub fn sort(&self)
    where
        T: Ord,
    {
        self.items.write().sort();
    }

    /// Sorts the items in place, stably, by the key `f` gives: Python's `list.sort(key=f)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec!["ccc", "a", "bb"]);
    /// list.sort_by_key(|s| s.len());
    /// assert_eq!(list.snapshot(), ["a", "bb", "ccc"]);
    /// ```
    pub fn sort_by_key<K: Ord>(&self, f: impl FnMut(&T) -> K) {
        self.items.write().sort_by_key(f);
    }

    /// Sorts the items in place, stably, with the comparison `compare`.
    ///
    /// Python's `list.sort(key=functools.cmp_to_key(compare))`; `list.sort(reverse=True)` is
    /// `sort_by(|a, b| b.cmp(a))`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 3, 2]);
    /// list.sort_by(|a, b| b.cmp(a));
    /// assert_eq!(list.snapshot(), [3, 2, 1]);
    /// ```
    pub fn sort_by(&self, compare: impl FnMut(&T, &T) -> std::cmp::Ordering) {
        self.items.write().sort_by(compare);
    }

    /// Reverses the order of the items in place: Python's `list.reverse()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2, 3]);
    /// list.reverse();
    /// assert_eq!(list.snapshot(), [3, 2, 1]);
    /// ```
    pub fn reverse(&self) {
        self.items.write().reverse();
    }

    /// Removes every item: Python's `list.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2]);
    /// list.clear();
    /// assert!(list.is_empty());
    /// ```
    pub fn clear(&self) {
        self.items.write().clear();
    }

    /// Keeps only the items for which `keep` returns `true`, in order, in one step: Python's
    /// `list[:] = [x for x in list if keep(x)]` under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from((1..=6).collect::<Vec<_>>());
    /// list.retain(|x| x % 2 == 0);
    /// assert_eq!(list.snapshot(), [2, 4, 6]);
    /// ```
    pub fn retain(&self, keep: impl FnMut(&T) -> bool) {
        self.items.write().retain(keep);
    }

    /// Runs `f` on the items as one slice, with the list read-locked, and returns what `f`
    /// returns: a consistent read that clones nothing (sums, searches, slices).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![1, 2, 3, 4]);
    /// assert_eq!(list.with(|items| items.iter().sum::<i32>()), 10);
    /// assert_eq!(list.with(|items| items[1..3].to_vec()), [2, 3]);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        f(&self.items.read())
    }

    /// Runs `f` on the underlying `Vec`, with the list write-locked for the whole call, and
    /// returns what `f` returns: any compound change, atomically.
    ///
    /// Python's `with lock:` around several list operations.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let queue = ThreadSafeList::from(vec![1, 2, 3]);
    /// // Move the first item to the back, with no other thread seeing the list in between.
    /// queue.with_mut(|v| {
    ///     let first = v.remove(0);
    ///     v.push(first);
    /// });
    /// assert_eq!(queue.snapshot(), [2, 3, 1]);
    /// ```
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        f(&mut self.items.write())
    }

    /// Takes the items out of a list that is no longer shared, without cloning.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeList;
    ///
    /// let list = ThreadSafeList::from(vec![String::from("a")]);
    /// assert_eq!(list.into_inner(), ["a"]);
    /// ```
    pub fn into_inner(self) -> Vec<T> {
        self.items.into_inner()
    }
}

impl<T> Default for ThreadSafeList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Clone for ThreadSafeList<T> {
    /// Copies the list as of one instant.
    fn clone(&self) -> Self {
        Self::from(self.snapshot())
    }
}

impl<T> From<Vec<T>> for ThreadSafeList<T> {
    fn from(items: Vec<T>) -> Self {
        Self {
            items: RwLock::new(items),
        }
    }
}

impl<T> FromIterator<T> for ThreadSafeList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: fmt::Debug> fmt::Debug for ThreadSafeList<T> {
    /// Prints the items as of one instant, like Python's `repr(list)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items.read().iter()).finish()
    }
}
