//! Python's `threading` module: threads, locks, conditions, semaphores, events, barriers,
//! timers and thread-local data.
//!
//! Threads: [`Thread`], [`Builder`], [`ThreadInfo`], [`current_thread`], [`main_thread`],
//! [`enumerate`], [`active_count`], [`get_ident`], [`get_native_id`].
//! Exceptions in threads: [`set_excepthook`], [`excepthook`], [`default_excepthook`],
//! [`ExceptHookArgs`], [`ExceptHook`], [`Panicked`], [`panic_payload_text`].
//! Interpreter-exit behaviour: [`shutdown`], [`shutdown_timeout`], [`MainGuard`].
//! Locks: [`Lock`], [`RLock`], [`RwLock`] (with [`RwLockReadGuard`], [`RwLockWriteGuard`]).
//! The raw layer they share: [`RawLock`], [`AsRawLock`], [`LockGuard`], [`RawMutex`],
//! [`RawRLock`], [`RawRwLock`].
//! Waiting: [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`SemaphorePermit`],
//! [`Event`], [`Barrier`], [`Timer`].
//! Per-thread data: [`Local`].
//! Diagnostics: [`deadlock`] (cycle reports, [`AcquireError`]); with the `deadlock-detection`
//! feature, `deadlock::check_deadlock`, `deadlock::start_checker` and the `lock_order` checker.
//! Errors: [`ReleaseError`], [`ConditionError`], [`OverReleaseError`],
//! [`BrokenBarrierError`], [`TimerError`], [`Panicked`].

mod barrier;
mod bounded_semaphore;
mod condition;
mod deadline;
pub mod deadlock;
mod error;
mod event;
mod excepthook;
mod local;
mod lock;
mod lock_guard;
#[cfg(feature = "deadlock-detection")]
pub mod lock_order;
mod raw_lock;
mod raw_mutex;
mod raw_rlock;
mod raw_rwlock;
mod rlock;
mod rwlock;
mod semaphore;
mod shutdown;
mod sys;
mod thread;
mod thread_info;
mod timer;
mod unpark;

pub use barrier::Barrier;
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::Condition;
pub use deadlock::AcquireError;
pub use error::{
    panic_payload_text, BrokenBarrierError, ConditionError, OverReleaseError, Panicked,
    ReleaseError, TimerError,
};
pub use event::Event;
pub use excepthook::{default_excepthook, excepthook, set_excepthook, ExceptHook, ExceptHookArgs};
pub use local::Local;
pub use lock::Lock;
pub use lock_guard::LockGuard;
pub use raw_lock::{AsRawLock, RawLock};
pub use raw_mutex::RawMutex;
pub use raw_rlock::RawRLock;
pub use raw_rwlock::RawRwLock;
pub use rlock::RLock;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
pub use shutdown::{shutdown, shutdown_timeout, MainGuard};
pub use thread::{Builder, Thread};
pub use thread_info::{
    active_count, current_thread, enumerate, get_ident, get_native_id, main_thread, ThreadInfo,
};
pub use timer::Timer;
