//! Brief busy-waiting before parking: a wake-up through the kernel costs 5-25 us on a small
//! VM, while a short task finishes in well under one.
//!
//! crossbeam's `Backoff` doubles its spin up to 64 `pause` instructions between checks, and
//! one `pause` takes up to ~140 cycles on recent Intel cores, so it may look only every few
//! microseconds. [`spin_then_yield`] checks after every single `pause`; after a first burst it
//! yields the CPU between short bursts, then gives up (the caller parks).
//!
//! Why the yields are interleaved (2-vCPU VM, one submit + result at a time): pure spinning
//! (300 polls before the first yield) gave a 0.75 us median hand-off on a quiet machine but
//! 11 us when other processes took one of the two CPUs, because the spinning waiter kept the
//! thread it waited for off the remaining CPU. A yield every few polls lets that thread run.

use std::hint::spin_loop;
use std::thread::yield_now;

/// Polls before the first yield (~1-4 us, depending on the cost of `pause`).
const FIRST_BURST: u32 = 64;
/// Polls between two yields.
const BURST: u32 = 16;

/// Polls `ready` with a `pause` between polls: `FIRST_BURST` times, then `yields` rounds of
/// one `yield_now` and `BURST` polls. Returns the first `Some` it sees, `None` if it gave up.
#[inline]
pub(crate) fn spin_then_yield<R>(yields: u32, mut ready: impl FnMut() -> Option<R>) -> Option<R> {
    for _ in 0..FIRST_BURST {
        if let Some(r) = ready() {
            return Some(r);
        }
        spin_loop();
    }
    for _ in 0..yields {
        yield_now();
        for _ in 0..BURST {
            if let Some(r) = ready() {
                return Some(r);
            }
            spin_loop();
        }
    }
    ready()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_ready_value_or_gives_up() {
        let mut n = 0;
        let found = spin_then_yield(3, || {
            n += 1;
            (n == FIRST_BURST + 5).then_some(n)
        });
        assert_eq!(found, Some(FIRST_BURST + 5));
        let mut calls = 0;
        let none = spin_then_yield(2, || {
            calls += 1;
            None::<()>
        });
        assert_eq!(none, None);
        assert_eq!(
            calls,
            FIRST_BURST + 2 * BURST + 1,
            "bursts plus one last look"
        );
    }
}
