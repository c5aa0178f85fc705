//! [`wait`] and [`ReturnWhen`]: Python's `concurrent.futures.wait`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::deadline::deadline_from;
use crate::waiter::{Completion, Waiter};
use crate::Future;

/// When [`wait`] returns: Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`.
///
/// # Examples
///
/// ```
/// use spindle_futures::ReturnWhen;
///
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any future finishes or is cancelled.
    FirstCompleted,
    /// As soon as any future finishes with an error (a panic, a broken executor, an error set
    /// with `set_exception`); if none does, when all are done. Cancellation is not an error
    /// here, as in Python.
    FirstException,
    /// When every future is done (Python's default).
    #[default]
    AllCompleted,
}

/// Removes repeated handles of one future, keeping the first of each, in input order.
pub(crate) fn unique<'a, T: 'a, I>(futures: I) -> Vec<&'a Future<T>>
where
    I: IntoIterator<Item = &'a Future<T>>,
{
    let mut seen = HashSet::new();
    futures
        .into_iter()
        .filter(|f| seen.insert(f.id()))
        .collect()
}

/// Waits until `return_when` holds for `futures`, or `timeout` passes: Python's
/// `concurrent.futures.wait(fs, timeout, return_when)`.
///
/// Returns `(done, not_done)`: the futures settled (finished or cancelled) when the wait
/// ended, and the others. Futures may come from different executors (or none): the call
/// registers one waiter on each future, like CPython's `_Waiter`, and sleeps until one
/// settles; it never polls. `None` waits without limit; on timeout it returns what it has (no
/// error, as in Python). An empty input returns at once.
///
/// # Differences from Python
///
/// Python takes and returns sets. Here repeated handles of the same future (clones included)
/// count once, like a set; both vectors keep input order and hold each future once, as the
/// first handle given for it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_futures::{wait, Future, ReturnWhen};
///
/// let a = Future::new();
/// let b: Future<i32> = Future::new();
/// a.set_result(1).unwrap();
/// let futures = vec![a, b];
/// let (done, not_done) = wait(&futures, None, ReturnWhen::FirstCompleted);
/// assert_eq!((done.len(), not_done.len()), (1, 1));
/// assert_eq!(done[0].result(), Ok(1));
///
/// let (done, not_done) =
///     wait(&futures, Some(Duration::from_millis(5)), ReturnWhen::AllCompleted);
/// assert_eq!((done.len(), not_done.len()), (1, 1), "timed out with b still pending");
/// ```
pub fn wait<'a, T: 'a, I>(
    futures: I,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<&'a Future<T>>, Vec<&'a Future<T>>)
where
    I: IntoIterator<Item = &'a Future<T>>,
{
    let deadline = deadline_from(timeout);
    let futures = unique(futures);
    let waiter = Arc::new(Waiter::default());
    let mut registered = vec![false; futures.len()];
    let mut done = 0;
    let mut failed = false;
    for (key, fut) in futures.iter().enumerate() {
        match fut.add_waiter(&waiter, key) {
            Some(c) => {
                done += 1;
                failed |= c == Completion::Exception;
            }
            None => registered[key] = true,
        }
    }
    let mut batch = Vec::new();
    loop {
        let satisfied = done == futures.len()
            || match return_when {
                ReturnWhen::FirstCompleted => done > 0,
                ReturnWhen::FirstException => failed,
                ReturnWhen::AllCompleted => false,
            };
        if satisfied || !waiter.drain_until(&mut batch, deadline) {
            break;
        }
        for (key, c) in batch.drain(..) {
            registered[key] = false;
            done += 1;
            failed |= c == Completion::Exception;
        }
    }
    for (fut, _) in futures.iter().zip(&registered).filter(|(_, r)| **r) {
        fut.remove_waiter(&waiter);
    }
    futures.into_iter().partition(|f| f.done())
}
