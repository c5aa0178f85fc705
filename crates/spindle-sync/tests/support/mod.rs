//! Helpers shared by the `sync_*`, `queue_*` and `deadlock_*` integration tests (not a test
//! of its own).

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

/// The longest any test waits for something that should happen: a bug fails, never hangs.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A timeout that is expected to expire.
pub const SHORT: Duration = Duration::from_millis(30);

/// Spins (yielding) until `cond` holds; panics after [`LIMIT`]. Used to wait until other
/// threads reached a state that no primitive reports (for instance "parked"), never as a
/// sleep.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// Runs `f` and returns how long it took along with its value.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed())
}

/// Timeouts may return a little early on some clocks; CPython's lock_tests allow this
/// much slack on the lower bound.
pub fn at_least(elapsed: Duration, timeout: Duration) {
    let slack = Duration::from_millis(2);
    assert!(
        elapsed + slack >= timeout,
        "returned after {elapsed:?}, timeout was {timeout:?}"
    );
}

/// Runs `blocking` on another thread, waits until `parked` says that thread is blocked (see
/// [`wait_until`]), then runs `wake` here and returns what `blocking` returned: a hand-off to
/// a parked thread with no sleep.
pub fn wake_parked<R: Send>(
    blocking: impl FnOnce() -> R + Send,
    parked: impl FnMut() -> bool,
    wake: impl FnOnce(),
) -> R {
    std::thread::scope(|s| {
        let blocked = s.spawn(blocking);
        wait_until("the other thread is parked", parked);
        wake();
        blocked.join().unwrap()
    })
}

/// Instantiates the tests given to it once per bounded queue kind, in modules `fifo`, `lifo`
/// and `priority`, with `Q` naming the kind (`Queue`, `LifoQueue`, `PriorityQueue`).
#[allow(unused_macros)]
macro_rules! for_each_kind {
    ($($body:tt)*) => {
        mod fifo {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = spindle_sync::queue::Queue<T>;
            $($body)*
        }
        mod lifo {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = spindle_sync::queue::LifoQueue<T>;
            $($body)*
        }
        mod priority {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = spindle_sync::queue::PriorityQueue<T>;
            $($body)*
        }
    };
}
