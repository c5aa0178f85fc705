//! The sharded table under [`ThreadSafeDict`](super::ThreadSafeDict): hashbrown tables, each
//! behind its own `parking_lot::RwLock`, picked by the key's hash.
//!
//! Layout follows dashmap (`DashMap::determine_shard`): the key is hashed once with the map's
//! `BuildHasher`; the bits just below the top seven (which hashbrown keeps for its control
//! bytes) choose the shard, and the same hash finds the slot inside it, so no key is hashed
//! twice. The shard count is a power of two, four per CPU, as in dashmap.
//!
//! Why not dashmap itself: a consistent snapshot needs every shard locked at the same time.
//! dashmap's public iterators lock one shard after another, and its `raw-api` hands out
//! `hashbrown::raw::RawTable`s that need `unsafe` to read. Here [`Shards::read_all`] and
//! [`Shards::write_all`] take every lock in index order (so two of them never deadlock each
//! other) and single-key operations take exactly one, so writers pay nothing for snapshots.

use std::hash::{BuildHasher, Hash};
use std::sync::OnceLock;

use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One shard: a hashbrown table of `(key, value)` pairs.
pub(crate) type Table<K, V> = HashTable<(K, V)>;

/// A shard's lock, on its own cache line so writers to different shards do not contend.
type Shard<K, V> = CachePadded<RwLock<Table<K, V>>>;

/// The shards of one dict and the hasher that spreads keys over them.
pub(crate) struct Shards<K, V, S> {
    /// The shards; their number is a power of two.
    shards: Box<[Shard<K, V>]>,
    /// `shards.len() - 1`; the length is a power of two.
    mask: usize,
    /// `log2(shards.len())`.
    bits: u32,
    /// Hashes keys, both to pick the shard and inside the table.
    pub(crate) hasher: S,
}

/// Four shards per CPU, rounded up to a power of two (dashmap's default), computed once.
fn default_shard_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        cpus.saturating_mul(4).next_power_of_two().min(1 << 12)
    })
}

impl<K, V, S> Shards<K, V, S> {
    /// Empty shards with room for about `capacity` entries in all. The capacity is a hint:
    /// one too large to allocate is ignored rather than a panic or an abort.
    pub(crate) fn new(capacity: usize, hasher: S) -> Self {
        let count = default_shard_count();
        let per_shard = capacity.div_ceil(count);
        let shards = (0..count)
            .map(|_| {
                let mut table = HashTable::new();
                // The table is empty, so the rehash function is never called.
                let _ = table.try_reserve(per_shard, |_: &(K, V)| 0);
                CachePadded::new(RwLock::new(table))
            })
            .collect();
        Self {
            shards,
            mask: count - 1,
            bits: count.trailing_zeros(),
            hasher,
        }
    }

    /// Index of the shard for `hash`: the bits just below hashbrown's top seven.
    #[inline]
    pub(crate) fn index_of(&self, hash: u64) -> usize {
        // `bits` is at most 12, so the shift stays within 57 - 12 .. 57.
        ((hash >> (57 - self.bits)) as usize) & self.mask
    }

    /// Read-locks the shard that owns `hash`.
    #[inline]
    pub(crate) fn read(&self, hash: u64) -> RwLockReadGuard<'_, Table<K, V>> {
        self.shards[self.index_of(hash)].read()
    }

    /// Write-locks the shard that owns `hash`.
    #[inline]
    pub(crate) fn write(&self, hash: u64) -> RwLockWriteGuard<'_, Table<K, V>> {
        self.shards[self.index_of(hash)].write()
    }

    /// Read-locks every shard, in index order, and holds them all: what the guards show is the
    /// whole map as of one instant.
    pub(crate) fn read_all(&self) -> Vec<RwLockReadGuard<'_, Table<K, V>>> {
        self.shards.iter().map(|s| s.read()).collect()
    }

    /// Write-locks every shard, in index order: for changes that must look atomic to a
    /// snapshot (`clear`, `extend`, `retain`).
    pub(crate) fn write_all(&self) -> Vec<RwLockWriteGuard<'_, Table<K, V>>> {
        self.shards.iter().map(|s| s.write()).collect()
    }

    /// Number of shards (tests use it to check the layout).
    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.shards.len()
    }
}

impl<K: Hash, V, S: BuildHasher> Shards<K, V, S> {
    /// The hash of `key` as both the shard index and the table use it.
    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Hashes a stored pair again; hashbrown calls this when a table grows.
    #[inline]
    pub(crate) fn rehash(&self) -> impl Fn(&(K, V)) -> u64 + '_ {
        move |(k, _)| self.hasher.hash_one(k)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::RandomState;

    use super::*;

    #[test]
    fn shard_count_is_a_power_of_two_and_indexes_stay_in_range() {
        let shards: Shards<u64, (), _> = Shards::new(0, RandomState::new());
        assert!(shards.count().is_power_of_two());
        for k in 0..10_000u64 {
            let h = shards.hash(&k);
            assert!(shards.index_of(h) < shards.count());
        }
    }

    #[test]
    fn keys_spread_over_every_shard() {
        let shards: Shards<u64, (), _> = Shards::new(0, RandomState::new());
        let mut seen = vec![false; shards.count()];
        for k in 0..10_000u64 {
            seen[shards.index_of(shards.hash(&k))] = true;
        }
        assert!(seen.iter().all(|&s| s), "some shard never chosen: {seen:?}");
    }
}
