//! The bounded lock-free FIFO store: a ring of slots with per-slot stamps and a "closed" mark.
//!
//! This is Dmitry Vyukov's bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>), laid out as
//! in crossbeam's `ArrayQueue` and `crossbeam-channel`'s array flavour, plus a mark bit in
//! `tail` that [`Ring::close`] sets. A push reserves its slot with one CAS on `tail` and that
//! CAS fails once the mark is set, so "shut down" has one linearisation point: a push either
//! reserved its slot before the mark (and its item will be popped or drained) or it is refused.
//! A pop reports [`Pop::Closed`] only when `head` has caught up with a marked `tail`; a slot that
//! is reserved but not yet written makes pops wait for it, never report empty.
//!
//! Indices are `u64`, so the lap counter cannot wrap in practice: [`Ring::pushed`] derives the
//! number of pushes ever made from `tail`, which is what `task_done`/`join` count against
//! without a counter of their own on the put path.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicU64, Ordering};

use crossbeam_utils::{Backoff, CachePadded};

/// Outcome of [`Ring::try_push`] that did not store the item.
pub(crate) enum Push<T> {
    /// Every slot is taken.
    Full(T),
    /// [`Ring::close`] ran before the push could reserve a slot.
    Closed(T),
}

/// Outcome of a pop that found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pop {
    /// Nothing to take now.
    Empty,
    /// Closed, and everything pushed before the close has been taken.
    Closed,
}

struct Slot<T> {
    /// `{lap, index} + 1` once written for lap `lap`; `{lap + 1, index}` once read.
    stamp: AtomicU64,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded MPMC FIFO ring that can be closed.
pub(crate) struct Ring<T> {
    /// Next slot to pop: `{lap, index}`; never carries the mark bit.
    head: CachePadded<AtomicU64>,
    /// Next slot to push: `{lap, mark, index}`; the mark bit means closed.
    tail: CachePadded<AtomicU64>,
    buffer: Box<[Slot<T>]>,
    cap: u64,
    /// `(cap + 1).next_power_of_two()`: the bit that marks `tail` closed.
    mark_bit: u64,
    /// `2 * mark_bit`: adding it to an index moves one lap forward.
    one_lap: u64,
}

// SAFETY:
// - values move between threads only through slots whose stamps hand ownership to exactly
//   one pusher (to write) and then exactly one popper (to read), so sending the ring needs
//   only `T: Send`;
// - shared access never hands out `&T`, only moves `T` in and out, so `Sync` needs `T: Send`.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: see the `Send` impl above; no `&T` is ever shared between threads.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring with `cap` slots, all allocated now.
    ///
    /// # Panics
    ///
    /// If `cap` is zero or too large to index (callers keep it small).
    pub(crate) fn new(cap: usize) -> Self {
        assert!(cap > 0, "ring capacity must be non-zero");
        let cap = cap as u64;
        let mark_bit = (cap + 1).next_power_of_two();
        let one_lap = mark_bit * 2;
        let buffer = (0..cap)
            .map(|i| Slot {
                stamp: AtomicU64::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Self {
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            buffer,
            cap,
            mark_bit,
            one_lap,
        }
    }

    /// The position after `pos` (`pos` without the mark bit).
    #[inline]
    fn next(&self, pos: u64) -> u64 {
        let index = pos & (self.mark_bit - 1);
        let lap = pos & !(self.one_lap - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            lap.wrapping_add(self.one_lap)
        }
    }

    #[inline]
    fn slot(&self, pos: u64) -> &Slot<T> {
        let index = (pos & (self.mark_bit - 1)) as usize;
        debug_assert!(index < self.buffer.len());
        &self.buffer[index]
    }

    /// Stores `value` at the tail unless the ring is full or closed.
    ///
    /// The slot is reserved by a `SeqCst` CAS on `tail`, which is what waiters' checks read.
    #[inline]
    pub(crate) fn try_push(&self, value: T) -> Result<(), Push<T>> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(Push::Closed(value));
            }
            let slot = self.slot(tail);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if tail == stamp {
                let new_tail = self.next(tail);
                match self.tail.compare_exchange_weak(
                    tail,
                    new_tail,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY:
                        // - the CAS above gave this thread the slot for this lap: its stamp
                        //   equalled `tail`, so the previous value was read out, and no other
                        //   pusher can reserve it until a popper advances the stamp;
                        // - poppers read it only after the `Release` stamp store below.
                        unsafe { slot.value.get().write(MaybeUninit::new(value)) };
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => {
                        tail = current;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value: full unless a pop is under way.
                fence(Ordering::SeqCst);
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(Push::Full(value));
                }
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another pusher reserved this slot and has not moved `tail` on for us yet.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the value at the head, waiting out a push that reserved it but has not written.
    ///
    /// The slot is taken by a `SeqCst` CAS on `head`, which is what waiting pushers read.
    #[inline]
    pub(crate) fn try_pop(&self) -> Result<T, Pop> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(head);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if head + 1 == stamp {
                let new_head = self.next(head);
                match self.head.compare_exchange_weak(
                    head,
                    new_head,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY:
                        // - the stamp `head + 1` (loaded with `Acquire`, pairing with the
                        //   pusher's `Release`) says the slot holds an initialised value;
                        // - the CAS gave this thread that value; no other popper can take it,
                        //   and no pusher reuses the slot until the stamp store below.
                        let value = unsafe { slot.value.get().read().assume_init() };
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(value);
                    }
                    Err(current) => {
                        head = current;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                fence(Ordering::SeqCst);
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        Pop::Closed
                    } else {
                        Pop::Empty
                    });
                }
                // Reserved by a pusher that has not written yet.
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            } else {
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Marks the ring closed; returns whether this call did it.
    pub(crate) fn close(&self) -> bool {
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    /// Whether [`close`](Ring::close) ran.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// A getter may sleep: nothing reserved or stored, and not closed. `SeqCst` loads only.
    #[inline]
    pub(crate) fn getter_may_park(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail == head
    }

    /// A putter may sleep: every slot taken, and not closed. `SeqCst` loads only.
    #[inline]
    pub(crate) fn putter_may_park(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail & self.mark_bit == 0 && head.wrapping_add(self.one_lap) == tail
    }

    /// Number of values stored or reserved.
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                let hix = head & (self.mark_bit - 1);
                let tix = tail & (self.mark_bit - 1);
                let len = if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.cap - hix + tix
                } else if tail & !self.mark_bit == head {
                    0
                } else {
                    self.cap
                };
                return len as usize;
            }
        }
    }

    /// How many pushes ever reserved a slot (read from `tail` with `SeqCst`).
    #[inline]
    pub(crate) fn pushed(&self) -> u64 {
        let tail = self.tail.load(Ordering::SeqCst) & !self.mark_bit;
        (tail / self.one_lap) * self.cap + (tail & (self.mark_bit - 1))
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        let head = *self.head.get_mut();
        let tail = *self.tail.get_mut() & !self.mark_bit;
        let mut pos = head;
        while pos != tail {
            let index = (pos & (self.mark_bit - 1)) as usize;
            let slot = &mut self.buffer[index];
            // SAFETY:
            // - `&mut self`: no push or pop is running, so every slot from head to tail was
            //   written (a reserving push returns only after writing) and not yet read;
            // - each slot is visited once, so each value is dropped once.
            unsafe { slot.value.get_mut().assume_init_drop() };
            pos = self.next(pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Pop, Push, Ring};

    #[test]
    fn wraps_laps_and_counts_pushes() {
        let ring = Ring::new(3);
        for round in 0..10u64 {
            for i in 0..3 {
                assert!(ring.try_push(round * 3 + i).is_ok());
            }
            assert!(matches!(ring.try_push(99), Err(Push::Full(99))));
            assert!(ring.putter_may_park());
            assert_eq!(ring.len(), 3);
            for i in 0..3 {
                assert_eq!(ring.try_pop().ok(), Some(round * 3 + i));
            }
            assert_eq!(ring.try_pop().err(), Some(Pop::Empty));
            assert!(ring.getter_may_park());
            assert_eq!(ring.pushed(), (round + 1) * 3);
        }
    }

    #[test]
    fn close_refuses_pushes_and_drains() {
        let ring = Ring::new(4);
        assert!(ring.try_push(1).is_ok());
        assert!(ring.close());
        assert!(!ring.close());
        assert!(ring.is_closed());
        assert!(matches!(ring.try_push(2), Err(Push::Closed(2))));
        assert!(!ring.getter_may_park());
        assert!(!ring.putter_may_park());
        assert_eq!(ring.pushed(), 1);
        assert_eq!(ring.try_pop().ok(), Some(1));
        assert_eq!(ring.try_pop().err(), Some(Pop::Closed));
    }

    #[test]
    fn drop_releases_what_is_left() {
        let item = std::sync::Arc::new(());
        let ring = Ring::new(2);
        assert!(ring.try_push(item.clone()).is_ok());
        assert!(ring.try_push(item.clone()).is_ok());
        assert!(ring.try_pop().is_ok());
        assert!(ring.try_push(item.clone()).is_ok());
        assert_eq!(std::sync::Arc::strong_count(&item), 3);
        drop(ring);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }
}
