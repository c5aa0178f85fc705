//! `ListProxy`: a list owned by the manager (Python's `manager.list()` / `ListProxy`).

use super::proxy::{proxy_impls, Handle};
use super::wire::{encode, Op};
use super::ManagerError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// Converts a caller's index to the wire form (Python indexing).
fn index(i: isize) -> i64 {
    i as i64
}

/// A proxy to a list that lives in the manager's server: Python's `manager.list()`.
///
/// Indices follow Python: a negative index counts from the end (`-1` is the last item).
/// Every method is one atomic round trip to the server; clone the proxy or pass it as a
/// [`Process`](crate::Process) argument to share the list.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone,
/// [`ManagerError::Decode`] if a stored item is not a `T`, and [`ManagerError::Io`] if the
/// server stops answering; indexing methods return [`ManagerError::IndexError`] for an index
/// out of range.
///
/// # Differences from Python
///
/// Items are one `serde` type `T`. Slicing, sorting and the arithmetic operators are not
/// offered; take a [`to_vec`](ListProxy::to_vec) snapshot for those.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::{Manager, ManagerError};
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let l = manager.list::<i32>().unwrap();
/// l.extend([1, 2, 3]).unwrap();
/// l.append(&4).unwrap();
/// assert_eq!(l.get(-1).unwrap(), 4);
/// assert_eq!(l.pop().unwrap(), 4);
/// assert!(matches!(l.get(10), Err(ManagerError::IndexError)));
/// assert_eq!(l.to_vec().unwrap(), vec![1, 2, 3]);
/// ```
pub struct ListProxy<T> {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<fn() -> T>,
}

proxy_impls!(ListProxy<T>);

impl<T: Serialize + DeserializeOwned> ListProxy<T> {
    /// Adds `item` at the end: Python's `l.append(item)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.append(&1).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1]);
    /// ```
    pub fn append(&self, item: &T) -> Result<(), ManagerError> {
        self.handle.unit(Op::Append(encode(item)?))
    }

    /// Adds every item at the end, in one atomic call: Python's `l.extend(items)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8]).unwrap();
    /// l.extend([2, 3]).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1, 2, 3]);
    /// ```
    pub fn extend(&self, items: impl IntoIterator<Item = T>) -> Result<(), ManagerError> {
        let items = items
            .into_iter()
            .map(|t| encode(&t))
            .collect::<Result<Vec<_>, _>>()?;
        self.handle.unit(Op::Extend(items))
    }

    /// The item at `index`: Python's `l[index]`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 2]).unwrap();
    /// assert_eq!(l.get(-1).unwrap(), 2); // negative indices count from the end
    /// assert!(l.get(2).is_err()); // ManagerError::IndexError
    /// ```
    pub fn get(&self, index: isize) -> Result<T, ManagerError> {
        self.handle.value(Op::Index(self::index(index)))
    }

    /// Replaces the item at `index`: Python's `l[index] = item`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 2]).unwrap();
    /// l.set(0, &9).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [9, 2]);
    /// ```
    pub fn set(&self, index: isize, item: &T) -> Result<(), ManagerError> {
        self.handle
            .unit(Op::SetIndex(self::index(index), encode(item)?))
    }

    /// Inserts `item` before `index`: Python's `l.insert(index, item)`, which clamps an index
    /// out of range to the nearest end instead of failing.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 3]).unwrap();
    /// l.insert(1, &2).unwrap();
    /// l.insert(100, &4).unwrap(); // clamped to the end
    /// assert_eq!(l.to_vec().unwrap(), [1, 2, 3, 4]);
    /// ```
    pub fn insert(&self, index: isize, item: &T) -> Result<(), ManagerError> {
        self.handle
            .unit(Op::InsertAt(self::index(index), encode(item)?))
    }

    /// Removes and returns the last item: Python's `l.pop()` ([`ManagerError::IndexError`] on an
    /// empty list).
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 2]).unwrap();
    /// assert_eq!(l.pop().unwrap(), 2);
    /// ```
    pub fn pop(&self) -> Result<T, ManagerError> {
        self.pop_at(-1)
    }

    /// Removes and returns the item at `index`: Python's `l.pop(index)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8, 2, 3]).unwrap();
    /// assert_eq!(l.pop_at(0).unwrap(), 1);
    /// assert_eq!(l.to_vec().unwrap(), [2, 3]);
    /// ```
    pub fn pop_at(&self, index: isize) -> Result<T, ManagerError> {
        self.handle.value(Op::PopAt(self::index(index)))
    }

    /// Number of items: Python's `len(l)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert_eq!(manager.list_from(&[1u8, 2]).unwrap().len().unwrap(), 2);
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        self.handle.usize(Op::Len)
    }

    /// Whether the list is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.list::<u8>().unwrap().is_empty().unwrap());
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// A snapshot of every item: Python's `l[:]` or `list(l)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&["a".to_string()]).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), ["a"]);
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>, ManagerError> {
        self.handle.many(Op::Values)
    }

    /// Removes every item: Python's `l.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let l = manager.list_from(&[1u8]).unwrap();
    /// l.clear().unwrap();
    /// assert!(l.is_empty().unwrap());
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.handle.unit(Op::Clear)
    }
}
