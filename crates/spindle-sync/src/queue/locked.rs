//! The engine shared by `LifoQueue` and `PriorityQueue`: one `parking_lot` mutex over the
//! items and Python's bookkeeping, and three condition variables, exactly as CPython's
//! `queue.Queue` is built (`not_empty`, `not_full`, `all_tasks_done`).
//!
//! A LIFO stack or a heap has one hot end that every operation writes, so a lock-free version
//! would serialise on that end anyway; the mutex is uncontended most of the time and
//! `parking_lot`'s fast path is one CAS. The order lives in a [`Container`].

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::backend::Backend;
use super::error::{GetError, PutError, TaskDoneError};
use super::wait_list::deadline_after;

/// The order a [`Locked`] engine keeps: Python's `_put`, `_get` and `_qsize` hooks.
pub(crate) trait Container<T>: Default {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

struct State<C> {
    items: C,
    /// Python's `unfinished_tasks`: puts minus `task_done` calls (and immediately dropped items).
    unfinished: u64,
    shut_down: bool,
    waiting_getters: usize,
    waiting_putters: usize,
}

pub(crate) struct Locked<C> {
    state: Mutex<State<C>>,
    not_empty: Condvar,
    not_full: Condvar,
    all_tasks_done: Condvar,
    maxsize: usize,
}

/// Waits on `cv` until notified or `deadline`; returns `false` on timeout.
fn wait<C>(cv: &Condvar, guard: &mut MutexGuard<'_, State<C>>, deadline: Option<Instant>) -> bool {
    match deadline {
        None => {
            cv.wait(guard);
            true
        }
        Some(deadline) => !cv.wait_until(guard, deadline).timed_out(),
    }
}

impl<C> Locked<C> {
    pub(crate) fn new(maxsize: usize) -> Self
    where
        C: Default,
    {
        Self {
            state: Mutex::new(State {
                items: C::default(),
                unfinished: 0,
                shut_down: false,
                waiting_getters: 0,
                waiting_putters: 0,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_tasks_done: Condvar::new(),
            maxsize,
        }
    }

    /// `None` for "wait for ever", including a timeout too large for `Instant`.
    fn deadline(timeout: Option<Duration>) -> Option<Instant> {
        timeout.and_then(deadline_after)
    }
}

impl<T, C: Container<T>> Backend<T> for Locked<C> {
    fn put(&self, item: T, timeout: Option<Duration>) -> Result<(), PutError<T>> {
        let mut s = self.state.lock();
        if s.shut_down {
            return Err(PutError::ShutDown(item));
        }
        if self.maxsize > 0 && s.items.len() >= self.maxsize {
            if timeout == Some(Duration::ZERO) {
                return Err(PutError::Full(item));
            }
            let deadline = Self::deadline(timeout);
            while s.items.len() >= self.maxsize {
                s.waiting_putters += 1;
                let woken = wait(&self.not_full, &mut s, deadline);
                s.waiting_putters -= 1;
                if s.shut_down {
                    return Err(PutError::ShutDown(item));
                }
                if !woken && s.items.len() >= self.maxsize {
                    return Err(PutError::Full(item));
                }
            }
        }
        // Counted first: if the container's `push` panics (an item's `Ord`), the item is in
        // the heap all the same, so the count still matches.
        s.unfinished += 1;
        s.items.push(item);
        drop(s);
        self.not_empty.notify_one();
        Ok(())
    }

    fn get(&self, timeout: Option<Duration>) -> Result<T, GetError> {
        let mut s = self.state.lock();
        if s.items.len() == 0 {
            if s.shut_down {
                return Err(GetError::ShutDown);
            }
            if timeout == Some(Duration::ZERO) {
                return Err(GetError::Empty);
            }
            let deadline = Self::deadline(timeout);
            while s.items.len() == 0 {
                s.waiting_getters += 1;
                let woken = wait(&self.not_empty, &mut s, deadline);
                s.waiting_getters -= 1;
                if s.items.len() == 0 {
                    if s.shut_down {
                        return Err(GetError::ShutDown);
                    }
                    if !woken {
                        return Err(GetError::Empty);
                    }
                }
            }
        }
        let item = s.items.pop().ok_or(GetError::Empty)?;
        drop(s);
        self.not_full.notify_one();
        Ok(item)
    }

    fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    fn maxsize(&self) -> usize {
        self.maxsize
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut s = self.state.lock();
        if s.unfinished == 0 {
            return Err(TaskDoneError);
        }
        s.unfinished -= 1;
        if s.unfinished == 0 {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    fn unfinished_tasks(&self) -> u64 {
        self.state.lock().unfinished
    }

    fn join(&self, timeout: Option<Duration>) -> bool {
        let mut s = self.state.lock();
        if s.unfinished == 0 {
            return true;
        }
        if timeout == Some(Duration::ZERO) {
            return false;
        }
        let deadline = Self::deadline(timeout);
        while s.unfinished > 0 {
            if !wait(&self.all_tasks_done, &mut s, deadline) {
                return s.unfinished == 0;
            }
        }
        true
    }

    fn shutdown(&self, immediate: bool) {
        let mut dropped = Vec::new();
        {
            let mut s = self.state.lock();
            s.shut_down = true;
            if immediate {
                while let Some(item) = s.items.pop() {
                    dropped.push(item);
                }
                s.unfinished = s.unfinished.saturating_sub(dropped.len() as u64);
                self.all_tasks_done.notify_all();
            }
            self.not_empty.notify_all();
            self.not_full.notify_all();
        }
        // Dropped outside the lock: an item's `Drop` may use the queue.
        drop(dropped);
    }

    fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }

    fn waiting_getters(&self) -> usize {
        self.state.lock().waiting_getters
    }

    fn waiting_putters(&self) -> usize {
        self.state.lock().waiting_putters
    }
}
