//! Lock, RLock, Semaphore, Event and Condition proxies (Python's `manager.Lock()` etc., served
//! by `AcquirerProxy`, `EventProxy` and `ConditionProxy`).
//!
//! Blocking calls block a thread of the server (one per client connection), never a lock in
//! the client, so a thread waiting in `acquire` does not stop another thread of the same
//! process from calling `release` through the same proxy. Ownership (for `RLock` and for a
//! condition's lock) belongs to the calling *thread*, identified by process id and a
//! per-process thread number.

use super::proxy::{proxy_impls, Handle};
use super::wire::Op;
use super::ManagerError;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// Holds a managed lock, semaphore or condition until dropped: Python's `with lock:`.
///
/// Dropping it releases the object; a release that fails (the manager shut down meanwhile) is
/// ignored, as there is nothing left to release.
///
/// # Examples
///
/// ```
/// # spindle_process::init();
/// let manager = spindle_process::Manager::start().unwrap();
/// let lock = manager.lock().unwrap();
/// let guard = lock.lock().unwrap();
/// assert!(lock.locked().unwrap());
/// drop(guard);
/// assert!(!lock.locked().unwrap());
/// ```
#[must_use = "dropping the guard releases at once"]
pub struct ProxyGuard<'a> {
    handle: &'a Handle,
}

impl std::fmt::Debug for ProxyGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyGuard")
            .field("id", &self.handle.id())
            .finish()
    }
}

impl Drop for ProxyGuard<'_> {
    fn drop(&mut self) {
        let _ = self.handle.unit(Op::Release);
    }
}

fn acquire(handle: &Handle, timeout: Option<Duration>) -> Result<bool, ManagerError> {
    handle.bool(Op::Acquire(timeout))
}

fn guard(handle: &Handle) -> Result<ProxyGuard<'_>, ManagerError> {
    acquire(handle, None)?;
    Ok(ProxyGuard { handle })
}

/// Acquire/release methods shared by the lock-like proxies.
macro_rules! acquirer {
    ($name:ident, $what:literal) => {
        impl $name {
            #[doc = concat!("Blocks until the ", $what, " is acquired: Python's `acquire()`.")]
            ///
            /// A manager that shuts down meanwhile ends the wait with
            /// [`ManagerError::ShutDown`].
            ///
            /// # Examples
            ///
            /// ```
            /// // Shown on a managed lock; every lock-like proxy behaves the same.
            /// # spindle_process::init();
            /// let manager = spindle_process::Manager::start().unwrap();
            /// let lock = manager.lock().unwrap();
            /// lock.acquire().unwrap();
            /// assert!(!lock.try_acquire().unwrap());
            /// lock.release().unwrap();
            /// ```
            pub fn acquire(&self) -> Result<(), ManagerError> {
                acquire(&self.handle, None).map(drop)
            }

            /// Acquires without waiting; returns whether it succeeded: Python's
            /// `acquire(blocking=False)`.
            ///
            /// # Examples
            ///
            /// ```
            /// // Shown on a managed semaphore; every lock-like proxy behaves the same.
            /// # spindle_process::init();
            /// let manager = spindle_process::Manager::start().unwrap();
            /// let sem = manager.semaphore(1).unwrap();
            /// assert!(sem.try_acquire().unwrap());
            /// assert!(!sem.try_acquire().unwrap());
            /// ```
            pub fn try_acquire(&self) -> Result<bool, ManagerError> {
                acquire(&self.handle, Some(Duration::ZERO))
            }

            /// Waits up to `timeout` to acquire; returns whether it succeeded: Python's
            /// `acquire(timeout=t)`. A timeout too large for the clock waits without limit.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            ///
            /// // Shown on a managed lock; every lock-like proxy behaves the same.
            /// # spindle_process::init();
            /// let manager = spindle_process::Manager::start().unwrap();
            /// let lock = manager.lock().unwrap();
            /// assert!(lock.acquire_timeout(Duration::from_secs(5)).unwrap());
            /// assert!(!lock.acquire_timeout(Duration::from_millis(1)).unwrap());
            /// ```
            pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, ManagerError> {
                acquire(&self.handle, Some(timeout))
            }

            #[doc = concat!("Acquires the ", $what, " and returns a guard that releases it: Python's `with`.")]
            ///
            /// # Examples
            ///
            /// ```
            /// // Shown on a managed lock; every lock-like proxy behaves the same.
            /// # spindle_process::init();
            /// let manager = spindle_process::Manager::start().unwrap();
            /// let lock = manager.lock().unwrap();
            /// {
            ///     let _held = lock.lock().unwrap();
            ///     assert!(lock.locked().unwrap());
            /// }
            /// assert!(!lock.locked().unwrap());
            /// ```
            pub fn lock(&self) -> Result<ProxyGuard<'_>, ManagerError> {
                guard(&self.handle)
            }

            #[doc = concat!("Releases the ", $what, ": Python's `release()`.")]
            ///
            /// # Examples
            ///
            /// ```
            /// // Shown on a managed lock; every lock-like proxy behaves the same.
            /// # spindle_process::init();
            /// let manager = spindle_process::Manager::start().unwrap();
            /// let lock = manager.lock().unwrap();
            /// lock.acquire().unwrap();
            /// lock.release().unwrap();
            /// assert!(lock.release().is_err()); // ManagerError::NotHeld
            /// ```
            pub fn release(&self) -> Result<(), ManagerError> {
                self.handle.unit(Op::Release)
            }
        }
    };
}

/// A proxy to a lock held by the manager: Python's `manager.Lock()`.
///
/// Any thread or process may release it (as with `threading.Lock`).
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone;
/// [`release`](LockProxy::release) returns [`ManagerError::NotHeld`] on an unlocked lock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let lock = manager.lock().unwrap();
/// {
///     let _held = lock.lock().unwrap();
///     assert!(lock.locked().unwrap());
///     assert!(!lock.acquire_timeout(Duration::from_millis(10)).unwrap());
/// }
/// assert!(lock.try_acquire().unwrap());
/// lock.release().unwrap();
/// assert!(lock.release().is_err());
/// ```
pub struct LockProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}
proxy_impls!(LockProxy);
acquirer!(LockProxy, "lock");

impl LockProxy {
    /// Whether someone holds the lock: Python's `lock.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let lock = manager.lock().unwrap();
    /// assert!(!lock.locked().unwrap());
    /// lock.acquire().unwrap();
    /// assert!(lock.locked().unwrap());
    /// ```
    pub fn locked(&self) -> Result<bool, ManagerError> {
        self.handle.bool(Op::Locked)
    }
}

/// A proxy to a re-entrant lock held by the manager: Python's `manager.RLock()`.
///
/// The owner is the thread that acquired it (in whichever process); it may acquire again and
/// must release as often.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone;
/// [`release`](RLockProxy::release) returns [`ManagerError::NotHeld`] when the calling thread
/// is not the owner.
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let rlock = manager.rlock().unwrap();
/// rlock.acquire().unwrap();
/// rlock.acquire().unwrap();
/// rlock.release().unwrap();
/// rlock.release().unwrap();
/// assert!(rlock.release().is_err());
/// ```
pub struct RLockProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}
proxy_impls!(RLockProxy);
acquirer!(RLockProxy, "lock");

/// A proxy to a semaphore held by the manager: Python's `manager.Semaphore(n)` or
/// `manager.BoundedSemaphore(n)`.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone; `release` on a
/// bounded semaphore already at its initial value returns [`ManagerError::OverRelease`].
///
/// # Examples
///
/// ```
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let sem = manager.semaphore(2).unwrap();
/// sem.acquire().unwrap();
/// sem.acquire().unwrap();
/// assert!(!sem.try_acquire().unwrap());
/// sem.release().unwrap();
/// assert_eq!(sem.value().unwrap(), 1);
/// ```
pub struct SemaphoreProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}
proxy_impls!(SemaphoreProxy);
acquirer!(SemaphoreProxy, "semaphore");

impl SemaphoreProxy {
    /// The current counter: Python's `sem.get_value()` / `sem._value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let sem = manager.semaphore(3).unwrap();
    /// sem.acquire().unwrap();
    /// assert_eq!(sem.value().unwrap(), 2);
    /// ```
    pub fn value(&self) -> Result<usize, ManagerError> {
        self.handle.usize(Op::SemValue)
    }
}

/// A proxy to an event held by the manager: Python's `manager.Event()`.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone (a waiter blocked
/// at that moment gets it too).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let ev = manager.event().unwrap();
/// assert!(!ev.wait_timeout(Duration::from_millis(10)).unwrap());
/// ev.set().unwrap();
/// assert!(ev.is_set().unwrap());
/// ev.wait().unwrap();
/// ```
pub struct EventProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}
proxy_impls!(EventProxy);

impl EventProxy {
    /// Sets the flag and wakes every waiter: Python's `event.set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ev = manager.event().unwrap();
    /// ev.set().unwrap();
    /// assert!(ev.is_set().unwrap());
    /// ```
    pub fn set(&self) -> Result<(), ManagerError> {
        self.handle.unit(Op::Set)
    }

    /// Clears the flag: Python's `event.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ev = manager.event().unwrap();
    /// ev.set().unwrap();
    /// ev.clear().unwrap();
    /// assert!(!ev.is_set().unwrap());
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.handle.unit(Op::ClearFlag)
    }

    /// Whether the flag is set: Python's `event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// assert!(!manager.event().unwrap().is_set().unwrap());
    /// ```
    pub fn is_set(&self) -> Result<bool, ManagerError> {
        self.handle.bool(Op::IsSet)
    }

    /// Blocks until the flag is set: Python's `event.wait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ev = manager.event().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| ev.set().unwrap());
    ///     ev.wait().unwrap();
    /// });
    /// assert!(ev.is_set().unwrap());
    /// ```
    pub fn wait(&self) -> Result<(), ManagerError> {
        self.handle.bool(Op::Wait(None)).map(drop)
    }

    /// Waits up to `timeout` for the flag; returns whether it is set: Python's
    /// `event.wait(timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let ev = manager.event().unwrap();
    /// assert!(!ev.wait_timeout(Duration::from_millis(1)).unwrap());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ManagerError> {
        self.handle.bool(Op::Wait(Some(timeout)))
    }
}

/// A proxy to a condition variable held by the manager: Python's `manager.Condition(lock)`.
///
/// The condition works over a managed lock: a fresh `RLock` from
/// [`Manager::condition`](super::Manager::condition), or a given [`LockProxy`] /
/// [`RLockProxy`]. `acquire`/`release`/`lock` act on that lock; `wait` and `notify` need the
/// calling thread to hold it.
///
/// # Errors
///
/// Every method returns [`ManagerError::ShutDown`] once the manager is gone; `wait`, `notify`
/// and `notify_all` return [`ManagerError::NotHeld`] if the calling thread does not hold the
/// lock.
///
/// # Differences from Python
///
/// A condition over a plain `Lock` also checks that the *calling thread* holds it (Python can
/// only check that somebody does).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::managers::Manager;
///
/// # spindle_process::init();
/// let manager = Manager::start().unwrap();
/// let cond = manager.condition().unwrap();
/// let _held = cond.lock().unwrap();
/// // Nobody notifies: the wait times out, with the lock held again afterwards.
/// assert!(!cond.wait_timeout(Duration::from_millis(10)).unwrap());
/// cond.notify_all().unwrap();
/// ```
pub struct ConditionProxy {
    pub(crate) handle: Handle,
    pub(crate) _t: PhantomData<()>,
}
proxy_impls!(ConditionProxy);
acquirer!(ConditionProxy, "condition's lock");

impl ConditionProxy {
    /// Releases the lock, blocks until notified, then takes the lock back: Python's
    /// `cond.wait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// let flag = manager.value(&false).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let _held = cond.lock().unwrap();
    ///         flag.set(&true).unwrap();
    ///         cond.notify_all().unwrap();
    ///     });
    ///     let _held = cond.lock().unwrap();
    ///     while !flag.get().unwrap() {
    ///         cond.wait().unwrap();
    ///     }
    /// });
    /// ```
    pub fn wait(&self) -> Result<(), ManagerError> {
        self.handle.bool(Op::Wait(None)).map(drop)
    }

    /// [`wait`](ConditionProxy::wait) for at most `timeout`; returns whether it was notified
    /// (false on timeout). The lock is held again either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// let _held = cond.lock().unwrap();
    /// assert!(!cond.wait_timeout(Duration::from_millis(1)).unwrap());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ManagerError> {
        self.handle.bool(Op::Wait(Some(timeout)))
    }

    /// Waits until `predicate()` is true or `timeout` (`None`: no limit) has passed; returns
    /// the predicate's last value: Python's `cond.wait_for(predicate, timeout)`. The predicate
    /// runs in the calling process, with the lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// let _held = cond.lock().unwrap();
    /// assert!(cond.wait_for(|| true, None).unwrap());
    /// assert!(!cond.wait_for(|| false, Some(Duration::from_millis(1))).unwrap());
    /// ```
    pub fn wait_for(
        &self,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, ManagerError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if predicate() {
                return Ok(true);
            }
            match deadline {
                None => self.wait()?,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    self.wait_timeout(left)?;
                }
            }
        }
    }

    /// Wakes up to `n` waiters: Python's `cond.notify(n)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// assert!(cond.notify(1).is_err()); // ManagerError::NotHeld: lock not held
    /// let _held = cond.lock().unwrap();
    /// cond.notify(1).unwrap();
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), ManagerError> {
        self.handle.unit(Op::Notify(n))
    }

    /// Wakes every waiter: Python's `cond.notify_all()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # spindle_process::init();
    /// let manager = spindle_process::Manager::start().unwrap();
    /// let cond = manager.condition().unwrap();
    /// let _held = cond.lock().unwrap();
    /// cond.notify_all().unwrap(); // no waiters: nothing happens
    /// ```
    pub fn notify_all(&self) -> Result<(), ManagerError> {
        self.handle.unit(Op::NotifyAll)
    }
}
