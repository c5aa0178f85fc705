//! [`Map`]: the lazy, ordered, bounded result stream of `Executor::map`.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::{Future, FutureError};

type Submit<'a, A, T> = Box<dyn FnMut(A) -> Future<T> + 'a>;

/// Results of [`Executor::map`](crate::Executor::map) and
/// [`RemoteExecutor::map_fn`](crate::RemoteExecutor::map_fn), in input order: Python's
/// `executor.map(...)` generator.
///
/// Lazy: nothing is taken from the input or submitted until the first `next`; from then on
/// at most `read_ahead` tasks are in flight (submitted but not yet yielded): by default
/// `2 x` the executor's parallelism, see [`read_ahead`](Self::read_ahead). Each item is a
/// `Result`: a task that panicked yields `Err(FutureError::Panicked(..))` and the stream goes
/// on. With a [`timeout`](Self::timeout), counted from the `map` call as in Python, a result
/// not ready in time yields one `Err(FutureError::Timeout)`, the remaining tasks are
/// cancelled, and the stream ends. Dropping the stream cancels every task not yet started.
///
/// # Differences from Python
///
/// Python submits the whole input at once (unbounded memory for a long input) and stops at
/// the first exception; here the input is read as results are consumed, and errors are items.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
/// let lengths: Vec<usize> = pool
///     .map(|s: &'static str| s.len(), ["a", "bb", "ccc"])
///     .timeout(Duration::from_secs(10))
///     .read_ahead(1)
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(lengths, vec![1, 2, 3]);
/// ```
pub struct Map<'a, I: Iterator, T> {
    input: Option<I>,
    submit: Submit<'a, I::Item, T>,
    in_flight: VecDeque<Future<T>>,
    read_ahead: usize,
    start: Instant,
    deadline: Option<Instant>,
    ended: bool,
}

impl<'a, I: Iterator, T> Map<'a, I, T> {
    /// A stream submitting each item of `input` through `submit`; for executor authors whose
    /// `map` needs more than the trait's default (a process pool's `chunksize`, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::{Future, Map};
    ///
    /// // An "executor" that runs each task at once, in the caller.
    /// let inline = |x: i32| {
    ///     let f = Future::new();
    ///     f.set_result(x + 1).unwrap();
    ///     f
    /// };
    /// let out: Vec<i32> = Map::new(0..3, Box::new(inline), 4).map(Result::unwrap).collect();
    /// assert_eq!(out, vec![1, 2, 3]);
    /// ```
    pub fn new(
        input: I,
        submit: Box<dyn FnMut(I::Item) -> Future<T> + 'a>,
        read_ahead: usize,
    ) -> Self {
        Self {
            input: Some(input),
            submit,
            in_flight: VecDeque::new(),
            read_ahead: read_ahead.max(1),
            start: Instant::now(),
            deadline: None,
            ended: false,
        }
    }

    /// Gives up waiting once `timeout` has passed since the stream was made: Python's
    /// `map(..., timeout=t)`. A timeout too large to represent means none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_futures::{Future, FutureError, Map};
    ///
    /// // Tasks that never finish: the stream gives up after the timeout.
    /// let never = |_: i32| Future::<i32>::new();
    /// let mut map = Map::new(0..3, Box::new(never), 2).timeout(Duration::from_millis(5));
    /// assert_eq!(map.next(), Some(Err(FutureError::Timeout)));
    /// assert_eq!(map.next(), None);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = self.start.checked_add(timeout);
        self
    }

    /// Sets how many tasks may be submitted ahead of the consumer (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use spindle_futures::{Future, Map};
    ///
    /// let submitted = Cell::new(0);
    /// let inline = |x: i32| {
    ///     submitted.set(submitted.get() + 1);
    ///     let f = Future::new();
    ///     f.set_result(x * 10).unwrap();
    ///     f
    /// };
    /// let mut map = Map::new(0..10, Box::new(inline), 1).read_ahead(3);
    /// assert_eq!(map.next(), Some(Ok(0)));
    /// // Three submitted ahead, then one more to refill after the first was taken.
    /// assert_eq!(submitted.get(), 4);
    /// ```
    pub fn read_ahead(mut self, n: usize) -> Self {
        self.read_ahead = n.max(1);
        self
    }

    fn fill(&mut self) {
        while self.in_flight.len() < self.read_ahead {
            let Some(item) = self.input.as_mut().and_then(Iterator::next) else {
                self.input = None;
                return;
            };
            let fut = (self.submit)(item);
            self.in_flight.push_back(fut);
        }
    }

    fn cancel_all(&mut self) {
        for fut in self.in_flight.drain(..) {
            fut.cancel();
        }
        self.input = None;
    }
}

impl<I: Iterator, T> Iterator for Map<'_, I, T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        self.fill();
        let Some(head) = self.in_flight.front() else {
            self.ended = true;
            return None;
        };
        if !head.wait_until(self.deadline) {
            self.ended = true;
            self.cancel_all();
            return Some(Err(FutureError::Timeout));
        }
        let head = self.in_flight.pop_front()?;
        self.fill();
        Some(head.take_result())
    }
}

impl<I: Iterator, T> Drop for Map<'_, I, T> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<I: Iterator, T> fmt::Debug for Map<'_, I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.in_flight.len())
            .field("read_ahead", &self.read_ahead)
            .field("deadline", &self.deadline)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}
