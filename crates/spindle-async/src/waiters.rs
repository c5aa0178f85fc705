//! The FIFO wait list behind every async primitive: waiters identified by increasing ids,
//! woken by removal.
//!
//! A waiter that is still in the list has not been notified; one whose id is gone was
//! notified (handed the lock, a permit, an item slot...). A waiter future dropped after being
//! notified but before seeing it must pass the notification on: that is what makes the
//! primitives cancellation-safe. Ids only grow, so the list stays sorted and lookups are a
//! binary search.

use std::collections::VecDeque;
use std::task::Waker;

#[derive(Default)]
pub(crate) struct WaitList {
    entries: VecDeque<(u64, Waker)>,
    next_id: u64,
}

impl WaitList {
    fn find(&self, id: u64) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |e| e.0)
    }

    /// Adds a waiter (`*slot == None`) or refreshes its waker. Returns false if `*slot` names
    /// a waiter that is no longer listed, i.e. one that was notified.
    pub(crate) fn register(&mut self, slot: &mut Option<u64>, waker: &Waker) -> bool {
        match *slot {
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.entries.push_back((id, waker.clone()));
                *slot = Some(id);
                true
            }
            Some(id) => match self.find(id) {
                Ok(i) => {
                    if !self.entries[i].1.will_wake(waker) {
                        self.entries[i].1 = waker.clone();
                    }
                    true
                }
                Err(_) => false,
            },
        }
    }

    /// Removes waiter `id`; returns true if it was listed (so it had not been notified).
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.find(id) {
            Ok(i) => {
                self.entries.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Notifies the oldest waiter; returns whether there was one.
    pub(crate) fn notify_one(&mut self) -> bool {
        match self.entries.pop_front() {
            Some((_, w)) => {
                w.wake();
                true
            }
            None => false,
        }
    }

    /// Notifies every waiter; returns how many there were.
    pub(crate) fn notify_all(&mut self) -> usize {
        let n = self.entries.len();
        for (_, w) in self.entries.drain(..) {
            w.wake();
        }
        n
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notified_waiters_leave_the_list_in_fifo_order() {
        let w = Waker::noop();
        let mut l = WaitList::default();
        let (mut a, mut b) = (None, None);
        assert!(l.register(&mut a, w));
        assert!(l.register(&mut b, w));
        assert!(l.notify_one());
        assert!(!l.register(&mut a, w));
        assert!(l.remove(b.unwrap()));
        assert!(!l.notify_one());
        assert!(l.is_empty());
    }
}
