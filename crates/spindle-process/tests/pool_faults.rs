//! What each fault gets: a killed or crashing worker, a panicking task, a failing
//! initializer, values that do not travel, an overdue task, recycling, a dead parent.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use spindle_process::pool::{OnWorkerDeath, Pool, PoolError};
use spindle_process::{Connection, Pipe, Process};
use std::collections::HashSet;
use std::time::Duration;

/// Tasks that run beside the failing one and must all succeed.
const OTHERS: u64 = 20;

fn crash_leaves_others_running(crash: fn(()) -> u32, signal: i32) {
    let pool = Pool::new(2);
    let before = pool.apply(pid, ()).unwrap();
    let others: Vec<_> = (0..OTHERS).map(|x| pool.apply_async(square, x)).collect();
    let err = pool.apply(crash, ()).unwrap_err();
    match err {
        PoolError::WorkerDied {
            pid,
            signal: s,
            exitcode,
        } => {
            assert!(pid > 0);
            assert_eq!(s, Some(signal), "{err}");
            assert_eq!(exitcode, None);
            assert!(err.to_string().contains(&pid.to_string()), "{err}");
        }
        other => panic!("expected WorkerDied, got {other:?}"),
    }
    for (x, r) in others.iter().enumerate() {
        assert_eq!(r.get(Some(LIMIT)), Ok((x as u64) * (x as u64)));
    }
    // The pool is still usable, at full strength.
    assert_eq!(pool.map(square, 0..50u64, Some(1)).unwrap().len(), 50);
    let pids: HashSet<u32> = (0..20).map(|_| pool.apply(pid, ()).unwrap()).collect();
    assert!(!pids.is_empty());
    assert_eq!(pool.worker_pids().len(), 2);
    let _ = before;
}

#[test]
fn sigkill_mid_task_fails_only_that_task() {
    crash_leaves_others_running(kill_self, libc::SIGKILL);
}

#[test]
fn abort_mid_task_fails_only_that_task() {
    crash_leaves_others_running(abort_self, libc::SIGABRT);
}

#[test]
fn segfault_mid_task_fails_only_that_task() {
    crash_leaves_others_running(segfault_self, libc::SIGSEGV);
}

#[test]
fn exit_inside_a_task_reports_the_status() {
    let pool = Pool::new(1);
    let err = pool.apply(exit_self, ()).unwrap_err();
    assert!(
        matches!(
            err,
            PoolError::WorkerDied {
                signal: None,
                exitcode: Some(3),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(pool.apply(square, 3), Ok(9));
}

#[test]
fn worker_killed_from_outside_is_replaced() {
    let pool = Pool::new(1);
    let pids = vec![pool.apply(pid, ()).unwrap()];
    assert_eq!(pool.worker_pids(), pids);
    let gate = Gate::new();
    let beacon = Beacon::new();
    let r = pool.apply_async(beacon_then_gate, (beacon.path(), gate.path()));
    let queued = pool.apply_async(square, 5);
    let victim = pool.apply_async(pid, ()); // queued behind the gate task too
                                            // Once the worker is busy on the gate (it said so), kill it from here.
    assert_eq!(beacon.next_pid(LIMIT), Some(pids[0]));
    // SAFETY:
    // - kill with a pid of our own child and a valid signal number touches no memory.
    unsafe { libc::kill(pids[0] as i32, libc::SIGKILL) };
    let err = r.get(Some(LIMIT)).unwrap_err();
    assert_eq!(
        err,
        PoolError::WorkerDied {
            pid: pids[0],
            signal: Some(libc::SIGKILL),
            exitcode: None
        }
    );
    // What was queued behind it runs on the replacement.
    assert_eq!(queued.get(Some(LIMIT)), Ok(25));
    assert_ne!(victim.get(Some(LIMIT)).unwrap(), pids[0]);
}

#[test]
fn panic_fails_the_task_and_the_worker_lives() {
    let pool = Pool::new(1);
    let before = pool.apply(pid, ()).unwrap();
    let err = pool.apply(panics, 7).unwrap_err();
    assert_eq!(err, PoolError::Panicked("task 7 failed on purpose".into()));
    assert_eq!(
        pool.apply(pid, ()).unwrap(),
        before,
        "the worker survived the panic"
    );
    // In a map, only the panicking items fail.
    let got: Vec<_> = pool.imap(panics, 0..3u64, 2).collect();
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .all(|r| matches!(r, Err(PoolError::Panicked(m)) if m.contains("failed on purpose"))));
    assert_eq!(
        pool.map(panics, 0..3u64, None).unwrap_err(),
        PoolError::Panicked("task 0 failed on purpose".into())
    );
}

/// Task: panics on 5, else returns ten times its argument.
fn fails_on_five(x: u64) -> u64 {
    assert!(x != 5, "item 5 failed on purpose");
    x * 10
}

#[test]
fn a_panicking_item_fails_only_itself_within_its_chunk() {
    let pool = Pool::new(2);
    // Chunks of 4: items 4..8 travel as one message, and only item 5 fails.
    let got: Vec<_> = pool.imap(fails_on_five, 0..12u64, 4).collect();
    assert_eq!(got.len(), 12);
    for (i, r) in (0u64..).zip(&got) {
        if i == 5 {
            assert_eq!(
                *r,
                Err(PoolError::Panicked("item 5 failed on purpose".into()))
            );
        } else {
            assert_eq!(*r, Ok(i * 10));
        }
    }
    // `map` reports the failing item's error for the whole call, as Python does.
    assert_eq!(
        pool.map(fails_on_five, 0..12u64, Some(4)).unwrap_err(),
        PoolError::Panicked("item 5 failed on purpose".into())
    );
}

fn bad_init(_: ()) {
    panic!("no database here")
}

#[test]
fn failing_initializer_breaks_the_pool_without_hanging() {
    let pool = Pool::new(2).initializer(bad_init, ());
    let pending: Vec<_> = (0..5).map(|x| pool.apply_async(square, x)).collect();
    for r in &pending {
        match r.get(Some(LIMIT)) {
            Err(PoolError::Broken(m)) => assert!(m.to_string().contains("no database here"), "{m}"),
            other => panic!("expected Broken, got {other:?}"),
        }
    }
    match pool.apply(square, 1) {
        Err(PoolError::Broken(m)) => assert!(m.to_string().contains("initializer"), "{m}"),
        other => panic!("expected Broken, got {other:?}"),
    }
    // No respawn loop: the workers are gone and stay gone.
    pool.close();
    assert_eq!(pool.join_timeout(LIMIT), Ok(true));
    assert!(pool.worker_pids().is_empty());
}

static INIT_SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn good_init(v: u64) {
    INIT_SEEN.store(v, std::sync::atomic::Ordering::SeqCst);
}

fn read_init(_: ()) -> u64 {
    INIT_SEEN.load(std::sync::atomic::Ordering::SeqCst)
}

#[test]
fn initializer_runs_in_every_worker() {
    let pool = Pool::new(2).initializer(good_init, 77);
    assert!(pool
        .map(read_init, vec![(); 10], Some(1))
        .unwrap()
        .iter()
        .all(|&v| v == 77));
}

/// Serialises only in the parent; any attempt fails (like a handle outside a process start).
#[derive(Debug)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be encoded",
        ))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Unencodable)
    }
}

/// Encodes fine, never decodes.
#[derive(Debug, Clone)]
struct Undecodable;

impl Serialize for Undecodable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

impl<'de> Deserialize<'de> for Undecodable {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("this value refuses to be decoded"))
    }
}

fn take_unencodable(_: Unencodable) -> u8 {
    1
}

fn take_undecodable(_: Undecodable) -> u8 {
    1
}

fn give_undecodable(_: ()) -> Undecodable {
    Undecodable
}

fn give_unencodable(_: ()) -> Unencodable {
    Unencodable
}

#[test]
fn values_that_do_not_travel_fail_their_task_clearly() {
    let pool = Pool::new(1);
    match pool.apply(take_unencodable, Unencodable) {
        Err(PoolError::Encode(m)) => assert!(m.contains("refuses to be encoded"), "{m}"),
        other => panic!("expected Encode, got {other:?}"),
    }
    match pool.apply(take_undecodable, Undecodable) {
        Err(PoolError::Decode(m)) => assert!(
            m.contains("arguments") && m.contains("refuses to be decoded"),
            "{m}"
        ),
        other => panic!("expected Decode, got {other:?}"),
    }
    match pool.apply(give_undecodable, ()) {
        Err(PoolError::Decode(m)) => assert!(
            m.contains("result") && m.contains("refuses to be decoded"),
            "{m}"
        ),
        other => panic!("expected Decode, got {other:?}"),
    }
    match pool.apply(give_unencodable, ()) {
        Err(PoolError::Encode(m)) => assert!(
            m.contains("result") && m.contains("refuses to be encoded"),
            "{m}"
        ),
        other => panic!("expected Encode, got {other:?}"),
    }
    // None of that hurt the pool.
    assert_eq!(pool.apply(square, 4), Ok(16));
}

#[test]
fn overdue_task_times_out_alone_and_its_worker_is_replaced() {
    let pool = Pool::new(2);
    let first = pool.apply(pid, ()).unwrap();
    let others: Vec<_> = (0..OTHERS).map(|x| pool.apply_async(square, x)).collect();
    let err = pool
        .apply_timeout(stuck, (), Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err, PoolError::Timeout);
    for (x, r) in others.iter().enumerate() {
        assert_eq!(r.get(Some(LIMIT)), Ok((x as u64) * (x as u64)));
    }
    assert_eq!(pool.map(square, 0..10u64, Some(1)).unwrap().len(), 10);
    let _ = first;
    // A pool-wide default applies to every task.
    let strict = Pool::new(1).task_timeout(Duration::from_millis(200));
    assert_eq!(strict.apply(stuck, ()), Err(PoolError::Timeout));
    assert_eq!(strict.apply(square, 2), Ok(4));
}

#[test]
fn maxtasksperchild_recycles_without_losing_or_repeating_tasks() {
    const TASKS: u64 = 40;
    let pool = Pool::new(2).maxtasksperchild(3);
    let got = pool.map(square, 0..TASKS, Some(1)).unwrap();
    assert_eq!(got, (0..TASKS).map(|x| x * x).collect::<Vec<_>>());
    let pids: Vec<u32> = pool.map(pid, vec![(); 12], Some(1)).unwrap();
    let distinct: HashSet<u32> = pids.iter().copied().collect();
    assert!(
        distinct.len() >= 4,
        "12 tasks at 3 per child need at least 4 workers: {distinct:?}"
    );
    // Unordered results: each input exactly once.
    let mut seen: Vec<u64> = pool
        .imap_unordered(square, 0..TASKS, 1)
        .map(Result::unwrap)
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..TASKS).map(|x| x * x).collect::<Vec<_>>());
}

#[test]
fn break_policy_breaks_the_pool_on_a_death() {
    let pool = Pool::new(1).on_worker_death(OnWorkerDeath::Break);
    pool.apply(pid, ()).unwrap();
    let gate = Gate::new();
    let crash = pool.apply_async(kill_self, ());
    let behind = pool.apply_async(wait_gate, gate.path());
    assert!(matches!(
        crash.get(Some(LIMIT)),
        Err(PoolError::WorkerDied { .. })
    ));
    assert!(matches!(behind.get(Some(LIMIT)), Err(PoolError::Broken(_))));
    assert!(
        matches!(pool.apply(square, 1), Err(PoolError::Broken(m)) if m.to_string().contains("died"))
    );
}

/// Runs in a child process: makes a pool, reports its worker pids, then blocks forever.
fn pool_owner(report: Connection) {
    let pool = Pool::new(2);
    let _ = pool.map(square, 0..4u64, Some(1));
    report.send(&pool.worker_pids()).unwrap();
    let _ = pool.apply(stuck, ());
}

#[test]
fn workers_die_with_their_parent() {
    let (rx, tx) = Pipe(false).unwrap();
    let mut owner = Process::new(pool_owner, tx);
    owner.start().unwrap();
    let pids: Vec<u32> = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(pids.len(), 2);
    owner.kill().unwrap();
    assert!(owner.join_timeout(LIMIT));
    for pid in pids {
        assert!(wait_dead(pid, LIMIT), "worker {pid} outlived its parent");
    }
}

#[test]
fn idle_workers_use_no_cpu() {
    const WINDOW: Duration = Duration::from_millis(300);
    let pool = Pool::new(2);
    assert_eq!(pool.map(square, 0..20u64, Some(1)).unwrap().len(), 20);
    let pids = pool.worker_pids();
    let before: Vec<u64> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    std::thread::sleep(WINDOW); // sleep-ok: measuring CPU use over an idle window
    let after: Vec<u64> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    for (b, a) in before.iter().zip(&after) {
        // A tick is 10 ms; a spinning worker would use ~30 in this window.
        assert!(a - b <= 2, "idle worker used {} ticks", a - b);
    }
}
