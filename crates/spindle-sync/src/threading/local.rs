//! [`Local`]: Python's `threading.local`, one value per thread and per `Local`.
//!
//! Built by hand rather than on the `thread_local` crate: each thread keeps a map from a
//! `Local`'s id (from a global counter, never reused) to its value. So a value is created
//! and dropped on its own thread (no `T: Send` needed), dropped when its thread exits, and a
//! new thread always starts from `init`, as in Python — the `thread_local` crate keeps the
//! values of exited threads until the `ThreadLocal` drops and hands a recycled thread slot's
//! value to the next thread, and it requires `T: Send`. The values of a dropped `Local` on
//! other threads are removed the next time such a thread creates a value, or at its exit.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One thread's value of one `Local`, with a token saying whether the `Local` still exists.
struct Slot {
    alive: Weak<()>,
    value: Box<dyn Any>,
}

thread_local! {
    static SLOTS: RefCell<HashMap<u64, Slot>> = RefCell::new(HashMap::new());
}

/// A value with a separate instance per thread: Python's `threading.local`.
///
/// Each thread that calls [`with`](Local::with) gets its own `RefCell<T>`, made by `init`
/// the first time and dropped when the thread exits. Threads never see each other's values.
///
/// # Panics
///
/// [`with`](Local::with) panics if called while its own thread is being torn down (from
/// another thread-local's destructor).
///
/// # Differences from Python
///
/// Python's `local` holds arbitrary attributes; here the value is one `T`, made by `init`
/// (Python's subclass `__init__`), reached through a `RefCell`.
///
/// # Examples
///
/// ```
/// use spindle_sync::threading::Local;
///
/// let counter = Local::new(|| 0u32);
/// counter.with(|c| *c.borrow_mut() += 5);
/// std::thread::scope(|s| {
///     s.spawn(|| counter.with(|c| assert_eq!(*c.borrow(), 0))); // a fresh value
/// });
/// counter.with(|c| assert_eq!(*c.borrow(), 5));
/// ```
pub struct Local<T: 'static> {
    id: u64,
    alive: Arc<()>,
    init: Box<dyn Fn() -> T + Send + Sync>,
    _values: PhantomData<fn() -> T>,
}

impl<T: 'static> Local<T> {
    /// A new thread-local value made by `init` on each thread's first use; Python's
    /// `threading.local()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Local;
    ///
    /// let buf = Local::new(|| Vec::<u8>::with_capacity(64));
    /// buf.with(|b| assert!(b.borrow().is_empty()));
    /// ```
    pub fn new(init: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            init: Box::new(init),
            _values: PhantomData,
        }
    }

    /// Runs `f` with this thread's value, creating it with `init` on first use.
    ///
    /// `f` may use other `Local`s, and this one again (the `RefCell` then decides what
    /// borrows are allowed).
    ///
    /// # Panics
    ///
    /// If called during this thread's thread-local teardown, or if `init` or `f` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_sync::threading::Local;
    ///
    /// let name = Local::new(String::new);
    /// name.with(|n| n.borrow_mut().push_str("worker"));
    /// assert_eq!(name.with(|n| n.borrow().clone()), "worker");
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&RefCell<T>) -> R) -> R {
        SLOTS.with(|slots| {
            let existing = slots.borrow().get(&self.id).map(slot_ptr::<T>);
            let ptr = match existing {
                Some(ptr) => ptr,
                None => self.insert(slots),
            };
            // SAFETY:
            // - `ptr` points into a `Box` owned by this thread's map entry for `self.id`. The
            //   entry is removed only by `Local::drop` (impossible: `self` is borrowed for this
            //   call), by a purge of entries whose `Local` is gone (same), or at thread exit
            //   (not during this call). Moving the map does not move the boxed value.
            // - only this thread reaches its map, so the `&RefCell<T>` is not shared.
            f(unsafe { &*ptr })
        })
    }

    #[cold]
    fn insert(&self, slots: &RefCell<HashMap<u64, Slot>>) -> *const RefCell<T> {
        // Call `init` with the map unborrowed: it may use other `Local`s.
        let value: Box<dyn Any> = Box::new(RefCell::new((self.init)()));
        let mut map = slots.borrow_mut();
        // Drop values of `Local`s that are gone, outside the borrow below (their drops may
        // use other `Local`s).
        let dead: Vec<u64> = map
            .iter()
            .filter(|(_, s)| s.alive.strong_count() == 0)
            .map(|(id, _)| *id)
            .collect();
        let stale: Vec<Slot> = dead.iter().filter_map(|id| map.remove(id)).collect();
        let slot = map.entry(self.id).or_insert(Slot {
            alive: Arc::downgrade(&self.alive),
            value,
        });
        let ptr = slot_ptr::<T>(slot);
        drop(map);
        drop(stale);
        ptr
    }
}

fn slot_ptr<T: 'static>(slot: &Slot) -> *const RefCell<T> {
    slot.value
        .downcast_ref::<RefCell<T>>()
        .expect("Local slot holds the type its id was created with")
}

impl<T: 'static> Drop for Local<T> {
    fn drop(&mut self) {
        // This thread's value goes now; other threads' on their next insert or at exit.
        let removed = SLOTS.try_with(|slots| slots.borrow_mut().remove(&self.id));
        drop(removed);
    }
}

impl<T: 'static> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
