//! [`Barrier`]: Python's `threading.Barrier`, with its state machine.
//!
//! The state machine is CPython's (`Lib/threading.py`, class `Barrier`):
//!
//! | state       | meaning                                                          |
//! |-------------|------------------------------------------------------------------|
//! | `Filling`   | threads arrive; the `parties`-th runs the action and releases all |
//! | `Draining`  | released threads leave; new arrivals wait until all have left    |
//! | `Resetting` | `reset` ran while threads waited: they leave with an error       |
//! | `Broken`    | `abort`, a timeout or a panicking action: every wait fails       |
//!
//! It is built on `parking_lot`'s `Mutex` and `Condvar`: a barrier wait always blocks, so
//! the state is small and a plain mutex keeps it obviously right.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::deadline;
use super::error::BrokenBarrierError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Filling,
    Draining,
    Resetting,
    Broken,
}

struct Inner {
    state: State,
    /// Threads inside `wait`.
    count: usize,
}

/// The action run by the last thread to arrive.
type Action = Box<dyn FnMut() + Send>;

/// A rendezvous for a fixed number of threads: Python's `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Barrier::wait); when the last arrives, the
/// optional action runs on that thread and all are released, each with a distinct index in
/// `0..parties`. The barrier is then ready for the next round. A timeout, an
/// [`abort`](Barrier::abort), a [`reset`](Barrier::reset) while threads wait, or a panicking
/// action *breaks* it: every current and future `wait` returns [`BrokenBarrierError`] until
/// `reset`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Barrier;
///
/// let barrier = Barrier::new(3, None);
/// let mut indices: Vec<usize> = std::thread::scope(|s| {
///     let hs: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait(None).unwrap())).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    inner: Mutex<Inner>,
    cond: Condvar,
    action: Mutex<Option<Action>>,
}

impl Barrier {
    /// A barrier for `parties` threads, running `action` on the last to arrive each round;
    /// Python's `threading.Barrier(parties, action)`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (Python raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use spindle_sync::threading::Barrier;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let r = Arc::clone(&rounds);
    /// let b = Barrier::new(1, Some(Box::new(move || { r.fetch_add(1, Ordering::SeqCst); })));
    /// b.wait(None).unwrap();
    /// b.wait(None).unwrap();
    /// assert_eq!(rounds.load(Ordering::SeqCst), 2);
    /// ```
    pub fn new(parties: usize, action: Option<Box<dyn FnMut() + Send>>) -> Self {
        assert!(parties > 0, "a barrier needs at least one party");
        Self {
            parties,
            inner: Mutex::new(Inner {
                state: State::Filling,
                count: 0,
            }),
            cond: Condvar::new(),
            action: Mutex::new(action),
        }
    }

    /// Waits until all parties have arrived (or `timeout`, if given, passes); returns this
    /// thread's arrival index in `0..parties`. Python's `barrier.wait(timeout)`.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is or becomes broken while waiting: by
    /// [`abort`](Barrier::abort), by [`reset`](Barrier::reset), by another thread's timeout,
    /// by a panicking action, or because this thread's `timeout` passed (which breaks it for
    /// everyone, as in Python).
    ///
    /// # Panics
    ///
    /// If the action panics: the barrier breaks, the other waiters get
    /// [`BrokenBarrierError`], and the panic continues in the thread that ran the action
    /// (Python re-raises the action's exception there).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{Barrier, BrokenBarrierError};
    ///
    /// let b = Barrier::new(2, None);
    /// // Nobody else comes: the timeout breaks the barrier.
    /// assert_eq!(b.wait(Some(Duration::from_millis(5))), Err(BrokenBarrierError));
    /// assert!(b.broken());
    /// ```
    pub fn wait(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrierError> {
        let deadline = deadline::after_opt(timeout);
        let mut inner = self.inner.lock();
        // Block while a previous round drains or resets.
        while matches!(inner.state, State::Draining | State::Resetting) {
            self.cond.wait(&mut inner);
        }
        if inner.state == State::Broken {
            return Err(BrokenBarrierError);
        }
        let index = inner.count;
        inner.count += 1;
        let result = if index + 1 == self.parties {
            match self.release(&mut inner) {
                Ok(()) => Ok(index),
                Err(payload) => {
                    self.exit(&mut inner);
                    drop(inner);
                    resume_unwind(payload);
                }
            }
        } else {
            self.wait_released(&mut inner, deadline).map(|()| index)
        };
        self.exit(&mut inner);
        result
    }

    /// The last thread in: run the action, then release everyone.
    fn release(
        &self,
        inner: &mut MutexGuard<'_, Inner>,
    ) -> Result<(), Box<dyn std::any::Any + Send>> {
        let outcome = {
            let mut action = self.action.lock();
            match action.as_mut() {
                // Runs under the barrier's lock, as in CPython.
                Some(f) => catch_unwind(AssertUnwindSafe(f)),
                None => Ok(()),
            }
        };
        match outcome {
            Ok(()) => {
                inner.state = State::Draining;
                self.cond.notify_all();
                Ok(())
            }
            Err(payload) => {
                self.break_barrier(inner);
                Err(payload)
            }
        }
    }

    fn wait_released(
        &self,
        inner: &mut MutexGuard<'_, Inner>,
        deadline: Option<std::time::Instant>,
    ) -> Result<(), BrokenBarrierError> {
        while inner.state == State::Filling {
            match deadline {
                None => self.cond.wait(inner),
                Some(d) => {
                    if self.cond.wait_until(inner, d).timed_out() && inner.state == State::Filling {
                        self.break_barrier(inner);
                        return Err(BrokenBarrierError);
                    }
                }
            }
        }
        if inner.state == State::Draining {
            Ok(())
        } else {
            Err(BrokenBarrierError)
        }
    }

    /// A thread leaves `wait`; the last one out of a drain or reset refills the barrier.
    fn exit(&self, inner: &mut MutexGuard<'_, Inner>) {
        inner.count -= 1;
        if inner.count == 0 && matches!(inner.state, State::Draining | State::Resetting) {
            inner.state = State::Filling;
            self.cond.notify_all();
        }
    }

    fn break_barrier(&self, inner: &mut MutexGuard<'_, Inner>) {
        inner.state = State::Broken;
        self.cond.notify_all();
    }

    /// Returns the barrier to its empty, unbroken state; Python's `barrier.reset()`.
    ///
    /// Threads waiting now get [`BrokenBarrierError`]; the barrier is usable again once they
    /// have left.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None);
    /// b.abort();
    /// assert!(b.broken());
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        let mut inner = self.inner.lock();
        if inner.count > 0 {
            if matches!(inner.state, State::Filling | State::Broken) {
                inner.state = State::Resetting;
            }
        } else {
            inner.state = State::Filling;
        }
        self.cond.notify_all();
    }

    /// Breaks the barrier: current and future waits fail until [`reset`](Barrier::reset);
    /// Python's `barrier.abort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{Barrier, BrokenBarrierError};
    ///
    /// let b = Barrier::new(2, None);
    /// b.abort();
    /// assert_eq!(b.wait(None), Err(BrokenBarrierError));
    /// ```
    pub fn abort(&self) {
        let mut inner = self.inner.lock();
        self.break_barrier(&mut inner);
    }

    /// The number of threads needed to pass; Python's `barrier.parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Barrier;
    ///
    /// assert_eq!(Barrier::new(4, None).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many threads wait in the current round; Python's `barrier.n_waiting`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None);
    /// std::thread::scope(|s| {
    ///     let h = s.spawn(|| b.wait(None));
    ///     while b.n_waiting() == 0 {
    ///         std::thread::yield_now(); // until the other thread is inside `wait`
    ///     }
    ///     assert_eq!(b.n_waiting(), 1);
    ///     b.wait(None).unwrap();
    ///     h.join().unwrap().unwrap();
    /// });
    /// ```
    pub fn n_waiting(&self) -> usize {
        let inner = self.inner.lock();
        if inner.state == State::Filling {
            inner.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken; Python's `barrier.broken`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None);
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.inner.lock().state == State::Broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("count", &inner.count)
            .field("state", &inner.state)
            .finish()
    }
}
