//! Memory for small futures: 128-byte slots carved from 8 KiB slabs, so a submit costs no
//! `malloc` and a dropped future no `free`.
//!
//! Why: in `threadpool_throughput_1e5` (10^5 submits, then 10^5 results) glibc's `malloc`
//! and `free` were about half of the submitting thread's time: once the per-thread cache is
//! empty every `malloc` takes the arena lock (two locked instructions), and every `free`
//! of a chunk that size goes through a fastbin and a later consolidation.
//!
//! How: each thread that creates futures owns one *current* slab and hands its slots out
//! with a thread-local bump index (no atomic operation). A slab is aligned to its size, so a
//! slot finds its slab by masking its address. The slab's `live` count is charged up front
//! for every slot plus one for the owner; releasing a slot subtracts one, and the owner, when
//! it moves on to a fresh slab (or its thread exits), subtracts the slots it never handed out
//! plus its own share. Whoever brings `live` to zero frees the slab (`Release` decrement,
//! `Acquire` fence, as `Arc` does).
//!
//! The cost: a slab is freed only once all of its futures are dropped, so a long-lived
//! future keeps up to 8 KiB alive, and each thread that submitted keeps its current slab.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// Bytes of one slot; a layout up to this size (and alignment) lives in a slab.
const SLOT_BYTES: usize = 128;
/// Bytes (and alignment) of one slab.
const SLAB_BYTES: usize = 8192;
/// Slots per slab; slot 0 holds the [`SlabHeader`], the others are handed out.
const SLOTS: usize = SLAB_BYTES / SLOT_BYTES;

const SLAB_LAYOUT: Layout = match Layout::from_size_align(SLAB_BYTES, SLAB_BYTES) {
    Ok(layout) => layout,
    Err(_) => panic!("slab layout"),
};

/// The first slot of every slab.
struct SlabHeader {
    /// Slots not yet released, counting the ones the owner has not handed out, plus one
    /// while the slab is some thread's current slab.
    live: AtomicUsize,
}

/// Whether a value of `layout` is placed in a slab slot (else it is allocated on its own).
pub(crate) const fn fits(layout: Layout) -> bool {
    layout.size() <= SLOT_BYTES && layout.align() <= SLOT_BYTES
}

/// The calling thread's current slab and the index of its next free slot.
struct Bump {
    slab: Cell<Option<NonNull<SlabHeader>>>,
    next: Cell<usize>,
}

impl Drop for Bump {
    fn drop(&mut self) {
        if let Some(slab) = self.slab.get() {
            // SAFETY:
            // - `slab` is this thread's current slab, whose owner share has not been given
            //   back yet; the slots from `next` on were never handed out.
            unsafe { retire(slab, self.next.get()) };
        }
    }
}

thread_local! {
    static BUMP: Bump = const {
        Bump {
            slab: Cell::new(None),
            next: Cell::new(SLOTS),
        }
    };
}

/// A fresh slab, charged for all of its slots plus its owner.
fn new_slab() -> NonNull<SlabHeader> {
    // SAFETY:
    // - `SLAB_LAYOUT` has a non-zero size.
    let raw = unsafe { alloc(SLAB_LAYOUT) };
    let Some(slab) = NonNull::new(raw.cast::<SlabHeader>()) else {
        handle_alloc_error(SLAB_LAYOUT)
    };
    // SAFETY:
    // - `slab` is freshly allocated, aligned to `SLAB_BYTES`, and the header fits in slot 0.
    unsafe {
        slab.as_ptr().write(SlabHeader {
            live: AtomicUsize::new(SLOTS),
        });
    }
    slab
}

/// The address of slot `index` of `slab`.
fn slot(slab: NonNull<SlabHeader>, index: usize) -> NonNull<u8> {
    debug_assert!((1..SLOTS).contains(&index));
    // SAFETY:
    // - `index < SLOTS`, so the offset stays inside the slab's allocation.
    unsafe { slab.cast::<u8>().add(index * SLOT_BYTES) }
}

/// Subtracts `n` from `slab`'s live count and frees the slab if that was the rest.
///
/// # Safety
///
/// The caller owns `n` units of the count (released slots or the owner's share) and gives
/// them up; no slot it counts is used afterwards.
unsafe fn release_n(slab: NonNull<SlabHeader>, n: usize) {
    // SAFETY:
    // - The slab is alive: the caller still holds `n >= 1` units of its count.
    let live = unsafe { &slab.as_ref().live };
    if live.fetch_sub(n, Ordering::Release) == n {
        // Every other release happened before this point (they were `Release`).
        fence(Ordering::Acquire);
        // SAFETY:
        // - The count reached zero: no slot is in use and no thread owns the slab, and it
        //   was allocated by `new_slab` with `SLAB_LAYOUT`.
        unsafe { dealloc(slab.as_ptr().cast(), SLAB_LAYOUT) };
    }
}

/// The owner gives up its current slab: the slots from `next` on, plus its own share.
///
/// # Safety
///
/// `slab` is the caller's current slab, `next` its bump index, and the caller stops using it.
unsafe fn retire(slab: NonNull<SlabHeader>, next: usize) {
    // SAFETY:
    // - The owner holds one unit for itself and one for each slot not handed out.
    unsafe { release_n(slab, SLOTS - next + 1) };
}

/// A 128-byte, 128-aligned slot of uninitialised memory; give it back with [`free_slot`].
pub(crate) fn alloc_slot() -> NonNull<u8> {
    BUMP.try_with(|bump| {
        let mut next = bump.next.get();
        let slab = match bump.slab.get() {
            Some(slab) if next < SLOTS => slab,
            old => {
                if let Some(old) = old {
                    // SAFETY:
                    // - `old` is this thread's current slab and `next` its bump index; it
                    //   is replaced below and never bumped again.
                    unsafe { retire(old, next) };
                }
                let slab = new_slab();
                bump.slab.set(Some(slab));
                next = 1;
                slab
            }
        };
        bump.next.set(next + 1);
        slot(slab, next)
    })
    .unwrap_or_else(|_| {
        // The thread is exiting and its thread-locals are gone: a slab for this one slot.
        let slab = new_slab();
        // SAFETY:
        // - A fresh slab's count is `SLOTS`, all held by this code; it keeps one unit, for
        //   slot 1, and nobody owns the slab.
        unsafe { release_n(slab, SLOTS - 1) };
        slot(slab, 1)
    })
}

/// Gives back a slot from [`alloc_slot`].
///
/// # Safety
///
/// `slot` came from [`alloc_slot`], is given back once, and whatever it held was dropped.
pub(crate) unsafe fn free_slot(slot: NonNull<u8>) {
    let offset = slot.as_ptr() as usize & (SLAB_BYTES - 1);
    // SAFETY:
    // - Slabs are aligned to `SLAB_BYTES`, so stepping back by the offset inside the slab
    //   lands on its header, within the same allocation.
    let slab = unsafe { slot.sub(offset) }.cast::<SlabHeader>();
    // SAFETY:
    // - The slot was counted in the slab's `live` when handed out, and is released once.
    unsafe { release_n(slab, 1) };
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn slots_are_distinct_aligned_and_reused_slabs_are_freed() {
        // More than two slabs' worth, released out of order, across a slab change.
        let slots: Vec<_> = (0..3 * SLOTS).map(|_| alloc_slot()).collect();
        let distinct: HashSet<usize> = slots.iter().map(|p| p.as_ptr() as usize).collect();
        assert_eq!(distinct.len(), slots.len());
        for p in &slots {
            assert_eq!(p.as_ptr() as usize % SLOT_BYTES, 0);
            assert_ne!(p.as_ptr() as usize % SLAB_BYTES, 0, "slot 0 is the header");
        }
        for p in slots.into_iter().rev() {
            // SAFETY:
            // - Each slot came from `alloc_slot`, holds nothing, and is freed once.
            unsafe { free_slot(p) };
        }
    }

    #[test]
    fn a_slot_freed_on_another_thread_is_counted() {
        let addr = alloc_slot().as_ptr().expose_provenance();
        std::thread::spawn(move || {
            let p = NonNull::new(std::ptr::with_exposed_provenance_mut::<u8>(addr)).unwrap();
            // SAFETY:
            // - The slot came from `alloc_slot`, holds nothing, and is freed once, here.
            unsafe { free_slot(p) }
        })
        .join()
        .unwrap();
        // A thread that allocates and exits gives its slab back on exit.
        std::thread::spawn(|| {
            let q = alloc_slot();
            // SAFETY:
            // - As above.
            unsafe { free_slot(q) };
        })
        .join()
        .unwrap();
    }

    #[test]
    fn layouts_that_fit() {
        assert!(fits(Layout::new::<[u64; 16]>()));
        assert!(!fits(Layout::new::<[u64; 17]>()));
    }
}
