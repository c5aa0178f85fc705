//! Collections benches: spindle's `ThreadSafeDict` beside dashmap, `parking_lot::RwLock<HashMap>`
//! and `std::sync::Mutex<HashMap>`, and `ThreadSafeCache` beside the `lru` crate behind a mutex
//! (what it wraps), moka and quick_cache. Python twin: `benches/python/bench_collections.py`
//! (a `dict` guarded by `threading.Lock`, and `functools.lru_cache`), same group names.
//!
//! Groups (every map and cache uses `u64` keys and values and std's `RandomState` for maps):
//! - `dict_read_heavy`: 2 threads over a map of 4096 keys, 95% `get`, 5% `insert`.
//! - `dict_write_heavy`: 2 threads, 80% atomic increment of a counter (spindle `upsert`,
//!   dashmap `entry`, the locked maps `entry` under the write lock), 20% `get`.
//! - `dict_get_or_insert`: 2 threads, `setdefault`-style `get_or_insert_with` on a fresh map
//!   each sample over 16384 keys (misses first, then hits).
//! - `cache_get_hit`: one thread, `get` of keys that are all cached (capacity 4096, 1024 keys).
//! - `cache_get_hit_2threads`: the same from 2 threads at once.
//!
//! Two-thread groups use `iter_custom`: the two threads share `iters` operations, released
//! together by a barrier; the time is the wall time from the first one's start to the last
//! one's end, so figures are time per operation of the pair (lower is better; perfect scaling
//! halves the one-thread figure).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use spindle::collections::{ThreadSafeCache, ThreadSafeDict};

const THREADS: u64 = 2;
const READ_KEYS: u64 = 4096;
const INSERT_KEYS: u64 = 16_384;
const CACHE_CAPACITY: usize = 4096;
const CACHE_KEYS: u64 = 1024;

/// A cheap pseudo-random key stream (xorshift), different per thread.
#[inline]
fn next_key(state: &mut u64, range: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % range
}

/// Runs `iters` calls of `op(thread, i, &mut rng)` split over `THREADS` threads released
/// together; returns the wall time from the first thread's start to the last one's end. Each
/// worker reads the clock itself: with two cores and three threads, the spawning thread may
/// not run again in time to start a clock of its own.
fn on_threads(iters: u64, op: impl Fn(u64, u64, &mut u64) + Sync) -> Duration {
    let start_line = Barrier::new(THREADS as usize);
    let op = &op;
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let start_line = &start_line;
                s.spawn(move || {
                    let share = iters / THREADS + u64::from(t < iters % THREADS);
                    let mut rng =
                        0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0xA24B_AED4_963E_E407);
                    start_line.wait();
                    let begin = Instant::now();
                    for i in 0..share {
                        op(t, i, &mut rng);
                    }
                    (begin, Instant::now())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}

/// The operations the dict groups need, implemented by each map.
trait Map: Sync + Sized {
    fn with_keys(n: u64) -> Self;
    fn get(&self, k: u64) -> Option<u64>;
    fn insert(&self, k: u64, v: u64);
    fn increment(&self, k: u64);
    fn get_or_insert(&self, k: u64) -> u64;
}

impl Map for ThreadSafeDict<u64, u64> {
    fn with_keys(n: u64) -> Self {
        (0..n).map(|k| (k, k)).collect()
    }
    fn get(&self, k: u64) -> Option<u64> {
        ThreadSafeDict::get(self, &k)
    }
    fn insert(&self, k: u64, v: u64) {
        ThreadSafeDict::insert(self, k, v);
    }
    fn increment(&self, k: u64) {
        self.upsert(k, || 0, |v| *v += 1);
    }
    fn get_or_insert(&self, k: u64) -> u64 {
        self.get_or_insert_with(k, || k * 2)
    }
}

impl Map for dashmap::DashMap<u64, u64> {
    fn with_keys(n: u64) -> Self {
        (0..n).map(|k| (k, k)).collect()
    }
    fn get(&self, k: u64) -> Option<u64> {
        dashmap::DashMap::get(self, &k).map(|r| *r)
    }
    fn insert(&self, k: u64, v: u64) {
        dashmap::DashMap::insert(self, k, v);
    }
    fn increment(&self, k: u64) {
        *self.entry(k).or_insert(0) += 1;
    }
    fn get_or_insert(&self, k: u64) -> u64 {
        *self.entry(k).or_insert_with(|| k * 2)
    }
}

impl Map for parking_lot::RwLock<HashMap<u64, u64>> {
    fn with_keys(n: u64) -> Self {
        parking_lot::RwLock::new((0..n).map(|k| (k, k)).collect())
    }
    fn get(&self, k: u64) -> Option<u64> {
        self.read().get(&k).copied()
    }
    fn insert(&self, k: u64, v: u64) {
        self.write().insert(k, v);
    }
    fn increment(&self, k: u64) {
        *self.write().entry(k).or_insert(0) += 1;
    }
    fn get_or_insert(&self, k: u64) -> u64 {
        if let Some(v) = self.read().get(&k) {
            return *v;
        }
        *self.write().entry(k).or_insert_with(|| k * 2)
    }
}

impl Map for Mutex<HashMap<u64, u64>> {
    fn with_keys(n: u64) -> Self {
        Mutex::new((0..n).map(|k| (k, k)).collect())
    }
    fn get(&self, k: u64) -> Option<u64> {
        self.lock().unwrap().get(&k).copied()
    }
    fn insert(&self, k: u64, v: u64) {
        self.lock().unwrap().insert(k, v);
    }
    fn increment(&self, k: u64) {
        *self.lock().unwrap().entry(k).or_insert(0) += 1;
    }
    fn get_or_insert(&self, k: u64) -> u64 {
        *self.lock().unwrap().entry(k).or_insert_with(|| k * 2)
    }
}

fn read_heavy<M: Map>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let map = M::with_keys(READ_KEYS);
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            on_threads(iters, |_, i, rng| {
                let k = next_key(rng, READ_KEYS);
                if i % 20 == 0 {
                    map.insert(k, i);
                } else {
                    black_box(map.get(k));
                }
            })
        })
    });
}

fn write_heavy<M: Map>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let map = M::with_keys(READ_KEYS);
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            on_threads(iters, |_, i, rng| {
                let k = next_key(rng, READ_KEYS);
                if i % 5 == 0 {
                    black_box(map.get(k));
                } else {
                    map.increment(k);
                }
            })
        })
    });
}

fn get_or_insert<M: Map>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let map = M::with_keys(0);
            let elapsed = on_threads(iters, |_, _, rng| {
                black_box(map.get_or_insert(next_key(rng, INSERT_KEYS)));
            });
            drop(map); // freeing the map is not timed
            elapsed
        })
    });
}

fn dict_read_heavy(c: &mut Criterion) {
    let mut g = c.benchmark_group("dict_read_heavy");
    g.throughput(Throughput::Elements(1));
    read_heavy::<ThreadSafeDict<u64, u64>>(&mut g, "spindle");
    read_heavy::<dashmap::DashMap<u64, u64>>(&mut g, "dashmap");
    read_heavy::<parking_lot::RwLock<HashMap<u64, u64>>>(&mut g, "parking_lot");
    read_heavy::<Mutex<HashMap<u64, u64>>>(&mut g, "std");
    g.finish();
}

fn dict_write_heavy(c: &mut Criterion) {
    let mut g = c.benchmark_group("dict_write_heavy");
    g.throughput(Throughput::Elements(1));
    write_heavy::<ThreadSafeDict<u64, u64>>(&mut g, "spindle");
    write_heavy::<dashmap::DashMap<u64, u64>>(&mut g, "dashmap");
    write_heavy::<parking_lot::RwLock<HashMap<u64, u64>>>(&mut g, "parking_lot");
    write_heavy::<Mutex<HashMap<u64, u64>>>(&mut g, "std");
    g.finish();
}

fn dict_get_or_insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("dict_get_or_insert");
    g.throughput(Throughput::Elements(1));
    get_or_insert::<ThreadSafeDict<u64, u64>>(&mut g, "spindle");
    get_or_insert::<dashmap::DashMap<u64, u64>>(&mut g, "dashmap");
    get_or_insert::<parking_lot::RwLock<HashMap<u64, u64>>>(&mut g, "parking_lot");
    get_or_insert::<Mutex<HashMap<u64, u64>>>(&mut g, "std");
    g.finish();
}

/// The operation the cache groups need.
trait Cache: Sync + Sized {
    fn filled() -> Self;
    fn get(&self, k: u64) -> Option<u64>;
}

impl Cache for ThreadSafeCache<u64, u64> {
    fn filled() -> Self {
        let c = ThreadSafeCache::new(CACHE_CAPACITY);
        (0..CACHE_KEYS).for_each(|k| {
            c.insert(k, k);
        });
        c
    }
    fn get(&self, k: u64) -> Option<u64> {
        ThreadSafeCache::get(self, &k)
    }
}

impl Cache for parking_lot::Mutex<lru::LruCache<u64, u64>> {
    fn filled() -> Self {
        let cap = NonZeroUsize::new(CACHE_CAPACITY).unwrap();
        let mut c = lru::LruCache::new(cap);
        (0..CACHE_KEYS).for_each(|k| {
            c.put(k, k);
        });
        parking_lot::Mutex::new(c)
    }
    fn get(&self, k: u64) -> Option<u64> {
        self.lock().get(&k).copied()
    }
}

impl Cache for moka::sync::Cache<u64, u64> {
    fn filled() -> Self {
        let c = moka::sync::Cache::new(CACHE_CAPACITY as u64);
        (0..CACHE_KEYS).for_each(|k| c.insert(k, k));
        c.run_pending_tasks();
        c
    }
    fn get(&self, k: u64) -> Option<u64> {
        moka::sync::Cache::get(self, &k)
    }
}

impl Cache for quick_cache::sync::Cache<u64, u64> {
    fn filled() -> Self {
        let c = quick_cache::sync::Cache::new(CACHE_CAPACITY);
        (0..CACHE_KEYS).for_each(|k| c.insert(k, k));
        c
    }
    fn get(&self, k: u64) -> Option<u64> {
        quick_cache::sync::Cache::get(self, &k)
    }
}

fn cache_hit_one_thread<C: Cache>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let cache = C::filled();
    let mut rng = 0x2545_F491_4F6C_DD1D_u64;
    g.bench_function(name, |b| {
        b.iter(|| black_box(cache.get(next_key(&mut rng, CACHE_KEYS))))
    });
    assert!(
        cache.get(1).is_some(),
        "{name}: the bench must measure hits"
    );
}

fn cache_hit_two_threads<C: Cache>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let cache = C::filled();
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            on_threads(iters, |_, _, rng| {
                black_box(cache.get(next_key(rng, CACHE_KEYS)));
            })
        })
    });
}

fn cache_get_hit(c: &mut Criterion) {
    let mut g = c.benchmark_group("cache_get_hit");
    g.throughput(Throughput::Elements(1));
    cache_hit_one_thread::<ThreadSafeCache<u64, u64>>(&mut g, "spindle");
    cache_hit_one_thread::<parking_lot::Mutex<lru::LruCache<u64, u64>>>(&mut g, "lru");
    cache_hit_one_thread::<moka::sync::Cache<u64, u64>>(&mut g, "moka");
    cache_hit_one_thread::<quick_cache::sync::Cache<u64, u64>>(&mut g, "quick_cache");
    g.finish();
}

fn cache_get_hit_2threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("cache_get_hit_2threads");
    g.throughput(Throughput::Elements(1));
    cache_hit_two_threads::<ThreadSafeCache<u64, u64>>(&mut g, "spindle");
    cache_hit_two_threads::<parking_lot::Mutex<lru::LruCache<u64, u64>>>(&mut g, "lru");
    cache_hit_two_threads::<moka::sync::Cache<u64, u64>>(&mut g, "moka");
    cache_hit_two_threads::<quick_cache::sync::Cache<u64, u64>>(&mut g, "quick_cache");
    g.finish();
}

criterion_group!(
    benches,
    dict_read_heavy,
    dict_write_heavy,
    dict_get_or_insert,
    cache_get_hit,
    cache_get_hit_2threads
);
criterion_main!(benches);
