//! [`Thread`] and its [`Builder`]: Python's `threading.Thread`.

use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::Panicked;
use super::excepthook;
use super::thread_info::{self, current_thread, Kind, ThreadInfo};

/// An owning handle to a thread spindle started: Python's `threading.Thread`.
///
/// Build one with [`Thread::builder`] (name, daemon flag, stack size) or
/// [`Thread::spawn`]; the thread starts at once (Python's `start()`). The closure's value
/// comes back from [`join`](Thread::join); a panic comes back as [`Panicked`] after the
/// [exception hook](super::set_excepthook) has reported it. Dropping the handle detaches the
/// thread; [`shutdown`](super::shutdown) still waits for it unless it is a daemon.
///
/// # Differences from Python
///
/// Construction and `start()` are one step, so a `Thread` is never in the "not started"
/// state, and a panic is a value from `join` as well as a report to the hook.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Thread;
///
/// let t = Thread::builder().name("worker-1").daemon(true).spawn(move || 42).unwrap();
/// assert_eq!(t.name(), "worker-1");
/// assert!(t.is_daemon());
/// assert_eq!(t.join().unwrap(), 42);
/// ```
pub struct Thread<T> {
    info: ThreadInfo,
    handle: JoinHandle<Result<T, Panicked>>,
}

impl Thread<()> {
    /// A builder for a new thread; Python's `threading.Thread(name=..., daemon=...)`.
    ///
    /// An associated function of `Thread<()>` only so that no type annotation is needed; the
    /// thread's result type comes from the closure given to [`Builder::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().stack_size(256 * 1024).spawn(|| "done").unwrap();
    /// assert_eq!(t.join().unwrap(), "done");
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Starts `f` on a new thread with the default settings; Python's
    /// `Thread(target=f).start()`.
    ///
    /// # Errors
    ///
    /// The OS error if the thread could not be created.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::spawn(|| 6 * 7).unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// assert_eq!(t.join().unwrap(), 42);
    /// ```
    pub fn spawn<F, T>(f: F) -> io::Result<Thread<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Builder::new().spawn(f)
    }
}

impl<T> Thread<T> {
    /// The thread's name: Python's `thread.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().name("io").spawn(|| ()).unwrap();
    /// assert_eq!(t.name(), "io");
    /// # t.join().unwrap();
    /// ```
    pub fn name(&self) -> &str {
        self.info.name()
    }

    /// spindle's identifier of the thread, the value [`get_ident`](super::get_ident) returns
    /// on it: Python's `thread.ident`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{get_ident, Thread};
    ///
    /// let t = Thread::spawn(get_ident).unwrap();
    /// let ident = t.ident();
    /// assert_eq!(t.join().unwrap(), ident);
    /// ```
    pub fn ident(&self) -> u64 {
        self.info.ident()
    }

    /// The kernel's id of the thread: Python's `thread.native_id`.
    ///
    /// # Platform-specific behavior
    ///
    /// As for [`ThreadInfo::native_id`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{get_native_id, Thread};
    ///
    /// let t = Thread::spawn(get_native_id).unwrap();
    /// let native = t.native_id();
    /// assert_eq!(t.join().unwrap(), native);
    /// ```
    pub fn native_id(&self) -> u64 {
        self.info.native_id()
    }

    /// Whether the closure is still running (or its panic still being reported): Python's
    /// `thread.is_alive()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle_sync::threading::{Event, Thread};
    ///
    /// let stop = Arc::new(Event::new());
    /// let s = Arc::clone(&stop);
    /// let t = Thread::spawn(move || s.wait()).unwrap();
    /// assert!(t.is_alive());
    /// stop.set();
    /// assert!(t.join_timeout(std::time::Duration::from_secs(10)));
    /// assert!(!t.is_alive());
    /// # t.join().unwrap();
    /// ```
    pub fn is_alive(&self) -> bool {
        self.info.is_alive()
    }

    /// Whether the thread is a daemon, which [`shutdown`](super::shutdown) does not wait for:
    /// Python's `thread.daemon`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().daemon(true).spawn(|| ()).unwrap();
    /// assert!(t.is_daemon());
    /// # t.join().unwrap();
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.info.is_daemon()
    }

    /// The non-generic description of this thread, as [`enumerate`](super::enumerate) lists it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::spawn(|| 1).unwrap();
    /// let info = t.info().clone();
    /// t.join().unwrap();
    /// assert!(!info.is_alive());
    /// ```
    pub fn info(&self) -> &ThreadInfo {
        &self.info
    }

    /// Waits until the thread has finished or `timeout` has passed; returns whether it has
    /// finished.
    ///
    /// Python's `thread.join(timeout)` followed by `not thread.is_alive()`. After `true`,
    /// [`join`](Thread::join) returns without waiting for the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use spindle_sync::threading::{Event, Thread};
    ///
    /// let go = Arc::new(Event::new());
    /// let g = Arc::clone(&go);
    /// let t = Thread::spawn(move || g.wait()).unwrap();
    /// assert!(!t.join_timeout(Duration::from_millis(10)));
    /// go.set();
    /// assert!(t.join_timeout(Duration::from_secs(10)));
    /// t.join().unwrap();
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.info.inner.finished.wait_timeout(timeout)
    }

    /// Waits for the thread to finish and returns its closure's value: Python's
    /// `thread.join()`.
    ///
    /// # Errors
    ///
    /// [`Panicked`] with the panic message if the closure panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// # set_excepthook(|_: &ExceptHookArgs<'_>| {});
    /// let t = Thread::spawn(|| -> u8 { panic!("bad input") }).unwrap();
    /// let err = t.join().unwrap_err();
    /// assert_eq!(err.message(), "bad input");
    /// ```
    pub fn join(self) -> Result<T, Panicked> {
        let name = self.info.name().to_owned();
        match self.handle.join() {
            Ok(result) => result,
            // Only reachable if the excepthook machinery itself panicked.
            Err(payload) => Err(Panicked::new(name, payload)),
        }
    }
}

impl<T> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Settings for a new [`Thread`]: Python's `threading.Thread(...)` keyword arguments.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Thread;
///
/// let t = Thread::builder().name("io").daemon(false).spawn(|| 1).unwrap();
/// assert!(!t.is_daemon());
/// t.join().unwrap();
/// ```
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `spawn` is called"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with default settings: name `Thread-N`, daemon flag inherited from the
    /// calling thread (as in Python), the platform's stack size.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Builder;
    ///
    /// let t = Builder::new().spawn(|| 2).unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// assert_eq!(t.join().unwrap(), 2);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The thread's name: Python's `name=`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().name("db-writer").spawn(|| ()).unwrap();
    /// assert_eq!(t.name(), "db-writer");
    /// # t.join().unwrap();
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether [`shutdown`](super::shutdown) skips the thread: Python's `daemon=`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().daemon(false).spawn(|| ()).unwrap();
    /// assert!(!t.is_daemon());
    /// # t.join().unwrap();
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The new thread's stack size in bytes: Python's `threading.stack_size(n)`, per thread.
    ///
    /// A size the OS refuses makes [`spawn`](Builder::spawn) return the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Thread;
    ///
    /// let t = Thread::builder().stack_size(1 << 20).spawn(|| 3).unwrap();
    /// assert_eq!(t.join().unwrap(), 3);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts `f` on a new thread with these settings; Python's `thread.start()`.
    ///
    /// The thread is listed by [`enumerate`](super::enumerate) and
    /// [`is_alive`](Thread::is_alive) from the moment this returns.
    ///
    /// # Errors
    ///
    /// The OS error if the thread could not be created (too many threads, a stack size the
    /// OS refuses).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::{current_thread, Thread};
    ///
    /// let t = Thread::builder().name("named").spawn(|| current_thread().name().to_owned());
    /// assert_eq!(t.unwrap().join().unwrap(), "named");
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<Thread<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let daemon = self.daemon.unwrap_or_else(|| current_thread().is_daemon());
        let name = self
            .name
            .unwrap_or_else(|| format!("Thread-{}", thread_info::next_name_number()));
        let info = ThreadInfo::new(
            name.clone(),
            thread_info::new_ident(),
            daemon,
            Kind::Spindle,
        );
        thread_info::registry()
            .lock()
            .insert(info.ident(), info.clone());

        let mut std_builder = std::thread::Builder::new().name(name);
        if let Some(bytes) = self.stack_size {
            std_builder = std_builder.stack_size(bytes);
        }
        let child = info.clone();
        match std_builder.spawn(move || run(child, f)) {
            Ok(handle) => Ok(Thread { info, handle }),
            Err(e) => {
                info.set_native_id(0);
                info.finish();
                Err(e)
            }
        }
    }
}

/// The body of every spindle thread: Python's `Thread._bootstrap_inner`.
fn run<F, T>(info: ThreadInfo, f: F) -> Result<T, Panicked>
where
    F: FnOnce() -> T,
{
    thread_info::enter_spawned(&info);
    let result = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) => {
            excepthook::report(&info, &*payload);
            Err(Panicked::new(info.name().to_owned(), payload))
        }
    };
    info.finish();
    result
}
