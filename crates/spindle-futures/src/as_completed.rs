//! [`as_completed`] and its iterator [`AsCompleted`]: Python's
//! `concurrent.futures.as_completed`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::deadline::deadline_from;
use crate::wait::unique;
use crate::waiter::{Completion, Waiter};
use crate::{Future, FutureError};

/// Yields each of `futures` as it settles: Python's
/// `concurrent.futures.as_completed(fs, timeout)`.
///
/// Futures already settled come first, in input order; the rest follow in the order they
/// finish or are cancelled. Each future comes once, however many handles of it are given
/// (Python de-duplicates through a set). The `timeout` counts from this call: when it runs
/// out with futures still pending, the iterator yields one `Err(FutureError::Timeout)` and
/// then ends (Python raises `TimeoutError`). The futures may belong to different executors: a
/// waiter is registered on each (CPython's `_Waiter`), and the iterator sleeps until one
/// settles, without polling. Dropping the iterator unregisters it.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_futures::{as_completed, Future};
///
/// let futures: Vec<Future<u32>> = (0..3).map(|_| Future::new()).collect();
/// futures[1].set_result(1).unwrap();
/// let mut it = as_completed(&futures, None);
/// let rest: Vec<_> = [0, 2].iter().map(|&i| futures[i].clone()).collect();
/// let setter = thread::spawn(move || {
///     for (f, v) in rest.iter().zip([0, 2]) {
///         f.set_result(v).unwrap();
///     }
/// });
/// let mut order = Vec::new();
/// for fut in &mut it {
///     order.push(fut.unwrap().result().unwrap());
/// }
/// # setter.join().unwrap();
/// assert_eq!(order[0], 1, "the one already done comes first");
/// order.sort();
/// assert_eq!(order, vec![0, 1, 2]);
/// ```
pub fn as_completed<'a, T: 'a, I>(futures: I, timeout: Option<Duration>) -> AsCompleted<'a, T>
where
    I: IntoIterator<Item = &'a Future<T>>,
{
    let deadline = deadline_from(timeout);
    let futures = unique(futures);
    let waiter = Arc::new(Waiter::default());
    let mut ready = VecDeque::new();
    let mut registered = vec![false; futures.len()];
    for (key, fut) in futures.iter().enumerate() {
        match fut.add_waiter(&waiter, key) {
            Some(_) => ready.push_back(key),
            None => registered[key] = true,
        }
    }
    let pending = registered.iter().filter(|r| **r).count();
    AsCompleted {
        futures,
        waiter,
        ready,
        registered,
        pending,
        deadline,
        ended: false,
        batch: Vec::new(),
    }
}

/// The iterator returned by [`as_completed`]: yields `Ok(&future)` as each settles, then at
/// most one `Err(FutureError::Timeout)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_futures::{as_completed, Future, FutureError};
///
/// let done = Future::new();
/// done.set_result(1).unwrap();
/// let never = Future::<i32>::new(); // nobody settles it
/// let mut it = as_completed([&done, &never], Some(Duration::from_millis(20)));
/// assert_eq!(it.next().unwrap().unwrap().result(), Ok(1));
/// assert!(matches!(it.next(), Some(Err(FutureError::Timeout))));
/// assert!(it.next().is_none());
/// ```
pub struct AsCompleted<'a, T> {
    futures: Vec<&'a Future<T>>,
    waiter: Arc<Waiter>,
    /// Keys of settled futures not yet yielded.
    ready: VecDeque<usize>,
    /// Whether the waiter is still on the future with this key.
    registered: Vec<bool>,
    /// How many are still registered.
    pending: usize,
    deadline: Option<Instant>,
    /// Timed out (the error was yielded).
    ended: bool,
    batch: Vec<(usize, Completion)>,
}

impl<'a, T> Iterator for AsCompleted<'a, T> {
    type Item = Result<&'a Future<T>, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(key) = self.ready.pop_front() {
                return Some(Ok(self.futures[key]));
            }
            if self.pending == 0 || self.ended {
                return None;
            }
            if !self.waiter.drain_until(&mut self.batch, self.deadline) {
                self.ended = true;
                return Some(Err(FutureError::Timeout));
            }
            for (key, _) in self.batch.drain(..) {
                self.registered[key] = false;
                self.pending -= 1;
                self.ready.push_back(key);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let ready = self.ready.len();
        if self.ended {
            (ready, Some(ready))
        } else {
            (ready, Some(ready + self.pending + 1))
        }
    }
}

impl<T> Drop for AsCompleted<'_, T> {
    fn drop(&mut self) {
        for (fut, _) in self
            .futures
            .iter()
            .zip(&self.registered)
            .filter(|(_, r)| **r)
        {
            fut.remove_waiter(&self.waiter);
        }
    }
}

impl<T> fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("ready", &self.ready.len())
            .field("pending", &self.pending)
            .field("timed_out", &self.ended)
            .finish_non_exhaustive()
    }
}
