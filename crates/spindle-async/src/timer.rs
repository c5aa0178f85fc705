//! Timers: [`Handle`] and [`TimerHandle`] (Python's `asyncio.Handle`/`TimerHandle`) and the
//! heap entries behind `call_later`, `call_at` and `sleep`.
//!
//! The heap is a `BinaryHeap` ordered by (deadline, insertion sequence), so timers due at the
//! same instant fire in the order they were scheduled. Cancelling only flags the body; the
//! entry leaves the heap when it reaches the top or in a purge (CPython's lazy deletion).

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::fmt;
use std::rc::{Rc, Weak};
use std::task::Waker;
use std::time::Instant;

use crate::scheduler::{CallbackInner, LoopInner, Ready};

/// What a timer does when it comes due.
pub(crate) enum TimerAction {
    /// Run a callback (call_later / call_at).
    Callback(Option<Box<dyn FnOnce()>>),
    /// Wake a sleeping future.
    Wake(Option<Waker>),
}

/// The shared body of a timer.
pub(crate) struct TimerInner {
    pub(crate) when: Instant,
    cancelled: Cell<bool>,
    fired: Cell<bool>,
    action: RefCell<TimerAction>,
}

impl TimerInner {
    pub(crate) fn new(when: Instant, action: TimerAction) -> Rc<TimerInner> {
        Rc::new(TimerInner {
            when,
            cancelled: Cell::new(false),
            fired: Cell::new(false),
            action: RefCell::new(action),
        })
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    pub(crate) fn has_fired(&self) -> bool {
        self.fired.get()
    }

    /// Flags the timer cancelled; returns whether it was still pending in the heap.
    pub(crate) fn cancel(&self) -> bool {
        if self.cancelled.replace(true) {
            return false;
        }
        // Drop the callback or waker now: it may hold resources (Python clears the callback too).
        let old = std::mem::replace(&mut *self.action.borrow_mut(), TimerAction::Wake(None));
        drop(old);
        !self.fired.get()
    }

    /// Comes due: a waker is woken here, a callback goes to the ready queue.
    pub(crate) fn fire(self: Rc<Self>) -> Option<Ready> {
        self.fired.set(true);
        let waker = match &mut *self.action.borrow_mut() {
            TimerAction::Wake(w) => w.take(),
            TimerAction::Callback(_) => return Some(Ready::Timer(self.clone())),
        };
        if let Some(w) = waker {
            w.wake();
        }
        None
    }

    pub(crate) fn take_callback(&self) -> Option<Box<dyn FnOnce()>> {
        match &mut *self.action.borrow_mut() {
            TimerAction::Callback(f) => f.take(),
            TimerAction::Wake(_) => None,
        }
    }

    /// Replaces the waker of a `Wake` timer.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        if let TimerAction::Wake(w) = &mut *self.action.borrow_mut() {
            match w {
                Some(old) if old.will_wake(waker) => {}
                _ => *w = Some(waker.clone()),
            }
        }
    }
}

impl fmt::Debug for TimerInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").field("when", &self.when).finish()
    }
}

/// A heap entry: the earliest deadline (then the lowest sequence) is the greatest.
pub(crate) struct TimerEntry {
    pub(crate) seq: u64,
    pub(crate) timer: Rc<TimerInner>,
}

impl PartialEq for TimerEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TimerEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.timer.when, other.seq).cmp(&(self.timer.when, self.seq))
    }
}

/// A callback scheduled with [`EventLoop::call_soon`](crate::EventLoop::call_soon).
///
/// Python's `asyncio.Handle`: [`cancel`](Handle::cancel) stops it from running if it has not
/// run yet. Dropping the handle does not cancel the callback.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use spindle_async::EventLoop;
///
/// let lp = EventLoop::new().unwrap();
/// let hits = Rc::new(Cell::new(0));
/// let h = hits.clone();
/// let handle = lp.call_soon(move || h.set(h.get() + 1));
/// handle.cancel();
/// assert!(handle.cancelled());
/// lp.run_until_complete(async {}).unwrap();
/// assert_eq!(hits.get(), 0);
/// ```
pub struct Handle {
    pub(crate) inner: Rc<CallbackInner>,
}

impl Handle {
    /// Cancels the callback: it will not run. Does nothing if it already ran.
    ///
    /// Python's `Handle.cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// lp.call_soon(move || r.set(true)).cancel();
    /// lp.run_until_complete(async {}).unwrap();
    /// assert!(!ran.get());
    /// ```
    pub fn cancel(&self) {
        self.inner.cancelled.set(true);
        drop(self.inner.callback.take());
    }

    /// Whether [`cancel`](Handle::cancel) was called. Python's `Handle.cancelled()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let h = lp.call_soon(|| ());
    /// assert!(!h.cancelled());
    /// h.cancel();
    /// assert!(h.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled.get()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

/// A callback scheduled with [`EventLoop::call_later`](crate::EventLoop::call_later) or
/// [`call_at`](crate::EventLoop::call_at).
///
/// Python's `asyncio.TimerHandle`: [`when`](TimerHandle::when) is its deadline on the loop's
/// clock; [`cancel`](TimerHandle::cancel) stops it from running. Dropping the handle does not
/// cancel the callback.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_async::EventLoop;
///
/// let lp = EventLoop::new().unwrap();
/// let t = lp.call_later(Duration::from_secs(3600), || unreachable!());
/// assert!(t.when() > lp.time());
/// t.cancel();
/// lp.run_until_complete(async {}).unwrap();
/// assert!(t.cancelled());
/// ```
pub struct TimerHandle {
    pub(crate) inner: Rc<TimerInner>,
    pub(crate) lp: Weak<LoopInner>,
}

impl TimerHandle {
    /// The instant the callback is due, on the loop's clock ([`EventLoop::time`](crate::EventLoop::time)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let before = lp.time();
    /// let t = lp.call_later(Duration::from_secs(60), || ());
    /// assert!(t.when() >= before + Duration::from_secs(60));
    /// t.cancel();
    /// ```
    pub fn when(&self) -> Instant {
        self.inner.when
    }

    /// Cancels the callback: it will not run. Does nothing if it already ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc, time::Duration};
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// lp.call_later(Duration::ZERO, move || r.set(true)).cancel();
    /// lp.run_until_complete(async {}).unwrap();
    /// assert!(!ran.get());
    /// ```
    pub fn cancel(&self) {
        if self.inner.cancel() {
            if let Some(lp) = self.lp.upgrade() {
                lp.timer_cancelled();
            }
        }
    }

    /// Whether [`cancel`](TimerHandle::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let t = lp.call_later(Duration::from_secs(60), || ());
    /// assert!(!t.cancelled());
    /// t.cancel();
    /// assert!(t.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when())
            .field("cancelled", &self.cancelled())
            .finish()
    }
}
