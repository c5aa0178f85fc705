//! The lock-free FIFO engine of `Queue` and `SimpleQueue`: a [`Store`] plus [`WaitList`]s for
//! getters, putters and joiners, so a put or get that nobody waits for is a CAS and a load.
//!
//! A blocked call first retries with `crossbeam_utils::Backoff` (spin, then yield) and only
//! then parks; see `wait_list.rs` for why a wake-up cannot be lost.

use std::time::Duration;

use crossbeam_utils::Backoff;

use super::backend::Backend;
use super::error::{GetError, PutError, TaskDoneError};
use super::ring::{Pop, Push};
use super::store::Store;
use super::tasks::Tasks;
use super::wait_list::{deadline_after, expired, WaitList};

pub(crate) struct LockFree<T> {
    store: Store<T>,
    getters: WaitList,
    putters: WaitList,
    tasks: Tasks,
    maxsize: usize,
}

impl<T> LockFree<T> {
    /// An engine for Python's `maxsize` (0 = unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Self {
            store: Store::with_maxsize(maxsize),
            getters: WaitList::new(),
            putters: WaitList::new(),
            tasks: Tasks::new(),
            maxsize,
        }
    }

    #[cold]
    fn put_slow(&self, mut item: T, timeout: Option<Duration>) -> Result<(), PutError<T>> {
        if timeout == Some(Duration::ZERO) {
            return Err(PutError::Full(item));
        }
        let deadline = timeout.and_then(deadline_after);
        let limited = timeout.is_some();
        let backoff = Backoff::new();
        loop {
            match self.store.try_push(item) {
                Ok(()) => {
                    self.getters.notify_one();
                    return Ok(());
                }
                Err(Push::Closed(back)) => return Err(PutError::ShutDown(back)),
                Err(Push::Full(back)) => item = back,
            }
            if limited && expired(deadline) {
                return Err(PutError::Full(item));
            }
            if backoff.is_completed() {
                self.putters
                    .park_until(|| self.store.putter_may_park(), deadline);
            } else {
                backoff.snooze();
            }
        }
    }

    #[cold]
    fn get_slow(&self, timeout: Option<Duration>) -> Result<T, GetError> {
        if timeout == Some(Duration::ZERO) {
            return Err(GetError::Empty);
        }
        let deadline = timeout.and_then(deadline_after);
        let limited = timeout.is_some();
        let backoff = Backoff::new();
        loop {
            match self.store.try_pop() {
                Ok(item) => {
                    self.putters.notify_one();
                    return Ok(item);
                }
                Err(Pop::Closed) => return Err(GetError::ShutDown),
                Err(Pop::Empty) => {}
            }
            if limited && expired(deadline) {
                return Err(GetError::Empty);
            }
            if backoff.is_completed() {
                self.getters
                    .park_until(|| self.store.getter_may_park(), deadline);
            } else {
                backoff.snooze();
            }
        }
    }
}

impl<T> Backend<T> for LockFree<T> {
    #[inline]
    fn put(&self, item: T, timeout: Option<Duration>) -> Result<(), PutError<T>> {
        match self.store.try_push(item) {
            Ok(()) => {
                self.getters.notify_one();
                Ok(())
            }
            Err(Push::Closed(item)) => Err(PutError::ShutDown(item)),
            Err(Push::Full(item)) => self.put_slow(item, timeout),
        }
    }

    #[inline]
    fn get(&self, timeout: Option<Duration>) -> Result<T, GetError> {
        match self.store.try_pop() {
            Ok(item) => {
                self.putters.notify_one();
                Ok(item)
            }
            Err(Pop::Closed) => Err(GetError::ShutDown),
            Err(Pop::Empty) => self.get_slow(timeout),
        }
    }

    fn qsize(&self) -> usize {
        self.store.len()
    }

    fn maxsize(&self) -> usize {
        self.maxsize
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        self.tasks.task_done(|| self.store.pushed())
    }

    fn unfinished_tasks(&self) -> u64 {
        self.tasks.unfinished(self.store.pushed())
    }

    fn join(&self, timeout: Option<Duration>) -> bool {
        let deadline = match timeout {
            Some(Duration::ZERO) => return self.unfinished_tasks() == 0,
            Some(t) => deadline_after(t),
            None => None,
        };
        self.tasks.join_until(|| self.store.pushed(), deadline)
    }

    fn shutdown(&self, immediate: bool) {
        self.store.close();
        let mut dropped = Vec::new();
        if immediate {
            // Every push admitted before the close lands, so this takes all of them.
            while let Ok(item) = self.store.try_pop() {
                dropped.push(item);
            }
            self.tasks
                .drop_done(dropped.len() as u64, || self.store.pushed());
        }
        self.getters.notify_all();
        self.putters.notify_all();
        // Dropped last, so a panicking `Drop` of an item cannot strand a waiter.
        drop(dropped);
    }

    fn is_shut_down(&self) -> bool {
        self.store.is_closed()
    }

    fn waiting_getters(&self) -> usize {
        self.getters.waiting()
    }

    fn waiting_putters(&self) -> usize {
        self.putters.waiting()
    }
}
