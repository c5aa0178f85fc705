//! Process-shared locks under contention from several processes, and robust takeover after a
//! holder is killed (after CPython's `_TestLock`, `_TestSemaphore`, `_TestCondition`,
//! `_TestEvent`, `_TestBarrier`).

spindle_process::test_support!();

mod support;

use std::time::Duration;

use spindle_process::synchronize::{Acquired, ReleaseError};
use spindle_process::{
    Barrier, BoundedSemaphore, Condition, Connection, Event, Lock, Pipe, RLock, Semaphore, Value,
};
use support::{join_or_kill, process_lock, run_all, spawn, spawn_all, KillOnDrop, LIMIT};

/// Processes contending in each counter test.
const PROCS: usize = 3;
/// Increments per process.
const ITERS: u64 = 2_000;

/// Read-modify-write without the value's own lock, so only the tested lock protects it.
fn bump(v: &Value<u64>) {
    let x = v.get();
    std::hint::black_box(());
    v.set(x + 1);
}

fn with_lock((lock, v): (Lock, Value<u64>)) {
    for _ in 0..ITERS {
        let _g = lock.lock();
        bump(&v);
    }
}

#[test]
fn lock_counter_is_exact() {
    let _g = process_lock();
    let lock = Lock::new().unwrap();
    let v = Value::new(0u64).unwrap();
    run_all(PROCS, with_lock, |_| (lock.clone(), v.clone()));
    assert_eq!(v.get(), PROCS as u64 * ITERS);
    assert!(!lock.locked());
}

fn with_rlock((lock, v): (RLock, Value<u64>)) {
    for _ in 0..ITERS {
        let _a = lock.lock();
        let _b = lock.lock();
        bump(&v);
    }
}

#[test]
fn rlock_counter_is_exact() {
    let _g = process_lock();
    let lock = RLock::new().unwrap();
    let v = Value::new(0u64).unwrap();
    run_all(PROCS, with_rlock, |_| (lock.clone(), v.clone()));
    assert_eq!(v.get(), PROCS as u64 * ITERS);
}

fn with_semaphore((sem, v): (Semaphore, Value<u64>)) {
    for _ in 0..ITERS {
        sem.acquire();
        bump(&v);
        sem.release(1);
    }
}

#[test]
fn semaphore_counter_is_exact() {
    let _g = process_lock();
    let sem = Semaphore::new(1).unwrap();
    let v = Value::new(0u64).unwrap();
    run_all(PROCS, with_semaphore, |_| (sem.clone(), v.clone()));
    assert_eq!(v.get(), PROCS as u64 * ITERS);
    assert_eq!(sem.get_value(), 1);
}

/// Counts how many processes are inside the semaphore at once, recording the maximum.
fn bounded_section((sem, stats): (Semaphore, spindle_process::Array<u64>)) {
    for _ in 0..ITERS / 10 {
        assert!(sem.acquire_timeout(LIMIT));
        {
            let mut s = stats.lock();
            s[0] += 1;
            s[1] = s[1].max(s[0]);
        }
        std::thread::yield_now();
        stats.lock()[0] -= 1;
        sem.release(1);
    }
}

#[test]
fn semaphore_bounds_concurrency_across_processes() {
    let _g = process_lock();
    let sem = Semaphore::new(2).unwrap();
    let stats = spindle_process::Array::<u64>::new(2).unwrap();
    run_all(PROCS, bounded_section, |_| (sem.clone(), stats.clone()));
    let s = stats.to_vec();
    assert_eq!(s[0], 0);
    assert!((1..=2).contains(&s[1]), "max inside was {}", s[1]);
    assert_eq!(sem.get_value(), 2);
}

fn with_bounded((sem, v): (BoundedSemaphore, Value<u64>)) {
    for _ in 0..ITERS {
        assert!(sem.acquire_timeout(LIMIT));
        bump(&v);
        sem.release(1).unwrap();
    }
}

#[test]
fn bounded_semaphore_counter_is_exact_and_bounded() {
    let _g = process_lock();
    let sem = BoundedSemaphore::new(1).unwrap();
    let v = Value::new(0u64).unwrap();
    run_all(PROCS, with_bounded, |_| (sem.clone(), v.clone()));
    assert_eq!(v.get(), PROCS as u64 * ITERS);
    assert!(sem.release(1).is_err());
}

fn value_own_lock(v: Value<u64>) {
    for _ in 0..ITERS {
        *v.lock() += 1;
    }
}

#[test]
fn value_arithmetic_across_processes() {
    let _g = process_lock();
    let v = Value::new(0u64).unwrap();
    run_all(PROCS, value_own_lock, |_| v.clone());
    assert_eq!(v.get(), PROCS as u64 * ITERS);
}

fn array_add((a, i): (spindle_process::Array<i64>, usize)) {
    for _ in 0..ITERS {
        let mut g = a.lock();
        for x in g.iter_mut() {
            *x += 1;
        }
        g[i] += 100;
    }
}

#[test]
fn array_arithmetic_across_processes() {
    let _g = process_lock();
    let a = spindle_process::Array::<i64>::new(PROCS).unwrap();
    run_all(PROCS, array_add, |i| (a.clone(), i));
    let expect = (PROCS as i64 + 100) * ITERS as i64;
    assert_eq!(a.to_vec(), vec![expect; PROCS]);
}

/// Starts `f(lock, holding, pipe end)` in a child and waits until it has set `holding` (it
/// holds `lock`); the returned pipe end keeps the child stuck until it is killed.
fn spawn_holder<L>(f: fn((L, Event, Connection)), lock: &L) -> (Connection, KillOnDrop)
where
    L: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let holding = Event::new().unwrap();
    let (keep, there) = Pipe(true).unwrap();
    let p = spawn(f, (lock.clone(), holding.clone(), there));
    assert!(holding.wait_timeout(LIMIT));
    (keep, p)
}

fn hold_and_hang((lock, holding, conn): (Lock, Event, Connection)) {
    lock.acquire();
    holding.set();
    // Stuck until killed: nobody ever writes to this pipe.
    let _ = conn.recv_bytes();
}

#[test]
fn lock_of_a_killed_holder_is_taken_over() {
    let _g = process_lock();
    let lock = Lock::new().unwrap();
    let (_keep, p) = spawn_holder(hold_and_hang, &lock);
    assert!(!lock.try_acquire());
    p.kill().unwrap();
    // Not reaped yet: the holder is a zombie, which must count as dead too.
    let got = lock.acquire_robust(Some(LIMIT));
    assert_eq!(
        got,
        Some(Acquired::OwnerDied {
            owner: p.pid().unwrap()
        })
    );
    lock.release().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGKILL);
    // Back to normal afterwards.
    assert_eq!(lock.acquire_robust(Some(LIMIT)), Some(Acquired::Clean));
    lock.release().unwrap();
}

fn rhold_and_hang((lock, holding, conn): (RLock, Event, Connection)) {
    lock.acquire();
    lock.acquire();
    holding.set();
    let _ = conn.recv_bytes();
}

#[test]
fn rlock_of_a_killed_holder_is_taken_over() {
    let _g = process_lock();
    let lock = RLock::new().unwrap();
    let (_keep, p) = spawn_holder(rhold_and_hang, &lock);
    assert!(!lock.try_acquire());
    assert_eq!(lock.release(), Err(ReleaseError::NotOwner));
    p.kill().unwrap();
    assert!(matches!(
        lock.acquire_robust(Some(LIMIT)),
        Some(Acquired::OwnerDied { .. })
    ));
    // A fresh count: one release frees it.
    lock.release().unwrap();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    join_or_kill(&p);
}

#[test]
fn lock_errors_and_timeouts() {
    let lock = Lock::new().unwrap();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    assert_eq!(lock.acquire_robust(Some(Duration::from_millis(1))), None);
    lock.release().unwrap();
    let huge = lock
        .lock_timeout(Duration::MAX)
        .expect("a huge timeout waits, never panics");
    drop(huge);
}

fn wait_for_event((e, done): (Event, Event)) {
    assert!(e.wait_timeout(LIMIT));
    done.set();
}

#[test]
fn event_wakes_waiters_in_other_processes() {
    let _g = process_lock();
    let e = Event::new().unwrap();
    let dones: Vec<Event> = (0..PROCS).map(|_| Event::new().unwrap()).collect();
    let kids: Vec<KillOnDrop> = dones
        .iter()
        .map(|d| spawn(wait_for_event, (e.clone(), d.clone())))
        .collect();
    assert!(dones.iter().all(|d| !d.is_set()));
    e.set();
    for (p, d) in kids.iter().zip(&dones) {
        assert!(d.wait_timeout(LIMIT));
        assert_eq!(join_or_kill(p), 0);
    }
}

/// Consumer: waits under the condition until the shared counter reaches its turn.
fn condition_consumer((cond, v, target): (Condition, Value<u64>, u64)) {
    let mut g = cond.lock();
    assert!(cond.wait_for(&mut g, || v.get() >= target, Some(LIMIT)));
    v.set(v.get() + 1000);
    cond.notify_all();
}

#[test]
fn condition_hands_off_between_processes() {
    let _g = process_lock();
    let cond = Condition::new(None).unwrap();
    let v = Value::new(0u64).unwrap();
    let kids = spawn_all(PROCS, condition_consumer, |i| {
        (cond.clone(), v.clone(), 1 + 1000 * i as u64)
    });
    let mut g = cond.lock();
    v.set(1);
    cond.notify_all();
    assert!(cond.wait_for(&mut g, || v.get() == 1 + 1000 * PROCS as u64, Some(LIMIT)));
    drop(g);
    for p in &kids {
        assert_eq!(join_or_kill(p), 0);
    }
}

#[test]
fn condition_notify_wakes_exactly_n() {
    let cond = Condition::new(None).unwrap();
    let registered = std::sync::atomic::AtomicUsize::new(0);
    let woken = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut g = cond.lock();
                registered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if cond.wait_timeout(&mut g, Duration::from_millis(300)) {
                    woken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
        // A waiter counts itself and registers before it lets go of the lock, so once we
        // hold the lock and see 3, all three are waiting.
        loop {
            let g = cond.lock();
            if registered.load(std::sync::atomic::Ordering::SeqCst) == 3 {
                cond.notify(2);
                drop(g);
                break;
            }
            drop(g);
            std::thread::yield_now();
        }
    });
    assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 2);
}

fn barrier_party((b, slots, i): (Barrier, spindle_process::Array<i64>, usize)) {
    let idx = b.wait(Some(LIMIT)).unwrap();
    slots.set(i, idx as i64);
}

#[test]
fn barrier_releases_all_parties_with_distinct_indices() {
    let _g = process_lock();
    let b = Barrier::new(PROCS + 1).unwrap();
    let slots = spindle_process::Array::<i64>::new(PROCS).unwrap();
    let kids = spawn_all(PROCS, barrier_party, |i| (b.clone(), slots.clone(), i));
    let mine = b.wait(Some(LIMIT)).unwrap() as i64;
    for p in &kids {
        assert_eq!(join_or_kill(p), 0);
    }
    let mut idx = slots.to_vec();
    idx.push(mine);
    idx.sort();
    assert_eq!(idx, (0..=PROCS as i64).collect::<Vec<_>>());
}

#[test]
fn barrier_abort_and_reset() {
    let b = Barrier::new(2).unwrap();
    std::thread::scope(|s| {
        let h = s.spawn(|| b.wait(Some(LIMIT)));
        while b.n_waiting() == 0 {
            std::thread::yield_now();
        }
        b.abort();
        assert!(h.join().unwrap().is_err());
    });
    assert!(b.broken());
    assert!(b.wait(None).is_err());
    b.reset();
    assert!(!b.broken());
    std::thread::scope(|s| {
        let h = s.spawn(|| b.wait(Some(LIMIT)));
        assert!(b.wait(Some(LIMIT)).is_ok());
        assert!(h.join().unwrap().is_ok());
    });
}
