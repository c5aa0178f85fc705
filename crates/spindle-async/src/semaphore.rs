//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `asyncio.Semaphore` and
//! `asyncio.BoundedSemaphore`, handing permits to waiters in FIFO order.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use parking_lot::Mutex;

use crate::waiters::WaitList;

/// Releasing a [`BoundedSemaphore`] above its initial value: Python's `ValueError`.
///
/// # Examples
///
/// ```
/// use spindle_async::{BoundedSemaphore, OverReleaseError};
///
/// let sem = BoundedSemaphore::new(1);
/// assert_eq!(sem.release(), Err(OverReleaseError));
/// assert_eq!(OverReleaseError.to_string(), "semaphore released too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("semaphore released too many times")]
pub struct OverReleaseError;

struct State {
    value: usize,
    waiters: WaitList,
}

/// The shared core of both semaphores.
struct Core {
    state: Mutex<State>,
}

impl Core {
    fn new(value: usize) -> Core {
        Core {
            state: Mutex::new(State {
                value,
                waiters: WaitList::default(),
            }),
        }
    }

    fn try_acquire(&self) -> bool {
        let mut s = self.state.lock();
        if s.value > 0 && s.waiters.is_empty() {
            s.value -= 1;
            true
        } else {
            false
        }
    }

    fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            core: self,
            id: None,
        }
    }

    fn value(&self) -> usize {
        self.state.lock().value
    }

    /// Whether an `acquire` would wait: no permit free, or older waiters queued.
    fn locked(&self) -> bool {
        let s = self.state.lock();
        s.value == 0 || !s.waiters.is_empty()
    }

    /// Hands up to `n` permits to waiters, the rest back to the counter.
    fn release_locked(s: &mut State, n: usize) {
        for _ in 0..n {
            if !s.waiters.notify_one() {
                s.value += 1;
            }
        }
    }

    fn poll_acquire(&self, id: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.lock();
        if id.is_none() && s.value > 0 && s.waiters.is_empty() {
            s.value -= 1;
            return Poll::Ready(());
        }
        if s.waiters.register(id, cx.waker()) {
            Poll::Pending
        } else {
            *id = None;
            Poll::Ready(())
        }
    }

    fn drop_waiter(&self, id: Option<u64>) {
        if let Some(id) = id {
            let mut s = self.state.lock();
            if !s.waiters.remove(id) {
                Core::release_locked(&mut s, 1);
            }
        }
    }
}

/// A counter of permits tasks wait for. Python's `asyncio.Semaphore(value)`.
///
/// [`acquire`](Semaphore::acquire) takes one permit, waiting while there are none;
/// [`release`](Semaphore::release) gives permits back, straight to the oldest waiters.
/// [`permit`](Semaphore::permit) returns an RAII guard (Python's `async with sem:`).
/// `Send + Sync`, executor-agnostic.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc, sync::Arc};
/// use spindle_async::{gather, run, spawn, yield_now, Semaphore};
///
/// run(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let (now, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let tasks: Vec<_> = (0..6).map(|_| {
///         let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
///         spawn(async move {
///             let _p = sem.permit().await;
///             now.set(now.get() + 1);
///             peak.set(peak.get().max(now.get()));
///             yield_now().await;
///             now.set(now.get() - 1);
///         })
///     }).collect();
///     gather(tasks).await;
///     assert_eq!(peak.get(), 2);
/// });
/// ```
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// A semaphore holding `value` permits.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            core: Core::new(value),
        }
    }

    /// Waits for a permit and keeps it until [`release`](Semaphore::release).
    /// Python's `await sem.acquire()`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped after a permit was handed to it gives the permit back.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Semaphore};
    ///
    /// run(async {
    ///     let sem = Semaphore::new(1);
    ///     sem.acquire().await;
    ///     assert_eq!(sem.value(), 0);
    ///     sem.release(1);
    ///     assert_eq!(sem.value(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.core.acquire()
    }

    /// Waits for a permit and returns a guard that releases it. Python's `async with sem:`.
    ///
    /// # Cancel safety
    ///
    /// Safe, as [`acquire`](Semaphore::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Semaphore};
    ///
    /// run(async {
    ///     let sem = Semaphore::new(1);
    ///     {
    ///         let _permit = sem.permit().await;
    ///         assert!(sem.locked());
    ///     }
    ///     assert!(!sem.locked());
    /// });
    /// ```
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.acquire().await;
        SemaphorePermit {
            of: PermitOf::Plain(self),
        }
    }

    /// Takes a permit if one is free and nobody waits; returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Gives `n` permits back, waking waiters first. Python's `sem.release()` (n = 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Semaphore;
    ///
    /// let s = Semaphore::new(0);
    /// assert!(!s.try_acquire());
    /// s.release(2);
    /// assert_eq!(s.value(), 2);
    /// ```
    pub fn release(&self, n: usize) {
        Core::release_locked(&mut self.core.state.lock(), n);
    }

    /// Permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// assert!(sem.try_acquire());
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.core.value()
    }

    /// Whether an `acquire` would wait. Python's `sem.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(!sem.locked());
    /// assert!(sem.try_acquire());
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.locked()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A [`Semaphore`] that refuses to grow above its initial value.
/// Python's `asyncio.BoundedSemaphore(value)`.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, BoundedSemaphore, OverReleaseError};
///
/// run(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await;
///     sem.release().unwrap();
///     assert_eq!(sem.release(), Err(OverReleaseError));
/// });
/// ```
pub struct BoundedSemaphore {
    core: Core,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore holding `value` permits, which is also its bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2);
    /// assert_eq!((sem.value(), sem.bound()), (2, 2));
    /// ```
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(value),
            bound: value,
        }
    }

    /// Waits for a permit. Python's `await sem.acquire()`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped after a permit was handed to it gives the permit back.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, BoundedSemaphore};
    ///
    /// run(async {
    ///     let sem = BoundedSemaphore::new(1);
    ///     sem.acquire().await;
    ///     assert_eq!(sem.value(), 0);
    ///     sem.release().unwrap();
    /// });
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.core.acquire()
    }

    /// Waits for a permit and returns a guard that releases it. Python's `async with sem:`.
    ///
    /// # Cancel safety
    ///
    /// Safe, as [`acquire`](BoundedSemaphore::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, BoundedSemaphore};
    ///
    /// run(async {
    ///     let sem = BoundedSemaphore::new(1);
    ///     let permit = sem.permit().await;
    ///     assert!(sem.locked());
    ///     drop(permit);
    ///     assert_eq!(sem.value(), 1);
    /// });
    /// ```
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.acquire().await;
        SemaphorePermit {
            of: PermitOf::Bounded(self),
        }
    }

    /// Takes a permit if one is free and nobody waits; returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Gives one permit back. Python's `sem.release()`.
    ///
    /// # Errors
    ///
    /// [`OverReleaseError`] if every permit is already free.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{BoundedSemaphore, OverReleaseError};
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert_eq!(sem.release(), Ok(()));
    /// assert_eq!(sem.release(), Err(OverReleaseError));
    /// ```
    pub fn release(&self) -> Result<(), OverReleaseError> {
        let mut s = self.core.state.lock();
        if s.value >= self.bound {
            return Err(OverReleaseError);
        }
        Core::release_locked(&mut s, 1);
        Ok(())
    }

    /// Permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire());
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.core.value()
    }

    /// The initial (and maximum) number of permits.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire());
    /// assert_eq!(sem.bound(), 2);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Whether an `acquire` would wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.locked()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound)
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Semaphore};
///
/// run(async {
///     let sem = Semaphore::new(1);
///     let fut = sem.acquire();
///     fut.await;
///     assert_eq!(sem.value(), 0);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    core: &'a Core,
    id: Option<u64>,
}

impl Future for SemaphoreAcquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let core = self.core;
        core.poll_acquire(&mut self.id, cx)
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        self.core.drop_waiter(self.id.take());
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire")
            .field("waiting", &self.id.is_some())
            .finish()
    }
}

/// A permit of a semaphore, given back on drop.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Semaphore};
///
/// run(async {
///     let sem = Semaphore::new(1);
///     let permit = sem.permit().await;
///     assert_eq!(sem.value(), 0);
///     drop(permit);
///     assert_eq!(sem.value(), 1);
/// });
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    of: PermitOf<'a>,
}

enum PermitOf<'a> {
    Plain(&'a Semaphore),
    Bounded(&'a BoundedSemaphore),
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        match self.of {
            PermitOf::Plain(s) => s.release(1),
            PermitOf::Bounded(s) => {
                let _ = s.release();
            }
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
