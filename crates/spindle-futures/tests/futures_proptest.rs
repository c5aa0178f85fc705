//! Model test: random submit / cancel / release / shutdown sequences never hang, and every
//! future ends in exactly one terminal state that agrees with what ran.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use spindle_futures::{Future, FutureError, State, ThreadPoolExecutor};
use spindle_sync::threading::Event;
use support::LIMIT;

#[derive(Debug, Clone)]
enum Op {
    Submit { hold: bool },
    Cancel(usize),
    Release,
    Shutdown { wait: bool, cancel: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|hold| Op::Submit { hold }),
        2 => (0usize..32).prop_map(Op::Cancel),
        1 => Just(Op::Release),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(wait, cancel)| Op::Shutdown { wait, cancel }),
    ]
}

struct Tracked {
    future: Future<usize>,
    runs: Arc<AtomicUsize>,
    callbacks: Arc<AtomicUsize>,
    cancel_said_yes: bool,
    after_shutdown: bool,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_future_ends_in_one_terminal_state(
        workers in 1usize..4,
        ops in proptest::collection::vec(op(), 1..24),
    ) {
        let pool = ThreadPoolExecutor::builder().max_workers(workers).build();
        let gate = Arc::new(Event::new());
        let mut tracked: Vec<Tracked> = Vec::new();
        let mut shut = false;
        for op in ops {
            match op {
                Op::Submit { hold } => {
                    let runs = Arc::new(AtomicUsize::new(0));
                    let (r, g) = (Arc::clone(&runs), Arc::clone(&gate));
                    let index = tracked.len();
                    let future = pool.submit(move || {
                        r.fetch_add(1, Ordering::SeqCst);
                        if hold {
                            assert!(g.wait_timeout(LIMIT), "gate never opened");
                        }
                        index
                    });
                    let callbacks = Arc::new(AtomicUsize::new(0));
                    let c = Arc::clone(&callbacks);
                    future.add_done_callback(move |_| { c.fetch_add(1, Ordering::SeqCst); });
                    tracked.push(Tracked { future, runs, callbacks, cancel_said_yes: false, after_shutdown: shut });
                }
                Op::Cancel(i) => {
                    if let Some(t) = tracked.get_mut(i) {
                        t.cancel_said_yes |= t.future.cancel();
                    }
                }
                Op::Release => gate.set(),
                Op::Shutdown { wait, cancel } => {
                    if wait {
                        gate.set();
                    }
                    pool.shutdown(wait, cancel);
                    shut = true;
                }
            }
        }
        gate.set();
        pool.shutdown(true, false);
        for (i, t) in tracked.iter().enumerate() {
            let runs = t.runs.load(Ordering::SeqCst);
            prop_assert!(t.future.done(), "future {} not done after shutdown(wait)", i);
            prop_assert_eq!(t.callbacks.load(Ordering::SeqCst), 1, "callbacks of {}", i);
            match t.future.state() {
                State::Cancelled => {
                    prop_assert_eq!(runs, 0);
                    prop_assert_eq!(t.future.result(), Err(FutureError::Cancelled));
                }
                State::Finished => {
                    prop_assert!(!t.cancel_said_yes, "cancel said yes but {} finished", i);
                    if t.after_shutdown {
                        prop_assert_eq!(runs, 0);
                        prop_assert_eq!(t.future.result(), Err(FutureError::ShutDown));
                    } else {
                        prop_assert_eq!(runs, 1);
                        prop_assert_eq!(t.future.result(), Ok(i));
                    }
                }
                other => prop_assert!(false, "future {} ended {:?}", i, other),
            }
        }
    }
}
