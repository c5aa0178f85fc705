//! A worker's progress word: which of the tasks written to it the worker has started, so that
//! when it dies the pool can tell the task it was running from tasks it never read.
//!
//! The pool numbers the task records it writes to one worker 1, 2, 3, ... (wrapping `u32`);
//! the worker reads them in that order (ring and pipe alike: a task too big for the ring goes
//! through the pipe only when nothing else is in flight) and, just before running record
//! `n`, stores `n` in the word, one release store and no system call. It answers each task
//! before it starts the next, so when it dies the word holds either the number of its oldest
//! unanswered task (it had taken that task: it fails with `WorkerDied`, as Python fails a task
//! its worker had taken) or the number before (it never started it: the task goes to another
//! worker). Words never wrap into ambiguity: a worker holds at most 64 unanswered tasks.
//!
//! | value | meaning                                               |
//! |-------|-------------------------------------------------------|
//! | 0     | the worker has started no task                        |
//! | n     | the worker has started record `n` (and answered all before it) |
//!
//! The word lives in the worker's shared block: after its two rings when the pool uses rings,
//! alone in a small block otherwise.

use crate::heap::SharedBlock;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Bytes a block needs past `at` for the word (a cache line of its own).
pub(crate) const BYTES: usize = 64;

/// A view of the progress word of one worker.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    block: Arc<SharedBlock>,
    at: usize,
}

impl Progress {
    /// The word at byte `at` of `block`; `None` if it does not fit or is misaligned.
    pub(crate) fn new(block: Arc<SharedBlock>, at: usize) -> Option<Progress> {
        (at % 4 == 0 && at + 4 <= block.len()).then_some(Progress { block, at })
    }

    /// Worker: about to run record `seq`.
    #[inline]
    pub(crate) fn start(&self, seq: u32) {
        self.block.word(self.at).store(seq, Ordering::Release);
    }

    /// Pool: whether the worker has started record `seq` (read after the worker died, or at
    /// any time as a hint).
    pub(crate) fn started(&self, seq: u32) -> bool {
        self.block.word(self.at).load(Ordering::Acquire) == seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_counts_as_started_once_announced() {
        let block = SharedBlock::new(BYTES).unwrap();
        let pool = Progress::new(Arc::clone(&block), 0).unwrap();
        let worker = Progress::new(block, 0).unwrap();
        assert!(!pool.started(1), "nothing started yet");
        worker.start(1);
        assert!(pool.started(1));
        assert!(
            !pool.started(2),
            "record 2 is not started while record 1 runs"
        );
        assert!(Progress::new(SharedBlock::new(BYTES).unwrap(), 2).is_none());
    }
}
