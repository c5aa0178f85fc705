//! Per-worker shared-memory rings: the fast path between a pool and one worker.
//!
//! Each worker shares one anonymous block with the pool holding two single-producer,
//! single-consumer byte rings: tasks (pool -> worker) and replies (worker -> pool). A message
//! is a record `[u32 len][bytes][padding to 4]` that never wraps; when a record does not fit
//! before the end, the producer writes a skip marker and starts again at offset 0. Positions
//! are free-running `u32` counters (index = position mod capacity), published with
//! release/acquire, so a consumer spinning on the ring sees a message about 0.1 us after it is
//! written, with no system call on either side (Vyukov-style SPSC ring; see also
//! crossbeam-queue's `ArrayQueue` for the head/tail discipline).
//!
//! Sleeping: a consumer that found the ring empty for its whole spin window sets `sleeping`,
//! checks the ring once more, then blocks in `poll` on its pipe. A producer that publishes a
//! message and then sees `sleeping` (both sides use `SeqCst`, so at least one of them sees
//! the other's write) clears it and writes an empty frame to the pipe to wake the consumer.
//! The pipes stay the channel for end of file (a dead worker or pool), for wake-ups, and for
//! messages too big for a ring.
//!
//! Layout of one ring inside the block (offsets from the ring's base; each counter on its own
//! cache line so producer and consumer do not share one):
//!
//! | offset | field      | written by | meaning                                        |
//! |--------|------------|------------|------------------------------------------------|
//! | 0      | `head`     | consumer   | position of the next record to read            |
//! | 64     | `tail`     | producer   | position just past the last published record   |
//! | 128    | `sleeping` | both       | 1: the consumer is (about to be) blocked       |
//! | 192    | data       | producer   | `CAP` bytes of records                         |

use crate::heap::SharedBlock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Data bytes of one ring (a power of two).
pub(crate) const CAP: usize = 128 * 1024;

/// Largest message that goes through a ring; bigger ones use the pipe.
pub(crate) const MAX_MESSAGE: usize = CAP / 4 - 4;

const HEAD: usize = 0;
const TAIL: usize = 64;
const SLEEPING: usize = 128;
const DATA: usize = 192;
/// Bytes of one ring, header included.
const RING_BYTES: usize = DATA + CAP;
/// Length value that marks "skip to the start of the ring".
const SKIP: u32 = u32::MAX;

/// Bytes of the block holding a worker's two rings.
pub(crate) const BLOCK_BYTES: usize = 2 * RING_BYTES;

/// Which of a worker's two rings.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    /// Pool -> worker.
    Tasks,
    /// Worker -> pool.
    Replies,
}

/// A view of one ring in a shared block. Exactly one process produces and one consumes.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    block: Arc<SharedBlock>,
    base: usize,
}

/// The ring's data is not a valid sequence of records (a bug, or a worker scribbling on
/// shared memory); the consumer should treat the peer as broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

fn padded(len: usize) -> usize {
    (len + 3) & !3
}

impl Ring {
    /// The `side` ring of `block` (which must be at least [`BLOCK_BYTES`] long).
    pub(crate) fn new(block: Arc<SharedBlock>, side: Side) -> Option<Ring> {
        if block.len() < BLOCK_BYTES {
            return None;
        }
        let base = match side {
            Side::Tasks => 0,
            Side::Replies => RING_BYTES,
        };
        Some(Ring { block, base })
    }

    fn word(&self, at: usize) -> &AtomicU32 {
        self.block.word(self.base + at)
    }

    /// Copies `src` into the data area at `index` (the caller checked the bounds).
    fn write_at(&self, index: usize, src: &[u8]) {
        debug_assert!(index + src.len() <= CAP);
        // SAFETY:
        // - `DATA + index + src.len() <= RING_BYTES`, inside the block, which lives as long
        //   as `self.block`;
        // - the bytes lie past the published tail, so the consumer does not read them until
        //   the release store of the new tail (no data race on them).
        unsafe {
            std::ptr::copy_nonoverlapping(
                src.as_ptr(),
                self.block.ptr().add(self.base + DATA + index),
                src.len(),
            );
        }
    }

    /// Copies `len` bytes out of the data area at `index` (the caller checked the bounds).
    fn read_at(&self, index: usize, len: usize) -> Vec<u8> {
        debug_assert!(index + len <= CAP);
        let mut out = vec![0u8; len];
        // SAFETY:
        // - `DATA + index + len <= RING_BYTES`, inside the live block;
        // - the bytes were published by the producer's release store of `tail`, which our
        //   acquire load saw, and it does not touch them again until `head` passes them.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.block.ptr().add(self.base + DATA + index),
                out.as_mut_ptr(),
                len,
            );
        }
        out
    }

    fn read_len(&self, index: usize) -> u32 {
        let b = self.read_at(index, 4);
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Producer: appends `msg` if there is room; false if the ring is too full (or `msg`
    /// larger than [`MAX_MESSAGE`]). Does not wake the consumer (see [`take_sleeper`]).
    ///
    /// [`take_sleeper`]: Ring::take_sleeper
    pub(crate) fn push(&self, msg: &[u8]) -> bool {
        if msg.len() > MAX_MESSAGE {
            return false;
        }
        let head = self.word(HEAD).load(Ordering::Acquire);
        let mut tail = self.word(TAIL).load(Ordering::Relaxed);
        let need = 4 + padded(msg.len());
        let used = tail.wrapping_sub(head) as usize;
        let index = tail as usize % CAP;
        let contiguous = CAP - index;
        let skip = if need > contiguous { contiguous } else { 0 };
        if used + skip + need > CAP {
            return false;
        }
        if skip > 0 {
            self.write_at(index, &SKIP.to_le_bytes());
            tail = tail.wrapping_add(skip as u32);
        }
        let index = tail as usize % CAP;
        self.write_at(index, &(msg.len() as u32).to_le_bytes());
        self.write_at(index + 4, msg);
        self.word(TAIL)
            .store(tail.wrapping_add(need as u32), Ordering::SeqCst);
        true
    }

    /// Consumer: takes the next message, if any.
    ///
    /// # Errors
    ///
    /// [`Corrupt`] if the ring holds an impossible record.
    pub(crate) fn pop(&self) -> Result<Option<Vec<u8>>, Corrupt> {
        let tail = self.word(TAIL).load(Ordering::Acquire);
        let mut head = self.word(HEAD).load(Ordering::Relaxed);
        loop {
            if head == tail {
                return Ok(None);
            }
            let avail = tail.wrapping_sub(head) as usize;
            let index = head as usize % CAP;
            if !(4..=CAP).contains(&avail) || index + 4 > CAP {
                return Err(Corrupt);
            }
            let len = self.read_len(index);
            if len == SKIP {
                let skip = CAP - index;
                if skip > avail {
                    return Err(Corrupt);
                }
                head = head.wrapping_add(skip as u32);
                self.word(HEAD).store(head, Ordering::Release);
                continue;
            }
            let len = len as usize;
            let need = 4 + padded(len);
            if need > avail || index + 4 + len > CAP {
                return Err(Corrupt);
            }
            let msg = self.read_at(index + 4, len);
            self.word(HEAD)
                .store(head.wrapping_add(need as u32), Ordering::Release);
            return Ok(Some(msg));
        }
    }

    /// Whether a message is waiting (consumer side).
    pub(crate) fn has_message(&self) -> bool {
        self.word(TAIL).load(Ordering::SeqCst) != self.word(HEAD).load(Ordering::Relaxed)
    }

    /// Consumer: announces that it is about to block; returns false (and withdraws the
    /// announcement) if a message arrived meanwhile, so it must not block.
    pub(crate) fn prepare_sleep(&self) -> bool {
        self.word(SLEEPING).store(1, Ordering::SeqCst);
        if self.has_message() {
            self.word(SLEEPING).store(0, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Consumer: is awake again.
    pub(crate) fn end_sleep(&self) {
        self.word(SLEEPING).store(0, Ordering::Relaxed);
    }

    /// Producer, after a successful [`push`](Ring::push): whether the consumer sleeps and
    /// must be woken (true at most once per sleep).
    pub(crate) fn take_sleeper(&self) -> bool {
        self.word(SLEEPING).load(Ordering::SeqCst) == 1
            && self.word(SLEEPING).swap(0, Ordering::SeqCst) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (Ring, Ring) {
        let block = SharedBlock::new(BLOCK_BYTES).unwrap();
        (
            Ring::new(Arc::clone(&block), Side::Tasks).unwrap(),
            Ring::new(block, Side::Tasks).unwrap(),
        )
    }

    #[test]
    fn messages_come_out_in_order_across_wraps() {
        let (p, c) = ring();
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..2_000u32 {
            // Varying sizes force skips at the end of the data area.
            while p.push(&vec![next_in as u8; (next_in as usize * 97) % 3000]) {
                next_in += 1;
                if next_in % 7 == round % 7 {
                    break;
                }
            }
            while let Some(m) = c.pop().unwrap() {
                assert_eq!(m.len(), (next_out as usize * 97) % 3000);
                assert!(m.iter().all(|&b| b == next_out as u8));
                next_out += 1;
            }
        }
        assert_eq!(next_in, next_out);
        assert!(next_in > 1000);
    }

    #[test]
    fn full_ring_refuses_and_oversize_is_refused() {
        let (p, c) = ring();
        assert!(!p.push(&vec![0; MAX_MESSAGE + 1]));
        let mut n = 0;
        while p.push(&[1; 1000]) {
            n += 1;
        }
        assert!(n > 100);
        assert!(c.pop().unwrap().is_some());
        assert!(p.push(&[2; 1000]));
    }

    #[test]
    fn sleep_handshake() {
        let (p, c) = ring();
        assert!(c.prepare_sleep());
        assert!(p.push(b"x"));
        assert!(p.take_sleeper());
        assert!(!p.take_sleeper(), "one wake per sleep");
        assert!(!c.prepare_sleep(), "a waiting message cancels the sleep");
        assert_eq!(c.pop().unwrap().as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn corrupt_length_is_detected() {
        let (p, c) = ring();
        assert!(p.push(b"hello"));
        p.write_at(0, &(CAP as u32).to_le_bytes());
        assert_eq!(c.pop(), Err(Corrupt));
    }
}
