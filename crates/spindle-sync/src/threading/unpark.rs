//! Waking up to `n` threads parked on one key while keeping a count of the parked ones, as
//! `Condition::notify(n)` and `Semaphore::release(n)` both do.

use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot_core::{FilterOp, UnparkResult, DEFAULT_UNPARK_TOKEN};

/// Unparks up to `n` threads parked on `key`, oldest first, and subtracts the number woken
/// from `waiters` (with ordering `order`) in the unpark callback, which runs while
/// `parking_lot_core` still holds the key's bucket locked.
///
/// # Safety
///
/// `key` is an address the caller's type controls: only that type parks or unparks there,
/// and it counts each parked thread in `waiters`.
pub(crate) unsafe fn unpark_up_to(key: usize, n: usize, waiters: &AtomicUsize, order: Ordering) {
    let mut woken = 0;
    let filter = |_| {
        if woken < n {
            woken += 1;
            FilterOp::Unpark
        } else {
            FilterOp::Stop
        }
    };
    let callback = |result: UnparkResult| {
        waiters.fetch_sub(result.unparked_threads, order);
        DEFAULT_UNPARK_TOKEN
    };
    // SAFETY:
    // - the caller controls `key`, as this function's contract requires.
    // - the filter and callback neither panic nor call into parking_lot_core.
    unsafe {
        parking_lot_core::unpark_filter(key, filter, callback);
    }
}
