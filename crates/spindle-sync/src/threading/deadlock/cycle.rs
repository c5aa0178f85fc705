//! What a found deadlock looks like: [`DeadlockCycle`], one [`DeadlockedThread`] per thread
//! of the cycle, and [`AcquireError`], which a checked timed acquire returns.

use std::backtrace::Backtrace;
use std::fmt;
use std::sync::Arc;

use super::lock_info::{Access, LockInfo};

/// A lock a thread of a cycle holds, with where it took it.
///
/// # Examples
///
/// A thread waiting for a [`Lock`](crate::threading::Lock) it holds itself is a cycle of one
/// whose thread holds that lock (the cycle is only ever found with the feature on):
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::{Access, AcquireError};
/// use spindle_sync::threading::Lock;
///
/// let lock = Lock::named("held");
/// lock.acquire();
/// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
///     Err(AcquireError::Deadlock(cycle)) => {
///         let held = cycle.threads()[0].holds().unwrap();
///         assert_eq!((held.lock().name(), held.access()), (Some("held"), Access::Exclusive));
///     }
///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
/// }
/// lock.release().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct HeldLock {
    pub(crate) lock: LockInfo,
    pub(crate) access: Access,
    pub(crate) backtrace: Option<Arc<Backtrace>>,
}

impl HeldLock {
    /// The lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::{AcquireError, LockKind};
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::named("ledger");
    /// lock.acquire();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         let info = cycle.threads()[0].holds().unwrap().lock();
    ///         assert_eq!((info.kind(), info.name()), (LockKind::Lock, Some("ledger")));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// lock.release().unwrap();
    /// ```
    pub fn lock(&self) -> &LockInfo {
        &self.lock
    }

    /// Whether it is held alone or shared (an `RwLock` read hold).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::{Access, AcquireError};
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].holds().unwrap().access(), Access::Exclusive);
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// lock.release().unwrap();
    /// ```
    pub fn access(&self) -> Access {
        self.access
    }

    /// Where the thread acquired it, when backtraces were being captured
    /// (`SPINDLE_DEADLOCK_BACKTRACE=1`, or `deadlock::set_backtrace_capture(true)` with the
    /// feature on).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// #[cfg(feature = "deadlock-detection")]
    /// spindle_sync::threading::deadlock::set_backtrace_capture(true);
    /// let lock = Lock::new();
    /// lock.acquire(); // recorded with its backtrace
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert!(cycle.threads()[0].holds().unwrap().backtrace().is_some());
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// lock.release().unwrap();
    /// ```
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.backtrace.as_deref()
    }
}

/// One thread of a [`DeadlockCycle`]: who it is, which lock it waits for, and what it holds
/// that the previous thread of the cycle waits for.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::{Access, AcquireError};
/// use spindle_sync::threading::{current_thread, get_ident, Lock};
///
/// let lock = Lock::named("mine");
/// lock.acquire();
/// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
///     Err(AcquireError::Deadlock(cycle)) => {
///         let me = &cycle.threads()[0];
///         assert_eq!((me.name(), me.ident()), (current_thread().name(), get_ident()));
///         assert_eq!(me.waits_for().name(), Some("mine"));
///         assert_eq!(me.wait_access(), Access::Exclusive);
///         assert_eq!(me.holds().unwrap().lock(), me.waits_for());
///     }
///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
/// }
/// lock.release().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DeadlockedThread {
    pub(crate) name: String,
    pub(crate) ident: u64,
    pub(crate) waits_for: LockInfo,
    pub(crate) wait_access: Access,
    pub(crate) holds: Option<HeldLock>,
}

impl DeadlockedThread {
    /// The thread's name, as [`ThreadInfo::name`](crate::threading::ThreadInfo::name) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::{Lock, Thread};
    ///
    /// let t = Thread::builder().name("self-locker").spawn(|| {
    ///     let lock = Lock::new();
    ///     let _held = lock.lock();
    ///     match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///         Err(AcquireError::Deadlock(cycle)) => {
    ///             assert_eq!(cycle.threads()[0].name(), "self-locker");
    ///         }
    ///         other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    ///     }
    /// }).unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's ident, as [`get_ident`](crate::threading::get_ident) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::{get_ident, Lock};
    ///
    /// let lock = Lock::new();
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].ident(), get_ident());
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// The lock it is blocked on (held by the next thread of the cycle).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::{AcquireError, LockKind};
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::named("wanted");
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         let info = cycle.threads()[0].waits_for();
    ///         assert_eq!((info.kind(), info.name()), (LockKind::Lock, Some("wanted")));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn waits_for(&self) -> &LockInfo {
        &self.waits_for
    }

    /// Whether it waits to hold that lock alone or shared.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::{Access, AcquireError};
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].wait_access(), Access::Exclusive);
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn wait_access(&self) -> Access {
        self.wait_access
    }

    /// The lock it holds that the previous thread of the cycle waits for.
    ///
    /// `None` when it blocks the previous thread without holding that lock: it waits to
    /// write an `RwLock`, and the writer-preferring lock makes new readers (the previous
    /// thread) queue behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::named("both");
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         // A cycle of one: the thread holds what it waits for.
    ///         let me = &cycle.threads()[0];
    ///         assert_eq!(me.holds().map(|h| *h.lock()), Some(*me.waits_for()));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn holds(&self) -> Option<&HeldLock> {
        self.holds.as_ref()
    }
}

impl PartialEq for DeadlockedThread {
    /// Same thread, same locks; backtraces are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.ident == other.ident
            && self.waits_for == other.waits_for
            && self.wait_access == other.wait_access
            && self.holds.as_ref().map(|h| (h.lock, h.access))
                == other.holds.as_ref().map(|h| (h.lock, h.access))
    }
}

impl Eq for DeadlockedThread {}

/// A cycle of threads each waiting for a lock the next one holds: a deadlock.
///
/// `threads()[i]` waits for a lock that `threads()[(i + 1) % len]` holds (or, for an
/// `RwLock` read, that it waits ahead of as a writer). A cycle of one is a thread waiting
/// for a non-re-entrant [`Lock`](crate::threading::Lock) it holds itself. The cycle starts
/// at its thread with the smallest ident, so the same deadlock always compares equal.
///
/// `Display` prints the whole chain, one thread per line, with acquisition backtraces when
/// they were captured:
///
/// ```text
/// deadlock of 2 threads:
///   thread "alice" (ident 2) holds Lock "a" and waits for Lock "b"
///   thread "bob" (ident 3) holds Lock "b" and waits for Lock "a"
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::AcquireError;
/// use spindle_sync::threading::{get_ident, Lock};
///
/// let lock = Lock::named("self");
/// lock.acquire();
/// // Taking a `Lock` this thread holds again can only end by timing out.
/// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
///     Err(AcquireError::Deadlock(cycle)) => {
///         assert_eq!(cycle.len(), 1);
///         assert_eq!(cycle.threads()[0].ident(), get_ident());
///         assert!(cycle.to_string().contains("waits for Lock \"self\""));
///     }
///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
/// }
/// lock.release().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlockCycle {
    pub(crate) threads: Vec<DeadlockedThread>,
}

impl DeadlockCycle {
    /// The threads of the cycle, in wait order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::named("one");
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         let names: Vec<_> = cycle.threads().iter().map(|t| t.waits_for().name()).collect();
    ///         assert_eq!(names, [Some("one")]);
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn threads(&self) -> &[DeadlockedThread] {
        &self.threads
    }

    /// How many threads the cycle has (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => assert_eq!(cycle.len(), 1),
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    #[allow(clippy::len_without_is_empty)] // a cycle is never empty
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Whether the thread with ident `ident` is part of the cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::{get_ident, Lock};
    ///
    /// let lock = Lock::new();
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert!(cycle.contains_thread(get_ident()));
    ///         assert!(!cycle.contains_thread(u64::MAX));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn contains_thread(&self, ident: u64) -> bool {
        self.threads.iter().any(|t| t.ident == ident)
    }

    /// Rotates so the thread with the smallest ident comes first.
    #[cfg(feature = "deadlock-detection")]
    pub(crate) fn normalized(mut self) -> Self {
        if let Some(first) = self
            .threads
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| t.ident)
            .map(|(i, _)| i)
        {
            self.threads.rotate_left(first);
        }
        self
    }
}

impl fmt::Display for DeadlockCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.threads.len();
        write!(
            f,
            "deadlock of {n} thread{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for t in &self.threads {
            write!(f, "\n  thread {:?} (ident {}) ", t.name, t.ident)?;
            match &t.holds {
                Some(h) if h.access == Access::Shared => write!(f, "holds {} for reading", h.lock)?,
                Some(h) => write!(f, "holds {}", h.lock)?,
                None => write!(f, "is queued to write the lock the previous thread wants")?,
            }
            let how = match (t.waits_for.kind(), t.wait_access) {
                (super::LockKind::RwLock, Access::Shared) => " to read",
                (super::LockKind::RwLock, Access::Exclusive) => " to write",
                _ => "",
            };
            write!(f, " and waits{how} for {}", t.waits_for)?;
            if let Some(bt) = t.holds.as_ref().and_then(|h| h.backtrace.as_deref()) {
                let bt = user_frames(bt);
                write!(
                    f,
                    "\n    {} acquired at:\n{bt}",
                    t.holds
                        .as_ref()
                        .map_or_else(String::new, |h| h.lock.to_string())
                )?;
            }
        }
        Ok(())
    }
}

/// `bt` printed without its first frames inside the detector and the lock itself, so it
/// starts at the caller that took the lock.
pub(crate) fn user_frames(bt: &Backtrace) -> String {
    trim_frames(&bt.to_string())
}

fn trim_frames(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    // Frames are "  N: symbol" lines, each followed by "at file:line" lines.
    let is_frame = |l: &str| {
        l.trim_start()
            .split_once(": ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let internal = |l: &str| {
        let symbol = l.trim_start().split_once(": ").map_or("", |(_, s)| s);
        let symbol = symbol.trim_start_matches('<');
        symbol.starts_with("spindle_sync::threading::")
            || symbol.starts_with("core::")
            || symbol.starts_with("alloc::")
            || symbol.starts_with("std::backtrace")
    };
    let first_user = lines
        .iter()
        .position(|l| is_frame(l) && !internal(l))
        .unwrap_or(0);
    lines[first_user..].join("\n")
}

/// Why a checked timed acquire (such as
/// [`Lock::acquire_timeout_checked`](crate::threading::Lock::acquire_timeout_checked)) came
/// back without the lock.
///
/// With the `deadlock-detection` feature off, it is always [`Timeout`](AcquireError::Timeout).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::AcquireError;
/// use spindle_sync::threading::Lock;
///
/// let lock = Lock::new();
/// assert_eq!(lock.acquire_timeout_checked(Duration::from_millis(1)), Ok(()));
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         // Held by the main thread, which is not waiting: a plain timeout.
///         let err = lock.acquire_timeout_checked(Duration::from_millis(1)).unwrap_err();
///         assert_eq!(err, AcquireError::Timeout);
///         assert_eq!(err.to_string(), "timed out waiting for the lock");
///     });
/// });
/// lock.release().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcquireError {
    /// The time ran out and the wait was not part of a deadlock the detector could see.
    #[error("timed out waiting for the lock")]
    Timeout,
    /// The time ran out while the wait ran into a cycle: the cycle is inside. It includes
    /// the calling thread unless that thread was only queued behind a deadlock of others.
    #[error("timed out in a deadlock: {0}")]
    Deadlock(DeadlockCycle),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_starts_at_the_first_caller_frame() {
        let text = "   0: spindle_sync::threading::deadlock::graph::capture
             at ./graph.rs:1:1
   1: core::bool::<impl bool>::then
   2: <spindle_sync::threading::raw_mutex::RawMutex as spindle_sync::threading::raw_lock::RawLock>::acquire_until
             at ./raw_mutex.rs:2:2
   3: my_app::transfer
             at ./src/main.rs:10:5
   4: main";
        let trimmed = trim_frames(text);
        assert!(trimmed.starts_with("   3: my_app::transfer"), "{trimmed}");
        assert!(trimmed.ends_with("   4: main"));
    }

    #[test]
    fn a_backtrace_without_caller_frames_is_kept_whole() {
        let text = "   0: core::ops::function::FnOnce::call_once";
        assert_eq!(trim_frames(text), text);
    }
}
