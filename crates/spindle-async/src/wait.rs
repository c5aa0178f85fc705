//! [`wait`] with [`ReturnWhen`] and [`as_completed`]: Python's `asyncio.wait` and
//! `asyncio.as_completed`.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use crate::sleep::{sleep_until, Sleep};
use crate::task::{Task, TaskError};
use crate::timeout::TimeoutError;

/// When [`wait`] returns. Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, spawn, wait, ReturnWhen};
///
/// run(async {
///     let ok = spawn(async { 1 });
///     let bad = spawn(async { panic!("x") });
///     let (done, _pending) = wait(vec![ok, bad], None, ReturnWhen::FirstException).await;
///     assert!(!done.is_empty());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task is done (or cancelled).
    FirstCompleted,
    /// As soon as any task panics; like `AllCompleted` if none does.
    FirstException,
    /// When every task is done.
    AllCompleted,
}

/// Waits for tasks until `return_when` holds or `timeout` passes; returns `(done, pending)`.
///
/// Python's `done, pending = await asyncio.wait(tasks, timeout=..., return_when=...)`. No task
/// is cancelled on timeout; the ones still running come back in `pending`, in input order.
///
/// # Panics
///
/// When polled with a timeout outside a running spindle loop.
///
/// # Cancel safety
///
/// Dropping it drops the task handles (the tasks keep running).
///
/// # Differences from Python
///
/// Takes the tasks by value and hands them back (Python uses sets); `FirstException` counts
/// panics, since a task's own `Err` values are ordinary outputs here.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, spawn, wait, Event, ReturnWhen};
/// use std::sync::Arc;
///
/// run(async {
///     let gate = Arc::new(Event::new());
///     let g = gate.clone();
///     let slow = spawn(async move { g.wait().await; 1 });
///     let fast = spawn(async { 2 });
///     let (done, pending) = wait(vec![slow, fast], None, ReturnWhen::FirstCompleted).await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
///     assert_eq!(done.into_iter().next().unwrap().await, Ok(2));
///     gate.set();
///     let (done, _) = wait(pending, None, ReturnWhen::AllCompleted).await;
///     assert_eq!(done.len(), 1);
/// });
/// ```
pub async fn wait<T: 'static>(
    tasks: Vec<Task<T>>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<Task<T>>, Vec<Task<T>>) {
    let mut sleep: Option<Sleep> = timeout
        .and_then(|d| Instant::now().checked_add(d))
        .map(sleep_until);
    poll_fn(|cx| {
        let mut n_done = 0;
        let mut panicked = false;
        for t in &tasks {
            if t.poll_done(cx).is_ready() {
                n_done += 1;
                panicked |= matches!(t.exception(), Some(TaskError::Panicked(_)));
            }
        }
        let finished = match return_when {
            ReturnWhen::FirstCompleted => n_done > 0,
            ReturnWhen::FirstException => panicked || n_done == tasks.len(),
            ReturnWhen::AllCompleted => n_done == tasks.len(),
        };
        let timed_out = sleep
            .as_mut()
            .is_some_and(|s| Pin::new(s).poll(cx).is_ready());
        if finished || timed_out || tasks.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    tasks.into_iter().partition(|t| t.done())
}

/// Yields the outputs of `futs` in the order they complete, within an optional overall limit.
///
/// Python's `for coro in asyncio.as_completed(aws, timeout=...)`. Await
/// [`AsCompleted::next`] (or use it as a `futures_core::Stream`): each item is
/// `Ok(output)`; when the limit passes, one `Err(TimeoutError)` comes, then the end.
///
/// # Cancel safety
///
/// Dropping it drops the futures not yet done; `next()` is cancel-safe (an output is only
/// taken in the poll that returns it).
///
/// # Examples
///
/// ```
/// use spindle_async::{as_completed, run, spawn, yield_now};
///
/// run(async {
///     let slow = spawn(async { yield_now().await; yield_now().await; "slow" });
///     let fast = spawn(async { "fast" });
///     let mut it = as_completed(vec![slow, fast], None);
///     let mut order = Vec::new();
///     while let Some(r) = it.next().await {
///         order.push(r.unwrap().unwrap());
///     }
///     assert_eq!(order, ["fast", "slow"]);
/// });
/// ```
pub fn as_completed<I>(futs: I, timeout: Option<Duration>) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let futs: Vec<_> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let notify = Arc::new(Notify {
        ready: Mutex::new((0..futs.len()).collect()),
        parent: Mutex::new(None),
    });
    let wakers = (0..futs.len())
        .map(|idx| {
            Waker::from(Arc::new(SlotWaker {
                idx,
                notify: notify.clone(),
            }))
        })
        .collect();
    AsCompleted {
        futs,
        notify,
        wakers,
        remaining: 0,
        done: VecDeque::new(),
        sleep: timeout
            .and_then(|d| Instant::now().checked_add(d))
            .map(sleep_until),
        timed_out: false,
        started: false,
    }
}

/// Which futures of an [`AsCompleted`] were woken, in wake order.
struct Notify {
    ready: Mutex<VecDeque<usize>>,
    parent: Mutex<Option<Waker>>,
}

/// The waker given to future `idx`: records it, then wakes the awaiting task.
struct SlotWaker {
    idx: usize,
    notify: Arc<Notify>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.notify.ready.lock().push_back(self.idx);
        if let Some(w) = &*self.notify.parent.lock() {
            w.wake_by_ref();
        }
    }
}

/// The iterator of [`as_completed`].
///
/// # Examples
///
/// ```
/// use spindle_async::{as_completed, run, AsCompleted};
///
/// run(async {
///     let mut it: AsCompleted<_> = as_completed((1..=2).map(|i| async move { i }), None);
///     let mut got = Vec::new();
///     while let Some(r) = it.next().await {
///         got.push(r.unwrap());
///     }
///     got.sort();
///     assert_eq!(got, [1, 2]);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    futs: Vec<Option<Pin<Box<F>>>>,
    notify: Arc<Notify>,
    wakers: Vec<Waker>,
    remaining: usize,
    done: VecDeque<F::Output>,
    sleep: Option<Sleep>,
    timed_out: bool,
    started: bool,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to complete, `Err(TimeoutError)` once when time runs out, then `None`.
    ///
    /// # Cancel safety
    ///
    /// Safe: an output is only taken in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_async::{as_completed, run, TimeoutError};
    ///
    /// run(async {
    ///     let futs: Vec<std::future::Pending<()>> = vec![std::future::pending()];
    ///     let mut it = as_completed(futs, Some(Duration::ZERO));
    ///     assert_eq!(it.next().await, Some(Err(TimeoutError)));
    ///     assert_eq!(it.next().await, None);
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<Result<F::Output, TimeoutError>> {
        poll_fn(|cx| self.poll_next_item(cx)).await
    }

    fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<F::Output, TimeoutError>>> {
        if !self.started {
            self.started = true;
            self.remaining = self.futs.len();
        }
        if self.timed_out || self.remaining == 0 {
            return Poll::Ready(None);
        }
        if let Some(v) = self.done.pop_front() {
            self.remaining -= 1;
            return Poll::Ready(Some(Ok(v)));
        }
        // Poll only the futures whose own waker fired, in the order they fired, so outputs
        // come out in completion order (Python uses done callbacks for the same effect).
        {
            let mut parent = self.notify.parent.lock();
            match &*parent {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *parent = Some(cx.waker().clone()),
            }
        }
        loop {
            let next = self.notify.ready.lock().pop_front();
            let Some(i) = next else { break };
            let Some(f) = self.futs[i].as_mut() else {
                continue;
            };
            let mut sub = Context::from_waker(&self.wakers[i]);
            if let Poll::Ready(v) = f.as_mut().poll(&mut sub) {
                self.futs[i] = None;
                self.done.push_back(v);
            }
        }
        if let Some(v) = self.done.pop_front() {
            self.remaining -= 1;
            return Poll::Ready(Some(Ok(v)));
        }
        if let Some(s) = self.sleep.as_mut() {
            if Pin::new(s).poll(cx).is_ready() {
                self.timed_out = true;
                self.futs.clear();
                return Poll::Ready(Some(Err(TimeoutError)));
            }
        }
        Poll::Pending
    }
}

impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = Result<F::Output, TimeoutError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // SAFETY:
        // - Nothing in `AsCompleted` is structurally pinned: its futures are boxed and pinned
        //   on their own, the buffered outputs are plain values never pinned by us.
        unsafe { self.get_unchecked_mut() }.poll_next_item(cx)
    }
}

impl<F: Future> std::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.futs.iter().filter(|f| f.is_some()).count())
            .field("timed_out", &self.timed_out)
            .finish()
    }
}
