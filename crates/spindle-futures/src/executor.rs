//! The two executor traits: [`Executor`] (closures, in this process) and [`RemoteExecutor`]
//! (plain functions with serde arguments, which can run in another process or machine).
//!
//! Neither trait is object-safe: `submit` and `map` are generic over the task, so there is no
//! `dyn Executor`. Write generic code instead (`fn run_on<E: RemoteExecutor>(e: &E)`), which
//! runs unchanged on a thread pool, a process pool or an MPI pool.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Future, Map};

/// The default parallelism of an executor that does not say: the number of CPUs.
pub(crate) fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// An executor of closures: Python's `concurrent.futures.Executor`.
///
/// Implemented by [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) and by spindle's asyncio
/// bridge. Not object-safe (its methods are generic); see the module docs.
///
/// # Examples
///
/// ```
/// use spindle_futures::{Executor, ThreadPoolExecutor};
///
/// fn squares<E: Executor>(e: &E) -> Vec<u64> {
///     e.map(|x: u64| x * x, 1..=4).map(Result::unwrap).collect()
/// }
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
/// assert_eq!(squares(&pool), vec![1, 4, 9, 16]);
/// ```
pub trait Executor {
    /// Schedules `f` to run and returns its future: Python's `executor.submit(fn)`.
    ///
    /// After [`shutdown`](Self::shutdown) the future comes back already failed with
    /// [`FutureError::ShutDown`](crate::FutureError::ShutDown). A panic in `f` becomes
    /// [`FutureError::Panicked`](crate::FutureError::Panicked).
    fn submit<F, T>(&self, f: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Applies `f` to every item of `iter` on the executor, yielding results in input order:
    /// Python's `executor.map(fn, iterable)`.
    ///
    /// Lazy, with a bounded read-ahead of `2 x` [`parallelism`](Self::parallelism) tasks by
    /// default; see [`Map`].
    fn map<F, I, T>(&self, f: F, iter: I) -> Map<'_, I::IntoIter, T>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let submit = move |item: I::Item| {
            let f = Arc::clone(&f);
            self.submit(move || f(item))
        };
        Map::new(iter.into_iter(), Box::new(submit), 2 * self.parallelism())
    }

    /// Stops accepting work: Python's `executor.shutdown(wait, cancel_futures=...)`.
    ///
    /// With `cancel_futures`, tasks not yet started are cancelled; with `wait`, the call
    /// returns once every started (and, without `cancel_futures`, every queued) task is done
    /// and the workers are gone. Calling it again is harmless.
    fn shutdown(&self, wait: bool, cancel_futures: bool);

    /// How many tasks can run at once; sizes [`map`](Self::map)'s read-ahead. Defaults to the
    /// number of CPUs.
    fn parallelism(&self) -> usize {
        cpu_count()
    }
}

/// An executor of plain functions with serializable arguments and results, so that the work
/// can cross a process boundary: implemented by
/// [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) (which just calls the function), and by
/// spindle's `ProcessPoolExecutor` and `MpiPoolExecutor`.
///
/// `f` is a `fn` item or a non-capturing closure, so it needs no environment; `A` and `R` are
/// `serde` types so a remote executor can encode them. Not object-safe; see the module docs.
///
/// # Examples
///
/// ```
/// use spindle_futures::{RemoteExecutor, ThreadPoolExecutor};
///
/// fn double(x: i64) -> i64 { 2 * x }
///
/// fn run_on<E: RemoteExecutor>(e: &E) -> i64 {
///     let one = e.submit_fn(double, 20).into_result().unwrap();
///     let many: i64 = e.map_fn(double, 0..4).map(Result::unwrap).sum();
///     one + many
/// }
/// let pool = ThreadPoolExecutor::new();
/// assert_eq!(run_on(&pool), 40 + 12);
/// ```
pub trait RemoteExecutor {
    /// Schedules `f(args)` and returns its future: Python's `executor.submit(fn, *args)` for a
    /// picklable function.
    ///
    /// After [`shutdown`](Self::shutdown) the future comes back already failed with
    /// [`FutureError::ShutDown`](crate::FutureError::ShutDown).
    fn submit_fn<A, R>(&self, f: fn(A) -> R, args: A) -> Future<R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static;

    /// `f` applied to each item of `iter`, results in input order: Python's
    /// `executor.map(fn, iterable)`; lazy with bounded read-ahead, see [`Map`].
    fn map_fn<A, R, I>(&self, f: fn(A) -> R, iter: I) -> Map<'_, I::IntoIter, R>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let submit = move |args: A| self.submit_fn(f, args);
        Map::new(iter.into_iter(), Box::new(submit), 2 * self.parallelism())
    }

    /// Stops accepting work; as [`Executor::shutdown`].
    fn shutdown(&self, wait: bool, cancel_futures: bool);

    /// How many tasks can run at once; sizes [`map_fn`](Self::map_fn)'s read-ahead. Defaults
    /// to the number of CPUs.
    fn parallelism(&self) -> usize {
        cpu_count()
    }
}
