//! The reference-counted allocation behind a [`Future`](super::Future): a count, a
//! type-erased destructor and the [`Header`], followed (for a pool task) by its closure.
//!
//! Hand-made instead of an `Arc<dyn ..>` for two reasons measured on the submit path: a task
//! starts with two references (the queue's and the future's) in one plain store instead of a
//! locked increment, and a small cell lives in a slab slot (see `slab.rs`) instead of its
//! own `malloc` chunk. Every cell type starts with a [`CellHead`] (`repr(C)`), whose first
//! field is an [`Erased`], so a pointer to any cell can be read as either.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

use super::Header;
use crate::slab;

/// The part of every cell that does not depend on its types.
#[repr(C)]
pub(crate) struct Erased {
    /// Handles alive (futures and the queued job).
    refs: AtomicUsize,
    /// Drops the whole cell in place and frees its memory.
    destroy: unsafe fn(NonNull<Erased>),
}

/// The start of every cell for a future of `T`.
#[repr(C)]
pub(crate) struct CellHead<T> {
    erased: Erased,
    pub(crate) header: Header<T>,
}

impl<T> CellHead<T> {
    /// A head with `refs` references whose cell is destroyed by `destroy`.
    pub(crate) fn new(refs: usize, destroy: unsafe fn(NonNull<Erased>)) -> Self {
        Self {
            erased: Erased {
                refs: AtomicUsize::new(refs),
                destroy,
            },
            header: Header::new(),
        }
    }
}

/// Moves `value` to a fresh cell: a slab slot when it fits, else its own allocation.
///
/// `C` must be `repr(C)` and start with a [`CellHead`]; free it with [`free_cell`].
pub(crate) fn alloc_cell<C>(value: C) -> NonNull<C> {
    let layout = Layout::new::<C>();
    let mem = if slab::fits(layout) {
        slab::alloc_slot().cast::<C>()
    } else {
        // SAFETY:
        // - `C` starts with a `CellHead`, so its size is not zero.
        let raw = unsafe { alloc(layout) };
        match NonNull::new(raw.cast::<C>()) {
            Some(mem) => mem,
            None => handle_alloc_error(layout),
        }
    };
    // SAFETY:
    // - `mem` is valid for writes of a `C` and aligned for it (a slot is 128-aligned and
    //   `fits` checked the alignment).
    unsafe { mem.as_ptr().write(value) };
    mem
}

/// Drops the cell's contents and frees its memory: the `destroy` of a cell of type `C`.
///
/// # Safety
///
/// `cell` points to a live `C` made by [`alloc_cell`], and nothing uses it afterwards.
pub(crate) unsafe fn free_cell<C>(cell: NonNull<Erased>) {
    let cell = cell.cast::<C>();
    // SAFETY:
    // - The caller guarantees a live `C` that nobody else uses.
    unsafe { cell.as_ptr().drop_in_place() };
    let layout = Layout::new::<C>();
    if slab::fits(layout) {
        // SAFETY:
        // - `alloc_cell` took this memory from `alloc_slot` (same `fits` test), and its
        //   contents were just dropped.
        unsafe { slab::free_slot(cell.cast()) };
    } else {
        // SAFETY:
        // - `alloc_cell` allocated it with this layout.
        unsafe { dealloc(cell.as_ptr().cast(), layout) };
    }
}

/// Adds a reference to the cell.
///
/// # Safety
///
/// The caller holds a reference, so the cell is alive.
pub(crate) unsafe fn acquire(cell: NonNull<Erased>) {
    // SAFETY:
    // - The cell is alive (see above).
    let refs = unsafe { &cell.as_ref().refs };
    // Relaxed, as `Arc::clone`: a new reference is made from an existing one.
    if refs.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
        // Leaked handles in a loop; the count must not wrap (`Arc` aborts the same way).
        std::process::abort();
    }
}

/// Whether the caller's reference is the only one; if so, everything done through the
/// others happened before this returns (`Acquire`, paired with their `Release` decrements).
fn is_unique(erased: &Erased) -> bool {
    erased.refs.load(Ordering::Acquire) == 1
}

/// Whether the caller's reference to the cell is the only one: then nobody else can reach
/// it until the caller makes a new reference, and all earlier uses through other references
/// happened before this returns.
///
/// # Safety
///
/// The caller holds a reference, so the cell is alive.
pub(crate) unsafe fn unique(cell: NonNull<Erased>) -> bool {
    // SAFETY:
    // - The cell is alive (see above).
    is_unique(unsafe { cell.as_ref() })
}

/// Drops a reference; the last one destroys the cell.
///
/// # Safety
///
/// The caller gives up a reference it holds and does not use the cell afterwards.
pub(crate) unsafe fn release(cell: NonNull<Erased>) {
    // SAFETY:
    // - The caller's reference keeps the cell alive until the decrement.
    let erased = unsafe { cell.as_ref() };
    let destroy = erased.destroy;
    // The last handle (the usual case for a collected result) skips the locked decrement: at a
    // count of one nobody else can add a reference, so nobody can observe the skip.
    if is_unique(erased) || erased.refs.fetch_sub(1, Ordering::Release) == 1 {
        // Every use through another reference happened before its `Release` decrement.
        fence(Ordering::Acquire);
        // SAFETY:
        // - That was the last reference: nobody else can reach the cell, and `destroy`
        //   belongs to its type.
        unsafe { destroy(cell) };
    }
}
