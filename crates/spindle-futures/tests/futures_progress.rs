//! `progress::ProgressExt` (feature `progress`): items pass through unchanged and in order,
//! the bar counts them and finishes at the end, over plain iterators, `map` and
//! `as_completed`; lengths from the size hint or given.

#![cfg(feature = "progress")]

mod support;

use spindle_futures::progress::{ProgressBar, ProgressDrawTarget, ProgressExt};
use spindle_futures::{as_completed, FutureError, ThreadPoolExecutor};
use support::LIMIT;

/// Items pushed through each adaptor.
const ITEMS: u64 = 200;

fn hidden(len: Option<u64>) -> ProgressBar {
    ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden())
}

#[test]
fn every_item_passes_through_unchanged_and_in_order() {
    let bar = hidden(Some(ITEMS));
    let input: Vec<String> = (0..ITEMS).map(|i| format!("item-{i}")).collect();
    let output: Vec<String> = input
        .clone()
        .into_iter()
        .progress_with(bar.clone())
        .collect();
    assert_eq!(output, input);
    assert_eq!(bar.position(), ITEMS);
    assert!(
        bar.is_finished(),
        "the end of the iterator finishes the bar"
    );
}

#[test]
fn a_pool_map_keeps_its_results_and_errors() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let bar = hidden(Some(ITEMS));
    let out: Vec<Result<u64, FutureError>> = pool
        .map(
            |x: u64| {
                assert!(x != 7, "seven fails (expected by the test)");
                x * 3
            },
            0..ITEMS,
        )
        .progress_with(bar.clone())
        .collect();
    assert_eq!(out.len() as u64, ITEMS);
    for (x, r) in (0..ITEMS).zip(&out) {
        match r {
            Ok(v) => assert_eq!(*v, x * 3),
            Err(e) => {
                assert_eq!(x, 7);
                assert!(matches!(e, FutureError::Panicked(_)));
            }
        }
    }
    assert_eq!(bar.position(), ITEMS);
}

#[test]
fn as_completed_yields_each_future_once() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let futures: Vec<_> = (0..ITEMS).map(|i| pool.submit(move || i)).collect();
    let bar = hidden(None);
    let mut seen: Vec<u64> = as_completed(&futures, Some(LIMIT))
        .progress_with(bar.clone())
        .map(|f| f.unwrap().result().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..ITEMS).collect::<Vec<_>>());
    assert_eq!(bar.position(), ITEMS);
}

#[test]
fn lengths_come_from_the_size_hint_or_the_caller() {
    let (_, exact) = (0..ITEMS).progress().into_parts();
    exact.set_draw_target(ProgressDrawTarget::hidden());
    assert_eq!(exact.length(), Some(ITEMS));

    let (_, unknown) = (0..ITEMS).filter(|x| x % 2 == 0).progress().into_parts();
    unknown.set_draw_target(ProgressDrawTarget::hidden());
    assert_eq!(unknown.length(), None, "a filter cannot know its length");

    let given = (0..ITEMS)
        .filter(|x| x % 2 == 0)
        .progress_with_len(ITEMS / 2);
    given.bar().set_draw_target(ProgressDrawTarget::hidden());
    assert_eq!(given.bar().length(), Some(ITEMS / 2));
    assert_eq!(given.count() as u64, ITEMS / 2);
}

#[test]
fn an_empty_iterator_finishes_at_once() {
    let bar = hidden(Some(0));
    let mut it = std::iter::empty::<u8>().progress_with(bar.clone());
    assert_eq!(it.next(), None);
    assert!(bar.is_finished());
    assert_eq!(it.len(), 0, "exact size passes through");
}
