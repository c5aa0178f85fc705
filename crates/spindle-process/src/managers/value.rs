//! `ValueProxy` and `ArrayProxy`: a single value and a fixed-length array owned by the manager
//! (Python's `manager.Value(typecode, v)` and `manager.Array(typecode, seq)`).

use super::proxy::{proxy_impls, Handle};
use super::wire::{encode, Op};
use super::ManagerError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// A proxy to one value in the manager's server: Python's `manager.Value(typecode, value)`.
///
/// Any `serde` type works (not only plain data as for the shared-memory
/// [`Value`](crate::Value)). `get` and `set` are each atomic; an update that reads then writes
/// needs a managed lock around it, as in Python.
///
/// # Errors
///
/// Both methods return [`ManagerError::ShutDown`] once the manager is gone; `get` returns
/// [`ManagerError::Decode`] if the stored value is not a `T`.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let v = manager.value(&1.5f64).unwrap();
/// v.set(&2.5).unwrap();
/// assert_eq!(v.get().unwrap(), 2.5);
/// ```
pub struct ValueProxy<T> {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<fn() -> T>,
}

proxy_impls!(ValueProxy<T>);

impl<T: Serialize + DeserializeOwned> ValueProxy<T> {
    /// The current value: Python's `v.value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert_eq!(manager.value(&5i32).unwrap().get().unwrap(), 5);
    /// ```
    pub fn get(&self) -> Result<T, ManagerError> {
        self.handle.value(Op::Load)
    }

    /// Replaces the value: Python's `v.value = x`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let v = manager.value(&5i32).unwrap();
    /// v.set(&6).unwrap();
    /// assert_eq!(v.get().unwrap(), 6);
    /// ```
    pub fn set(&self, value: &T) -> Result<(), ManagerError> {
        self.handle.unit(Op::Store(encode(value)?))
    }
}

/// A proxy to a fixed-length array in the manager's server: Python's
/// `manager.Array(typecode, sequence)`.
///
/// Indices follow Python (negative counts from the end); the length never changes.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone; `get` and `set`
/// return [`ManagerError::IndexError`] for an index out of range.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let a = manager.array(&[0u32; 4]).unwrap();
/// a.set(-1, &9).unwrap();
/// assert_eq!(a.to_vec().unwrap(), vec![0, 0, 0, 9]);
/// assert_eq!(a.len().unwrap(), 4);
/// ```
pub struct ArrayProxy<T> {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<fn() -> T>,
}

proxy_impls!(ArrayProxy<T>);

impl<T: Serialize + DeserializeOwned> ArrayProxy<T> {
    /// The item at `index`: Python's `a[index]`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let a = manager.array(&[1u8, 2]).unwrap();
    /// assert_eq!(a.get(0).unwrap(), 1);
    /// assert!(a.get(2).is_err()); // ManagerError::IndexError
    /// ```
    pub fn get(&self, index: isize) -> Result<T, ManagerError> {
        self.handle.value(Op::Index(index as i64))
    }

    /// Replaces the item at `index`: Python's `a[index] = item`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let a = manager.array(&[1u8, 2]).unwrap();
    /// a.set(1, &7).unwrap();
    /// assert_eq!(a.to_vec().unwrap(), [1, 7]);
    /// ```
    pub fn set(&self, index: isize, item: &T) -> Result<(), ManagerError> {
        self.handle.unit(Op::SetIndex(index as i64, encode(item)?))
    }

    /// The fixed length: Python's `len(a)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert_eq!(manager.array(&[0u8; 3]).unwrap().len().unwrap(), 3);
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        self.handle.usize(Op::Len)
    }

    /// Whether the array has no items.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.array::<u8>(&[]).unwrap().is_empty().unwrap());
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// A snapshot of every item: Python's `a[:]`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let a = manager.array(&[1.5f64]).unwrap();
    /// assert_eq!(a.to_vec().unwrap(), [1.5]);
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>, ManagerError> {
        self.handle.many(Op::Values)
    }
}
