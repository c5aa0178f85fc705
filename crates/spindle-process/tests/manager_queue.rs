//! Managed queues: FIFO order, Empty/Full with the timeout forms, producers in several
//! processes, and a getter blocked on the server woken by a put from another process (after
//! `_TestQueue` in CPython's `Lib/test/_test_multiprocessing.py`, run with `manager.Queue`).

spindle_process::test_support!();

mod manager_support;

use manager_support::{process_lock, run_all, LIMIT};
use spindle_process::managers::{Manager, ManagerError, QueueProxy};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Producer processes.
const PRODUCERS: usize = 3;
/// Items per producer.
const ITEMS: u32 = 200;
/// A wait that is expected to time out.
const SHORT: Duration = Duration::from_millis(50);

#[test]
fn smoke_fifo_and_sizes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let q = m.queue::<String>(3).unwrap();
    assert!(q.empty().unwrap());
    assert!(!q.full().unwrap());
    for s in ["a", "b", "c"] {
        q.put(&s.to_string()).unwrap();
    }
    assert!(q.full().unwrap());
    assert_eq!(q.qsize().unwrap(), 3);
    assert_eq!(q.get().unwrap(), "a");
    assert_eq!(q.get_nowait().unwrap(), "b");
    assert_eq!(q.get_timeout(SHORT).unwrap(), "c");
    assert!(q.empty().unwrap());
}

#[test]
fn empty_and_full_with_timeouts() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let q = m.queue::<u8>(1).unwrap();
    assert!(matches!(q.get_nowait(), Err(ManagerError::Empty)));
    let t0 = Instant::now();
    assert!(matches!(q.get_timeout(SHORT), Err(ManagerError::Empty)));
    assert!(t0.elapsed() >= SHORT);
    q.put_nowait(&1).unwrap();
    assert!(matches!(q.put_nowait(&2), Err(ManagerError::Full)));
    let t0 = Instant::now();
    assert!(matches!(q.put_timeout(&2, SHORT), Err(ManagerError::Full)));
    assert!(t0.elapsed() >= SHORT);
    // A huge timeout means "no limit", not a panic; the item is there, so it returns at once.
    assert_eq!(q.get_timeout(Duration::MAX).unwrap(), 1);
}

#[test]
fn unbounded_queue_is_never_full() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let q = m.queue::<u32>(0).unwrap();
    for i in 0..1000 {
        q.put_nowait(&i).unwrap();
    }
    assert!(!q.full().unwrap());
    assert_eq!(q.qsize().unwrap(), 1000);
}

fn produce((q, id): (QueueProxy<(u32, u32)>, u32)) {
    for i in 0..ITEMS {
        q.put_timeout(&(id, i), LIMIT).unwrap();
    }
}

#[test]
fn producers_in_several_processes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    // Small bound, so producers block on the server while the parent drains.
    let q = m.queue::<(u32, u32)>(8).unwrap();
    std::thread::scope(|s| {
        let drained = s.spawn(|| {
            let mut seen = BTreeSet::new();
            let mut last = [None; PRODUCERS];
            for _ in 0..PRODUCERS as u32 * ITEMS {
                let (id, i) = q.get_timeout(LIMIT).unwrap();
                // FIFO per producer.
                assert!(last[id as usize] < Some(i));
                last[id as usize] = Some(i);
                seen.insert((id, i));
            }
            seen
        });
        run_all(PRODUCERS, produce, |i| (q.clone(), i as u32));
        let seen = drained.join().unwrap();
        assert_eq!(seen.len(), PRODUCERS * ITEMS as usize);
    });
    assert!(q.empty().unwrap());
}

fn put_one(q: QueueProxy<String>) {
    q.put(&"from the child".to_string()).unwrap();
}

#[test]
fn blocked_get_is_woken_by_another_process() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let q = m.queue::<String>(0).unwrap();
    std::thread::scope(|s| {
        let getter = s.spawn(|| q.get_timeout(LIMIT));
        run_all(1, put_one, |_| q.clone());
        assert_eq!(getter.join().unwrap().unwrap(), "from the child");
    });
}
