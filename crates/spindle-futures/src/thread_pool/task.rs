//! A queued unit of work: the closure and its future's header in one cell (see
//! `future/cell.rs`), and the [`Job`] handle the queue holds.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::future::{alloc_cell, free_cell, release, CellHead, Erased};
use crate::panic::panic_message;
use crate::stats::TaskOutcome;
use crate::{Future, FutureError};

/// What the pool's queue holds: one counted reference to a task's cell, type-erased.
///
/// Each job is pushed to the queue once and popped once, and only the thread that popped it
/// calls [`Job::run`] or [`Job::abandon`], once (they consume it); `TaskCell` relies on this.
/// A job dropped unrun (a queue dropped with work in it) just releases its reference; the
/// closure is dropped with the cell.
pub(super) struct Job {
    cell: NonNull<Erased>,
    ops: &'static JobOps,
}

// SAFETY:
// - The cell holds an `F: Send` closure and a header for `T: Send` (`job_and_future` requires
//   both), its count is atomic, and the closure is touched only by the one thread that owns
//   the job.
unsafe impl Send for Job {}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// The type-specific halves of [`Job::run`] and [`Job::abandon`]; each consumes the job's
/// reference.
struct JobOps {
    run: unsafe fn(NonNull<Erased>, &dyn Fn(TaskOutcome)),
    abandon: unsafe fn(NonNull<Erased>, FutureError),
}

impl Job {
    /// Runs the task if its future is still pending (Python's `_WorkItem.run`). Calls
    /// `finishing` with how the task ended just before the future is settled (or at once,
    /// with [`TaskOutcome::Cancelled`], if it is not run), so the worker counts as idle, and
    /// the task as finished, before anyone can see the result: a submit that follows the
    /// result then reuses this worker instead of starting another.
    pub(super) fn run(self, finishing: &dyn Fn(TaskOutcome)) {
        let job = ManuallyDrop::new(self);
        // SAFETY:
        // - `ops` belongs to the cell's type, and the job's reference is handed over (the job
        //   is not dropped).
        unsafe { (job.ops.run)(job.cell, finishing) };
    }

    /// Settles the future without running: cancelled for [`FutureError::Cancelled`], else
    /// failed with `error` (a broken pool).
    pub(super) fn abandon(self, error: FutureError) {
        let job = ManuallyDrop::new(self);
        // SAFETY:
        // - As in `run`.
        unsafe { (job.ops.abandon)(job.cell, error) };
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY:
        // - The job gives up its reference and is not used again.
        unsafe { release(self.cell) };
    }
}

/// A closure and the future it settles, in one cell.
#[repr(C)]
pub(super) struct TaskCell<F, T> {
    head: CellHead<T>,
    /// Touched only by [`TaskCell::take_f`], from `run` or `abandon`, which the one thread
    /// that popped the job calls once (see [`Job`]), or dropped with the cell.
    f: UnsafeCell<Option<F>>,
}

impl<F, T> TaskCell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// A pending task and the future handle the submitter gets.
    pub(super) fn job_and_future(f: F) -> (Job, Future<T>) {
        // Two references from the start: the job's and the future's.
        let cell = alloc_cell(Self {
            head: CellHead::new(2, free_cell::<Self>),
            f: UnsafeCell::new(Some(f)),
        });
        let job = Job {
            cell: cell.cast(),
            ops: &JobOps {
                run: Self::run,
                abandon: Self::abandon,
            },
        };
        // SAFETY:
        // - The cell starts with a `CellHead<T>`, and the future takes the second reference.
        let future = unsafe { Future::from_cell(cell) };
        (job, future)
    }

    /// Moves the closure out; `None` the second time.
    ///
    /// # Safety
    ///
    /// `cell` is alive, and the caller is the thread that popped its job (so no other access
    /// to `f` can overlap).
    unsafe fn take_f(cell: NonNull<Self>) -> Option<F> {
        // SAFETY:
        // - The cell is alive, and only the popper reaches `f` (see above), once; the header
        //   next to it is only read through shared references.
        unsafe { (*cell.as_ref().f.get()).take() }
    }

    /// [`Job::run`] for this type.
    ///
    /// # Safety
    ///
    /// `cell` is a live `TaskCell<F, T>`; the caller popped its job and hands over the job's
    /// reference.
    unsafe fn run(cell: NonNull<Erased>, finishing: &dyn Fn(TaskOutcome)) {
        let cell = cell.cast::<Self>();
        // SAFETY:
        // - The job's reference moves into this handle, which releases it when dropped.
        let future: Future<T> = unsafe { Future::from_cell(cell) };
        if !future.set_running_or_notify_cancel() {
            // SAFETY:
            // - This thread popped the job; `future` keeps the cell alive.
            drop(unsafe { Self::take_f(cell) });
            finishing(TaskOutcome::Cancelled);
            return;
        }
        // SAFETY:
        // - As above.
        let f = unsafe { Self::take_f(cell) };
        let outcome = f.map(|f| catch_unwind(AssertUnwindSafe(f)));
        finishing(match outcome {
            Some(Ok(_)) | None => TaskOutcome::Completed,
            Some(Err(_)) => TaskOutcome::Failed,
        });
        // Nothing else settles a running future of the pool, unless a user called a setter on
        // it; Python ignores that case the same way.
        let _ = match outcome {
            Some(Ok(value)) => future.set_result(value).map_err(drop),
            Some(Err(payload)) => future
                .set_exception(FutureError::Panicked(panic_message(&*payload)))
                .map_err(drop),
            // Unreachable: only the winner of `set_running_or_notify_cancel` takes `f`.
            None => Ok(()),
        };
    }

    /// [`Job::abandon`] for this type.
    ///
    /// # Safety
    ///
    /// As for [`run`](Self::run).
    unsafe fn abandon(cell: NonNull<Erased>, error: FutureError) {
        let cell = cell.cast::<Self>();
        // SAFETY:
        // - The job's reference moves into this handle.
        let future: Future<T> = unsafe { Future::from_cell(cell) };
        // Drop the closure (and what it captured) now, outside the future's lock.
        // SAFETY:
        // - This thread popped the job; `future` keeps the cell alive.
        drop(unsafe { Self::take_f(cell) });
        if error == FutureError::Cancelled {
            future.cancel();
            future.set_running_or_notify_cancel();
        } else {
            let _ = future.set_exception(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::State;

    /// Counts drops of what a closure captured.
    struct DropCount(Arc<AtomicUsize>);

    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_no_op_task_fits_a_slab_slot() {
        fn layout_of<F, T>(_: &F) -> std::alloc::Layout {
            std::alloc::Layout::new::<TaskCell<F, T>>()
        }
        let n = 7u64;
        let f = move || n;
        assert!(crate::slab::fits(layout_of::<_, u64>(&f)));
        let (job, future) = TaskCell::job_and_future(f);
        job.run(&|_| {});
        assert_eq!(future.into_result(), Ok(7));
    }

    #[test]
    fn an_unrun_job_drops_its_closure_once_whoever_goes_last() {
        let drops = Arc::new(AtomicUsize::new(0));
        let captured = DropCount(Arc::clone(&drops));
        let (job, future) = TaskCell::job_and_future(move || drop(captured));
        drop(job);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "the future still holds the cell"
        );
        assert_eq!(future.state(), State::Pending);
        drop(future);
        assert_eq!(drops.load(Ordering::SeqCst), 1);

        let captured = DropCount(Arc::clone(&drops));
        let (job, future) = TaskCell::job_and_future(move || drop(captured));
        drop(future);
        job.abandon(FutureError::Cancelled);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_large_closure_gets_its_own_allocation() {
        let big = [3u8; 512];
        let (job, future) =
            TaskCell::job_and_future(move || big.iter().map(|&b| b as u32).sum::<u32>());
        let clone = future.clone();
        job.run(&|_| {});
        assert_eq!(future.into_result(), Ok(3 * 512));
        assert_eq!(clone.into_result(), Err(FutureError::Taken));
    }
}
