//! `LifoQueue`: last-in-first-out order, bounds, the `_nowait` and timeout forms, blocking
//! hand-offs. Mirrors the `LifoQueue` runs of CPython's `Lib/test/test_queue.py`.

mod support;

use std::time::Duration;

use spindle_sync::queue::{GetError, LifoQueue, PutError};
use support::wake_parked;

const LIMIT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);

#[test]
fn smoke_lifo_order() {
    let q = LifoQueue::new(0);
    for item in [111, 333, 222] {
        q.put(item).unwrap();
    }
    let got: Vec<_> = (0..3).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, [222, 333, 111]);
    assert!(q.empty());
}

#[test]
fn interleaved_puts_and_gets_take_the_newest() {
    let q = LifoQueue::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.get(), Ok(2));
    q.put(3).unwrap();
    assert_eq!(q.get(), Ok(3));
    assert_eq!(q.get(), Ok(1));
}

#[test]
fn bounded_stack_reports_full() {
    let q = LifoQueue::new(2);
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    assert!(q.full());
    assert!(matches!(q.put_nowait('c'), Err(PutError::Full('c'))));
    assert!(matches!(
        q.put_timeout('c', SHORT),
        Err(PutError::Full('c'))
    ));
    assert_eq!(q.get_nowait(), Ok('b'));
    assert_eq!(q.get_nowait(), Ok('a'));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
}

#[test]
fn blocked_get_is_woken_by_put() {
    let q = LifoQueue::new(0);
    let got = wake_parked(
        || q.get_timeout(LIMIT),
        || q.waiting_getters() > 0,
        || q.put(5).unwrap(),
    );
    assert_eq!(got, Ok(5));
}

#[test]
fn blocked_put_is_woken_by_get() {
    let q = LifoQueue::new(1);
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
fn debug_and_default() {
    struct Opaque;
    let q: LifoQueue<Opaque> = LifoQueue::default();
    assert_eq!(q.maxsize(), 0);
    assert!(format!("{q:?}").starts_with("LifoQueue {"));
}
