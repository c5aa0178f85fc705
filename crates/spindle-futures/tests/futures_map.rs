//! `Executor::map` / `ThreadPoolExecutor::map`: input order, laziness and the read-ahead
//! bound, timeout, panics as items, cancelling on drop (CPython's `ExecutorTest.test_map*`).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle_futures::{Executor, FutureError, ThreadPoolExecutor};
use support::{Gate, LIMIT, SHORT};

/// An input iterator that counts how many items were taken from it.
fn counted(n: usize, taken: &Arc<AtomicUsize>) -> impl Iterator<Item = usize> {
    let t = Arc::clone(taken);
    (0..n).inspect(move |_| {
        t.fetch_add(1, Ordering::SeqCst);
    })
}

/// A map task that counts its runs in `ran` and holds item 1 at `gate`, so on a one-worker
/// pool everything after item 1 stays queued until the gate opens.
fn counted_holding_item_1(
    gate: &Gate,
    ran: &Arc<AtomicUsize>,
) -> impl Fn(usize) -> usize + Send + Sync + 'static {
    let (g, r) = (gate.clone(), Arc::clone(ran));
    move |i| {
        r.fetch_add(1, Ordering::SeqCst);
        if i == 1 {
            g.hold();
        }
        i
    }
}

#[test]
fn results_come_in_input_order() {
    const N: u64 = 200;
    let pool = ThreadPoolExecutor::builder().max_workers(4).build();
    let out: Vec<u64> = pool
        .map(|x: u64| x * 2, 0..N)
        .timeout(LIMIT)
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..N).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn order_holds_when_later_items_finish_first() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let gate = Gate::new();
    let g = gate.clone();
    let mut it = pool
        .map(
            move |i: usize| {
                if i == 0 {
                    g.hold();
                }
                i
            },
            0..4,
        )
        .timeout(LIMIT);
    let opener = std::thread::spawn({
        let gate = gate.clone();
        move || {
            gate.wait_entered();
            gate.open();
        }
    });
    let out: Vec<usize> = it.by_ref().map(Result::unwrap).collect();
    opener.join().unwrap();
    assert_eq!(out, vec![0, 1, 2, 3]);
}

#[test]
fn lazy_until_first_next_and_bounded_read_ahead() {
    const N: usize = 100;
    const READ_AHEAD: usize = 3;
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let taken = Arc::new(AtomicUsize::new(0));
    let mut it = pool
        .map(|x: usize| x, counted(N, &taken))
        .read_ahead(READ_AHEAD);
    assert_eq!(
        taken.load(Ordering::SeqCst),
        0,
        "nothing submitted before next()"
    );
    for yielded in 1..=N {
        assert_eq!(it.next().unwrap().unwrap(), yielded - 1);
        let t = taken.load(Ordering::SeqCst);
        assert!(
            t <= yielded + READ_AHEAD,
            "took {t} after yielding {yielded}"
        );
    }
    assert!(it.next().is_none());
    assert_eq!(taken.load(Ordering::SeqCst), N);
}

#[test]
fn default_read_ahead_is_twice_max_workers() {
    let pool = ThreadPoolExecutor::builder().max_workers(3).build();
    let taken = Arc::new(AtomicUsize::new(0));
    let mut it = pool.map(|x: usize| x, counted(1000, &taken));
    assert_eq!(it.next(), Some(Ok(0)));
    assert!(taken.load(Ordering::SeqCst) <= 1 + 6);
    assert!(format!("{it:?}").contains("read_ahead: 6"));
}

#[test]
fn timeout_yields_one_error_cancels_the_rest_and_ends() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let mut it = pool
        .map(counted_holding_item_1(&gate, &ran), 0..10)
        .timeout(SHORT);
    assert_eq!(it.next(), Some(Ok(0)));
    assert_eq!(it.next(), Some(Err(FutureError::Timeout)));
    assert_eq!(it.next(), None);
    gate.open();
    drop(it);
    pool.shutdown(true, false);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        2,
        "tasks after the timeout were cancelled"
    );
}

#[test]
fn timeout_counts_from_the_map_call() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let mut it = pool.map(|i: i32| i, 0..3).timeout(Duration::ZERO);
    // The deadline is already over; a result that is not ready at once is a timeout.
    match it.next() {
        Some(Ok(0)) | Some(Err(FutureError::Timeout)) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn panics_are_items_and_the_stream_goes_on() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let out: Vec<Result<i32, FutureError>> = pool
        .map(
            |i: i32| {
                if i == 1 {
                    panic!("map item failure (expected by the test)");
                }
                i
            },
            0..3,
        )
        .collect();
    assert_eq!(
        out,
        vec![
            Ok(0),
            Err(FutureError::Panicked(
                "map item failure (expected by the test)".into()
            )),
            Ok(2)
        ]
    );
}

#[test]
fn dropping_the_stream_cancels_what_has_not_started() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let mut it = pool
        .map(counted_holding_item_1(&gate, &ran), 0..8)
        .read_ahead(8);
    assert_eq!(it.next(), Some(Ok(0)));
    gate.wait_entered();
    drop(it);
    gate.open();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 2, "only the started tasks ran");
}

#[test]
fn map_through_the_trait_on_an_empty_input() {
    fn run<E: Executor>(e: &E) -> usize {
        e.map(|x: u8| x, Vec::new()).count()
    }
    let pool = ThreadPoolExecutor::new();
    assert_eq!(run(&pool), 0);
}

#[test]
fn bad_inputs_read_ahead_zero_and_huge_timeout() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let taken = Arc::new(AtomicUsize::new(0));
    // read_ahead(0) is raised to 1: one task in flight at a time.
    let mut it = pool.map(|x: usize| x, counted(5, &taken)).read_ahead(0);
    assert_eq!(it.next(), Some(Ok(0)));
    assert!(taken.load(Ordering::SeqCst) <= 2);
    assert!(format!("{it:?}").contains("read_ahead: 1"));
    // A timeout too large for an Instant means no deadline, not a panic.
    let out: Vec<_> = pool.map(|x: u8| x, 0..3).timeout(Duration::MAX).collect();
    assert_eq!(out, vec![Ok(0), Ok(1), Ok(2)]);
}
