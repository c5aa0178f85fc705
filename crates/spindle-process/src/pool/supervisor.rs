//! The supervisor: one thread per pool that starts workers, reads their replies, notices their
//! deaths, replaces them and enforces task timeouts.
//!
//! It takes replies from every worker's reply ring, spinning on the rings for a moment while
//! tasks are out, then announces its sleep on each ring and waits with `poll` on every
//! worker's reply pipe plus a doorbell pipe (rung by `close`, `terminate` and by a dispatch
//! that armed a new deadline), with the nearest task deadline as its timeout. A worker's death
//! shows as end of file on its reply pipe: the supervisor takes the replies it published,
//! reaps it for its exit status, fails the task it was running (if its progress word says it
//! had started one; see `progress.rs`) with
//! [`PoolError::WorkerDied`](super::PoolError::WorkerDied) naming pid and signal, puts the
//! tasks it never started back in front of the pending queue, and starts a replacement.
//!
//! Start-up: a worker that dies before saying it is ready (killed during start-up or inside
//! its initializer, or crashed there) is replaced like any other; only
//! [`MAX_START_FAILURES`] such deaths in a row, with no worker becoming ready in between,
//! break the pool, with every one of those deaths listed in the
//! [`BrokenReason`]. An initializer that panics breaks the pool at once (it would fail in
//! every worker), and so does a worker the operating system refuses to create (a pipe, a
//! descriptor, a process): retrying cannot help until the limit changes, and the
//! `io::Error` travels as the reason's source.

use super::broken::BrokenReason;
use super::core::{run_completions, Completions, Shared, Slot};
use super::error::PoolError;
use super::progress::{self, Progress};
use super::ring::{self, Ring, Side};
use super::wire::{self, Reply};
use super::worker_loop::{worker_main, Boot, RingBlock};
use super::{OnWorkerDeath, MAX_START_FAILURES};
use crate::connection::wait;
use crate::heap::SharedBlock;
use crate::{sys, Connection, Pipe, Process, ProcessError};
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pipe buffer asked for each worker pipe (Linux's default cap for unprivileged processes).
const WORKER_PIPE_BYTES: usize = 1 << 20;

/// How long a worker may take to exit after its pipe closed before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// The supervisor's own record of a worker.
struct Proc {
    key: u64,
    pid: u32,
    rx: Connection,
    process: Process,
    ready: bool,
    /// The worker's reply ring (consumer side), if the pool uses rings.
    ring: Option<Ring>,
}

enum Stop {
    /// Closed and drained: let the workers see end of file and leave.
    Drain,
    /// Terminated or broken: kill them.
    Kill,
}

/// The supervisor thread's body.
pub(crate) fn run(shared: Arc<Shared>) {
    let Some(bell) = shared.bell_rx.lock().take() else {
        finish(&shared, Vec::new(), Stop::Kill);
        return;
    };
    let mut procs: Vec<Proc> = Vec::new();
    let mut next_key = 0u64;
    // Deaths before ready since a worker last became ready.
    let mut failed_starts: Vec<PoolError> = Vec::new();
    let stop = loop {
        // 0. Take the replies waiting in the rings.
        for p in &mut procs {
            drain_ring(&shared, p, &mut failed_starts);
        }
        // 1. Decide whether to stop, and how many workers are missing.
        let need = {
            let st = shared.state.lock();
            if st.terminating || st.broken.is_some() {
                break Stop::Kill;
            }
            if st.closing && st.outstanding == 0 {
                break Stop::Drain;
            }
            if st.closing && st.pending.is_empty() {
                0
            } else {
                shared.cfg.processes.saturating_sub(procs.len())
            }
        };
        for _ in 0..need {
            next_key += 1;
            if let Err(reason) = spawn_one(&shared, &mut procs, next_key) {
                let done = shared.break_pool(&mut shared.state.lock(), reason);
                run_completions(&shared.tally, done);
                break;
            }
        }
        // 2. Wait for replies, deaths, the doorbell or the nearest deadline.
        let deadline = shared
            .state
            .lock()
            .workers
            .iter()
            .filter_map(|w| w.deadline)
            .min();
        let ready = wait_ready(&shared, &bell, &procs, deadline);
        // 3. Handle what is ready.
        let mut dead = Vec::new();
        for i in ready {
            if i == 0 {
                shared
                    .bell_rung
                    .store(false, std::sync::atomic::Ordering::Release);
                while bell.poll(Some(Duration::ZERO)) {
                    if bell.recv_bytes().is_err() {
                        break;
                    }
                }
                continue;
            }
            let p = &mut procs[i - 1];
            let mut frames = Vec::new();
            loop {
                match p.rx.recv_bytes() {
                    // An empty frame only wakes us up; the replies are in the ring.
                    Ok(bytes) if bytes.is_empty() => {}
                    Ok(bytes) => frames.push(bytes),
                    Err(_) => {
                        dead.push(p.key);
                        break;
                    }
                }
                if !p.rx.poll(Some(Duration::ZERO)) {
                    break;
                }
            }
            on_replies(&shared, p, frames, &mut failed_starts);
        }
        for key in dead {
            if let Some(i) = procs.iter().position(|p| p.key == key) {
                let mut p = procs.swap_remove(i);
                // Replies it published before dying count.
                drain_ring(&shared, &mut p, &mut failed_starts);
                on_death(&shared, p, &mut failed_starts);
            }
        }
        // 4. Kill the workers whose running task is overdue.
        for key in expire(&shared) {
            if let Some(p) = procs.iter().find(|p| p.key == key) {
                let _ = p.process.kill();
            }
        }
    };
    let _ = &mut procs;
    finish(&shared, procs, stop);
}

/// Takes every reply waiting in `p`'s ring.
fn drain_ring(shared: &Shared, p: &mut Proc, failed_starts: &mut Vec<PoolError>) {
    let Some(r) = &p.ring else { return };
    let mut frames = Vec::new();
    loop {
        match r.pop() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => break,
            Err(_) => {
                eprintln!("spindle pool: corrupt reply ring of worker {}", p.pid);
                let _ = p.process.kill();
                break;
            }
        }
    }
    if !frames.is_empty() {
        on_replies(shared, p, frames, failed_starts);
    }
}

/// Waits for something to do; returns the indices of ready pipes (0: the doorbell). Checks
/// the pipes once without blocking (deaths, big replies, the doorbell), then, while tasks are
/// out, spins on the rings (no system call) for the spin window, then announces its sleep on
/// every ring and blocks in `poll`. An empty result with a ring holding replies is normal:
/// the caller drains the rings first thing.
fn wait_ready(
    shared: &Shared,
    bell: &Connection,
    procs: &[Proc],
    deadline: Option<Instant>,
) -> Vec<usize> {
    let mut conns: Vec<&Connection> = Vec::with_capacity(procs.len() + 1);
    conns.push(bell);
    conns.extend(procs.iter().map(|p| &p.rx));
    let any_reply = || {
        procs
            .iter()
            .any(|p| p.ring.as_ref().is_some_and(Ring::has_message))
    };
    if let Ok(r) = wait(&conns, Some(Duration::ZERO)) {
        if !r.is_empty() {
            return r;
        }
    }
    let spin = shared.cfg.spin;
    if !spin.is_zero() && shared.state.lock().outstanding > 0 {
        let start = Instant::now();
        let rings = procs.iter().any(|p| p.ring.is_some());
        loop {
            if rings {
                if any_reply() || shared.bell_rung.load(std::sync::atomic::Ordering::Acquire) {
                    return Vec::new();
                }
            } else {
                match wait(&conns, Some(Duration::ZERO)) {
                    Ok(r) if !r.is_empty() => return r,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            if start.elapsed() >= spin {
                break;
            }
            // Yield, so a spinning pool never keeps the thread it waits for off the CPU.
            std::thread::yield_now();
        }
    }
    let mut asleep: Vec<&Ring> = Vec::new();
    for r in procs.iter().filter_map(|p| p.ring.as_ref()) {
        if !r.prepare_sleep() {
            asleep.iter().for_each(|r| r.end_sleep());
            return Vec::new();
        }
        asleep.push(r);
    }
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let ready = wait(&conns, timeout).unwrap_or_default();
    asleep.iter().for_each(|r| r.end_sleep());
    ready
}

/// Starts one worker and registers it; the reason to break the pool if the operating system
/// refuses (the `io::Error` is its source).
fn spawn_one(shared: &Arc<Shared>, procs: &mut Vec<Proc>, key: u64) -> Result<(), BrokenReason> {
    let cfg = &shared.cfg;
    if let Some(reason) = &cfg.refuse {
        return Err(reason.clone());
    }
    let pipe =
        || Pipe(false).map_err(|e| BrokenReason::with_source("cannot create a worker pipe", e));
    let (task_rx, task_tx) = pipe()?;
    let (res_rx, res_tx) = pipe()?;
    // Big frames go through the pipes: with room for a whole megabyte the writer finishes in
    // one `write` instead of waking the reader every 64 KiB (best effort; the kernel may cap
    // it, and pages are used only while data sits in the pipe).
    sys::set_pipe_size(task_tx.as_fd(), WORKER_PIPE_BYTES);
    sys::set_pipe_size(res_tx.as_fd(), WORKER_PIPE_BYTES);
    // The rings (if used), then the progress word. Without a block (memfd refused) the worker
    // simply uses its pipes, and its oldest unanswered task counts as taken if it dies.
    let len = if cfg.rings {
        ring::BLOCK_BYTES + progress::BYTES
    } else {
        progress::BYTES
    };
    let progress_at = len - progress::BYTES;
    let block = SharedBlock::new(len).ok();
    let boot = Boot {
        tasks: task_rx,
        results: res_tx,
        initializer: cfg.initializer.clone(),
        max_tasks: cfg.max_tasks,
        parent: sys::getpid(),
        spin_us: u64::try_from(cfg.spin.as_micros()).unwrap_or(u64::MAX),
        block: block.as_ref().map(|b| RingBlock(Arc::clone(b))),
        progress_at,
    };
    let mut process = Process::new(worker_main, boot)
        .daemon(true)
        .name(format!("SpawnPoolWorker-{key}"));
    process.start().map_err(|e| match e {
        ProcessError::Spawn(os) => BrokenReason::with_source("cannot start a worker process", os),
        other => BrokenReason::with_source("cannot start a worker process", other),
    })?;
    // `start` consumed the boot arguments, closing our copies of the worker's pipe ends.
    let pid = process.pid().unwrap_or(0);
    let rings = block.as_ref().filter(|_| cfg.rings);
    procs.push(Proc {
        key,
        pid,
        rx: res_rx,
        process,
        ready: false,
        ring: rings.and_then(|b| Ring::new(Arc::clone(b), Side::Replies)),
    });
    let mut st = shared.state.lock();
    st.workers.push(Slot {
        key,
        pid,
        tx: task_tx,
        in_flight: VecDeque::new(),
        bytes: 0,
        sends_left: cfg.max_tasks,
        accepting: true,
        deadline: None,
        ready: false,
        timed_out: false,
        since: Instant::now(),
        ring: rings.and_then(|b| Ring::new(Arc::clone(b), Side::Tasks)),
        progress: block.and_then(|b| Progress::new(b, progress_at)),
        seq: 0,
        exclusive: false,
        done: 0,
        busy: Duration::ZERO,
    });
    st.spawned += 1;
    shared.dispatch(&mut st);
    Ok(())
}

/// Handles a burst of replies of worker `p` under one lock.
fn on_replies(
    shared: &Shared,
    p: &mut Proc,
    frames: Vec<Vec<u8>>,
    failed_starts: &mut Vec<PoolError>,
) {
    let mut done: Completions = Vec::new();
    let mut st = shared.state.lock();
    for bytes in frames {
        let reply = match wire::decode_reply(&bytes) {
            Ok(r) => r,
            Err(m) => {
                eprintln!("spindle pool: undecodable reply from worker {}: {m}", p.pid);
                let _ = p.process.kill();
                continue;
            }
        };
        match reply {
            Reply::Ready => {
                p.ready = true;
                failed_starts.clear();
                // The task waiting for this worker starts now: its timeout counts from here.
                if let Some(w) = st.workers.iter_mut().find(|w| w.key == p.key) {
                    w.ready = true;
                    w.head_starts(Instant::now());
                }
            }
            Reply::InitFailed(msg) => {
                let reason = format!("initializer failed in worker process {}: {msg}", p.pid);
                done.extend(shared.break_pool(&mut st, BrokenReason::new(reason)));
            }
            Reply::Done { id, outcome } => {
                let now = Instant::now();
                let Some(w) = st.workers.iter_mut().find(|w| w.key == p.key) else {
                    continue;
                };
                let Some(pos) = w.in_flight.iter().position(|s| s.id == id) else {
                    continue; // already failed (timed out just as it finished)
                };
                let Some(sent) = w.in_flight.remove(pos) else {
                    continue;
                };
                if w.in_flight.is_empty() {
                    w.exclusive = false;
                }
                w.bytes -= sent.task.frame.len();
                w.done += sent.task.sink.items();
                let took = u64::try_from(now.saturating_duration_since(w.since).as_nanos())
                    .unwrap_or(u64::MAX);
                if pos == 0 {
                    w.busy += now.saturating_duration_since(w.since);
                    w.head_starts(now);
                }
                st.avg_ns = if st.avg_ns == u64::MAX {
                    took
                } else {
                    (st.avg_ns / 8) * 7 + took / 8
                };
                st.outstanding -= 1;
                done.push((sent.task.sink, Ok(outcome)));
            }
        }
    }
    if st.outstanding == 0 {
        shared.changed.notify_all();
    }
    shared.dispatch(&mut st);
    drop(st);
    run_completions(&shared.tally, done);
}

/// Handles the end of worker `p`: reap it, fail the task it was running, requeue the ones it
/// never started, maybe break the pool.
fn on_death(shared: &Shared, mut p: Proc, failed_starts: &mut Vec<PoolError>) {
    let (signal, exitcode) = match reap(&p.process) {
        Some(code) if code < 0 => (Some(-code), None),
        Some(code) => (None, Some(code)),
        None => (None, None), // "end status unknown", never a made-up SIGKILL
    };
    let _ = p.process.close();
    let died = PoolError::WorkerDied {
        pid: p.pid,
        signal,
        exitcode,
    };
    let mut st = shared.state.lock();
    let slot = st
        .workers
        .iter()
        .position(|w| w.key == p.key)
        .map(|i| st.workers.swap_remove(i));
    let mut done: Completions = Vec::new();
    let policy = shared.cfg.on_death;
    if st.terminating || st.broken.is_some() {
        // The stop path fails what is left.
    } else if !p.ready {
        // Killed or crashed during start-up or in its initializer: it started no task.
        if let Some(mut slot) = slot {
            requeue(&mut st.pending, &mut slot);
        }
        failed_starts.push(died);
        let reason = if policy == OnWorkerDeath::Break {
            let causes = std::mem::take(failed_starts);
            Some(BrokenReason::with_causes(
                "a worker died during start-up",
                causes,
            ))
        } else if failed_starts.len() >= MAX_START_FAILURES {
            let causes = std::mem::take(failed_starts);
            Some(BrokenReason::with_causes(
                format!(
                    "{} worker start-ups failed in a row (each worker died before it was ready)",
                    causes.len()
                ),
                causes,
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            done = shared.break_pool(&mut st, reason);
        }
    } else if let Some(mut slot) = slot {
        let retired =
            exitcode == Some(0) && slot.sends_left == Some(0) && slot.in_flight.is_empty();
        if !slot.timed_out {
            if let Some(running) = slot.take_running() {
                st.outstanding -= 1;
                done.push((running.task.sink, Err(died.clone())));
            }
        }
        requeue(&mut st.pending, &mut slot);
        if !retired && !slot.timed_out && policy == OnWorkerDeath::Break {
            let reason = BrokenReason::with_causes("a worker died", vec![died]);
            done.extend(shared.break_pool(&mut st, reason));
        }
    }
    if st.outstanding == 0 {
        shared.changed.notify_all();
    }
    drop(st);
    run_completions(&shared.tally, done);
    p.ready = false;
}

/// Puts the tasks a dead worker never started back in front of the queue, in order.
fn requeue(pending: &mut VecDeque<super::core::Task>, slot: &mut Slot) {
    while let Some(sent) = slot.in_flight.pop_back() {
        pending.push_front(sent.task);
    }
}

/// Waits for a worker that is ending; kills it if it takes too long. Returns its exit code
/// (negative: the signal), or `None` when its status cannot be known
/// ([`ProcessError::StatusUnknown`](crate::ProcessError::StatusUnknown)).
fn reap(process: &Process) -> Option<i32> {
    if !process.join_timeout(EXIT_GRACE) {
        let _ = process.kill();
    }
    process.join().ok()
}

/// Fails overdue running tasks with `Timeout`; returns the workers to kill.
fn expire(shared: &Shared) -> Vec<u64> {
    let now = Instant::now();
    let mut st = shared.state.lock();
    let mut done: Completions = Vec::new();
    let mut kill = Vec::new();
    for w in &mut st.workers {
        if w.deadline.is_some_and(|d| d <= now) {
            w.deadline = None;
            w.accepting = false;
            w.timed_out = true;
            if let Some(head) = w.in_flight.pop_front() {
                w.bytes -= head.task.frame.len();
                done.push((head.task.sink, Err(PoolError::Timeout)));
            }
            kill.push(w.key);
        }
    }
    st.outstanding -= done.len();
    if st.outstanding == 0 {
        shared.changed.notify_all();
    }
    drop(st);
    run_completions(&shared.tally, done);
    kill
}

/// Ends the pool: let the workers leave (drain) or kill them, fail what is left, reap all.
fn finish(shared: &Shared, procs: Vec<Proc>, stop: Stop) {
    let mut st = shared.state.lock();
    let done = shared.fail_all(&mut st, || PoolError::Closed);
    // Dropping the task pipes' write ends: every worker sees end of file.
    let slots: Vec<Slot> = st.workers.drain(..).collect();
    drop(st);
    drop(slots);
    run_completions(&shared.tally, done);
    for p in &procs {
        if matches!(stop, Stop::Kill) {
            let _ = p.process.kill();
        }
    }
    for mut p in procs {
        reap(&p.process);
        let _ = p.process.close();
    }
    let mut st = shared.state.lock();
    st.finished = true;
    shared.changed.notify_all();
}
