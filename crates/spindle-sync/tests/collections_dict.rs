//! `ThreadSafeDict`: each method against Python's `dict` behaviour, a property test against a
//! `HashMap` model, and bounded multi-thread stress (exact counters, one `setdefault` value per
//! key, snapshots that never see half of an atomic `extend`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;

use proptest::prelude::*;
use spindle_sync::collections::ThreadSafeDict;

const THREADS: usize = 4;
const INCREMENTS: usize = 5_000;
const KEYS: usize = 64;
const ROUNDS: usize = 2_000;
const SNAPSHOTS: usize = 3_000;

#[test]
fn smoke() {
    let d = ThreadSafeDict::new();
    assert!(d.is_empty());
    assert_eq!(d.insert("a", 1), None);
    assert_eq!(d.insert("b", 2), None);
    assert_eq!(d.insert("a", 10), Some(1));
    assert_eq!(d.len(), 2);
    assert_eq!(d.get("a"), Some(10));
    assert!(d.contains_key("b"));
    assert_eq!(d.pop("b"), Some(2));
    assert!(!d.contains_key("b"));
    assert_eq!(d.pop("b"), None);
    d.clear();
    assert!(d.is_empty());
}

#[test]
fn impossible_capacity_is_ignored_not_a_panic() {
    let d = ThreadSafeDict::with_capacity(usize::MAX);
    d.insert(1u8, 1u8);
    assert_eq!(d.get(&1), Some(1));
}

#[test]
fn missing_key_is_none_not_a_panic() {
    let d: ThreadSafeDict<String, u8> = ThreadSafeDict::new();
    assert_eq!(d.get("nope"), None);
    assert_eq!(d.with("nope", |v| *v), None);
    assert_eq!(d.with_mut("nope", |v| *v += 1), None);
    assert_eq!(d.pop("nope"), None);
    assert_eq!(d.remove_if("nope", |_| true), None);
    assert!(d.is_empty(), "no method inserts a missing key by accident");
}

#[test]
fn borrowed_lookups() {
    let d = ThreadSafeDict::new();
    d.insert(String::from("key"), vec![1, 2]);
    assert_eq!(d.get("key"), Some(vec![1, 2]));
    assert_eq!(d.with("key", Vec::len), Some(2));
    assert!(d.contains_key("key"));
    assert_eq!(d.pop("key"), Some(vec![1, 2]));
}

#[test]
fn compound_operations() {
    let d = ThreadSafeDict::new();
    assert_eq!(d.get_or_insert_with("k", || 1), 1);
    assert_eq!(
        d.get_or_insert_with("k", || 2),
        1,
        "setdefault keeps the first value"
    );
    assert_eq!(d.update("k", |v| v.unwrap() + 5), 6);
    assert_eq!(d.update("new", |v| v.map_or(100, |n| n + 1)), 100);
    assert_eq!(d.upsert("k", || 0, |v| std::mem::replace(v, 0)), 6);
    assert_eq!(d.get("k"), Some(0));
    assert_eq!(d.upsert("fresh", || 7, |v| *v), 7);
    assert_eq!(d.remove_if("fresh", |v| *v == 8), None);
    assert_eq!(d.remove_if("fresh", |v| *v == 7), Some(7));
    assert_eq!(d.with_mut("new", |v| *v *= 2), Some(()));
    assert_eq!(d.get("new"), Some(200));
}

#[test]
fn whole_map_views() {
    let d: ThreadSafeDict<u32, u32> = (0..100).map(|i| (i, i * 2)).collect();
    let mut keys = d.keys();
    keys.sort_unstable();
    assert_eq!(keys, (0..100).collect::<Vec<_>>());
    assert_eq!(
        d.values().iter().sum::<u32>(),
        (0..100).map(|i| i * 2).sum()
    );
    let items: HashMap<_, _> = d.items().into_iter().collect();
    assert_eq!(items, d.snapshot());
    let mut total = 0;
    d.for_each(|k, v| total += k + v);
    assert_eq!(total, (0..100).map(|i| i * 3).sum());
    d.retain(|k, v| {
        *v += 1;
        k % 10 == 0
    });
    assert_eq!(d.len(), 10);
    assert_eq!(d.get(&30), Some(61));
    let plain = d.clone().into_inner();
    assert_eq!(plain.len(), 10);
    assert_eq!(d.len(), 10, "clone left the original alone");
}

#[test]
fn extend_is_python_update() {
    let d = ThreadSafeDict::new();
    d.insert("a", 0);
    d.extend([("a", 1), ("b", 2), ("a", 3)]);
    assert_eq!(d.get("a"), Some(3), "later pairs win");
    assert_eq!(d.len(), 2);
    d.extend(std::iter::empty());
    assert_eq!(d.len(), 2);
    let from: ThreadSafeDict<_, _> = ThreadSafeDict::from(HashMap::from([(1, 'x')]));
    assert_eq!(from.get(&1), Some('x'));
}

#[test]
fn extend_may_read_the_dict_it_extends() {
    // The iterator runs before any lock is taken, so it may read this very dict.
    let d: ThreadSafeDict<u32, u32> = (0..10).map(|i| (i, i)).collect();
    d.extend((0..10).map(|i| (i + 100, d.get(&i).unwrap())));
    assert_eq!(d.len(), 20);
    assert_eq!(d.get(&105), Some(5));
}

#[test]
fn debug_prints_entries() {
    let d = ThreadSafeDict::new();
    d.insert("k", 1);
    assert_eq!(format!("{d:?}"), r#"{"k": 1}"#);
}

#[test]
fn panicking_closure_leaves_the_dict_usable_and_unchanged() {
    let d = ThreadSafeDict::new();
    d.insert("k", 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.update("k", |_| panic!("boom"));
    }));
    assert!(r.is_err());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.get_or_insert_with("other", || panic!("boom"))
    }));
    assert!(r.is_err());
    // No poisoning: the shard lock was released and the map is as before.
    assert_eq!(d.get("k"), Some(1));
    assert!(!d.contains_key("other"));
    d.insert("k", 2);
    assert_eq!(d.get("k"), Some(2));
}

#[test]
fn stress_update_counts_exactly() {
    let d = ThreadSafeDict::new();
    thread::scope(|s| {
        for t in 0..THREADS {
            let d = &d;
            s.spawn(move || {
                for i in 0..INCREMENTS {
                    let key = (i + t) % KEYS;
                    if i % 2 == 0 {
                        d.update(key, |v| v.copied().unwrap_or(0) + 1);
                    } else {
                        d.upsert(key, || 0, |v| *v += 1);
                    }
                }
            });
        }
    });
    assert_eq!(d.len(), KEYS);
    assert_eq!(d.values().iter().sum::<usize>(), THREADS * INCREMENTS);
}

#[test]
fn stress_get_or_insert_with_runs_once_per_key() {
    let d = ThreadSafeDict::new();
    let calls = AtomicUsize::new(0);
    let barrier = Barrier::new(THREADS);
    let seen: Vec<Vec<usize>> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (d, calls, barrier) = (&d, &calls, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    (0..KEYS)
                        .map(|k| {
                            d.get_or_insert_with(k, || {
                                calls.fetch_add(1, Ordering::Relaxed);
                                k * 1000 + t // which thread won shows in the value
                            })
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(calls.load(Ordering::Relaxed), KEYS);
    for per_thread in &seen {
        assert_eq!(
            per_thread, &seen[0],
            "every thread got the one stored value"
        );
    }
}

#[test]
fn stress_snapshots_never_see_half_an_extend() {
    // A writer sets GROUP keys (spread over several shards) to the same round number with one
    // atomic `extend`, and now and then clears and refills; every snapshot must show the keys
    // all equal, or none of them.
    const GROUP: u32 = 12;
    let d = ThreadSafeDict::new();
    d.extend((0..GROUP).map(|k| (k, 0usize)));
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let mut round = 0;
            while !stop.load(Ordering::Acquire) {
                round += 1;
                if round % 7 == 0 {
                    d.clear();
                }
                d.extend((0..GROUP).map(|k| (k, round)));
            }
        });
        // Stops the writer however the checks end, so a failed assertion fails the test
        // instead of leaving the writer spinning and the scope waiting for it.
        let _stop = StopOnDrop(&stop);
        for _ in 0..SNAPSHOTS {
            let snap = d.snapshot();
            let values: HashSet<_> = snap.values().collect();
            assert!(
                (snap.len() == GROUP as usize && values.len() == 1) || snap.is_empty(),
                "torn snapshot: {snap:?}"
            );
            let items = d.items();
            let values: HashSet<_> = items.iter().map(|(_, v)| v).collect();
            assert!(
                items.is_empty() || values.len() == 1,
                "torn items: {items:?}"
            );
            let len = d.len();
            assert!(len == 0 || len == GROUP as usize, "torn len: {len}");
        }
    });
}

/// Sets the flag when dropped, on the normal path or while unwinding from a failed assertion.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn stress_distinct_keys_from_many_threads() {
    let d = ThreadSafeDict::with_capacity(THREADS * ROUNDS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let d = &d;
            s.spawn(move || {
                for i in 0..ROUNDS {
                    assert_eq!(d.insert((t, i), i), None);
                }
                for i in (0..ROUNDS).step_by(2) {
                    assert_eq!(d.pop(&(t, i)), Some(i));
                }
            });
        }
    });
    assert_eq!(d.len(), THREADS * ROUNDS / 2);
    let keys: HashSet<_> = d.keys().into_iter().collect();
    assert!(keys.iter().all(|(_, i)| i % 2 == 1));
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u16),
    Get(u8),
    Pop(u8),
    Update(u8),
    Upsert(u8),
    SetDefault(u8, u16),
    RemoveIf(u8, u16),
    Retain(u8),
    Extend(Vec<(u8, u16)>),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..24;
    prop_oneof![
        6 => (key.clone(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
        4 => key.clone().prop_map(Op::Get),
        3 => key.clone().prop_map(Op::Pop),
        3 => key.clone().prop_map(Op::Update),
        2 => key.clone().prop_map(Op::Upsert),
        3 => (key.clone(), any::<u16>()).prop_map(|(k, v)| Op::SetDefault(k, v)),
        2 => (key.clone(), any::<u16>()).prop_map(|(k, v)| Op::RemoveIf(k, v)),
        1 => (1u8..5).prop_map(Op::Retain),
        1 => prop::collection::vec((key, any::<u16>()), 0..6).prop_map(Op::Extend),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #[test]
    fn matches_a_hashmap_model(ops in prop::collection::vec(op(), 1..120)) {
        let d = ThreadSafeDict::new();
        let mut model: HashMap<u8, u16> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => prop_assert_eq!(d.insert(k, v), model.insert(k, v)),
                Op::Get(k) => prop_assert_eq!(d.get(&k), model.get(&k).copied()),
                Op::Pop(k) => prop_assert_eq!(d.pop(&k), model.remove(&k)),
                Op::Update(k) => {
                    let new = model.get(&k).map_or(1, |v| v.wrapping_mul(3));
                    model.insert(k, new);
                    prop_assert_eq!(d.update(k, |v| v.map_or(1, |v| v.wrapping_mul(3))), new);
                }
                Op::Upsert(k) => {
                    let slot = model.entry(k).or_insert(9);
                    *slot = slot.wrapping_add(1);
                    let want = *slot;
                    prop_assert_eq!(d.upsert(k, || 9, |v| { *v = v.wrapping_add(1); *v }), want);
                }
                Op::SetDefault(k, v) => {
                    let want = *model.entry(k).or_insert(v);
                    prop_assert_eq!(d.get_or_insert_with(k, || v), want);
                }
                Op::RemoveIf(k, v) => {
                    let want = if model.get(&k) == Some(&v) { model.remove(&k) } else { None };
                    prop_assert_eq!(d.remove_if(&k, |x| *x == v), want);
                }
                Op::Retain(m) => {
                    model.retain(|k, _| k % m == 0);
                    d.retain(|k, _| k % m == 0);
                }
                Op::Extend(pairs) => {
                    model.extend(pairs.iter().copied());
                    d.extend(pairs);
                }
                Op::Clear => {
                    model.clear();
                    d.clear();
                }
            }
            prop_assert_eq!(d.len(), model.len());
        }
        prop_assert_eq!(d.snapshot(), model.clone());
        let mut keys = d.keys();
        keys.sort_unstable();
        let mut want: Vec<_> = model.keys().copied().collect();
        want.sort_unstable();
        prop_assert_eq!(keys, want);
    }
}
