//! Where a cache reads the time: [`Clock`], with [`SystemClock`] (the real monotonic clock)
//! and [`ManualClock`] (moved by hand, so TTL tests need no sleep).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of monotonic time for [`ThreadSafeCache`](super::ThreadSafeCache)'s
/// time-to-live.
///
/// The cache reads it when it stores an entry with a TTL and when it finds one; entries
/// without a TTL never read the clock. Implement it to drive expiry from a simulated or
/// shared clock; [`ManualClock`] is the ready-made one for tests.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use spindle_sync::collections::{Clock, SystemClock};
///
/// let before = Instant::now();
/// assert!(SystemClock.now() >= before);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant. Must never go backwards.
    fn now(&self) -> Instant;
}

/// The real clock: [`Instant::now`]. The default of every cache.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::collections::{SystemClock, ThreadSafeCache};
///
/// let cache = ThreadSafeCache::builder(8)
///     .ttl(Duration::from_secs(60))
///     .clock(SystemClock)
///     .build();
/// cache.insert("k", 1);
/// assert_eq!(cache.get("k"), Some(1));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`advance`](ManualClock::advance) moves it: expiry tests
/// without sleeping.
///
/// Clones share one time, so a test keeps a clone and hands another to the cache.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::collections::{ManualClock, ThreadSafeCache};
///
/// let clock = ManualClock::new();
/// let cache = ThreadSafeCache::builder(8)
///     .ttl(Duration::from_secs(30))
///     .clock(clock.clone())
///     .build();
/// cache.insert("session", 7);
/// clock.advance(Duration::from_secs(29));
/// assert_eq!(cache.get("session"), Some(7));
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(cache.get("session"), None); // 30 s old: expired
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    /// Nanoseconds added to `start` so far; shared by clones.
    offset_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock that reads the real time of its creation until it is advanced.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.now(), clock.now());
    /// ```
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            offset_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves this clock and all its clones forward by `by` (saturating at about 584 years).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let t0 = clock.now();
    /// clock.clone().advance(Duration::from_millis(5));
    /// assert_eq!(clock.now() - t0, Duration::from_millis(5));
    /// ```
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(nanos))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = Duration::from_nanos(self.offset_nanos.load(Ordering::Acquire));
        // On platforms whose `Instant` cannot hold start + 584 years, stop at about 136
        // years, or at the start if even that does not fit: never panic.
        self.start
            .checked_add(offset)
            .or_else(|| self.start.checked_add(Duration::from_secs(u32::MAX.into())))
            .unwrap_or(self.start)
    }
}
