//! The untyped queue shared by `Queue`, `JoinableQueue` and `SimpleQueue`: a pipe of framed
//! items plus a shared block that lets a process finish what a dead one left half done.
//!
//! # Frames
//!
//! A frame is a 16-byte header (`magic`, body length, flags, check) and the body. `magic` is
//! random per queue and `check` mixes the other three words, so a reader that lost its place
//! recognises the next real header (see `Phase::Scan`).
//!
//! # Who knows where the stream is
//!
//! Stream positions are byte offsets modulo 2^32. The writer-lock holder stores where its
//! frame starts (`WSTART`, `WLEN`) before it writes a byte; the reader-lock holder stores how
//! far it has read (`RPOS`) after every `read`. One 64-bit word (`STATE`) holds the item
//! count, the unfinished-task count and two flags, `WRITING` and `READING`, so "one more item,
//! and a frame is being written" is a single atomic add and "one item fewer, frame done" a
//! single atomic subtract: a process killed between two stores never leaves the counts
//! disagreeing with the flags.
//!
//! # A dead writer
//!
//! `WRITING` set while nobody writes means a frame may be torn. Once the writer is known gone
//! (its lock's owner is dead, or a new lock holder found `WRITING` set) the flag `ORPHAN` says
//! so, and no process writes until the frame is *resolved*: the holder of the reader lock,
//! whose read position is exact, computes the true end of the stream as `RPOS + FIONREAD`.
//! If the frame is short, a torn record `{start, end, announced length}` goes into the block;
//! a reader reaching `start` skips to `end` and reports [`GetError::Torn`] once. Whoever holds
//! the reader lock resolves: a reader starved mid-frame, or the next writer (which takes the
//! reader lock to do it, waiting at most its own deadline).
//!
//! # A dead reader
//!
//! A reader lock found with `READING` set (its owner died, or dropped the queue mid-item)
//! means the frame at `RSTART` was partly consumed. The next reader skips from the dead
//! reader's position to the frame's end (`RSTART + RLEN`) and reports it torn. `RPOS` lags if
//! the dead reader was killed inside a `read` (the kernel took the bytes, the store after it
//! never ran), so the next reader recomputes the position from the writer side: the end of
//! the written stream minus what the pipe holds (`FIONREAD`), exact because it holds the
//! reader lock and no writer is inside a `write` (`WPOS` follows every `write`, `WSEQ` is odd
//! during one; see `Core::stream_end`). Only when a writer also died inside its `write` is
//! neither end known: then `RPOS` is trusted, the header that follows may fail its check, and
//! the reader scans for the next valid header (reporting the loss once more).
//!
//! # Timeouts mid-frame
//!
//! A `get` whose deadline passes mid-frame keeps what it has read and keeps the reader lock
//! (`Core::parked`); the same process's next `get` completes the item. A `put` whose deadline
//! passes mid-frame takes its item back: the partial frame is marked abandoned and skipped
//! silently.
//!
//! This file passes 600 lines on purpose: the writer's half and the reader's half of this
//! protocol rely on the same words and invariants, and are only checkable read side by side.

use crate::heap::SharedBlock;
use crate::synchronize::raw::{self, ROBUST_CHECK};
use crate::synchronize::Semaphore;
use crate::sys::{self, futex};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{GetError, TornCause};

/// Bytes of a frame header.
pub(super) const HEADER: usize = 16;
/// The body length that marks "closed".
const CLOSE_LEN: u32 = u32::MAX;
/// Largest body: a whole frame must stay below 2^32 so wrapping positions work.
const MAX_BODY: usize = (u32::MAX - 1024) as usize;
/// Frame flag: the item counts as an unfinished task (`JoinableQueue`).
const F_JOINABLE: u32 = 1;
/// Frame flag: the close marker.
const F_MARKER: u32 = 2;

/// Pipe buffer requested for a queue (the default unprivileged maximum).
const PIPE_SIZE: usize = 1 << 20;
/// How long one wait for a lock lasts before looking again at what a parked read or a
/// settled frame may have changed; longer than `ROBUST_CHECK`, so the lock's dead-owner
/// check runs within each wait.
const LOCK_SLICE: std::time::Duration = ROBUST_CHECK.saturating_mul(4);
/// Largest read while skipping a torn frame.
const SKIP_CHUNK: usize = 64 * 1024;

// Word indices in the shared block.
const R_LOCK: usize = 0;
const W_LOCK: usize = 1;
const CLOSED: usize = 2;
const MARKER_SEEN: usize = 3;
const JOIN_GEN: usize = 4;
const MAGIC: usize = 5;
/// The 64-bit `STATE` word (words 6 and 7, so 8-aligned).
const STATE: usize = 6;
const WPOS: usize = 8;
const WSTART: usize = 9;
const WLEN: usize = 10;
const WFLAGS: usize = 11;
const ORPHAN: usize = 12;
const RPOS: usize = 13;
const RSTART: usize = 14;
const RLEN: usize = 15;
const RFLAGS: usize = 16;
const TORN_COUNT: usize = 17;
/// Odd while the writer-lock holder is inside a `write` (see `Core::stream_end`).
const WSEQ: usize = 18;
const TORN: usize = 20;
const TORN_SLOTS: usize = 8;
const BLOCK_BYTES: usize = (TORN + 4 * TORN_SLOTS) * 4;

// `STATE` bits: item count, two flags, unfinished tasks in the high half.
const COUNT_MASK: u64 = (1 << 24) - 1;
const WRITING: u64 = 1 << 24;
const READING: u64 = 1 << 25;
const UNF: u64 = 1 << 32;

// `ORPHAN` values.
const ORPHAN_DEAD: u32 = 1;
const ORPHAN_ABANDONED: u32 = 2;

// Torn record kinds (`kind | flags << 8`); `BUSY` while being filled.
const KIND_WRITER_DIED: u32 = 1;
const KIND_ABANDONED: u32 = 2;
const KIND_BUSY: u32 = u32::MAX;

/// `RLEN` while a reader scans for the next header: the frame it lost is already counted out.
const RLEN_SCANNING: u32 = 1;

/// A failed put, before the item is put back into the public error.
pub(super) enum PutFail {
    Full,
    Closed,
    TooLarge,
    Io(io::Error),
}

/// One torn record: the frame starting at `start` ends at `end`.
#[derive(Clone, Copy)]
struct Torn {
    slot: usize,
    kind: u32,
    end: u32,
    announced: u32,
}

/// Where a reader is inside the stream.
enum Phase {
    /// Between frames.
    Boundary,
    /// Reading a header: `fill` bytes of it so far.
    Header { hdr: [u8; HEADER], fill: usize },
    /// Reading a body.
    Body { body: Vec<u8>, fill: usize },
    /// Discarding bytes up to `end`, then: report `report` (if any) and subtract `dec` from
    /// `STATE`; `slot` is a torn record to clear.
    Skip {
        end: u32,
        report: Option<GetError>,
        dec: u64,
        slot: Option<usize>,
    },
    /// Lost our place: reading byte by byte until the last 16 form a valid header.
    Scan {
        win: [u8; HEADER],
        fill: usize,
        report: Option<GetError>,
    },
}

impl Phase {
    /// Scanning for the next header after a reader died where the length of its frame is
    /// unknown; the loss is reported once.
    fn scan_for_dead_reader() -> Phase {
        Phase::Scan {
            win: [0; HEADER],
            fill: 0,
            report: Some(GetError::Torn {
                announced: None,
                cause: TornCause::ReaderDied,
            }),
        }
    }
}

/// A reader's progress, kept across calls while a timed-out `get` holds the reader lock.
pub(super) struct ReadState {
    rpos: u32,
    start: u32,
    phase: Phase,
}

/// Where the stream of written bytes ends, as [`Core::stream_end`] sees it.
enum End {
    /// Exactly here: no writer is inside a `write`.
    At(u32),
    /// A live writer is inside a `write`: ask again in a moment.
    Busy,
    /// A writer died inside a `write`: how much it wrote is not known from the writer side.
    Lost,
}

/// How a read step ended: `Done` (the buffer is full; from [`Core::wait_readable`], bytes
/// are ready), or why it stopped.
enum Fill {
    Done,
    Timeout,
    Torn(Torn),
    Err(io::Error),
}

/// The untyped queue shared by the three public kinds.
pub(super) struct Core {
    pub(super) reader: OwnedFd,
    pub(super) writer: OwnedFd,
    pub(super) block: Arc<SharedBlock>,
    pub(super) slots: Option<Semaphore>,
    pub(super) maxsize: usize,
    /// A read this process stopped mid-frame at its deadline; it still holds the reader lock.
    pub(super) parked: Mutex<Option<ReadState>>,
}

fn check_of(magic: u32, len: u32, flags: u32) -> u32 {
    let mut x = magic ^ len.rotate_left(7) ^ flags.rotate_left(19) ^ 0x9e37_79b9;
    x = x.wrapping_mul(0x85eb_ca6b);
    x ^= x >> 13;
    x = x.wrapping_mul(0xc2b2_ae35);
    x ^ (x >> 16)
}

/// The end of the next wait of at most `slice` toward `deadline`; `None` once it has passed.
/// Waits are sliced so that each round looks again at what a dead process left behind.
fn slice_end(deadline: Option<Instant>, slice: std::time::Duration) -> Option<Instant> {
    let now = Instant::now();
    if deadline.is_some_and(|d| now >= d) {
        return None;
    }
    let end = now + slice;
    Some(deadline.map_or(end, |d| d.min(end)))
}

fn word_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

fn fresh_magic(block: &SharedBlock) -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = t ^ (u64::from(sys::getpid()) << 32) ^ (block.ptr() as u64);
    let m = check_of(seed as u32, (seed >> 32) as u32, 0x5eed);
    m.max(1)
}

impl Core {
    pub(super) fn new(maxsize: usize) -> io::Result<Core> {
        let (reader, writer) = sys::pipe()?;
        sys::set_pipe_size(writer.as_fd(), PIPE_SIZE);
        sys::set_nonblocking(reader.as_fd())?;
        sys::set_nonblocking(writer.as_fd())?;
        let slots = if maxsize > 0 {
            Some(Semaphore::new(maxsize.min(u32::MAX as usize))?)
        } else {
            None
        };
        let block = SharedBlock::new(BLOCK_BYTES)?;
        block
            .word(MAGIC * 4)
            .store(fresh_magic(&block), Ordering::Release);
        Ok(Core::from_parts(reader, writer, block, slots, maxsize))
    }

    pub(super) fn from_parts(
        reader: OwnedFd,
        writer: OwnedFd,
        block: Arc<SharedBlock>,
        slots: Option<Semaphore>,
        maxsize: usize,
    ) -> Core {
        Core {
            reader,
            writer,
            block,
            slots,
            maxsize,
            parked: Mutex::new(None),
        }
    }

    fn w(&self, i: usize) -> &AtomicU32 {
        self.block.word(i * 4)
    }

    fn state(&self) -> &AtomicU64 {
        assert!((STATE + 2) * 4 <= self.block.len(), "queue block too small");
        // SAFETY:
        // - words STATE and STATE+1 lie inside the mapping (checked above), which lives as long
        //   as `self.block`; the mapping is page aligned and STATE * 4 is a multiple of 8;
        // - every process touches these 8 bytes only through this `AtomicU64`.
        unsafe { &*self.block.ptr().add(STATE * 4).cast::<AtomicU64>() }
    }

    fn magic(&self) -> u32 {
        self.w(MAGIC).load(Ordering::Relaxed)
    }

    pub(super) fn closed(&self) -> bool {
        self.w(CLOSED).load(Ordering::Acquire) != 0
    }

    pub(super) fn qsize(&self) -> usize {
        (self.state().load(Ordering::Acquire) & COUNT_MASK) as usize
    }

    pub(super) fn unfinished(&self) -> u32 {
        (self.state().load(Ordering::Acquire) >> 32) as u32
    }

    pub(super) fn header(&self, len: u32, flags: u32) -> [u8; HEADER] {
        let m = self.magic();
        let mut h = [0u8; HEADER];
        for (i, v) in [m, len, flags, check_of(m, len, flags)]
            .into_iter()
            .enumerate()
        {
            h[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        }
        h
    }

    /// `(body length, flags)` if `h` is a header of this queue.
    fn parse(&self, h: &[u8; HEADER]) -> Option<(u32, u32)> {
        let m = self.magic();
        let (len, flags) = (word_at(h, 1), word_at(h, 2));
        (word_at(h, 0) == m && word_at(h, 3) == check_of(m, len, flags)).then_some((len, flags))
    }

    /// Subtracts `dec` from `STATE`, waking joiners if the unfinished count reached zero.
    fn sub_state(&self, dec: u64) {
        let before = self.state().fetch_sub(dec, Ordering::AcqRel);
        if dec >= UNF && (before >> 32) == dec >> 32 {
            self.wake_joiners();
        }
    }

    pub(super) fn wake_joiners(&self) {
        self.w(JOIN_GEN).fetch_add(1, Ordering::Release);
        futex::wake_all(self.w(JOIN_GEN));
    }

    /// Marks one task done: `Err(())` if none is unfinished.
    pub(super) fn task_done(&self) -> Result<(), ()> {
        let s = self.state();
        let mut cur = s.load(Ordering::Acquire);
        loop {
            if cur >> 32 == 0 {
                return Err(());
            }
            match s.compare_exchange_weak(cur, cur - UNF, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        if cur >> 32 == 1 {
            self.wake_joiners();
        }
        Ok(())
    }

    /// Waits until no task is unfinished or `deadline` passes; returns whether none is.
    pub(super) fn join_until(&self, deadline: Option<Instant>) -> bool {
        let gen = self.w(JOIN_GEN);
        loop {
            if self.unfinished() == 0 {
                return true;
            }
            let g = gen.load(Ordering::Acquire);
            if self.unfinished() == 0 {
                return true;
            }
            if futex::wait_until(gen, g, deadline, None) == futex::WaitResult::TimedOut {
                return self.unfinished() == 0;
            }
        }
    }

    // ---- torn records -------------------------------------------------------------------

    fn slot(&self, i: usize, field: usize) -> &AtomicU32 {
        self.w(TORN + 4 * i + field)
    }

    /// Records that the frame at `start` ends at `end`; false if the table is full.
    fn add_torn(&self, kind: u32, start: u32, end: u32, announced: u32) -> bool {
        for i in 0..TORN_SLOTS {
            if self
                .slot(i, 0)
                .compare_exchange(0, KIND_BUSY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                self.slot(i, 1).store(start, Ordering::Relaxed);
                self.slot(i, 2).store(end, Ordering::Relaxed);
                self.slot(i, 3).store(announced, Ordering::Relaxed);
                self.slot(i, 0).store(kind, Ordering::Release);
                self.w(TORN_COUNT).fetch_add(1, Ordering::Release);
                return true;
            }
        }
        false
    }

    /// The torn record for the frame starting at `start`, if any.
    fn torn_at(&self, start: u32) -> Option<Torn> {
        if self.w(TORN_COUNT).load(Ordering::Acquire) == 0 {
            return None;
        }
        (0..TORN_SLOTS).find_map(|i| {
            let kind = self.slot(i, 0).load(Ordering::Acquire);
            (kind != 0 && kind != KIND_BUSY && self.slot(i, 1).load(Ordering::Relaxed) == start)
                .then(|| Torn {
                    slot: i,
                    kind,
                    end: self.slot(i, 2).load(Ordering::Relaxed),
                    announced: self.slot(i, 3).load(Ordering::Relaxed),
                })
        })
    }

    fn clear_torn(&self, slot: usize) {
        self.slot(slot, 0).store(0, Ordering::Release);
        self.w(TORN_COUNT).fetch_sub(1, Ordering::Release);
    }

    // ---- resolving a dead or departed writer ---------------------------------------------

    /// With the reader lock held at exact position `rpos` and no writer writing, settles the
    /// frame a departed writer left: records it torn (or abandoned) if it is short, and lets
    /// writers go on. Returns false if it could not (the torn table is full).
    fn resolve(&self, rpos: u32) -> bool {
        let s = self.state().load(Ordering::Acquire);
        if s & WRITING == 0 {
            return true;
        }
        // The writer side is exact unless the writer died inside a `write`; then the reader
        // side is (our position is exact, unless a reader died too).
        let tail = match self.stream_end() {
            End::At(end) => end,
            End::Busy | End::Lost => {
                let Ok(avail) = sys::bytes_readable(self.reader.as_fd()) else {
                    return false;
                };
                rpos.wrapping_add(avail as u32)
            }
        };
        let start = self.w(WSTART).load(Ordering::Relaxed);
        let len = self.w(WLEN).load(Ordering::Relaxed);
        let flags = self.w(WFLAGS).load(Ordering::Relaxed);
        let written = tail.wrapping_sub(start);
        if written < len {
            let kind = if self.w(ORPHAN).load(Ordering::Acquire) == ORPHAN_ABANDONED {
                KIND_ABANDONED
            } else {
                KIND_WRITER_DIED
            };
            let body = len.wrapping_sub(HEADER as u32);
            if !self.add_torn(kind | (flags << 8), start, tail, body) {
                return false;
            }
        }
        self.w(WPOS).store(tail, Ordering::Relaxed);
        let seq = self.w(WSEQ).load(Ordering::Relaxed);
        if seq & 1 != 0 {
            // The dead writer's `write` is accounted for now.
            self.w(WSEQ).store(seq.wrapping_add(1), Ordering::Release);
        }
        self.w(ORPHAN).store(0, Ordering::Relaxed);
        self.state().fetch_sub(WRITING, Ordering::AcqRel);
        true
    }

    /// Called by a reader at exact position `rpos` that found nothing to read: if the frame
    /// being written has lost its writer, resolve it.
    fn check_writer(&self, rpos: u32) {
        if self.state().load(Ordering::Acquire) & WRITING == 0 {
            return;
        }
        if self.w(ORPHAN).load(Ordering::Acquire) == 0 {
            let owner = raw::owner_of(self.w(W_LOCK).load(Ordering::Acquire));
            if owner == 0 || !sys::process_is_dead(owner) {
                return;
            }
            // Any later holder of the writer lock sees WRITING and waits for the resolution.
            let _ = self.w(ORPHAN).compare_exchange(
                0,
                ORPHAN_DEAD,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
        self.resolve(rpos);
    }

    /// Where the bytes writers put into the pipe end. The writer-lock holder publishes `WPOS`
    /// after every `write` and keeps `WSEQ` odd while inside one, so a stable even `WSEQ`
    /// around the read of `WPOS` means it counts every byte in the pipe (bytes a `write` put
    /// there are visible only after the writer made `WSEQ` odd). Nobody takes bytes out
    /// meanwhile: the caller holds the reader lock.
    fn stream_end(&self) -> End {
        let seq = self.w(WSEQ).load(Ordering::Acquire);
        if seq & 1 != 0 {
            return if self.writer_gone() {
                End::Lost
            } else {
                End::Busy
            };
        }
        let end = self.w(WPOS).load(Ordering::Acquire);
        fence(Ordering::SeqCst);
        if self.w(WSEQ).load(Ordering::Acquire) == seq {
            End::At(end)
        } else {
            End::Busy
        }
    }

    /// Whether the writer of the frame in flight is gone (dead, or known departed).
    fn writer_gone(&self) -> bool {
        if self.w(ORPHAN).load(Ordering::Acquire) != 0 {
            return true;
        }
        let owner = raw::owner_of(self.w(W_LOCK).load(Ordering::Acquire));
        owner == 0 || sys::process_is_dead(owner)
    }

    /// The exact read position, recomputed from the writer side as the end of the written
    /// stream minus what the pipe still holds: a reader killed inside a `read` took bytes
    /// from the pipe without recording it in `RPOS`. `None` if a live writer stayed inside a
    /// `write` until `deadline`; `RPOS` as it stands if a writer died inside one (a reader and
    /// a writer dead at once: the position may lag, and `Phase::Scan` finds the next frame).
    fn exact_rpos(&self, deadline: Option<Instant>) -> Option<u32> {
        let fd = self.reader.as_fd();
        let mut tries = 0u32;
        loop {
            let seq = self.w(WSEQ).load(Ordering::Acquire);
            let end = self.stream_end();
            let avail = sys::bytes_readable(fd);
            fence(Ordering::SeqCst);
            let stable = self.w(WSEQ).load(Ordering::Acquire) == seq;
            match (end, avail) {
                (End::At(end), Ok(avail)) if stable => {
                    let rpos = end.wrapping_sub(avail as u32);
                    self.w(RPOS).store(rpos, Ordering::Release);
                    return Some(rpos);
                }
                (End::Lost, _) | (_, Err(_)) => return Some(self.w(RPOS).load(Ordering::Acquire)),
                _ => {}
            }
            // A live writer is between its `write` and the store after it: microseconds,
            // unless it was descheduled there.
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            tries += 1;
            if tries < 64 {
                std::thread::yield_now();
            } else {
                // sleep-ok: polls `WSEQ` (a writer's progress), bounded by the deadline.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
    }

    /// Holding the writer lock with `WRITING` still set by a departed writer: waits (until
    /// `deadline`) for the frame it left to be resolved, resolving it ourselves when the
    /// reader lock is free.
    fn take_over(&self, deadline: Option<Instant>) -> Result<(), PutFail> {
        let _ =
            self.w(ORPHAN)
                .compare_exchange(0, ORPHAN_DEAD, Ordering::AcqRel, Ordering::Relaxed);
        loop {
            if self.state().load(Ordering::Acquire) & WRITING == 0 {
                return Ok(());
            }
            // A read parked by this process holds the reader lock with an exact position.
            if let Some(st) = self
                .parked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
            {
                self.resolve(st.rpos);
                if self.state().load(Ordering::Acquire) & WRITING == 0 {
                    return Ok(());
                }
            }
            let Some(until) = slice_end(deadline, LOCK_SLICE) else {
                return Err(PutFail::Full);
            };
            if raw::lock_until(self.w(R_LOCK), sys::getpid(), Some(until)).is_some() {
                let rpos = self.w(RPOS).load(Ordering::Acquire);
                self.resolve(rpos);
                raw::unlock(self.w(R_LOCK));
            }
        }
    }

    // ---- writing --------------------------------------------------------------------------

    /// Takes the writer lock, settling a frame a departed writer left.
    fn lock_writer(&self, deadline: Option<Instant>) -> Result<(), PutFail> {
        raw::lock_until(self.w(W_LOCK), sys::getpid(), deadline).ok_or(PutFail::Full)?;
        if self.state().load(Ordering::Acquire) & WRITING != 0 {
            if let Err(f) = self.take_over(deadline) {
                raw::unlock(self.w(W_LOCK));
                return Err(f);
            }
        }
        Ok(())
    }

    /// Writes `parts` (the frame starting at `pos`) whole, or returns how much went out and
    /// why it stopped. `WPOS` follows every `write`, bracketed by `WSEQ` (see `stream_end`).
    fn write_frame(
        &self,
        parts: &[&[u8]],
        total: usize,
        pos: u32,
        deadline: Option<Instant>,
    ) -> Result<(), (usize, PutFail)> {
        let fd = self.writer.as_fd();
        let seq = self.w(WSEQ);
        let mut done = 0;
        while done < total {
            let s = seq.load(Ordering::Relaxed);
            // SeqCst: visible before any byte of this `write` can be seen in the pipe.
            seq.store(s | 1, Ordering::SeqCst);
            let r = sys::write_vectored_from(fd, false, parts, done);
            if let Ok(n) = r {
                done += n;
                self.w(WPOS)
                    .store(pos.wrapping_add(done as u32), Ordering::Relaxed);
            }
            seq.store((s | 1).wrapping_add(1), Ordering::Release);
            match r {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match sys::poll_writable(fd, deadline) {
                        Ok(true) => {}
                        Ok(false) => return Err((done, PutFail::Full)),
                        Err(e) => return Err((done, PutFail::Io(e))),
                    }
                }
                Err(e) => return Err((done, PutFail::Io(e))),
            }
        }
        Ok(())
    }

    /// Writes one frame under the writer lock. `add` is what the frame adds to `STATE`
    /// besides `WRITING`.
    fn write_locked(
        &self,
        body: &[u8],
        flags: u32,
        add: u64,
        deadline: Option<Instant>,
    ) -> Result<(), PutFail> {
        let len = if flags & F_MARKER != 0 {
            CLOSE_LEN
        } else {
            body.len() as u32
        };
        let header = self.header(len, flags);
        let total = HEADER + body.len();
        let pos = self.w(WPOS).load(Ordering::Relaxed);
        self.w(WSTART).store(pos, Ordering::Relaxed);
        self.w(WLEN).store(total as u32, Ordering::Relaxed);
        self.w(WFLAGS).store(flags, Ordering::Relaxed);
        // The commit point: the item counts, and its frame is known to be in flight.
        self.state().fetch_add(add | WRITING, Ordering::AcqRel);
        match self.write_frame(&[&header, body], total, pos, deadline) {
            Ok(()) => {
                self.state().fetch_sub(WRITING, Ordering::AcqRel);
                Ok(())
            }
            Err((0, fail)) => {
                self.sub_state(add | WRITING);
                Err(fail)
            }
            Err((_, fail)) => {
                // Part of the frame is in the pipe: hand the item back and let a reader mark
                // the partial frame abandoned (it is skipped without a report).
                self.w(ORPHAN).store(ORPHAN_ABANDONED, Ordering::Release);
                self.sub_state(add);
                Err(fail)
            }
        }
    }

    pub(super) fn put_bytes(
        &self,
        body: &[u8],
        deadline: Option<Instant>,
        joinable: bool,
    ) -> Result<(), PutFail> {
        if self.closed() {
            return Err(PutFail::Closed);
        }
        if body.len() > MAX_BODY {
            return Err(PutFail::TooLarge);
        }
        if let Some(s) = &self.slots {
            let ok = match deadline {
                None => {
                    s.acquire();
                    true
                }
                Some(d) => s.acquire_timeout(d.saturating_duration_since(Instant::now())),
            };
            if !ok {
                return Err(PutFail::Full);
            }
        }
        let r = self.lock_writer(deadline).and_then(|()| {
            let r = if self.closed() {
                Err(PutFail::Closed)
            } else {
                let (flags, add) = if joinable {
                    (F_JOINABLE, 1 + UNF)
                } else {
                    (0, 1)
                };
                self.write_locked(body, flags, add, deadline)
            };
            raw::unlock(self.w(W_LOCK));
            r
        });
        if r.is_err() {
            if let Some(s) = &self.slots {
                s.release(1);
            }
        }
        r
    }

    pub(super) fn close(&self) {
        if self.w(CLOSED).swap(1, Ordering::AcqRel) == 0 && self.lock_writer(None).is_ok() {
            let _ = self.write_locked(&[], F_MARKER, 0, None);
            raw::unlock(self.w(W_LOCK));
        }
    }

    // ---- reading --------------------------------------------------------------------------

    /// Waits for bytes at exact position `rpos` inside the frame at `start`.
    fn wait_readable(&self, rpos: u32, start: u32, deadline: Option<Instant>) -> Fill {
        let fd = self.reader.as_fd();
        loop {
            let Some(until) = slice_end(deadline, ROBUST_CHECK) else {
                return Fill::Timeout;
            };
            match sys::poll_readable(fd, Some(until)) {
                Ok(true) => return Fill::Done,
                Ok(false) => {}
                Err(e) => return Fill::Err(e),
            }
            self.check_writer(rpos);
            if let Some(t) = self.torn_at(start) {
                return Fill::Torn(t);
            }
        }
    }

    /// Reads into `buf[*fill..]` until full, tracking the exact position in `st.rpos`.
    fn fill(
        &self,
        st: &mut ReadState,
        buf: &mut [u8],
        fill: &mut usize,
        d: Option<Instant>,
    ) -> Fill {
        let fd = self.reader.as_fd();
        while *fill < buf.len() {
            match sys::read_some(fd, &mut buf[*fill..]) {
                Ok(0) => return Fill::Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    *fill += n;
                    st.rpos = st.rpos.wrapping_add(n as u32);
                    self.w(RPOS).store(st.rpos, Ordering::Release);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self.wait_readable(st.rpos, st.start, d) {
                        Fill::Done => {}
                        stopped => return stopped,
                    }
                }
                Err(e) => return Fill::Err(e),
            }
        }
        Fill::Done
    }

    /// The skip that settles torn record `t`.
    fn skip_torn(&self, t: Torn) -> Phase {
        let flags = t.kind >> 8;
        let joinable = if flags & F_JOINABLE != 0 { UNF } else { 0 };
        let (report, dec) = match t.kind & 0xff {
            KIND_ABANDONED => (None, 0),
            _ if flags & F_MARKER != 0 => (Some(GetError::Closed), 0),
            _ => (
                Some(GetError::Torn {
                    announced: Some(t.announced as usize),
                    cause: TornCause::WriterDied,
                }),
                1 + joinable,
            ),
        };
        Phase::Skip {
            end: t.end,
            report,
            dec,
            slot: Some(t.slot),
        }
    }

    /// Records the frame whose header ends at `rpos` (`len`, `flags`) as the one being read,
    /// and the phase that reads it: its body, or for the close marker a skip of nothing that
    /// reports `Closed`.
    fn enter_frame(&self, rpos: u32, len: u32, flags: u32) -> Phase {
        self.w(RFLAGS).store(flags, Ordering::Relaxed);
        if flags & F_MARKER != 0 {
            self.w(RLEN).store(HEADER as u32, Ordering::Release);
            Phase::Skip {
                end: rpos,
                report: Some(GetError::Closed),
                dec: 0,
                slot: None,
            }
        } else {
            self.w(RLEN)
                .store(len.wrapping_add(HEADER as u32), Ordering::Release);
            Phase::Body {
                body: vec![0; len as usize],
                fill: 0,
            }
        }
    }

    /// The frame under the reader cannot be found any more (its header is gone): count it out
    /// of the queue now, and mark the scan that follows (`RLEN_SCANNING`) so that a reader
    /// taking over from this one does not count it out again.
    fn count_out_lost_frame(&self) {
        self.w(RLEN).store(RLEN_SCANNING, Ordering::Release);
        self.state().fetch_sub(1, Ordering::AcqRel);
        self.release_slot();
    }

    fn release_slot(&self) {
        if let Some(s) = &self.slots {
            s.release(1);
        }
    }

    /// Ends the read: gives the lock back (or keeps it, parking `st`) and returns `r`.
    fn finish(
        &self,
        st: ReadState,
        park: bool,
        r: Result<Vec<u8>, GetError>,
    ) -> Result<Vec<u8>, GetError> {
        if park {
            *self.parked.lock().unwrap_or_else(|e| e.into_inner()) = Some(st);
        } else {
            raw::unlock(self.w(R_LOCK));
        }
        r
    }

    /// The reader state after taking the reader lock: fresh, or recovering the frame a
    /// departed reader left. `None` if the exact position could not be known by `deadline`.
    fn recover(&self, deadline: Option<Instant>) -> Option<ReadState> {
        let s = self.state().load(Ordering::Acquire);
        if s & READING == 0 {
            let rpos = self.w(RPOS).load(Ordering::Acquire);
            return Some(ReadState {
                rpos,
                start: rpos,
                phase: Phase::Boundary,
            });
        }
        // `RPOS` lags if the departed reader was killed inside a `read`.
        let rpos = self.exact_rpos(deadline)?;
        let start = self.w(RSTART).load(Ordering::Acquire);
        let rlen = self.w(RLEN).load(Ordering::Acquire);
        let flags = self.w(RFLAGS).load(Ordering::Acquire);
        let phase = if rlen == RLEN_SCANNING {
            // It died scanning for a header; its lost frame is counted out, not reported.
            Phase::scan_for_dead_reader()
        } else if self.torn_at(start).is_some() || rpos == start {
            // Header phase re-checks the torn record first; or nothing was consumed.
            Phase::Header {
                hdr: [0; HEADER],
                fill: 0,
            }
        } else if rlen != 0 && flags & F_MARKER != 0 {
            Phase::Skip {
                end: rpos,
                report: Some(GetError::Closed),
                dec: 0,
                slot: None,
            }
        } else if rlen != 0 {
            let joinable = if flags & F_JOINABLE != 0 { UNF } else { 0 };
            Phase::Skip {
                end: start.wrapping_add(rlen),
                report: Some(GetError::Torn {
                    announced: Some(rlen as usize - HEADER),
                    cause: TornCause::ReaderDied,
                }),
                dec: 1 + joinable,
                slot: None,
            }
        } else {
            // Died inside the header: its length is gone, find the next header.
            self.count_out_lost_frame();
            Phase::scan_for_dead_reader()
        };
        Some(ReadState { rpos, start, phase })
    }

    /// A departed reader's frame could not be recovered before the deadline (a writer stayed
    /// inside a `write`): `READING` stays set, so the next reader tries again.
    fn finish_unknown(&self) -> Result<Vec<u8>, GetError> {
        raw::unlock(self.w(R_LOCK));
        Err(GetError::Empty)
    }

    pub(super) fn get_bytes(&self, deadline: Option<Instant>) -> Result<Vec<u8>, GetError> {
        let pid = sys::getpid();
        let st = loop {
            // Another thread of this process may park a partial item while we wait for the
            // lock it holds: look again every slice.
            if let Some(st) = self.parked.lock().unwrap_or_else(|e| e.into_inner()).take() {
                break st;
            }
            if raw::try_lock(self.w(R_LOCK), pid) {
                match self.recover(deadline) {
                    Some(st) => break st,
                    None => return self.finish_unknown(),
                }
            }
            let Some(until) = slice_end(deadline, LOCK_SLICE) else {
                return Err(GetError::Empty);
            };
            if raw::lock_until(self.w(R_LOCK), pid, Some(until)).is_some() {
                match self.recover(deadline) {
                    Some(st) => break st,
                    None => return self.finish_unknown(),
                }
            }
        };
        self.read_locked(st, deadline)
    }

    fn read_locked(&self, mut st: ReadState, d: Option<Instant>) -> Result<Vec<u8>, GetError> {
        loop {
            match std::mem::replace(&mut st.phase, Phase::Boundary) {
                Phase::Boundary => {
                    if self.w(MARKER_SEEN).load(Ordering::Acquire) != 0 {
                        return self.finish(st, false, Err(GetError::Closed));
                    }
                    st.start = st.rpos;
                    self.w(RSTART).store(st.rpos, Ordering::Relaxed);
                    self.w(RLEN).store(0, Ordering::Relaxed);
                    self.state().fetch_add(READING, Ordering::AcqRel);
                    st.phase = Phase::Header {
                        hdr: [0; HEADER],
                        fill: 0,
                    };
                }
                Phase::Header { mut hdr, mut fill } => {
                    if let Some(t) = self.torn_at(st.start) {
                        st.phase = self.skip_torn(t);
                        continue;
                    }
                    match self.fill(&mut st, &mut hdr, &mut fill, d) {
                        Fill::Done => {}
                        Fill::Timeout if fill == 0 => {
                            self.state().fetch_sub(READING, Ordering::AcqRel);
                            return self.finish(st, false, Err(GetError::Empty));
                        }
                        Fill::Timeout => {
                            st.phase = Phase::Header { hdr, fill };
                            return self.finish(st, true, Err(GetError::Empty));
                        }
                        Fill::Torn(t) => {
                            st.phase = self.skip_torn(t);
                            continue;
                        }
                        Fill::Err(e) => return self.finish(st, false, Err(GetError::io(e))),
                    }
                    match self.parse(&hdr) {
                        Some((len, flags)) => st.phase = self.enter_frame(st.rpos, len, flags),
                        None => {
                            // Not a header: an earlier reader's position lagged. The frame
                            // we stood on is lost; find the next one.
                            self.count_out_lost_frame();
                            st.phase = Phase::Scan {
                                win: hdr,
                                fill: HEADER,
                                report: Some(GetError::Torn {
                                    announced: None,
                                    cause: TornCause::Desync,
                                }),
                            };
                        }
                    }
                }
                Phase::Body { mut body, mut fill } => {
                    if let Some(t) = self.torn_at(st.start) {
                        st.phase = self.skip_torn(t);
                        continue;
                    }
                    match self.fill(&mut st, &mut body, &mut fill, d) {
                        Fill::Done => {
                            self.state().fetch_sub(1 | READING, Ordering::AcqRel);
                            self.release_slot();
                            return self.finish(st, false, Ok(body));
                        }
                        Fill::Timeout => {
                            st.phase = Phase::Body { body, fill };
                            return self.finish(st, true, Err(GetError::Empty));
                        }
                        Fill::Torn(t) => st.phase = self.skip_torn(t),
                        Fill::Err(e) => return self.finish(st, false, Err(GetError::io(e))),
                    }
                }
                Phase::Skip {
                    mut end,
                    report,
                    dec,
                    mut slot,
                } => {
                    if slot.is_none() {
                        // A reader's frame whose writer also died: stop where it stopped.
                        if let Some(t) = self.torn_at(st.start) {
                            end = t.end;
                            slot = Some(t.slot);
                        }
                    }
                    // Bytes still to discard; none if our position is already past `end`
                    // (a lagging position after a double fault).
                    let left = if end.wrapping_sub(st.start) >= st.rpos.wrapping_sub(st.start) {
                        end.wrapping_sub(st.rpos) as usize
                    } else {
                        0
                    };
                    if left > 0 {
                        let mut scratch = vec![0u8; left.min(SKIP_CHUNK)];
                        let mut fill = 0;
                        let f = self.fill(&mut st, &mut scratch, &mut fill, d);
                        st.phase = Phase::Skip {
                            end,
                            report,
                            dec,
                            slot,
                        };
                        match f {
                            Fill::Done => continue,
                            Fill::Torn(t) => {
                                // Bytes that will never come: stop where the stream stops.
                                let stop = if slot == Some(t.slot) { st.rpos } else { t.end };
                                st.phase = Phase::Skip {
                                    end: stop,
                                    report: match st.phase {
                                        Phase::Skip { report, .. } => report,
                                        _ => None,
                                    },
                                    dec,
                                    slot: Some(t.slot),
                                };
                                continue;
                            }
                            Fill::Timeout => return self.finish(st, true, Err(GetError::Empty)),
                            Fill::Err(e) => return self.finish(st, true, Err(GetError::io(e))),
                        }
                    }
                    if let Some(i) = slot {
                        self.clear_torn(i);
                    }
                    if dec & COUNT_MASK != 0 {
                        self.release_slot();
                    }
                    self.sub_state(dec | READING);
                    match report {
                        Some(GetError::Closed) => {
                            self.w(MARKER_SEEN).store(1, Ordering::Release);
                            return self.finish(st, false, Err(GetError::Closed));
                        }
                        Some(e) => return self.finish(st, false, Err(e)),
                        None => st.phase = Phase::Boundary,
                    }
                }
                Phase::Scan {
                    mut win,
                    mut fill,
                    report,
                } => {
                    // Slide the window one byte at a time until it holds a valid header.
                    loop {
                        if fill == HEADER {
                            if let Some((len, flags)) = self.parse(&win) {
                                let start = st.rpos.wrapping_sub(HEADER as u32);
                                st.start = start;
                                self.w(RSTART).store(start, Ordering::Relaxed);
                                st.phase = self.enter_frame(st.rpos, len, flags);
                                break;
                            }
                            win.copy_within(1.., 0);
                            fill -= 1;
                        }
                        let mut one = [0u8; 1];
                        let mut got = 0;
                        match self.fill(&mut st, &mut one, &mut got, d) {
                            Fill::Done => {
                                win[fill] = one[0];
                                fill += 1;
                            }
                            Fill::Torn(t) => {
                                // A torn frame where we stand: skip it (it reports itself).
                                st.phase = self.skip_torn(t);
                                break;
                            }
                            Fill::Timeout => {
                                st.phase = Phase::Scan { win, fill, report };
                                return self.finish(st, true, Err(GetError::Empty));
                            }
                            Fill::Err(e) => {
                                st.phase = Phase::Scan { win, fill, report };
                                return self.finish(st, true, Err(GetError::io(e)));
                            }
                        }
                    }
                    if let (Some(e), Phase::Body { .. } | Phase::Skip { slot: None, .. }) =
                        (report, &st.phase)
                    {
                        // Report the loss now; the frame just found is read by the next get.
                        return self.finish(st, true, Err(e));
                    }
                }
            }
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // A read parked mid-frame: leave READING set with the exact position, so the next
        // reader skips the rest of the frame and reports it.
        if self
            .parked
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some()
        {
            raw::unlock(self.w(R_LOCK));
        }
    }
}
