//! [`CacheInfo`]: the counters of a [`ThreadSafeCache`](super::ThreadSafeCache), Python's
//! `cache_info()`.

/// Counters and size of a [`ThreadSafeCache`](super::ThreadSafeCache), read at one instant by
/// [`cache_info`](super::ThreadSafeCache::cache_info).
///
/// Python's `CacheInfo(hits, misses, maxsize, currsize)` with two more counters. A lookup
/// that found a live entry is a hit; one that did not is a miss, and for
/// `get_or_insert_with` a miss is exactly one run of the closure. A thread that waited for
/// another thread's computation and received its value counts as a hit.
///
/// # Examples
///
/// ```
/// use spindle_sync::collections::ThreadSafeCache;
///
/// let cache = ThreadSafeCache::new(1);
/// cache.get_or_insert_with(1, || "one");
/// cache.get_or_insert_with(1, || "one");
/// cache.get_or_insert_with(2, || "two"); // evicts 1
/// let info = cache.cache_info();
/// assert_eq!((info.hits, info.misses, info.evictions), (1, 2, 1));
/// assert_eq!((info.len, info.capacity), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct CacheInfo {
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found none (absent or expired).
    pub misses: u64,
    /// Live entries dropped to make room for new ones (least recently used first).
    pub evictions: u64,
    /// Expired entries removed, when found or purged.
    pub expirations: u64,
    /// Entries stored now, expired ones not yet removed included: Python's `currsize`.
    pub len: usize,
    /// Most entries the cache holds: Python's `maxsize`.
    pub capacity: usize,
}
