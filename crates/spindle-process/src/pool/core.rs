//! The engine shared by [`Pool`](super::Pool) and
//! [`ProcessPoolExecutor`](super::ProcessPoolExecutor): pending tasks, per-worker pipes and
//! the dispatch rule.
//!
//! Every worker has its own task ring and pipe, written only under the state lock, and its own
//! reply ring and pipe, read only by the [supervisor](super::supervisor) thread; no lock is
//! shared with the workers. A task goes straight from the submitting thread to the worker with
//! the fewest tasks in flight, as long as that worker holds fewer than its depth (2 for long
//! tasks, so it never waits for the next one; up to 64 while tasks are short, so a batch costs
//! one copy and at most one wake-up) and the bytes in flight fit the budget (so a ring push
//! always finds room and a pipe write never blocks for long with the lock held: a worker that
//! has nothing in flight is blocked reading and takes any size). A task too big for the ring
//! goes through the pipe, alone. Otherwise the task waits in `pending` until a reply frees a
//! slot; the supervisor then dispatches it.

use super::broken::BrokenReason;
use super::error::PoolError;
use super::progress::Progress;
use super::ring::{self, Ring};
use super::wire::{self, TaskOutcome};
use super::OnWorkerDeath;
use crate::shipping::Call;
use crate::Connection;
use parking_lot::{Condvar, Mutex, MutexGuard};
use spindle_futures::{PoolStats, WorkerStats};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Bytes of task frames that may sit unread in one worker's pipe or ring (the kernel's
/// default pipe buffer is 64 KiB; a ring holds 128 KiB, and at most a quarter of it in flight
/// guarantees that a push within the budget always finds room, padding and wrap included).
pub(crate) const PIPE_BUDGET: usize = ring::MAX_MESSAGE;

/// Tasks a worker may hold while tasks are long or not yet measured: one running, one ready.
pub(crate) const SHALLOW_IN_FLIGHT: usize = 2;

/// Tasks a worker may hold while tasks are short.
pub(crate) const DEEP_IN_FLIGHT: usize = 64;

/// Tasks shorter than this on average (in a worker) are "short": batching them pays.
pub(crate) const SHORT_TASK_NS: u64 = 200_000;

/// What a task's result is delivered to.
pub(crate) trait Sink: Send {
    /// Called under the state lock just before the task is written to a worker; `false` means
    /// it was cancelled and must be dropped.
    fn claim(&self) -> bool {
        true
    }
    /// How many items the task carries: what the pool's counters count.
    fn items(&self) -> u64 {
        1
    }
    /// Delivers the outcome of every item, or why the whole task failed, after adding the
    /// items that succeeded and failed to `tally` (`None` for a task the pool never accepted).
    /// Called with no lock held (it may run user callbacks).
    fn complete(self: Box<Self>, outcome: Result<TaskOutcome, PoolError>, tally: Option<&Tally>);
    /// The task was withdrawn before it started (`shutdown(cancel_futures)`); the pool counts
    /// it as cancelled itself.
    fn cancel(self: Box<Self>) {
        self.complete(Err(PoolError::Closed), None);
    }
}

/// The items that came back, counted by the sinks just before they deliver them, so a caller
/// that saw a result also sees it counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    completed: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    /// Adds `completed` items that returned and `failed` ones that did not.
    pub(crate) fn add(&self, completed: u64, failed: u64) {
        self.completed.fetch_add(completed, Ordering::Relaxed);
        self.failed.fetch_add(failed, Ordering::Relaxed);
    }
}

/// Settings fixed when the pool starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) processes: usize,
    pub(crate) initializer: Option<Call>,
    pub(crate) max_tasks: Option<u64>,
    pub(crate) on_death: OnWorkerDeath,
    pub(crate) task_timeout: Option<Duration>,
    /// Fixed number of tasks per worker; `None` adapts (see `Shared::depth`).
    pub(crate) in_flight: Option<usize>,
    pub(crate) spin: Duration,
    pub(crate) refuse: Option<BrokenReason>,
    pub(crate) name: &'static str,
    /// Use the shared-memory rings (pipes only when false).
    pub(crate) rings: bool,
}

/// A task not yet sent.
pub(crate) struct Task {
    pub(crate) frame: Vec<u8>,
    /// Whether the sink was claimed (a requeued task is not claimed twice).
    pub(crate) claimed: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) sink: Box<dyn Sink>,
}

/// A task written to a worker whose reply has not come.
pub(crate) struct Sent {
    pub(crate) id: u64,
    /// Its number among the records written to this worker (see `progress.rs`).
    pub(crate) seq: u32,
    pub(crate) task: Task,
}

/// The pool's view of one live worker.
pub(crate) struct Slot {
    pub(crate) key: u64,
    pub(crate) pid: u32,
    pub(crate) tx: Connection,
    pub(crate) in_flight: VecDeque<Sent>,
    pub(crate) bytes: usize,
    /// Tasks this worker may still be sent (`maxtasksperchild`).
    pub(crate) sends_left: Option<u64>,
    /// False once it must get no more tasks (quota used, timed out, pipe broken).
    pub(crate) accepting: bool,
    /// When the task at the head of `in_flight` (the one running) times out; armed only once
    /// the worker is ready, so a slow start-up never counts against a task's timeout.
    pub(crate) deadline: Option<Instant>,
    /// The worker said it is ready (its initializer ran).
    pub(crate) ready: bool,
    /// Killed because its task timed out: what is still in flight never started.
    pub(crate) timed_out: bool,
    /// When the task at the head of `in_flight` became the head (it runs since about then).
    pub(crate) since: Instant,
    /// The worker's task ring (producer side), if the pool uses rings.
    pub(crate) ring: Option<Ring>,
    /// Which record the worker has started (absent if its shared block could not be made).
    pub(crate) progress: Option<Progress>,
    /// Number of the last record written to this worker.
    pub(crate) seq: u32,
    /// Items this worker sent back (returned or failed), for `stats()`.
    pub(crate) done: u64,
    /// Time this worker had a task running, up to its last reply.
    pub(crate) busy: Duration,
    /// A task too big for the ring went through the pipe; nothing else is sent until it is
    /// answered, so the worker takes tasks in the order they were sent.
    pub(crate) exclusive: bool,
}

impl Slot {
    /// The task now at the head of `in_flight` starts running at `now`: its timeout, if it
    /// has one, counts from here.
    pub(crate) fn head_starts(&mut self, now: Instant) {
        self.since = now;
        self.deadline = self
            .in_flight
            .front()
            .and_then(|s| s.task.timeout)
            .and_then(|t| now.checked_add(t));
    }

    /// After the worker died: takes the task it was running, if it had started one (see
    /// `progress.rs`). What stays in flight was never started and can go to another worker.
    /// Without a progress word (its shared block could not be made) the oldest unanswered
    /// task counts as taken, as in Python.
    pub(crate) fn take_running(&mut self) -> Option<Sent> {
        let head = self.in_flight.front()?;
        if self.progress.as_ref().is_none_or(|p| p.started(head.seq)) {
            self.in_flight.pop_front()
        } else {
            None
        }
    }
}

/// Everything the lock protects.
pub(crate) struct State {
    pub(crate) pending: VecDeque<Task>,
    pub(crate) workers: Vec<Slot>,
    pub(crate) next_id: u64,
    /// Tasks accepted and not yet completed.
    pub(crate) outstanding: usize,
    pub(crate) broken: Option<BrokenReason>,
    /// No new tasks; workers leave once everything is done.
    pub(crate) closing: bool,
    /// Kill the workers now and fail what is left.
    pub(crate) terminating: bool,
    pub(crate) supervisor_started: bool,
    pub(crate) finished: bool,
    /// Moving average of how long a task takes in a worker, in nanoseconds (`u64::MAX` until
    /// measured).
    pub(crate) avg_ns: u64,
    /// Items accepted, for `stats()`.
    pub(crate) submitted: u64,
    /// Items withdrawn or found cancelled before they were sent, for `stats()`.
    pub(crate) cancelled: u64,
    /// Workers started, replacements included, for `stats()`.
    pub(crate) spawned: u64,
}

/// Failed or finished sinks to complete once the lock is released.
pub(crate) type Completions = Vec<(Box<dyn Sink>, Result<TaskOutcome, PoolError>)>;

/// The shared heart of a pool.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) state: Mutex<State>,
    pub(crate) changed: Condvar,
    bell_tx: Option<Connection>,
    pub(crate) bell_rx: Mutex<Option<Connection>>,
    pub(crate) bell_rung: AtomicBool,
    /// The supervisor thread, once started (callbacks run there and must not wait for it).
    supervisor: OnceLock<ThreadId>,
    /// Items that came back, counted outside the lock by the sinks.
    pub(crate) tally: Tally,
}

/// Runs the completions (outside every lock), counting their items in `tally`.
pub(crate) fn run_completions(tally: &Tally, done: Completions) {
    for (sink, outcome) in done {
        sink.complete(outcome, Some(tally));
    }
}

impl Shared {
    pub(crate) fn new(cfg: Config) -> Arc<Shared> {
        let (rx, tx, broken) = match crate::Pipe(false) {
            Ok((rx, tx)) => (Some(rx), Some(tx), None),
            // Without a doorbell the supervisor cannot be woken; the pool starts broken.
            Err(e) => (
                None,
                None,
                Some(BrokenReason::with_source(
                    "cannot create the pool's doorbell pipe",
                    e,
                )),
            ),
        };
        Arc::new(Shared {
            cfg,
            state: Mutex::new(State {
                pending: VecDeque::new(),
                workers: Vec::new(),
                next_id: 0,
                outstanding: 0,
                broken,
                closing: false,
                terminating: false,
                supervisor_started: false,
                finished: false,
                avg_ns: u64::MAX,
                submitted: 0,
                cancelled: 0,
                spawned: 0,
            }),
            changed: Condvar::new(),
            bell_tx: tx,
            bell_rx: Mutex::new(rx),
            bell_rung: AtomicBool::new(false),
            supervisor: OnceLock::new(),
            tally: Tally::default(),
        })
    }

    /// Wakes the supervisor (at most one doorbell byte is ever unread).
    pub(crate) fn ring(&self) {
        if !self.bell_rung.swap(true, Ordering::AcqRel) {
            if let Some(tx) = &self.bell_tx {
                let _ = tx.send_bytes(&[]);
            }
        }
    }

    /// Accepts a task: refused (the sink failed at once) if the pool is closed or broken.
    pub(crate) fn submit(self: &Arc<Self>, mut task: Task) {
        let mut st = self.state.lock();
        let refusal = if let Some(reason) = &st.broken {
            Some(PoolError::Broken(reason.clone()))
        } else if st.closing || st.terminating {
            Some(PoolError::Closed)
        } else {
            None
        };
        if let Some(e) = refusal {
            drop(st);
            task.sink.complete(Err(e), None);
            return;
        }
        if task.timeout.is_none() {
            task.timeout = self.cfg.task_timeout;
        }
        let id = st.next_id;
        st.next_id += 1;
        wire::set_id(&mut task.frame, id);
        st.outstanding += 1;
        st.submitted += task.sink.items();
        st.pending.push_back(task);
        if !st.supervisor_started {
            st.supervisor_started = true;
            let shared = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(format!("{}-supervisor", self.cfg.name))
                .spawn(move || super::supervisor::run(shared));
            if let Ok(handle) = &spawned {
                let _ = self.supervisor.set(handle.thread().id());
            }
            if let Err(e) = spawned {
                let reason = BrokenReason::with_source("cannot start the supervisor thread", e);
                let done = self.break_pool(&mut st, reason);
                st.finished = true;
                drop(st);
                run_completions(&self.tally, done);
                return;
            }
        }
        let bell = self.dispatch(&mut st);
        drop(st);
        if bell {
            self.ring();
        }
    }

    /// How many tasks a worker may hold now: deep (up to [`DEEP_IN_FLIGHT`]) while tasks are
    /// short, so a batch of them costs one write and one wake-up; the configured depth for
    /// long or not yet measured tasks, so they spread over the workers.
    fn depth(&self, st: &State) -> usize {
        match self.cfg.in_flight {
            Some(n) => n.max(1),
            None if st.avg_ns < SHORT_TASK_NS => DEEP_IN_FLIGHT,
            None => SHALLOW_IN_FLIGHT,
        }
    }

    /// Sends pending tasks to workers with room, several per write; returns whether a new
    /// deadline needs the supervisor's attention.
    pub(crate) fn dispatch(&self, st: &mut MutexGuard<'_, State>) -> bool {
        let mut bell = false;
        let depth = self.depth(st);
        while let Some(len) = st.pending.front().map(|t| t.frame.len()) {
            let fits = |w: &Slot| {
                w.accepting
                    && !w.exclusive
                    && w.in_flight.len() < depth
                    && (w.in_flight.is_empty() || w.bytes + len <= PIPE_BUDGET)
            };
            let open = st.workers.iter().filter(|w| fits(w)).count();
            let pick = st
                .workers
                .iter()
                .enumerate()
                .filter(|(_, w)| fits(w))
                .min_by_key(|(_, w)| w.in_flight.len())
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            // Share the queue among the workers with room rather than give it all to one.
            let share = st.pending.len().div_ceil(open.max(1)).max(1);
            let mut batch: Vec<Task> = Vec::new();
            let mut batch_bytes = 0;
            loop {
                let w = &st.workers[i];
                let Some(next) = st.pending.front() else {
                    break;
                };
                let n = next.frame.len();
                let room = w.in_flight.len() + batch.len() < depth
                    && w.sends_left.is_none_or(|left| (batch.len() as u64) < left)
                    && batch.len() < share
                    && (w.in_flight.is_empty() && batch.is_empty()
                        || w.bytes + batch_bytes + n <= PIPE_BUDGET);
                if !room {
                    break;
                }
                let Some(mut task) = st.pending.pop_front() else {
                    break;
                };
                if !std::mem::replace(&mut task.claimed, true) && !task.sink.claim() {
                    st.outstanding -= 1;
                    st.cancelled += task.sink.items();
                    continue; // cancelled while pending; its future already says so
                }
                batch_bytes += n;
                batch.push(task);
            }
            if batch.is_empty() {
                continue;
            }
            let w = &mut st.workers[i];
            let frame;
            let bytes: &[u8] = if batch.len() == 1 {
                &batch[0].frame
            } else {
                let mut all = Vec::with_capacity(batch_bytes);
                for t in &batch {
                    all.extend_from_slice(&t.frame);
                }
                frame = all;
                &frame
            };
            let sent = match &w.ring {
                Some(r) if bytes.len() <= ring::MAX_MESSAGE => {
                    if r.push(bytes) {
                        if r.take_sleeper() {
                            // The worker is blocked on its pipe: wake it. If that fails the
                            // worker is gone and the supervisor will see its end.
                            let _ = w.tx.send_bytes(&[]);
                        }
                        Ok(())
                    } else {
                        // Cannot happen within the byte budget; try again after a reply.
                        for t in batch.into_iter().rev() {
                            st.pending.push_front(t);
                        }
                        break;
                    }
                }
                Some(_) => {
                    // Too big for the ring: the pipe, with nothing else in flight.
                    w.exclusive = true;
                    w.tx.send_bytes(bytes)
                }
                None => w.tx.send_bytes(bytes),
            };
            if sent.is_err() {
                // The worker is gone; the supervisor will see its end. Try another.
                w.accepting = false;
                for t in batch.into_iter().rev() {
                    st.pending.push_front(t);
                }
                continue;
            }
            if w.in_flight.is_empty() {
                w.since = Instant::now();
                if w.ready {
                    w.deadline = batch[0].timeout.and_then(|t| w.since.checked_add(t));
                    bell |= w.deadline.is_some();
                }
            }
            w.bytes += batch_bytes;
            if let Some(left) = &mut w.sends_left {
                *left -= batch.len() as u64;
                if *left == 0 {
                    w.accepting = false;
                }
            }
            for task in batch {
                w.seq = w.seq.wrapping_add(1);
                w.in_flight.push_back(Sent {
                    id: wire::id_of(&task.frame),
                    seq: w.seq,
                    task,
                });
            }
        }
        bell
    }

    /// Marks the pool broken and fails every task it holds.
    pub(crate) fn break_pool(&self, st: &mut State, reason: BrokenReason) -> Completions {
        if st.broken.is_none() {
            st.broken = Some(reason.clone());
        }
        let reason = st.broken.clone().unwrap_or(reason);
        let done = self.fail_all(st, || PoolError::Broken(reason.clone()));
        for w in &mut st.workers {
            w.accepting = false;
        }
        self.changed.notify_all();
        done
    }

    /// Fails every pending and in-flight task with `err()`.
    pub(crate) fn fail_all(&self, st: &mut State, err: impl Fn() -> PoolError) -> Completions {
        let mut done: Completions = Vec::new();
        for t in st.pending.drain(..) {
            done.push((t.sink, Err(err())));
        }
        for w in &mut st.workers {
            for s in w.in_flight.drain(..) {
                done.push((s.task.sink, Err(err())));
            }
            w.bytes = 0;
            w.deadline = None;
        }
        st.outstanding = st.outstanding.saturating_sub(done.len());
        done
    }

    /// Stops taking tasks; workers leave once the accepted ones are done.
    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        st.closing = true;
        let started = st.supervisor_started;
        if !started {
            st.finished = true;
        }
        self.changed.notify_all();
        drop(st);
        if started {
            self.ring();
        }
    }

    /// Withdraws every task not yet sent to a worker.
    pub(crate) fn cancel_pending(&self) {
        let mut st = self.state.lock();
        let withdrawn: Vec<Task> = st.pending.drain(..).collect();
        st.outstanding -= withdrawn.len();
        st.cancelled += withdrawn.iter().map(|t| t.sink.items()).sum::<u64>();
        self.changed.notify_all();
        drop(st);
        for t in withdrawn {
            t.sink.cancel();
        }
        self.ring();
    }

    /// Kills the workers and fails every unfinished task with [`PoolError::Closed`].
    pub(crate) fn terminate(&self) {
        let mut st = self.state.lock();
        st.closing = true;
        st.terminating = true;
        let started = st.supervisor_started;
        let done = if started {
            Vec::new()
        } else {
            st.finished = true;
            self.fail_all(&mut st, || PoolError::Closed)
        };
        self.changed.notify_all();
        drop(st);
        run_completions(&self.tally, done);
        if started {
            self.ring();
        }
    }

    /// Waits until the supervisor has finished (every worker gone) or `deadline` passes.
    ///
    /// Called from the supervisor thread itself (a result callback that closes or terminates
    /// the pool) it returns at once: waiting there would wait for itself.
    pub(crate) fn join_until(&self, deadline: Option<Instant>) -> bool {
        if self.supervisor.get() == Some(&std::thread::current().id()) {
            return self.state.lock().finished;
        }
        let mut st = self.state.lock();
        while !st.finished {
            match deadline {
                Some(d) => {
                    if self.changed.wait_until(&mut st, d).timed_out() {
                        return st.finished;
                    }
                }
                None => self.changed.wait(&mut st),
            }
        }
        true
    }

    /// Pids of the live workers.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.state.lock().workers.iter().map(|w| w.pid).collect()
    }

    /// The pool's counters, in items: accepted, running (the task at the head of each
    /// worker), returned, failed, cancelled; replacements; per live worker its items and
    /// busy time.
    pub(crate) fn stats(&self) -> PoolStats {
        let st = self.state.lock();
        let now = Instant::now();
        let running_items = |w: &Slot| w.in_flight.front().map_or(0, |s| s.task.sink.items());
        let workers = st
            .workers
            .iter()
            .map(|w| WorkerStats {
                id: u64::from(w.pid),
                tasks_completed: w.done,
                busy: if w.in_flight.is_empty() {
                    w.busy
                } else {
                    w.busy + now.saturating_duration_since(w.since)
                },
            })
            .collect();
        PoolStats {
            submitted: st.submitted,
            running: st.workers.iter().map(running_items).sum(),
            completed: self.tally.completed.load(Ordering::Relaxed),
            failed: self.tally.failed.load(Ordering::Relaxed),
            cancelled: st.cancelled,
            worker_restarts: st.spawned.saturating_sub(self.cfg.processes as u64),
            workers,
        }
    }
}
