//! [`Future`]: the handle to a result that may not exist yet, Python's
//! `concurrent.futures.Future`, and its [`State`].
//!
//! `state.rs` has the state word, `header.rs` the shared core, `set.rs` the executor-facing
//! setters, `cell.rs` the counted allocation a handle points to. Invariants: `Header::state`
//! holds one of the `PENDING` .. `FINISHED` constants. `cancel` moves `PENDING -> CANCELLED`
//! under the slot lock; the setters claim the future lock-free (`-> COMPLETING`), write the
//! outcome, publish `FINISHED`, and take the lock only if someone listens (see `header.rs`).
//! The moves `PENDING -> RUNNING` and `CANCELLED -> CANCELLED_NOTIFIED` are lock-free too.
//! Every move out of a state that rivals may also leave is a compare-exchange, so none is
//! lost; only the one `COMPLETING` winner stores `FINISHED`. Callbacks and waiters are registered under the
//! lock, taken out under it, and run after it is released.
//!
//! Longer than 600 lines because most of it is the documented, example-carrying public
//! methods of one type; the machinery is in the sibling files.

mod cell;
mod header;
mod set;
mod state;

use std::fmt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::deadline::deadline_after;
use crate::panic::panic_message;
use crate::spin::spin_then_yield;
use crate::waiter::{Completion, Waiter};
use crate::FutureError;

use cell::unique;
pub(crate) use cell::{alloc_cell, free_cell, release, CellHead, Erased};
pub(crate) use header::Header;
pub use state::State;

use header::{Callback, Listener, Outcome, Slot};
use state::{
    is_done, public_state, CANCELLED, CANCELLED_NOTIFIED, COMPLETING, FINISHED, PENDING, RUNNING,
};

/// Yields of a waiter (between bursts of polls, see `spin.rs`) before it parks.
const WAIT_YIELDS: u32 = 16;

/// The eventual result of a task: Python's `concurrent.futures.Future`.
///
/// A cheap handle (one counted pointer): clones share one future, and every method takes `&self`, so
/// the executor, the submitter and any waiter hold the same object, as Python references do.
/// An executor returns one from `submit`; executor authors (and tests) create one with
/// [`Future::new`] and settle it with [`set_running_or_notify_cancel`](Self::set_running_or_notify_cancel),
/// [`set_result`](Self::set_result) and [`set_exception`](Self::set_exception), Python's
/// executor-facing methods.
///
/// Waiting ([`result`](Self::result) and friends) spins briefly, then parks; it never polls.
/// A future is always `Send + Sync`; [`Future::new`] needs `T: Send + 'static`, because the
/// value crosses threads and a pool keeps it in the same allocation as the task.
///
/// # Differences from Python
///
/// A Rust task has no exception object: a panic becomes [`FutureError::Panicked`]. Values are
/// moved, not shared: [`result`](Self::result) needs `T: Clone`, and
/// [`into_result`](Self::into_result) moves the value out for any `T`.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_futures::Future;
///
/// let fut = Future::new();
/// let producer = {
///     let fut = fut.clone();
///     thread::spawn(move || {
///         if fut.set_running_or_notify_cancel() {
///             fut.set_result(6 * 7).unwrap();
///         }
///     })
/// };
/// assert_eq!(fut.result(), Ok(42));
/// # producer.join().unwrap();
/// ```
pub struct Future<T> {
    /// One counted reference to the cell (see `cell.rs`).
    cell: NonNull<CellHead<T>>,
    _value: PhantomData<T>,
}

// SAFETY:
// - Every constructor needs `T: Send`. Handles reach the value only as `header.rs` lays down:
//   written once by the one setter that won `COMPLETING`, then read or moved out under the
//   slot lock (or by the only handle left), as a `Mutex<T>` would; the cell's count is atomic.
unsafe impl<T: Send> Send for Future<T> {}
// SAFETY:
// - As above: shared handles reach the value only under the slot lock, after `FINISHED`.
unsafe impl<T: Send> Sync for Future<T> {}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        // SAFETY:
        // - `self` holds a reference, so the cell is alive.
        unsafe { cell::acquire(self.cell.cast()) };
        Self {
            cell: self.cell,
            _value: PhantomData,
        }
    }
}

impl<T> Drop for Future<T> {
    fn drop(&mut self) {
        // SAFETY:
        // - `self` gives up its reference and is not used again.
        unsafe { release(self.cell.cast()) };
    }
}

impl<T: Send + 'static> Default for Future<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Future<T> {
    /// Creates a pending future, for executor authors and tests: Python's `Future()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, State};
    ///
    /// let fut: Future<i32> = Future::new();
    /// assert_eq!(fut.state(), State::Pending);
    /// assert!(!fut.done());
    /// ```
    pub fn new() -> Self {
        let cell = alloc_cell(CellHead::<T>::new(1, free_cell::<CellHead<T>>));
        // SAFETY:
        // - A fresh cell with one reference, which the handle takes.
        unsafe { Self::from_cell(cell) }
    }

    /// A future already finished with `error`; executors return one for a refused submit.
    pub(crate) fn failed(error: FutureError) -> Self {
        let fut = Self::new();
        // A fresh future is pending, so the setter cannot refuse.
        let _ = fut.set_exception(error);
        fut
    }
}

impl<T> Future<T> {
    /// A handle that takes over one reference to `cell` (a pool task's cell, or a bare one).
    ///
    /// # Safety
    ///
    /// `cell` is alive, starts with a `CellHead<T>`, and the caller hands over one of its
    /// references.
    pub(crate) unsafe fn from_cell<C>(cell: NonNull<C>) -> Self {
        Self {
            cell: cell.cast(),
            _value: PhantomData,
        }
    }

    fn h(&self) -> &Header<T> {
        // SAFETY:
        // - `self` holds a reference, so the cell is alive while `self` is borrowed.
        unsafe { &self.cell.as_ref().header }
    }

    /// Where the future is now; see [`State`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, State};
    ///
    /// let fut: Future<()> = Future::new();
    /// fut.cancel();
    /// assert_eq!(fut.state(), State::Cancelled);
    /// ```
    pub fn state(&self) -> State {
        public_state(self.h().state.load(Ordering::Acquire))
    }

    /// Whether the future was cancelled: Python's `future.cancelled()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut: Future<()> = Future::new();
    /// assert!(!fut.cancelled());
    /// assert!(fut.cancel());
    /// assert!(fut.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        matches!(
            self.h().state.load(Ordering::Acquire),
            CANCELLED | CANCELLED_NOTIFIED
        )
    }

    /// Whether the task is running now: Python's `future.running()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut: Future<()> = Future::new();
    /// assert!(fut.set_running_or_notify_cancel());
    /// assert!(fut.running());
    /// ```
    pub fn running(&self) -> bool {
        matches!(self.h().state.load(Ordering::Acquire), RUNNING | COMPLETING)
    }

    /// Whether the future is settled (finished or cancelled): Python's `future.done()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut = Future::new();
    /// assert!(!fut.done());
    /// fut.set_result(()).unwrap();
    /// assert!(fut.done());
    /// ```
    pub fn done(&self) -> bool {
        is_done(self.h().state.load(Ordering::Acquire))
    }

    /// Whether `self` and `other` are handles of the same future.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let a: Future<()> = Future::new();
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&Future::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }

    /// An address identifying the shared future (for de-duplication).
    pub(crate) fn id(&self) -> usize {
        self.cell.as_ptr() as usize
    }

    /// Cancels the future if it has not started: Python's `future.cancel()`.
    ///
    /// Returns `true` if the future is now cancelled (also when it already was), `false` if it
    /// is running or finished. Cancelling wakes every waiter and runs the done callbacks.
    ///
    /// # Differences from Python
    ///
    /// [`wait`](crate::wait) and [`as_completed`](crate::as_completed) see the cancellation
    /// at once; Python's only see it once the executor calls
    /// `set_running_or_notify_cancel`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut: Future<()> = Future::new();
    /// assert!(fut.cancel());
    /// assert!(fut.cancel(), "cancelling twice still says cancelled");
    ///
    /// let started: Future<()> = Future::new();
    /// assert!(started.set_running_or_notify_cancel());
    /// assert!(!started.cancel(), "a running future cannot be cancelled");
    /// ```
    pub fn cancel(&self) -> bool {
        let slot = self.h().slot.lock();
        match self.h().state.compare_exchange(
            PENDING,
            CANCELLED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                self.settled(slot, Completion::Cancelled);
                true
            }
            Err(CANCELLED | CANCELLED_NOTIFIED) => true,
            Err(_) => false,
        }
    }

    pub(super) fn run_callback(&self, callback: Callback<T>) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(self))) {
            // Python logs "exception calling callback for <Future ...>" and goes on.
            eprintln!(
                "exception calling callback for {self:?}: {}",
                panic_message(&*payload)
            );
        }
    }

    /// Registers `callback` to run once the future is settled: Python's
    /// `future.add_done_callback(fn)`.
    ///
    /// Callbacks run in registration order, in the thread that settles the future (a pool
    /// worker, or the thread calling `cancel`), with no lock of the future held, so a callback
    /// may call any method of the future. If the future is already settled the callback runs at
    /// once in this thread. A panicking callback is reported on stderr (Python logs it) and the
    /// others still run. On a pool the callbacks of a task run on its worker, so keep them
    /// short.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use spindle_futures::Future;
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let fut = Future::new();
    /// let s = Arc::clone(&seen);
    /// fut.add_done_callback(move |f| { s.fetch_add(f.result().unwrap(), Ordering::SeqCst); });
    /// fut.set_result(5).unwrap();
    /// assert_eq!(seen.load(Ordering::SeqCst), 5);
    /// // Already done: runs at once.
    /// let s = Arc::clone(&seen);
    /// fut.add_done_callback(move |f| { s.fetch_add(f.result().unwrap(), Ordering::SeqCst); });
    /// assert_eq!(seen.load(Ordering::SeqCst), 10);
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&Future<T>) + Send + 'static,
    {
        let mut slot = self.h().slot.lock();
        if is_done(self.h().listen()) {
            drop(slot);
            self.run_callback(Box::new(callback));
        } else {
            slot.listeners.push(Listener::Callback(Box::new(callback)));
        }
    }

    /// Registers `waiter` under `key`; if the future is already settled, returns how instead.
    pub(crate) fn add_waiter(&self, waiter: &Arc<Waiter>, key: usize) -> Option<Completion> {
        let mut slot = self.h().slot.lock();
        self.h().listen();
        match self.completion(&mut slot) {
            Some(c) => Some(c),
            None => {
                slot.listeners
                    .push(Listener::Waiter(Arc::clone(waiter), key));
                None
            }
        }
    }

    /// Removes every registration of `waiter` (CPython's `_waiters.remove`).
    pub(crate) fn remove_waiter(&self, waiter: &Arc<Waiter>) {
        self.h()
            .slot
            .lock()
            .listeners
            .retain(|l| !matches!(l, Listener::Waiter(w, _) if Arc::ptr_eq(w, waiter)));
    }

    fn completion(&self, slot: &mut Slot<T>) -> Option<Completion> {
        if self.cancelled() {
            return Some(Completion::Cancelled);
        }
        self.finished_outcome(slot).map(|outcome| match outcome {
            Outcome::Error(_) => Completion::Exception,
            _ => Completion::Value,
        })
    }

    /// The outcome of a finished future (`None` if not finished); `_locked` is the slot,
    /// borrowed from its lock guard, which proves the lock is held for `'a`.
    fn finished_outcome<'a>(&'a self, _locked: &'a mut Slot<T>) -> Option<&'a mut Outcome<T>> {
        if self.h().state.load(Ordering::Acquire) != FINISHED {
            return None;
        }
        // SAFETY:
        // - `FINISHED` was read with `Acquire`, so the setter's write of the outcome happened
        //   before; from then on the outcome is reached only under the slot lock (held and
        //   borrowed for `'a`) or through the only handle left (not while this one exists
        //   alongside it: `self` is a handle too, borrowed here).
        Some(unsafe { &mut *self.h().outcome.get() })
    }

    /// Blocks until settled or `deadline`; returns whether it is settled. Spins briefly first,
    /// because a short task usually finishes sooner than a park/unpark round trip (~20 us).
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.done() {
            return true;
        }
        if spin_then_yield(WAIT_YIELDS, || self.done().then_some(())).is_some() {
            return true;
        }
        let mut slot = self.h().slot.lock();
        while !is_done(self.h().listen()) {
            match deadline {
                Some(d) => {
                    if self.h().cond.wait_until(&mut slot, d).timed_out() {
                        return self.done();
                    }
                }
                None => self.h().cond.wait(&mut slot),
            }
        }
        true
    }

    /// The error of a settled future, if it has one (a taken value is not an error).
    fn error_of(&self, slot: &mut Slot<T>) -> Option<FutureError> {
        if self.cancelled() {
            return Some(FutureError::Cancelled);
        }
        match self.finished_outcome(slot) {
            Some(Outcome::Error(e)) => Some(e.clone()),
            Some(Outcome::Value(_) | Outcome::Taken | Outcome::Unset) | None => None,
        }
    }

    /// Moves the value out once settled-by-`wait_until`; used by `into_result` and `Map`.
    pub(crate) fn take_result(&self) -> Result<T, FutureError> {
        let mut slot = self.h().slot.lock();
        if let Some(e) = self.error_of(&mut slot) {
            return Err(e);
        }
        match self
            .finished_outcome(&mut slot)
            .map(|outcome| std::mem::replace(outcome, Outcome::Taken))
        {
            Some(Outcome::Value(v)) => Ok(v),
            // `error_of` covered the other outcomes.
            _ => Err(FutureError::Taken),
        }
    }

    /// Waits for the future, then moves its value out; works for any `T`.
    ///
    /// Python's `future.result()` for a value that cannot be cloned. The first
    /// `into_result` on any handle takes the value; from then on
    /// [`result`](Self::result) and `into_result` on the other handles return
    /// [`FutureError::Taken`] (the future stays [`Finished`](State::Finished) and
    /// [`exception`](Self::exception) stays `None`). With a single handle, as `submit` gives
    /// you, nothing else can observe this.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`] if it was cancelled, the task's error
    /// ([`Panicked`](FutureError::Panicked), [`BrokenExecutor`](FutureError::BrokenExecutor),
    /// [`ShutDown`](FutureError::ShutDown), [`Failed`](FutureError::Failed)) if it failed,
    /// [`FutureError::Taken`] if another handle took the value first.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut = Future::new();
    /// let other = fut.clone();
    /// fut.set_result(vec![1, 2, 3]).unwrap();
    /// assert_eq!(fut.into_result(), Ok(vec![1, 2, 3]));
    /// assert_eq!(other.into_result(), Err(FutureError::Taken));
    /// ```
    pub fn into_result(self) -> Result<T, FutureError> {
        self.wait_until(None);
        // SAFETY:
        // - `self` holds a reference.
        if unsafe { unique(self.cell.cast()) } {
            return self.take_unique();
        }
        self.take_result()
    }

    /// [`take_result`](Self::take_result) for the only handle of a settled future, without
    /// the lock: the common `submit(..).into_result()` once the worker has let go.
    fn take_unique(self) -> Result<T, FutureError> {
        if self.cancelled() {
            return Err(FutureError::Cancelled);
        }
        if self.h().state.load(Ordering::Acquire) != FINISHED {
            return Err(FutureError::Taken);
        }
        // SAFETY:
        // - `self` is the only reference (`unique`) and is owned, so no other thread and no
        //   borrow can reach the outcome; the setter's write (and what other handles did)
        //   happened before `unique` returned.
        let outcome = unsafe { &mut *self.h().outcome.get() };
        match std::mem::replace(outcome, Outcome::Taken) {
            Outcome::Value(v) => Ok(v),
            Outcome::Error(e) => Err(e),
            Outcome::Taken | Outcome::Unset => Err(FutureError::Taken),
        }
    }

    /// Waits for the future and returns its error, or `None` if it finished with a value:
    /// Python's `future.exception()`.
    ///
    /// A cancelled future gives `Some(FutureError::Cancelled)` (Python raises
    /// `CancelledError` instead).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut: Future<()> = Future::new();
    /// fut.set_exception(FutureError::Panicked("boom".into())).unwrap();
    /// assert_eq!(fut.exception(), Some(FutureError::Panicked("boom".into())));
    /// ```
    pub fn exception(&self) -> Option<FutureError> {
        self.wait_until(None);
        self.error_of(&mut self.h().slot.lock())
    }

    /// [`exception`](Self::exception) giving up after `timeout`: Python's
    /// `future.exception(timeout)`.
    ///
    /// # Errors
    ///
    /// `Err(FutureError::Timeout)` if the future is not settled in time (it goes on).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut: Future<()> = Future::new();
    /// assert_eq!(fut.exception_timeout(Duration::from_millis(5)), Err(FutureError::Timeout));
    /// fut.set_result(()).unwrap();
    /// assert_eq!(fut.exception_timeout(Duration::ZERO), Ok(None));
    /// ```
    pub fn exception_timeout(&self, timeout: Duration) -> Result<Option<FutureError>, FutureError> {
        if self.wait_until(deadline_after(timeout)) {
            Ok(self.error_of(&mut self.h().slot.lock()))
        } else {
            Err(FutureError::Timeout)
        }
    }
}

impl<T: Clone> Future<T> {
    /// Waits for the future and returns a clone of its value: Python's `future.result()`.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`] if it was cancelled; the task's error
    /// ([`Panicked`](FutureError::Panicked), [`BrokenExecutor`](FutureError::BrokenExecutor),
    /// [`ShutDown`](FutureError::ShutDown), [`Failed`](FutureError::Failed)) if it failed;
    /// [`FutureError::Taken`] if [`into_result`](Self::into_result) took the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut = Future::new();
    /// fut.set_result(String::from("hi")).unwrap();
    /// assert_eq!(fut.result(), Ok(String::from("hi")));
    /// assert_eq!(fut.result(), Ok(String::from("hi")), "result can be read again");
    ///
    /// let failed: Future<()> = Future::new();
    /// failed.set_exception(FutureError::Panicked("oops".into())).unwrap();
    /// assert_eq!(failed.result(), Err(FutureError::Panicked("oops".into())));
    /// ```
    pub fn result(&self) -> Result<T, FutureError> {
        self.wait_until(None);
        self.cloned_result()
    }

    /// [`result`](Self::result) giving up after `timeout`: Python's `future.result(timeout)`.
    ///
    /// A zero `timeout` only looks; one too large to represent waits forever.
    ///
    /// # Errors
    ///
    /// [`FutureError::Timeout`] if the future is not settled in time (the task goes on), else
    /// as [`result`](Self::result).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut = Future::new();
    /// assert_eq!(fut.result_timeout(Duration::from_millis(5)), Err(FutureError::Timeout));
    /// fut.set_result(1).unwrap();
    /// assert_eq!(fut.result_timeout(Duration::MAX), Ok(1));
    /// ```
    pub fn result_timeout(&self, timeout: Duration) -> Result<T, FutureError> {
        if self.wait_until(deadline_after(timeout)) {
            self.cloned_result()
        } else {
            Err(FutureError::Timeout)
        }
    }

    fn cloned_result(&self) -> Result<T, FutureError> {
        let mut slot = self.h().slot.lock();
        if let Some(e) = self.error_of(&mut slot) {
            return Err(e);
        }
        match self.finished_outcome(&mut slot) {
            Some(Outcome::Value(v)) => Ok(v.clone()),
            _ => Err(FutureError::Taken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_public_states() {
        assert_eq!(public_state(PENDING), State::Pending);
        assert_eq!(public_state(RUNNING), State::Running);
        assert_eq!(public_state(CANCELLED), State::Cancelled);
        assert_eq!(public_state(CANCELLED_NOTIFIED), State::Cancelled);
        assert_eq!(public_state(FINISHED), State::Finished);
        assert!(!is_done(RUNNING) && is_done(CANCELLED) && is_done(FINISHED));
    }

    #[test]
    fn cancelled_then_noticed_by_executor_is_marked_notified() {
        let fut: Future<()> = Future::new();
        assert!(fut.cancel());
        assert!(!fut.set_running_or_notify_cancel());
        assert_eq!(fut.h().state.load(Ordering::SeqCst), CANCELLED_NOTIFIED);
        assert!(fut.cancel());
        assert_eq!(fut.state(), State::Cancelled);
    }

    #[test]
    fn waiter_registered_after_settling_is_told_at_once() {
        let fut: Future<()> = Future::new();
        let w = Arc::new(Waiter::default());
        assert_eq!(fut.add_waiter(&w, 0), None);
        fut.remove_waiter(&w);
        assert!(fut.h().slot.lock().listeners.is_empty());
        fut.set_exception(FutureError::ShutDown).unwrap();
        assert_eq!(fut.add_waiter(&w, 1), Some(Completion::Exception));
    }
}
