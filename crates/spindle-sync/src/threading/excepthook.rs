//! [`set_excepthook`]: where a panic that ends a [`Thread`](super::Thread) is reported,
//! Python's `threading.excepthook`.

use std::any::Any;
use std::fmt;
use std::io::Write;

use parking_lot::RwLock;

use super::thread_info::ThreadInfo;

/// The signature of a thread exception hook.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use spindle_sync::threading::{set_excepthook, ExceptHook, ExceptHookArgs, Thread};
///
/// static PANICS: AtomicUsize = AtomicUsize::new(0);
/// fn count(_: &ExceptHookArgs<'_>) {
///     PANICS.fetch_add(1, Ordering::SeqCst);
/// }
/// let hook: ExceptHook = count;
/// let previous = set_excepthook(hook);
/// let t = Thread::builder().spawn(|| -> () { panic!("counted") }).unwrap();
/// assert!(t.join().is_err());
/// set_excepthook(previous);
/// assert_eq!(PANICS.load(Ordering::SeqCst), 1);
/// ```
pub type ExceptHook = fn(&ExceptHookArgs<'_>);

/// What a thread exception hook is told: Python's `threading.ExceptHookArgs`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
///
/// fn log(args: &ExceptHookArgs<'_>) {
///     assert_eq!(args.thread().name(), "logged");
///     assert_eq!(args.message(), "oops");
///     assert!(args.payload().downcast_ref::<&str>().is_some());
/// }
/// let previous = set_excepthook(log);
/// let t = Thread::builder().name("logged").spawn(|| -> () { panic!("oops") }).unwrap();
/// assert!(t.join().is_err());
/// set_excepthook(previous);
/// ```
pub struct ExceptHookArgs<'a> {
    pub(crate) thread: &'a ThreadInfo,
    pub(crate) message: &'a str,
    pub(crate) payload: &'a (dyn Any + Send),
}

impl ExceptHookArgs<'_> {
    /// The thread whose closure panicked: Python's `args.thread`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// static SEEN: Mutex<String> = Mutex::new(String::new());
    /// fn hook(args: &ExceptHookArgs<'_>) {
    ///     *SEEN.lock().unwrap() = args.thread().name().to_owned();
    /// }
    /// let previous = set_excepthook(hook);
    /// let t = Thread::builder().name("named").spawn(|| -> () { panic!("x") }).unwrap();
    /// assert!(t.join().is_err());
    /// set_excepthook(previous);
    /// assert_eq!(*SEEN.lock().unwrap(), "named");
    /// ```
    pub fn thread(&self) -> &ThreadInfo {
        self.thread
    }

    /// The panic message: Python's `str(args.exc_value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// static SEEN: Mutex<String> = Mutex::new(String::new());
    /// fn hook(args: &ExceptHookArgs<'_>) {
    ///     *SEEN.lock().unwrap() = args.message().to_owned();
    /// }
    /// let previous = set_excepthook(hook);
    /// let t = Thread::spawn(|| -> () { panic!("out of range: {}", 7) }).unwrap();
    /// assert!(t.join().is_err());
    /// set_excepthook(previous);
    /// assert_eq!(*SEEN.lock().unwrap(), "out of range: 7");
    /// ```
    pub fn message(&self) -> &str {
        self.message
    }

    /// The panic payload, for hooks that downcast it: Python's `args.exc_value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
    ///
    /// static SEEN: Mutex<Option<u32>> = Mutex::new(None);
    /// fn hook(args: &ExceptHookArgs<'_>) {
    ///     *SEEN.lock().unwrap() = args.payload().downcast_ref::<u32>().copied();
    /// }
    /// let previous = set_excepthook(hook);
    /// let t = Thread::spawn(|| std::panic::panic_any(42u32)).unwrap();
    /// assert!(t.join().is_err());
    /// set_excepthook(previous);
    /// assert_eq!(*SEEN.lock().unwrap(), Some(42));
    /// ```
    pub fn payload(&self) -> &(dyn Any + Send) {
        self.payload
    }
}

impl fmt::Debug for ExceptHookArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptHookArgs")
            .field("thread", &self.thread.name())
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

static HOOK: RwLock<ExceptHook> = parking_lot::const_rwlock(default_excepthook);

/// Installs `hook` as the handler of panics that end spindle threads and returns the one it
/// replaces: Python's `threading.excepthook = hook`.
///
/// The hook runs on the panicking thread, after the panic unwound out of the thread's
/// closure and before [`Thread::join`](super::Thread::join) can return the
/// [`Panicked`](super::Panicked) error; the thread still counts as alive while it runs. A
/// panic inside the hook is caught and printed.
///
/// # Differences from Python
///
/// Rust's own panic hook (`std::panic::set_hook`) still runs first, at the panic site; this
/// hook is the thread-level report that Python prints.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{set_excepthook, ExceptHookArgs, Thread};
///
/// fn quiet(_: &ExceptHookArgs<'_>) {}
/// let previous = set_excepthook(quiet);
/// let t = Thread::builder().spawn(|| -> () { panic!("boom") }).unwrap();
/// assert_eq!(t.join().unwrap_err().message(), "boom");
/// set_excepthook(previous);
/// ```
pub fn set_excepthook(hook: ExceptHook) -> ExceptHook {
    std::mem::replace(&mut *HOOK.write(), hook)
}

/// The hook in force now: Python's `threading.excepthook`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{excepthook, set_excepthook, ExceptHook, ExceptHookArgs};
///
/// fn quiet(_: &ExceptHookArgs<'_>) {}
/// let previous = set_excepthook(quiet);
/// assert!(std::ptr::fn_addr_eq(excepthook(), quiet as ExceptHook));
/// set_excepthook(previous);
/// assert!(std::ptr::fn_addr_eq(excepthook(), previous));
/// ```
pub fn excepthook() -> ExceptHook {
    *HOOK.read()
}

/// The hook spindle starts with, which prints like Python to standard error:
/// `Exception in thread NAME:` then the panic message. Python's `threading.__excepthook__`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::{default_excepthook, excepthook, set_excepthook, ExceptHook};
///
/// // spindle starts with it; `set_excepthook(default_excepthook)` puts it back.
/// assert!(std::ptr::fn_addr_eq(excepthook(), default_excepthook as ExceptHook));
/// fn quiet(_: &spindle_sync::threading::ExceptHookArgs<'_>) {}
/// set_excepthook(quiet);
/// set_excepthook(default_excepthook);
/// assert!(std::ptr::fn_addr_eq(excepthook(), default_excepthook as ExceptHook));
/// ```
pub fn default_excepthook(args: &ExceptHookArgs<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "Exception in thread {}:\npanicked: {}",
        args.thread().name(),
        args.message()
    );
}

/// Runs the installed hook for a panic of `thread`.
pub(crate) fn report(thread: &ThreadInfo, payload: &(dyn Any + Send)) {
    let message = super::error::panic_message(payload);
    let args = ExceptHookArgs {
        thread,
        message: &message,
        payload,
    };
    let hook = excepthook();
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&args))).is_err() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "Exception in threading.excepthook for thread {}",
            thread.name()
        );
    }
}
