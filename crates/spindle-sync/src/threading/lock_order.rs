//! The lock-order checker (with the `deadlock-detection` feature, in debug builds): reports
//! an acquisition that breaks the declared or learned order *before* it can deadlock.
//!
//! Two rules, checked each time a thread starts a blocking acquire while it holds other
//! tracked locks (`try_` forms cannot deadlock and are not checked, as in Linux's lockdep):
//!
//! - **levels**: a lock given a level with `with_level(n)` may only be taken while every
//!   held lock that has a level has a *smaller* one (strictly increasing: two locks of the
//!   same level have no declared order, so holding both is reported);
//! - **names** (lockdep's learned order): a name acts as a lock class. The first time a
//!   thread takes a lock named `b` while holding one named `a`, "`a` before `b`" is learned;
//!   taking `a` while holding `b` later, on any thread, is an inversion and is reported with
//!   who established the order. Unnamed locks take no part (addresses are reused).
//!
//! A violation goes to the hook set with [`set_violation_hook`] (default:
//! [`default_violation_hook`], which prints the report to stderr), once per pair of locks
//! (by name, or address when unnamed). A hook that panics turns violations into test
//! failures; it runs before the acquire blocks and with no internal lock held.
//!
//! This module exists with the `deadlock-detection` feature; the checks run in debug builds
//! (`debug_assertions`) only.

use std::backtrace::Backtrace;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use super::deadlock::{cycle::user_frames, LockInfo, LockMeta};

/// Which rule a [`LockOrderViolation`] broke.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
/// use spindle_sync::threading::lock_order::OrderRule;
/// use spindle_sync::threading::Lock;
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
/// let outer = Lock::named("outer").with_level(2);
/// let inner = Lock::named("inner").with_level(1);
/// {
///     let _o = outer.lock();
///     let _i = inner.lock(); // level 1 while holding level 2
/// }
/// take_violation_hook();
/// if cfg!(debug_assertions) {
///     let v = &seen.lock().unwrap()[0];
///     assert!(matches!(v.rule(), OrderRule::Level));
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OrderRule {
    /// The acquired lock's level is not above the held lock's level.
    Level,
    /// The two named locks were taken the other way round before; `thread` did that first.
    Inversion {
        /// Name of the thread that first took them in the learned order.
        thread: String,
        /// Where it took the second of them, when backtraces were captured.
        backtrace: Option<Arc<Backtrace>>,
    },
}

/// A thread started to acquire a lock out of the declared or learned order.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
/// use spindle_sync::threading::Lock;
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// set_violation_hook(move |v| sink.lock().unwrap().push(v.to_string()));
/// let outer = Lock::named("doc-outer").with_level(2);
/// let inner = Lock::named("doc-inner").with_level(1);
/// {
///     let _o = outer.lock();
///     let _i = inner.lock(); // level 1 while holding level 2
/// }
/// take_violation_hook();
/// if cfg!(debug_assertions) {
///     assert!(seen.lock().unwrap()[0].contains("\"doc-inner\" (level 1)"));
/// }
/// ```
#[derive(Debug, Clone)]
pub struct LockOrderViolation {
    pub(crate) thread: String,
    pub(crate) ident: u64,
    pub(crate) acquiring: LockInfo,
    pub(crate) held: LockInfo,
    pub(crate) held_backtrace: Option<Arc<Backtrace>>,
    pub(crate) rule: OrderRule,
}

impl LockOrderViolation {
    /// Name of the thread that broke the order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     assert_eq!(v.thread_name(), spindle_sync::threading::current_thread().name());
    /// }
    /// ```
    pub fn thread_name(&self) -> &str {
        &self.thread
    }

    /// Ident of the thread that broke the order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     assert_eq!(v.thread_ident(), spindle_sync::threading::get_ident());
    /// }
    /// ```
    pub fn thread_ident(&self) -> u64 {
        self.ident
    }

    /// The lock it was about to acquire.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     assert_eq!((v.acquiring().name(), v.acquiring().level()), (Some("inner"), Some(1)));
    /// }
    /// ```
    pub fn acquiring(&self) -> &LockInfo {
        &self.acquiring
    }

    /// The lock it held, which should have come after.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     assert_eq!((v.held().name(), v.held().level()), (Some("outer"), Some(2)));
    /// }
    /// ```
    pub fn held(&self) -> &LockInfo {
        &self.held
    }

    /// Where the held lock was taken, when backtraces were captured.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     // Backtraces are off unless asked for (`set_backtrace_capture`).
    ///     assert!(v.held_backtrace().is_none());
    /// }
    /// ```
    pub fn held_backtrace(&self) -> Option<&Backtrace> {
        self.held_backtrace.as_deref()
    }

    /// The rule broken.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
    /// use spindle_sync::threading::lock_order::OrderRule;
    /// # use spindle_sync::threading::Lock;
    /// #
    /// # let seen = Arc::new(Mutex::new(Vec::new()));
    /// # let sink = Arc::clone(&seen);
    /// # set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
    /// # let outer = Lock::named("outer").with_level(2);
    /// # let inner = Lock::named("inner").with_level(1);
    /// # {
    /// #     let _o = outer.lock();
    /// #     let _i = inner.lock(); // level 1 while holding level 2
    /// # }
    /// # take_violation_hook();
    /// # if cfg!(debug_assertions) {
    /// #     let v = &seen.lock().unwrap()[0];
    ///     assert!(matches!(v.rule(), OrderRule::Level));
    /// }
    /// ```
    pub fn rule(&self) -> &OrderRule {
        &self.rule
    }
}

impl fmt::Display for LockOrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lock order violation: thread {:?} (ident {}) acquires {} while holding {}",
            self.thread, self.ident, self.acquiring, self.held
        )?;
        match &self.rule {
            OrderRule::Level => write!(f, "; levels must increase")?,
            OrderRule::Inversion { thread, backtrace } => {
                write!(
                    f,
                    "; thread {thread:?} took {} before {} first",
                    self.acquiring, self.held
                )?;
                if let Some(bt) = backtrace {
                    let bt = user_frames(bt);
                    write!(f, "\n  that order was established at:\n{bt}")?;
                }
            }
        }
        if let Some(bt) = &self.held_backtrace {
            let bt = user_frames(bt);
            write!(f, "\n  {} was acquired at:\n{bt}", self.held)?;
        }
        Ok(())
    }
}

type Hook = Arc<dyn Fn(&LockOrderViolation) + Send + Sync>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Sends lock-order violations to `hook` instead of stderr.
///
/// Use it to collect violations in a test, or `set_violation_hook(|v| panic!("{v}"))` to
/// fail at the offending line. The hook runs on the violating thread before its acquire
/// blocks, with no spindle-internal lock held.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
/// use spindle_sync::threading::{Lock, Thread};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// set_violation_hook(move |v| sink.lock().unwrap().push(v.to_string()));
/// let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
/// {
///     let _a = a.lock();
///     let _b = b.lock(); // learns "a before b"
/// }
/// let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
/// Thread::spawn(move || {
///     let _b = b2.lock();
///     let _a = a2.lock(); // "b before a": an inversion, reported before it can deadlock
/// })
/// .unwrap()
/// .join()
/// .unwrap();
/// take_violation_hook();
/// if cfg!(debug_assertions) {
///     assert_eq!(seen.lock().unwrap().len(), 1);
///     assert!(seen.lock().unwrap()[0].contains("took Lock \"a\" before Lock \"b\" first"));
/// }
/// ```
pub fn set_violation_hook(hook: impl Fn(&LockOrderViolation) + Send + Sync + 'static) {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
}

/// Restores the default hook ([`default_violation_hook`]); returns whether a custom hook was
/// set.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::lock_order::{set_violation_hook, take_violation_hook};
///
/// set_violation_hook(|_| {});
/// assert!(take_violation_hook());
/// assert!(!take_violation_hook());
/// ```
pub fn take_violation_hook() -> bool {
    HOOK.write()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .is_some()
}

/// The default reaction to a violation: print it to stderr.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::lock_order::{default_violation_hook, set_violation_hook};
///
/// // Print each violation, as the default does, from a hook of one's own.
/// set_violation_hook(|v| default_violation_hook(v));
/// assert!(spindle_sync::threading::lock_order::take_violation_hook());
/// ```
pub fn default_violation_hook(violation: &LockOrderViolation) {
    eprintln!("{violation}");
}

fn report(violation: &LockOrderViolation) {
    let hook = HOOK.read().unwrap_or_else(PoisonError::into_inner).clone();
    match hook {
        Some(hook) => hook(violation),
        None => default_violation_hook(violation),
    }
}

/// Checks the order before a blocking acquire of the lock at `addr` by the calling thread.
pub(crate) fn check(addr: usize, meta: &LockMeta) {
    use super::deadlock::graph;
    use super::thread_info::get_ident;

    let acquiring = LockInfo::new(addr, meta);
    if acquiring.level().is_none() && acquiring.name().is_none() {
        return;
    }
    let me = get_ident();
    // Taken before the table's lock, which must never wait for another lock: the thread
    // registry's (on a thread's first call) or the backtrace machinery's.
    let thread = super::thread_info::current_thread();
    let here = if acquiring.name().is_some() {
        graph::capture()
    } else {
        None
    };
    let mut found = Vec::new();
    {
        let mut s = graph::state();
        let held: Vec<graph::Hold> = s
            .holders
            .values()
            .flatten()
            .filter(|h| h.thread == me && h.lock.addr() != addr)
            .cloned()
            .collect();
        for h in held {
            let key = (h.lock.identity(), acquiring.identity());
            if key.0 == key.1 {
                continue;
            }
            let rule = match (h.lock.level(), acquiring.level()) {
                (Some(held_level), Some(level)) if level <= held_level => Some(OrderRule::Level),
                _ => None,
            };
            let rule = rule.or_else(|| {
                if h.lock.name().is_none() || acquiring.name().is_none() {
                    return None;
                }
                if let Some(w) = s.order.get(&(key.1, key.0)) {
                    return Some(OrderRule::Inversion {
                        thread: w.thread.clone(),
                        backtrace: w.backtrace.clone(),
                    });
                }
                s.order.entry(key).or_insert_with(|| graph::OrderWitness {
                    thread: thread.name().to_owned(),
                    backtrace: here.clone(),
                });
                None
            });
            if let Some(rule) = rule {
                if s.reported.insert(key) {
                    found.push(LockOrderViolation {
                        thread: thread.name().to_owned(),
                        ident: me,
                        acquiring,
                        held: h.lock,
                        held_backtrace: h.backtrace.clone(),
                        rule,
                    });
                }
            }
        }
    }
    for v in &found {
        report(v);
    }
}
