//! The race a lock fixes: several tellers deposit into one account at once.
//!
//! Without a lock each deposit is "read the balance, then write balance + amount", and two
//! tellers that read the same balance lose one deposit (Python's classic `balance += 1`
//! race). The read and the write are separate atomic operations, so the program is safe Rust
//! yet racy in the sense that matters. With `spindle::threading::Lock` around the
//! read-modify-write, the total is exact.
//!
//! Run: `cargo run -p spindle --example bank_account`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use spindle::threading::{Barrier, Lock, Thread};

const TELLERS: u64 = 4;
const DEPOSITS: u64 = 20_000;

struct Account {
    balance: AtomicU64,
}

impl Account {
    /// Read, then write: another teller may write in between.
    fn deposit_unsafely(&self, amount: u64) {
        let seen = self.balance.load(Ordering::Relaxed);
        // Give the scheduler a chance to interleave another teller here now and then, as a
        // busy machine would.
        if seen % 64 == 0 {
            std::thread::yield_now();
        }
        self.balance.store(seen + amount, Ordering::Relaxed);
    }
}

/// Runs `TELLERS` threads that each deposit 1 `DEPOSITS` times; returns the final balance.
fn run(lock: Option<Arc<Lock>>) -> u64 {
    let account = Arc::new(Account {
        balance: AtomicU64::new(0),
    });
    // Start every teller at the same moment so they really overlap.
    let start = Arc::new(Barrier::new(TELLERS as usize, None));
    let tellers: Vec<_> = (0..TELLERS)
        .map(|i| {
            let (account, lock, start) = (account.clone(), lock.clone(), start.clone());
            Thread::builder()
                .name(format!("teller-{i}"))
                .spawn(move || {
                    start.wait(None).expect("barrier broken");
                    for _ in 0..DEPOSITS {
                        match &lock {
                            Some(lock) => {
                                let _held = lock.lock(); // Python: `with lock:`
                                account.deposit_unsafely(1);
                            }
                            None => account.deposit_unsafely(1),
                        }
                    }
                })
                .expect("spawn teller")
        })
        .collect();
    for t in tellers {
        t.join().expect("teller panicked");
    }
    account.balance.load(Ordering::Relaxed)
}

fn main() {
    let expected = TELLERS * DEPOSITS;

    let racy = run(None);
    println!(
        "without a lock: balance {racy} of {expected} ({} deposits lost)",
        expected - racy
    );
    // Deposits can only be lost, never invented.
    assert!(racy <= expected);

    let exact = run(Some(Arc::new(Lock::new())));
    println!("with a lock:    balance {exact} of {expected}");
    assert_eq!(exact, expected);
}
