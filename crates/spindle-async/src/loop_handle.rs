//! [`LoopHandle`], the `Send + Sync` half of an [`EventLoop`] that other threads use to queue
//! callbacks on it, and the [`ThreadsafeHandle`] of each callback so queued.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::event_loop::{get_running_loop, LoopError};
use crate::scheduler::Shared;
#[cfg(doc)]
use crate::EventLoop;

/// The `Send + Sync` handle of an [`EventLoop`], for other threads.
///
/// # Examples
///
/// ```
/// use spindle_async::{EventLoop, get_running_loop};
///
/// let lp = EventLoop::new().unwrap();
/// let h = lp.handle();
/// let t = std::thread::spawn(move || {
///     h.call_soon_threadsafe(|| get_running_loop().unwrap().stop()).unwrap();
/// });
/// lp.run_forever().unwrap(); // woken from its reactor by the other thread
/// t.join().unwrap();
/// ```
#[derive(Clone)]
pub struct LoopHandle {
    pub(crate) shared: Arc<Shared>,
}

impl LoopHandle {
    /// Queues `f` to run on the loop's thread and wakes the loop if it is blocked.
    ///
    /// Python's `loop.call_soon_threadsafe(callback)`. Callbacks from one thread run in order.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let (h, (tx, rx)) = (lp.handle(), mpsc::channel());
    /// std::thread::spawn(move || h.call_soon_threadsafe(move || tx.send(42).unwrap()).unwrap())
    ///     .join().unwrap();
    /// lp.run_until_complete(async {}).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 42);
    /// ```
    pub fn call_soon_threadsafe(
        &self,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<ThreadsafeHandle, LoopError> {
        let cancelled = Arc::new(AtomicBool::new(false));
        self.shared
            .inject_callback(cancelled.clone(), Box::new(f))
            .map_err(|_| LoopError::Closed)?;
        Ok(ThreadsafeHandle { cancelled })
    }

    /// Asks the loop to stop, from any thread.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let h = lp.handle();
    /// let t = std::thread::spawn(move || h.stop().unwrap());
    /// lp.run_forever().unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn stop(&self) -> Result<(), LoopError> {
        self.call_soon_threadsafe(|| {
            if let Ok(lp) = get_running_loop() {
                lp.stop();
            }
        })
        .map(|_| ())
    }

    /// Whether the loop was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{EventLoop, LoopError};
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let h = lp.handle();
    /// assert!(!h.is_closed());
    /// lp.close().unwrap();
    /// assert!(h.is_closed());
    /// assert_eq!(h.stop(), Err(LoopError::Closed));
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle")
            .field("id", &self.shared.id)
            .finish()
    }
}

/// A callback queued from another thread; [`cancel`](ThreadsafeHandle::cancel) works from any thread.
///
/// # Examples
///
/// ```
/// use spindle_async::EventLoop;
///
/// let lp = EventLoop::new().unwrap();
/// let h = lp.call_soon_threadsafe(|| unreachable!()).unwrap();
/// h.cancel();
/// assert!(h.cancelled());
/// lp.run_until_complete(async {}).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ThreadsafeHandle {
    cancelled: Arc<AtomicBool>,
}

impl ThreadsafeHandle {
    /// Cancels the callback if it has not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use spindle_async::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let (tx, rx) = mpsc::channel::<()>();
    /// lp.call_soon_threadsafe(move || tx.send(()).unwrap()).unwrap().cancel();
    /// lp.run_until_complete(async {}).unwrap();
    /// assert!(rx.try_recv().is_err()); // never ran
    /// ```
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](ThreadsafeHandle::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = spindle_async::EventLoop::new().unwrap();
    /// let h = lp.call_soon_threadsafe(|| ()).unwrap();
    /// assert!(!h.cancelled());
    /// h.cancel();
    /// assert!(h.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}
