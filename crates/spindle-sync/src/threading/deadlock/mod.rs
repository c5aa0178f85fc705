//! Deadlock detection over spindle's locks: a wait-for graph, cycle reports, a background
//! checker, and [`AcquireError`] for timed acquires that expire inside a deadlock.
//!
//! Everything that watches threads needs the opt-in cargo feature `deadlock-detection`
//! (`spindle = { features = ["deadlock-detection"] }`). Without it the lock paths call the
//! same `#[inline]` hooks, whose bodies are compiled out, so the locks cost exactly what
//! they cost before (STYLE 5.3, modelled on parking_lot's `deadlock` module); the types of
//! this module still exist so code compiles either way, and
//! [`Lock::acquire_timeout_checked`](super::Lock::acquire_timeout_checked) then returns
//! [`AcquireError::Timeout`] only.
//!
//! With the feature on:
//! - every acquire and release of a [`Lock`](super::Lock), [`RLock`](super::RLock) or
//!   [`RwLock`](super::RwLock) (also as a [`Condition`](super::Condition)'s lock) records
//!   who holds what, and a thread about to park records what it waits for;
//! - `check_deadlock` lists every cycle of that graph now, each as a [`DeadlockCycle`]
//!   whose `Display` prints the chain: thread names and idents, the lock each holds and the
//!   lock it waits for, and where each was acquired when backtraces are on
//!   (`SPINDLE_DEADLOCK_BACKTRACE=1` or `set_backtrace_capture`);
//! - `start_checker` runs that check on a background thread and calls you with new cycles;
//! - `acquire_timeout_checked` (and [`RwLock::try_write_for_checked`](super::RwLock::try_write_for_checked),
//!   ...) returns [`AcquireError::Deadlock`] with the cycle when its time runs out inside one;
//! - in debug builds, the `lock_order` checker reports acquisitions out
//!   of the declared (`with_level`) or learned (`named`) order before they can deadlock.
//!
//! Not tracked: [`Semaphore`](super::Semaphore)s and events (no owner to wait for),
//! spindle-process's process-shared locks, and other crates' locks. A [`Lock`](super::Lock)
//! that another thread releases (Python's lock-as-signal idiom) can show up in a cycle
//! although that release would end the wait.

#[cfg(feature = "deadlock-detection")]
mod checker;
pub(crate) mod cycle;
#[cfg(feature = "deadlock-detection")]
pub(crate) mod graph;
mod lock_info;

#[cfg(feature = "deadlock-detection")]
pub use checker::{start_checker, DeadlockChecker};
pub use cycle::{AcquireError, DeadlockCycle, DeadlockedThread, HeldLock};
pub(crate) use lock_info::LockMeta;
pub use lock_info::{Access, LockInfo, LockKind};

/// Every deadlock among spindle's locks right now: each elementary cycle of the wait-for
/// graph once (at most 64), starting at its thread with the smallest ident.
///
/// Available with the `deadlock-detection` feature.
///
/// Stateless, unlike parking_lot's `check_deadlock` (which reports a deadlock once): call it
/// twice during one deadlock and it is listed twice. [`start_checker`] reports each once.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::check_deadlock;
/// use spindle_sync::threading::{Event, Lock, Thread};
///
/// let lock = Arc::new(Lock::named("twice"));
/// let seen = Arc::new(Event::new());
/// let (l2, s2) = (Arc::clone(&lock), Arc::clone(&seen));
/// let t = Thread::builder().name("stuck").spawn(move || {
///     l2.acquire();
///     // Taking a `Lock` it holds again: parked until the timeout, retried until seen.
///     while !s2.is_set() {
///         assert!(!l2.acquire_timeout(Duration::from_millis(10)));
///     }
///     l2.release().unwrap();
/// }).unwrap();
/// let cycle = loop {
///     match check_deadlock().into_iter().find(|c| c.contains_thread(t.ident())) {
///         Some(c) => break c,
///         None => std::thread::yield_now(),
///     }
/// };
/// seen.set();
/// t.join().unwrap();
/// assert_eq!(cycle.len(), 1);
/// assert_eq!(cycle.threads()[0].name(), "stuck");
/// assert!(cycle.to_string().contains("holds Lock \"twice\" and waits for Lock \"twice\""));
/// ```
#[cfg(feature = "deadlock-detection")]
pub fn check_deadlock() -> Vec<DeadlockCycle> {
    graph::all_cycles(&graph::state())
}

/// Whether acquisitions record a backtrace (shown in [`DeadlockCycle`] and lock-order
/// reports). Off by default, or on when the environment variable
/// `SPINDLE_DEADLOCK_BACKTRACE` is set to anything but `0` or empty; this call overrides it.
/// A backtrace costs microseconds per acquire: use it while hunting a deadlock.
///
/// Available with the `deadlock-detection` feature.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::deadlock::{backtrace_capture, set_backtrace_capture};
///
/// set_backtrace_capture(true);
/// assert!(backtrace_capture());
/// set_backtrace_capture(false);
/// assert!(!backtrace_capture());
/// ```
#[cfg(feature = "deadlock-detection")]
pub fn set_backtrace_capture(on: bool) {
    graph::set_backtraces(on);
}

/// Whether acquisitions record a backtrace now; see [`set_backtrace_capture`].
///
/// Available with the `deadlock-detection` feature.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::deadlock::{backtrace_capture, set_backtrace_capture};
///
/// set_backtrace_capture(true);
/// assert!(backtrace_capture());
/// ```
#[cfg(feature = "deadlock-detection")]
pub fn backtrace_capture() -> bool {
    graph::backtraces_on()
}

/// A thread parked on a tracked lock, as [`blocked_threads`] lists it.
///
/// Available with the `deadlock-detection` feature.
///
/// Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle_sync::threading::deadlock::{blocked_threads, Access};
/// use spindle_sync::threading::{Lock, Thread};
///
/// let lock = Arc::new(Lock::named("gate"));
/// let held = lock.lock();
/// let l2 = Arc::clone(&lock);
/// let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
/// // `t` is parked on `lock`, which this thread holds.
/// let b = loop {
///     match blocked_threads().into_iter().find(|b| b.ident() == t.ident()) {
///         Some(b) => break b,
///         None => std::thread::yield_now(),
///     }
/// };
/// assert_eq!((b.name(), b.access()), ("waiter", Access::Exclusive));
/// assert_eq!(b.waits_for().name(), Some("gate"));
/// drop(held);
/// t.join().unwrap();
/// ```
#[cfg(feature = "deadlock-detection")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedThread {
    name: String,
    ident: u64,
    waits_for: LockInfo,
    access: Access,
}

#[cfg(feature = "deadlock-detection")]
impl BlockedThread {
    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use spindle_sync::threading::deadlock::blocked_threads;
    /// # use spindle_sync::threading::{Lock, Thread};
    /// # let lock = Arc::new(Lock::named("gate"));
    /// # let held = lock.lock();
    /// # let l2 = Arc::clone(&lock);
    /// # let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
    /// // `t` is parked on `lock`, which this thread holds.
    /// let b = loop {
    ///     match blocked_threads().into_iter().find(|b| b.ident() == t.ident()) {
    ///         Some(b) => break b,
    ///         None => std::thread::yield_now(),
    ///     }
    /// };
    /// assert_eq!(b.name(), "waiter");
    /// drop(held);
    /// t.join().unwrap();
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's ident.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use spindle_sync::threading::deadlock::blocked_threads;
    /// # use spindle_sync::threading::{Lock, Thread};
    /// # let lock = Arc::new(Lock::named("gate"));
    /// # let held = lock.lock();
    /// # let l2 = Arc::clone(&lock);
    /// # let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
    /// // `t` is parked on `lock`, which this thread holds.
    /// let b = loop {
    ///     match blocked_threads().into_iter().find(|b| b.ident() == t.ident()) {
    ///         Some(b) => break b,
    ///         None => std::thread::yield_now(),
    ///     }
    /// };
    /// assert_eq!(b.ident(), t.ident());
    /// drop(held);
    /// t.join().unwrap();
    /// ```
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// The lock it is parked on.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::deadlock::LockKind;
    /// # use std::sync::Arc;
    /// # use spindle_sync::threading::deadlock::blocked_threads;
    /// # use spindle_sync::threading::{Lock, Thread};
    /// # let lock = Arc::new(Lock::named("gate"));
    /// # let held = lock.lock();
    /// # let l2 = Arc::clone(&lock);
    /// # let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
    /// // `t` is parked on `lock`, which this thread holds.
    /// let b = loop {
    ///     match blocked_threads().into_iter().find(|b| b.ident() == t.ident()) {
    ///         Some(b) => break b,
    ///         None => std::thread::yield_now(),
    ///     }
    /// };
    /// assert_eq!((b.waits_for().kind(), b.waits_for().name()), (LockKind::Lock, Some("gate")));
    /// drop(held);
    /// t.join().unwrap();
    /// ```
    pub fn waits_for(&self) -> &LockInfo {
        &self.waits_for
    }

    /// Whether it waits to hold the lock alone or shared.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::deadlock::Access;
    /// # use std::sync::Arc;
    /// # use spindle_sync::threading::deadlock::blocked_threads;
    /// # use spindle_sync::threading::{Lock, Thread};
    /// # let lock = Arc::new(Lock::named("gate"));
    /// # let held = lock.lock();
    /// # let l2 = Arc::clone(&lock);
    /// # let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
    /// // `t` is parked on `lock`, which this thread holds.
    /// let b = loop {
    ///     match blocked_threads().into_iter().find(|b| b.ident() == t.ident()) {
    ///         Some(b) => break b,
    ///         None => std::thread::yield_now(),
    ///     }
    /// };
    /// assert_eq!(b.access(), Access::Exclusive);
    /// drop(held);
    /// t.join().unwrap();
    /// ```
    pub fn access(&self) -> Access {
        self.access
    }
}

/// Every thread parked on a tracked lock right now (a snapshot), deadlocked or not: the
/// "who waits for what" half of a thread dump.
///
/// Available with the `deadlock-detection` feature.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::deadlock::blocked_threads;
/// use spindle_sync::threading::{Lock, Thread};
/// use std::sync::Arc;
///
/// let lock = Arc::new(Lock::named("busy"));
/// let held = lock.lock();
/// let l2 = Arc::clone(&lock);
/// let t = Thread::builder().name("waiter").spawn(move || drop(l2.lock())).unwrap();
/// while !blocked_threads().iter().any(|b| b.name() == "waiter") {
///     std::thread::yield_now();
/// }
/// let me = blocked_threads().into_iter().find(|b| b.name() == "waiter").unwrap();
/// assert_eq!(me.waits_for().name(), Some("busy"));
/// drop(held);
/// t.join().unwrap();
/// ```
#[cfg(feature = "deadlock-detection")]
pub fn blocked_threads() -> Vec<BlockedThread> {
    graph::blocked()
        .into_iter()
        .map(|(ident, w)| BlockedThread {
            name: w.name,
            ident,
            waits_for: w.lock,
            access: w.access,
        })
        .collect()
}

// ---- Hooks called from the raw locks. Empty and inlined away without the feature. ----

/// Before a blocking acquire (not a `try_`): the lock-order check (debug builds).
#[inline]
pub(crate) fn before_acquire(addr: usize, meta: &LockMeta) {
    #[cfg(feature = "deadlock-detection")]
    if cfg!(debug_assertions) {
        super::lock_order::check(addr, meta);
    }
    #[cfg(not(feature = "deadlock-detection"))]
    let _ = (addr, meta);
}

/// The calling thread now holds the lock at `addr`.
#[inline]
pub(crate) fn acquired(addr: usize, meta: &LockMeta, access: Access) {
    #[cfg(feature = "deadlock-detection")]
    graph::acquired(LockInfo::new(addr, meta), access);
    #[cfg(not(feature = "deadlock-detection"))]
    let _ = (addr, meta, access);
}

/// One hold of the lock at `addr` ends (called just before the lock word is released).
#[inline]
pub(crate) fn released(addr: usize, access: Access) {
    #[cfg(feature = "deadlock-detection")]
    graph::released(addr, access);
    #[cfg(not(feature = "deadlock-detection"))]
    let _ = (addr, access);
}

/// The calling thread is about to park on the lock at `addr`.
#[inline]
pub(crate) fn parking(addr: usize, meta: &LockMeta, access: Access) {
    #[cfg(feature = "deadlock-detection")]
    graph::parking(LockInfo::new(addr, meta), access);
    #[cfg(not(feature = "deadlock-detection"))]
    let _ = (addr, meta, access);
}

/// The calling thread is back from parking.
#[inline]
pub(crate) fn unparked() {
    #[cfg(feature = "deadlock-detection")]
    graph::unparked();
}

/// The lock at `addr` is being dropped while held.
#[cfg(feature = "deadlock-detection")]
#[inline]
pub(crate) fn forget(addr: usize) {
    graph::forget(addr);
}

/// The error for a timed acquire of the lock at `addr` that ran out: `Deadlock` if waiting
/// for it runs into a cycle now, else `Timeout`.
#[cold]
pub(crate) fn timed_out(addr: usize, meta: &LockMeta, access: Access) -> AcquireError {
    #[cfg(feature = "deadlock-detection")]
    {
        let name = super::thread_info::current_thread().name().to_owned();
        let me = super::thread_info::get_ident();
        match graph::cycle_from(me, name, LockInfo::new(addr, meta), access) {
            Some(cycle) => AcquireError::Deadlock(cycle),
            None => AcquireError::Timeout,
        }
    }
    #[cfg(not(feature = "deadlock-detection"))]
    {
        let _ = (addr, meta, access);
        AcquireError::Timeout
    }
}
