//! [`Barrier`]: Python 3.11's `asyncio.Barrier`, a meeting point for a fixed number of tasks.

use std::fmt;
use std::future::poll_fn;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

use crate::waiters::WaitList;

/// The barrier was aborted or reset while waiting: Python's `asyncio.BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Barrier, BrokenBarrierError};
///
/// run(async {
///     let b = Barrier::new(2);
///     b.abort();
///     assert_eq!(b.wait().await, Err(BrokenBarrierError));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("barrier is broken")]
pub struct BrokenBarrierError;

struct State {
    parties: usize,
    count: usize,
    trips: u64,
    broken: bool,
    waiters: WaitList,
}

/// Blocks tasks until `parties` of them are waiting, then releases them all.
/// Python's `asyncio.Barrier(parties)`.
///
/// Each `wait` returns the arrival index `0..parties`. [`abort`](Barrier::abort) breaks the
/// barrier (waiters and later callers get [`BrokenBarrierError`]); [`reset`](Barrier::reset)
/// breaks current waiters and makes it usable again. `Send + Sync`, executor-agnostic.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle_async::{gather, run, spawn, Barrier};
///
/// run(async {
///     let b = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3).map(|_| {
///         let b = b.clone();
///         spawn(async move { b.wait().await.unwrap() })
///     }).collect();
///     let mut idx: Vec<usize> = gather(tasks).await.into_iter().map(Result::unwrap).collect();
///     idx.sort();
///     assert_eq!(idx, [0, 1, 2]);
/// });
/// ```
pub struct Barrier {
    state: Mutex<State>,
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is zero (Python's `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Barrier};
    ///
    /// run(async {
    ///     let b = Barrier::new(1);
    ///     assert_eq!(b.wait().await, Ok(0)); // one party: trips at once
    /// });
    /// ```
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a barrier needs at least one party");
        Barrier {
            state: Mutex::new(State {
                parties,
                count: 0,
                trips: 0,
                broken: false,
                waiters: WaitList::default(),
            }),
        }
    }

    /// Waits until `parties` tasks wait; returns this task's arrival index.
    /// Python's `await barrier.wait()`.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is or becomes broken (abort, reset).
    ///
    /// # Cancel safety
    ///
    /// Safe: a waiter dropped before the barrier trips leaves it (the count goes back down).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Barrier};
    ///
    /// run(async {
    ///     let b = Barrier::new(1); // one party: trips at once
    ///     assert_eq!(b.wait().await, Ok(0));
    /// });
    /// ```
    pub async fn wait(&self) -> Result<usize, BrokenBarrierError> {
        let mut guard = Leave {
            barrier: self,
            id: None,
        };
        let (index, trips) = {
            let mut s = self.state.lock();
            if s.broken {
                return Err(BrokenBarrierError);
            }
            let index = s.count;
            s.count += 1;
            if s.count == s.parties {
                s.count = 0;
                s.trips += 1;
                s.waiters.notify_all();
                return Ok(index);
            }
            // Listed while still locked, so a trip on another thread cannot be missed.
            s.waiters.register(&mut guard.id, Waker::noop());
            (index, s.trips)
        };
        poll_fn(|cx| {
            let mut s = self.state.lock();
            if s.waiters.register(&mut guard.id, cx.waker()) {
                Poll::Pending
            } else {
                guard.id = None;
                Poll::Ready(if s.trips > trips {
                    Ok(index)
                } else {
                    Err(BrokenBarrierError)
                })
            }
        })
        .await
    }

    /// Breaks the barrier: waiters and later `wait`s fail. Python's `barrier.abort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Barrier, BrokenBarrierError};
    ///
    /// run(async {
    ///     let b = Barrier::new(2);
    ///     b.abort();
    ///     assert!(b.broken());
    ///     assert_eq!(b.wait().await, Err(BrokenBarrierError));
    ///     b.reset();
    ///     assert!(!b.broken());
    /// });
    /// ```
    pub fn abort(&self) {
        let mut s = self.state.lock();
        s.broken = true;
        s.count = 0;
        s.waiters.notify_all();
    }

    /// Fails the current waiters and returns the barrier to its empty, unbroken state.
    /// Python's `barrier.reset()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{run, spawn, yield_now, Barrier, BrokenBarrierError};
    ///
    /// run(async {
    ///     let b = Arc::new(Barrier::new(2));
    ///     let b2 = b.clone();
    ///     let waiter = spawn(async move { b2.wait().await });
    ///     yield_now().await; // the waiter runs and waits
    ///     b.reset();
    ///     assert_eq!(waiter.await.unwrap(), Err(BrokenBarrierError));
    ///     assert!(!b.broken());
    /// });
    /// ```
    pub fn reset(&self) {
        let mut s = self.state.lock();
        s.broken = false;
        s.count = 0;
        s.waiters.notify_all();
    }

    /// The number of tasks needed to trip. Python's `barrier.parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Barrier;
    ///
    /// assert_eq!(Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.state.lock().parties
    }

    /// The number of tasks waiting now. Python's `barrier.n_waiting`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{run, spawn, yield_now, Barrier};
    ///
    /// run(async {
    ///     let b = Arc::new(Barrier::new(2));
    ///     let b2 = b.clone();
    ///     let waiter = spawn(async move { b2.wait().await });
    ///     yield_now().await; // the waiter runs and waits
    ///     assert_eq!(b.n_waiting(), 1);
    ///     b.wait().await.unwrap();
    ///     waiter.await.unwrap().unwrap();
    ///     assert_eq!(b.n_waiting(), 0);
    /// });
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().count
    }

    /// Whether the barrier is broken. Python's `barrier.broken`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::Barrier;
    ///
    /// let b = Barrier::new(2);
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &s.parties)
            .field("n_waiting", &s.count)
            .field("broken", &s.broken)
            .finish()
    }
}

/// Takes a dropped waiter out of the barrier's count.
struct Leave<'a> {
    barrier: &'a Barrier,
    id: Option<u64>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut s = self.barrier.state.lock();
            if s.waiters.remove(id) {
                s.count = s.count.saturating_sub(1);
            }
        }
    }
}
