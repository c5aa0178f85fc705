//! [`PriorityQueue`]: Python's `queue.PriorityQueue`, smallest first, FIFO among equals.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Duration;

use super::api::queue_api;
use super::backend::Backend;
use super::error::{GetError, PutError, TaskDoneError};
use super::locked::{Container, Locked};

/// A queue that hands out its smallest item first: Python's `queue.PriorityQueue`.
///
/// Items compare with [`Ord`]; put `(priority, payload)` tuples as in Python, or use
/// [`Reverse`] for largest-first. Among equal items the one put first comes out first (an
/// insertion counter breaks ties), which Python's `heapq` does not promise. The rest of the
/// API is [`Queue`](super::Queue)'s: bounds, timeouts, `task_done`/`join`, Python 3.13
/// `shutdown`. Share it by reference or in an `Arc`.
///
/// Built as CPython builds it: one mutex over a binary heap and three condition variables.
///
/// # Differences from Python
///
/// - Equal items come out in insertion order (Python gives no order among equals and fails
///   when it falls through to comparing uncomparable payloads).
/// - As for [`Queue`](super::Queue): refused items come back inside [`PutError`], timeouts
///   are [`Duration`]s, and `join_timeout` and the waiter counts are additions.
///
/// # Examples
///
/// ```
/// use spindle_sync::queue::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.put((2, "write docs")).unwrap();
/// q.put((1, "fix bug")).unwrap();
/// q.put((2, "review")).unwrap();
/// assert_eq!(q.get().unwrap(), (1, "fix bug"));
/// assert_eq!(q.get().unwrap(), (2, "review")); // "review" < "write docs"
/// assert_eq!(q.get().unwrap(), (2, "write docs"));
/// ```
pub struct PriorityQueue<T> {
    core: Locked<Heap<T>>,
}

/// An item with its insertion number, ordered by item then number.
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.item.cmp(&other.item).then(self.seq.cmp(&other.seq))
    }
}

/// The min-heap behind a [`PriorityQueue`].
pub(crate) struct Heap<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    next_seq: u64,
}

impl<T: Ord> Default for Heap<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T: Ord> Container<T> for Heap<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { item, seq }));
    }
    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|Reverse(entry)| entry.item)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

impl<T: Ord> PriorityQueue<T> {
    /// A priority queue holding at most `maxsize` items; 0 means unbounded (Python's
    /// `queue.PriorityQueue(maxsize)`). Nothing is allocated until items arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::queue::PriorityQueue;
    ///
    /// let q: PriorityQueue<(u8, String)> = PriorityQueue::new(10);
    /// assert_eq!(q.maxsize(), 10);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            core: Locked::new(maxsize),
        }
    }
}

queue_api!(type = PriorityQueue, bound = [: Ord], first = 1, second = 2, order = "priority order (smallest first, first-in-first-out among equals)");

#[cfg(test)]
mod tests {
    use super::{Container, Heap};

    #[test]
    fn equal_items_keep_insertion_order() {
        #[derive(Debug)]
        struct Job(u8, &'static str);
        impl PartialEq for Job {
            fn eq(&self, o: &Self) -> bool {
                self.0 == o.0
            }
        }
        impl Eq for Job {}
        impl PartialOrd for Job {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Job {
            fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                self.0.cmp(&o.0)
            }
        }
        let mut heap = Heap::default();
        for (p, name) in [(1, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")] {
            heap.push(Job(p, name));
        }
        let names: Vec<_> = std::iter::from_fn(|| heap.pop()).map(|j| j.1).collect();
        assert_eq!(names, ["b", "d", "a", "c", "e"]);
    }
}
