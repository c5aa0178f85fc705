//! `DictProxy`: a dict owned by the manager (Python's `manager.dict()` / `DictProxy`).

use super::proxy::{proxy_impls, Handle};
use super::wire::{encode, Op};
use super::ManagerError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// A proxy to a dict that lives in the manager's server: Python's `manager.dict()`.
///
/// Every method is one round trip to the server, which applies it atomically, so updates
/// from several processes never interleave within one call (a read-modify-write across two
/// calls needs a managed [`LockProxy`](super::LockProxy), as in Python). The dict keeps
/// insertion order. Clone it, or pass it as a [`Process`](crate::Process) argument, to reach the
/// same dict from elsewhere.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone,
/// [`ManagerError::Decode`] if the stored value is not a `V` (or `K`), and
/// [`ManagerError::Io`] if the server stops answering.
///
/// # Differences from Python
///
/// Keys and values are one `serde` type each (`K`, `V`) instead of any picklable object, and
/// keys are compared by their encoding: two keys are the same key when they encode to the same
/// bytes (true for integers, strings, tuples and derived types; floats `0.0` and `-0.0`
/// differ).
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let d = manager.dict::<String, i64>().unwrap();
/// d.insert(&"a".to_string(), &1).unwrap();
/// d.update([("b".to_string(), 2)]).unwrap();
/// assert_eq!(d.get(&"b".to_string()).unwrap(), Some(2));
/// assert_eq!(d.items().unwrap(), vec![("a".to_string(), 1), ("b".to_string(), 2)]);
/// ```
pub struct DictProxy<K, V> {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<fn() -> (K, V)>,
}

proxy_impls!(DictProxy<K, V>);

impl<K, V> DictProxy<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// The value for `key`, or `None`: Python's `d.get(key)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.get(&1).unwrap(), Some(10));
    /// assert_eq!(d.get(&2).unwrap(), None);
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.handle.maybe(Op::Get(encode(key)?))
    }

    /// The value for `key`: Python's `d[key]`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::KeyError`] if the key is absent, besides the type's common errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.get_item(&1).unwrap(), 10);
    /// assert!(d.get_item(&2).is_err()); // ManagerError::KeyError
    /// ```
    pub fn get_item(&self, key: &K) -> Result<V, ManagerError> {
        self.get(key)?.ok_or(ManagerError::KeyError)
    }

    /// Sets `key` to `value` (`d[key] = value`) and returns the value it replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// assert_eq!(d.insert(&1, &10).unwrap(), None);
    /// assert_eq!(d.insert(&1, &11).unwrap(), Some(10));
    /// ```
    pub fn insert(&self, key: &K, value: &V) -> Result<Option<V>, ManagerError> {
        self.handle.maybe(Op::Insert(encode(key)?, encode(value)?))
    }

    /// Removes `key` and returns its value: Python's `d.pop(key)`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::KeyError`] if the key is absent, besides the type's common errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.pop(&1).unwrap(), 10);
    /// assert!(d.pop(&1).is_err()); // ManagerError::KeyError
    /// ```
    pub fn pop(&self, key: &K) -> Result<V, ManagerError> {
        self.remove(key)?.ok_or(ManagerError::KeyError)
    }

    /// Removes `key` and returns its value if it was there: Python's `d.pop(key, None)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.remove(&1).unwrap(), Some(10));
    /// assert_eq!(d.remove(&1).unwrap(), None);
    /// ```
    pub fn remove(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.handle.maybe(Op::Pop(encode(key)?))
    }

    /// Whether `key` is present: Python's `key in d`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert!(d.contains_key(&1).unwrap() && !d.contains_key(&2).unwrap());
    /// ```
    pub fn contains_key(&self, key: &K) -> Result<bool, ManagerError> {
        self.handle.bool(Op::Contains(encode(key)?))
    }

    /// The value for `key`, inserting `default` first if it is absent: Python's
    /// `d.setdefault(key, default)`, atomic on the server.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// assert_eq!(d.setdefault(&1, &5).unwrap(), 5);
    /// assert_eq!(d.setdefault(&1, &6).unwrap(), 5); // already there
    /// ```
    pub fn setdefault(&self, key: &K, default: &V) -> Result<V, ManagerError> {
        self.handle
            .value(Op::SetDefault(encode(key)?, encode(default)?))
    }

    /// Inserts every pair, in one atomic call: Python's `d.update(pairs)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.update([(1, 10), (2, 20)]).unwrap();
    /// assert_eq!(d.len().unwrap(), 2);
    /// ```
    pub fn update(&self, pairs: impl IntoIterator<Item = (K, V)>) -> Result<(), ManagerError> {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| Ok((encode(&k)?, encode(&v)?)))
            .collect::<Result<Vec<_>, ManagerError>>()?;
        self.handle.unit(Op::Update(pairs))
    }

    /// Number of entries: Python's `len(d)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.len().unwrap(), 1);
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        self.handle.usize(Op::Len)
    }

    /// Whether the dict is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(manager.dict::<u8, u8>().unwrap().is_empty().unwrap());
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// The keys in insertion order (a snapshot): Python's `list(d.keys())`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.update([(2, 0), (1, 0)]).unwrap();
    /// assert_eq!(d.keys().unwrap(), [2, 1]); // insertion order
    /// ```
    pub fn keys(&self) -> Result<Vec<K>, ManagerError> {
        self.handle.many(Op::Keys)
    }

    /// The values in insertion order (a snapshot): Python's `list(d.values())`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.update([(1, 10), (2, 20)]).unwrap();
    /// assert_eq!(d.values().unwrap(), [10, 20]);
    /// ```
    pub fn values(&self) -> Result<Vec<V>, ManagerError> {
        self.handle.many(Op::Values)
    }

    /// The entries in insertion order (a snapshot): Python's `list(d.items())` or `d.copy()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// assert_eq!(d.items().unwrap(), [(1, 10)]);
    /// ```
    pub fn items(&self) -> Result<Vec<(K, V)>, ManagerError> {
        self.handle.pairs(Op::Items)
    }

    /// Removes every entry: Python's `d.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(&1, &10).unwrap();
    /// d.clear().unwrap();
    /// assert!(d.is_empty().unwrap());
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.handle.unit(Op::Clear)
    }
}
