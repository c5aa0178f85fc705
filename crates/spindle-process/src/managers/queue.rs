//! `QueueProxy`: a FIFO queue owned by the manager (Python's `manager.Queue(maxsize)`).

use super::proxy::{proxy_impls, Handle};
use super::wire::{encode, Op};
use super::ManagerError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::time::Duration;

/// A proxy to a `queue.Queue` in the manager's server: Python's `manager.Queue(maxsize)`.
///
/// Blocking `put`/`get` wait on the server; `maxsize` 0 means unbounded. Unlike
/// [`crate::Queue`], which moves items through a pipe and shared memory, every call here is a
/// round trip to the manager, so it is slower but needs nothing but the proxy.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone (a caller blocked
/// at that moment gets it too) and [`ManagerError::Decode`] if an item is not a `T`; timed and
/// non-blocking puts give [`ManagerError::Full`], gets [`ManagerError::Empty`].
///
/// # Differences from Python
///
/// `put` takes the item by reference: it is encoded at once, so a refused item stays with
/// the caller and nothing needs handing back.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::managers::{Manager, ManagerError};
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let q = manager.queue::<String>(1).unwrap();
/// q.put(&"job".to_string()).unwrap();
/// assert!(matches!(q.put_nowait(&"more".to_string()), Err(ManagerError::Full)));
/// assert_eq!(q.get().unwrap(), "job");
/// assert!(matches!(q.get_timeout(Duration::from_millis(10)), Err(ManagerError::Empty)));
/// ```
pub struct QueueProxy<T> {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<fn() -> T>,
}

proxy_impls!(QueueProxy<T>);

impl<T: Serialize + DeserializeOwned> QueueProxy<T> {
    /// Puts `item`, waiting for room: Python's `q.put(item)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(0).unwrap();
    /// q.put(&1).unwrap();
    /// assert_eq!(q.get().unwrap(), 1);
    /// ```
    pub fn put(&self, item: &T) -> Result<(), ManagerError> {
        self.handle.unit(Op::Put(encode(item)?, None))
    }

    /// Puts `item`, waiting up to `timeout` for room: Python's `q.put(item, timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::ManagerError;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(1).unwrap();
    /// q.put(&1).unwrap();
    /// let r = q.put_timeout(&2, Duration::from_millis(1));
    /// assert!(matches!(r, Err(ManagerError::Full)));
    /// ```
    pub fn put_timeout(&self, item: &T, timeout: Duration) -> Result<(), ManagerError> {
        self.handle.unit(Op::Put(encode(item)?, Some(timeout)))
    }

    /// Puts `item` only if there is room now: Python's `q.put_nowait(item)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(1).unwrap();
    /// q.put_nowait(&1).unwrap();
    /// assert!(q.put_nowait(&2).is_err()); // ManagerError::Full
    /// ```
    pub fn put_nowait(&self, item: &T) -> Result<(), ManagerError> {
        self.put_timeout(item, Duration::ZERO)
    }

    /// Takes the oldest item, waiting for one: Python's `q.get()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<String>(0).unwrap();
    /// q.put(&"a".into()).unwrap();
    /// q.put(&"b".into()).unwrap();
    /// assert_eq!(q.get().unwrap(), "a");
    /// ```
    pub fn get(&self) -> Result<T, ManagerError> {
        self.handle.value(Op::Take(None))
    }

    /// Takes the oldest item, waiting up to `timeout`: Python's `q.get(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::ManagerError;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(0).unwrap();
    /// let r = q.get_timeout(Duration::from_millis(1));
    /// assert!(matches!(r, Err(ManagerError::Empty)));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, ManagerError> {
        self.handle.value(Op::Take(Some(timeout)))
    }

    /// Takes an item only if one is there now: Python's `q.get_nowait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(0).unwrap();
    /// assert!(q.get_nowait().is_err()); // ManagerError::Empty
    /// ```
    pub fn get_nowait(&self) -> Result<T, ManagerError> {
        self.get_timeout(Duration::ZERO)
    }

    /// Number of items queued now: Python's `q.qsize()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(0).unwrap();
    /// q.put(&1).unwrap();
    /// assert_eq!(q.qsize().unwrap(), 1);
    /// ```
    pub fn qsize(&self) -> Result<usize, ManagerError> {
        self.handle.usize(Op::Len)
    }

    /// Whether the queue is empty now: Python's `q.empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.queue::<u8>(0).unwrap().empty().unwrap());
    /// ```
    pub fn empty(&self) -> Result<bool, ManagerError> {
        Ok(self.qsize()? == 0)
    }

    /// Whether the queue is at `maxsize` now: Python's `q.full()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let q = manager.queue::<u8>(1).unwrap();
    /// assert!(!q.full().unwrap());
    /// q.put(&1).unwrap();
    /// assert!(q.full().unwrap());
    /// ```
    pub fn full(&self) -> Result<bool, ManagerError> {
        self.handle.bool(Op::Full)
    }
}
