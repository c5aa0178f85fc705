//! [`Condition`]: Python's `asyncio.Condition`, a lock plus a wait/notify queue.

use std::fmt;
use std::future::poll_fn;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

use crate::lock::{Lock, LockGuard};
use crate::waiters::WaitList;

/// Lets tasks wait, with a lock released, until another task notifies them.
/// Python's `asyncio.Condition()`.
///
/// The condition owns its [`Lock`]: take it with [`lock`](Condition::lock), then
/// [`wait`](Condition::wait) gives the guard up while waiting and returns it re-acquired.
/// `notify(n)` wakes `n` waiters in FIFO order. `Send + Sync`, executor-agnostic.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use spindle_async::{run, spawn, Condition};
///
/// run(async {
///     let cond = Arc::new(Condition::new());
///     let ready = Arc::new(AtomicBool::new(false));
///     let (c, r) = (cond.clone(), ready.clone());
///     let waiter = spawn(async move {
///         let g = c.lock().await;
///         let _g = c.wait_for(g, || r.load(Ordering::SeqCst)).await;
///         "saw it"
///     });
///     {
///         let _g = cond.lock().await;
///         ready.store(true, Ordering::SeqCst);
///         cond.notify_all();
///     }
///     assert_eq!(waiter.await.unwrap(), "saw it");
/// });
/// ```
pub struct Condition {
    lock: Lock,
    waiters: Mutex<WaitList>,
}

impl Condition {
    /// A condition with a fresh lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Condition;
    ///
    /// let c = Condition::new();
    /// assert!(!c.locked());
    /// ```
    pub fn new() -> Condition {
        Condition {
            lock: Lock::new(),
            waiters: Mutex::new(WaitList::default()),
        }
    }

    /// Takes the condition's lock. Python's `async with cond:`.
    ///
    /// # Cancel safety
    ///
    /// Safe, as [`Lock::lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Condition};
    ///
    /// run(async {
    ///     let c = Condition::new();
    ///     let g = c.lock().await;
    ///     assert!(c.locked());
    ///     drop(g);
    ///     assert!(!c.locked());
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        self.lock.lock().await
    }

    /// Whether the condition's lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Condition};
    ///
    /// run(async {
    ///     let c = Condition::new();
    ///     assert!(!c.locked());
    ///     let _g = c.lock().await;
    ///     assert!(c.locked());
    /// });
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Releases the lock, waits to be notified, re-takes the lock. Python's `await cond.wait()`.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped after it was notified passes the notification to the next one.
    /// The guard is given up either way (a dropped `wait` returns no lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{run, spawn, yield_now, Condition};
    ///
    /// run(async {
    ///     let c = Arc::new(Condition::new());
    ///     let c2 = c.clone();
    ///     let t = spawn(async move {
    ///         let g = c2.lock().await;
    ///         let g = c2.wait(g).await; // lock released while waiting, held again now
    ///         assert!(c2.locked());
    ///         drop(g);
    ///     });
    ///     yield_now().await;
    ///     assert!(!c.locked());
    ///     c.notify_all();
    ///     t.await.unwrap();
    /// });
    /// ```
    pub async fn wait<'a>(&'a self, guard: LockGuard<'a>) -> LockGuard<'a> {
        assert!(
            std::ptr::eq(guard.lock(), &self.lock),
            "Condition::wait given the guard of another lock"
        );
        let mut waiter = Waiter {
            cond: self,
            id: None,
        };
        // Listed before the lock is released, so a notify in between is not lost.
        self.waiters.lock().register(&mut waiter.id, Waker::noop());
        drop(guard);
        poll_fn(|cx| {
            if self.waiters.lock().register(&mut waiter.id, cx.waker()) {
                Poll::Pending
            } else {
                waiter.id = None;
                Poll::Ready(())
            }
        })
        .await;
        self.lock.lock().await
    }

    /// Waits until `predicate()` is true, re-checking after each notification.
    /// Python's `await cond.wait_for(predicate)`.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// # Cancel safety
    ///
    /// Safe, as [`wait`](Condition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc, sync::Arc};
    /// use spindle_async::{run, spawn, yield_now, Condition};
    ///
    /// run(async {
    ///     let (c, n) = (Arc::new(Condition::new()), Rc::new(Cell::new(0)));
    ///     let (c2, n2) = (c.clone(), n.clone());
    ///     let t = spawn(async move { drop(c2.wait_for(c2.lock().await, || n2.get() >= 2).await) });
    ///     for _ in 0..2 {
    ///         yield_now().await; // the waiter checks and waits again
    ///         n.set(n.get() + 1);
    ///         c.notify_all();
    ///     }
    ///     t.await.unwrap();
    ///     assert_eq!(n.get(), 2);
    /// });
    /// ```
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> LockGuard<'a> {
        while !predicate() {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, oldest first. Python's `cond.notify(n)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{run, spawn, yield_now, Condition};
    ///
    /// run(async {
    ///     let c = Arc::new(Condition::new());
    ///     let c2 = c.clone();
    ///     let t = spawn(async move { let g = c2.lock().await; drop(c2.wait(g).await); });
    ///     yield_now().await;
    ///     c.notify(1);
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn notify(&self, n: usize) {
        let mut w = self.waiters.lock();
        for _ in 0..n {
            if !w.notify_one() {
                break;
            }
        }
    }

    /// Wakes every waiter. Python's `cond.notify_all()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{gather, run, spawn, yield_now, Condition};
    ///
    /// run(async {
    ///     let c = Arc::new(Condition::new());
    ///     let tasks: Vec<_> = (0..3).map(|_| {
    ///         let c = c.clone();
    ///         spawn(async move { drop(c.wait(c.lock().await).await) })
    ///     }).collect();
    ///     yield_now().await; // all three wait
    ///     c.notify_all();
    ///     assert_eq!(gather(tasks).await.len(), 3);
    /// });
    /// ```
    pub fn notify_all(&self) {
        self.waiters.lock().notify_all();
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}

struct Waiter<'a> {
    cond: &'a Condition,
    id: Option<u64>,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut w = self.cond.waiters.lock();
            if !w.remove(id) {
                w.notify_one();
            }
        }
    }
}
