//! [`ThreadSafeCache`]: a bounded least-recently-used cache with time-to-live, shared by
//! threads, whose `get_or_insert_with` computes each missing key once.
//!
//! Built on the `lru` crate's `LruCache` (a hash map threaded on a doubly linked list, the
//! classic O(1) LRU) behind one `parking_lot::Mutex`: exact LRU order needs every hit to move
//! its entry, so even reads change the structure. Capacity is enforced here (the `LruCache`
//! is unbounded) so that a capacity of zero can mean "store nothing", as in Python. Expiry is
//! lazy: an entry past its deadline is dropped when a lookup finds it, when it reaches the
//! LRU end, or on [`ThreadSafeCache::purge_expired`]. Computations in progress live in a
//! second map, key to [`Slot`], under the same mutex; see `inflight.rs`.
//!
//! Longer than 600 lines because each method carries its own runnable example.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

use super::cache_builder::CacheBuilder;
use super::cache_info::CacheInfo;
use super::clock::Clock;
use super::error::WaitTimeout;
use super::inflight::{Outcome, Slot};

/// A stored value and the instant it stops being returned (`None`: never).
struct Entry<V> {
    value: V,
    expires_at: Option<Instant>,
}

impl<V> Entry<V> {
    /// Whether the entry is past its deadline; reads the clock only if it has one.
    #[inline]
    fn is_expired(&self, clock: &dyn Clock) -> bool {
        self.expires_at.is_some_and(|at| clock.now() >= at)
    }
}

/// Everything the cache's mutex guards.
struct Inner<K, V> {
    /// Most recently used first; unbounded: [`ThreadSafeCache::store`] keeps it to capacity.
    entries: LruCache<K, Entry<V>>,
    /// Keys whose value a `get_or_insert_with` is computing now.
    computing: HashMap<K, Arc<Slot<V>>>,
    hits: u64,
    misses: u64,
    evictions: u64,
    expirations: u64,
}

impl<K: Hash + Eq, V> Inner<K, V> {
    /// Runs `f` on the live value under `key` and makes it the most recent; an expired entry
    /// is dropped and gives `None`. Counts no hit or miss.
    #[inline]
    fn live_with<Q, R>(
        &mut self,
        key: &Q,
        clock: &dyn Clock,
        f: impl FnOnce(&mut V) -> R,
    ) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.entries.get_mut(key) {
            None => return None,
            Some(e) if !e.is_expired(clock) => return Some(f(&mut e.value)),
            Some(_) => {}
        }
        self.entries.pop(key);
        self.expirations += 1;
        None
    }
}

/// Why `compute` returned no value.
enum Failed<E> {
    /// The closure failed; nothing was stored.
    Make(E),
    /// The deadline passed while another thread was computing.
    TimedOut,
}

/// A bounded cache of `capacity` entries that drops the least recently used one to make room,
/// with an optional time-to-live per entry: Python's `functools.lru_cache` as an object that
/// threads share.
///
/// Every method takes `&self` and is atomic. [`get`](Self::get) returns a clone of a live
/// value and makes it the most recently used; [`insert`](Self::insert) stores one (with the
/// cache's default TTL, or its own with [`insert_with_ttl`](Self::insert_with_ttl));
/// [`get_or_insert_with`](Self::get_or_insert_with) memoises: it returns the cached value or
/// computes, stores and returns a new one, running the closure **once per key** however many
/// threads ask at the same time, and outside the cache's lock, so other keys are served
/// meanwhile. [`cache_info`](Self::cache_info) reports hits and misses like Python's
/// `cache_info()`.
///
/// Time-to-live: an entry expires `ttl` after it was stored (reads do not extend it). An
/// expired entry is never returned; it is removed lazily, when a lookup finds it, when it is
/// the least recently used entry and room is needed, or by
/// [`purge_expired`](Self::purge_expired). Time comes from the cache's [`Clock`]
/// ([`SystemClock`](super::SystemClock) unless the builder sets one), so tests move a
/// [`ManualClock`](super::ManualClock) instead of sleeping.
///
/// Inside: the `lru` crate's `LruCache` behind one `parking_lot::Mutex`. Exact LRU order means
/// every hit moves its entry, so lookups serialise on that mutex (held for a hash lookup, a
/// list splice and a clone); see `docs/decisions.md` for why this is preferred to moka's or
/// quick_cache's approximate policies.
///
/// # Differences from Python
///
/// - A cache is an object you call, not a decorator: wrap the function body in
///   `cache.get_or_insert_with(args, || body)`.
/// - Python's `lru_cache` may run the function twice for one key when two threads miss at
///   once; here the second waits for the first and shares its result.
/// - Values come back cloned: store `Arc<T>` for large ones.
/// - TTL is an addition (Python's `lru_cache` has none).
///
/// # Examples
///
/// ```
/// use std::thread;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use spindle_sync::collections::ThreadSafeCache;
///
/// let squares = ThreadSafeCache::new(100);
/// let computed = AtomicUsize::new(0);
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for n in 0..10u64 {
///                 let sq = squares.get_or_insert_with(n, || {
///                     computed.fetch_add(1, Ordering::Relaxed);
///                     n * n
///                 });
///                 assert_eq!(sq, n * n);
///             }
///         });
///     }
/// });
/// assert_eq!(computed.load(Ordering::Relaxed), 10); // once per key, not per thread
/// let info = squares.cache_info();
/// assert_eq!((info.hits, info.misses), (30, 10));
/// ```
#[doc(alias = "lru_cache")]
#[doc(alias = "Cache")]
#[doc(alias = "LruCache")]
pub struct ThreadSafeCache<K, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    ttl: Option<Duration>,
    clock: Box<dyn Clock>,
}

impl ThreadSafeCache<(), ()> {
    /// Starts the settings of a cache holding at most `capacity` entries; add a default
    /// [`ttl`](CacheBuilder::ttl) or a [`clock`](CacheBuilder::clock), then
    /// [`build`](CacheBuilder::build).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::builder(10)
    ///     .ttl(Duration::from_secs(60))
    ///     .build();
    /// cache.insert("k", "v");
    /// assert_eq!(cache.get("k"), Some("v"));
    /// ```
    pub fn builder(capacity: usize) -> CacheBuilder {
        CacheBuilder::new(capacity)
    }
}

impl<K: Hash + Eq, V> ThreadSafeCache<K, V> {
    /// Creates a cache holding at most `capacity` entries, with no time-to-live: Python's
    /// `functools.lru_cache(maxsize=capacity)`.
    ///
    /// A capacity of zero stores nothing (every lookup misses), as `maxsize=0` does in Python;
    /// `get_or_insert_with` still shares one computation among threads that ask at once.
    /// `usize::MAX` is Python's `maxsize=None`: no bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(2);
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// cache.get("a"); // "a" is now the most recently used
    /// cache.insert("c", 3); // full: drops "b", the least recently used
    /// assert_eq!(cache.get("b"), None);
    /// assert_eq!(cache.get("a"), Some(1));
    /// ```
    pub fn new(capacity: usize) -> Self {
        CacheBuilder::new(capacity).build()
    }

    /// The cache a builder describes.
    pub(crate) fn from_builder(builder: CacheBuilder) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::unbounded(),
                computing: HashMap::new(),
                hits: 0,
                misses: 0,
                evictions: 0,
                expirations: 0,
            }),
            capacity: builder.capacity,
            ttl: builder.ttl,
            clock: builder.clock,
        }
    }

    /// Most entries the cache holds: Python's `maxsize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache: ThreadSafeCache<u8, u8> = ThreadSafeCache::new(16);
    /// assert_eq!(cache.capacity(), 16);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The time-to-live of entries stored without their own, if the cache has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache: ThreadSafeCache<u8, u8> = ThreadSafeCache::new(16);
    /// assert_eq!(cache.ttl(), None);
    /// ```
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// Number of entries stored, counting expired ones not yet removed: Python's `currsize`.
    /// Call [`purge_expired`](Self::purge_expired) first for the live count.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(2);
    /// for k in 0..5 {
    ///     cache.insert(k, ());
    /// }
    /// assert_eq!(cache.len(), 2); // never above capacity
    /// ```
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether nothing is stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(2);
    /// assert!(cache.is_empty());
    /// cache.insert(1, 1);
    /// assert!(!cache.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A clone of the live value under `key`, made the most recently used; counts a hit, or a
    /// miss when the key is absent or expired (an expired entry is removed).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(8);
    /// cache.insert(String::from("k"), 1);
    /// assert_eq!(cache.get("k"), Some(1));
    /// assert_eq!(cache.get("nope"), None);
    /// let info = cache.cache_info();
    /// assert_eq!((info.hits, info.misses), (1, 1));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let mut inner = self.inner.lock();
        let found = inner.live_with(key, &*self.clock, |v| v.clone());
        if found.is_some() {
            inner.hits += 1;
        } else {
            inner.misses += 1;
        }
        found
    }

    /// A clone of the live value under `key`, leaving its recency and the counters alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(2);
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// assert_eq!(cache.peek("a"), Some(1)); // "a" stays least recently used
    /// cache.insert("c", 3);
    /// assert_eq!(cache.peek("a"), None);
    /// assert_eq!(cache.cache_info().hits, 0);
    /// ```
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let inner = self.inner.lock();
        let entry = inner.entries.peek(key)?;
        (!entry.is_expired(&*self.clock)).then(|| entry.value.clone())
    }

    /// Whether a live entry is stored under `key`; like [`peek`](Self::peek), it changes no
    /// recency and no counter.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(2);
    /// cache.insert(1, "one");
    /// assert!(cache.contains_key(&1));
    /// assert!(!cache.contains_key(&2));
    /// ```
    #[doc(alias = "__contains__")]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = self.inner.lock();
        inner
            .entries
            .peek(key)
            .is_some_and(|e| !e.is_expired(&*self.clock))
    }

    /// Stores `value` under `key` with the cache's default TTL, as the most recently used
    /// entry; returns the live value it replaced. When the cache is full and `key` is new, the
    /// least recently used entry is dropped first.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// assert_eq!(cache.insert("k", 1), None);
    /// assert_eq!(cache.insert("k", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let mut inner = self.inner.lock();
        self.store(&mut inner, key, value, self.ttl)
    }

    /// Stores `value` under `key` to expire `ttl` from now, whatever the cache's default;
    /// returns the live value it replaced. A zero `ttl` stores an entry that is never
    /// returned; one too large to add to the clock's time never expires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::{ManualClock, ThreadSafeCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = ThreadSafeCache::builder(4).clock(clock.clone()).build();
    /// cache.insert_with_ttl("token", 42, Duration::from_secs(10));
    /// cache.insert("forever", 1); // the cache has no default TTL
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(cache.get("token"), None);
    /// assert_eq!(cache.get("forever"), Some(1));
    /// ```
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) -> Option<V> {
        let mut inner = self.inner.lock();
        self.store(&mut inner, key, value, Some(ttl))
    }

    /// Removes `key` and returns its value if it was live: Python's `dict.pop(key, None)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert("k", 1);
    /// assert_eq!(cache.pop("k"), Some(1));
    /// assert_eq!(cache.pop("k"), None);
    /// ```
    #[doc(alias = "remove")]
    pub fn pop<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut inner = self.inner.lock();
        let entry = inner.entries.pop(key)?;
        if entry.is_expired(&*self.clock) {
            inner.expirations += 1;
            None
        } else {
            Some(entry.value)
        }
    }

    /// Changes the live value under `key` in place, atomically, and makes it the most
    /// recently used; returns what `f` returns, or `None` (and `f` never runs) if there is no
    /// live entry. The entry keeps its expiry time; counters do not change.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert("visits", 1);
    /// assert_eq!(cache.update("visits", |n| { *n += 1; *n }), Some(2));
    /// assert_eq!(cache.update("other", |n| *n), None);
    /// ```
    pub fn update<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.lock().live_with(key, &*self.clock, f)
    }

    /// Returns the live value under `key`, or computes it with `make`, stores it (default TTL)
    /// and returns it: memoisation, Python's `lru_cache`-decorated call.
    ///
    /// `make` runs without the cache's lock held, so other keys are served meanwhile. When
    /// several threads miss the same key at once, one runs `make` and the others wait for its
    /// value: `make` runs once per missing key. If `make` panics, the panic goes to its caller,
    /// nothing is stored, and one of the waiting threads computes instead.
    ///
    /// `make` may use the cache for other keys (memoised recursion works), but two
    /// computations that each wait for the other's key wait forever; bound such waits with
    /// [`get_or_insert_with_timeout`](Self::get_or_insert_with_timeout).
    ///
    /// # Panics
    ///
    /// If `make` itself asks this cache for the key it is computing (the call could never
    /// finish), and whenever `make` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// fn slow_square(n: u64) -> u64 { n * n }
    ///
    /// let cache = ThreadSafeCache::new(128);
    /// assert_eq!(cache.get_or_insert_with(12, || slow_square(12)), 144);
    /// assert_eq!(cache.get_or_insert_with(12, || unreachable!("cached")), 144);
    /// ```
    #[doc(alias = "setdefault")]
    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V
    where
        K: Clone,
        V: Clone,
    {
        match self.compute(key, None, || Ok::<V, Infallible>(make())) {
            Ok(value) => value,
            Err(Failed::Make(never)) => match never {},
            Err(Failed::TimedOut) => unreachable!("no deadline was set"),
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a computation that can fail:
    /// an `Err` from `make` is returned and nothing is stored (failures are not cached), and
    /// a thread that was waiting on this computation tries again itself.
    ///
    /// # Errors
    ///
    /// Whatever `make` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(8);
    /// let parsed = cache.try_get_or_insert_with("42", || "42".parse::<i32>());
    /// assert_eq!(parsed, Ok(42));
    /// assert!(cache.try_get_or_insert_with("x", || "x".parse::<i32>()).is_err());
    /// assert!(!cache.contains_key("x")); // the failure was not cached
    /// ```
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Clone,
        V: Clone,
    {
        match self.compute(key, None, make) {
            Ok(value) => Ok(value),
            Err(Failed::Make(e)) => Err(e),
            Err(Failed::TimedOut) => unreachable!("no deadline was set"),
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), but waits at most `timeout` for
    /// another thread that is computing the same key.
    ///
    /// The timeout bounds only that wait, measured on the real clock; once this thread runs
    /// `make` itself, it runs to the end. A timeout too large to add to `Instant::now()` waits
    /// with no limit.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] if another thread was still computing the key when `timeout` ran out;
    /// this thread did not run `make`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(8);
    /// let v = cache.get_or_insert_with_timeout("k", Duration::from_secs(1), || 7);
    /// assert_eq!(v, Ok(7));
    /// ```
    pub fn get_or_insert_with_timeout(
        &self,
        key: K,
        timeout: Duration,
        make: impl FnOnce() -> V,
    ) -> Result<V, WaitTimeout>
    where
        K: Clone,
        V: Clone,
    {
        let deadline = Instant::now().checked_add(timeout);
        match self.compute(key, deadline, || Ok::<V, Infallible>(make())) {
            Ok(value) => Ok(value),
            Err(Failed::Make(never)) => match never {},
            Err(Failed::TimedOut) => Err(WaitTimeout),
        }
    }

    /// Copies the live keys, most recently used first, as of one instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// cache.get("a");
    /// assert_eq!(cache.keys(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        let inner = self.inner.lock();
        inner
            .entries
            .iter()
            .filter(|(_, e)| !e.is_expired(&*self.clock))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Copies the live entries, most recently used first, as of one instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// assert_eq!(cache.items(), [("b", 2), ("a", 1)]);
    /// ```
    pub fn items(&self) -> Vec<(K, V)>
    where
        K: Clone,
        V: Clone,
    {
        let inner = self.inner.lock();
        inner
            .entries
            .iter()
            .filter(|(_, e)| !e.is_expired(&*self.clock))
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }

    /// Removes every expired entry now and returns how many there were; afterwards
    /// [`len`](Self::len) counts live entries only. Takes time in proportion to the size.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert_with_ttl("gone", 1, Duration::ZERO);
    /// cache.insert("kept", 2);
    /// assert_eq!(cache.len(), 2);
    /// assert_eq!(cache.purge_expired(), 1);
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn purge_expired(&self) -> usize {
        let mut inner = self.inner.lock();
        let before = inner.entries.len();
        let now = self.clock.now();
        inner
            .entries
            .retain(|_, e| e.expires_at.is_none_or(|at| now < at));
        let purged = before - inner.entries.len();
        inner.expirations += purged as u64;
        purged
    }

    /// Removes every entry and zeroes the counters: Python's `cache_clear()`.
    /// Computations in progress go on and store their values when they finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.insert(1, 1);
    /// cache.get(&1);
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// assert_eq!(cache.cache_info().hits, 0);
    /// ```
    #[doc(alias = "cache_clear")]
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.entries.clear();
        inner.hits = 0;
        inner.misses = 0;
        inner.evictions = 0;
        inner.expirations = 0;
    }

    /// The counters and size as of one instant: Python's `cache_info()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeCache;
    ///
    /// let cache = ThreadSafeCache::new(4);
    /// cache.get_or_insert_with("k", || 1);
    /// cache.get("k");
    /// let info = cache.cache_info();
    /// assert_eq!((info.hits, info.misses, info.len, info.capacity), (1, 1, 1, 4));
    /// ```
    pub fn cache_info(&self) -> CacheInfo {
        let inner = self.inner.lock();
        CacheInfo {
            hits: inner.hits,
            misses: inner.misses,
            evictions: inner.evictions,
            expirations: inner.expirations,
            len: inner.entries.len(),
            capacity: self.capacity,
        }
    }

    /// Stores an entry, making room first; returns the live value it replaced.
    fn store(&self, inner: &mut Inner<K, V>, key: K, value: V, ttl: Option<Duration>) -> Option<V> {
        if self.capacity == 0 {
            return None;
        }
        let expires_at = ttl.and_then(|d| self.clock.now().checked_add(d));
        if inner.entries.len() >= self.capacity && !inner.entries.contains(&key) {
            if let Some((_, old)) = inner.entries.pop_lru() {
                if old.is_expired(&*self.clock) {
                    inner.expirations += 1;
                } else {
                    inner.evictions += 1;
                }
            }
        }
        let old = inner.entries.put(key, Entry { value, expires_at })?;
        (!old.is_expired(&*self.clock)).then_some(old.value)
    }

    /// The engine of the `get_or_insert_with` family: a hit, a wait on another thread's
    /// computation, or this thread's own computation.
    fn compute<E>(
        &self,
        key: K,
        deadline: Option<Instant>,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, Failed<E>>
    where
        K: Clone,
        V: Clone,
    {
        loop {
            let slot = {
                let mut inner = self.inner.lock();
                if let Some(v) = inner.live_with(&key, &*self.clock, |v| v.clone()) {
                    inner.hits += 1;
                    return Ok(v);
                }
                match inner.computing.get(&key) {
                    Some(slot) => Arc::clone(slot),
                    None => {
                        inner.misses += 1;
                        let slot = Arc::new(Slot::new());
                        inner.computing.insert(key.clone(), Arc::clone(&slot));
                        drop(inner);
                        return self.run(key, &slot, make);
                    }
                }
            };
            match slot.wait_until(deadline) {
                Outcome::Ready(v) => {
                    self.inner.lock().hits += 1;
                    return Ok(v);
                }
                Outcome::Retry => continue,
                Outcome::TimedOut => return Err(Failed::TimedOut),
            }
        }
    }

    /// Runs `make` for `key` as the owner of `slot`, then stores and publishes the value; if
    /// `make` fails or panics, the guard withdraws the slot so waiters start over.
    fn run<E>(
        &self,
        key: K,
        slot: &Arc<Slot<V>>,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, Failed<E>>
    where
        V: Clone,
    {
        let mut guard = Withdraw {
            cache: self,
            key: &key,
            slot,
            armed: true,
        };
        let value = make().map_err(Failed::Make)?;
        guard.armed = false;
        drop(guard);
        {
            let mut inner = self.inner.lock();
            inner.computing.remove(&key);
            self.store(&mut inner, key, value.clone(), self.ttl);
        }
        slot.finish(value.clone());
        Ok(value)
    }
}

/// Withdraws a computation that did not finish (its closure failed or panicked): removes the
/// slot from the cache's map and wakes its waiters so one of them computes instead.
struct Withdraw<'a, K: Hash + Eq, V: Clone> {
    cache: &'a ThreadSafeCache<K, V>,
    key: &'a K,
    slot: &'a Arc<Slot<V>>,
    armed: bool,
}

impl<K: Hash + Eq, V: Clone> Drop for Withdraw<'_, K, V> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        {
            let mut inner = self.cache.inner.lock();
            if inner
                .computing
                .get(self.key)
                .is_some_and(|s| Arc::ptr_eq(s, self.slot))
            {
                inner.computing.remove(self.key);
            }
        }
        self.slot.abandon();
    }
}

impl<K: Hash + Eq, V> fmt::Debug for ThreadSafeCache<K, V> {
    /// Prints the settings and counters, not the entries (which need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("ThreadSafeCache")
            .field("capacity", &self.capacity)
            .field("len", &inner.entries.len())
            .field("ttl", &self.ttl)
            .field("hits", &inner.hits)
            .field("misses", &inner.misses)
            .field("computing", &inner.computing.len())
            .field("clock", &self.clock)
            .finish()
    }
}
