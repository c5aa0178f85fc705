//! [`ThreadSafeDict`]: a hash map that threads share by reference, with atomic compound
//! operations and consistent snapshots.
//!
//! Longer than 600 lines because each of its thirty-odd methods carries its own runnable
//! example; the logic is a thin layer over [`Shards`](super::shards::Shards).

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use hashbrown::hash_table::Entry;

use super::shards::Shards;

/// A hash map that threads share by reference: Python's `dict` guarded by a lock, but sharded
/// so that threads working on different keys rarely wait for each other.
///
/// Every method takes `&self`; share the dict in an [`Arc`](std::sync::Arc) or borrow it in
/// [`std::thread::scope`]. Each single-key method is atomic: `d[k] = v` is
/// [`insert`](Self::insert), `d.get(k)` is [`get`](Self::get), `d.pop(k, None)` is
/// [`pop`](Self::pop), `d.setdefault(k, v)` is [`get_or_insert_with`](Self::get_or_insert_with),
/// and the read-modify-write that Python needs `with lock:` for (`d[k] = d.get(k, 0) + 1`) is
/// one call to [`update`](Self::update), [`upsert`](Self::upsert) or
/// [`with_mut`](Self::with_mut). Whole-map operations ([`items`](Self::items),
/// [`keys`](Self::keys), [`values`](Self::values), [`snapshot`](Self::snapshot),
/// [`len`](Self::len), [`for_each`](Self::for_each), and the changes [`extend`](Self::extend),
/// [`retain`](Self::retain), [`clear`](Self::clear)) see or change the map as of one instant.
///
/// Inside, keys are spread over a power-of-two number of shards (four per CPU), each a
/// hashbrown table behind a `parking_lot` reader-writer lock; a key is hashed once. A
/// single-key call locks one shard; a whole-map call locks every shard at once (reads share,
/// so concurrent snapshots do not wait for each other, but writers wait while a snapshot
/// copies). Locks do not poison: a panicking closure leaves the map as it was before the call.
///
/// Closures given to [`with`](Self::with), [`with_mut`](Self::with_mut),
/// [`update`](Self::update), [`upsert`](Self::upsert), [`remove_if`](Self::remove_if),
/// [`get_or_insert_with`](Self::get_or_insert_with), [`retain`](Self::retain) and
/// [`for_each`](Self::for_each) run while the shard (or every shard) is locked: they must not
/// call back into the same dict, or the thread deadlocks on itself, as with dashmap. For a
/// slow computation use [`ThreadSafeCache::get_or_insert_with`](super::ThreadSafeCache::get_or_insert_with),
/// which computes outside its lock.
///
/// # Differences from Python
///
/// - Values come back cloned ([`get`](Self::get), [`items`](Self::items)): a Rust map cannot
///   lend a reference past its lock. Store `Arc<T>` for large values, or read in place with
///   [`with`](Self::with).
/// - Missing keys are `None`, not `KeyError`; `d[k]` has no panicking twin.
/// - Iteration order is arbitrary, not insertion order; [`items`](Self::items) is a snapshot,
///   so changing the dict while looping over it is allowed (Python raises `RuntimeError`).
/// - Python's `dict.update(other)` is [`extend`](Self::extend); `update` here is the atomic
///   read-modify-write of one key.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use spindle_sync::collections::ThreadSafeDict;
///
/// let words = ThreadSafeDict::new();
/// let text = ["a b a", "b a c"];
/// thread::scope(|s| {
///     for line in text {
///         let words = &words;
///         s.spawn(move || {
///             for w in line.split(' ') {
///                 words.upsert(w, || 0, |n| *n += 1);
///             }
///         });
///     }
/// });
/// assert_eq!(words.get("a"), Some(3));
/// assert_eq!(words.get("b"), Some(2));
/// assert_eq!(words.len(), 3);
/// ```
#[doc(alias = "dict")]
#[doc(alias = "Dict")]
pub struct ThreadSafeDict<K, V, S = RandomState> {
    shards: Shards<K, V, S>,
}

impl<K, V> ThreadSafeDict<K, V, RandomState> {
    /// Creates an empty dict: Python's `{}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<String, i32> = ThreadSafeDict::new();
    /// assert!(d.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_capacity_and_hasher(0, RandomState::new())
    }

    /// Creates an empty dict with room for about `capacity` entries before it reallocates.
    ///
    /// The capacity is only a hint: one too large to allocate gives an empty dict that grows
    /// as needed, not a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::with_capacity(1000);
    /// d.insert(1, "one");
    /// assert_eq!(d.len(), 1);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K, V, S> ThreadSafeDict<K, V, S> {
    /// Creates an empty dict that hashes keys with `hasher`, as
    /// [`HashMap::with_hasher`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::BuildHasherDefault;
    /// use std::collections::hash_map::DefaultHasher;
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::with_hasher(BuildHasherDefault::<DefaultHasher>::default());
    /// d.insert("k", 1);
    /// assert_eq!(d.get("k"), Some(1));
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// Creates an empty dict with room for about `capacity` entries that hashes with `hasher`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::with_capacity_and_hasher(64, RandomState::new());
    /// d.insert(1u8, 2u8);
    /// assert_eq!(d.get(&1), Some(2));
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self {
            shards: Shards::new(capacity, hasher),
        }
    }

    /// The hasher this dict hashes keys with.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::BuildHasher;
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<u8, u8> = ThreadSafeDict::new();
    /// assert_eq!(d.hasher().hash_one(7u8), d.hasher().hash_one(7u8));
    /// ```
    pub fn hasher(&self) -> &S {
        &self.shards.hasher
    }

    /// Number of entries, counted with every shard locked at once, so the figure is exact for
    /// one instant: Python's `len(d)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("a", 1);
    /// d.insert("b", 2);
    /// assert_eq!(d.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shards.read_all().iter().map(|t| t.len()).sum()
    }

    /// Whether the dict has no entries: Python's `not d`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// assert!(d.is_empty());
    /// d.insert(1, 1);
    /// assert!(!d.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry at once (no snapshot sees half of them gone): Python's `d.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = (0..10).map(|i| (i, i)).collect();
    /// d.clear();
    /// assert!(d.is_empty());
    /// ```
    pub fn clear(&self) {
        for mut table in self.shards.write_all() {
            table.clear();
        }
    }

    /// Calls `f` on every entry while the whole map is held still: a consistent read that
    /// clones nothing.
    ///
    /// `f` runs with every shard read-locked, so other readers go on but writers wait; keep it
    /// short and do not touch this dict from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = [("a", 1), ("b", 2)].into_iter().collect();
    /// let mut total = 0;
    /// d.for_each(|_, v| total += v);
    /// assert_eq!(total, 3);
    /// ```
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for table in self.shards.read_all() {
            for (k, v) in table.iter() {
                f(k, v);
            }
        }
    }

    /// Copies every key as of one instant: Python's `list(d.keys())`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = [("b", 2), ("a", 1)].into_iter().collect();
    /// let mut keys = d.keys();
    /// keys.sort();
    /// assert_eq!(keys, ["a", "b"]);
    /// ```
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        let tables = self.shards.read_all();
        let mut out = Vec::with_capacity(tables.iter().map(|t| t.len()).sum());
        out.extend(tables.iter().flat_map(|t| t.iter().map(|(k, _)| k.clone())));
        out
    }

    /// Copies every value as of one instant: Python's `list(d.values())`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = [("a", 1), ("b", 2)].into_iter().collect();
    /// assert_eq!(d.values().iter().sum::<i32>(), 3);
    /// ```
    pub fn values(&self) -> Vec<V>
    where
        V: Clone,
    {
        let tables = self.shards.read_all();
        let mut out = Vec::with_capacity(tables.iter().map(|t| t.len()).sum());
        out.extend(tables.iter().flat_map(|t| t.iter().map(|(_, v)| v.clone())));
        out
    }

    /// Copies every entry as of one instant: Python's `list(d.items())`.
    ///
    /// No entry written after the copy began is in it, and none written before is missing:
    /// every shard stays read-locked until the copy is complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("x", 10);
    /// for (k, v) in d.items() {
    ///     d.insert(k, v + 1); // changing the dict while looping is fine: `items` is a copy
    /// }
    /// assert_eq!(d.get("x"), Some(11));
    /// ```
    pub fn items(&self) -> Vec<(K, V)>
    where
        K: Clone,
        V: Clone,
    {
        let tables = self.shards.read_all();
        let mut out = Vec::with_capacity(tables.iter().map(|t| t.len()).sum());
        out.extend(tables.iter().flat_map(|t| t.iter().cloned()));
        out
    }

    /// Copies the whole dict, as of one instant, into a plain [`HashMap`] with the same
    /// hasher: Python's `dict(d)` or `d.copy()` taken under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = [(1, "one"), (2, "two")].into_iter().collect();
    /// let copy = d.snapshot();
    /// d.clear();
    /// assert_eq!(copy.len(), 2);
    /// assert_eq!(copy[&1], "one");
    /// ```
    pub fn snapshot(&self) -> HashMap<K, V, S>
    where
        K: Clone + Hash + Eq,
        V: Clone,
        S: Clone + BuildHasher,
    {
        let tables = self.shards.read_all();
        let len = tables.iter().map(|t| t.len()).sum();
        let mut out = HashMap::with_capacity_and_hasher(len, self.shards.hasher.clone());
        out.extend(tables.iter().flat_map(|t| t.iter().cloned()));
        out
    }

    /// Takes the entries out of a dict that is no longer shared, without cloning.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = [(1, vec![1u8; 4])].into_iter().collect();
    /// let plain = d.into_inner();
    /// assert_eq!(plain[&1].len(), 4);
    /// ```
    pub fn into_inner(self) -> HashMap<K, V, S>
    where
        K: Hash + Eq,
        S: Clone + BuildHasher,
    {
        let mut out = HashMap::with_hasher(self.shards.hasher.clone());
        for mut table in self.shards.write_all() {
            out.extend(table.drain());
        }
        out
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> ThreadSafeDict<K, V, S> {
    /// Stores `value` under `key` and returns the value it replaced: Python's `d[key] = value`
    /// (which discards the old value).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// assert_eq!(d.insert("k", 1), None);
    /// assert_eq!(d.insert("k", 2), Some(1));
    /// assert_eq!(d.get("k"), Some(2));
    /// ```
    #[doc(alias = "__setitem__")]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.shards.hash(&key);
        let mut table = self.shards.write(hash);
        match table.entry(hash, |(k, _)| *k == key, self.shards.rehash()) {
            Entry::Occupied(mut o) => Some(std::mem::replace(&mut o.get_mut().1, value)),
            Entry::Vacant(v) => {
                v.insert((key, value));
                None
            }
        }
    }

    /// A clone of the value under `key`, or `None`: Python's `d.get(key)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert(String::from("k"), 1);
    /// assert_eq!(d.get("k"), Some(1)); // look up a `String` key by `&str`
    /// assert_eq!(d.get("missing"), None);
    /// ```
    #[doc(alias = "__getitem__")]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.with(key, V::clone)
    }

    /// Runs `f` on the value under `key` without cloning it, and returns what `f` returns, or
    /// `None` when the key is absent.
    ///
    /// The key's shard is read-locked while `f` runs: other readers go on, writers to that
    /// shard wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("big", vec![0u8; 1 << 20]);
    /// assert_eq!(d.with("big", |v| v.len()), Some(1 << 20));
    /// assert_eq!(d.with("none", |v| v.len()), None);
    /// ```
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.shards.hash(key);
        let table = self.shards.read(hash);
        table
            .find(hash, |(k, _)| k.borrow() == key)
            .map(|(_, v)| f(v))
    }

    /// Runs `f` on the value under `key` with the key's shard write-locked, so the change is
    /// atomic; returns what `f` returns, or `None` (and `f` never runs) when the key is absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("log", vec!["start"]);
    /// let len = d.with_mut("log", |v| {
    ///     v.push("more");
    ///     v.len()
    /// });
    /// assert_eq!(len, Some(2));
    /// assert_eq!(d.with_mut("absent", |v| v.push("x")), None);
    /// ```
    pub fn with_mut<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.shards.hash(key);
        let mut table = self.shards.write(hash);
        table
            .find_mut(hash, |(k, _)| k.borrow() == key)
            .map(|(_, v)| f(v))
    }

    /// Whether `key` is present: Python's `key in d`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert(1, ());
    /// assert!(d.contains_key(&1));
    /// assert!(!d.contains_key(&2));
    /// ```
    #[doc(alias = "__contains__")]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with(key, |_| ()).is_some()
    }

    /// Removes `key` and returns its value, or `None` if it was absent: Python's
    /// `d.pop(key, None)`, and `del d[key]` when the result is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("k", 1);
    /// assert_eq!(d.pop("k"), Some(1));
    /// assert_eq!(d.pop("k"), None);
    /// ```
    #[doc(alias = "remove")]
    #[doc(alias = "__delitem__")]
    pub fn pop<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_if(key, |_| true)
    }

    /// Removes `key` only if `predicate` holds for its value, in one atomic step; returns the
    /// removed value.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("job", "running");
    /// assert_eq!(d.remove_if("job", |state| *state == "done"), None);
    /// d.insert("job", "done");
    /// assert_eq!(d.remove_if("job", |state| *state == "done"), Some("done"));
    /// assert!(d.is_empty());
    /// ```
    pub fn remove_if<Q>(&self, key: &Q, predicate: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.shards.hash(key);
        let mut table = self.shards.write(hash);
        let entry = table.find_entry(hash, |(k, _)| k.borrow() == key).ok()?;
        if predicate(&entry.get().1) {
            Some(entry.remove().0 .1)
        } else {
            None
        }
    }

    /// Returns the value under `key`, first storing `make()` there if the key is absent:
    /// Python's `d.setdefault(key, make())`, except that `make` runs only when needed.
    ///
    /// Atomic: when threads race on one absent key, `make` runs exactly once and every thread
    /// gets that value. It runs with the key's shard write-locked, so other keys of the shard
    /// wait for it; for slow computations prefer
    /// [`ThreadSafeCache::get_or_insert_with`](super::ThreadSafeCache::get_or_insert_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// assert_eq!(d.get_or_insert_with("k", || 1), 1);
    /// assert_eq!(d.get_or_insert_with("k", || unreachable!()), 1);
    /// ```
    #[doc(alias = "setdefault")]
    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        self.upsert(key, make, |v| v.clone())
    }

    /// Sets `key` to `f(current value)` in one atomic step and returns a clone of the new
    /// value; `f` sees `None` when the key is absent.
    ///
    /// Python's `with lock: d[key] = f(d.get(key))`. Under contention every update is applied:
    /// none is lost, as it can be with a separate `get` and `insert`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let hits = ThreadSafeDict::new();
    /// thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             for _ in 0..100 {
    ///                 hits.update("page", |n| n.copied().unwrap_or(0) + 1);
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(hits.get("page"), Some(400));
    /// ```
    pub fn update(&self, key: K, f: impl FnOnce(Option<&V>) -> V) -> V
    where
        V: Clone,
    {
        let hash = self.shards.hash(&key);
        let mut table = self.shards.write(hash);
        match table.entry(hash, |(k, _)| *k == key, self.shards.rehash()) {
            Entry::Occupied(mut o) => {
                let slot = &mut o.get_mut().1;
                *slot = f(Some(slot));
                slot.clone()
            }
            Entry::Vacant(v) => {
                let new = f(None);
                v.insert((key, new.clone()));
                new
            }
        }
    }

    /// Changes the value under `key` in place, first storing `default()` if the key is absent;
    /// one atomic step that clones nothing. Returns what `f` returns.
    ///
    /// Python's `with lock: d.setdefault(key, default()); f(d[key])`, the counter idiom
    /// `d[k] = d.get(k, 0) + 1` included.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let groups = ThreadSafeDict::new();
    /// for (key, item) in [("even", 2), ("odd", 1), ("even", 4)] {
    ///     groups.upsert(key, Vec::new, |v| v.push(item));
    /// }
    /// assert_eq!(groups.get("even"), Some(vec![2, 4]));
    /// let count = groups.upsert("odd", Vec::new, |v| v.len());
    /// assert_eq!(count, 1);
    /// ```
    pub fn upsert<R>(&self, key: K, default: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R) -> R {
        let hash = self.shards.hash(&key);
        let mut table = self.shards.write(hash);
        match table.entry(hash, |(k, _)| *k == key, self.shards.rehash()) {
            Entry::Occupied(mut o) => f(&mut o.get_mut().1),
            Entry::Vacant(v) => {
                let value = default();
                f(&mut v.insert((key, value)).into_mut().1)
            }
        }
    }

    /// Inserts every pair from `iter` at once: Python's `d.update(other)`.
    ///
    /// The pairs are gathered first, then stored with every shard write-locked, so no snapshot
    /// sees half of them. Later pairs win over earlier ones with the same key.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d = ThreadSafeDict::new();
    /// d.insert("a", 0);
    /// d.extend([("a", 1), ("b", 2)]);
    /// assert_eq!(d.get("a"), Some(1));
    /// assert_eq!(d.len(), 2);
    /// ```
    #[doc(alias = "update")]
    pub fn extend(&self, iter: impl IntoIterator<Item = (K, V)>) {
        // Run the caller's iterator before locking: it may be slow or even read this dict.
        let pairs: Vec<(u64, K, V)> = iter
            .into_iter()
            .map(|(k, v)| (self.shards.hash(&k), k, v))
            .collect();
        if pairs.is_empty() {
            return;
        }
        let mut tables = self.shards.write_all();
        for (hash, key, value) in pairs {
            let table = &mut tables[self.shards.index_of(hash)];
            match table.entry(hash, |(k, _)| *k == key, self.shards.rehash()) {
                Entry::Occupied(mut o) => o.get_mut().1 = value,
                Entry::Vacant(v) => {
                    v.insert((key, value));
                }
            }
        }
    }

    /// Keeps only the entries for which `keep` returns `true`, in one atomic step (every shard
    /// write-locked); `keep` may change the values it keeps.
    ///
    /// Python's `with lock: d = {k: v for k, v in d.items() if keep(k, v)}`, in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::collections::ThreadSafeDict;
    ///
    /// let d: ThreadSafeDict<_, _> = (1..=6).map(|i| (i, i * 10)).collect();
    /// d.retain(|k, _| k % 2 == 0);
    /// let mut keys = d.keys();
    /// keys.sort();
    /// assert_eq!(keys, [2, 4, 6]);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for mut table in self.shards.write_all() {
            table.retain(|(k, v)| keep(k, v));
        }
    }
}

impl<K, V> Default for ThreadSafeDict<K, V, RandomState> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for ThreadSafeDict<K, V, S> {
    /// Copies the dict as of one instant: Python's `d.copy()` under the lock.
    fn clone(&self) -> Self {
        let tables = self.shards.read_all();
        let copy = Self::with_capacity_and_hasher(0, self.shards.hasher.clone());
        // Same hasher and shard count, so each shard's entries belong in the same shard.
        for (mine, theirs) in copy.shards.write_all().iter_mut().zip(&tables) {
            (**mine).clone_from(theirs);
        }
        copy
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for ThreadSafeDict<K, V, RandomState> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let d = Self::new();
        d.extend(iter);
        d
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Clone> From<HashMap<K, V, S>> for ThreadSafeDict<K, V, S> {
    fn from(map: HashMap<K, V, S>) -> Self {
        let d = ThreadSafeDict::with_capacity_and_hasher(map.len(), map.hasher().clone());
        d.extend(map);
        d
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for ThreadSafeDict<K, V, S> {
    /// Prints the entries as of one instant, like Python's `repr(d)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables = self.shards.read_all();
        f.debug_map()
            .entries(tables.iter().flat_map(|t| t.iter().map(|(k, v)| (k, v))))
            .finish()
    }
}
