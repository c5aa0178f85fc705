//! A waiter registered on many futures at once: CPython's `_Waiter`, shared by
//! [`wait`](crate::wait) and [`as_completed`](crate::as_completed).
//!
//! Each future keeps a list of `(Arc<Waiter>, key)`; when it settles it calls
//! [`Waiter::notify`] with its key and how it ended, outside the future's own lock. The waiting
//! thread sleeps on the waiter's condition variable, so waiting on futures of different
//! executors costs no polling.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// How a future ended, as a waiter needs to know (CPython's `add_result`, `add_exception`,
/// `add_cancelled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completion {
    /// Finished with a value.
    Value,
    /// Finished with an error (panic, broken executor, `set_exception`).
    Exception,
    /// Cancelled.
    Cancelled,
}

/// The futures that settled since the waiter was registered, as `(key, completion)`.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    finished: Mutex<Vec<(usize, Completion)>>,
    cond: Condvar,
}

impl Waiter {
    /// Records that the future registered under `key` settled, and wakes the waiting thread.
    pub(crate) fn notify(&self, key: usize, completion: Completion) {
        self.finished.lock().push((key, completion));
        self.cond.notify_all();
    }

    /// Moves the completions gathered so far into `out`; if there are none, first sleeps until
    /// one arrives or `deadline` passes. Returns `false` only when it timed out with nothing.
    pub(crate) fn drain_until(
        &self,
        out: &mut Vec<(usize, Completion)>,
        deadline: Option<Instant>,
    ) -> bool {
        let mut finished = self.finished.lock();
        while finished.is_empty() {
            match deadline {
                Some(d) => {
                    if self.cond.wait_until(&mut finished, d).timed_out() && finished.is_empty() {
                        return false;
                    }
                }
                None => self.cond.wait(&mut finished),
            }
        }
        out.append(&mut finished);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn drain_times_out_when_empty_and_returns_what_arrived() {
        let w = Arc::new(Waiter::default());
        let mut out = Vec::new();
        assert!(!w.drain_until(&mut out, Some(Instant::now() + Duration::from_millis(5))));
        let w2 = Arc::clone(&w);
        std::thread::spawn(move || w2.notify(3, Completion::Exception))
            .join()
            .unwrap();
        assert!(w.drain_until(&mut out, None));
        assert_eq!(out, vec![(3, Completion::Exception)]);
    }
}
