//! `ThreadSafeList`: each method against Python's `list` behaviour, `IndexError` values for
//! positions out of range (never a panic), a property test against a `Vec` model, and bounded
//! multi-thread stress (no lost appends, exact in-place counters, consistent snapshots).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use proptest::prelude::*;
use spindle_sync::collections::{IndexError, ThreadSafeList};

const THREADS: usize = 4;
const ITEMS: usize = 5_000;
const SNAPSHOTS: usize = 3_000;

#[test]
fn smoke() {
    let l = ThreadSafeList::new();
    assert!(l.is_empty());
    l.append(1);
    l.extend([2, 3]);
    l.insert(0, 0);
    assert_eq!(l.snapshot(), [0, 1, 2, 3]);
    assert_eq!(l.len(), 4);
    assert_eq!(l.get(2), Some(2));
    assert_eq!(l.index(&3), Some(3));
    assert_eq!(l.count(&1), 1);
    assert!(l.contains(&0));
    assert_eq!(l.pop(), Some(3));
    assert_eq!(l.pop_at(0), Ok(0));
    assert_eq!(l.remove(&2), Some(2));
    assert_eq!(l.snapshot(), [1]);
    l.clear();
    assert!(l.is_empty());
}

#[test]
fn impossible_capacity_is_ignored_not_a_panic() {
    let l = ThreadSafeList::with_capacity(usize::MAX);
    l.append(1u8);
    assert_eq!(l.snapshot(), [1]);
}

#[test]
fn insert_past_the_end_appends_like_python() {
    let l = ThreadSafeList::from(vec![1, 2]);
    l.insert(usize::MAX, 3);
    l.insert(1, 9);
    assert_eq!(l.snapshot(), [1, 9, 2, 3]);
}

#[test]
fn positions_out_of_range_are_index_errors() {
    let l = ThreadSafeList::from(vec!['a', 'b']);
    let err = l.pop_at(2).unwrap_err();
    assert_eq!((err.index(), err.len()), (2, 2));
    assert_eq!(err.to_string(), "list index 2 out of range for length 2");
    assert_eq!(format!("{err:?}"), "IndexError { index: 2, len: 2, .. }");

    let err = l.set(7, 'z').unwrap_err();
    assert_eq!((err.index(), err.len()), (7, 2));
    assert_eq!(err.into_inner(), 'z', "the refused value comes back");

    let err: IndexError = l.update(usize::MAX, |c| *c).unwrap_err();
    assert_eq!((err.index(), err.len()), (usize::MAX, 2));
    assert_eq!(l.snapshot(), ['a', 'b'], "failed calls change nothing");
}

#[test]
fn empty_list_reads_are_none() {
    let l: ThreadSafeList<String> = ThreadSafeList::new();
    assert_eq!(
        l.pop(),
        None,
        "Python raises IndexError: pop from empty list"
    );
    assert_eq!(l.get(0), None);
    assert_eq!(l.index(&String::new()), None, "Python raises ValueError");
    assert_eq!(l.remove(&String::new()), None, "Python raises ValueError");
    assert!(l.pop_at(0).is_err());
}

#[test]
fn set_update_and_sorting() {
    let l = ThreadSafeList::from(vec![5, 3, 8, 1]);
    assert_eq!(l.set(0, 4), Ok(5));
    assert_eq!(
        l.update(1, |x| {
            *x *= 10;
            *x
        }),
        Ok(30)
    );
    l.sort();
    assert_eq!(l.snapshot(), [1, 4, 8, 30]);
    l.sort_by(|a, b| b.cmp(a));
    assert_eq!(l.snapshot(), [30, 8, 4, 1]);
    l.sort_by_key(|x| x % 4);
    assert_eq!(l.snapshot(), [8, 4, 1, 30], "stable: 8 before 4");
    l.reverse();
    assert_eq!(l.snapshot(), [30, 1, 4, 8]);
    l.retain(|x| *x > 3);
    assert_eq!(l.snapshot(), [30, 4, 8]);
}

#[test]
fn with_and_with_mut() {
    let l: ThreadSafeList<i32> = (1..=5).collect();
    assert_eq!(l.with(|s| s.iter().sum::<i32>()), 15);
    let drained = l.with_mut(|v| v.drain(1..3).collect::<Vec<_>>());
    assert_eq!(drained, [2, 3]);
    assert_eq!(l.clone().into_inner(), [1, 4, 5]);
    assert_eq!(format!("{l:?}"), "[1, 4, 5]");
}

#[test]
fn panicking_closure_does_not_poison() {
    let l = ThreadSafeList::from(vec![1]);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        l.with_mut(|_| panic!("boom"));
    }));
    assert!(r.is_err());
    l.append(2);
    assert_eq!(l.snapshot(), [1, 2]);
}

#[test]
fn stress_appends_are_never_lost() {
    let l = ThreadSafeList::with_capacity(THREADS * ITEMS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let l = &l;
            s.spawn(move || {
                for i in 0..ITEMS {
                    if i % 2 == 0 {
                        l.append((t, i));
                    } else {
                        l.extend([(t, i)]);
                    }
                }
            });
        }
    });
    let mut all = l.snapshot();
    assert_eq!(all.len(), THREADS * ITEMS);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), THREADS * ITEMS, "no duplicates either");
    // Each thread's items keep their relative order.
    let snap = l.snapshot();
    for t in 0..THREADS {
        let mine: Vec<_> = snap
            .iter()
            .filter(|(who, _)| *who == t)
            .map(|(_, i)| *i)
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn stress_update_counts_exactly() {
    let l = ThreadSafeList::from(vec![0usize; 8]);
    thread::scope(|s| {
        for t in 0..THREADS {
            let l = &l;
            s.spawn(move || {
                for i in 0..ITEMS {
                    l.update((i + t) % 8, |x| *x += 1).unwrap();
                }
            });
        }
    });
    assert_eq!(l.with(|s| s.iter().sum::<usize>()), THREADS * ITEMS);
}

#[test]
fn stress_snapshots_are_consistent() {
    // The writer always adds two equal items in one step and removes pairs in one step, so
    // every snapshot has an even length made of equal pairs.
    let l = ThreadSafeList::new();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0usize;
            while !stop.load(Ordering::Acquire) {
                i += 1;
                l.extend([i, i]);
                if i % 5 == 0 {
                    // Keep the list short: drop whole pairs from the front.
                    l.with_mut(|v| v.drain(..v.len().saturating_sub(16)).for_each(drop));
                }
            }
        });
        // Stops the writer however the checks end, so a failed assertion fails the test
        // instead of leaving the writer spinning and the scope waiting for it.
        let _stop = StopOnDrop(&stop);
        for _ in 0..SNAPSHOTS {
            let snap = l.snapshot();
            assert_eq!(snap.len() % 2, 0, "torn snapshot");
            assert!(snap.chunks(2).all(|p| p[0] == p[1]));
            assert_eq!(l.len() % 2, 0);
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

#[derive(Debug, Clone)]
enum Op {
    Append(u8),
    Extend(Vec<u8>),
    Insert(usize, u8),
    Pop,
    PopAt(usize),
    Remove(u8),
    Set(usize, u8),
    Update(usize),
    Get(usize),
    Index(u8),
    Sort,
    Reverse,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let pos = 0usize..12;
    let val = 0u8..8;
    prop_oneof![
        5 => val.clone().prop_map(Op::Append),
        1 => prop::collection::vec(val.clone(), 0..4).prop_map(Op::Extend),
        2 => (pos.clone(), val.clone()).prop_map(|(i, v)| Op::Insert(i, v)),
        2 => Just(Op::Pop),
        2 => pos.clone().prop_map(Op::PopAt),
        2 => val.clone().prop_map(Op::Remove),
        2 => (pos.clone(), val.clone()).prop_map(|(i, v)| Op::Set(i, v)),
        2 => pos.clone().prop_map(Op::Update),
        2 => pos.prop_map(Op::Get),
        1 => val.prop_map(Op::Index),
        1 => Just(Op::Sort),
        1 => Just(Op::Reverse),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #[test]
    fn matches_a_vec_model(ops in prop::collection::vec(op(), 1..120)) {
        let l = ThreadSafeList::new();
        let mut model: Vec<u8> = Vec::new();
        for op in ops {
            match op {
                Op::Append(v) => { l.append(v); model.push(v); }
                Op::Extend(vs) => { model.extend(&vs); l.extend(vs); }
                Op::Insert(i, v) => { l.insert(i, v); model.insert(i.min(model.len()), v); }
                Op::Pop => prop_assert_eq!(l.pop(), model.pop()),
                Op::PopAt(i) => {
                    let want = (i < model.len()).then(|| model.remove(i));
                    let got = l.pop_at(i);
                    prop_assert_eq!(got.ok(), want);
                    if let Err(e) = got { prop_assert_eq!((e.index(), e.len()), (i, model.len())); }
                }
                Op::Remove(v) => {
                    let want = model.iter().position(|x| *x == v).map(|p| model.remove(p));
                    prop_assert_eq!(l.remove(&v), want);
                }
                Op::Set(i, v) => {
                    let want = model.get_mut(i).map(|slot| std::mem::replace(slot, v));
                    let got = l.set(i, v);
                    match want {
                        Some(old) => prop_assert_eq!(got.ok(), Some(old)),
                        None => prop_assert_eq!(got.unwrap_err().into_inner(), v),
                    }
                }
                Op::Update(i) => {
                    let want = model.get_mut(i).map(|x| { *x = x.wrapping_add(1); *x });
                    prop_assert_eq!(l.update(i, |x| { *x = x.wrapping_add(1); *x }).ok(), want);
                }
                Op::Get(i) => prop_assert_eq!(l.get(i), model.get(i).copied()),
                Op::Index(v) => prop_assert_eq!(l.index(&v), model.iter().position(|x| *x == v)),
                Op::Sort => { l.sort(); model.sort(); }
                Op::Reverse => { l.reverse(); model.reverse(); }
                Op::Clear => { l.clear(); model.clear(); }
            }
            prop_assert_eq!(l.len(), model.len());
        }
        prop_assert_eq!(l.snapshot(), model);
    }
}
