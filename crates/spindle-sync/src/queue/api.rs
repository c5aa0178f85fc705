//! The Python-named methods shared by [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue)
//! and [`PriorityQueue`](super::PriorityQueue), written once as a macro over their
//! [`Backend`](super::backend::Backend) so that the three types document (and doc-test) the
//! same contract with their own names and order.

/// Implements `put`, `get`, their timeout and `_nowait` forms, sizes, `task_done`/`join`,
/// `shutdown` and the waiter counts on `$ty<T>`, forwarding to `self.core`.
///
/// `first` is what `get` returns after `put(1)` then `put(2)`; `order` names that order.
macro_rules! queue_api {
    (type = $ty:ident, bound = [$($bound:tt)*], first = $first:literal, second = $second:literal, order = $order:literal) => {
        impl<T $($bound)*> $ty<T> {
            /// Puts `item`, waiting as long as it takes for a free slot.
            ///
            #[doc = concat!("Python's `q.put(item)`. The item goes in ", $order, ". On an unbounded")]
            /// queue this never waits. Waking a blocked getter costs a syscall only if one is
            /// parked.
            ///
            /// # Errors
            ///
            /// [`PutError::ShutDown`] with the item inside if [`shutdown`](Self::shutdown) ran
            /// before the item went in, including while this call waited. Never `Full`.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::thread;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(1);")]
            /// q.put(1).unwrap();
            /// thread::scope(|s| {
            ///     // Waits until the main thread makes room.
            ///     s.spawn(|| q.put(2).unwrap());
            ///     assert_eq!(q.get().unwrap(), 1);
            /// });
            /// assert_eq!(q.get().unwrap(), 2);
            /// ```
            #[inline]
            pub fn put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put(item, None)
            }

            /// Puts `item`, waiting at most `timeout` for a free slot.
            ///
            /// Python's `q.put(item, timeout=t)`. A zero `timeout` tries once and never waits
            /// (Python's `put_nowait`); one too large to add to `Instant::now()` waits with no
            /// deadline.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] with the item inside if no slot freed up in time;
            /// [`PutError::ShutDown`] with the item inside once [`shutdown`](Self::shutdown) ran.
            ///
            /// # Differences from Python
            ///
            /// `Duration` cannot be negative, so Python's `ValueError` for `timeout=-1` has no twin.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use spindle_sync::queue::{PutError, ", stringify!($ty), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(1);")]
            /// q.put_timeout(1, Duration::from_millis(5)).unwrap();
            /// let err = q.put_timeout(2, Duration::from_millis(5)).unwrap_err();
            /// assert!(matches!(err, PutError::Full(2)));
            /// ```
            #[inline]
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                self.core.put(item, Some(timeout))
            }

            /// Puts `item` only if a slot is free right now.
            ///
            /// Python's `q.put_nowait(item)`, i.e. `q.put(item, block=False)`.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] with the item inside if the queue is full;
            /// [`PutError::ShutDown`] with the item inside once [`shutdown`](Self::shutdown) ran.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(1);")]
            /// assert!(q.put_nowait('a').is_ok());
            /// assert_eq!(q.put_nowait('b').unwrap_err().into_inner(), 'b');
            /// ```
            #[inline]
            pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put(item, Some(Duration::ZERO))
            }

            /// Takes the next item, waiting as long as it takes for one.
            ///
            #[doc = concat!("Python's `q.get()`; items come out in ", $order, ".")]
            /// After [`shutdown`](Self::shutdown) it still hands out what is left.
            ///
            /// # Errors
            ///
            /// [`GetError::ShutDown`] once [`shutdown`](Self::shutdown) ran and the queue is
            /// empty, including while this call waited. Never `Empty`.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::thread;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// thread::scope(|s| {
            ///     s.spawn(|| {
            ///         q.put(1).unwrap();
            ///         q.put(2).unwrap();
            ///     });
            ///     let mut got = vec![q.get().unwrap(), q.get().unwrap()];
            ///     got.sort();
            ///     assert_eq!(got, [1, 2]);
            /// });
            /// ```
            #[inline]
            pub fn get(&self) -> Result<T, GetError> {
                self.core.get(None)
            }

            /// Takes the next item, waiting at most `timeout` for one.
            ///
            /// Python's `q.get(timeout=t)`. A zero `timeout` tries once and never waits
            /// (Python's `get_nowait`); one too large to add to `Instant::now()` waits with no
            /// deadline.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`] if nothing arrived in time; [`GetError::ShutDown`] once
            /// [`shutdown`](Self::shutdown) ran and the queue is empty.
            ///
            /// # Differences from Python
            ///
            /// `Duration` cannot be negative, so Python's `ValueError` for `timeout=-1` has no twin.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use spindle_sync::queue::{GetError, ", stringify!($ty), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.put(2).unwrap();
            #[doc = concat!("assert_eq!(q.get_timeout(Duration::from_millis(5)), Ok(", stringify!($first), "));")]
            #[doc = concat!("assert_eq!(q.get_timeout(Duration::from_millis(5)), Ok(", stringify!($second), "));")]
            /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
            /// ```
            #[inline]
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                self.core.get(Some(timeout))
            }

            /// Takes the next item only if one is there right now.
            ///
            /// Python's `q.get_nowait()`, i.e. `q.get(block=False)`.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`] if the queue is empty; [`GetError::ShutDown`] if it is empty
            /// and [`shutdown`](Self::shutdown) ran.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::{GetError, ", stringify!($ty), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
            /// q.put_nowait(7).unwrap();
            /// assert_eq!(q.get_nowait(), Ok(7));
            /// ```
            #[inline]
            pub fn get_nowait(&self) -> Result<T, GetError> {
                self.core.get(Some(Duration::ZERO))
            }

            /// How many items the queue holds now.
            ///
            /// Python's `q.qsize()`. Other threads may change it before you act on it, as in
            /// Python: a put or get can still block or fail afterwards.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.put(2).unwrap();
            /// assert_eq!(q.qsize(), 2);
            /// ```
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// Whether the queue holds no items now (Python's `q.empty()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// assert!(q.empty());
            /// q.put(1).unwrap();
            /// assert!(!q.empty());
            /// ```
            pub fn empty(&self) -> bool {
                self.core.qsize() == 0
            }

            /// Whether the queue is at its bound now (Python's `q.full()`); never for
            /// `maxsize` 0.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(1);")]
            /// assert!(!q.full());
            /// q.put(1).unwrap();
            /// assert!(q.full());
            /// ```
            pub fn full(&self) -> bool {
                let max = self.core.maxsize();
                max > 0 && self.core.qsize() >= max
            }

            /// The bound given to `new`; 0 means unbounded (Python's `q.maxsize`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q: ", stringify!($ty), "<u8> = ", stringify!($ty), "::new(8);")]
            /// assert_eq!(q.maxsize(), 8);
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }

            /// Marks one item taken by a `get` as processed.
            ///
            /// Python's `q.task_done()`: every put adds an unfinished task; when this has
            /// been called once per put, [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put (Python's
            /// `ValueError`); the count is left unchanged.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::{", stringify!($ty), ", TaskDoneError};")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put("job").unwrap();
            /// q.get().unwrap();
            /// assert_eq!(q.task_done(), Ok(()));
            /// assert_eq!(q.task_done(), Err(TaskDoneError));
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Items put and not yet marked done (Python's `q.unfinished_tasks`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.get().unwrap();
            /// assert_eq!(q.unfinished_tasks(), 1);
            /// q.task_done().unwrap();
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// ```
            pub fn unfinished_tasks(&self) -> u64 {
                self.core.unfinished_tasks()
            }

            /// Blocks until every item put has been marked done with
            /// [`task_done`](Self::task_done).
            ///
            /// Python's `q.join()`. An immediate [`shutdown`](Self::shutdown) counts the items
            /// it drops as done.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::thread;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// for job in 0..3 {
            ///     q.put(job).unwrap();
            /// }
            /// thread::scope(|s| {
            ///     s.spawn(|| {
            ///         while let Ok(_job) = q.get_nowait() {
            ///             q.task_done().unwrap();
            ///         }
            ///     });
            ///     q.join();
            /// });
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// ```
            pub fn join(&self) {
                self.core.join(None);
            }

            /// Like [`join`](Self::join), giving up after `timeout`; returns whether every
            /// task is done.
            ///
            /// Python's `join` has no timeout; this is the way out of a stuck worker. A zero
            /// `timeout` checks once.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// assert!(!q.join_timeout(Duration::from_millis(5)));
            /// q.get().unwrap();
            /// q.task_done().unwrap();
            /// assert!(q.join_timeout(Duration::ZERO));
            /// ```
            pub fn join_timeout(&self, timeout: Duration) -> bool {
                self.core.join(Some(timeout))
            }

            /// Shuts the queue down: puts fail from now on, gets drain what is left then fail.
            ///
            /// Python 3.13's `q.shutdown(immediate)`. Every blocked putter wakes with
            /// [`PutError::ShutDown`] (its item inside); blocked getters wake and take what is
            /// left or get [`GetError::ShutDown`]. With `immediate`, the items still queued are
            /// dropped and counted as done, so [`join`](Self::join) returns once the items
            /// already taken are marked done. Calling it again is harmless; `immediate` can
            /// follow a plain shutdown.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::{GetError, PutError, ", stringify!($ty), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.shutdown(false);
            /// assert!(matches!(q.put(2), Err(PutError::ShutDown(2))));
            /// assert_eq!(q.get(), Ok(1)); // drains what is left
            /// assert_eq!(q.get(), Err(GetError::ShutDown));
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.shutdown(true); // drops the item and counts it done
            /// assert_eq!(q.get(), Err(GetError::ShutDown));
            /// q.join();
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate);
            }

            /// Whether [`shutdown`](Self::shutdown) ran (Python 3.13's `q.is_shutdown`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q: ", stringify!($ty), "<u8> = ", stringify!($ty), "::new(0);")]
            /// assert!(!q.is_shut_down());
            /// q.shutdown(false);
            /// assert!(q.is_shut_down());
            /// ```
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// How many threads are parked in `get` now (a diagnostic, like the length of
            /// Python's `q.not_empty._waiters`).
            ///
            /// A thread counts from just before it parks until just after it wakes; one that
            /// is still spinning in its first microseconds of waiting does not.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::thread;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q: ", stringify!($ty), "<u8> = ", stringify!($ty), "::new(0);")]
            /// thread::scope(|s| {
            ///     let getter = s.spawn(|| q.get());
            ///     while q.waiting_getters() == 0 {
            ///         thread::yield_now();
            ///     }
            ///     q.put(5).unwrap();
            ///     assert_eq!(getter.join().unwrap(), Ok(5));
            /// });
            /// ```
            pub fn waiting_getters(&self) -> usize {
                self.core.waiting_getters()
            }

            /// How many threads are parked in `put` now; see
            /// [`waiting_getters`](Self::waiting_getters).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::thread;
            #[doc = concat!("use spindle_sync::queue::", stringify!($ty), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($ty), "::new(1);")]
            /// q.put(1).unwrap();
            /// thread::scope(|s| {
            ///     let putter = s.spawn(|| q.put(2));
            ///     while q.waiting_putters() == 0 {
            ///         thread::yield_now();
            ///     }
            ///     q.shutdown(false);
            ///     assert_eq!(putter.join().unwrap().unwrap_err().into_inner(), 2);
            /// });
            /// ```
            pub fn waiting_putters(&self) -> usize {
                self.core.waiting_putters()
            }
        }

        impl<T $($bound)*> Default for $ty<T> {
            /// An unbounded queue, like Python's `maxsize=0`.
            fn default() -> Self {
                Self::new(0)
            }
        }

        // A panic in user code (an item's `Ord` or `Drop`) never leaves the queue broken: no
        // lock is poisoned, and counters are updated before or after, never around, user code.
        impl<T> std::panic::UnwindSafe for $ty<T> {}
        impl<T> std::panic::RefUnwindSafe for $ty<T> {}

        impl<T $($bound)*> std::fmt::Debug for $ty<T> {
            /// Shows `maxsize`, `qsize`, `unfinished_tasks` and whether it is shut down;
            /// needs no `T: Debug`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("maxsize", &self.core.maxsize())
                    .field("qsize", &self.core.qsize())
                    .field("unfinished_tasks", &self.core.unfinished_tasks())
                    .field("shut_down", &self.core.is_shut_down())
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use queue_api;
