//! How the detector names a lock: [`LockInfo`] (address, kind, name, level) in reports, and
//! [`LockMeta`], the name and level a raw lock carries — a zero-sized type when the
//! `deadlock-detection` feature is off, so the lock words keep their size.

use std::fmt;

/// Which spindle lock a [`LockInfo`] describes.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::deadlock::LockKind;
///
/// assert_eq!(LockKind::RwLock.to_string(), "RwLock");
/// assert!(LockKind::Lock < LockKind::RLock);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LockKind {
    /// A [`Lock`](crate::threading::Lock) (also under a [`Condition`](crate::threading::Condition)).
    Lock,
    /// An [`RLock`](crate::threading::RLock).
    RLock,
    /// An [`RwLock`](crate::threading::RwLock).
    RwLock,
}

impl fmt::Display for LockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lock => "Lock",
            Self::RLock => "RLock",
            Self::RwLock => "RwLock",
        })
    }
}

/// How a thread holds or wants a lock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::{Access, AcquireError};
/// use spindle_sync::threading::RwLock;
///
/// let lock = RwLock::new(0);
/// let _reading = lock.read();
/// // Waiting to write a lock this thread reads: a cycle of one (with the feature on).
/// match lock.try_write_for_checked(Duration::from_millis(1)) {
///     Err(AcquireError::Deadlock(cycle)) => {
///         assert_eq!(cycle.threads()[0].wait_access(), Access::Exclusive);
///     }
///     Err(e) => assert_eq!(e, AcquireError::Timeout), // the feature is off
///     Ok(_) => unreachable!("a reader holds the lock"),
/// }
/// assert_ne!(Access::Exclusive, Access::Shared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Alone: a `Lock`, an `RLock`, an `RwLock` write hold.
    Exclusive,
    /// Shared with other readers: an `RwLock` read hold.
    Shared,
}

/// A lock as the detector reports it: its kind, its address, and the name and level it was
/// given with `named` / `with_name` / `with_level`.
///
/// The address identifies the lock while it does not move; a lock moved while held is not
/// followed.
///
/// # Examples
///
/// Reports list the locks of a cycle (the cycle is only ever found with the feature on):
///
/// ```
/// use std::time::Duration;
/// use spindle_sync::threading::deadlock::{AcquireError, LockKind};
/// use spindle_sync::threading::Lock;
///
/// let lock = Lock::named("accounts");
/// let _held = lock.lock();
/// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
///     Err(AcquireError::Deadlock(cycle)) => {
///         // This thread waits for a `Lock` it holds itself: a cycle of one.
///         let info = cycle.threads()[0].waits_for();
///         assert_eq!((info.kind(), info.name()), (LockKind::Lock, Some("accounts")));
///     }
///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockInfo {
    addr: usize,
    kind: LockKind,
    name: Option<&'static str>,
    level: Option<u32>,
}

impl LockInfo {
    #[cfg(feature = "deadlock-detection")]
    pub(crate) fn new(addr: usize, meta: &LockMeta) -> Self {
        Self {
            addr,
            kind: meta.kind,
            name: meta.name,
            level: meta.level,
        }
    }

    /// The lock's address (its lock word) while it was observed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         // Unnamed locks are told apart by address (of the lock word inside `lock`).
    ///         let addr = cycle.threads()[0].waits_for().addr();
    ///         let start = &lock as *const Lock as usize;
    ///         assert!((start..start + std::mem::size_of::<Lock>()).contains(&addr));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Which spindle lock type it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::{AcquireError, LockKind};
    /// use spindle_sync::threading::RwLock;
    ///
    /// let lock = RwLock::new(());
    /// let _writing = lock.write();
    /// match lock.try_write_for_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].waits_for().kind(), LockKind::RwLock);
    ///     }
    ///     Err(e) => assert_eq!(e, AcquireError::Timeout), // the feature is off
    ///     Ok(_) => unreachable!("this thread writes"),
    /// };
    /// ```
    pub fn kind(&self) -> LockKind {
        self.kind
    }

    /// The name it was given, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// let lock = Lock::new().with_name("cache");
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].waits_for().name(), Some("cache"));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// The level it was given, if any (see the `lock_order`
    /// checker).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::deadlock::AcquireError;
    /// use spindle_sync::threading::Lock;
    ///
    /// // Holding a level-5 lock while taking it again also breaks the level order: silence that.
    /// #[cfg(feature = "deadlock-detection")]
    /// spindle_sync::threading::lock_order::set_violation_hook(|_| {});
    /// let lock = Lock::new().with_level(5);
    /// let _held = lock.lock();
    /// match lock.acquire_timeout_checked(Duration::from_millis(1)) {
    ///     Err(AcquireError::Deadlock(cycle)) => {
    ///         assert_eq!(cycle.threads()[0].waits_for().level(), Some(5));
    ///     }
    ///     other => assert_eq!(other, Err(AcquireError::Timeout)), // the feature is off
    /// }
    /// ```
    pub fn level(&self) -> Option<u32> {
        self.level
    }

    /// The name when there is one, else the address: what reports print and what the
    /// lock-order checker treats as the lock's identity.
    #[cfg(feature = "deadlock-detection")]
    pub(crate) fn identity(&self) -> LockIdentity {
        match self.name {
            Some(name) => LockIdentity::Name(name),
            None => LockIdentity::Addr(self.addr),
        }
    }
}

/// A lock's identity across its lifetime: a name, or the address of an unnamed lock.
#[cfg(feature = "deadlock-detection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LockIdentity {
    Name(&'static str),
    Addr(usize),
}

impl fmt::Display for LockInfo {
    /// `Lock "accounts" (level 1)`, or `RLock at 0x7ffd5a2c` for an unnamed lock.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => write!(f, "{} {name:?}", self.kind)?,
            None => write!(f, "{} at {:#x}", self.kind, self.addr)?,
        }
        if let Some(level) = self.level {
            write!(f, " (level {level})")?;
        }
        Ok(())
    }
}

/// The name, level and kind a raw lock carries for the detector; zero-sized without the
/// `deadlock-detection` feature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockMeta {
    #[cfg(feature = "deadlock-detection")]
    kind: LockKind,
    #[cfg(feature = "deadlock-detection")]
    name: Option<&'static str>,
    #[cfg(feature = "deadlock-detection")]
    level: Option<u32>,
}

impl LockMeta {
    /// No name, no level.
    #[inline]
    pub(crate) const fn new(kind: LockKind) -> Self {
        #[cfg(not(feature = "deadlock-detection"))]
        let _ = kind;
        Self {
            #[cfg(feature = "deadlock-detection")]
            kind,
            #[cfg(feature = "deadlock-detection")]
            name: None,
            #[cfg(feature = "deadlock-detection")]
            level: None,
        }
    }

    /// The same, named `name` (kept only with the feature on).
    #[inline]
    pub(crate) const fn with_name(self, name: &'static str) -> Self {
        #[cfg(feature = "deadlock-detection")]
        {
            let mut this = self;
            this.name = Some(name);
            this
        }
        #[cfg(not(feature = "deadlock-detection"))]
        {
            let _ = name;
            self
        }
    }

    /// The same, at `level` (kept only with the feature on).
    #[inline]
    pub(crate) const fn with_level(self, level: u32) -> Self {
        #[cfg(feature = "deadlock-detection")]
        {
            let mut this = self;
            this.level = Some(level);
            this
        }
        #[cfg(not(feature = "deadlock-detection"))]
        {
            let _ = level;
            self
        }
    }
}
