//! A computation in progress for one cache key: the slot other threads wait on while one
//! thread runs the closure of `get_or_insert_with`, so the closure runs once per key.
//!
//! States of [`Slot::state`]:
//!
//! | state       | meaning                                   | a waiter ...                  |
//! |-------------|-------------------------------------------|-------------------------------|
//! | `Pending`   | the owner thread is running the closure   | parks on `Slot::done`         |
//! | `Ready(v)`  | the owner stored `v`; the slot is retired | takes a clone of `v`          |
//! | `Abandoned` | the closure failed or panicked            | starts over (may compute)     |
//!
//! The owner always leaves `Pending`: [`Slot::finish`] on success, [`Slot::abandon`] from the
//! owner's drop guard otherwise, and both wake every waiter.

use std::thread::{self, ThreadId};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// Where a computation stands; see the module table.
enum State<V> {
    Pending,
    Ready(V),
    Abandoned,
}

/// What a waiter learnt from [`Slot::wait_until`].
pub(crate) enum Outcome<V> {
    /// The owner's value.
    Ready(V),
    /// The owner gave up; look the key up again.
    Retry,
    /// The deadline passed while the owner was still computing.
    TimedOut,
}

/// One key's computation in progress.
pub(crate) struct Slot<V> {
    state: Mutex<State<V>>,
    done: Condvar,
    /// The thread running the closure, to catch it waiting on itself.
    owner: ThreadId,
}

impl<V: Clone> Slot<V> {
    /// A pending slot owned by the calling thread.
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::Pending),
            done: Condvar::new(),
            owner: thread::current().id(),
        }
    }

    /// Waits until the owner finishes or gives up, or `deadline` passes.
    ///
    /// # Panics
    ///
    /// If the calling thread is the owner: its closure asked the cache for the key it is
    /// computing, which could never finish.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Outcome<V> {
        assert!(
            self.owner != thread::current().id(),
            "ThreadSafeCache::get_or_insert_with: the closure asked for the key it is computing"
        );
        let mut state = self.state.lock();
        loop {
            match &*state {
                State::Ready(v) => return Outcome::Ready(v.clone()),
                State::Abandoned => return Outcome::Retry,
                State::Pending => match deadline {
                    None => self.done.wait(&mut state),
                    Some(d) => {
                        if self.done.wait_until(&mut state, d).timed_out()
                            && matches!(*state, State::Pending)
                        {
                            return Outcome::TimedOut;
                        }
                    }
                },
            }
        }
    }

    /// Publishes the owner's value and wakes every waiter.
    pub(crate) fn finish(&self, value: V) {
        *self.state.lock() = State::Ready(value);
        self.done.notify_all();
    }

    /// Marks the computation failed and wakes every waiter, who start over.
    pub(crate) fn abandon(&self) {
        *self.state.lock() = State::Abandoned;
        self.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn another_thread_sees_the_finished_value() {
        let slot = Arc::new(Slot::new());
        let waiter = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || slot.wait_until(None))
        };
        slot.finish(5);
        assert!(matches!(waiter.join().unwrap(), Outcome::Ready(5)));
    }

    #[test]
    fn abandoned_means_retry() {
        let slot: Arc<Slot<u8>> = Arc::new(Slot::new());
        slot.abandon();
        let slot2 = Arc::clone(&slot);
        let outcome = thread::spawn(move || slot2.wait_until(None))
            .join()
            .unwrap();
        assert!(matches!(outcome, Outcome::Retry));
    }

    #[test]
    fn pending_past_the_deadline_times_out() {
        let slot: Arc<Slot<u8>> = Arc::new(Slot::new());
        let slot2 = Arc::clone(&slot);
        let deadline = Instant::now() + Duration::from_millis(10);
        let outcome = thread::spawn(move || slot2.wait_until(Some(deadline)))
            .join()
            .unwrap();
        assert!(matches!(outcome, Outcome::TimedOut));
        assert!(Instant::now() >= deadline);
    }

    #[test]
    #[should_panic(expected = "the closure asked for the key it is computing")]
    fn the_owner_may_not_wait_on_itself() {
        let slot: Slot<u8> = Slot::new();
        slot.wait_until(None);
    }
}
