//! `NamespaceProxy`: named attributes owned by the manager (Python's `manager.Namespace()`).

use super::proxy::{proxy_impls, Handle};
use super::wire::{encode, Op};
use super::ManagerError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// A proxy to a namespace in the manager's server: Python's `manager.Namespace()`, whose
/// attributes (`ns.x = 1`) become [`set`](NamespaceProxy::set) / [`get`](NamespaceProxy::get)
/// by name.
///
/// Each attribute holds a `serde` value of any type; `get` decodes it as the type asked for.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone and
/// [`ManagerError::Io`] if the server stops answering; `get` and `del` return
/// [`ManagerError::AttributeError`] for a missing name, and `get` returns
/// [`ManagerError::Decode`] when the attribute holds another type.
///
/// # Differences from Python
///
/// Attribute access is spelled with method calls and names are strings; the type of an
/// attribute is not recorded, so `get::<T>` must name the type that was stored.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::{Manager, ManagerError};
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let ns = manager.namespace().unwrap();
/// ns.set("x", &10).unwrap();
/// ns.set("name", &"spindle").unwrap();
/// assert_eq!(ns.get::<i32>("x").unwrap(), 10);
/// assert_eq!(ns.get::<String>("name").unwrap(), "spindle");
/// assert!(matches!(ns.get::<i32>("y"), Err(ManagerError::AttributeError(_))));
/// ```
pub struct NamespaceProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}

proxy_impls!(NamespaceProxy);

impl NamespaceProxy {
    /// The attribute `name` decoded as `T`: Python's `ns.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("n", &3u32).unwrap();
    /// assert_eq!(ns.get::<u32>("n").unwrap(), 3);
    /// assert!(ns.get::<u32>("missing").is_err()); // ManagerError::AttributeError
    /// ```
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, ManagerError> {
        self.handle.value(Op::GetAttr(name.to_string()))
    }

    /// Sets the attribute `name`: Python's `ns.name = value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("greeting", "hi").unwrap();
    /// assert_eq!(ns.get::<String>("greeting").unwrap(), "hi");
    /// ```
    pub fn set<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<(), ManagerError> {
        self.handle
            .unit(Op::SetAttr(name.to_string(), encode(value)?))
    }

    /// Removes the attribute `name`: Python's `del ns.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("x", &1u8).unwrap();
    /// ns.del("x").unwrap();
    /// assert!(ns.names().unwrap().is_empty());
    /// ```
    pub fn del(&self, name: &str) -> Result<(), ManagerError> {
        self.handle.unit(Op::DelAttr(name.to_string()))
    }

    /// The attribute names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("b", &1u8).unwrap();
    /// ns.set("a", &2u8).unwrap();
    /// assert_eq!(ns.names().unwrap(), ["a", "b"]);
    /// ```
    pub fn names(&self) -> Result<Vec<String>, ManagerError> {
        self.handle.names(Op::Attrs)
    }
}
