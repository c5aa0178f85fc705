//! The shared core of a future ([`Header`]: state word, outcome, callbacks, waiters); it sits
//! in the future's cell (`cell.rs`), beside the closure for a pool task.
//!
//! Settling takes no lock unless someone listens. The setter that moves `state` to
//! `COMPLETING` (one compare-exchange, so one winner) writes `outcome`, stores `FINISHED`,
//! then looks at `listened`; whoever registers a callback or waiter, or sleeps on `cond`, does
//! so under the slot lock after raising `listened` and re-reading `state`. Both sides use
//! `SeqCst`, so at least one sees the other: either the listener sees `FINISHED` and acts at
//! once, or the setter sees `listened` and takes the lock (after the listener let go of it) to
//! run the listeners and wake the sleepers. `outcome` is written only by the `COMPLETING`
//! winner before `FINISHED`; after that it is read or replaced only under the slot lock, or
//! through the only handle left.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::state::{CANCELLED, CANCELLED_NOTIFIED, PENDING, RUNNING};
use super::Future;
use crate::waiter::Waiter;
use crate::FutureError;

pub(super) type Callback<T> = Box<dyn FnOnce(&Future<T>) + Send + 'static>;

pub(super) enum Outcome<T> {
    /// Not settled, or cancelled (the state says which).
    Unset,
    Value(T),
    /// The value left through `into_result`.
    Taken,
    Error(FutureError),
}

/// Who wants to hear that the future settled. One list for both kinds keeps the header small
/// (a no-op pool task then fits a 128-byte malloc chunk, which glibc recycles cheaply).
pub(super) enum Listener<T> {
    /// A done callback, run after the waiters are told.
    Callback(Callback<T>),
    /// A `wait`/`as_completed` waiter and the key it registered under.
    Waiter(Arc<Waiter>, usize),
}

pub(super) struct Slot<T> {
    /// Callbacks in registration order, interleaved with waiters.
    pub(super) listeners: Vec<Listener<T>>,
}

/// The shared part of every future. A bare [`Future::new`] allocates just this (in a
/// `CellHead`); a pool task embeds it beside its closure, so submitting costs one allocation.
pub(crate) struct Header<T> {
    pub(super) state: AtomicU8,
    /// Raised (under the slot lock, never lowered) before a callback or waiter is registered
    /// or a thread sleeps on `cond`; see the module docs.
    pub(super) listened: AtomicBool,
    /// See the module docs for who may touch it when.
    pub(super) outcome: UnsafeCell<Outcome<T>>,
    pub(super) slot: Mutex<Slot<T>>,
    pub(super) cond: Condvar,
}

impl<T> Header<T> {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU8::new(PENDING),
            listened: AtomicBool::new(false),
            outcome: UnsafeCell::new(Outcome::Unset),
            slot: Mutex::new(Slot {
                listeners: Vec::new(),
            }),
            cond: Condvar::new(),
        }
    }

    /// Raises `listened` and tells whether the future is settled, for a thread that holds the
    /// slot lock and is about to register a listener or sleep (see the module docs).
    pub(super) fn listen(&self) -> u8 {
        self.listened.store(true, Ordering::SeqCst);
        self.state.load(Ordering::SeqCst)
    }

    /// See [`Future::set_running_or_notify_cancel`]; lock-free, needs no handle.
    pub(crate) fn set_running_or_notify_cancel(&self) -> bool {
        let state = &self.state;
        match state.compare_exchange(PENDING, RUNNING, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(CANCELLED) => {
                // Only this CAS leaves CANCELLED; losing it means another caller marked it.
                let _ = state.compare_exchange(
                    CANCELLED,
                    CANCELLED_NOTIFIED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                false
            }
            Err(_) => false,
        }
    }
}
