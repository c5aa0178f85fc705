//! Python's `asyncio`, in Rust: a single-threaded event loop running `async` tasks, with
//! Python's cancellation, timeouts, task groups, primitives, streams and subprocesses.
//!
//! Coroutines are `async` blocks; [`run`] is `asyncio.run`; [`spawn`]/[`create_task`] return
//! an awaitable [`Task`]. Tasks need not be `Send`: they live on their loop's thread.
//!
//! - Loop: [`EventLoop`], [`LoopHandle`] (thread-safe), [`run`], [`get_running_loop`],
//!   [`Handle`], [`TimerHandle`], [`ThreadsafeHandle`], [`LoopError`], [`RunError`].
//! - Tasks: [`Task`], [`TaskRef`], [`spawn`], [`create_task`], [`create_task_named`],
//!   [`current_task`], [`all_tasks`], [`Outcome`], [`TaskError`], [`Cancelled`].
//! - Cancellation and time: [`catch_cancelled`], [`shield`], [`sleep`], [`sleep_until`],
//!   [`yield_now`], [`timeout`], [`timeout_at`], [`wait_for`], [`TimeoutError`].
//! - Many tasks: [`gather`], [`try_gather`], [`gather2`]..[`gather4`], [`wait`] with
//!   [`ReturnWhen`], [`as_completed`], [`TaskGroup`] with [`TaskGroupError`].
//! - Primitives (executor-agnostic, `Send + Sync`): [`Lock`], [`Event`], [`Condition`],
//!   [`Semaphore`], [`BoundedSemaphore`], [`Barrier`], [`Queue`], [`LifoQueue`],
//!   [`PriorityQueue`] (with [`QueueStream`]).
//! - Streams: [`open_connection`], [`start_server`], [`Server`], [`StreamReader`],
//!   [`StreamWriter`], [`StreamError`]; UDP: [`UdpSocket`], [`create_datagram_endpoint`].
//! - Subprocesses: [`create_subprocess_exec`], [`create_subprocess_shell`], [`Process`],
//!   [`Stdio`], [`StdioConfig`].
//! - Threads: [`EventLoop::run_in_executor`], [`to_thread`], [`wrap_future`] ([`ExecutorFuture`]),
//!   [`run_coroutine_threadsafe`] (bridging to `spindle_futures`).
//!
//! # Cancellation, Rust style
//!
//! Python throws `CancelledError` into a coroutine. A Rust future cannot have an error
//! injected, so [`Task::cancel`] drops the task's future at its next await point (its `Drop`
//! cleanup runs there), and the task ends with [`TaskError::Cancelled`]. A task that wants to
//! observe the cancellation, as `except CancelledError:` does, awaits through
//! [`catch_cancelled`], which then returns `Err(Cancelled)` and lets the task clean up
//! asynchronously and go on.

mod barrier;
mod cancel;
mod condition;
mod event;
mod event_loop;
mod executor;
mod gather;
mod lock;
mod loop_handle;
mod queue;
mod reactor;
mod scheduler;
mod semaphore;
mod shield;
mod sleep;
mod stream_io;
mod stream_reader;
mod stream_writer;
#[cfg(unix)]
mod subprocess;
mod sys;
mod task;
mod task_cell;
mod task_error;
mod task_group;
mod task_ref;
mod tcp;
mod timeout;
mod timer;
mod udp;
mod wait;
mod waiters;

pub use barrier::{Barrier, BrokenBarrierError};
pub use cancel::{catch_cancelled, Cancelled, CatchCancelled};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use event_loop::{get_running_loop, run, EventLoop, LoopError, RunError};
pub use executor::{run_coroutine_threadsafe, to_thread, wrap_future, ExecutorFuture};
pub use gather::{gather, gather2, gather3, gather4, try_gather};
pub use lock::{Acquire, Lock, LockGuard, ReleaseError};
pub use loop_handle::{LoopHandle, ThreadsafeHandle};
pub use queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueStream, TaskDoneError};
pub use semaphore::{
    BoundedSemaphore, OverReleaseError, Semaphore, SemaphoreAcquire, SemaphorePermit,
};
pub use shield::{shield, Shield};
pub use sleep::{sleep, sleep_until, yield_now, Sleep};
pub use stream_reader::{StreamError, StreamReader, DEFAULT_LIMIT};
pub use stream_writer::StreamWriter;
#[cfg(unix)]
pub use subprocess::{
    create_subprocess_exec, create_subprocess_shell, Process, Stdio, StdioConfig,
};
pub use task::{all_tasks, create_task, create_task_named, current_task, spawn, Task};
pub use task_error::{Outcome, TaskError};
pub use task_group::{TaskFailure, TaskGroup, TaskGroupError};
pub use task_ref::TaskRef;
pub use tcp::{open_connection, open_connection_with_limit, start_server, Server};
pub use timeout::{timeout, timeout_at, wait_for, Timeout, TimeoutError};
pub use timer::{Handle, TimerHandle};
pub use udp::{create_datagram_endpoint, UdpSocket};
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen};
