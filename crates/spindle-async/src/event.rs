//! [`Event`]: Python's `asyncio.Event`, a flag tasks can wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use parking_lot::Mutex;

use crate::waiters::WaitList;

struct State {
    flag: bool,
    waiters: WaitList,
}

/// A flag that tasks wait on until another sets it. Python's `asyncio.Event`.
///
/// `set` wakes every waiter; a waiter that was woken returns even if the flag was cleared
/// again before it ran (as in Python). `Send + Sync`, executor-agnostic.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle_async::{run, spawn, Event};
///
/// run(async {
///     let ev = Arc::new(Event::new());
///     let e = ev.clone();
///     let waiter = spawn(async move { e.wait().await; "woken" });
///     ev.set();
///     assert_eq!(waiter.await.unwrap(), "woken");
///     assert!(ev.is_set());
/// });
/// ```
pub struct Event {
    state: Mutex<State>,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = spindle_async::Event::new();
    /// assert!(!ev.is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                flag: false,
                waiters: WaitList::default(),
            }),
        }
    }

    /// Sets the flag and wakes every waiter. Python's `event.set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{run, Event};
    ///
    /// run(async {
    ///     let ev = Event::new();
    ///     ev.set();
    ///     ev.wait().await; // already set: returns at once
    ///     assert!(ev.is_set());
    /// });
    /// ```
    pub fn set(&self) {
        let mut s = self.state.lock();
        s.flag = true;
        s.waiters.notify_all();
    }

    /// Clears the flag. Python's `event.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = spindle_async::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.lock().flag = false;
    }

    /// Whether the flag is set. Python's `event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = spindle_async::Event::new();
    /// assert!(!ev.is_set());
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.lock().flag
    }

    /// Waits until the flag is set. Python's `await event.wait()`.
    ///
    /// # Cancel safety
    ///
    /// Safe: dropping a waiter loses nothing (every waiter is woken by `set`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_async::{run, spawn, yield_now, Event};
    ///
    /// run(async {
    ///     let ev = Arc::new(Event::new());
    ///     let e = ev.clone();
    ///     let t = spawn(async move { e.wait().await });
    ///     yield_now().await;
    ///     assert!(!t.done());
    ///     ev.set();
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            id: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// # Examples
///
/// ```
/// use spindle_async::{run, Event, EventWait};
///
/// run(async {
///     let ev = Event::new();
///     let w: EventWait<'_> = ev.wait();
///     ev.set();
///     w.await;
///     assert!(ev.is_set());
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    id: Option<u64>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        let mut s = event.state.lock();
        if self.id.is_none() && s.flag {
            return Poll::Ready(());
        }
        if s.waiters.register(&mut self.id, cx.waker()) {
            Poll::Pending
        } else {
            self.id = None;
            Poll::Ready(())
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.event.state.lock().waiters.remove(id);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("waiting", &self.id.is_some())
            .finish()
    }
}
