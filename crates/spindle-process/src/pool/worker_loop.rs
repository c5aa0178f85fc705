//! The worker side of a pool: the loop a pool worker process runs.
//!
//! A pool worker is a [`Process`](crate::Process) whose target is [`worker_main`]: it arms the
//! parent-death signal, runs the initializer, says [`Reply::Ready`], then takes task frames
//! from its ring (or, for big ones, its pipe), runs each item under `catch_unwind`, and sends
//! one reply per task before starting the next. It leaves when the pipe reaches end of file
//! (the pool closed it, or the parent died) or after `max_tasks` tasks. Before each task it
//! announces the task's number in its progress word (see `progress.rs`), so that the pool
//! knows after its death whether it had started that task. Between tasks it spins
//! on its ring for a short window (yielding the CPU), then announces its sleep and blocks in
//! `read` on its pipe, so an idle worker uses no CPU.
use super::progress::Progress;
use super::ring::{Ring, Side};
use super::wire::{self, Reply};
use crate::heap::SharedBlock;
use crate::shipping::Call;
use crate::sys;
use crate::Connection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a pool hands a new worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Boot {
    /// Task frames arrive here.
    pub(crate) tasks: Connection,
    /// Replies go here.
    pub(crate) results: Connection,
    /// Run once before the first task; a panic breaks the pool.
    pub(crate) initializer: Option<Call>,
    /// Leave after this many tasks (Python's `maxtasksperchild`).
    pub(crate) max_tasks: Option<u64>,
    /// Pid of the pool's process; the worker leaves if it is no longer its parent.
    pub(crate) parent: u32,
    /// How long to poll for the next task before blocking, in microseconds.
    pub(crate) spin_us: u64,
    /// The worker's shared block: the task and reply rings if it is big enough for them
    /// (otherwise the worker uses its pipes), and the progress word (absent: neither).
    pub(crate) block: Option<RingBlock>,
    /// Byte offset of the progress word in `block`.
    pub(crate) progress_at: usize,
}

/// A worker's shared block (rings and progress word), as it travels in [`Boot`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RingBlock(#[serde(with = "crate::heap::arc_block")] pub(crate) Arc<SharedBlock>);

/// The worker's ends: where tasks come from and replies go.
struct Channel<'a> {
    boot: &'a Boot,
    tasks: Option<Ring>,
    replies: Option<Ring>,
    spin: Duration,
}

impl Channel<'_> {
    /// The next task frame: from the ring (spinning up to `spin` for one), else from the pipe
    /// (blocking, after announcing the sleep). `None` at end of file: the pool is gone.
    fn next(&self) -> Option<Vec<u8>> {
        let Some(ring) = &self.tasks else {
            if !wait_for_task(&self.boot.tasks, self.spin) {
                return None;
            }
            return self.boot.tasks.recv_bytes().ok();
        };
        let start = Instant::now();
        loop {
            match ring.pop() {
                Ok(Some(frame)) => return Some(frame),
                Ok(None) => {}
                Err(_) => {
                    eprintln!("spindle pool worker {}: corrupt task ring", sys::getpid());
                    return None;
                }
            }
            if start.elapsed() < self.spin {
                std::thread::yield_now();
                continue;
            }
            if !ring.prepare_sleep() {
                continue;
            }
            // Blocks until a wake-up frame, a big task, or end of file.
            let frame = self.boot.tasks.recv_bytes();
            ring.end_sleep();
            match frame {
                Ok(f) if f.is_empty() => {} // a wake-up: look at the ring again
                Ok(f) => return Some(f),
                Err(_) => return None,
            }
        }
    }

    /// Sends one reply: through the ring if it fits (waking a sleeping pool), else the pipe.
    fn reply(&self, reply: &Reply) -> bool {
        let bytes = wire::encode_reply(reply);
        if let Some(ring) = &self.replies {
            if ring.push(&bytes) {
                if ring.take_sleeper() {
                    return self.boot.results.send_bytes(&[]).is_ok();
                }
                return true;
            }
        }
        self.boot.results.send_bytes(&bytes).is_ok()
    }
}

/// Runs the initializer; `Some(message)` if it panicked or could not run.
fn run_initializer(call: &Call) -> Option<String> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY:
        // - the call came from our parent over a private pipe and was made by `Call::new` in
        //   the same program (the build id inside is checked before any address is used).
        unsafe { call.invoke() }
    }));
    match r {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("initializer could not run: {e}")),
        Err(payload) => Some(format!(
            "initializer panicked: {}",
            crate::shipping::panic_message(&*payload)
        )),
    }
}

/// Waits for the next frame: polls for `spin` first, then blocks. Returns false at end of file
/// or on an error (the pool is gone).
fn wait_for_task(tasks: &Connection, spin: Duration) -> bool {
    if !spin.is_zero() {
        let start = Instant::now();
        loop {
            if tasks.poll(Some(Duration::ZERO)) {
                return true;
            }
            if start.elapsed() >= spin {
                break;
            }
            // Yield, so a spinning pool never keeps the thread it waits for off the CPU.
            std::thread::yield_now();
        }
    }
    tasks.poll(None)
}

/// The pool worker's main function (a [`Process`](crate::Process) target).
pub(crate) fn worker_main(boot: Boot) {
    // Spawned by the pool's supervisor thread, which lives as long as the pool: its death
    // means the pool (or its process) is gone.
    let _ = sys::set_death_signal(libc::SIGKILL);
    if sys::getppid() != boot.parent {
        return; // the parent died before the signal was armed
    }
    // Panics are reported to the pool with their message; printing them here too would
    // duplicate every task failure on stderr.
    std::panic::set_hook(Box::new(|_| {}));
    crate::sys::keep_freed_memory();
    let block = boot.block.as_ref().map(|b| Arc::clone(&b.0));
    let progress = block
        .clone()
        .and_then(|b| Progress::new(b, boot.progress_at));
    let chan = Channel {
        boot: &boot,
        tasks: block.clone().and_then(|b| Ring::new(b, Side::Tasks)),
        replies: block.and_then(|b| Ring::new(b, Side::Replies)),
        spin: Duration::from_micros(boot.spin_us),
    };
    if let Some(init) = &boot.initializer {
        if let Some(msg) = run_initializer(init) {
            chan.reply(&Reply::InitFailed(msg));
            return;
        }
    }
    if !chan.reply(&Reply::Ready) {
        return;
    }
    let mut done = 0u64;
    // Number of the last task record started, counted as the pool numbers what it writes.
    let mut seq = 0u32;
    while boot.max_tasks.is_none_or(|m| done < m) {
        let Some(frame) = chan.next() else { return };
        let records = match wire::split_frame(&frame) {
            Ok(r) => r,
            Err(m) => {
                // Without ids the pool cannot tell which tasks these were; say so and leave,
                // marking the frame's first task as started so that the pool fails it with
                // this exit instead of handing the same frame to the next worker.
                eprintln!(
                    "spindle pool worker {}: undecodable task frame: {m}",
                    sys::getpid()
                );
                if let Some(p) = &progress {
                    p.start(seq.wrapping_add(1));
                }
                return;
            }
        };
        for (id, body) in records {
            seq = seq.wrapping_add(1);
            if let Some(p) = &progress {
                p.start(seq);
            }
            let outcome = wire::run_task(body);
            // One reply per task, sent before the next task starts.
            if !chan.reply(&Reply::Done { id, outcome }) {
                return;
            }
            done += 1;
        }
    }
}
