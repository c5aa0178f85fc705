//! [`RwLock`]: a writer-preferring reader-writer lock that owns its data, with parking_lot's
//! method names (Python has no reader-writer lock; DESIGN keeps the Rust names).

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use super::deadline;
use super::deadlock::{Access, AcquireError};
use super::raw_rwlock::RawRwLock;

/// Many readers or one writer, writers first: spindle's reader-writer lock.
///
/// Once a writer waits, new readers wait behind it, so a stream of readers cannot starve
/// writers (a stream of writers can starve readers). Guards release on drop, also during a
/// panic (no poisoning). Uncontended `read` and `write` are one CAS.
///
/// # Differences from Python
///
/// Python's `threading` has no reader-writer lock; this one keeps parking_lot's names
/// (`read`, `write`, `try_read_for`, ...). A thread that takes a read hold twice while a
/// writer waits deadlocks, as with parking_lot's `RwLock`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::RwLock;
///
/// let config = RwLock::new(vec![1, 2]);
/// {
///     let a = config.read();
///     let b = config.read(); // readers share
///     assert_eq!(a.len() + b.len(), 4);
/// }
/// config.write().push(3);
/// assert_eq!(*config.read(), [1, 2, 3]);
/// ```
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    data: UnsafeCell<T>,
}

// SAFETY:
// - moving the lock moves the `T` it owns: needs `T: Send`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY:
// - readers on several threads share `&T` (needs `T: Sync`); a writer gets `&mut T` on
//   whichever thread holds the write guard (needs `T: Send`), as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// static SETTINGS: RwLock<u32> = RwLock::new(3);
    /// assert_eq!(*SETTINGS.read(), 3);
    /// ```
    pub const fn new(value: T) -> Self {
        Self {
            raw: RawRwLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// The same lock, named `name` for diagnostics (see
    /// [`Lock::with_name`](super::Lock::with_name) for where the name shows and what it costs).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// static ROUTES: RwLock<Vec<u16>> = RwLock::new(Vec::new()).with_name("routes");
    /// assert!(ROUTES.read().is_empty());
    /// ```
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.raw.set_name(name);
        self
    }

    /// The same lock at `level` for the lock-order checker (see
    /// [`Lock::with_level`](super::Lock::with_level)); read and write holds both count.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(0).with_name("config").with_level(5);
    /// assert_eq!(*l.read(), 0);
    /// ```
    pub const fn with_level(mut self, level: u32) -> Self {
        self.raw.set_level(level);
        self
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// assert_eq!(RwLock::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// # Safety
    /// The caller took a read hold on `self.raw` and hands it to the guard.
    unsafe fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard { lock: self }
    }

    /// # Safety
    /// The caller took the write hold on `self.raw` and hands it to the guard.
    unsafe fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard { lock: self }
    }

    /// Waits for shared access.
    ///
    /// # Panics
    ///
    /// If the number of readers would overflow its field (over 2^40 on 64-bit targets).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(1);
    /// assert_eq!(*l.read(), 1);
    /// ```
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let got = self.raw.read_until(None);
        debug_assert!(got);
        // SAFETY:
        // - the read hold was taken on the line above.
        unsafe { self.read_guard() }
    }

    /// Waits for exclusive access.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let got = self.raw.write_until(None);
        debug_assert!(got);
        // SAFETY:
        // - the write hold was taken on the line above.
        unsafe { self.write_guard() }
    }

    /// Shared access if no writer holds or waits for the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        if self.raw.try_read() {
            // SAFETY:
            // - the read hold was taken just above.
            Some(unsafe { self.read_guard() })
        } else {
            None
        }
    }

    /// Exclusive access if the lock is free now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let r = l.read();
    /// assert!(l.try_write().is_none());
    /// drop(r);
    /// assert!(l.try_write().is_some());
    /// ```
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        if self.raw.try_write() {
            // SAFETY:
            // - the write hold was taken just above.
            Some(unsafe { self.write_guard() })
        } else {
            None
        }
    }

    /// Shared access, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let _w = l.write();
    /// assert!(l.try_read_for(Duration::from_millis(5)).is_none());
    /// ```
    pub fn try_read_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        if self.raw.try_read() || self.raw.read_until(deadline::after(timeout)) {
            // SAFETY:
            // - the read hold was taken just above.
            Some(unsafe { self.read_guard() })
        } else {
            None
        }
    }

    /// Exclusive access, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let _r = l.read();
    /// assert!(l.try_write_for(Duration::from_millis(5)).is_none());
    /// ```
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        if self.raw.try_write() || self.raw.write_until(deadline::after(timeout)) {
            // SAFETY:
            // - the write hold was taken just above.
            Some(unsafe { self.write_guard() })
        } else {
            None
        }
    }

    /// [`try_read_for`](RwLock::try_read_for) that says why it failed; see
    /// [`Lock::acquire_timeout_checked`](super::Lock::acquire_timeout_checked).
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`], or [`AcquireError::Deadlock`] with the wait chain when the
    /// wait is part of a cycle (with the `deadlock-detection` feature) — such as re-reading
    /// a lock this thread reads while a writer waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{AcquireError, RwLock};
    ///
    /// let l = RwLock::new(1);
    /// let w = l.write();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = l.try_read_for_checked(Duration::from_millis(5)).unwrap_err();
    ///         assert_eq!(err, AcquireError::Timeout);
    ///     });
    /// });
    /// drop(w);
    /// assert_eq!(*l.try_read_for_checked(Duration::from_millis(5)).unwrap(), 1);
    /// ```
    pub fn try_read_for_checked(
        &self,
        timeout: Duration,
    ) -> Result<RwLockReadGuard<'_, T>, AcquireError> {
        self.try_read_for(timeout)
            .ok_or_else(|| self.raw.timed_out(Access::Shared))
    }

    /// [`try_write_for`](RwLock::try_write_for) that says why it failed; see
    /// [`Lock::acquire_timeout_checked`](super::Lock::acquire_timeout_checked).
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`], or [`AcquireError::Deadlock`] with the wait chain when the
    /// wait is part of a cycle (with the `deadlock-detection` feature).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_sync::threading::{AcquireError, RwLock};
    ///
    /// let l = RwLock::new(1);
    /// let r = l.read();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = l.try_write_for_checked(Duration::from_millis(5)).unwrap_err();
    ///         assert_eq!(err, AcquireError::Timeout);
    ///     });
    /// });
    /// drop(r);
    /// *l.try_write_for_checked(Duration::from_millis(5)).unwrap() += 1;
    /// ```
    pub fn try_write_for_checked(
        &self,
        timeout: Duration,
    ) -> Result<RwLockWriteGuard<'_, T>, AcquireError> {
        self.try_write_for(timeout)
            .ok_or_else(|| self.raw.timed_out(Access::Exclusive))
    }

    /// Mutable access without locking: the `&mut` proves nobody else holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let mut l = RwLock::new(1);
    /// *l.get_mut() = 2;
    /// assert_eq!(*l.read(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether a reader or writer holds the lock now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(());
    /// let _r = l.read();
    /// assert!(l.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether a writer holds the lock now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::RwLock;
    ///
    /// let l = RwLock::new(());
    /// let _w = l.write();
    /// assert!(l.is_locked_exclusive());
    /// ```
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("raw", &self.raw)
            .finish_non_exhaustive()
    }
}

/// Shared access to an [`RwLock`]'s data, ended on drop.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::RwLock;
///
/// let l = RwLock::new(String::from("hi"));
/// let guard = l.read();
/// assert_eq!(guard.len(), 2);
/// ```
#[must_use = "if unused the read hold ends at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY:
        // - this guard owns a read hold, so no writer has `&mut T` until it drops.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY:
        // - this guard owns exactly one read hold, ended once here.
        unsafe { self.lock.raw.read_unlock() };
    }
}

impl<T: ?Sized> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockReadGuard").finish_non_exhaustive()
    }
}

/// Exclusive access to an [`RwLock`]'s data, ended on drop.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::RwLock;
///
/// let l = RwLock::new(String::from("hi"));
/// l.write().push('!');
/// assert_eq!(*l.read(), "hi!");
/// ```
#[must_use = "if unused the write hold ends at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY:
        // - this guard owns the write hold: nobody else reaches the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY:
        // - this guard owns the write hold and is borrowed mutably: the `&mut T` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY:
        // - this guard owns the write hold, ended once here.
        unsafe { self.lock.raw.write_unlock() };
    }
}

impl<T: ?Sized> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockWriteGuard").finish_non_exhaustive()
    }
}
