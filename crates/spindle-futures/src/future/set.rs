//! The executor-facing half of [`Future`]: Python's `set_running_or_notify_cancel`,
//! `set_result` and `set_exception`, "meant for use in unit tests and Executor
//! implementations", and the settling they share with `cancel`.

use std::sync::atomic::Ordering;

use parking_lot::MutexGuard;

use super::header::{Listener, Outcome, Slot};
use super::state::{public_state, COMPLETING, FINISHED};
use super::Future;
use super::State;
use crate::waiter::Completion;
use crate::{FutureError, InvalidStateError};

impl<T> Future<T> {
    /// Marks the future running, or reports that it was cancelled: Python's
    /// `future.set_running_or_notify_cancel()`, for executor authors.
    ///
    /// Returns `true` if the caller now owns the run (the future was pending and is now
    /// running). Returns `false` if it was cancelled (it is then marked as seen by the
    /// executor) or if it already runs or is finished; on `false` the caller must not run the
    /// work. Lock-free.
    ///
    /// # Differences from Python
    ///
    /// Python raises `RuntimeError` when the future is already running or finished; here that
    /// is also `false`, since either way the caller must not run the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut: Future<()> = Future::new();
    /// assert!(fut.set_running_or_notify_cancel());
    /// assert!(!fut.set_running_or_notify_cancel(), "only one caller owns the run");
    ///
    /// let cancelled: Future<()> = Future::new();
    /// cancelled.cancel();
    /// assert!(!cancelled.set_running_or_notify_cancel());
    /// ```
    pub fn set_running_or_notify_cancel(&self) -> bool {
        self.h().set_running_or_notify_cancel()
    }

    /// Finishes the future with `value`: Python's `future.set_result(value)`, for executor
    /// authors.
    ///
    /// Allowed while pending or running. Wakes every waiter, then runs the done callbacks in
    /// this thread.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`] holding `value` if the future is already cancelled or finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Future;
    ///
    /// let fut = Future::new();
    /// fut.set_result("a").unwrap();
    /// assert_eq!(fut.set_result("b").unwrap_err().into_inner(), "b");
    /// assert_eq!(fut.result(), Ok("a"));
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError<T>> {
        self.finish(value, Outcome::Value, Completion::Value)
    }

    /// Finishes the future with an error: Python's `future.set_exception(exc)`, for executor
    /// authors.
    ///
    /// Build a user error with [`FutureError::failed`].
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`] holding `error` if the future is already cancelled or finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, FutureError};
    ///
    /// let fut: Future<u8> = Future::new();
    /// fut.set_exception(FutureError::broken("worker died")).unwrap();
    /// assert!(fut.set_exception(FutureError::Cancelled).is_err());
    /// assert_eq!(fut.exception(), Some(FutureError::broken("worker died")));
    /// ```
    pub fn set_exception(&self, error: FutureError) -> Result<(), InvalidStateError<FutureError>> {
        self.finish(error, Outcome::Error, Completion::Exception)
    }

    fn finish<V>(
        &self,
        v: V,
        wrap: fn(V) -> Outcome<T>,
        completion: Completion,
    ) -> Result<(), InvalidStateError<V>> {
        let h = self.h();
        let mut current = h.state.load(Ordering::Acquire);
        loop {
            if current >= COMPLETING {
                // Another setter is writing its outcome: as good as finished.
                let shown = if current == COMPLETING {
                    State::Finished
                } else {
                    public_state(current)
                };
                return Err(InvalidStateError::new(v, shown));
            }
            // Claim the right to settle; `cancel` and other setters race for the same move.
            match h.state.compare_exchange_weak(
                current,
                COMPLETING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        // SAFETY:
        // - This thread moved the state to `COMPLETING`, which only one thread ever does, and
        //   nobody reads the outcome before `FINISHED` (see `header.rs`).
        unsafe { *h.outcome.get() = wrap(v) };
        // `SeqCst` store, then `SeqCst` load: the setter's half of the handshake in
        // `header.rs` (the listener's half is `Header::listen`).
        h.state.store(FINISHED, Ordering::SeqCst);
        if h.listened.load(Ordering::SeqCst) {
            self.settled(h.slot.lock(), completion);
        }
        Ok(())
    }

    /// After a move into a settled state, with the slot lock held: takes the listeners, then
    /// with the lock released wakes sleepers, notifies waiters and runs callbacks.
    pub(super) fn settled(&self, mut slot: MutexGuard<'_, Slot<T>>, completion: Completion) {
        let listeners = std::mem::take(&mut slot.listeners);
        drop(slot);
        self.h().cond.notify_all();
        if listeners.is_empty() {
            return;
        }
        for listener in &listeners {
            if let Listener::Waiter(waiter, key) = listener {
                waiter.notify(*key, completion);
            }
        }
        for listener in listeners {
            if let Listener::Callback(callback) = listener {
                self.run_callback(callback);
            }
        }
    }
}
