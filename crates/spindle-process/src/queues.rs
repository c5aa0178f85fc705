//! Queues shared between processes: Python's `multiprocessing.Queue`, `JoinableQueue` and
//! `SimpleQueue`.
//!
//! Items travel as framed messages through one OS pipe that every process holding the queue
//! shares; two robust process locks keep frames whole, one for writers, one for readers. A
//! shared block holds the item count (`qsize`), the closed flag, the unfinished-task counter
//! and where each side is in the stream, so that a process killed in the middle of an item
//! costs at most that item (see `core` for how, and [`GetError::Torn`] for what a reader sees).
//! A bounded queue also has a [`Semaphore`] of free slots.
//!
//! `close` writes a marker frame after the last item (under the writer lock, so no item can
//! follow it). The reader that meets it records that in the block; every later get, in every
//! process, then reports [`GetError::Closed`] instead of blocking forever.
//!
//! This file passes 600 lines on purpose: like Python's `multiprocessing/queues.py` it holds
//! the three queue types, which are thin typed fronts over the one private core.

mod core;

use self::core::{Core, PutFail};
use crate::codec;
use crate::heap::{arc_block, SharedBlock};
use crate::reduction;
use crate::synchronize::raw;
use crate::synchronize::Semaphore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a put failed; the item comes back inside.
///
/// # Examples
///
/// ```
/// use spindle_process::{queues::PutError, Queue};
///
/// let q = Queue::<u8>::new(1).unwrap();
/// q.put(1).unwrap();
/// assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
/// ```
#[derive(thiserror::Error)]
pub enum PutError<T> {
    /// No free slot in time, or the pipe did not take the whole item in time (the part that
    /// went out is skipped by readers): Python's `queue.Full`.
    #[error("queue is full")]
    Full(T),
    /// The queue was closed.
    #[error("queue is closed")]
    Closed(T),
    /// The item could not be encoded.
    #[error("cannot encode the item: {1}")]
    Encode(T, String),
    /// Writing to the pipe failed.
    #[error("queue i/o failed: {1}")]
    Io(T, #[source] io::Error),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::Queue;
    ///
    /// let q = Queue::<String>::new(0).unwrap();
    /// q.close();
    /// let refused = q.put("kept".to_string()).unwrap_err();
    /// assert_eq!(refused.into_inner(), "kept");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(t)
            | PutError::Closed(t)
            | PutError::Encode(t, _)
            | PutError::Io(t, _) => t,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::Closed(_) => f.write_str("Closed(..)"),
            PutError::Encode(_, m) => write!(f, "Encode(.., {m:?})"),
            PutError::Io(_, e) => write!(f, "Io(.., {e:?})"),
        }
    }
}

/// Two I/O failures are equal when they are the same kind of failure (the same OS error).
fn same_io(a: &io::Error, b: &io::Error) -> bool {
    a.kind() == b.kind() && a.raw_os_error() == b.raw_os_error()
}

impl<T: PartialEq> PartialEq for PutError<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PutError::Full(a), PutError::Full(b)) | (PutError::Closed(a), PutError::Closed(b)) => {
                a == b
            }
            (PutError::Encode(a, m), PutError::Encode(b, n)) => a == b && m == n,
            (PutError::Io(a, e), PutError::Io(b, f)) => a == b && same_io(e, f),
            _ => false,
        }
    }
}

impl<T: Eq> Eq for PutError<T> {}

/// Who was in the middle of a lost item (see [`GetError::Torn`]).
///
/// # Examples
///
/// ```
/// use spindle_process::queues::TornCause;
///
/// assert_eq!(TornCause::WriterDied.to_string(), "its writer died");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornCause {
    /// The process putting the item died (or was killed) before the whole item was written.
    WriterDied,
    /// A process taking the item died (or dropped the queue) after reading part of it.
    ReaderDied,
    /// A reader killed inside a `read` left its position unknown; the stream was searched for
    /// the next valid frame and what lay between is lost.
    Desync,
}

impl fmt::Display for TornCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TornCause::WriterDied => "its writer died",
            TornCause::ReaderDied => "the process reading it died",
            TornCause::Desync => "the stream lost its place",
        })
    }
}

/// `" (it announced N bytes)"`, or nothing if the length is unknown.
fn announced_note(n: &Option<usize>) -> String {
    n.map(|n| format!(" (it announced {n} bytes)"))
        .unwrap_or_default()
}

/// Why a get failed.
///
/// # Examples
///
/// ```
/// use spindle_process::{queues::GetError, Queue};
///
/// let q = Queue::<u8>::new(0).unwrap();
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// q.close();
/// assert_eq!(q.get(), Err(GetError::Closed));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
pub enum GetError {
    /// Nothing arrived in time: Python's `queue.Empty`. If part of an item had arrived, this
    /// process keeps it and its next get completes it (other processes' gets see `Empty`
    /// until then).
    #[error("queue is empty")]
    Empty,
    /// The queue was closed and every item has been taken.
    #[error("queue is closed")]
    Closed,
    /// An item arrived but is not a valid encoding of `T`; it was consumed.
    #[error("cannot decode the item: {0}")]
    Decode(String),
    /// One item was lost because a process died in the middle of it; it is reported once,
    /// never delivered in part, and the items after it follow in order. `qsize` no longer
    /// counts it, its free slot is back, and a `JoinableQueue` counts it as done (do not call
    /// `task_done` for it).
    #[error("an item was lost: {cause} mid-item{}", announced_note(.announced))]
    Torn {
        /// The length the lost item announced, when known.
        announced: Option<usize>,
        /// Whose death tore it.
        cause: TornCause,
    },
    /// Reading the pipe failed.
    #[error("queue i/o failed: {0}")]
    Io(#[source] Arc<io::Error>),
}

impl GetError {
    fn io(e: io::Error) -> GetError {
        GetError::Io(Arc::new(e))
    }
}

impl PartialEq for GetError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (GetError::Empty, GetError::Empty) | (GetError::Closed, GetError::Closed) => true,
            (GetError::Decode(a), GetError::Decode(b)) => a == b,
            (
                GetError::Torn {
                    announced: a,
                    cause: c,
                },
                GetError::Torn {
                    announced: b,
                    cause: d,
                },
            ) => a == b && c == d,
            (GetError::Io(a), GetError::Io(b)) => same_io(a, b),
            _ => false,
        }
    }
}

impl Eq for GetError {}

/// `task_done` was called more times than items were put: Python's
/// `ValueError("task_done() called too many times")`.
///
/// # Examples
///
/// ```
/// use spindle_process::{queues::TaskDoneError, JoinableQueue};
///
/// let q = JoinableQueue::<u8>::new(0).unwrap();
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("task_done() called too many times")]
pub struct TaskDoneError;

impl PutFail {
    fn with<T>(self, item: T) -> PutError<T> {
        match self {
            PutFail::Full => PutError::Full(item),
            PutFail::Closed => PutError::Closed(item),
            PutFail::TooLarge => {
                PutError::Encode(item, "item too large for a queue frame".to_string())
            }
            PutFail::Io(e) => PutError::Io(item, e),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(with = "fd_serde")]
    reader: OwnedFd,
    #[serde(with = "fd_serde")]
    writer: OwnedFd,
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
    slots: Option<Semaphore>,
    maxsize: u64,
}

mod fd_serde {
    use super::*;
    pub(super) fn serialize<S: Serializer>(fd: &OwnedFd, s: S) -> Result<S::Ok, S::Error> {
        reduction::serialize_fd(fd.as_fd(), s)
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedFd, D::Error> {
        reduction::deserialize_fd(d)
    }
}

impl Serialize for Core {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Fd<'a>(BorrowedFd<'a>);
        impl Serialize for Fd<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                reduction::serialize_fd(self.0, s)
            }
        }
        struct Block<'a>(&'a Arc<SharedBlock>);
        impl Serialize for Block<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                arc_block::serialize(self.0, s)
            }
        }
        // Field order matches `Wire`, which deserialises it.
        let mut st = s.serialize_struct("Wire", 5)?;
        st.serialize_field("reader", &Fd(self.reader.as_fd()))?;
        st.serialize_field("writer", &Fd(self.writer.as_fd()))?;
        st.serialize_field("block", &Block(&self.block))?;
        st.serialize_field("slots", &self.slots)?;
        st.serialize_field("maxsize", &(self.maxsize as u64))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Core {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let maxsize = usize::try_from(w.maxsize).map_err(serde::de::Error::custom)?;
        Ok(Core::from_parts(
            w.reader, w.writer, w.block, w.slots, maxsize,
        ))
    }
}

fn deadline_of(timeout: Option<Duration>) -> Option<Instant> {
    raw::deadline(timeout)
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, GetError> {
    codec::decode(body).map_err(|e| match e {
        codec::CodecError::Encode(m) | codec::CodecError::Decode(m) => GetError::Decode(m),
    })
}

fn put_typed<T: Serialize>(
    core: &Core,
    item: T,
    deadline: Option<Instant>,
    joinable: bool,
) -> Result<(), PutError<T>> {
    let body = match codec::encode(&item) {
        Ok(b) => b,
        Err(codec::CodecError::Encode(m) | codec::CodecError::Decode(m)) => {
            return Err(PutError::Encode(item, m))
        }
    };
    core.put_bytes(&body, deadline, joinable)
        .map_err(|f| f.with(item))
}

macro_rules! queue_common {
    ($name:ident) => {
        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    core: self.core.clone(),
                    _t: PhantomData,
                }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("qsize", &self.core.qsize())
                    .field("maxsize", &self.core.maxsize)
                    .field("closed", &self.core.closed())
                    .finish()
            }
        }

        impl<T> Serialize for $name<T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.core.serialize(s)
            }
        }

        impl<'de, T> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($name {
                    core: Arc::new(Core::deserialize(d)?),
                    _t: PhantomData,
                })
            }
        }
    };
}

/// A FIFO queue shared between processes: Python's `multiprocessing.Queue(maxsize)`.
///
/// Items are `serde` values, encoded on `put` and decoded on `get`. A `maxsize` of 0 means
/// unbounded. Pass the queue to a [`Process`](crate::Process) as (part of) its argument.
///
/// # Differences from Python
///
/// There is no feeder thread: `put` writes the item to the pipe itself, so an item larger
/// than the pipe's free space (about 1 MiB) waits in `put` until a reader takes data, where
/// Python returns at once and blocks later in `join_thread`. `close` closes the queue for
/// every process (further puts fail, readers drain then get [`GetError::Closed`]) rather than
/// just for the calling one.
///
/// # Faults
///
/// A process killed in the middle of writing or reading an item costs that item and nothing
/// else (Python's queue is left garbled): the next get reports it once as
/// [`GetError::Torn`], within its timeout, and the items after it follow whole and in order.
/// Timeouts cover the whole item: a `get` that runs out of time mid-item returns
/// [`GetError::Empty`] and keeps the part it has (this process's next get completes it;
/// other processes' gets see `Empty` meanwhile); a `put` that runs out of time mid-item gets
/// its item back in [`PutError::Full`] and readers skip the part that went out.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::{queues::GetError, Queue};
///
/// let q = Queue::<String>::new(2).unwrap();
/// q.put("a".into()).unwrap();
/// q.put("b".into()).unwrap();
/// assert!(q.put_nowait("c".into()).is_err()); // full
/// assert_eq!(q.get().unwrap(), "a");
/// q.close();
/// assert_eq!(q.get().unwrap(), "b");
/// assert_eq!(q.get_timeout(Duration::from_secs(1)), Err(GetError::Closed));
/// ```
pub struct Queue<T> {
    core: Arc<Core>,
    _t: PhantomData<fn(T) -> T>,
}

queue_common!(Queue);

impl<T> Queue<T> {
    /// A queue holding at most `maxsize` items (0: unbounded).
    ///
    /// # Errors
    ///
    /// The operating system's error if the pipe or shared block cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(0).unwrap();
    /// assert!(q.empty());
    /// ```
    pub fn new(maxsize: usize) -> io::Result<Queue<T>> {
        Ok(Queue {
            core: Arc::new(Core::new(maxsize)?),
            _t: PhantomData,
        })
    }

    /// Approximate number of items: Python's `q.qsize()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(0).unwrap();
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue looks empty: Python's `q.empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(0).unwrap();
    /// assert!(q.empty());
    /// q.put(1).unwrap();
    /// assert!(!q.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue looks full: Python's `q.full()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(1).unwrap();
    /// assert!(!q.full());
    /// q.put(1).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        self.core.maxsize > 0 && self.qsize() >= self.core.maxsize
    }

    /// Closes the queue for every process: puts fail with [`PutError::Closed`], gets return
    /// the remaining items, then [`GetError::Closed`]. Closing twice is fine.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{queues::PutError, Queue};
    ///
    /// let q = Queue::<u8>::new(0).unwrap();
    /// q.close();
    /// assert_eq!(q.put(1), Err(PutError::Closed(1)));
    /// ```
    pub fn close(&self) {
        self.core.close();
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// Puts `item`, waiting for a free slot: Python's `q.put(item)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`], [`PutError::Encode`], [`PutError::Io`], each with the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(0).unwrap();
    /// q.put(5).unwrap();
    /// assert_eq!(q.get().unwrap(), 5);
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        put_typed(&self.core, item, None, false)
    }

    /// Puts `item`, waiting at most `timeout` for a free slot: Python's
    /// `q.put(item, timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no slot freed in time; otherwise as [`put`](Queue::put).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::{queues::PutError, Queue};
    ///
    /// let q = Queue::<u8>::new(1).unwrap();
    /// q.put_timeout(1, Duration::from_secs(1)).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(PutError::Full(2)));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        let d = deadline_of(Some(timeout));
        put_typed(&self.core, item, d, false)
    }

    /// Puts `item` only if a slot is free now: Python's `q.put_nowait(item)`.
    ///
    /// # Errors
    ///
    /// As [`put_timeout`](Queue::put_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<u8>::new(1).unwrap();
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).is_err());
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        put_typed(&self.core, item, Some(Instant::now()), false)
    }

    /// Takes the oldest item, waiting for one: Python's `q.get()`.
    ///
    /// # Errors
    ///
    /// [`GetError::Closed`] once closed and drained; [`GetError::Decode`]; [`GetError::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::Queue::<String>::new(0).unwrap();
    /// q.put("first".into()).unwrap();
    /// q.put("second".into()).unwrap();
    /// assert_eq!(q.get().unwrap(), "first");
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get_bytes(None).and_then(|b| decode::<T>(&b))
    }

    /// Takes the oldest item, waiting at most `timeout`: Python's `q.get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if nothing arrived in time; otherwise as [`get`](Queue::get).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::{queues::GetError, Queue};
    ///
    /// let q = Queue::<u8>::new(0).unwrap();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
    /// q.put(3).unwrap();
    /// assert_eq!(q.get_timeout(Duration::from_secs(5)), Ok(3));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        let d = deadline_of(Some(timeout));
        self.core.get_bytes(d).and_then(|b| decode::<T>(&b))
    }

    /// Takes an item only if one is ready now: Python's `q.get_nowait()`.
    ///
    /// # Errors
    ///
    /// As [`get_timeout`](Queue::get_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::{queues::GetError, Queue};
    ///
    /// let q = Queue::<u8>::new(0).unwrap();
    /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.core
            .get_bytes(Some(Instant::now()))
            .and_then(|b| decode::<T>(&b))
    }
}

/// A [`Queue`] that also counts unfinished tasks: Python's `multiprocessing.JoinableQueue`.
///
/// Each `put` adds one unfinished task; a consumer calls [`task_done`](JoinableQueue::task_done)
/// after processing an item; [`join`](JoinableQueue::join) waits until the count is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_process::JoinableQueue;
///
/// let q = JoinableQueue::<u32>::new(0).unwrap();
/// q.put(1).unwrap();
/// assert!(!q.join_timeout(Duration::from_millis(1)));
/// assert_eq!(q.get().unwrap(), 1);
/// q.task_done().unwrap();
/// assert!(q.join_timeout(Duration::from_secs(1)));
/// assert!(q.task_done().is_err());
/// ```
pub struct JoinableQueue<T> {
    core: Arc<Core>,
    _t: PhantomData<fn(T) -> T>,
}

queue_common!(JoinableQueue);

impl<T> JoinableQueue<T> {
    /// A joinable queue holding at most `maxsize` items (0: unbounded).
    ///
    /// # Errors
    ///
    /// The operating system's error if the pipe or shared block cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(4).unwrap();
    /// assert!(q.empty());
    /// ```
    pub fn new(maxsize: usize) -> io::Result<JoinableQueue<T>> {
        Ok(JoinableQueue {
            core: Arc::new(Core::new(maxsize)?),
            _t: PhantomData,
        })
    }

    /// Marks one item as processed: Python's `q.task_done()`.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if there are no unfinished tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err()); // nothing left to mark
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.core.task_done().map_err(|()| TaskDoneError)
    }

    /// Waits until every item put has been marked done: Python's `q.join()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// q.join(); // returns at once: no unfinished tasks
    /// ```
    pub fn join(&self) {
        self.core.join_until(None);
    }

    /// Like [`join`](JoinableQueue::join) for at most `timeout`; returns whether the count
    /// reached zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(1)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.core.join_until(deadline_of(Some(timeout)))
    }

    /// Approximate number of items waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue looks empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// assert!(q.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Closes the queue for every process (see [`Queue::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.close();
    /// assert!(q.put(1).is_err());
    /// ```
    pub fn close(&self) {
        self.core.close();
    }
}

impl<T: Serialize + DeserializeOwned> JoinableQueue<T> {
    fn put_counted(&self, item: T, deadline: Option<Instant>) -> Result<(), PutError<T>> {
        // The item and its unfinished task are counted by one atomic add, in the core.
        put_typed(&self.core, item, deadline, true)
    }

    /// Puts `item` and counts one unfinished task.
    ///
    /// # Errors
    ///
    /// As [`Queue::put`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(9).unwrap();
    /// assert_eq!(q.get().unwrap(), 9);
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_counted(item, None)
    }

    /// Puts `item`, waiting at most `timeout` for a slot.
    ///
    /// # Errors
    ///
    /// As [`Queue::put_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = spindle_process::JoinableQueue::<u8>::new(1).unwrap();
    /// q.put_timeout(1, Duration::from_secs(1)).unwrap();
    /// assert!(q.put_timeout(2, Duration::from_millis(1)).is_err());
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_counted(item, deadline_of(Some(timeout)))
    }

    /// Takes the oldest item, waiting for one.
    ///
    /// # Errors
    ///
    /// As [`Queue::get`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// q.put(4).unwrap();
    /// assert_eq!(q.get().unwrap(), 4);
    /// q.task_done().unwrap();
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get_bytes(None).and_then(|b| decode::<T>(&b))
    }

    /// Takes the oldest item, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Queue::get_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = spindle_process::JoinableQueue::<u8>::new(0).unwrap();
    /// assert!(q.get_timeout(Duration::from_millis(1)).is_err());
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        let d = deadline_of(Some(timeout));
        self.core.get_bytes(d).and_then(|b| decode::<T>(&b))
    }
}

/// An unbounded queue with only `put`, `get` and `empty`: Python's
/// `multiprocessing.SimpleQueue`.
///
/// # Examples
///
/// ```
/// use spindle_process::SimpleQueue;
///
/// let q = SimpleQueue::<String>::new().unwrap();
/// q.put("x".to_string()).unwrap();
/// assert!(!q.empty());
/// assert_eq!(q.get().unwrap(), "x");
/// assert!(q.empty());
/// ```
pub struct SimpleQueue<T> {
    core: Arc<Core>,
    _t: PhantomData<fn(T) -> T>,
}

queue_common!(SimpleQueue);

impl<T> SimpleQueue<T> {
    /// A new, empty queue.
    ///
    /// # Errors
    ///
    /// The operating system's error if the pipe or shared block cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::SimpleQueue::<u8>::new().unwrap();
    /// assert!(q.empty());
    /// ```
    pub fn new() -> io::Result<SimpleQueue<T>> {
        Ok(SimpleQueue {
            core: Arc::new(Core::new(0)?),
            _t: PhantomData,
        })
    }

    /// Whether the queue looks empty: Python's `q.empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::SimpleQueue::<u8>::new().unwrap();
    /// assert!(q.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.core.qsize() == 0
    }

    /// Closes the queue for every process (see [`Queue::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::SimpleQueue::<u8>::new().unwrap();
    /// q.close();
    /// assert!(q.put(1).is_err());
    /// ```
    pub fn close(&self) {
        self.core.close();
    }
}

impl<T: Serialize + DeserializeOwned> SimpleQueue<T> {
    /// Puts `item`: Python's `q.put(item)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`], [`PutError::Encode`], [`PutError::Io`], each with the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::SimpleQueue::<u8>::new().unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.get().unwrap(), 2);
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        put_typed(&self.core, item, None, false)
    }

    /// Takes the oldest item, waiting for one: Python's `q.get()`.
    ///
    /// # Errors
    ///
    /// As [`Queue::get`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle_process::SimpleQueue::<(u8, bool)>::new().unwrap();
    /// q.put((1, true)).unwrap();
    /// assert_eq!(q.get().unwrap(), (1, true));
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get_bytes(None).and_then(|b| decode::<T>(&b))
    }

    /// Takes the oldest item, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Queue::get_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_process::queues::GetError;
    ///
    /// let q = spindle_process::SimpleQueue::<u8>::new().unwrap();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        let d = deadline_of(Some(timeout));
        self.core.get_bytes(d).and_then(|b| decode::<T>(&b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_item_is_consumed_and_the_next_one_arrives() {
        let q = Queue::<u32>::new(0).unwrap();
        q.core
            .put_bytes(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], None, false)
            .ok()
            .unwrap();
        q.put(9).unwrap();
        assert!(matches!(q.get_nowait(), Err(GetError::Decode(_))));
        assert_eq!(q.get_nowait().unwrap(), 9);
        assert!(q.empty());
    }

    #[test]
    fn closed_marker_is_seen_by_every_later_get() {
        let q = Queue::<u32>::new(0).unwrap();
        q.put(1).unwrap();
        q.close();
        q.close();
        assert_eq!(q.get_nowait().unwrap(), 1);
        for _ in 0..3 {
            assert_eq!(q.get_nowait(), Err(GetError::Closed));
        }
    }

    /// Writes raw bytes into the queue's pipe, as a writer that bypasses the protocol would.
    fn raw_write(q: &Queue<Vec<u8>>, bytes: &[u8]) {
        crate::sys::write_all_vectored(q.core.writer.as_fd(), false, &[bytes]).unwrap();
    }

    #[test]
    fn a_partial_frame_that_never_completes_times_out_then_completes() {
        let q = Queue::<Vec<u8>>::new(0).unwrap();
        let body = codec::encode(&vec![7u8; 1000]).unwrap();
        raw_write(&q, &q.core.header(body.len() as u32, 0));
        raw_write(&q, &body[..10]);
        let t = Instant::now();
        assert_eq!(
            q.get_timeout(Duration::from_millis(300)),
            Err(GetError::Empty)
        );
        let waited = t.elapsed();
        assert!(waited < Duration::from_millis(800), "waited {waited:?}");
        // The rest arrives: the same process's next get completes the item it kept.
        raw_write(&q, &body[10..]);
        assert_eq!(
            q.get_timeout(Duration::from_secs(5)).unwrap(),
            vec![7u8; 1000]
        );
    }

    #[test]
    fn a_put_that_times_out_mid_item_takes_it_back_and_readers_skip_the_part() {
        let q = Queue::<Vec<u8>>::new(0).unwrap();
        let big = vec![1u8; 4 << 20];
        let t = Instant::now();
        match q.put_timeout(big, Duration::from_millis(200)) {
            Err(PutError::Full(back)) => assert_eq!(back.len(), 4 << 20),
            other => panic!("expected Full with the item, got {other:?}"),
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "put waited {:?}",
            t.elapsed()
        );
        assert_eq!(q.qsize(), 0);
        // The part that went out fills the pipe; a reader discards it without a report.
        assert_eq!(
            q.get_timeout(Duration::from_millis(300)),
            Err(GetError::Empty)
        );
        q.put(vec![2, 3]).unwrap();
        assert_eq!(q.get_timeout(Duration::from_secs(5)).unwrap(), vec![2, 3]);
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
        assert!(q.empty());
    }

    #[test]
    fn io_errors_keep_their_cause() {
        use std::error::Error as _;
        let g = GetError::io(io::Error::from_raw_os_error(libc::EIO));
        assert!(g.source().is_some());
        assert!(g.to_string().contains("os error 5"), "{g}");
        let p = PutError::Io(1u8, io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(p.source().is_some());
        assert!(p.to_string().contains("os error 28"), "{p}");
        let t = GetError::Torn {
            announced: Some(10),
            cause: TornCause::ReaderDied,
        };
        assert_eq!(
            t.to_string(),
            "an item was lost: the process reading it died mid-item (it announced 10 bytes)"
        );
    }
}
