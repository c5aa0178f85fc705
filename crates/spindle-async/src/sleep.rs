//! [`sleep`], [`sleep_until`] and [`yield_now`]: Python's `asyncio.sleep`.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::scheduler::with_current;
use crate::timer::{TimerAction, TimerInner};

/// Waits `delay` on the running loop's timer heap. Python's `await asyncio.sleep(delay)`.
///
/// A zero delay yields once to the other ready tasks (Python's `sleep(0)`); a delay too large
/// for `Instant` never ends.
///
/// # Panics
///
/// When polled outside a running spindle loop.
///
/// # Cancel safety
///
/// Safe: dropping it cancels its timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use spindle_async::{run, sleep};
///
/// run(async {
///     let t0 = Instant::now();
///     sleep(Duration::from_millis(5)).await;
///     assert!(t0.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(delay: Duration) -> Sleep {
    if delay.is_zero() {
        return Sleep {
            deadline: None,
            zero: true,
            timer: None,
        };
    }
    Sleep {
        deadline: Instant::now().checked_add(delay),
        zero: false,
        timer: None,
    }
}

/// Waits until `deadline` on the loop's clock. Python's `asyncio.sleep(when - loop.time())`.
///
/// # Panics
///
/// When polled outside a running spindle loop.
///
/// # Cancel safety
///
/// Safe: dropping it cancels its timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use spindle_async::{run, sleep_until};
///
/// run(async {
///     let at = Instant::now() + Duration::from_millis(2);
///     sleep_until(at).await;
///     assert!(Instant::now() >= at);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        zero: false,
        timer: None,
    }
}

/// Lets every other ready task and callback run once before going on.
/// Python's `await asyncio.sleep(0)`.
///
/// # Cancel safety
///
/// Safe.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use spindle_async::{run, spawn, yield_now};
///
/// run(async {
///     let flag = Rc::new(Cell::new(false));
///     let f = flag.clone();
///     let _t = spawn(async move { f.set(true) });
///     yield_now().await;
///     assert!(flag.get());
/// });
/// ```
pub fn yield_now() -> Sleep {
    sleep(Duration::ZERO)
}

/// The future of [`sleep`], [`sleep_until`] and [`yield_now`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use spindle_async::{run, sleep, Sleep};
///
/// run(async {
///     let start = Instant::now();
///     let s: Sleep = sleep(Duration::from_millis(1));
///     s.await;
///     assert!(start.elapsed() >= Duration::from_millis(1));
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// `None` with `zero == false`: sleep forever.
    deadline: Option<Instant>,
    zero: bool,
    timer: Option<Rc<TimerInner>>,
}

impl Sleep {
    /// The instant this sleep ends, if it ever does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use spindle_async::{sleep, sleep_until};
    ///
    /// let when = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(sleep_until(when).deadline(), Some(when));
    /// assert!(sleep(Duration::from_secs(1)).deadline().is_some());
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.zero {
            // Yield once: wake ourselves, and make the next poll see a past deadline.
            self.zero = false;
            self.deadline = Some(Instant::now());
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(t) = &self.timer {
            if t.has_fired() {
                self.timer = None;
                return Poll::Ready(());
            }
            t.set_waker(cx.waker());
            return Poll::Pending;
        }
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        let timer = TimerInner::new(deadline, TimerAction::Wake(Some(cx.waker().clone())));
        with_current(|lp| match lp {
            Some(lp) => lp.add_timer(timer.clone()),
            None => panic!("sleep() polled outside a running spindle event loop"),
        });
        self.timer = Some(timer);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(t) = self.timer.take() {
            if t.cancel() {
                with_current(|lp| {
                    if let Some(lp) = lp {
                        lp.timer_cancelled();
                    }
                });
            }
        }
    }
}
