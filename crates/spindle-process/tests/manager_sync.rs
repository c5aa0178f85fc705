//! Managed Lock, RLock, Semaphore, Event and Condition: exact counters across processes,
//! hand-offs between processes, ownership rules, and waits that time out (after
//! `_TestLock`, `_TestSemaphore`, `_TestEvent` and `_TestCondition` in CPython's
//! `Lib/test/_test_multiprocessing.py`, run with the manager type).

spindle_process::test_support!();

mod manager_support;

use manager_support::{join_or_kill, process_lock, run_all, spawn, LIMIT};
use spindle_process::managers::{
    ConditionProxy, EventProxy, ListProxy, LockProxy, Manager, ManagerError, RLockProxy,
    SemaphoreProxy, ValueProxy,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Processes contending in each counter test.
const PROCS: usize = 3;
/// Increments per process (each is three round trips, so kept small for two cores).
const ITERS: u64 = 150;
/// A wait that is expected to time out.
const SHORT: Duration = Duration::from_millis(20);

/// Read-modify-write in two round trips, so only the tested lock keeps the count exact.
fn bump(v: &ValueProxy<u64>) {
    let n = v.get().unwrap();
    v.set(&(n + 1)).unwrap();
}

fn bump_with_lock((lock, v): (LockProxy, ValueProxy<u64>)) {
    for _ in 0..ITERS {
        let _held = lock.lock().unwrap();
        bump(&v);
    }
}

#[test]
fn lock_counter_is_exact() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let (lock, v) = (m.lock().unwrap(), m.value(&0u64).unwrap());
    run_all(PROCS, bump_with_lock, |_| (lock.clone(), v.clone()));
    assert_eq!(v.get().unwrap(), PROCS as u64 * ITERS);
    assert!(!lock.locked().unwrap());
}

fn bump_with_rlock((lock, v): (RLockProxy, ValueProxy<u64>)) {
    for _ in 0..ITERS {
        lock.acquire().unwrap();
        let _again = lock.lock().unwrap(); // re-entrant
        bump(&v);
        drop(_again);
        lock.release().unwrap();
    }
}

#[test]
fn rlock_counter_is_exact() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let (lock, v) = (m.rlock().unwrap(), m.value(&0u64).unwrap());
    run_all(PROCS, bump_with_rlock, |_| (lock.clone(), v.clone()));
    assert_eq!(v.get().unwrap(), PROCS as u64 * ITERS);
}

fn bump_with_semaphore((sem, v): (SemaphoreProxy, ValueProxy<u64>)) {
    for _ in 0..ITERS {
        let _held = sem.lock().unwrap();
        bump(&v);
    }
}

#[test]
fn semaphore_counter_is_exact() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let (sem, v) = (m.semaphore(1).unwrap(), m.value(&0u64).unwrap());
    run_all(PROCS, bump_with_semaphore, |_| (sem.clone(), v.clone()));
    assert_eq!(v.get().unwrap(), PROCS as u64 * ITERS);
    assert_eq!(sem.value().unwrap(), 1);
}

#[test]
fn lock_rules() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let lock = m.lock().unwrap();
    assert!(lock.try_acquire().unwrap());
    assert!(!lock.try_acquire().unwrap());
    assert!(!lock.acquire_timeout(SHORT).unwrap());
    // Any thread may release a Lock, as in Python.
    std::thread::scope(|s| {
        s.spawn(|| lock.release().unwrap());
    });
    assert!(matches!(lock.release(), Err(ManagerError::NotHeld(_))));
}

#[test]
fn blocked_acquire_does_not_block_release_through_the_same_proxy() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let lock = m.lock().unwrap();
    let entered = m.event().unwrap();
    lock.acquire().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            entered.set().unwrap();
            lock.acquire_timeout(LIMIT).unwrap()
        });
        assert!(entered.wait_timeout(LIMIT).unwrap());
        lock.release().unwrap();
        assert!(waiter.join().unwrap());
    });
    lock.release().unwrap();
}

#[test]
fn rlock_ownership_is_per_thread() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let r = m.rlock().unwrap();
    r.acquire().unwrap();
    r.acquire().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(!r.try_acquire().unwrap());
            assert!(matches!(r.release(), Err(ManagerError::NotHeld(_))));
        });
    });
    r.release().unwrap();
    r.release().unwrap();
    assert!(matches!(r.release(), Err(ManagerError::NotHeld(_))));
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(r.try_acquire().unwrap());
            r.release().unwrap();
        });
    });
}

#[test]
fn semaphore_and_bounded_semaphore() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let sem = m.semaphore(2).unwrap();
    assert!(sem.try_acquire().unwrap());
    assert!(sem.acquire_timeout(SHORT).unwrap());
    assert!(!sem.acquire_timeout(SHORT).unwrap());
    sem.release().unwrap();
    sem.release().unwrap();
    sem.release().unwrap(); // a plain semaphore may exceed its start value
    assert_eq!(sem.value().unwrap(), 3);
    let b = m.bounded_semaphore(1).unwrap();
    assert!(matches!(b.release(), Err(ManagerError::OverRelease)));
    b.acquire().unwrap();
    b.release().unwrap();
    assert_eq!(b.value().unwrap(), 1);
}

fn ping_pong((ping, pong): (EventProxy, EventProxy)) {
    assert!(ping.wait_timeout(LIMIT).unwrap());
    pong.set().unwrap();
}

#[test]
fn event_hand_off_between_processes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let (ping, pong) = (m.event().unwrap(), m.event().unwrap());
    assert!(!pong.wait_timeout(SHORT).unwrap());
    let p = spawn(ping_pong, (ping.clone(), pong.clone()));
    ping.set().unwrap();
    assert!(pong.wait_timeout(LIMIT).unwrap());
    assert_eq!(join_or_kill(&p), 0);
    assert!(ping.is_set().unwrap());
    ping.clear().unwrap();
    assert!(!ping.is_set().unwrap());
}

fn consumer((cond, items, out): (ConditionProxy, ListProxy<u32>, ListProxy<u32>)) {
    let _held = cond.lock().unwrap();
    assert!(cond
        .wait_for(|| items.len().unwrap() >= 3, Some(LIMIT))
        .unwrap());
    out.extend(items.to_vec().unwrap()).unwrap();
}

#[test]
fn condition_producer_consumer_across_processes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let cond = m.condition().unwrap();
    let items = m.list::<u32>().unwrap();
    let out = m.list::<u32>().unwrap();
    let p = spawn(consumer, (cond.clone(), items.clone(), out.clone()));
    for i in 0..3 {
        let _held = cond.lock().unwrap();
        items.append(&i).unwrap();
        cond.notify(1).unwrap();
    }
    assert_eq!(join_or_kill(&p), 0);
    assert_eq!(out.to_vec().unwrap(), [0, 1, 2]);
}

#[test]
fn condition_notify_wakes_exactly_n() {
    const WAITERS: usize = 3;
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let lock = m.lock().unwrap();
    let cond = m.condition_with_lock(&lock).unwrap();
    let (all_in, first) = (m.event().unwrap(), m.event().unwrap());
    let waiting = AtomicUsize::new(0);
    let woken = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WAITERS {
            s.spawn(|| {
                let _held = cond.lock().unwrap();
                if waiting.fetch_add(1, Ordering::SeqCst) + 1 == WAITERS {
                    all_in.set().unwrap();
                }
                assert!(cond.wait_timeout(LIMIT).unwrap());
                if woken.fetch_add(1, Ordering::SeqCst) == 0 {
                    first.set().unwrap();
                }
            });
        }
        // The last waiter set `all_in` while holding the lock, which only its wait gives up:
        // once we hold the lock, every waiter is waiting.
        assert!(all_in.wait_timeout(LIMIT).unwrap());
        {
            let _held = cond.lock().unwrap();
            cond.notify(1).unwrap();
        }
        assert!(first.wait_timeout(LIMIT).unwrap());
        {
            let _held = cond.lock().unwrap();
            assert_eq!(woken.load(Ordering::SeqCst), 1);
            cond.notify_all().unwrap();
        }
    });
    assert_eq!(woken.load(Ordering::SeqCst), WAITERS);
    assert!(!lock.locked().unwrap());
}

#[test]
fn condition_needs_the_lock() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let cond = m.condition().unwrap();
    assert!(matches!(
        cond.wait_timeout(SHORT),
        Err(ManagerError::NotHeld(_))
    ));
    assert!(matches!(cond.notify(1), Err(ManagerError::NotHeld(_))));
    assert!(matches!(cond.notify_all(), Err(ManagerError::NotHeld(_))));
    let _held = cond.lock().unwrap();
    assert!(!cond.wait_timeout(SHORT).unwrap());
    // Still held after the timed-out wait: another thread cannot take it.
    std::thread::scope(|s| {
        s.spawn(|| assert!(!cond.try_acquire().unwrap()));
    });
}

fn block_on_lock((lock, entered): (LockProxy, EventProxy)) {
    entered.set().unwrap();
    lock.acquire().unwrap(); // held by the parent: blocks until this process is killed
    unreachable!("the parent kills this process before releasing");
}

#[test]
fn a_killed_waiter_does_not_keep_the_lock() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let (lock, entered) = (m.lock().unwrap(), m.event().unwrap());
    lock.acquire().unwrap();
    let p = spawn(block_on_lock, (lock.clone(), entered.clone()));
    assert!(entered.wait_timeout(LIMIT).unwrap());
    p.kill().unwrap();
    assert!(p.join_timeout(LIMIT));
    // If the child's acquire reached the server, the server takes the lock for it on this
    // release, fails to tell it, and gives the lock back.
    lock.release().unwrap();
    assert!(lock.acquire_timeout(LIMIT).unwrap());
    lock.release().unwrap();
}
