//! The operations every queue kind implements once; `api.rs` turns them into the documented
//! Python-named methods of `Queue`, `LifoQueue` and `PriorityQueue`.

use std::time::Duration;

use super::error::{GetError, PutError, TaskDoneError};

/// One queue engine: the lock-free FIFO ([`LockFree`](super::lockfree::LockFree)) or the
/// mutex-and-condvar core shared by LIFO and priority order ([`Locked`](super::locked::Locked)).
///
/// `timeout`: `None` waits for ever, `Some(Duration::ZERO)` tries once and never waits.
pub(crate) trait Backend<T> {
    fn put(&self, item: T, timeout: Option<Duration>) -> Result<(), PutError<T>>;
    fn get(&self, timeout: Option<Duration>) -> Result<T, GetError>;
    fn qsize(&self) -> usize;
    fn maxsize(&self) -> usize;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn unfinished_tasks(&self) -> u64;
    fn join(&self, timeout: Option<Duration>) -> bool;
    fn shutdown(&self, immediate: bool);
    fn is_shut_down(&self) -> bool;
    fn waiting_getters(&self) -> usize;
    fn waiting_putters(&self) -> usize;
}
