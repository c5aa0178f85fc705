//! The growable lock-free FIFO store: a linked list of blocks with a "closed" mark in `tail`.
//!
//! This is crossbeam's `SegQueue` (crossbeam-queue `src/seg_queue.rs`, itself the list flavour
//! of `crossbeam-channel`, after Dmitry Vyukov's designs), with what crossbeam-channel's list
//! flavour adds for disconnection: bit 0 of `tail` marks the list closed, a push reserves its
//! slot with one CAS on `tail` that fails once the mark is set, and a pop reports
//! [`Pop::Closed`] only when `head` has caught up with a marked `tail` (a reserved slot is
//! waited for, never skipped). spindle adds an optional bound, checked against `head` before
//! the reserving CAS, and [`List::pushed`], the number of pushes ever made, read off `tail`.
//!
//! Used for unbounded queues and for bounds too large to allocate as a ring up front.

use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{fence, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::{Backoff, CachePadded};

use super::ring::{Pop, Push};

/// Slot state bit: the value is written.
const WRITE: usize = 1;
/// Slot state bit: the value is read.
const READ: usize = 2;
/// Slot state bit: the block is being destroyed and this slot's reader must finish the job.
const DESTROY: usize = 4;

/// Indices per block; the last one is never a slot (it means "moving to the next block").
const LAP: u64 = 32;
/// Slots per block.
const BLOCK_CAP: usize = LAP as usize - 1;
/// Indices are shifted by this many bits, leaving bit 0 for a flag.
const SHIFT: u64 = 1;
/// Flag in `head`: the head block has a successor, so pops need not look at `tail`.
const HAS_NEXT: u64 = 1;
/// Flag in `tail`: the list is closed.
const MARK: u64 = 1;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// `WRITE | READ | DESTROY` bits.
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until a pusher that reserved this slot has written it.
    fn wait_write(&self) {
        let backoff = Backoff::new();
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    const LAYOUT: Layout = Layout::new::<Self>();

    /// A block with every slot empty, allocated zeroed (a valid state for all its fields).
    fn new() -> Box<Self> {
        // SAFETY: `Block` holds an `AtomicPtr`, so its layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(Self::LAYOUT) };
        if raw.is_null() {
            handle_alloc_error(Self::LAYOUT)
        }
        // SAFETY:
        // - `raw` was allocated with the global allocator for `Self::LAYOUT`;
        // - all-zero bytes are a valid `Block`: a null `AtomicPtr`, zero `AtomicUsize` states
        //   and uninitialised `MaybeUninit` values.
        unsafe { Box::from_raw(raw.cast()) }
    }

    /// Waits until the next block is linked in.
    fn wait_next(&self) -> *mut Self {
        let backoff = Backoff::new();
        loop {
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Frees the block once every slot from `start` on has been read; a slot still being read
    /// gets `DESTROY` set and its reader calls this again.
    ///
    /// # Safety
    ///
    /// `this` points to a live block that no pusher will touch again, and every slot before
    /// `start` has been read (or this is called by the reader of the last slot with 0).
    unsafe fn destroy(this: *mut Self, start: usize) {
        // The last slot's reader started the destruction, so it needs no check.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the caller guarantees `this` is live; `i < BLOCK_CAP`.
            let slot = unsafe { (*this).slots.get_unchecked(i) };
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                // That slot's reader will free the block.
                return;
            }
        }
        // SAFETY: every slot has been read, so nobody refers to the block any more; it came
        // from `Box::into_raw`.
        drop(unsafe { Box::from_raw(this) });
    }
}

struct Position<T> {
    index: AtomicU64,
    block: AtomicPtr<Block<T>>,
}

/// The number of pushes (or pops) an index stands for: every lap skips one index.
#[inline]
fn count(index: u64) -> u64 {
    let i = index >> SHIFT;
    i - i / LAP
}

/// An unbounded (or loosely large-bounded) MPMC FIFO that can be closed.
pub(crate) struct List<T> {
    /// `{index << 1 | HAS_NEXT}` and the block it is in.
    head: CachePadded<Position<T>>,
    /// `{index << 1 | MARK}` and the block it is in.
    tail: CachePadded<Position<T>>,
    /// Pushes are refused with `Full` while this many items are in; `u64::MAX` = no bound.
    cap: u64,
}

// SAFETY:
// - values move in and out of slots whose `WRITE`/`READ` states give each to exactly one
//   pusher and then exactly one popper, so sending or sharing the list needs only `T: Send`;
// - blocks are freed exactly once (by `destroy` or `Drop`), never while a thread uses them.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: see the `Send` impl above; no `&T` is ever shared between threads.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    /// An empty list refusing pushes while `cap` items are in (`usize::MAX` for no bound).
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            head: CachePadded::new(Position {
                index: AtomicU64::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            tail: CachePadded::new(Position {
                index: AtomicU64::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            cap: if cap == usize::MAX {
                u64::MAX
            } else {
                cap as u64
            },
        }
    }

    /// Stores `value` at the tail unless the list is full or closed.
    ///
    /// The slot is reserved by a `SeqCst` CAS on `tail`, which is what waiters' checks read.
    pub(crate) fn try_push(&self, value: T) -> Result<(), Push<T>> {
        let backoff = Backoff::new();
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block = None;
        loop {
            if tail & MARK != 0 {
                return Err(Push::Closed(value));
            }
            let offset = ((tail >> SHIFT) % LAP) as usize;
            // Another pusher is linking the next block in.
            if offset == BLOCK_CAP {
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            // `head` only grows, so a stale read errs towards `Full`; the CAS below fails if
            // another push got in first, so the bound is never passed.
            if self.cap != u64::MAX
                && count(tail) - count(self.head.index.load(Ordering::SeqCst)) >= self.cap
            {
                return Err(Push::Full(value));
            }
            // Allocate the next block early, outside the window where others wait for it.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(Block::<T>::new());
            }
            // The very first push installs the first block.
            if block.is_null() {
                let new = Box::into_raw(Block::<T>::new());
                if self
                    .tail
                    .block
                    .compare_exchange(block, new, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
                {
                    self.head.block.store(new, Ordering::Release);
                    block = new;
                } else {
                    // SAFETY: `new` came from `Box::into_raw` above and was never shared.
                    next_block = Some(unsafe { Box::from_raw(new) });
                    tail = self.tail.index.load(Ordering::Acquire);
                    block = self.tail.block.load(Ordering::Acquire);
                    continue;
                }
            }
            let new_tail = tail + (1 << SHIFT);
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // This push took the last slot: link the next block and move `tail`
                        // past the skipped index. `fetch_add` keeps a `MARK` set meanwhile.
                        let next = match next_block {
                            Some(b) => Box::into_raw(b),
                            None => Box::into_raw(Block::<T>::new()),
                        };
                        self.tail.block.store(next, Ordering::Release);
                        self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                        // SAFETY: `block` is the live tail block; blocks are freed only
                        // after all their slots were read, and this slot is not written yet.
                        unsafe { (*block).next.store(next, Ordering::Release) };
                    }
                    // SAFETY:
                    // - the CAS reserved slot `offset` of `block` for this thread alone;
                    // - the block stays allocated until that slot is read, which waits for
                    //   the `WRITE` bit set below.
                    unsafe {
                        let slot = (*block).slots.get_unchecked(offset);
                        slot.value.get().write(MaybeUninit::new(value));
                        slot.state.fetch_or(WRITE, Ordering::Release);
                    }
                    return Ok(());
                }
                Err(current) => {
                    tail = current;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Takes the value at the head, waiting out a push that reserved it but has not written.
    ///
    /// The slot is taken by a `SeqCst` CAS on `head`, which is what waiting pushers read.
    pub(crate) fn try_pop(&self) -> Result<T, Pop> {
        let backoff = Backoff::new();
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = ((head >> SHIFT) % LAP) as usize;
            // Another popper is moving to the next block.
            if offset == BLOCK_CAP {
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & HAS_NEXT == 0 {
                fence(Ordering::SeqCst);
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    return Err(if tail & MARK != 0 {
                        Pop::Closed
                    } else {
                        Pop::Empty
                    });
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= HAS_NEXT;
                }
            }
            // The first block is being installed.
            if block.is_null() {
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY:
                    // - the CAS gave this thread slot `offset` of `block`, which is live: a
                    //   block is freed only after all its slots were read, this one included;
                    // - the value is read only after its `WRITE` bit (`Acquire`) is seen;
                    // - on the last slot this thread frees the block (`destroy` from 0), after
                    //   linking `head` to the next one; otherwise `READ` tells a pending
                    //   destroyer it may go on, and `DESTROY` seen here makes this thread do it.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = (*block).wait_next();
                            let mut next_index = (new_head & !HAS_NEXT).wrapping_add(1 << SHIFT);
                            if !(*next).next.load(Ordering::Relaxed).is_null() {
                                next_index |= HAS_NEXT;
                            }
                            self.head.block.store(next, Ordering::Release);
                            self.head.index.store(next_index, Ordering::Release);
                        }
                        let slot = (*block).slots.get_unchecked(offset);
                        slot.wait_write();
                        let value = slot.value.get().read().assume_init();
                        if offset + 1 == BLOCK_CAP {
                            Block::destroy(block, 0);
                        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                            Block::destroy(block, offset + 1);
                        }
                        return Ok(value);
                    }
                }
                Err(current) => {
                    head = current;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Marks the list closed; returns whether this call did it.
    pub(crate) fn close(&self) -> bool {
        self.tail.index.fetch_or(MARK, Ordering::SeqCst) & MARK == 0
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.tail.index.load(Ordering::SeqCst) & MARK != 0
    }

    /// A getter may sleep: nothing reserved or stored, and not closed. `SeqCst` loads only.
    #[inline]
    pub(crate) fn getter_may_park(&self) -> bool {
        let tail = self.tail.index.load(Ordering::SeqCst);
        let head = self.head.index.load(Ordering::SeqCst);
        tail & MARK == 0 && head >> SHIFT == tail >> SHIFT
    }

    /// A putter may sleep: at the bound, and not closed. `SeqCst` loads only.
    #[inline]
    pub(crate) fn putter_may_park(&self) -> bool {
        let tail = self.tail.index.load(Ordering::SeqCst);
        let head = self.head.index.load(Ordering::SeqCst);
        tail & MARK == 0 && count(tail).saturating_sub(count(head)) >= self.cap
    }

    /// Values stored or reserved.
    pub(crate) fn len(&self) -> usize {
        // `head` first: read later, `tail` can only be further on.
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        usize::try_from(count(tail).saturating_sub(count(head))).unwrap_or(usize::MAX)
    }

    /// How many pushes ever reserved a slot.
    #[inline]
    pub(crate) fn pushed(&self) -> u64 {
        count(self.tail.index.load(Ordering::SeqCst))
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        let mut head = *self.head.index.get_mut() & !HAS_NEXT;
        let tail = *self.tail.index.get_mut() & !MARK;
        let mut block = *self.head.block.get_mut();
        // SAFETY:
        // - `&mut self`: no push or pop runs, so every index from head to tail is a written,
        //   unread slot (or a block boundary), each visited once;
        // - each block is freed once, when the walk leaves it, and the last one at the end.
        unsafe {
            while head != tail {
                let offset = ((head >> SHIFT) % LAP) as usize;
                if offset < BLOCK_CAP {
                    let slot = (*block).slots.get_unchecked(offset);
                    (*slot.value.get()).assume_init_drop();
                } else {
                    let next = *(*block).next.get_mut();
                    drop(Box::from_raw(block));
                    block = next;
                }
                head = head.wrapping_add(1 << SHIFT);
            }
            if !block.is_null() {
                drop(Box::from_raw(block));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{count, List, Pop, Push, LAP};

    #[test]
    fn counts_skip_one_index_per_lap() {
        let at = |i: u64| count(i << 1);
        assert_eq!(at(0), 0);
        assert_eq!(at(LAP - 1), LAP - 1);
        assert_eq!(at(LAP), LAP - 1);
        assert_eq!(at(LAP + 1), LAP);
        assert_eq!(at(2 * LAP), 2 * (LAP - 1));
    }

    #[test]
    fn fifo_across_blocks_with_counts() {
        let list = List::new(usize::MAX);
        assert_eq!(list.try_pop().err(), Some(Pop::Empty));
        assert!(list.getter_may_park());
        for i in 0..1000u32 {
            assert!(list.try_push(i).is_ok());
        }
        assert_eq!(list.len(), 1000);
        assert_eq!(list.pushed(), 1000);
        assert!(!list.getter_may_park());
        for i in 0..1000 {
            assert_eq!(list.try_pop().ok(), Some(i));
        }
        assert_eq!(list.len(), 0);
        assert_eq!(list.try_pop().err(), Some(Pop::Empty));
    }

    #[test]
    fn bound_and_close() {
        let list = List::new(40);
        for i in 0..40 {
            assert!(list.try_push(i).is_ok());
        }
        assert!(matches!(list.try_push(40), Err(Push::Full(40))));
        assert!(list.putter_may_park());
        assert_eq!(list.try_pop().ok(), Some(0));
        assert!(list.try_push(40).is_ok());
        assert!(list.close());
        assert!(!list.close());
        assert!(list.is_closed());
        assert!(matches!(list.try_push(41), Err(Push::Closed(41))));
        assert!(!list.putter_may_park());
        assert!(!list.getter_may_park());
        for i in 1..=40 {
            assert_eq!(list.try_pop().ok(), Some(i));
        }
        assert_eq!(list.try_pop().err(), Some(Pop::Closed));
        assert_eq!(list.pushed(), 41);
    }

    #[test]
    fn close_at_a_block_boundary_keeps_the_mark() {
        let list = List::new(usize::MAX);
        for i in 0..(LAP as usize - 2) {
            assert!(list.try_push(i).is_ok());
        }
        list.close();
        assert!(matches!(list.try_push(0), Err(Push::Closed(0))));
        let list = List::new(usize::MAX);
        for i in 0..(LAP as usize - 1) {
            assert!(list.try_push(i).is_ok());
        }
        list.close();
        assert!(list.is_closed());
        assert!(matches!(list.try_push(0), Err(Push::Closed(0))));
    }

    #[test]
    fn drop_releases_what_is_left() {
        let item = std::sync::Arc::new(());
        let list = List::new(usize::MAX);
        for _ in 0..100 {
            assert!(list.try_push(item.clone()).is_ok());
        }
        for _ in 0..40 {
            assert!(list.try_pop().is_ok());
        }
        assert_eq!(std::sync::Arc::strong_count(&item), 61);
        drop(list);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }
}
