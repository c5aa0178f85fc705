//! [`ThreadInfo`] and the module-level queries: [`current_thread`], [`main_thread`],
//! [`enumerate`], [`active_count`], [`get_ident`], [`get_native_id`].
//!
//! The registry of live threads is one `parking_lot::Mutex<BTreeMap<ident, ThreadInfo>>`,
//! touched only when a thread starts or ends and by `enumerate`/`active_count`/`shutdown`,
//! never on a lock's path. Idents come from one global counter (never reused, never 0);
//! a thread learns its own from a thread-local, so [`get_ident`] costs a TLS read.

use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::event::Event;
use super::sys;

/// Where a [`ThreadInfo`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Started by [`Builder::spawn`](super::Builder::spawn).
    Spindle,
    /// The process's first thread: Python's `MainThread`.
    Main,
    /// Started outside spindle (`std::thread`, a C library): Python's `_DummyThread`.
    Dummy,
}

pub(crate) struct Inner {
    name: String,
    ident: u64,
    /// 0 until the thread has run far enough to ask the kernel.
    native_id: AtomicU64,
    alive: AtomicBool,
    daemon: bool,
    kind: Kind,
    /// Set once `native_id` is known.
    pub(crate) started: Event,
    /// Set once the thread's closure returned or panicked and the hook ran.
    pub(crate) finished: Event,
}

/// A cheap, cloneable description of a thread: what Python's `threading.current_thread()`,
/// `main_thread()` and `enumerate()` hand out.
///
/// Not generic (unlike [`Thread<T>`](super::Thread)), so threads of every result type fit in
/// one list. Clones share the live state: [`is_alive`](ThreadInfo::is_alive) turns false for
/// every clone when the thread ends.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{current_thread, get_ident, Thread};
///
/// let t = Thread::builder().name("worker").spawn(|| current_thread()).unwrap();
/// let ident = t.ident();
/// let info = t.join().unwrap();
/// assert_eq!(info.name(), "worker");
/// assert_eq!(info.ident(), ident);
/// assert!(!info.is_alive());
/// assert_ne!(info.ident(), get_ident());
/// ```
#[derive(Clone)]
pub struct ThreadInfo {
    pub(crate) inner: Arc<Inner>,
}

impl ThreadInfo {
    pub(crate) fn new(name: String, ident: u64, daemon: bool, kind: Kind) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                ident,
                native_id: AtomicU64::new(0),
                alive: AtomicBool::new(true),
                daemon,
                kind,
                started: Event::new(),
                finished: Event::new(),
            }),
        }
    }

    /// The thread's name: Python's `thread.name` (`"MainThread"`, `"Thread-3"`, `"Dummy-4"`
    /// or the one given to the [`Builder`](super::Builder)).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::main_thread;
    ///
    /// assert_eq!(main_thread().name(), "MainThread");
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// spindle's identifier for the thread, unique for the life of the process and never 0:
    /// Python's `thread.ident`; equal to [`get_ident`] called on that thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{current_thread, get_ident};
    ///
    /// assert_eq!(current_thread().ident(), get_ident());
    /// ```
    pub fn ident(&self) -> u64 {
        self.inner.ident
    }

    /// The kernel's id for the thread: Python's `thread.native_id`.
    ///
    /// For a thread that was just spawned this waits (briefly) until it has run far enough to
    /// know it.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux and Android: `gettid()`. Elsewhere spindle asks no OS call and returns
    /// [`ident`](ThreadInfo::ident).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{current_thread, get_native_id};
    ///
    /// assert_eq!(current_thread().native_id(), get_native_id());
    /// ```
    pub fn native_id(&self) -> u64 {
        self.inner.started.wait();
        self.inner.native_id.load(Ordering::Acquire)
    }

    /// Whether the thread is still running its closure: Python's `thread.is_alive()`.
    ///
    /// The main thread counts as alive for the whole run.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{current_thread, main_thread};
    ///
    /// assert!(current_thread().is_alive());
    /// assert!(main_thread().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.inner.alive.load(Ordering::Acquire)
    }

    /// Whether the thread is a daemon: [`shutdown`](super::shutdown) does not wait for
    /// daemons. The main thread is not one; threads spindle did not start are.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{current_thread, main_thread};
    ///
    /// assert!(!main_thread().is_daemon());
    /// let foreign = std::thread::spawn(|| current_thread().is_daemon()).join().unwrap();
    /// assert!(foreign);
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon
    }

    pub(crate) fn kind(&self) -> Kind {
        self.inner.kind
    }

    pub(crate) fn set_native_id(&self, id: u64) {
        self.inner.native_id.store(id, Ordering::Release);
        self.inner.started.set();
    }

    /// Marks the thread ended, drops it from the registry and wakes joiners.
    pub(crate) fn finish(&self) {
        self.inner.alive.store(false, Ordering::Release);
        registry().lock().remove(&self.inner.ident);
        self.inner.finished.set();
    }
}

impl PartialEq for ThreadInfo {
    fn eq(&self, other: &Self) -> bool {
        self.inner.ident == other.inner.ident
    }
}

impl Eq for ThreadInfo {}

impl fmt::Debug for ThreadInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadInfo")
            .field("name", &self.name())
            .field("ident", &self.ident())
            .field("daemon", &self.is_daemon())
            .field("alive", &self.is_alive())
            .finish()
    }
}

static NEXT_IDENT: AtomicU64 = AtomicU64::new(1);
static NEXT_NAME: AtomicU64 = AtomicU64::new(1);
static MAIN: OnceLock<ThreadInfo> = OnceLock::new();
static REGISTRY: OnceLock<Mutex<BTreeMap<u64, ThreadInfo>>> = OnceLock::new();

pub(crate) fn new_ident() -> u64 {
    NEXT_IDENT.fetch_add(1, Ordering::Relaxed)
}

/// Python's `_counter`: one sequence for `Thread-N` and `Dummy-N`.
pub(crate) fn next_name_number() -> u64 {
    NEXT_NAME.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn registry() -> &'static Mutex<BTreeMap<u64, ThreadInfo>> {
    REGISTRY.get_or_init(|| {
        let main = main_info().clone();
        Mutex::new(BTreeMap::from([(main.ident(), main)]))
    })
}

fn main_info() -> &'static ThreadInfo {
    MAIN.get_or_init(|| {
        let info = ThreadInfo::new("MainThread".to_owned(), new_ident(), false, Kind::Main);
        if let Some(id) = sys::main_native_id() {
            info.set_native_id(id);
        }
        info
    })
}

/// Drops a thread-spindle-did-not-start from the registry when that thread exits.
struct Registration(ThreadInfo);

impl Drop for Registration {
    fn drop(&mut self) {
        if self.0.kind() == Kind::Dummy {
            self.0.finish();
        }
    }
}

thread_local! {
    static IDENT: Cell<u64> = const { Cell::new(0) };
    static CURRENT: OnceCell<Registration> = const { OnceCell::new() };
}

/// Called first thing on a thread spindle spawned.
pub(crate) fn enter_spawned(info: &ThreadInfo) {
    IDENT.with(|c| c.set(info.ident()));
    let native = sys::native_thread_id().unwrap_or(info.ident());
    info.set_native_id(native);
    CURRENT.with(|c| {
        let _ = c.set(Registration(info.clone()));
    });
}

fn is_main() -> bool {
    sys::is_main_thread().unwrap_or(false)
}

/// spindle's identifier of the calling thread: Python's `threading.get_ident()`.
///
/// Equal to [`ThreadInfo::ident`] and [`Thread::ident`](super::Thread::ident) of the same
/// thread; never 0 and never reused within a process. Costs a thread-local read.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{current_thread, get_ident};
///
/// assert_eq!(get_ident(), current_thread().ident());
/// let other = std::thread::spawn(get_ident).join().unwrap();
/// assert_ne!(other, get_ident());
/// ```
#[inline]
pub fn get_ident() -> u64 {
    IDENT
        .try_with(|c| {
            let id = c.get();
            if id != 0 {
                id
            } else {
                let id = assign_ident();
                c.set(id);
                id
            }
        })
        .unwrap_or_else(|_| assign_ident())
}

#[cold]
fn assign_ident() -> u64 {
    if is_main() {
        main_info().ident()
    } else {
        new_ident()
    }
}

/// The kernel's id of the calling thread: Python's `threading.get_native_id()`.
///
/// # Platform-specific behavior
///
/// Linux and Android: `gettid()`. Elsewhere it is [`get_ident`].
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{current_thread, get_native_id};
///
/// assert_eq!(get_native_id(), current_thread().native_id());
/// ```
pub fn get_native_id() -> u64 {
    sys::native_thread_id().unwrap_or_else(get_ident)
}

/// The calling thread: Python's `threading.current_thread()`.
///
/// A thread spindle did not start (one from `std::thread::spawn`, say) gets a daemon
/// `ThreadInfo` named `Dummy-N` the first time it asks, listed by [`enumerate`] until it
/// exits, as Python does for foreign threads.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::current_thread;
///
/// let name = std::thread::spawn(|| current_thread().name().to_owned()).join().unwrap();
/// assert!(name.starts_with("Dummy-"));
/// ```
pub fn current_thread() -> ThreadInfo {
    CURRENT
        .try_with(|c| c.get_or_init(make_current).0.clone())
        .unwrap_or_else(|_| {
            // Asked during this thread's TLS teardown: describe it, already leaving.
            let registration = make_current();
            registration.0.clone()
        })
}

#[cold]
fn make_current() -> Registration {
    if is_main() {
        let main = main_info().clone();
        // Make sure the registry (which lists the main thread) exists.
        let _ = registry();
        if main.inner.native_id.load(Ordering::Acquire) == 0 {
            main.set_native_id(get_native_id());
        }
        return Registration(main);
    }
    let name = format!("Dummy-{}", next_name_number());
    let info = ThreadInfo::new(name, get_ident(), true, Kind::Dummy);
    info.set_native_id(get_native_id());
    registry().lock().insert(info.ident(), info.clone());
    Registration(info)
}

/// The process's first thread, named `"MainThread"`: Python's `threading.main_thread()`.
///
/// # Platform-specific behavior
///
/// On Linux and Android the main thread is recognised from any thread (its kernel id is the
/// process id). Elsewhere spindle recognises it by the name `"main"` the Rust runtime gives
/// it, and its [`native_id`](ThreadInfo::native_id) is known once it has called into spindle.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::main_thread;
///
/// assert_eq!(main_thread().name(), "MainThread");
/// assert!(!main_thread().is_daemon());
/// ```
pub fn main_thread() -> ThreadInfo {
    main_info().clone()
}

/// Every live thread: spindle's, the main thread, and foreign threads that asked for
/// [`current_thread`]; Python's `threading.enumerate()`. Ordered by ident (start order).
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{enumerate, main_thread, Event, Thread};
/// use std::sync::Arc;
///
/// let stop = Arc::new(Event::new());
/// let s2 = Arc::clone(&stop);
/// let t = Thread::builder().name("listed").spawn(move || s2.wait()).unwrap();
/// let names: Vec<String> = enumerate().iter().map(|i| i.name().to_owned()).collect();
/// assert!(names.iter().any(|n| n == "listed"));
/// assert!(enumerate().contains(&main_thread()));
/// stop.set();
/// t.join().unwrap();
/// ```
pub fn enumerate() -> Vec<ThreadInfo> {
    registry().lock().values().cloned().collect()
}

/// How many threads [`enumerate`] would list: Python's `threading.active_count()`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::active_count;
///
/// assert!(active_count() >= 1); // the main thread at least
/// ```
pub fn active_count() -> usize {
    registry().lock().len()
}
