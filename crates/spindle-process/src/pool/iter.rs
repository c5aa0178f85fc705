//! The result streams of `imap`, `imap_unordered` and the executor's chunked `map`.

use super::core::Shared;
use super::error::PoolError;
use super::sinks::ChannelSink;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spindle_futures::{Chunks, FutureError, Map};
use std::collections::VecDeque;
use std::fmt;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Results of [`Pool::imap`](super::Pool::imap), in input order: Python's `IMapIterator`.
///
/// Lazy: the input is read, in chunks, only as results are consumed, with at most
/// `2 x processes` chunks in flight; each item is `Ok(value)` or the [`PoolError`] of that
/// item (a panic fails only its own item; the stream goes on). Dropping the stream withdraws
/// the chunks not yet sent to a worker.
///
/// # Differences from Python
///
/// Python's `imap` consumes the whole input at once in a helper thread; this one reads it as
/// you go. Python's `next(timeout)` is [`timeout`](IMap::timeout), counted from the call that
/// made the stream.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// # spindle_process::init();
/// let pool = Pool::new(1);
/// let out: Result<Vec<u64>, _> = pool.imap(square, 1..=4u64, 2).collect();
/// assert_eq!(out, Ok(vec![1, 4, 9, 16]));
/// pool.close();
/// pool.join().unwrap();
/// ```
pub struct IMap<'a, I: Iterator, R> {
    inner: Map<'a, Chunks<I>, Vec<Result<R, PoolError>>>,
    buf: VecDeque<Result<R, PoolError>>,
}

impl<I: Iterator, R> fmt::Debug for IMap<'_, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMap")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<'a, I: Iterator, R> IMap<'a, I, R> {
    pub(crate) fn new(inner: Map<'a, Chunks<I>, Vec<Result<R, PoolError>>>) -> Self {
        IMap {
            inner,
            buf: VecDeque::new(),
        }
    }

    /// Gives up waiting once `timeout` has passed since the stream was made: the next item is
    /// then `Err(PoolError::NotReady)` and the stream ends (unsent chunks are withdrawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: u8) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let mut it = pool.imap(never_ends, [0u8], 1).timeout(Duration::from_millis(100));
    /// assert_eq!(it.next(), Some(Err(PoolError::NotReady)));
    /// assert!(it.next().is_none());
    /// pool.terminate();
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    /// Sets how many chunks may be in flight ahead of the consumer (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let out: Result<Vec<u64>, _> = pool.imap(square, 1..=4u64, 1).read_ahead(1).collect();
    /// assert_eq!(out, Ok(vec![1, 4, 9, 16]));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn read_ahead(mut self, chunks: usize) -> Self {
        self.inner = self.inner.read_ahead(chunks);
        self
    }
}

impl<I: Iterator, R> Iterator for IMap<'_, I, R> {
    type Item = Result<R, PoolError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buf.pop_front() {
                return Some(item);
            }
            match self.inner.next()? {
                Ok(chunk) => self.buf.extend(chunk),
                Err(e) => return Some(Err(PoolError::from_future_error(&e))),
            }
        }
    }
}

/// Results of [`ProcessPoolExecutor::map`](super::ProcessPoolExecutor::map), in input order,
/// with errors as [`FutureError`]s (see [`IMap`]; the same stream under the executor's error
/// type, as `RemoteExecutor` code expects).
///
/// # Examples
///
/// ```
/// use spindle_process::pool::ProcessPoolExecutor;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// # spindle_process::init();
/// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
/// let out: Result<Vec<u64>, _> = pool.map(square, 1..=4u64, 2).collect();
/// assert_eq!(out, Ok(vec![1, 4, 9, 16]));
/// pool.shutdown(true, false);
/// ```
pub struct ExecutorMap<'a, I: Iterator, R> {
    inner: IMap<'a, I, R>,
}

impl<I: Iterator, R> fmt::Debug for ExecutorMap<'_, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorMap")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<'a, I: Iterator, R> ExecutorMap<'a, I, R> {
    pub(crate) fn new(inner: IMap<'a, I, R>) -> Self {
        ExecutorMap { inner }
    }

    /// Gives up once `timeout` has passed since `map` was called: the next item is
    /// `Err(FutureError::Timeout)` and the stream ends, as Python's `map(timeout=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_futures::FutureError;
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn never_ends(_: u8) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let mut it = pool.map(never_ends, [0u8], 1).timeout(Duration::from_millis(100));
    /// assert_eq!(it.next(), Some(Err(FutureError::Timeout)));
    /// assert!(it.next().is_none());
    /// drop(it);
    /// pool.terminate_workers(); // the stuck task would keep `drop` waiting
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    /// Sets how many chunks may be in flight ahead of the consumer (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::ProcessPoolExecutor;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build();
    /// let out: Result<Vec<u64>, _> = pool.map(square, 1..=4u64, 1).read_ahead(1).collect();
    /// assert_eq!(out, Ok(vec![1, 4, 9, 16]));
    /// pool.shutdown(true, false);
    /// ```
    pub fn read_ahead(mut self, chunks: usize) -> Self {
        self.inner = self.inner.read_ahead(chunks);
        self
    }
}

impl<I: Iterator, R> Iterator for ExecutorMap<'_, I, R> {
    type Item = Result<R, FutureError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|r| r.map_err(FutureError::from))
    }
}

/// Results of [`Pool::imap_unordered`](super::Pool::imap_unordered), in completion order:
/// Python's `IMapUnorderedIterator`.
///
/// Lazy like [`IMap`], with at most `2 x processes` chunks in flight. Every input item yields
/// exactly one result.
///
/// # Examples
///
/// ```
/// use spindle_process::pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// # spindle_process::init();
/// let pool = Pool::new(1);
/// let mut out: Vec<u64> = pool.imap_unordered(square, 1..=4u64, 1).map(Result::unwrap).collect();
/// out.sort();
/// assert_eq!(out, [1, 4, 9, 16]);
/// pool.close();
/// pool.join().unwrap();
/// ```
pub struct IMapUnordered<I: Iterator, A, R> {
    shared: Arc<Shared>,
    f: fn(A) -> R,
    input: Option<Chunks<I>>,
    tx: Sender<Vec<Result<R, PoolError>>>,
    rx: Receiver<Vec<Result<R, PoolError>>>,
    in_flight: usize,
    read_ahead: usize,
    buf: VecDeque<Result<R, PoolError>>,
}

impl<I: Iterator, A, R> fmt::Debug for IMapUnordered<I, A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMapUnordered")
            .field("in_flight", &self.in_flight)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<I, A, R> IMapUnordered<I, A, R>
where
    I: Iterator<Item = A>,
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(
        shared: Arc<Shared>,
        f: fn(A) -> R,
        input: Chunks<I>,
        read_ahead: usize,
    ) -> Self {
        let (tx, rx) = channel();
        IMapUnordered {
            shared,
            f,
            input: Some(input),
            tx,
            rx,
            in_flight: 0,
            read_ahead: read_ahead.max(1),
            buf: VecDeque::new(),
        }
    }

    /// Sets how many chunks may be in flight ahead of the consumer (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let mut out: Vec<u64> = pool
    ///     .imap_unordered(square, 1..=4u64, 1)
    ///     .read_ahead(1)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// out.sort();
    /// assert_eq!(out, [1, 4, 9, 16]);
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn read_ahead(mut self, chunks: usize) -> Self {
        self.read_ahead = chunks.max(1);
        self
    }

    fn fill(&mut self) {
        while self.in_flight < self.read_ahead {
            let Some(chunk) = self.input.as_mut().and_then(Iterator::next) else {
                self.input = None;
                return;
            };
            self.in_flight += 1;
            let sink = Box::new(ChannelSink {
                n: chunk.len(),
                tx: self.tx.clone(),
            });
            super::submit_items(&self.shared, self.f, &chunk, None, sink);
        }
    }

    /// The next result, waiting at most `timeout`: Python's `next(timeout)`.
    ///
    /// # Errors
    ///
    /// `Some(Err(PoolError::NotReady))` if nothing finished in time (the stream stays usable);
    /// `Some(Err(e))` for an item that failed; `None` once every item was yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: u8) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let mut it = pool.imap_unordered(never_ends, [0u8], 1);
    /// assert_eq!(it.next_timeout(Duration::from_millis(10)), Some(Err(PoolError::NotReady)));
    /// pool.terminate(); // fails the stuck task
    /// assert_eq!(it.next_timeout(Duration::from_secs(60)), Some(Err(PoolError::Closed)));
    /// assert_eq!(it.next_timeout(Duration::from_secs(60)), None);
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        self.next_until(Instant::now().checked_add(timeout))
    }

    fn next_until(&mut self, deadline: Option<Instant>) -> Option<Result<R, PoolError>> {
        if let Some(item) = self.buf.pop_front() {
            return Some(item);
        }
        self.fill();
        if self.in_flight == 0 {
            return None;
        }
        let chunk = match deadline {
            None => self.rx.recv().ok()?,
            Some(d) => match self
                .rx
                .recv_timeout(d.saturating_duration_since(Instant::now()))
            {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => return Some(Err(PoolError::NotReady)),
                Err(RecvTimeoutError::Disconnected) => return None,
            },
        };
        self.in_flight -= 1;
        self.buf.extend(chunk);
        self.fill();
        self.buf.pop_front()
    }
}

impl<I, A, R> Iterator for IMapUnordered<I, A, R>
where
    I: Iterator<Item = A>,
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<R, PoolError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None)
    }
}
