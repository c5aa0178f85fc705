//! [`Backoff`]: how an idle rank polls MPI without spinning a core (MPI's own blocking calls
//! busy-wait).
//!
//! Poll hot for a few microseconds (a reply to a short task arrives in that time), then yield
//! the core for a while, then sleep, doubling the pause up to a ceiling, as mpi4py.futures
//! does (its ceiling is 1 ms). Any message resets it.

use std::time::{Duration, Instant};

/// Hot polling lasts this long after the last message.
const SPIN_FOR: Duration = Duration::from_micros(20);
/// Then the poller yields its core between polls for this long.
const YIELD_FOR: Duration = Duration::from_micros(200);
/// The first sleep; each further one doubles, up to the ceiling.
const FIRST_SLEEP: Duration = Duration::from_micros(10);

/// Escalating pauses between polls; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    idle_since: Instant,
    sleep: Duration,
    ceiling: Duration,
}

impl Backoff {
    /// A backoff whose sleeps grow up to `ceiling`.
    pub(crate) fn new(ceiling: Duration) -> Self {
        Backoff {
            idle_since: Instant::now(),
            sleep: FIRST_SLEEP.min(ceiling),
            ceiling,
        }
    }

    /// Back to hot polling: a message arrived.
    pub(crate) fn reset(&mut self) {
        self.idle_since = Instant::now();
        self.sleep = FIRST_SLEEP.min(self.ceiling);
    }

    /// One pause: spins or yields here and returns `None`, or returns how long the caller
    /// should sleep (by whatever wait also watches its other inputs).
    pub(crate) fn snooze(&mut self) -> Option<Duration> {
        let idle = self.idle_since.elapsed();
        if idle < SPIN_FOR {
            std::hint::spin_loop();
            None
        } else if idle < SPIN_FOR + YIELD_FOR {
            std::thread::yield_now();
            None
        } else {
            let pause = self.sleep;
            self.sleep = (self.sleep * 2).min(self.ceiling);
            Some(pause)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_double_up_to_the_ceiling_and_reset_starts_over() {
        let mut b = Backoff::new(Duration::from_micros(35));
        // Pretend the rank has been idle past the spin and yield phases.
        b.idle_since = Instant::now() - SPIN_FOR - YIELD_FOR;
        let pauses: Vec<_> = (0..4).map(|_| b.snooze()).collect();
        let us = |n| Some(Duration::from_micros(n));
        assert_eq!(pauses, [us(10), us(20), us(35), us(35)]);
        b.reset();
        assert_eq!(b.snooze(), None, "hot polling again after a message");
    }

    #[test]
    fn a_ceiling_below_the_first_sleep_is_respected() {
        let mut b = Backoff::new(Duration::from_micros(1));
        b.idle_since = Instant::now() - SPIN_FOR - YIELD_FOR;
        assert_eq!(b.snooze(), Some(Duration::from_micros(1)));
    }
}
