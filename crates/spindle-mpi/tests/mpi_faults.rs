//! A pool whose initializer panics on one worker is broken: every task fails with
//! `BrokenExecutor` naming that rank, nothing hangs, and the job still ends cleanly. Started by
//! `cargo test`, it relaunches itself under `mpirun -n 3`.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use spindle_futures::FutureError;
use spindle_mpi::MpiPoolExecutor;
use support::Check;

const PATIENCE: Duration = Duration::from_secs(60);

fn refuse_on_rank_two(_: ()) {
    assert_ne!(
        spindle_mpi::current_rank(),
        Some(2),
        "no configuration for this rank"
    );
}

fn one(_: ()) -> u8 {
    1
}

fn every_task_fails_as_broken_naming_the_rank(pool: &MpiPoolExecutor) {
    let err = pool.submit(one, ()).result_timeout(PATIENCE).unwrap_err();
    let FutureError::BrokenExecutor(why, _) = err else {
        panic!("expected a broken pool, got {err:?}");
    };
    assert!(why.contains("rank 2"), "{why}");
    assert!(why.contains("no configuration for this rank"), "{why}");
    let out: Vec<_> = pool.map(one, vec![(); 3], 2).timeout(PATIENCE).collect();
    assert!(
        out.iter()
            .all(|r| matches!(r, Err(FutureError::BrokenExecutor(_, _)))),
        "{out:?}"
    );
}

fn stats_count_the_failures(pool: &MpiPoolExecutor) {
    pool.shutdown(true, false);
    let stats = pool.stats();
    assert_eq!(stats.completed, 0);
    assert_eq!(stats.failed, stats.submitted);
}

fn main() -> ExitCode {
    if !support::under_mpirun() {
        return support::relaunch(3);
    }
    let pool = MpiPoolExecutor::builder()
        .initializer(refuse_on_rank_two, ())
        .start()
        .expect("a broken pool still starts");
    let checks: &[Check<MpiPoolExecutor>] = &[
        (
            "every_task_fails_as_broken_naming_the_rank",
            every_task_fails_as_broken_naming_the_rank,
        ),
        ("stats_count_the_failures", stats_count_the_failures),
    ];
    support::run_checks(&pool, checks)
}
