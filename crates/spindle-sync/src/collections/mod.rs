//! Thread-safe collections: Python's `dict`, `list` and `functools.lru_cache` as objects that
//! threads share, each operation atomic, with closures for compound read-modify-write steps.
//!
//! Maps: [`ThreadSafeDict`] (sharded hash map; consistent snapshots).
//! Sequences: [`ThreadSafeList`].
//! Caches: [`ThreadSafeCache`] (bounded LRU with time-to-live; computes each missing key once),
//! [`CacheBuilder`], [`CacheInfo`]; clocks [`Clock`], [`SystemClock`], [`ManualClock`].
//! Errors: [`IndexError`] (a list position out of range), [`WaitTimeout`].
//!
//! Python code guards a plain `dict` with a `threading.Lock` and wraps every compound step in
//! `with lock:`. Here the lock is inside: each method is one atomic step, and the compound
//! steps are methods too (`update`, `upsert`, `get_or_insert_with`, `with_mut`). Whole-collection
//! reads (`items`, `keys`, `snapshot`) copy every entry as of one instant, so looping over them
//! while other threads write is safe. None of the locks poison.
//!
//! ```
//! use std::thread;
//! use spindle_sync::collections::{ThreadSafeCache, ThreadSafeDict, ThreadSafeList};
//!
//! let counts = ThreadSafeDict::new();
//! let log = ThreadSafeList::new();
//! let lengths = ThreadSafeCache::new(64);
//! thread::scope(|s| {
//!     for word in ["spin", "dle", "spin"] {
//!         let (counts, log, lengths) = (&counts, &log, &lengths);
//!         s.spawn(move || {
//!             counts.upsert(word, || 0, |n| *n += 1);
//!             log.append(word);
//!             lengths.get_or_insert_with(word, || word.len());
//!         });
//!     }
//! });
//! assert_eq!(counts.get("spin"), Some(2));
//! assert_eq!(log.len(), 3);
//! assert_eq!(lengths.get("dle"), Some(3));
//! ```
//!
//! Inside: `dict.rs` over `shards.rs` (hashbrown tables behind per-shard `parking_lot`
//! locks), `list.rs` (a `parking_lot::RwLock<Vec<T>>`), `cache.rs` (the `lru` crate behind a
//! mutex) with `inflight.rs` (one computation per key), `clock.rs`, `cache_builder.rs`,
//! `cache_info.rs`, `error.rs`.

mod cache;
mod cache_builder;
mod cache_info;
mod clock;
mod dict;
mod error;
mod inflight;
mod list;
mod shards;

pub use cache::ThreadSafeCache;
pub use cache_builder::CacheBuilder;
pub use cache_info::CacheInfo;
pub use clock::{Clock, ManualClock, SystemClock};
pub use dict::ThreadSafeDict;
pub use error::{IndexError, WaitTimeout};
pub use list::ThreadSafeList;
