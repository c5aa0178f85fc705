//! The lock-order checker (feature `deadlock-detection`, debug builds): acquisitions out of
//! the declared (`with_level`) or learned (`named`) order reach the violation hook before
//! they block; in-order ones, `try_` forms and `RLock` re-entry do not. The hook is global,
//! so every test holds `SERIAL` and uses lock names of its own (each pair is reported once).

#![cfg(all(feature = "deadlock-detection", debug_assertions))]

mod support;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use spindle_sync::threading::lock_order::{
    set_violation_hook, take_violation_hook, LockOrderViolation, OrderRule,
};
use spindle_sync::threading::{get_ident, Event, Lock, RLock, RwLock, Thread};
use support::LIMIT;

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds `SERIAL` and collects violations until dropped.
struct Recorder {
    seen: Arc<Mutex<Vec<LockOrderViolation>>>,
    _serial: MutexGuard<'static, ()>,
}

impl Recorder {
    fn new() -> Self {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        set_violation_hook(move |v| sink.lock().unwrap().push(v.clone()));
        Self {
            seen,
            _serial: serial,
        }
    }

    fn take(&self) -> Vec<LockOrderViolation> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        take_violation_hook();
    }
}

#[test]
fn decreasing_levels_are_reported_with_both_locks() {
    let rec = Recorder::new();
    let high = Lock::named("lvl-high").with_level(2);
    let low = Lock::named("lvl-low").with_level(1);
    {
        let _h = high.lock();
        let _l = low.lock();
    }
    let seen = rec.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let v = &seen[0];
    assert_eq!(v.acquiring().name(), Some("lvl-low"));
    assert_eq!(v.held().name(), Some("lvl-high"));
    assert_eq!(v.thread_ident(), get_ident());
    assert!(matches!(v.rule(), OrderRule::Level));
    assert_eq!(
        v.to_string(),
        format!(
            "lock order violation: thread {:?} (ident {}) acquires Lock \"lvl-low\" (level 1) \
             while holding Lock \"lvl-high\" (level 2); levels must increase",
            v.thread_name(),
            get_ident()
        )
    );
}

#[test]
fn increasing_levels_try_forms_and_reentry_are_not_reported() {
    let rec = Recorder::new();
    let one = Lock::named("ok-1").with_level(1);
    let two = RLock::named("ok-2").with_level(2);
    let three = RwLock::new(()).with_name("ok-3").with_level(3);
    {
        let _one = one.lock();
        let _two = two.lock();
        let _two_again = two.lock(); // re-entry
        let _three = three.read();
    }
    {
        // Out of order, but a `try_` cannot block, so it cannot deadlock.
        let _three = three.write();
        assert!(one.try_acquire());
        one.release().unwrap();
    }
    assert!(rec.take().is_empty());
}

#[test]
fn equal_levels_have_no_order_and_are_reported() {
    let rec = Recorder::new();
    let a = Lock::named("eq-a").with_level(4);
    let b = Lock::named("eq-b").with_level(4);
    let _a = a.lock();
    let _b = b.lock();
    let seen = rec.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].acquiring().level(), Some(4));
}

/// The report comes before the acquire blocks: here it could only time out.
#[test]
fn violation_is_reported_before_the_acquire_blocks() {
    let rec = Recorder::new();
    let outer = Arc::new(Lock::named("blk-outer").with_level(9));
    let inner = Arc::new(Lock::named("blk-inner").with_level(1));
    let holding = Arc::new(Event::new());
    let done = Arc::new(Event::new());
    let other = {
        let (inner, holding, done) = (Arc::clone(&inner), Arc::clone(&holding), Arc::clone(&done));
        Thread::builder()
            .spawn(move || {
                let _i = inner.lock();
                holding.set();
                assert!(done.wait_timeout(LIMIT));
            })
            .unwrap()
    };
    assert!(holding.wait_timeout(LIMIT));
    let _o = outer.lock();
    assert!(!inner.acquire_timeout(Duration::from_millis(5)));
    done.set();
    other.join().unwrap();
    let seen = rec.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].acquiring().name(), Some("blk-inner"));
}

/// Names learn an order from the first thread and flag the inversion on another.
#[test]
fn inverted_named_order_is_reported_once_with_who_set_it() {
    let rec = Recorder::new();
    let a = Arc::new(Lock::named("inv-a"));
    let b = Arc::new(Lock::named("inv-b"));
    let first = {
        let (a, b) = (Arc::clone(&a), Arc::clone(&b));
        Thread::builder()
            .name("teacher")
            .spawn(move || {
                let _a = a.lock();
                let _b = b.lock(); // learns inv-a before inv-b
            })
            .unwrap()
    };
    first.join().unwrap();
    assert!(rec.take().is_empty());
    for _ in 0..3 {
        let _b = b.lock();
        let _a = a.lock(); // inversion
    }
    let seen = rec.take();
    assert_eq!(seen.len(), 1, "reported once per pair: {seen:?}");
    let v = &seen[0];
    assert_eq!(
        (v.held().name(), v.acquiring().name()),
        (Some("inv-b"), Some("inv-a"))
    );
    match v.rule() {
        OrderRule::Inversion { thread, .. } => assert_eq!(thread, "teacher"),
        other => panic!("expected an inversion, got {other:?}"),
    }
    assert!(v
        .to_string()
        .contains("thread \"teacher\" took Lock \"inv-a\" before Lock \"inv-b\" first"));
}

#[test]
fn unnamed_locks_learn_no_order() {
    let rec = Recorder::new();
    let a = Lock::new();
    let b = Lock::new();
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert!(rec.take().is_empty());
}

/// A panicking hook fails the offending thread before it takes the lock.
#[test]
fn panicking_hook_stops_the_acquire() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    set_violation_hook(|v| panic!("{v}"));
    let outer = Arc::new(Lock::named("pan-outer").with_level(2));
    let inner = Arc::new(Lock::named("pan-inner").with_level(1));
    let t = {
        let (outer, inner) = (Arc::clone(&outer), Arc::clone(&inner));
        Thread::builder()
            .name("offender")
            .spawn(move || {
                let _o = outer.lock();
                let _i = inner.lock();
            })
            .unwrap()
    };
    let err = t.join().unwrap_err();
    take_violation_hook();
    assert!(
        err.message()
            .contains("acquires Lock \"pan-inner\" (level 1)"),
        "{err:?}"
    );
    assert!(!inner.locked() && !outer.locked());
}
