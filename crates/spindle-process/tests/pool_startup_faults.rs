//! Pools under `OnWorkerDeath::Replace` when workers die at awkward moments: killed during
//! start-up or inside their initializer (replaced), an initializer that panics (broken at
//! once, naming the panic), start-ups that keep failing (broken after `MAX_START_FAILURES`,
//! listing each death), a task submitted right after an idle worker died (runs elsewhere,
//! never `WorkerDied`), and a storm of `SIGKILL`s every 3 ms (nothing lost, the pool usable
//! afterwards). Each for `Pool` and `ProcessPoolExecutor`.

spindle_process::test_support!();

mod pool_support;
mod support;

use pool_support::*;
use spindle_futures::FutureError;
use spindle_process::pool::{Pool, PoolError, ProcessPoolExecutor, MAX_START_FAILURES};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::{process_lock, Watchdog};

/// Rounds of "kill an idle worker, submit at once".
const ROUNDS: usize = 20;

/// Tasks of the kill storm, and the pause between kills.
const STORM_TASKS: u64 = 1000;
const STORM_PERIOD: Duration = Duration::from_millis(3);
const STORM_WORKERS: usize = 4;

fn sigkill(pid: u32) {
    // SAFETY:
    // - kill takes a pid and a valid signal number and touches no memory.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Initializer: says it runs (its pid into the beacon), then waits at the gate.
fn init_beacon_then_gate((beacon, gate): (String, String)) {
    signal_beacon(&beacon);
    wait_gate(gate);
}

/// Initializer: panics.
fn init_panics(_: ()) {
    panic!("no database here")
}

/// Initializer: its worker kills itself before it is ready.
fn init_kills_itself(_: ()) {
    sigkill(std::process::id());
}

/// Kills the first worker while it is inside its initializer; returns the pid of the
/// replacement, once that one is inside its initializer too.
fn kill_inside_initializer(beacon: &Beacon) -> u32 {
    let first = beacon
        .next_pid(LIMIT)
        .expect("the first worker ran its initializer");
    sigkill(first);
    let second = beacon
        .next_pid(LIMIT)
        .expect("a replacement ran its initializer");
    assert_ne!(first, second);
    second
}

#[test]
fn worker_killed_inside_its_initializer_is_replaced() {
    let _l = process_lock();
    let _w = Watchdog::new("worker killed inside its initializer", LIMIT * 2);
    let (beacon, gate) = (Beacon::new(), Gate::new());
    let pool = Pool::new(1).initializer(init_beacon_then_gate, (beacon.path(), gate.path()));
    let r = pool.apply_async(pid, ());
    let second = kill_inside_initializer(&beacon);
    gate.release(1);
    // The task queued during the start-up runs on the replacement.
    assert_eq!(r.get(Some(LIMIT)), Ok(second));
    assert_eq!(
        pool.map(square, 0..50u64, Some(1)).unwrap(),
        (0..50u64).map(|x| x * x).collect::<Vec<_>>()
    );
    assert_eq!(pool.stats().worker_restarts, 1);
}

#[test]
fn executor_worker_killed_inside_its_initializer_is_replaced() {
    let _l = process_lock();
    let _w = Watchdog::new("executor worker killed inside its initializer", LIMIT * 2);
    let (beacon, gate) = (Beacon::new(), Gate::new());
    let ex = ProcessPoolExecutor::builder()
        .max_workers(1)
        .initializer(init_beacon_then_gate, (beacon.path(), gate.path()))
        .build();
    let f = ex.submit(pid, ());
    let second = kill_inside_initializer(&beacon);
    gate.release(1);
    assert_eq!(f.result_timeout(LIMIT), Ok(second));
    let all: Vec<_> = ex.map(square, 0..50u64, 1).collect();
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    assert!(ex.shutdown_timeout(LIMIT, false));
}

#[test]
fn a_slow_start_up_does_not_count_against_a_task_timeout() {
    let _l = process_lock();
    let _w = Watchdog::new("slow start-up and a task timeout", LIMIT);
    const TIMEOUT: Duration = Duration::from_millis(200);
    let (beacon, gate) = (Beacon::new(), Gate::new());
    let pool = Pool::new(1)
        .initializer(init_beacon_then_gate, (beacon.path(), gate.path()))
        .task_timeout(TIMEOUT);
    let r = pool.apply_async(pid, ());
    let worker = beacon
        .next_pid(LIMIT)
        .expect("the worker ran its initializer");
    // sleep-ok: lets the task's timeout pass while its worker is still starting.
    std::thread::sleep(TIMEOUT * 2);
    gate.release(1);
    // The task had not started: its timeout counts from the worker's readiness.
    assert_eq!(r.get(Some(LIMIT)), Ok(worker));
    assert_eq!(pool.stats().worker_restarts, 0);
}

#[test]
fn panicking_initializer_breaks_at_once_naming_the_panic() {
    let _l = process_lock();
    let _w = Watchdog::new("panicking initializer", LIMIT);
    let pool = Pool::new(2).initializer(init_panics, ());
    match pool.apply(square, 1) {
        Err(PoolError::Broken(r)) => {
            assert!(r.message().contains("no database here"), "{r}");
            assert!(r.causes().is_empty(), "{r:?}");
        }
        other => panic!("expected Broken, got {other:?}"),
    }
    // No retries: the two first workers were the only ones.
    assert_eq!(pool.stats().worker_restarts, 0);
    assert_executor_breaks(2, init_panics, "no database here");
}

/// An executor with initializer `init` fails its first task with `BrokenExecutor`, its reason
/// containing `needle`.
fn assert_executor_breaks(workers: usize, init: fn(()), needle: &str) {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(workers)
        .initializer(init, ())
        .build();
    match ex.submit(square, 1).exception_timeout(LIMIT) {
        Ok(Some(FutureError::BrokenExecutor(m, _))) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected BrokenExecutor, got {other:?}"),
    }
    assert!(ex.shutdown_timeout(LIMIT, false));
}

#[test]
fn start_ups_failing_beyond_the_cap_break_the_pool_listing_each_death() {
    let _l = process_lock();
    let _w = Watchdog::new("start-ups failing beyond the cap", LIMIT * 2);
    let pool = Pool::new(2).initializer(init_kills_itself, ());
    let Err(PoolError::Broken(r)) = pool.apply(square, 1) else {
        panic!("a pool whose workers cannot start must break")
    };
    assert_eq!(r.causes().len(), MAX_START_FAILURES, "{r}");
    let mut pids = HashSet::new();
    for c in r.causes() {
        match c {
            PoolError::WorkerDied {
                pid,
                signal: Some(libc::SIGKILL),
                exitcode: None,
            } => assert!(pids.insert(*pid), "{pid} listed twice"),
            other => panic!("expected a start-up death, got {other:?}"),
        }
    }
    let text = r.to_string();
    assert!(
        text.contains(&format!(
            "{MAX_START_FAILURES} worker start-ups failed in a row"
        )),
        "{text}"
    );
    assert_eq!(
        text.matches("killed by signal 9 (SIGKILL)").count(),
        MAX_START_FAILURES
    );
    // Each dead worker was replaced until the cap (the other worker may have been starting
    // when the last one died), and none after it.
    let restarts = pool.stats().worker_restarts as usize;
    assert!(
        (MAX_START_FAILURES - 2..MAX_START_FAILURES).contains(&restarts),
        "{restarts}"
    );
    pool.close();
    assert_eq!(pool.join_timeout(LIMIT), Ok(true));
    // The executor says the same through its future.
    assert_executor_breaks(1, init_kills_itself, "start-ups failed in a row");
}

/// Kills the pool's only worker, waits until it is gone, and at once submits a task, `ROUNDS`
/// times: the dead worker never started the task, so it must run on the replacement.
fn submit_right_after_death(pool: &Pool) {
    let mut last = pool.apply(pid, ()).unwrap();
    for round in 0..ROUNDS {
        sigkill(last);
        assert!(wait_dead(last, LIMIT), "worker {last} survived SIGKILL");
        // The supervisor has not noticed yet: the task is written to the dead worker.
        let r = pool.apply_async(pid, ());
        match r.get(Some(LIMIT)) {
            Ok(p) => {
                assert_ne!(p, last, "round {round}: a dead worker answered");
                last = p;
            }
            Err(e) => panic!("round {round}: a task that never ran failed: {e}"),
        }
    }
    assert_eq!(pool.stats().worker_restarts, ROUNDS as u64);
}

#[test]
fn task_submitted_right_after_an_idle_worker_died_runs_elsewhere() {
    let _l = process_lock();
    let _w = Watchdog::new("submit right after an idle worker died", LIMIT * 2);
    submit_right_after_death(&Pool::new(1));
}

#[test]
fn task_submitted_right_after_an_idle_worker_died_runs_elsewhere_over_pipes() {
    let _l = process_lock();
    let _w = Watchdog::new("submit right after death, pipes only", LIMIT * 2);
    submit_right_after_death(&Pool::new(1).shared_memory_rings(false));
}

#[test]
fn executor_task_submitted_right_after_an_idle_worker_died_runs_elsewhere() {
    let _l = process_lock();
    let _w = Watchdog::new("executor submit right after death", LIMIT * 2);
    let ex = ProcessPoolExecutor::builder().max_workers(1).build();
    let mut last = ex.submit(pid, ()).result_timeout(LIMIT).unwrap();
    for round in 0..ROUNDS {
        sigkill(last);
        assert!(wait_dead(last, LIMIT), "worker {last} survived SIGKILL");
        match ex.submit(pid, ()).result_timeout(LIMIT) {
            Ok(p) => {
                assert_ne!(p, last);
                last = p;
            }
            Err(e) => panic!("round {round}: a task that never ran failed: {e}"),
        }
    }
    assert!(ex.shutdown_timeout(LIMIT, false));
}

/// Task of the storm: about a millisecond of work, then its argument back.
fn work(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(1)); // sleep-ok: the task's work, not a wait
    x
}

/// Kills a random live worker every `STORM_PERIOD` until `stop`, replacements included;
/// returns the pids it killed.
fn storm(pids: &(dyn Fn() -> Vec<u32> + Sync), stop: &AtomicBool) -> HashSet<u32> {
    let mut killed = HashSet::new();
    let mut seed = u64::from(std::process::id()) | 1;
    while !stop.load(Ordering::Acquire) {
        // sleep-ok: injects the fault at a random moment; nothing waits on it.
        std::thread::sleep(STORM_PERIOD);
        let live = pids();
        if live.is_empty() {
            continue;
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let victim = live[(seed % live.len() as u64) as usize];
        sigkill(victim);
        killed.insert(victim);
    }
    killed
}

/// Checks the storm's outcome: each task returned its input or died with a worker that was
/// killed while running it; returns how many died.
fn check_storm(results: Vec<Result<u64, PoolError>>, killed: &HashSet<u32>) -> usize {
    assert_eq!(results.len() as u64, STORM_TASKS);
    let mut died = 0;
    for (x, r) in (0u64..).zip(results) {
        match r {
            Ok(v) => assert_eq!(v, x),
            Err(PoolError::WorkerDied {
                pid,
                signal: Some(libc::SIGKILL),
                ..
            }) if killed.contains(&pid) => died += 1,
            Err(e) => panic!("task {x} lost: {e}"),
        }
    }
    assert!(!killed.is_empty(), "the storm killed nobody");
    died
}

#[test]
fn kill_storm_loses_nothing_and_leaves_a_usable_pool() {
    let _l = process_lock();
    let _w = Watchdog::new("pool kill storm", Duration::from_secs(120));
    let pool = Pool::new(STORM_WORKERS);
    let stop = AtomicBool::new(false);
    let killed = Mutex::new(HashSet::new());
    let start = Instant::now();
    let results: Vec<Result<u64, PoolError>> = std::thread::scope(|s| {
        s.spawn(|| *killed.lock().unwrap() = storm(&|| pool.worker_pids(), &stop));
        let pending: Vec<_> = (0..STORM_TASKS)
            .map(|x| pool.apply_async(work, x))
            .collect();
        let results = pending.iter().map(|r| r.get(Some(LIMIT))).collect();
        stop.store(true, Ordering::Release);
        results
    });
    let killed = killed.into_inner().unwrap();
    let died = check_storm(results, &killed);
    eprintln!(
        "pool storm: {} kills, {died} tasks died with their worker, {} restarts, {:?}",
        killed.len(),
        pool.stats().worker_restarts,
        start.elapsed()
    );
    // Usable afterwards, at full strength.
    assert_eq!(
        pool.map(square, 0..50u64, Some(1)).unwrap(),
        (0..50u64).map(|x| x * x).collect::<Vec<_>>()
    );
    assert_eq!(pool.worker_pids().len(), STORM_WORKERS);
}

#[test]
fn executor_kill_storm_loses_nothing_and_leaves_a_usable_executor() {
    let _l = process_lock();
    let _w = Watchdog::new("executor kill storm", Duration::from_secs(120));
    let ex = ProcessPoolExecutor::builder()
        .max_workers(STORM_WORKERS)
        .build();
    let stop = AtomicBool::new(false);
    let killed = Mutex::new(HashSet::new());
    let results: Vec<Result<u64, PoolError>> = std::thread::scope(|s| {
        s.spawn(|| *killed.lock().unwrap() = storm(&|| ex.worker_pids(), &stop));
        let futs: Vec<_> = (0..STORM_TASKS).map(|x| ex.submit(work, x)).collect();
        let results = futs
            .iter()
            .map(|f| {
                f.result_timeout(LIMIT)
                    .map_err(|e| PoolError::from_future_error(&e))
            })
            .collect();
        stop.store(true, Ordering::Release);
        results
    });
    let killed = killed.into_inner().unwrap();
    check_storm(results, &killed);
    let all: Vec<_> = ex.map(square, 0..50u64, 1).collect();
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    assert!(ex.shutdown_timeout(LIMIT, false));
}
