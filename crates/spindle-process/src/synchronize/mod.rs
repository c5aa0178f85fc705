//! Synchronisation between processes: Python's `multiprocessing.synchronize`.
//!
//! Every primitive lives in a small anonymous shared block (see `heap`) and waits with a
//! futex on a word in that block, so a waiter in one process is woken by a release in
//! another without polling. They are `Serialize`/`Deserialize` so they can be passed to a
//! [`Process`](crate::Process); the child's copy maps the same memory.
//!
//! Locks are robust: if a process dies holding a [`Lock`] or [`RLock`], the next acquirer takes
//! it over within [`ROBUST_CHECK`] instead of hanging
//! ([`Lock::acquire_robust`] reports it as [`Acquired::OwnerDied`]).

mod barrier;
mod condition;
mod event;
mod lock;
pub(crate) mod raw;
mod rlock;
mod semaphore;

pub use barrier::Barrier;
pub use condition::{Condition, SLOTS as CONDITION_SLOTS};
pub use event::Event;
pub use lock::Lock;
pub use raw::{Acquired, ROBUST_CHECK};
pub use rlock::RLock;
pub use semaphore::{BoundedSemaphore, Semaphore};

/// Errors shared with `spindle_sync::threading`, so both modules report the same types.
pub use spindle_sync::threading::{BrokenBarrierError, LockGuard, OverReleaseError, ReleaseError};
