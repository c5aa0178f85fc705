//! `as_completed`: order of completion, already-done futures first, duplicates, timeout,
//! dropping the iterator (CPython's `test_as_completed.py`).

mod support;

use std::thread;
use std::time::Duration;

use spindle_futures::{as_completed, Future, FutureError, ThreadPoolExecutor};
use support::{Gate, LIMIT, SHORT};

fn done_with(v: i32) -> Future<i32> {
    let f = Future::new();
    f.set_result(v).unwrap();
    f
}

#[test]
fn yields_in_completion_order() {
    let futures: Vec<Future<i32>> = (0..4).map(|_| Future::new()).collect();
    thread::scope(|s| {
        let it = as_completed(&futures, Some(LIMIT));
        let setter = s.spawn(|| {
            for i in [2, 0, 3, 1] {
                futures[i].set_result(i as i32).unwrap();
            }
        });
        setter.join().unwrap();
        let got: Vec<i32> = it.map(|f| f.unwrap().result().unwrap()).collect();
        assert_eq!(got, vec![2, 0, 3, 1]);
    });
}

#[test]
fn completion_order_while_waiting() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let gates: Vec<Gate> = (0..2).map(|_| Gate::new()).collect();
    let futures: Vec<Future<usize>> = gates
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, g)| {
            pool.submit(move || {
                g.hold();
                i
            })
        })
        .collect();
    gates[1].wait_entered();
    gates[1].open();
    let mut it = as_completed(&futures, Some(LIMIT));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(1));
    gates[0].open();
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(0));
    assert!(it.next().is_none());
}

#[test]
fn already_done_first_in_input_order() {
    let pending = Future::new();
    let futures = vec![done_with(1), pending.clone(), done_with(3)];
    let mut it = as_completed(&futures, Some(LIMIT));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(1));
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(3));
    pending.set_result(2).unwrap();
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(2));
    assert!(it.next().is_none());
    assert!(it.next().is_none(), "stays ended");
}

#[test]
fn duplicates_are_yielded_once() {
    let a = done_with(1);
    let b = Future::new();
    let futures = vec![a.clone(), a.clone(), b.clone(), b.clone(), a];
    b.set_result(2).unwrap();
    let got: Vec<i32> = as_completed(&futures, Some(LIMIT))
        .map(|f| f.unwrap().result().unwrap())
        .collect();
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn timeout_yields_one_error_then_ends() {
    let futures = vec![done_with(1), Future::new(), Future::new()];
    let items: Vec<Result<i32, FutureError>> = as_completed(&futures, Some(SHORT))
        .map(|r| r.map(|f| f.result().unwrap()))
        .collect();
    assert_eq!(items, vec![Ok(1), Err(FutureError::Timeout)]);
    let zero: Vec<_> = as_completed(&futures[1..], Some(Duration::ZERO)).collect();
    assert_eq!(zero.len(), 1);
    assert_eq!(zero[0].as_ref().unwrap_err(), &FutureError::Timeout);
}

#[test]
fn cancellation_counts_as_completion() {
    let futures: Vec<Future<i32>> = vec![Future::new()];
    let mut it = as_completed(&futures, Some(LIMIT));
    assert!(futures[0].cancel());
    assert!(it.next().unwrap().unwrap().cancelled());
    assert!(it.next().is_none());
}

#[test]
fn dropping_the_iterator_unregisters_and_futures_still_settle() {
    let futures: Vec<Future<i32>> = vec![Future::new(), Future::new()];
    {
        let mut it = as_completed(&futures, None);
        futures[0].set_result(0).unwrap();
        assert!(it.next().unwrap().is_ok());
    }
    futures[1].set_result(1).unwrap();
    let got: Vec<i32> = as_completed(&futures, None)
        .map(|f| f.unwrap().result().unwrap())
        .collect();
    assert_eq!(got, vec![0, 1]);
    assert!(format!("{:?}", as_completed(&futures, None)).starts_with("AsCompleted"));
}
