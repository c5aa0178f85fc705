//! [`CacheBuilder`]: capacity, default time-to-live and clock of a
//! [`ThreadSafeCache`](super::ThreadSafeCache).

use std::fmt;
use std::hash::Hash;
use std::time::Duration;

use super::cache::ThreadSafeCache;
use super::clock::{Clock, SystemClock};

/// Settings for a [`ThreadSafeCache`]; made by [`ThreadSafeCache::builder`].
///
/// Python's `functools.lru_cache(maxsize=capacity)`, plus a default time-to-live (none unless
/// [`ttl`](Self::ttl) is called) and the [`Clock`] it is measured with ([`SystemClock`]
/// unless [`clock`](Self::clock) is called). Building cannot fail.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::collections::ThreadSafeCache;
///
/// let cache = ThreadSafeCache::builder(1024)
///     .ttl(Duration::from_secs(300))
///     .build();
/// cache.insert(1, "one");
/// assert_eq!(cache.capacity(), 1024);
/// assert_eq!(cache.ttl(), Some(Duration::from_secs(300)));
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct CacheBuilder {
    pub(crate) capacity: usize,
    pub(crate) ttl: Option<Duration>,
    pub(crate) clock: Box<dyn Clock>,
}

impl CacheBuilder {
    /// Settings for a cache of `capacity` entries, no TTL, the system clock.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ttl: None,
            clock: Box::new(SystemClock),
        }
    }

    /// Every entry stored without its own TTL expires `ttl` after it was stored.
    ///
    /// A zero `ttl` makes entries expire at once (they are stored but never returned); one too
    /// large to add to the clock's time never expires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::builder(4).ttl(Duration::ZERO).build();
    /// cache.insert("k", 1);
    /// assert_eq!(cache.get("k"), None); // expired as soon as stored
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Measures time-to-live with `clock` instead of the system clock, for instance a
    /// [`ManualClock`](super::ManualClock) in tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::{ManualClock, ThreadSafeCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = ThreadSafeCache::builder(4)
    ///     .ttl(Duration::from_secs(1))
    ///     .clock(clock.clone())
    ///     .build();
    /// cache.insert("k", 1);
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(cache.get("k"), None);
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Creates the cache.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::builder(2).build();
    /// cache.insert("a", 1);
    /// assert_eq!(cache.get("a"), Some(1));
    /// ```
    pub fn build<K: Hash + Eq, V>(self) -> ThreadSafeCache<K, V> {
        ThreadSafeCache::from_builder(self)
    }
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("clock", &self.clock)
            .finish()
    }
}
