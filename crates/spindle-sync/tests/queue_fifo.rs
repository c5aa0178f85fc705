//! `Queue`: first-in-first-out order, bounds, the `_nowait` and timeout forms, blocking hand-offs,
//! and the two stores behind it (a ring up to 65 536 slots, a growable list beyond and for 0).
//!
//! Covers what CPython's `Lib/test/test_queue.py` checks for `queue.Queue` (`simple_queue_test`,
//! `test_basic`, `test_nowait`, the blocking put/get tests), with float timeouts made `Duration`.

mod support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use spindle_sync::queue::{GetError, PutError, Queue};
use support::wake_parked;

/// Long enough that a correct hand-off never hits it; a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);
/// Short waits that are expected to time out.
const SHORT: Duration = Duration::from_millis(20);

#[test]
fn smoke_fifo_order() {
    let q = Queue::new(0);
    for item in [111, 333, 222] {
        q.put(item).unwrap();
    }
    assert_eq!(q.qsize(), 3);
    let got: Vec<_> = (0..3).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, [111, 333, 222]);
    assert!(q.empty());
}

#[test]
fn bounded_queue_reports_full_and_refuses_nowait() {
    let q = Queue::new(3);
    assert_eq!(q.maxsize(), 3);
    assert!(q.empty() && !q.full());
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    assert!(q.full() && !q.empty());
    assert_eq!(q.qsize(), 3);
    assert!(matches!(q.put_nowait(9), Err(PutError::Full(9))));
    assert!(matches!(q.put_timeout(9, SHORT), Err(PutError::Full(9))));
    assert!(matches!(
        q.put_timeout(9, Duration::ZERO),
        Err(PutError::Full(9))
    ));
    // A refused put leaves the queue as it was.
    assert_eq!(
        (0..3).map(|_| q.get_nowait().unwrap()).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
}

#[test]
fn get_timeout_waits_at_least_the_timeout() {
    let q: Queue<u8> = Queue::new(1);
    let start = Instant::now();
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert!(start.elapsed() >= SHORT);
    q.put(1).unwrap();
    let start = Instant::now();
    assert!(q.put_timeout(2, SHORT).is_err());
    assert!(start.elapsed() >= SHORT);
}

#[test]
fn huge_timeouts_do_not_panic() {
    let q = Queue::new(1);
    q.put_timeout(1, Duration::MAX).unwrap();
    assert_eq!(q.get_timeout(Duration::MAX), Ok(1));
    assert!(!q.join_timeout(Duration::ZERO));
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::MAX));
}

#[test]
fn unbounded_queue_is_never_full() {
    let q = Queue::new(0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
    for i in 0..10_000 {
        assert_eq!(q.get_nowait(), Ok(i));
    }
}

#[test]
fn bound_beyond_the_ring_limit_uses_the_list_and_still_bounds() {
    const BIG: usize = 70_000;
    let q = Queue::new(BIG);
    for i in 0..BIG {
        q.put_nowait(i).unwrap();
    }
    assert!(q.full());
    assert!(matches!(q.put_nowait(BIG), Err(PutError::Full(_))));
    assert_eq!(q.get_nowait(), Ok(0));
    q.put_nowait(BIG).unwrap();
    assert_eq!(q.qsize(), BIG);
}

#[test]
fn huge_maxsize_allocates_nothing_up_front() {
    let q: Queue<u64> = Queue::new(usize::MAX);
    assert_eq!(q.maxsize(), usize::MAX);
    q.put(7).unwrap();
    assert!(!q.full());
    assert_eq!(q.get(), Ok(7));
}

#[test]
fn maxsize_one_alternates() {
    let q = Queue::new(1);
    for i in 0..1000 {
        q.put_nowait(i).unwrap();
        assert!(q.full());
        assert_eq!(q.get_nowait(), Ok(i));
    }
}

#[test]
fn blocked_get_is_woken_by_put() {
    // The getter is parked before the put, so the put must wake it.
    let q = Queue::new(1);
    let got = wake_parked(
        || q.get_timeout(LIMIT),
        || q.waiting_getters() > 0,
        || q.put("hello").unwrap(),
    );
    assert_eq!(got, Ok("hello"));
}

#[test]
fn blocked_put_is_woken_by_get() {
    let q = Queue::new(1);
    q.put(1).unwrap();
    let put = wake_parked(
        || q.put_timeout(2, LIMIT),
        || q.waiting_putters() > 0,
        || assert_eq!(q.get(), Ok(1)),
    );
    assert!(put.is_ok());
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn blocking_get_without_timeout_receives_from_another_thread() {
    let q = Arc::new(Queue::new(4));
    let producer = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            for i in 0..100 {
                q.put(i).unwrap();
            }
        })
    };
    for i in 0..100 {
        assert_eq!(q.get(), Ok(i));
    }
    producer.join().unwrap();
}

#[test]
fn items_are_moved_not_copied_and_dropped_with_the_queue() {
    let token = Arc::new(());
    let q = Queue::new(8);
    for _ in 0..5 {
        q.put(Arc::clone(&token)).unwrap();
    }
    drop(q.get().unwrap());
    assert_eq!(Arc::strong_count(&token), 5);
    drop(q);
    assert_eq!(Arc::strong_count(&token), 1);

    let q = Queue::new(0);
    for _ in 0..5 {
        q.put(Arc::clone(&token)).unwrap();
    }
    drop(q);
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn zero_sized_items() {
    let q = Queue::new(2);
    q.put(()).unwrap();
    q.put(()).unwrap();
    assert!(q.put_nowait(()).is_err());
    assert_eq!(q.get(), Ok(()));
    assert_eq!(q.qsize(), 1);
}

#[test]
fn debug_needs_no_debug_items_and_default_is_unbounded() {
    struct Opaque;
    let q: Queue<Opaque> = Queue::default();
    assert_eq!(q.maxsize(), 0);
    q.put(Opaque).unwrap();
    let shown = format!("{q:?}");
    assert!(shown.starts_with("Queue {"), "{shown}");
    assert!(shown.contains("qsize: 1"), "{shown}");
    assert!(shown.contains("shut_down: false"), "{shown}");
}
