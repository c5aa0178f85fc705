//! `PriorityQueue`: smallest first, insertion order among equal items (order stability),
//! bounds and blocking. Mirrors the `PriorityQueue` runs of CPython's `Lib/test/test_queue.py`.

mod support;

use std::cmp::{Ordering, Reverse};
use std::time::Duration;

use spindle_sync::queue::{GetError, PriorityQueue, PutError};
use support::wake_parked;

const LIMIT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);

/// Ordered by `priority` only, so two jobs with one priority are "equal".
#[derive(Debug, Clone, Copy)]
struct Job {
    priority: u8,
    id: u32,
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.priority == other.priority
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority)
    }
}

#[test]
fn smoke_smallest_first() {
    let q = PriorityQueue::new(0);
    for item in [111, 333, 222] {
        q.put(item).unwrap();
    }
    let got: Vec<_> = (0..3).map(|_| q.get().unwrap()).collect();
    assert_eq!(got, [111, 222, 333]);
}

#[test]
fn equal_priorities_come_out_in_insertion_order() {
    let q = PriorityQueue::new(0);
    let priorities = [3u8, 1, 2, 1, 3, 2, 1, 3, 2, 2, 1];
    for (id, &priority) in priorities.iter().enumerate() {
        q.put(Job {
            priority,
            id: id as u32,
        })
        .unwrap();
    }
    let mut got = Vec::new();
    while let Ok(job) = q.get_nowait() {
        got.push((job.priority, job.id));
    }
    let mut expected: Vec<_> = priorities
        .iter()
        .enumerate()
        .map(|(id, &p)| (p, id as u32))
        .collect();
    expected.sort(); // by priority, then id = insertion order
    assert_eq!(got, expected);
}

#[test]
fn stability_holds_across_interleaved_gets() {
    let q = PriorityQueue::new(0);
    q.put(Job { priority: 1, id: 0 }).unwrap();
    q.put(Job { priority: 1, id: 1 }).unwrap();
    assert_eq!(q.get().unwrap().id, 0);
    q.put(Job { priority: 1, id: 2 }).unwrap();
    q.put(Job { priority: 0, id: 3 }).unwrap();
    let ids: Vec<_> = (0..3).map(|_| q.get().unwrap().id).collect();
    assert_eq!(ids, [3, 1, 2]);
}

#[test]
fn tuples_and_reverse_work_like_python() {
    let q = PriorityQueue::new(0);
    q.put((2, "b")).unwrap();
    q.put((1, "z")).unwrap();
    q.put((2, "a")).unwrap();
    assert_eq!(q.get(), Ok((1, "z")));
    assert_eq!(q.get(), Ok((2, "a")));
    assert_eq!(q.get(), Ok((2, "b")));

    let largest_first = PriorityQueue::new(0);
    for n in [5, 9, 1] {
        largest_first.put(Reverse(n)).unwrap();
    }
    assert_eq!(largest_first.get(), Ok(Reverse(9)));
}

#[test]
fn bounded_heap_reports_full() {
    let q = PriorityQueue::new(2);
    q.put_nowait(2).unwrap();
    q.put_nowait(1).unwrap();
    assert!(q.full());
    assert!(matches!(q.put_nowait(0), Err(PutError::Full(0))));
    assert!(matches!(q.put_timeout(0, SHORT), Err(PutError::Full(0))));
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
}

#[test]
fn blocked_get_is_woken_by_put() {
    let q = PriorityQueue::new(0);
    let got = wake_parked(
        || q.get_timeout(LIMIT),
        || q.waiting_getters() > 0,
        || q.put(5).unwrap(),
    );
    assert_eq!(got, Ok(5));
}

#[test]
fn blocked_put_is_woken_by_get() {
    let q = PriorityQueue::new(1);
    q.put(1).unwrap();
    let put = wake_parked(
        || q.put_timeout(0, LIMIT),
        || q.waiting_putters() > 0,
        || assert_eq!(q.get(), Ok(1)),
    );
    assert!(put.is_ok());
    assert_eq!(q.get_nowait(), Ok(0));
}

#[test]
fn debug_and_default() {
    let q: PriorityQueue<u8> = PriorityQueue::default();
    assert_eq!(q.maxsize(), 0);
    assert!(format!("{q:?}").starts_with("PriorityQueue {"));
}
