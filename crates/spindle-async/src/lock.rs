//! [`Lock`]: Python's `asyncio.Lock`, a fair (FIFO) mutual-exclusion lock for tasks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use parking_lot::Mutex;

use crate::waiters::WaitList;

/// Releasing a [`Lock`] that is not held: Python's `RuntimeError: Lock is not acquired`.
///
/// # Examples
///
/// ```
/// use spindle_async::{Lock, ReleaseError};
///
/// assert_eq!(Lock::new().release(), Err(ReleaseError));
/// assert_eq!(ReleaseError.to_string(), "lock is not acquired");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("lock is not acquired")]
pub struct ReleaseError;

struct State {
    locked: bool,
    waiters: WaitList,
}

/// An async mutual-exclusion lock. Python's `asyncio.Lock`.
///
/// [`lock`](Lock::lock) gives an RAII guard (Python's `async with lock:`);
/// [`acquire`](Lock::acquire) / [`release`](Lock::release) are the raw forms. Waiters get the
/// lock in FIFO order: `release` hands it straight to the oldest waiter. It relies only on
/// `std::task::Waker`, so it works under any executor, and it is `Send + Sync`.
///
/// # Examples
///
/// ```
/// use std::{cell::RefCell, rc::Rc, sync::Arc};
/// use spindle_async::{gather, run, spawn, yield_now, Lock};
///
/// run(async {
///     let lock = Arc::new(Lock::new());
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let tasks: Vec<_> = (0..3).map(|i| {
///         let (lock, log) = (lock.clone(), log.clone());
///         spawn(async move {
///             let _g = lock.lock().await;
///             log.borrow_mut().push(i);
///             yield_now().await; // others queue up meanwhile
///             log.borrow_mut().push(i);
///         })
///     }).collect();
///     gather(tasks).await;
///     assert_eq!(*log.borrow(), [0, 0, 1, 1, 2, 2]);
/// });
/// ```
pub struct Lock {
    state: Mutex<State>,
}

impl Lock {
    /// A new, unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Lock {
        Lock {
            state: Mutex::new(State {
                locked: false,
                waiters: WaitList::default(),
            }),
        }
    }

    /// Waits for the lock and returns a guard that releases it on drop. Python's `async with lock:`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped after the lock was handed to it passes it on.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Lock};
    ///
    /// run(async {
    ///     let lock = Lock::new();
    ///     {
    ///         let _guard = lock.lock().await;
    ///         assert!(lock.locked());
    ///     }
    ///     assert!(!lock.locked());
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        self.acquire().await;
        LockGuard { lock: self }
    }

    /// Waits for the lock and keeps it until [`release`](Lock::release). Python's `await lock.acquire()`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped after the lock was handed to it passes it on.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Lock};
    ///
    /// run(async {
    ///     let lock = Lock::new();
    ///     lock.acquire().await;
    ///     assert!(lock.locked());
    ///     lock.release().unwrap();
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            lock: self,
            id: None,
        }
    }

    /// Takes the lock if it is free and nobody waits; returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// lock.release().unwrap();
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut s = self.state.lock();
        if !s.locked && s.waiters.is_empty() {
            s.locked = true;
            true
        } else {
            false
        }
    }

    /// Releases the lock, handing it to the oldest waiter. Python's `lock.release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{Lock, ReleaseError};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.release(), Err(ReleaseError));
    /// assert!(lock.try_acquire());
    /// assert_eq!(lock.release(), Ok(()));
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        let mut s = self.state.lock();
        if !s.locked {
            return Err(ReleaseError);
        }
        if !s.waiters.notify_one() {
            s.locked = false;
        }
        Ok(())
    }

    /// Whether the lock is held. Python's `lock.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Lock};
    ///
    /// run(async {
    ///     let lock = Lock::new();
    ///     let guard = lock.lock().await;
    ///     assert!(lock.locked());
    ///     drop(guard);
    ///     assert!(!lock.locked());
    /// });
    /// ```
    pub fn locked(&self) -> bool {
        self.state.lock().locked
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("Lock")
            .field("locked", &s.locked)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

/// The future of [`Lock::acquire`].
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Lock};
///
/// run(async {
///     let lock = Lock::new();
///     let fut = lock.acquire(); // an `Acquire`
///     fut.await;
///     assert!(lock.locked());
///     lock.release().unwrap();
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    lock: &'a Lock,
    id: Option<u64>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let lock = self.lock;
        let mut s = lock.state.lock();
        if self.id.is_none() && !s.locked && s.waiters.is_empty() {
            s.locked = true;
            return Poll::Ready(());
        }
        if s.waiters.register(&mut self.id, cx.waker()) {
            Poll::Pending
        } else {
            self.id = None; // handed over: the lock is ours
            Poll::Ready(())
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut s = self.lock.state.lock();
            if !s.waiters.remove(id) && !s.waiters.notify_one() {
                // It was handed to us but we are gone: pass it on or free it.
                s.locked = false;
            }
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.id.is_some())
            .finish()
    }
}

/// Holds a [`Lock`]; releases it on drop.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Lock};
///
/// run(async {
///     let lock = Lock::new();
///     {
///         let _guard = lock.lock().await;
///         assert!(!lock.try_acquire());
///     }
///     assert!(lock.try_acquire()); // the guard released it
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl<'a> LockGuard<'a> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Lock};
    ///
    /// run(async {
    ///     let lock = Lock::new();
    ///     let guard = lock.lock().await;
    ///     assert!(std::ptr::eq(guard.lock(), &lock));
    /// });
    /// ```
    pub fn lock(&self) -> &'a Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
