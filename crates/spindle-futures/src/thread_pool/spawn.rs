//! Starting and joining worker threads, through spindle's own [`Thread`], so pool workers are
//! listed by `spindle_sync::threading::enumerate()` and `current_thread().name()` inside a
//! task gives the worker's name, as in Python.

use std::fmt;
use std::io;

use spindle_sync::threading::{current_thread, Thread};

/// The owning handle of one worker thread.
pub(super) struct WorkerHandle {
    thread: Thread<()>,
}

impl WorkerHandle {
    /// Whether the worker is the calling thread (which must not join itself).
    pub(super) fn is_current(&self) -> bool {
        self.thread.ident() == current_thread().ident()
    }

    /// Waits for the worker to exit. Tasks never unwind through the worker loop (they run
    /// under `catch_unwind`), so there is no panic to report.
    pub(super) fn join(self) {
        let _ = self.thread.join();
    }
}

impl fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WorkerHandle")
            .field(&self.thread.name())
            .finish()
    }
}

/// Starts a daemon worker thread named `name`.
///
/// Daemon, because an idle pool must not hold up `spindle_sync::threading::shutdown`; the
/// executor's own `shutdown`/`Drop` joins its workers (Python joins them from an atexit hook).
pub(super) fn spawn_worker<F>(name: String, body: F) -> io::Result<WorkerHandle>
where
    F: FnOnce() + Send + 'static,
{
    Thread::builder()
        .name(name)
        .daemon(true)
        .spawn(body)
        .map(|thread| WorkerHandle { thread })
}
