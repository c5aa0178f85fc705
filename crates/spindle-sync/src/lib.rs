//! Python's `threading` and `queue` modules, in Rust.
//!
//! Threads: [`threading::Thread`], [`threading::current_thread`], [`threading::enumerate`].
//! Locks: [`threading::Lock`], [`threading::RLock`], [`threading::RwLock`].
//! Waiting: [`threading::Condition`], [`threading::Semaphore`], [`threading::BoundedSemaphore`],
//! [`threading::Event`], [`threading::Barrier`], [`threading::Timer`].
//! Per-thread data: [`threading::Local`].
//! Queues: [`queue::Queue`], [`queue::LifoQueue`], [`queue::PriorityQueue`], [`queue::SimpleQueue`].
//! Collections: [`collections::ThreadSafeDict`], [`collections::ThreadSafeList`], [`collections::ThreadSafeCache`].

pub mod collections;
pub mod queue;
pub mod threading;
