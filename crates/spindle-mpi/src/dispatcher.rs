//! The pool thread on rank 0: takes tasks from the submitting threads, keeps each worker rank
//! fed with up to `tasks_in_flight` of them, and settles futures as replies come back.
//!
//! It alone makes MPI calls while the pool runs (MPI is initialised `SERIALIZED`). With
//! nothing in flight it blocks on its command channel and uses no CPU; with tasks in flight it
//! polls MPI, pausing by [`Backoff`] between empty polls on the command channel itself, so a new
//! submission wakes it at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use spindle_futures::FutureError;
use spindle_process::shipping::ShipError;

use crate::backoff::Backoff;
use crate::comm::Link;
use crate::counters::Counters;
use crate::sink::{Outcome, Sink};
use crate::wire;
use crate::{MpiError, WorkerInfo};

/// A task on its way to a worker: its encoded batch (without id) and its sink.
pub(crate) struct Job {
    pub(crate) batch: Vec<u8>,
    pub(crate) sink: Box<dyn Sink>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("batch_len", &self.batch.len())
            .field("items", &self.sink.items())
            .finish()
    }
}

/// What the executor tells its pool thread.
#[derive(Debug)]
pub(crate) enum Command {
    /// Run this task.
    Task(Job),
    /// Finish what is queued (or cancel it) and stop the workers.
    Shutdown {
        /// Cancel the tasks not yet sent to a worker.
        cancel_futures: bool,
    },
}

/// With the adaptive depth, each worker is sent enough short tasks to stay busy this long: the
/// pool thread may be asleep that long between polls without a worker running dry.
const BACKLOG: Duration = Duration::from_millis(2);
/// The most tasks a worker holds with the adaptive depth (the process pool's figure).
const MAX_DEPTH: usize = 64;
/// The adaptive depth before a worker's first reply, and its floor.
const BASE_DEPTH: usize = 2;
/// Short tasks for one worker are packed into one message up to this many bytes.
const PACK_LIMIT: usize = 64 << 10;
/// The shortest pause between polls while tasks are in flight.
const MIN_POLL: Duration = Duration::from_micros(10);

/// One worker rank and the tasks it holds, in the order it will reply.
struct Slot {
    info: WorkerInfo,
    in_flight: VecDeque<(u64, Box<dyn Sink>)>,
    /// Moving average of the worker's time per task, in ns (0 until its first reply).
    task_ns: u64,
}

impl Slot {
    fn learn(&mut self, busy: Duration) {
        let ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.task_ns = if self.task_ns == 0 {
            ns.max(1)
        } else {
            (self.task_ns.saturating_mul(3).saturating_add(ns) / 4).max(1)
        };
    }

    /// How many tasks this worker may hold: `fixed`, or enough for [`BACKLOG`] of work.
    fn depth(&self, fixed: Option<usize>) -> usize {
        match fixed {
            Some(depth) => depth,
            None if self.task_ns == 0 => BASE_DEPTH,
            None => usize::try_from(BACKLOG.as_nanos() as u64 / self.task_ns)
                .unwrap_or(MAX_DEPTH)
                .clamp(BASE_DEPTH, MAX_DEPTH),
        }
    }
}

/// The pool thread's state.
pub(crate) struct Dispatcher {
    link: Link,
    commands: Receiver<Command>,
    queue: VecDeque<Job>,
    slots: Vec<Slot>,
    /// Tasks per worker as the user fixed it; `None` adapts to the tasks' length.
    depth: Option<usize>,
    next_id: u64,
    closing: bool,
    /// Why the pool is broken (its initializer failed), if it is.
    broken: Option<String>,
    counters: Arc<Counters>,
    backoff: Backoff,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("queued", &self.queue.len())
            .field("workers", &self.slots.len())
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

/// How the pool thread is set up.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) workers: Vec<WorkerInfo>,
    pub(crate) depth: Option<usize>,
    pub(crate) broken: Option<String>,
    pub(crate) backoff: Backoff,
}

impl Dispatcher {
    /// A pool thread for `plan`; call on the thread that will run it (MPI handles stay put).
    pub(crate) fn new(plan: Plan, commands: Receiver<Command>, counters: Arc<Counters>) -> Self {
        Dispatcher {
            link: Link::world(),
            commands,
            queue: VecDeque::new(),
            slots: plan
                .workers
                .into_iter()
                .map(|info| Slot {
                    info,
                    in_flight: VecDeque::new(),
                    task_ns: 0,
                })
                .collect(),
            depth: plan.depth.map(|d| d.max(1)),
            next_id: 0,
            closing: false,
            broken: plan.broken,
            counters,
            backoff: plan.backoff,
        }
    }

    /// Runs until shut down and drained, then stops the workers.
    pub(crate) fn run(mut self) {
        loop {
            let mut progress = self.take_commands();
            progress |= self.dispatch();
            progress |= self.collect();
            progress |= self.link.poll_sends();
            let idle = self.slots.iter().all(|s| s.in_flight.is_empty());
            if self.closing && idle && self.queue.is_empty() {
                break;
            }
            if progress {
                self.backoff.reset();
            } else if idle && self.queue.is_empty() {
                // Nothing to poll MPI for: sleep until told something.
                match self.commands.recv() {
                    Ok(command) => self.accept(command),
                    Err(_) => self.closing = true,
                }
                self.backoff.reset();
            } else if let Some(pause) = self.backoff.snooze() {
                match self.commands.recv_timeout(pause.min(self.poll_ceiling())) {
                    Ok(command) => self.accept(command),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => self.closing = true,
                }
            }
        }
        for slot in &self.slots {
            // An empty message is small enough that sending cannot fail.
            let _ = self.link.send(slot.info.rank, wire::STOP, Vec::new());
        }
        self.link.flush_sends();
    }

    /// The longest pause between polls now: a quarter of the shortest task in flight, so a
    /// reply is noticed well before its worker runs out of work.
    fn poll_ceiling(&self) -> Duration {
        self.slots
            .iter()
            .filter(|s| !s.in_flight.is_empty() && s.task_ns > 0)
            .map(|s| Duration::from_nanos(s.task_ns / 4))
            .min()
            .map_or(Duration::MAX, |d| d.max(MIN_POLL))
    }

    /// Takes every waiting command; whether there was any.
    fn take_commands(&mut self) -> bool {
        let mut any = false;
        while let Ok(command) = self.commands.try_recv() {
            self.accept(command);
            any = true;
        }
        any
    }

    fn accept(&mut self, command: Command) {
        match command {
            Command::Task(job) => match &self.broken {
                Some(why) => self.fail(job, FutureError::broken(why.clone())),
                None => self.queue.push_back(job),
            },
            Command::Shutdown { cancel_futures } => {
                self.closing = true;
                if cancel_futures {
                    for job in std::mem::take(&mut self.queue) {
                        self.counters.cancelled(job.sink.items());
                        job.sink.cancel();
                    }
                }
            }
        }
    }

    fn fail(&self, job: Job, error: FutureError) {
        job.sink
            .finish(Outcome::Failed(error), &mut |t| self.counters.settled(t));
    }

    /// Sends queued tasks to the least loaded workers with room, several short ones to a
    /// worker in one message; whether any task left the queue.
    fn dispatch(&mut self) -> bool {
        let mut any = false;
        while !self.queue.is_empty() {
            let fixed = self.depth;
            let Some(slot) = self
                .slots
                .iter_mut()
                .filter(|s| s.in_flight.len() < s.depth(fixed))
                .min_by_key(|s| s.in_flight.len())
            else {
                break;
            };
            let room = slot.depth(fixed) - slot.in_flight.len();
            let mut message: Option<Vec<u8>> = None;
            let mut packed = 0;
            while packed < room {
                let Some(next) = self.queue.front() else {
                    break;
                };
                let size = next.batch.len() + wire::TASK_OVERHEAD;
                if message
                    .as_ref()
                    .is_some_and(|m| m.len() + size > PACK_LIMIT)
                {
                    break;
                }
                let Some(Job { mut batch, sink }) = self.queue.pop_front() else {
                    break;
                };
                any = true;
                if !sink.start() {
                    self.counters.cancelled(sink.items());
                    continue;
                }
                let id = self.next_id;
                self.next_id += 1;
                wire::seal_task(&mut batch, id);
                match &mut message {
                    None => message = Some(batch),
                    Some(m) => m.extend_from_slice(&batch),
                }
                self.counters.sent(sink.items());
                slot.in_flight.push_back((id, sink));
                packed += 1;
            }
            let Some(message) = message else {
                continue;
            };
            if let Err(e) = self.link.send(slot.info.rank, wire::TASK, message) {
                // Only a single task can be too large (packing stops well below the limit).
                let failed: Vec<_> = slot
                    .in_flight
                    .drain(slot.in_flight.len() - packed..)
                    .collect();
                for (_, sink) in failed {
                    let items = sink.items();
                    sink.finish(Outcome::Failed(e.clone().into()), &mut |t| {
                        self.counters.recalled(items, t);
                    });
                }
            }
        }
        any
    }

    /// Settles the tasks whose replies have arrived; whether any did.
    fn collect(&mut self) -> bool {
        let mut any = false;
        while let Some(message) = self.link.try_receive(None) {
            any = true;
            if message.tag != wire::REPLY {
                continue;
            }
            let Some(index) = self
                .slots
                .iter()
                .position(|s| s.info.rank == message.source)
            else {
                continue;
            };
            // An unreadable message counts as one malformed frame: it puts the worker out of
            // step, which fails what it still owes instead of leaving it pending.
            let frames = wire::frames(&message.bytes).unwrap_or_else(|| vec![&[][..]]);
            let slot = &mut self.slots[index];
            let counters = &self.counters;
            for frame in frames {
                let Some((id, sink)) = slot.in_flight.pop_front() else {
                    break;
                };
                let items = sink.items();
                match wire::open_reply(frame) {
                    // A worker answers its tasks in the order it got them.
                    Some(reply) if reply.id == id => {
                        let busy = reply.busy;
                        slot.learn(busy);
                        sink.finish(Outcome::Replied(reply, &slot.info), &mut |t| {
                            counters.replied(index, items, busy, t);
                        });
                    }
                    _ => {
                        // Out of step with this worker: nothing it still owes can be matched.
                        let error = MpiError::Remote {
                            rank: slot.info.rank,
                            host: slot.info.host.clone(),
                            error: ShipError::Decode(format!("malformed reply to task {id}")),
                        };
                        let lost =
                            std::iter::once(sink).chain(slot.in_flight.drain(..).map(|(_, s)| s));
                        for sink in lost {
                            let items = sink.items();
                            sink.finish(Outcome::Failed(error.clone().into()), &mut |t| {
                                counters.recalled(items, t);
                            });
                        }
                        break;
                    }
                }
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> Slot {
        Slot {
            info: WorkerInfo {
                rank: 1,
                host: "h".into(),
            },
            in_flight: VecDeque::new(),
            task_ns: 0,
        }
    }

    #[test]
    fn short_tasks_get_a_deep_backlog_long_ones_a_shallow_one() {
        let mut s = slot();
        assert_eq!(s.depth(None), BASE_DEPTH, "unknown length: the base depth");
        s.learn(Duration::from_micros(1));
        assert_eq!(s.depth(None), MAX_DEPTH);
        let mut s = slot();
        s.learn(Duration::from_micros(100));
        assert_eq!(s.depth(None), 20);
        s.learn(Duration::from_secs(1));
        assert_eq!(s.depth(None), BASE_DEPTH);
        assert_eq!(s.depth(Some(7)), 7, "a fixed depth wins");
    }

    #[test]
    fn the_average_follows_the_tasks() {
        let mut s = slot();
        s.learn(Duration::from_nanos(400));
        s.learn(Duration::from_nanos(800));
        assert_eq!(s.task_ns, 500);
        s.learn(Duration::ZERO);
        assert_eq!(s.task_ns, 375);
    }
}
