//! The event loop's engine: ready queue, timer heap, task slab, reactor and cross-thread injector.
//!
//! One iteration ([`LoopInner::run_once`]) follows CPython's `BaseEventLoop._run_once`:
//! drain what other threads injected, poll the reactor (without blocking when work is ready),
//! move expired timers to the ready queue, then run exactly the callbacks and task polls that
//! were ready when the iteration started, so anything scheduled meanwhile waits one turn.
//!
//! Hot-path rules: a task poll takes no lock and allocates nothing (its `Waker` is built once at
//! spawn and the ready queue stores a plain `u64` key); the injector `Mutex` is touched only
//! when `has_injected` says another thread handed something over.

use std::cell::{Cell, RefCell};
use std::collections::{BinaryHeap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::reactor::{IoTable, WAKER_TOKEN};
use crate::task::Runnable;
use crate::timer::{TimerEntry, TimerInner};

/// Every this many iterations with work ready, the reactor is still polled (without waiting)
/// so that I/O is not starved by tasks that keep each other busy (tokio uses 61 as well).
const IO_POLL_INTERVAL: u32 = 61;

/// Readiness events taken from the kernel per `epoll_wait` (tokio's default as well).
const EVENTS_CAPACITY: usize = 1024;

/// Cancelled timers are purged from the heap when there are more than this many and they make
/// up more than half of it (CPython's `_MIN_SCHEDULED_TIMER_HANDLES`).
const MIN_TIMERS_TO_PURGE: usize = 100;

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The loop running on this thread, if any: `get_running_loop()` and local wake-ups.
    static CURRENT: RefCell<Option<Rc<LoopInner>>> = const { RefCell::new(None) };
}

/// Runs `f` with the loop running on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Rc<LoopInner>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// Marks `inner` as the running loop of this thread until the guard drops.
pub(crate) struct RunningGuard {
    prev: Option<Rc<LoopInner>>,
}

impl RunningGuard {
    pub(crate) fn enter(inner: &Rc<LoopInner>) -> RunningGuard {
        let prev = CURRENT.with(|c| c.replace(Some(inner.clone())));
        inner.running.set(true);
        RunningGuard { prev }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        if let Some(cur) = CURRENT.with(|c| c.replace(prev)) {
            cur.running.set(false);
        }
    }
}

/// One unit of work in the ready queue.
pub(crate) enum Ready {
    /// Poll the task with this slab key (stale keys are skipped).
    Task(u64),
    /// Run a `call_soon` callback.
    Callback(Rc<CallbackInner>),
    /// Run a due `call_later`/`call_at` callback.
    Timer(Rc<TimerInner>),
}

/// The body of a [`Handle`](crate::Handle): the callback until it runs or is cancelled.
pub(crate) struct CallbackInner {
    pub(crate) cancelled: Cell<bool>,
    pub(crate) callback: Cell<Option<Box<dyn FnOnce()>>>,
}

/// The part of a loop that other threads may touch: the reactor's waker and the injector.
pub(crate) struct Shared {
    pub(crate) id: u64,
    /// Interrupts the loop's `epoll_wait` (an eventfd on Linux).
    waker: mio::Waker,
    has_injected: AtomicBool,
    closed: AtomicBool,
    injected: Mutex<Injected>,
}

/// What other threads handed over since the loop last looked.
#[derive(Default)]
struct Injected {
    tasks: Vec<u64>,
    callbacks: Vec<(Arc<AtomicBool>, SendCallback)>,
}

/// A `call_soon_threadsafe` callback.
type SendCallback = Box<dyn FnOnce() + Send>;

impl Shared {
    /// Wakes a task of this loop from a thread that is not running it.
    pub(crate) fn inject_task(&self, key: u64) {
        {
            let mut inj = self.injected.lock();
            if self.closed.load(Ordering::Acquire) {
                return; // a waker that outlived its loop: nothing left to run
            }
            inj.tasks.push(key);
        }
        self.has_injected.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }

    /// Queues `f` to run on the loop; refused (returned) once the loop is closed.
    pub(crate) fn inject_callback(
        &self,
        cancelled: Arc<AtomicBool>,
        f: SendCallback,
    ) -> Result<(), SendCallback> {
        {
            let mut inj = self.injected.lock();
            if self.closed.load(Ordering::Acquire) {
                return Err(f);
            }
            inj.callbacks.push((cancelled, f));
        }
        self.has_injected.store(true, Ordering::Release);
        let _ = self.waker.wake();
        Ok(())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// A generational slab of live tasks; keys are `generation << 32 | index`.
#[derive(Default)]
pub(crate) struct TaskSlab {
    slots: Vec<(u32, Option<Rc<dyn Runnable>>)>,
    free: Vec<u32>,
    len: usize,
}

impl TaskSlab {
    /// The key the next `insert` will use.
    pub(crate) fn next_key(&self) -> u64 {
        match self.free.last() {
            Some(&i) => (u64::from(self.slots[i as usize].0) << 32) | u64::from(i),
            None => self.slots.len() as u64,
        }
    }

    /// Stores `task` under [`next_key`](Self::next_key).
    pub(crate) fn insert(&mut self, task: Rc<dyn Runnable>) {
        self.len += 1;
        match self.free.pop() {
            Some(i) => self.slots[i as usize].1 = Some(task),
            None => self.slots.push((0, Some(task))),
        }
    }

    pub(crate) fn get(&self, key: u64) -> Option<&Rc<dyn Runnable>> {
        let (generation, index) = ((key >> 32) as u32, key as u32);
        match self.slots.get(index as usize) {
            Some((g, Some(t))) if *g == generation => Some(t),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<Rc<dyn Runnable>> {
        let (generation, index) = ((key >> 32) as u32, key as u32);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.0 != generation || slot.1.is_none() {
            return None;
        }
        slot.0 = slot.0.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        slot.1.take()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Rc<dyn Runnable>> {
        self.slots.iter().filter_map(|(_, t)| t.as_ref())
    }

    fn take_all(&mut self) -> Vec<Rc<dyn Runnable>> {
        self.free.clear();
        self.len = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter_map(|(_, t)| t)
            .collect()
    }
}

/// The loop itself; `EventLoop` is an `Rc` of this.
pub(crate) struct LoopInner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) ready: RefCell<VecDeque<Ready>>,
    pub(crate) timers: RefCell<BinaryHeap<TimerEntry>>,
    timer_seq: Cell<u64>,
    pub(crate) cancelled_timers: Cell<usize>,
    pub(crate) tasks: RefCell<TaskSlab>,
    pub(crate) next_task_id: Cell<u64>,
    /// Slab key of the task being polled, `u64::MAX` when none.
    pub(crate) current_task: Cell<u64>,
    pub(crate) io: RefCell<IoTable>,
    /// The reactor; only `poll_reactor` borrows it.
    poll: RefCell<mio::Poll>,
    /// A handle on the same epoll instance, for registering sources while `poll` may be busy.
    pub(crate) registry: mio::Registry,
    events: RefCell<mio::Events>,
    /// Wakers collected from one batch of events, kept to reuse the allocation.
    woken: RefCell<Vec<std::task::Waker>>,
    pub(crate) running: Cell<bool>,
    pub(crate) stopping: Cell<bool>,
    pub(crate) closed: Cell<bool>,
    pub(crate) debug: Cell<bool>,
    pub(crate) slow_callback_duration: Cell<Duration>,
    tick: Cell<u32>,
    /// The pool behind `run_in_default_executor`/`to_thread`, created on first use.
    pub(crate) default_executor: RefCell<Option<spindle_futures::ThreadPoolExecutor>>,
}

impl LoopInner {
    pub(crate) fn new() -> std::io::Result<Rc<LoopInner>> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let shared = Arc::new(Shared {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            waker: mio::Waker::new(poll.registry(), WAKER_TOKEN)?,
            has_injected: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            injected: Mutex::new(Injected::default()),
        });
        let debug = std::env::var_os("PYTHONASYNCIODEBUG").is_some_and(|v| !v.is_empty());
        Ok(Rc::new(LoopInner {
            shared,
            ready: RefCell::new(VecDeque::with_capacity(64)),
            timers: RefCell::new(BinaryHeap::new()),
            timer_seq: Cell::new(0),
            cancelled_timers: Cell::new(0),
            tasks: RefCell::new(TaskSlab::default()),
            next_task_id: Cell::new(1),
            current_task: Cell::new(u64::MAX),
            io: RefCell::new(IoTable::default()),
            poll: RefCell::new(poll),
            registry,
            events: RefCell::new(mio::Events::with_capacity(EVENTS_CAPACITY)),
            woken: RefCell::new(Vec::new()),
            running: Cell::new(false),
            stopping: Cell::new(false),
            closed: Cell::new(false),
            debug: Cell::new(debug),
            slow_callback_duration: Cell::new(Duration::from_millis(100)),
            tick: Cell::new(0),
            default_executor: RefCell::new(None),
        }))
    }

    /// Whether this loop is the one running on the calling thread.
    pub(crate) fn is_current(&self) -> bool {
        with_current(|c| c.is_some_and(|c| c.shared.id == self.shared.id))
    }

    pub(crate) fn push_ready(&self, r: Ready) {
        self.ready.borrow_mut().push_back(r);
    }

    /// Adds a timer; returns its body so the caller can cancel it.
    pub(crate) fn add_timer(&self, timer: Rc<TimerInner>) {
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq + 1);
        self.timers.borrow_mut().push(TimerEntry { seq, timer });
    }

    /// Notes that one timer in the heap was cancelled, purging the heap when they pile up.
    pub(crate) fn timer_cancelled(&self) {
        let n = self.cancelled_timers.get() + 1;
        self.cancelled_timers.set(n);
        let Ok(mut heap) = self.timers.try_borrow_mut() else {
            return;
        };
        if n > MIN_TIMERS_TO_PURGE && n * 2 > heap.len() {
            heap.retain(|e| !e.timer.is_cancelled());
            self.cancelled_timers.set(0);
        }
    }

    /// One iteration of the loop (see the module docs).
    pub(crate) fn run_once(&self) {
        if self.shared.has_injected.load(Ordering::Acquire) {
            self.drain_injected();
        }
        let has_ready = !self.ready.borrow().is_empty() || self.stopping.get();
        let timeout = if has_ready {
            Some(Duration::ZERO)
        } else {
            self.timers
                .borrow()
                .peek()
                .map(|e| e.timer.when.saturating_duration_since(Instant::now()))
        };
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let must_poll = timeout != Some(Duration::ZERO)
            || (tick % IO_POLL_INTERVAL == 0 && !self.io.borrow().is_empty());
        if must_poll {
            self.poll_reactor(timeout);
            if self.shared.has_injected.load(Ordering::Acquire) {
                self.drain_injected();
            }
        }
        self.fire_timers();
        let n = self.ready.borrow().len();
        for _ in 0..n {
            let item = self.ready.borrow_mut().pop_front();
            let Some(item) = item else { break };
            self.run_ready(item);
        }
    }

    fn poll_reactor(&self, timeout: Option<Duration>) {
        let mut events = self.events.borrow_mut();
        if let Err(e) = self.poll.borrow_mut().poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                eprintln!("spindle-async: reactor wait failed: {e}");
            }
            return;
        }
        let mut wakers = std::mem::take(&mut *self.woken.borrow_mut());
        let io = self.io.borrow();
        for ev in events.iter() {
            // The waker's own event needs no handling: `has_injected` says what it was for.
            if ev.token() != WAKER_TOKEN {
                io.dispatch(ev, &mut wakers);
            }
        }
        drop(io);
        drop(events);
        for w in wakers.drain(..) {
            w.wake();
        }
        *self.woken.borrow_mut() = wakers;
    }

    fn fire_timers(&self) {
        if self.timers.borrow().is_empty() {
            return; // spares the clock read on the hot path
        }
        let now = Instant::now();
        loop {
            let entry = {
                let mut heap = self.timers.borrow_mut();
                match heap.peek() {
                    Some(e) if e.timer.is_cancelled() => {
                        heap.pop();
                        self.cancelled_timers
                            .set(self.cancelled_timers.get().saturating_sub(1));
                        continue;
                    }
                    Some(e) if e.timer.when <= now => heap.pop(),
                    _ => None,
                }
            };
            let Some(entry) = entry else { break };
            if let Some(ready) = entry.timer.fire() {
                self.push_ready(ready);
            }
        }
    }

    fn drain_injected(&self) {
        self.shared.has_injected.store(false, Ordering::Release);
        let Injected { tasks, callbacks } = std::mem::take(&mut *self.shared.injected.lock());
        let mut ready = self.ready.borrow_mut();
        for key in tasks {
            ready.push_back(Ready::Task(key));
        }
        for (cancelled, f) in callbacks {
            let f: Box<dyn FnOnce()> = Box::new(move || {
                if !cancelled.load(Ordering::Acquire) {
                    f();
                }
            });
            ready.push_back(Ready::Callback(Rc::new(CallbackInner {
                cancelled: Cell::new(false),
                callback: Cell::new(Some(f)),
            })));
        }
    }

    fn run_ready(&self, item: Ready) {
        let start = self.debug.get().then(Instant::now);
        let what = match item {
            Ready::Task(key) => {
                let task = self.tasks.borrow().get(key).cloned();
                let Some(task) = task else { return };
                let name = start.map(|_| task.core().describe());
                task.run(self);
                name
            }
            Ready::Callback(cb) => {
                if cb.cancelled.get() {
                    return;
                }
                if let Some(f) = cb.callback.take() {
                    run_callback(f);
                }
                start.map(|_| "<Handle>".to_owned())
            }
            Ready::Timer(t) => {
                if t.is_cancelled() {
                    return;
                }
                if let Some(f) = t.take_callback() {
                    run_callback(f);
                }
                start.map(|_| "<TimerHandle>".to_owned())
            }
        };
        if let (Some(start), Some(what)) = (start, what) {
            let took = start.elapsed();
            if took >= self.slow_callback_duration.get() {
                eprintln!(
                    "spindle-async: executing {what} took {:.3} seconds",
                    took.as_secs_f64()
                );
            }
        }
    }

    /// Closes the loop: drops every task, timer and queued callback, refuses injections.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        let leftovers = std::mem::take(&mut *self.shared.injected.lock());
        self.shared.closed.store(true, Ordering::Release);
        drop(leftovers);
        let tasks = self.tasks.borrow_mut().take_all();
        for t in &tasks {
            if self.debug.get() && !t.core().is_done() {
                eprintln!(
                    "spindle-async: task was destroyed but it is pending: {}",
                    t.core().describe()
                );
            }
            t.drop_future();
        }
        drop(tasks);
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        drop(timers);
        let ready = std::mem::take(&mut *self.ready.borrow_mut());
        drop(ready);
        if let Some(pool) = self.default_executor.borrow_mut().take() {
            pool.shutdown(false, false);
        }
    }
}

/// Runs a callback, reporting a panic on stderr instead of unwinding into the loop
/// (Python's default exception handler logs "Exception in callback").
fn run_callback(f: Box<dyn FnOnce()>) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        eprintln!(
            "spindle-async: exception in callback: {}",
            crate::task::panic_message(&*p)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_keys_change_generation_on_reuse() {
        let l = LoopInner::new().unwrap();
        let mut slab = TaskSlab::default();
        let k0 = slab.next_key();
        let el = crate::EventLoop::from_inner(l.clone());
        let t = el.create_task(async {});
        let r = t.as_runnable();
        slab.insert(r.clone());
        assert!(slab.get(k0).is_some());
        assert!(slab.remove(k0).is_some());
        let k1 = slab.next_key();
        assert_ne!(k0, k1);
        slab.insert(r);
        assert!(slab.get(k0).is_none());
        assert!(slab.get(k1).is_some());
        assert_eq!(slab.len(), 1);
        el.close().unwrap();
    }
}
