//! Deadlock detection (feature `deadlock-detection`): `check_deadlock` finds real cycles over
//! `Lock`, `RLock`, `RwLock` and a `Condition`'s lock with the right threads and locks, the
//! checked timeouts return the wait chain, the background checker reports once, and a plain
//! contended lock is no deadlock.
//!
//! Every deadlock is built with a `Barrier` (both threads hold their first lock before
//! either asks for the second), so it is certain; it is broken by one side's timed
//! acquire giving up. The detector is global, so every test holds `SERIAL`.

#![cfg(feature = "deadlock-detection")]

mod support;

use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use spindle_sync::threading::deadlock::{
    blocked_threads, check_deadlock, set_backtrace_capture, start_checker, Access, AcquireError,
    DeadlockCycle, LockKind,
};
use spindle_sync::threading::{Barrier, Condition, Event, Lock, RLock, RwLock, Thread};
use support::{wait_until, LIMIT};

/// One detector per process: tests that build deadlocks take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// How long one timed attempt of the side that breaks the deadlock waits.
const RETRY: Duration = Duration::from_millis(20);

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls until `check_deadlock` lists a cycle of exactly `names`; returns everything it
/// listed then.
fn cycles_with(names: &[&str]) -> Vec<DeadlockCycle> {
    let mut found = Vec::new();
    wait_until("the deadlock is detected", || {
        found = check_deadlock();
        found.iter().any(|c| {
            c.len() == names.len()
                && names
                    .iter()
                    .all(|n| c.threads().iter().any(|t| t.name() == *n))
        })
    });
    found
}

/// Spawns the two sides of a deadlock, "alice" and "bob", over the locks in `shared`. Each
/// side gets `meet`: a `Barrier` wait that returns once both took their first lock, so the
/// cycle their second acquires form is certain.
fn alice_and_bob<S, RA, RB>(
    shared: &Arc<S>,
    alice: impl FnOnce(&S, &dyn Fn()) -> RA + Send + 'static,
    bob: impl FnOnce(&S, &dyn Fn()) -> RB + Send + 'static,
) -> (Thread<RA>, Thread<RB>)
where
    S: Send + Sync + 'static,
    RA: Send + 'static,
    RB: Send + 'static,
{
    let both = Arc::new(Barrier::new(2, None));
    (
        spawn_side("alice", shared, &both, alice),
        spawn_side("bob", shared, &both, bob),
    )
}

/// One side of [`alice_and_bob`]: a thread named `name` running `side` with its `meet`.
fn spawn_side<S, R>(
    name: &str,
    shared: &Arc<S>,
    both: &Arc<Barrier>,
    side: impl FnOnce(&S, &dyn Fn()) -> R + Send + 'static,
) -> Thread<R>
where
    S: Send + Sync + 'static,
    R: Send + 'static,
{
    let (shared, both) = (Arc::clone(shared), Arc::clone(both));
    Thread::builder()
        .name(name)
        .spawn(move || {
            let meet = || {
                both.wait(Some(LIMIT)).unwrap();
            };
            side(&shared, &meet)
        })
        .unwrap()
}

/// Retries `attempt` (a checked timed acquire inside a cycle) through plain timeouts until it
/// reports the deadlock; panics with `held` if it ever succeeds.
fn until_deadlock<T>(
    held: &str,
    mut attempt: impl FnMut() -> Result<T, AcquireError>,
) -> DeadlockCycle {
    loop {
        match attempt() {
            Ok(_) => panic!("{held}"),
            Err(AcquireError::Timeout) => continue,
            Err(AcquireError::Deadlock(chain)) => break chain,
        }
    }
}

fn entry<'a>(
    cycle: &'a DeadlockCycle,
    name: &str,
) -> &'a spindle_sync::threading::deadlock::DeadlockedThread {
    cycle.threads().iter().find(|t| t.name() == name).unwrap()
}

/// Two threads, two `Lock`s, opposite order: "alice" blocks for good on `b`; "bob" retries
/// `a` with a timeout until `stop`, then gives `b` up.
#[test]
fn lock_cycle_is_found_with_both_threads_and_locks() {
    let _s = serial();
    let shared = Arc::new((Lock::named("det-a"), Lock::named("det-b"), Event::new()));
    let (alice, bob) = alice_and_bob(
        &shared,
        |(a, b, _), meet| {
            let _a = a.lock();
            meet();
            let _b = b.lock();
        },
        |(a, b, stop), meet| {
            b.acquire();
            meet();
            while !stop.is_set() {
                assert!(!a.acquire_timeout(RETRY), "a is held by alice");
            }
            b.release().unwrap();
        },
    );
    let all = cycles_with(&["alice", "bob"]);
    shared.2.set();
    let (alice_id, bob_id) = (alice.ident(), bob.ident());
    alice.join().unwrap();
    bob.join().unwrap();

    assert_eq!(all.len(), 1, "exactly one deadlock: {all:?}");
    let cycle = &all[0];
    assert_eq!(cycle.len(), 2);
    let (al, bo) = (entry(cycle, "alice"), entry(cycle, "bob"));
    assert_eq!((al.ident(), bo.ident()), (alice_id, bob_id));
    assert_eq!(al.waits_for().name(), Some("det-b"));
    assert_eq!(al.holds().unwrap().lock().name(), Some("det-a"));
    assert_eq!(bo.waits_for().name(), Some("det-a"));
    assert_eq!(bo.holds().unwrap().lock().name(), Some("det-b"));
    assert_eq!(al.waits_for().kind(), LockKind::Lock);
    // The cycle starts at its smallest ident.
    assert_eq!(cycle.threads()[0].ident(), alice_id.min(bob_id));
    let text = cycle.to_string();
    assert!(text.starts_with("deadlock of 2 threads:"), "{text}");
    assert!(
        text.contains(&format!(
            "thread \"alice\" (ident {alice_id}) holds Lock \"det-a\" and waits for Lock \"det-b\""
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "thread \"bob\" (ident {bob_id}) holds Lock \"det-b\" and waits for Lock \"det-a\""
        )),
        "{text}"
    );
    // Broken and joined: nothing left.
    assert!(check_deadlock().is_empty());
}

/// `acquire_timeout_checked` that expires inside the cycle returns it, instead of `false`.
#[test]
fn checked_timeout_returns_the_wait_chain() {
    let _s = serial();
    let locks = Arc::new((Lock::named("chk-a"), Lock::named("chk-b")));
    let (alice, bob) = alice_and_bob(
        &locks,
        |(a, b), meet| {
            let _a = a.lock();
            meet();
            let _b = b.lock();
        },
        |(a, b), meet| {
            let held = b.lock();
            meet();
            let mut timeouts = 0;
            let chain = loop {
                match a.acquire_timeout_checked(RETRY) {
                    Ok(()) => panic!("a is held by alice"),
                    // Alice has not parked on `b` yet.
                    Err(AcquireError::Timeout) => timeouts += 1,
                    Err(AcquireError::Deadlock(chain)) => break chain,
                }
                assert!(timeouts < 500, "no deadlock reported");
            };
            drop(held); // break it: alice gets `b`
            chain
        },
    );
    let bob_id = bob.ident();
    let chain = bob.join().unwrap();
    alice.join().unwrap();
    assert_eq!(chain.len(), 2);
    assert!(chain.contains_thread(bob_id));
    assert_eq!(entry(&chain, "bob").waits_for().name(), Some("chk-a"));
    assert_eq!(
        entry(&chain, "bob").holds().unwrap().lock().name(),
        Some("chk-b")
    );
    assert_eq!(entry(&chain, "alice").waits_for().name(), Some("chk-b"));
    let err = AcquireError::Deadlock(chain);
    assert!(err
        .to_string()
        .starts_with("timed out in a deadlock: deadlock of 2 threads:"));
}

#[test]
fn rlock_cycle_is_found_and_reentry_is_not_a_deadlock() {
    let _s = serial();
    let locks = Arc::new((RLock::named("r-a"), RLock::named("r-b")));
    let (alice, bob) = alice_and_bob(
        &locks,
        |(a, b), meet| {
            let _a = a.lock();
            let _again = a.lock(); // re-entry never waits
            meet();
            let _b = b.lock();
        },
        |(a, b), meet| {
            let held = b.lock();
            meet();
            let chain = until_deadlock("a is held by alice", || a.acquire_timeout_checked(RETRY));
            drop(held);
            chain
        },
    );
    let chain = bob.join().unwrap();
    alice.join().unwrap();
    assert_eq!(chain.len(), 2);
    let al = entry(&chain, "alice");
    assert_eq!(al.waits_for().kind(), LockKind::RLock);
    assert_eq!(al.holds().unwrap().lock().name(), Some("r-a"));
    assert!(chain
        .to_string()
        .contains("holds RLock \"r-a\" and waits for RLock \"r-b\""));
}

/// Each thread writes one `RwLock` and wants to write the other.
#[test]
fn rwlock_write_cycle_is_found() {
    let _s = serial();
    let locks = Arc::new((
        RwLock::new(0).with_name("rw-a"),
        RwLock::new(0).with_name("rw-b"),
    ));
    let (alice, bob) = alice_and_bob(
        &locks,
        |(a, b), meet| {
            let _a = a.read();
            meet();
            *b.write() += 1;
        },
        |(a, b), meet| {
            let held = b.write();
            meet();
            let chain = until_deadlock("a is read by alice", || a.try_write_for_checked(RETRY));
            drop(held);
            chain
        },
    );
    let chain = bob.join().unwrap();
    alice.join().unwrap();
    assert_eq!(*locks.1.read(), 1);
    let (al, bo) = (entry(&chain, "alice"), entry(&chain, "bob"));
    assert_eq!(al.holds().unwrap().access(), Access::Shared);
    assert_eq!(al.wait_access(), Access::Exclusive);
    assert_eq!(bo.waits_for().name(), Some("rw-a"));
    let text = chain.to_string();
    assert!(
        text.contains("holds RwLock \"rw-a\" for reading and waits to write for RwLock \"rw-b\""),
        "{text}"
    );
}

/// Writer preference: a reader that reads again while a writer waits deadlocks with it.
#[test]
fn recursive_read_behind_a_waiting_writer_is_a_cycle() {
    let _s = serial();
    let rw = Arc::new(RwLock::new(()).with_name("rw-rec"));
    let reading = Arc::new(Event::new());
    let writer = {
        let (rw, reading) = (Arc::clone(&rw), Arc::clone(&reading));
        Thread::builder()
            .name("writer")
            .spawn(move || {
                reading.wait();
                let _w = rw.write();
            })
            .unwrap()
    };
    let first = rw.read();
    reading.set();
    let writer_id = writer.ident();
    wait_until("the writer is parked", || {
        blocked_threads().iter().any(|t| t.ident() == writer_id)
    });
    let chain = until_deadlock("a writer waits, so a new read must wait", || {
        rw.try_read_for_checked(RETRY)
    });
    drop(first);
    writer.join().unwrap();
    assert_eq!(chain.len(), 2);
    // The writer blocks the reader by being queued, not by holding.
    assert!(entry(&chain, "writer").holds().is_none());
    assert_eq!(entry(&chain, "writer").wait_access(), Access::Exclusive);
}

/// A thread waiting in `Condition::lock` is part of the graph like any lock user.
#[test]
fn condition_lock_cycle_is_found() {
    let _s = serial();
    let shared = Arc::new((
        Condition::new(Lock::named("cond-lock")),
        Lock::named("cond-b"),
        Event::new(),
    ));
    let (alice, bob) = alice_and_bob(
        &shared,
        |(cond, b, _), meet| {
            let _g = cond.lock();
            meet();
            let _b = b.lock();
        },
        |(cond, b, stop), meet| {
            let held = b.lock();
            meet();
            while !stop.is_set() {
                assert!(!cond.acquire_timeout(RETRY));
            }
            drop(held);
        },
    );
    let all = cycles_with(&["alice", "bob"]);
    shared.2.set();
    alice.join().unwrap();
    bob.join().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(entry(&all[0], "bob").waits_for().name(), Some("cond-lock"));
}

/// One thread holds, another waits: a contended lock, not a deadlock.
#[test]
fn contended_lock_is_no_deadlock() {
    let _s = serial();
    let lock = Arc::new(Lock::named("busy"));
    let held = lock.lock();
    let waiter = {
        let lock = Arc::clone(&lock);
        Thread::builder()
            .name("waiter")
            .spawn(move || drop(lock.lock()))
            .unwrap()
    };
    let id = waiter.ident();
    wait_until("the waiter is parked", || {
        blocked_threads().iter().any(|t| t.ident() == id)
    });
    assert!(check_deadlock().is_empty());
    // A third thread timing out on it gets a plain timeout.
    let third = {
        let lock = Arc::clone(&lock);
        Thread::builder()
            .spawn(move || lock.acquire_timeout_checked(RETRY))
            .unwrap()
    };
    assert_eq!(third.join().unwrap(), Err(AcquireError::Timeout));
    let blocked = blocked_threads();
    let w = blocked.iter().find(|t| t.ident() == id).unwrap();
    assert_eq!(
        (w.name(), w.waits_for().name(), w.access()),
        ("waiter", Some("busy"), Access::Exclusive)
    );
    drop(held);
    waiter.join().unwrap();
    assert!(blocked_threads().iter().all(|t| t.ident() != id));
}

/// Taking a non-re-entrant `Lock` twice is a cycle of one thread.
#[test]
fn self_deadlock_is_a_cycle_of_one() {
    let _s = serial();
    let lock = Lock::named("twice");
    let _held = lock.lock();
    match lock.acquire_timeout_checked(RETRY) {
        Err(AcquireError::Deadlock(cycle)) => {
            assert_eq!(cycle.len(), 1);
            assert!(cycle.to_string().starts_with("deadlock of 1 thread:"));
        }
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// The checker reports a deadlock once, however long it lasts.
#[test]
fn background_checker_reports_each_deadlock_once() {
    let _s = serial();
    let (tx, rx) = mpsc::channel();
    let checker = start_checker(Duration::from_millis(2), move |cycles| {
        for c in cycles {
            let _ = tx.send(c.clone());
        }
    })
    .unwrap();
    // Raw acquire/release, so the main thread can end the deadlock the Python way: any
    // thread may release a `Lock`. Until then both threads stay parked, with no gap.
    let locks = Arc::new((Lock::named("bg-a"), Lock::named("bg-b")));
    let (alice, bob) = alice_and_bob(
        &locks,
        |(a, b), meet| {
            a.acquire();
            meet();
            b.acquire();
            b.release().unwrap();
        },
        |(a, b), meet| {
            b.acquire();
            meet();
            a.acquire();
            a.release().unwrap();
            b.release().unwrap();
        },
    );
    let first = rx
        .recv_timeout(LIMIT)
        .expect("the checker reports the deadlock");
    assert!(first.threads().iter().any(|t| t.name() == "alice"));
    assert!(first.threads().iter().any(|t| t.name() == "bob"));
    // About 50 more checks run while the deadlock lasts: none reports it again.
    let again = rx.recv_timeout(Duration::from_millis(100));
    locks.0.release().unwrap(); // alice's hold: bob goes on, then alice
    alice.join().unwrap();
    bob.join().unwrap();
    checker.stop();
    assert!(again.is_err(), "reported twice: {again:?}");
}

/// Threads that always take locks in one order never form a cycle, however busy: a checker
/// running all along finds nothing.
#[test]
fn stress_in_order_locking_reports_no_deadlock() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let _s = serial();
    let locks: Arc<Vec<Lock>> = Arc::new((0..4).map(|_| Lock::new()).collect());
    let rlock = Arc::new(RLock::new());
    let rw = Arc::new(RwLock::new(0u64));
    let done = Arc::new(Event::new());
    let checker = {
        let done = Arc::clone(&done);
        Thread::builder()
            .spawn(move || {
                let mut checks = 0u64;
                while !done.is_set() {
                    let found = check_deadlock();
                    assert!(found.is_empty(), "false deadlock: {found:?}");
                    checks += 1;
                    std::thread::yield_now();
                }
                checks
            })
            .unwrap()
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (locks, rlock, rw) = (Arc::clone(&locks), Arc::clone(&rlock), Arc::clone(&rw));
            Thread::builder()
                .spawn(move || {
                    for round in 0..ROUNDS {
                        // Two distinct locks, lower index first; then the RLock, then the RwLock.
                        let i = (t + round) % 4;
                        let j = (i + 1 + round % 3) % 4;
                        let (lo, hi) = (i.min(j), i.max(j));
                        let _a = locks[lo].lock();
                        let _b = locks[hi].lock();
                        let _r = rlock.lock();
                        let _r2 = rlock.lock();
                        if round % 2 == 0 {
                            *rw.write() += 1;
                        } else {
                            let _ = *rw.read();
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    done.set();
    let checks = checker.join().unwrap();
    assert!(checks > 0);
    assert_eq!(*rw.read(), (THREADS * ROUNDS / 2) as u64);
    assert!(blocked_threads().is_empty());
}

#[test]
fn backtraces_show_where_locks_were_taken() {
    let _s = serial();
    set_backtrace_capture(true);
    let lock = Lock::named("traced");
    let _held = lock.lock();
    let result = lock.acquire_timeout_checked(RETRY);
    set_backtrace_capture(false);
    let Err(AcquireError::Deadlock(cycle)) = result else {
        panic!("expected a deadlock, got {result:?}");
    };
    let held = cycle.threads()[0].holds().unwrap();
    assert!(held.backtrace().is_some());
    assert!(cycle.to_string().contains("Lock \"traced\" acquired at:"));
}
