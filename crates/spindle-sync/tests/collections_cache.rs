//! `ThreadSafeCache`: LRU eviction order, time-to-live on a `ManualClock` (no sleeping),
//! hit/miss counters like Python's `cache_info()`, `get_or_insert_with` computing once per key
//! under contention (waiting, timing out, failing and panicking owners), and a property test
//! against a model that keeps entries in recency order with their deadlines.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use spindle_sync::collections::{ManualClock, ThreadSafeCache, WaitTimeout};

const THREADS: usize = 4;
const KEYS: u64 = 200;
const LOOKUPS: u64 = 2_000;
/// The longest a test waits for another thread: a bug fails, never hangs.
const LIMIT: Duration = Duration::from_secs(20);
/// A wait that is expected to time out.
const SHORT: Duration = Duration::from_millis(20);

/// The owner's half of [`hold_owner`]: called inside the compute closure.
struct Inside {
    started: mpsc::Sender<()>,
    gate: mpsc::Receiver<()>,
}

impl Inside {
    /// Says the closure has started, then waits until the test releases it.
    fn enter_and_wait(&self) {
        self.started.send(()).unwrap();
        self.gate.recv_timeout(LIMIT).unwrap();
    }
}

/// The test's half of [`hold_owner`].
struct Outside {
    started: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

impl Outside {
    /// Returns once the owner is inside its closure.
    fn wait_started(&self) {
        self.started.recv_timeout(LIMIT).unwrap();
    }

    /// Lets the owner's closure finish.
    fn release(&self) {
        self.release.send(()).unwrap();
    }
}

/// Keeps an owner inside its compute closure until the test lets it go, with no sleep.
fn hold_owner() -> (Inside, Outside) {
    let (release, gate) = mpsc::channel();
    let (started_tx, started) = mpsc::channel();
    (
        Inside {
            started: started_tx,
            gate,
        },
        Outside { started, release },
    )
}

fn manual(
    capacity: usize,
    ttl: Option<Duration>,
) -> (ThreadSafeCache<&'static str, i32>, ManualClock) {
    let clock = ManualClock::new();
    let mut b = ThreadSafeCache::builder(capacity).clock(clock.clone());
    if let Some(ttl) = ttl {
        b = b.ttl(ttl);
    }
    (b.build(), clock)
}

#[test]
fn smoke() {
    let c = ThreadSafeCache::new(3);
    assert!(c.is_empty());
    assert_eq!(c.insert("a", 1), None);
    assert_eq!(c.get("a"), Some(1));
    assert_eq!(c.insert("a", 2), Some(1));
    assert!(c.contains_key("a"));
    assert_eq!(c.peek("a"), Some(2));
    assert_eq!(
        c.update("a", |v| {
            *v += 1;
            *v
        }),
        Some(3)
    );
    assert_eq!(c.pop("a"), Some(3));
    assert_eq!(c.pop("a"), None);
    assert_eq!(c.len(), 0);
    assert_eq!(c.capacity(), 3);
    assert_eq!(c.ttl(), None);
}

#[test]
fn evicts_least_recently_used() {
    let c = ThreadSafeCache::new(3);
    for k in ["a", "b", "c"] {
        c.insert(k, k.len());
    }
    c.get("a"); // order now a, c, b (most recent first)
    c.update("b", |_| ()); // b, a, c
    c.peek("c"); // peek changes nothing
    c.insert("d", 1); // drops c
    assert_eq!(c.keys(), ["d", "b", "a"]);
    c.insert("b", 9); // replacing promotes and evicts nothing
    c.insert("e", 1); // drops a
    assert_eq!(c.keys(), ["e", "b", "d"]);
    assert_eq!(c.cache_info().evictions, 2);
    assert_eq!(c.len(), 3);
}

#[test]
fn capacity_zero_stores_nothing() {
    let c = ThreadSafeCache::new(0);
    assert_eq!(c.insert(1, 1), None);
    assert_eq!(c.get(&1), None);
    let calls = AtomicUsize::new(0);
    for _ in 0..3 {
        let v = c.get_or_insert_with(1, || calls.fetch_add(1, Ordering::Relaxed));
        assert_eq!(v, calls.load(Ordering::Relaxed) - 1);
    }
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "maxsize=0: every call computes"
    );
    assert!(c.is_empty());
}

#[test]
fn huge_timeout_waits_without_a_deadline_and_does_not_panic() {
    let c = ThreadSafeCache::new(2);
    assert_eq!(c.get_or_insert_with_timeout(1, Duration::MAX, || 5), Ok(5));
    assert_eq!(c.get_or_insert_with_timeout(1, Duration::MAX, || 6), Ok(5));
}

#[test]
fn default_ttl_expires_without_sleeping() {
    let (c, clock) = manual(8, Some(Duration::from_secs(10)));
    c.insert("k", 1);
    clock.advance(Duration::from_secs(9));
    assert_eq!(c.get("k"), Some(1), "reads do not extend the deadline...");
    clock.advance(Duration::from_secs(1));
    assert_eq!(c.peek("k"), None, "...so it expires 10 s after the insert");
    assert!(!c.contains_key("k"));
    assert_eq!(c.len(), 1, "cleaned lazily: still stored");
    assert_eq!(c.get("k"), None);
    assert_eq!(c.len(), 0, "the lookup removed it");
    let info = c.cache_info();
    assert_eq!((info.hits, info.misses, info.expirations), (1, 1, 1));
}

#[test]
fn per_entry_ttl_overrides_the_default() {
    let (c, clock) = manual(8, Some(Duration::from_secs(10)));
    c.insert_with_ttl("short", 1, Duration::from_secs(1));
    c.insert_with_ttl("long", 2, Duration::from_secs(100));
    c.insert_with_ttl("forever", 3, Duration::MAX);
    c.insert("default", 4);
    clock.advance(Duration::from_secs(50));
    assert_eq!(c.items(), [("forever", 3), ("long", 2)]);
    assert_eq!(c.purge_expired(), 2);
    clock.advance(Duration::from_secs(1_000_000_000));
    assert_eq!(
        c.keys(),
        ["forever"],
        "a TTL too large for the clock never expires"
    );
}

#[test]
fn zero_ttl_is_never_returned() {
    let c = ThreadSafeCache::builder(4).ttl(Duration::ZERO).build();
    c.insert("k", 1);
    assert_eq!(c.get("k"), None);
    assert_eq!(
        c.insert("k", 2),
        None,
        "an expired old value is not handed back"
    );
    assert_eq!(c.pop("k"), None);
    let calls = AtomicUsize::new(0);
    c.get_or_insert_with("m", || calls.fetch_add(1, Ordering::Relaxed));
    c.get_or_insert_with("m", || calls.fetch_add(1, Ordering::Relaxed));
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

#[test]
fn expired_entries_are_evicted_first_when_they_are_oldest() {
    let (c, clock) = manual(2, None);
    c.insert_with_ttl("old", 1, Duration::from_secs(1));
    c.insert("b", 2);
    clock.advance(Duration::from_secs(2));
    c.insert("c", 3); // "old" is the LRU end and expired
    let info = c.cache_info();
    assert_eq!((info.evictions, info.expirations), (0, 1));
    assert_eq!(c.keys(), ["c", "b"]);
}

#[test]
fn counters_and_clear() {
    let c = ThreadSafeCache::new(4);
    c.get_or_insert_with(1, || 10);
    c.get_or_insert_with(1, || 11);
    c.get(&2);
    c.peek(&1);
    let info = c.cache_info();
    assert_eq!(
        (info.hits, info.misses, info.len, info.capacity),
        (1, 2, 1, 4)
    );
    c.clear();
    let info = c.cache_info();
    assert_eq!(
        (info.hits, info.misses, info.evictions, info.expirations),
        (0, 0, 0, 0)
    );
    assert_eq!((info.len, info.capacity), (0, 4));
    assert_eq!(info, c.cache_info());
    let dbg = format!("{c:?}");
    assert!(
        dbg.starts_with("ThreadSafeCache { capacity: 4, len: 0"),
        "{dbg}"
    );
}

#[test]
fn try_get_or_insert_with_does_not_cache_failures() {
    let c = ThreadSafeCache::new(4);
    assert_eq!(
        c.try_get_or_insert_with("k", || Err::<i32, _>("down")),
        Err("down")
    );
    assert!(!c.contains_key("k"));
    assert_eq!(c.try_get_or_insert_with("k", || Ok::<_, &str>(5)), Ok(5));
    assert_eq!(c.try_get_or_insert_with("k", || Err("unused")), Ok(5));
    assert_eq!(
        c.cache_info().misses,
        2,
        "each run of the closure is a miss"
    );
}

#[test]
fn waiter_gets_the_owners_value_without_computing() {
    let c = ThreadSafeCache::new(4);
    let (inside, outside) = hold_owner();
    let c = &c;
    thread::scope(|s| {
        let owner = s.spawn(move || {
            c.get_or_insert_with("k", || {
                inside.enter_and_wait();
                1
            })
        });
        outside.wait_started();
        // The owner is inside its closure: a bounded wait gives up, computing nothing.
        let timed_out = c.get_or_insert_with_timeout("k", SHORT, || unreachable!("owner computes"));
        assert_eq!(timed_out, Err(WaitTimeout));
        let zero = c.get_or_insert_with_timeout("k", Duration::ZERO, || unreachable!("owner"));
        assert_eq!(
            zero,
            Err(WaitTimeout),
            "a zero timeout does not wait at all"
        );
        // Another key is served while "k" is being computed.
        assert_eq!(c.get_or_insert_with("other", || 2), 2);
        let waiter = s.spawn(move || c.get_or_insert_with("k", || unreachable!("owner computes")));
        outside.release();
        assert_eq!(owner.join().unwrap(), 1);
        assert_eq!(waiter.join().unwrap(), 1);
    });
    assert_eq!(c.get("k"), Some(1));
}

#[test]
fn a_panicking_owner_hands_the_key_to_a_waiter() {
    let c = ThreadSafeCache::new(4);
    let (inside, outside) = hold_owner();
    let c = &c;
    thread::scope(|s| {
        let owner = s.spawn(move || {
            c.get_or_insert_with("k", || {
                inside.enter_and_wait();
                panic!("owner failed")
            })
        });
        outside.wait_started();
        let waiter = s.spawn(move || c.get_or_insert_with("k", || 2));
        outside.release();
        assert!(
            owner.join().is_err(),
            "the panic reaches the owner's caller"
        );
        assert_eq!(waiter.join().unwrap(), 2, "the waiter computed instead");
    });
    assert_eq!(c.get("k"), Some(2));
    assert!(format!("{c:?}").contains("computing: 0"));
}

#[test]
fn a_failing_owner_hands_the_key_to_a_waiter() {
    let c = ThreadSafeCache::new(4);
    let (inside, outside) = hold_owner();
    let c = &c;
    thread::scope(|s| {
        let owner = s.spawn(move || {
            c.try_get_or_insert_with("k", || {
                inside.enter_and_wait();
                Err("failed")
            })
        });
        outside.wait_started();
        let waiter = s.spawn(move || c.try_get_or_insert_with("k", || Ok::<_, &str>(3)));
        outside.release();
        assert_eq!(owner.join().unwrap(), Err("failed"));
        assert_eq!(waiter.join().unwrap(), Ok(3));
    });
}

#[test]
#[should_panic(expected = "the closure asked for the key it is computing")]
fn recursive_get_or_insert_with_on_the_same_key_panics() {
    let c: ThreadSafeCache<u8, u8> = ThreadSafeCache::new(4);
    c.get_or_insert_with(1, || c.get_or_insert_with(1, || 0));
}

#[test]
fn recursive_get_or_insert_with_on_other_keys_works() {
    // Memoised recursion: fib(n) asks the cache for fib(n-1) and fib(n-2).
    fn fib(c: &ThreadSafeCache<u64, u64>, n: u64) -> u64 {
        c.get_or_insert_with(n, || {
            if n < 2 {
                n
            } else {
                fib(c, n - 1) + fib(c, n - 2)
            }
        })
    }
    let c = ThreadSafeCache::new(128);
    assert_eq!(fib(&c, 80), 23_416_728_348_467_685);
    assert_eq!(c.cache_info().misses, 81);
}

#[test]
fn stress_get_or_insert_with_computes_once_per_key() {
    let c = ThreadSafeCache::new(KEYS as usize);
    let calls = AtomicUsize::new(0);
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let (c, calls, barrier) = (&c, &calls, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..LOOKUPS {
                    let k = (i * 7 + t) % KEYS;
                    let v = c.get_or_insert_with(k, || {
                        calls.fetch_add(1, Ordering::Relaxed);
                        k * 2
                    });
                    assert_eq!(v, k * 2);
                }
            });
        }
    });
    assert_eq!(calls.load(Ordering::Relaxed), KEYS as usize);
    let info = c.cache_info();
    assert_eq!(info.misses, KEYS);
    assert_eq!(info.hits + info.misses, THREADS as u64 * LOOKUPS);
}

#[test]
fn stress_bounded_cache_under_churn_stays_within_capacity() {
    const CAP: usize = 16;
    let c = ThreadSafeCache::new(CAP);
    thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let c = &c;
            s.spawn(move || {
                for i in 0..LOOKUPS {
                    let k = (i * 13 + t * 101) % KEYS;
                    assert_eq!(c.get_or_insert_with(k, || k + 1), k + 1);
                    if i % 3 == 0 {
                        c.update(&k, |v| assert_eq!(*v, k + 1));
                    }
                    assert!(c.len() <= CAP);
                }
            });
        }
    });
    let info = c.cache_info();
    assert_eq!(info.len, CAP);
    assert_eq!(info.hits + info.misses, THREADS as u64 * LOOKUPS);
    assert_eq!(
        info.evictions,
        info.misses - CAP as u64,
        "every miss past the first CAP evicts one"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Peek(u8),
    Insert(u8, i32),
    InsertTtl(u8, i32, u8),
    Pop(u8),
    Compute(u8, i32),
    Advance(u8),
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..10;
    prop_oneof![
        4 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        4 => (key.clone(), any::<i32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (key.clone(), any::<i32>(), 0u8..5).prop_map(|(k, v, t)| Op::InsertTtl(k, v, t)),
        2 => key.clone().prop_map(Op::Pop),
        3 => (key, any::<i32>()).prop_map(|(k, v)| Op::Compute(k, v)),
        2 => (0u8..4).prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

/// The model: entries most recent first, each with its deadline in whole seconds.
struct Model {
    cap: usize,
    now: u64,
    entries: Vec<(u8, i32, Option<u64>)>,
    hits: u64,
    misses: u64,
}

impl Model {
    fn live(&self, i: usize) -> bool {
        self.entries[i].2.is_none_or(|at| self.now < at)
    }
    fn find(&self, k: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == k)
    }
    /// `get`: promote a live entry, drop an expired one.
    fn get(&mut self, k: u8) -> Option<i32> {
        let i = self.find(k)?;
        if self.live(i) {
            let e = self.entries.remove(i);
            self.entries.insert(0, e);
            Some(e.1)
        } else {
            self.entries.remove(i);
            None
        }
    }
    fn insert(&mut self, k: u8, v: i32, ttl: Option<u64>) -> Option<i32> {
        let deadline = ttl.map(|t| self.now + t);
        if let Some(i) = self.find(k) {
            let live = self.live(i);
            let old = self.entries.remove(i);
            self.entries.insert(0, (k, v, deadline));
            return live.then_some(old.1);
        }
        if self.entries.len() >= self.cap {
            self.entries.pop();
        }
        self.entries.insert(0, (k, v, deadline));
        None
    }
}

proptest! {
    #[test]
    fn matches_an_lru_model(cap in 1usize..6, ops in prop::collection::vec(op(), 1..150)) {
        let clock = ManualClock::new();
        let c = ThreadSafeCache::builder(cap).clock(clock.clone()).build();
        let mut m = Model { cap, now: 0, entries: Vec::new(), hits: 0, misses: 0 };
        for op in ops {
            match op {
                Op::Get(k) => {
                    let want = m.get(k);
                    if want.is_some() { m.hits += 1 } else { m.misses += 1 }
                    prop_assert_eq!(c.get(&k), want);
                }
                Op::Peek(k) => {
                    let want = m.find(k).filter(|&i| m.live(i)).map(|i| m.entries[i].1);
                    prop_assert_eq!(c.peek(&k), want);
                }
                Op::Insert(k, v) => prop_assert_eq!(c.insert(k, v), m.insert(k, v, None)),
                Op::InsertTtl(k, v, t) => {
                    let want = m.insert(k, v, Some(u64::from(t)));
                    prop_assert_eq!(c.insert_with_ttl(k, v, Duration::from_secs(t.into())), want);
                }
                Op::Pop(k) => {
                    let want = m.find(k).and_then(|i| {
                        let live = m.live(i);
                        let e = m.entries.remove(i);
                        live.then_some(e.1)
                    });
                    prop_assert_eq!(c.pop(&k), want);
                }
                Op::Compute(k, v) => {
                    let want = match m.get(k) {
                        Some(old) => { m.hits += 1; old }
                        None => { m.misses += 1; m.insert(k, v, None); v }
                    };
                    prop_assert_eq!(c.get_or_insert_with(k, || v), want);
                }
                Op::Advance(s) => {
                    clock.advance(Duration::from_secs(s.into()));
                    m.now += u64::from(s);
                }
                Op::Purge => {
                    let before = m.entries.len();
                    let now = m.now;
                    m.entries.retain(|e| e.2.is_none_or(|at| now < at));
                    prop_assert_eq!(c.purge_expired(), before - m.entries.len());
                }
            }
            prop_assert_eq!(c.len(), m.entries.len());
            let info = c.cache_info();
            prop_assert_eq!((info.hits, info.misses), (m.hits, m.misses));
        }
        let live: Vec<_> = (0..m.entries.len())
            .filter(|&i| m.live(i))
            .map(|i| (m.entries[i].0, m.entries[i].1))
            .collect();
        prop_assert_eq!(c.items(), live);
    }
}
