//! Processes incrementing one shared `Value`: without its lock updates get lost (the
//! read-modify-write races between processes); with `get_lock()` the total is exact.
//!
//! Python: `multiprocessing.Value('q', 0)` with and without `with v.get_lock():`.

use spindle::multiprocessing::{Event, Process, Value};

const WORKERS: usize = 4;
const INCREMENTS: u64 = 50_000;

fn unlocked((v, go): (Value<u64>, Event)) {
    go.wait();
    for _ in 0..INCREMENTS {
        // Read, then write: another process may write in between, and its update is lost.
        let x = v.get();
        std::hint::black_box(&x);
        v.set(x + 1);
    }
}

fn locked((v, go): (Value<u64>, Event)) {
    go.wait();
    for _ in 0..INCREMENTS {
        *v.lock() += 1; // the guard holds v.get_lock() across the read-modify-write
    }
}

fn run(target: fn((Value<u64>, Event)), label: &str) -> u64 {
    let v = Value::new(0u64).expect("shared value");
    let go = Event::new().expect("event");
    let mut workers: Vec<Process> = (0..WORKERS)
        .map(|i| Process::new(target, (v.clone(), go.clone())).name(format!("{label}-{i}")))
        .collect();
    for w in &mut workers {
        w.start().expect("start worker");
    }
    go.set(); // release them together so they overlap
    for w in &workers {
        assert_eq!(w.join().expect("join"), 0, "{} failed", w.get_name());
    }
    v.get()
}

fn main() {
    spindle::multiprocessing::init();

    let expected = WORKERS as u64 * INCREMENTS;
    let racy = run(unlocked, "unlocked");
    println!(
        "without the lock: {racy} of {expected} ({} updates lost)",
        expected - racy
    );
    assert!(racy <= expected);

    let exact = run(locked, "locked");
    println!("with the lock:    {exact} of {expected}");
    assert_eq!(exact, expected);
}
