//! [`AsyncResult`]: the pending result of `Pool::apply_async`, `map_async` and
//! `starmap_async` (Python's `multiprocessing.pool.AsyncResult`).

use super::error::PoolError;
use spindle_futures::Future;
use std::fmt;
use std::time::Duration;

/// The result of a task submitted with [`Pool::apply_async`](super::Pool::apply_async) (or of
/// a whole [`map_async`](super::Pool::map_async)), available once a worker finishes it.
///
/// Python's `AsyncResult`: [`get`](AsyncResult::get), [`wait`](AsyncResult::wait),
/// [`ready`](AsyncResult::ready), [`successful`](AsyncResult::successful); the `callback`
/// and `error_callback` arguments of `apply_async` are the builder-style
/// [`callback`](AsyncResult::callback) and [`error_callback`](AsyncResult::error_callback).
/// Cloning gives another handle to the same result.
///
/// # Differences from Python
///
/// A callback registered after the result arrived runs at once in the registering thread
/// (Python takes callbacks only at submission). `successful` on an unfinished result gives
/// `None` instead of raising `ValueError`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// # spindle_process::init();
/// let pool = Pool::new(2);
/// let r = pool.apply_async(square, 7);
/// assert_eq!(r.get(Some(Duration::from_secs(30))), Ok(49));
/// assert!(r.ready());
/// assert_eq!(r.successful(), Some(true));
/// pool.close();
/// pool.join().unwrap();
/// ```
pub struct AsyncResult<R> {
    fut: Future<R>,
}

impl<R> Clone for AsyncResult<R> {
    fn clone(&self) -> Self {
        AsyncResult {
            fut: self.fut.clone(),
        }
    }
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("state", &self.fut.state())
            .finish()
    }
}

impl<R: Send + 'static> AsyncResult<R> {
    pub(crate) fn new(fut: Future<R>) -> Self {
        AsyncResult { fut }
    }

    /// Waits until the result is there: Python's `wait()`.
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
    /// let r = pool.apply_async(square, 3);
    /// r.wait();
    /// assert!(r.ready());
    /// assert_eq!(r.get(None), Ok(9));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn wait(&self) {
        let _ = self.fut.exception();
    }

    /// Waits up to `timeout`; returns whether the result is there: Python's `wait(timeout)`
    /// followed by `ready()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::Pool;
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.apply_async(never_ends, ());
    /// assert!(!r.wait_timeout(Duration::from_millis(10)));
    /// pool.terminate(); // fails the stuck task
    /// assert!(r.wait_timeout(Duration::from_secs(60)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.fut.exception_timeout(timeout).is_ok()
    }

    /// Whether the task has finished (well or not): Python's `ready()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.apply_async(never_ends, ());
    /// assert!(!r.ready());
    /// pool.terminate();
    /// assert!(r.ready());
    /// ```
    pub fn ready(&self) -> bool {
        self.fut.done()
    }

    /// Whether the task finished without error: Python's `successful()`; `None` while it
    /// runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::Pool;
    ///
    /// fn half(x: u32) -> u32 {
    ///     assert!(x % 2 == 0, "odd");
    ///     x / 2
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let good = pool.apply_async(half, 4);
    /// let bad = pool.apply_async(half, 3);
    /// good.wait();
    /// bad.wait();
    /// assert_eq!(good.successful(), Some(true));
    /// assert_eq!(bad.successful(), Some(false));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn successful(&self) -> Option<bool> {
        if !self.fut.done() {
            return None;
        }
        Some(self.fut.exception().is_none())
    }

    /// Waits for the result and moves it out (for any `R`); later calls on any handle give
    /// [`PoolError::Closed`].
    ///
    /// # Errors
    ///
    /// What the task failed with (see [`PoolError`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let r = pool.apply_async(square, 5);
    /// let other = r.clone();
    /// assert_eq!(r.into_result(), Ok(25));
    /// assert_eq!(other.get(None), Err(PoolError::Closed));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn into_result(self) -> Result<R, PoolError> {
        self.fut
            .into_result()
            .map_err(|e| PoolError::from_future_error(&e))
    }

    /// Runs `f` with the value once the task succeeds: Python's `callback=` argument.
    ///
    /// It runs in the pool's supervisor thread (or here, if the result is already there), so
    /// it should be quick, as Python asks of its callbacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    /// use spindle_process::pool::Pool;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let (tx, rx) = channel();
    /// let r = pool.apply_async(square, 4).callback(move |v| tx.send(*v).unwrap());
    /// assert_eq!(rx.recv().unwrap(), 16);
    /// assert_eq!(r.get(None), Ok(16));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn callback<F>(self, f: F) -> Self
    where
        F: FnOnce(&R) + Send + 'static,
        R: Clone,
    {
        self.fut.add_done_callback(move |fut| {
            if let Ok(v) = fut.result() {
                f(&v);
            }
        });
        self
    }

    /// Runs `f` with the error once the task fails: Python's `error_callback=` argument.
    /// Runs where [`callback`](AsyncResult::callback) would.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn fail(_: ()) -> u8 {
    ///     panic!("boom")
    /// }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// let (tx, rx) = channel();
    /// let _r = pool.apply_async(fail, ()).error_callback(move |e| tx.send(e.clone()).unwrap());
    /// assert_eq!(rx.recv().unwrap(), PoolError::Panicked("boom".into()));
    /// pool.close();
    /// pool.join().unwrap();
    /// ```
    pub fn error_callback<F>(self, f: F) -> Self
    where
        F: FnOnce(&PoolError) + Send + 'static,
    {
        self.fut.add_done_callback(move |fut| {
            if let Some(e) = fut.exception() {
                f(&PoolError::from_future_error(&e));
            }
        });
        self
    }
}

impl<R: Clone + Send + 'static> AsyncResult<R> {
    /// Waits for the result (at most `timeout`, if given) and returns a copy: Python's
    /// `get(timeout)`.
    ///
    /// # Errors
    ///
    /// [`PoolError::NotReady`] if `timeout` passed first (the task goes on; ask again later);
    /// otherwise what the task failed with: [`PoolError::Panicked`], [`PoolError::WorkerDied`],
    /// [`PoolError::Timeout`], [`PoolError::Encode`], [`PoolError::Decode`],
    /// [`PoolError::Broken`], [`PoolError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::pool::{Pool, PoolError};
    ///
    /// fn never_ends(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::park();
    ///     }
    /// }
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// # spindle_process::init();
    /// let pool = Pool::new(1);
    /// assert_eq!(pool.apply_async(square, 6).get(None), Ok(36));
    /// let r = pool.apply_async(never_ends, ());
    /// assert_eq!(r.get(Some(Duration::from_millis(10))), Err(PoolError::NotReady));
    /// pool.terminate();
    /// assert_eq!(r.get(None), Err(PoolError::Closed));
    /// ```
    pub fn get(&self, timeout: Option<Duration>) -> Result<R, PoolError> {
        let r = match timeout {
            Some(t) => self.fut.result_timeout(t),
            None => self.fut.result(),
        };
        r.map_err(|e| PoolError::from_future_error(&e))
    }
}
