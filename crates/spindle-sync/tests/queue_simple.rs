//! `SimpleQueue`: unbounded FIFO, infallible `put`, blocking `get` with timeout forms, shutdown,
//! and many threads at once. Mirrors CPython's `SimpleQueueTest` in `Lib/test/test_queue.py`
//! (`test_basic`, `test_negative_timeout_raises_exception` has no twin, `test_many_threads*`,
//! `test_references`).

mod support;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use spindle_sync::queue::{GetError, PutError, SimpleQueue};
use support::wake_parked;

const LIMIT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);
const THREADS: usize = 4;
const ITEMS_PER_THREAD: usize = 5_000;

#[test]
fn smoke_fifo() {
    let q = SimpleQueue::new();
    assert!(q.empty());
    for item in [111, 333, 222] {
        q.put(item);
    }
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.get(), Ok(111));
    assert_eq!(q.get_nowait(), Ok(333));
    assert_eq!(q.get_timeout(SHORT), Ok(222));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
}

#[test]
fn put_nowait_is_put() {
    let q = SimpleQueue::new();
    q.put_nowait(1);
    q.put(2);
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.get(), Ok(2));
}

#[test]
fn blocked_get_is_woken_by_put() {
    let q = SimpleQueue::new();
    let got = wake_parked(
        || q.get_timeout(LIMIT),
        || q.waiting_getters() > 0,
        || q.put("x"),
    );
    assert_eq!(got, Ok("x"));
}

#[test]
fn shutdown_wakes_getter_drains_then_refuses() {
    let q: SimpleQueue<u8> = SimpleQueue::new();
    let got = wake_parked(
        || q.get_timeout(LIMIT),
        || q.waiting_getters() > 0,
        || q.shutdown(false),
    );
    assert_eq!(got, Err(GetError::ShutDown));
    let q = SimpleQueue::new();
    q.put(1);
    q.shutdown(false);
    assert!(q.is_shut_down());
    q.put(2); // dropped
    assert!(matches!(q.try_put(3), Err(PutError::ShutDown(3))));
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn immediate_shutdown_drops_what_is_left() {
    let token = Arc::new(());
    let q = SimpleQueue::new();
    q.put(Arc::clone(&token));
    q.put(Arc::clone(&token));
    q.shutdown(true);
    assert_eq!(Arc::strong_count(&token), 1);
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    // After shutdown `put` drops the item rather than keeping it.
    q.put(Arc::clone(&token));
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn references_are_released_after_get() {
    let token = Arc::new(());
    let q = SimpleQueue::new();
    q.put(Arc::clone(&token));
    drop(q.get().unwrap());
    assert_eq!(Arc::strong_count(&token), 1);
    q.put(Arc::clone(&token));
    drop(q);
    assert_eq!(Arc::strong_count(&token), 1);
}

fn many_threads(get: impl Fn(&SimpleQueue<usize>) -> Result<usize, GetError> + Sync) {
    let q = SimpleQueue::new();
    let mut seen = vec![false; THREADS * ITEMS_PER_THREAD];
    thread::scope(|s| {
        for t in 0..THREADS {
            let q = &q;
            s.spawn(move || {
                for i in 0..ITEMS_PER_THREAD {
                    q.put(t * ITEMS_PER_THREAD + i);
                }
            });
        }
        let consumers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    (0..ITEMS_PER_THREAD)
                        .map(|_| get(&q).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for consumer in consumers {
            for item in consumer.join().unwrap() {
                assert!(!seen[item], "item {item} received twice");
                seen[item] = true;
            }
        }
    });
    assert!(seen.iter().all(|&s| s));
    assert!(q.empty());
}

#[test]
fn many_threads_blocking() {
    many_threads(|q| q.get_timeout(LIMIT));
}

#[test]
fn many_threads_nonblocking() {
    many_threads(|q| loop {
        match q.get_nowait() {
            Err(GetError::Empty) => thread::yield_now(),
            other => return other,
        }
    });
}

#[test]
fn debug_and_default() {
    struct Opaque;
    let q: SimpleQueue<Opaque> = SimpleQueue::default();
    q.put(Opaque);
    let shown = format!("{q:?}");
    assert!(
        shown.starts_with("SimpleQueue {") && shown.contains("qsize: 1"),
        "{shown}"
    );
}
