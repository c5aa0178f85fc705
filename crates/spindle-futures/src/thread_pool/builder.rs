//! [`ThreadPoolBuilder`]: the keyword arguments of Python's `ThreadPoolExecutor(...)`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::worker::{Initializer, Shared};
use super::ThreadPoolExecutor;
use crate::executor::cpu_count;

/// Numbers the pools for their default thread name prefix, like Python's
/// `ThreadPoolExecutor._counter`.
static POOL_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Settings for a [`ThreadPoolExecutor`]: Python's `ThreadPoolExecutor(max_workers,
/// thread_name_prefix, initializer)`.
///
/// [`build`](Self::build) cannot fail and starts no thread: workers start lazily, one per
/// submit that finds no idle worker, up to `max_workers`.
///
/// # Examples
///
/// ```
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("io")
///     .initializer(|| {})
///     .build();
/// assert_eq!(pool.max_workers(), 2);
/// assert_eq!(pool.num_threads(), 0, "threads start on demand");
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

impl Default for ThreadPoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadPoolBuilder {
    /// A builder with Python's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolBuilder;
    ///
    /// let pool = ThreadPoolBuilder::new().build();
    /// assert!((5..=32).contains(&pool.max_workers()));
    /// assert!(pool.thread_name_prefix().starts_with("ThreadPoolExecutor-"));
    /// ```
    pub fn new() -> Self {
        Self {
            max_workers: None,
            prefix: None,
            initializer: None,
        }
    }

    /// The most threads the pool will run: Python's `max_workers`. Defaults to
    /// `min(32, cpus + 4)`, Python 3.8's default. Zero is raised to one (Python raises
    /// `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolBuilder;
    ///
    /// assert_eq!(ThreadPoolBuilder::new().max_workers(3).build().max_workers(), 3);
    /// assert_eq!(ThreadPoolBuilder::new().max_workers(0).build().max_workers(), 1);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n.max(1));
        self
    }

    /// Names the worker threads `{prefix}_{i}`: Python's `thread_name_prefix`. Defaults to
    /// `ThreadPoolExecutor-{n}` with `n` counting the pools of the process, so the first
    /// pool's first worker is `ThreadPoolExecutor-0_0`, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolBuilder;
    /// use spindle_sync::threading::current_thread;
    ///
    /// let pool = ThreadPoolBuilder::new().max_workers(1).thread_name_prefix("io").build();
    /// let name = pool.submit(|| current_thread().name().to_owned()).result().unwrap();
    /// assert_eq!(name, "io_0");
    /// pool.shutdown(true, false);
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs `init` at the start of every worker thread: Python's `initializer`.
    ///
    /// If it panics, the pool is broken: queued tasks and every later submit fail with
    /// [`FutureError::BrokenExecutor`](crate::FutureError::BrokenExecutor) naming the panic,
    /// and nothing hangs. Bind arguments by capturing them (Python's `initargs`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use spindle_futures::{FutureError, ThreadPoolBuilder};
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let s2 = Arc::clone(&started);
    /// let pool = ThreadPoolBuilder::new()
    ///     .max_workers(1)
    ///     .initializer(move || {
    ///         s2.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build();
    /// assert_eq!(pool.submit(|| 7).result(), Ok(7));
    /// assert_eq!(started.load(Ordering::SeqCst), 1);
    /// pool.shutdown(true, false);
    ///
    /// let broken = ThreadPoolBuilder::new().initializer(|| panic!("no config")).build();
    /// assert!(matches!(broken.submit(|| 1).result(), Err(FutureError::BrokenExecutor(_, _))));
    /// broken.shutdown(true, false);
    /// ```
    pub fn initializer<F>(mut self, init: F) -> Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.initializer = Some(Arc::new(init));
        self
    }

    /// Makes the pool; starts no thread and cannot fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::ThreadPoolBuilder;
    ///
    /// let pool = ThreadPoolBuilder::new().max_workers(2).build();
    /// assert_eq!(pool.num_threads(), 0); // no thread yet
    /// assert_eq!(pool.submit(|| "ran").result(), Ok("ran"));
    /// pool.shutdown(true, false);
    /// ```
    pub fn build(self) -> ThreadPoolExecutor {
        let max_workers = self
            .max_workers
            .unwrap_or_else(|| (cpu_count() + 4).min(32));
        let prefix = self.prefix.unwrap_or_else(|| {
            format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, Ordering::Relaxed)
            )
        });
        ThreadPoolExecutor {
            shared: Arc::new(Shared::new(max_workers, prefix, self.initializer)),
        }
    }
}
