//! MpiPoolExecutor as a `concurrent.futures` executor, on a job of rank 0 and two workers:
//! submit, map with chunks, the generic RemoteExecutor path, wait/as_completed, submitting
//! from several threads, MiB-sized values, panics and values that do not travel, stats, and
//! shutdown. Started by `cargo test`, it relaunches itself under `mpirun -n 3`.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use spindle_futures::{as_completed, wait, FutureError, RemoteExecutor, ReturnWhen};
use spindle_mpi::{MpiError, MpiPoolExecutor};
use spindle_process::pool::{ByteBuf, PoolError, ProcessPoolExecutor};
use spindle_process::shipping::ShipError;
use support::Check;

/// Long enough for any result here on a loaded 2-core machine; a hang fails instead.
const PATIENCE: Duration = Duration::from_secs(60);

fn square(x: u64) -> u64 {
    x * x
}

fn rank_of_caller(_: ()) -> i32 {
    spindle_mpi::current_rank().unwrap_or(-1)
}

fn submit_returns_the_result(pool: &MpiPoolExecutor) {
    let fut = pool.submit(square, 12);
    assert_eq!(fut.result_timeout(PATIENCE), Ok(144));
    let rank = pool
        .submit(rank_of_caller, ())
        .result_timeout(PATIENCE)
        .unwrap();
    assert!(
        rank == 1 || rank == 2,
        "tasks run on worker ranks, not {rank}"
    );
}

fn workers_are_the_other_ranks(pool: &MpiPoolExecutor) {
    let ranks: Vec<i32> = pool.workers().iter().map(|w| w.rank).collect();
    assert_eq!(ranks, [1, 2]);
    assert_eq!(pool.max_workers(), 2);
    assert!(pool.workers().iter().all(|w| !w.host.is_empty()));
}

fn map_keeps_input_order_for_every_chunksize(pool: &MpiPoolExecutor) {
    let expected: Vec<u64> = (0..100).map(square).collect();
    for chunksize in [1, 3, 7, 100, 1000] {
        let got: Vec<u64> = pool
            .map(square, 0..100, chunksize)
            .timeout(PATIENCE)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, expected, "chunksize {chunksize}");
    }
    assert_eq!(pool.map(square, Vec::new(), 4).count(), 0, "empty input");
}

/// The same generic code that runs on a ThreadPoolExecutor and a ProcessPoolExecutor.
fn run_on<E: RemoteExecutor>(e: &E) -> u64 {
    let one = e.submit_fn(square, 20).into_result().unwrap();
    let many: u64 = e.map_fn(square, 0..4).map(Result::unwrap).sum();
    one + many
}

fn the_generic_remote_executor_code_runs_unchanged(pool: &MpiPoolExecutor) {
    assert_eq!(run_on(pool), 400 + 14);
    assert_eq!(RemoteExecutor::parallelism(pool), 2);
}

fn wait_and_as_completed_work_on_its_futures(pool: &MpiPoolExecutor) {
    let futures: Vec<_> = (0..10).map(|i| pool.submit(square, i)).collect();
    let (done, not_done) = wait(&futures, Some(PATIENCE), ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (10, 0));
    let mut seen: Vec<u64> = as_completed(&futures, Some(PATIENCE))
        .map(|f| f.unwrap().result().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..10).map(square).collect::<Vec<_>>());
}

fn threads_can_submit_at_the_same_time(pool: &MpiPoolExecutor) {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 200;
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let futures: Vec<_> = (0..PER_THREAD)
                        .map(|i| pool.submit(square, t * PER_THREAD + i))
                        .collect();
                    futures
                        .into_iter()
                        .map(|f| f.result_timeout(PATIENCE).unwrap())
                        .sum::<u64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, (0..THREADS * PER_THREAD).map(square).sum::<u64>());
}

fn reverse(bytes: ByteBuf) -> ByteBuf {
    let mut v = bytes.into_vec();
    v.reverse();
    ByteBuf::from(v)
}

fn mib_sized_values_travel_both_ways(pool: &MpiPoolExecutor) {
    const SIZE: usize = 4 << 20;
    let input: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let fut = pool.submit(reverse, ByteBuf::from(input.clone()));
    let out = fut.result_timeout(PATIENCE).unwrap().into_vec();
    assert_eq!(out.len(), SIZE);
    assert!(out.iter().rev().eq(input.iter()));
}

fn fail_on_seven(x: u32) -> u32 {
    assert!(x != 7, "seven is not allowed");
    x
}

fn a_panic_fails_only_its_task_and_names_rank_and_host(pool: &MpiPoolExecutor) {
    let err = pool
        .submit(fail_on_seven, 7)
        .result_timeout(PATIENCE)
        .unwrap_err();
    let FutureError::Panicked(message) = err else {
        panic!("expected a panic, got {err:?}");
    };
    assert!(
        message.starts_with("seven is not allowed (on rank "),
        "{message}"
    );
    let host = &pool.workers()[0].host;
    assert!(message.contains(&format!("of host {host})")), "{message}");
    // The worker lives on.
    assert_eq!(
        pool.submit(fail_on_seven, 8).result_timeout(PATIENCE),
        Ok(8)
    );
    let out: Vec<_> = pool
        .map(fail_on_seven, 5..10, 3)
        .timeout(PATIENCE)
        .collect();
    assert_eq!(out.len(), 5);
    assert!(out[2].is_err(), "only the seventh item fails");
    assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 4);
}

/// A result that cannot be encoded.
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value refuses to travel"))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d).map(|()| Unencodable)
    }
}

fn make_unencodable(_: ()) -> Unencodable {
    Unencodable
}

fn refuse_to_encode(_: Unencodable) -> u8 {
    0
}

fn values_that_do_not_travel_fail_their_task_with_a_typed_error(pool: &MpiPoolExecutor) {
    // A result the worker cannot encode.
    let err = pool
        .submit(make_unencodable, ())
        .exception_timeout(PATIENCE)
        .unwrap()
        .unwrap();
    match MpiError::from_future_error(&err) {
        Some(MpiError::Remote {
            rank,
            error: ShipError::Encode(m),
            ..
        }) => {
            assert!(rank == 1 || rank == 2);
            assert!(m.contains("refuses to travel"), "{m}");
        }
        other => panic!("expected a remote encode error, got {other:?}"),
    }
    // Arguments rank 0 cannot encode: refused before anything is sent.
    let err = pool
        .submit(refuse_to_encode, Unencodable)
        .result_timeout(PATIENCE)
        .unwrap_err();
    assert!(matches!(
        MpiError::from_future_error(&err),
        Some(MpiError::Ship(ShipError::Encode(_)))
    ));
}

fn stats_count_every_item_per_worker(pool: &MpiPoolExecutor) {
    let ran =
        |s: &spindle_futures::PoolStats| s.workers.iter().map(|w| w.tasks_completed).sum::<u64>();
    let before = pool.stats();
    let n = pool.map(square, 0..50, 5).filter(Result::is_ok).count() as u64;
    assert_eq!(n, 50);
    let after = pool.stats();
    assert_eq!(after.submitted - before.submitted, 50);
    assert_eq!(after.completed - before.completed, 50);
    assert_eq!(after.running, 0);
    assert_eq!(ran(&after) - ran(&before), 50);
    assert_eq!(
        after.workers.iter().map(|w| w.id).collect::<Vec<_>>(),
        [1, 2]
    );
}

fn crash(_: ()) -> u8 {
    std::process::abort()
}

/// A task that runs a crashing call in a process pool of its own, as the crate docs advise.
fn run_isolated(_: ()) -> String {
    let local = ProcessPoolExecutor::builder().max_workers(1).build();
    let err = local
        .submit(crash, ())
        .exception()
        .expect("the call crashed");
    local.shutdown(true, false);
    PoolError::from_future_error(&err).to_string()
}

fn a_crash_isolated_in_a_process_pool_fails_only_that_call(pool: &MpiPoolExecutor) {
    let message = pool
        .submit(run_isolated, ())
        .result_timeout(PATIENCE)
        .unwrap();
    assert!(
        message.contains("died") && message.contains("SIGABRT"),
        "{message}"
    );
    // The rank that ran it lives on.
    let results: Vec<_> = (0..4).map(|i| pool.submit(square, i)).collect();
    for (i, f) in results.into_iter().enumerate() {
        assert_eq!(f.result_timeout(PATIENCE), Ok(square(i as u64)));
    }
}

fn own_pid(_: ()) -> u32 {
    std::process::id()
}

/// CPU time (user + system, in clock ticks) a process has used, from `/proc/<pid>/stat`.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("a local worker");
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn idle_workers_do_not_spin(pool: &MpiPoolExecutor) {
    const IDLE: Duration = Duration::from_secs(1);
    // Ticks are 10 ms: a busy-polling rank would use about 100 in a second.
    const MAX_TICKS: u64 = 20;
    let mut pids = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let round: Vec<_> = (0..4).map(|_| pool.submit(own_pid, ())).collect();
        pids.extend(
            round
                .into_iter()
                .map(|f| f.result_timeout(PATIENCE).unwrap()),
        );
        if pids.len() == 2 {
            break;
        }
    }
    assert_eq!(pids.len(), 2, "both workers ran a task");
    let before: Vec<u64> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    // sleep-ok: the idle period whose CPU use is measured.
    std::thread::sleep(IDLE);
    for (&pid, before) in pids.iter().zip(before) {
        let used = cpu_ticks(pid) - before;
        assert!(
            used <= MAX_TICKS,
            "worker {pid} used {used} ticks while idle for {IDLE:?}"
        );
    }
}

fn shutdown_finishes_queued_work_then_refuses_new_work(pool: &MpiPoolExecutor) {
    let futures: Vec<_> = (0..20).map(|i| pool.submit(square, i)).collect();
    pool.shutdown(true, false);
    for (i, f) in futures.iter().enumerate() {
        assert_eq!(f.result_timeout(Duration::ZERO), Ok(square(i as u64)));
    }
    assert_eq!(pool.submit(square, 1).result(), Err(FutureError::ShutDown));
    let after: Vec<_> = pool.map(square, 0..3, 1).collect();
    assert_eq!(after, vec![Err(FutureError::ShutDown); 3]);
    pool.shutdown(true, false); // again: harmless
    let stats = pool.stats();
    assert_eq!(stats.submitted, stats.finished(), "{stats:?}");
}

fn main() -> ExitCode {
    if !support::under_mpirun() {
        return support::relaunch(3);
    }
    let pool = MpiPoolExecutor::start().expect("a pool on 3 ranks");
    let checks: &[Check<MpiPoolExecutor>] = &[
        ("submit_returns_the_result", submit_returns_the_result),
        ("workers_are_the_other_ranks", workers_are_the_other_ranks),
        (
            "map_keeps_input_order_for_every_chunksize",
            map_keeps_input_order_for_every_chunksize,
        ),
        (
            "the_generic_remote_executor_code_runs_unchanged",
            the_generic_remote_executor_code_runs_unchanged,
        ),
        (
            "wait_and_as_completed_work_on_its_futures",
            wait_and_as_completed_work_on_its_futures,
        ),
        (
            "threads_can_submit_at_the_same_time",
            threads_can_submit_at_the_same_time,
        ),
        (
            "mib_sized_values_travel_both_ways",
            mib_sized_values_travel_both_ways,
        ),
        (
            "a_panic_fails_only_its_task_and_names_rank_and_host",
            a_panic_fails_only_its_task_and_names_rank_and_host,
        ),
        (
            "values_that_do_not_travel_fail_their_task_with_a_typed_error",
            values_that_do_not_travel_fail_their_task_with_a_typed_error,
        ),
        (
            "stats_count_every_item_per_worker",
            stats_count_every_item_per_worker,
        ),
        ("idle_workers_do_not_spin", idle_workers_do_not_spin),
        (
            "a_crash_isolated_in_a_process_pool_fails_only_that_call",
            a_crash_isolated_in_a_process_pool_fails_only_that_call,
        ),
        // Last: it ends the pool.
        (
            "shutdown_finishes_queued_work_then_refuses_new_work",
            shutdown_finishes_queued_work_then_refuses_new_work,
        ),
    ];
    support::run_checks(&pool, checks)
}
