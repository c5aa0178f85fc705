//! A deadlock found instead of a hang: two tellers transfer money between the same two
//! accounts in opposite directions, each locking "from" then "to". With a `Barrier` making
//! sure both hold their first lock, they are stuck for good — the classic lock-order
//! deadlock that Python reports only as a frozen program.
//!
//! With the `deadlock-detection` feature, teller-2's timed acquire
//! (`acquire_timeout_checked`) comes back with the wait chain — both threads, the lock each
//! holds and the lock each waits for — which the demo prints; teller-2 then backs off,
//! releases what it holds, and redoes its transfer in a global order, so both transfers
//! complete and the money adds up. In a debug build the lock-order checker also prints, to
//! stderr, that the second teller to reach its second lock takes the two accounts in the
//! opposite order to the first — before it even blocks. Set
//! `SPINDLE_DEADLOCK_BACKTRACE=1` to also see where each lock was taken.
//!
//! Run: `cargo run -p spindle --example deadlock_demo --features deadlock-detection`
//! (without the feature it still finishes, reporting only a timeout).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::threading::deadlock::{AcquireError, DeadlockCycle};
use spindle::threading::{Barrier, Lock, Thread};

/// How long one attempt at the second lock waits before asking why.
const ATTEMPT: Duration = Duration::from_millis(50);
/// Attempts before giving up on seeing the other teller park (it parks within microseconds).
const MAX_ATTEMPTS: u32 = 200;

struct Account {
    name: &'static str,
    lock: Lock,
    balance: AtomicI64,
}

impl Account {
    fn new(name: &'static str, balance: i64) -> Self {
        Self {
            name,
            lock: Lock::named(name),
            balance: AtomicI64::new(balance),
        }
    }
}

/// Moves `amount` while the caller holds both accounts' locks.
fn move_money(from: &Account, to: &Account, amount: i64) {
    from.balance.fetch_sub(amount, Ordering::Relaxed);
    to.balance.fetch_add(amount, Ordering::Relaxed);
    println!("moved {amount} from {} to {}", from.name, to.name);
}

/// Whether this build reports deadlocks: a thread re-taking a `Lock` it holds is the
/// smallest one.
fn detection_enabled() -> bool {
    let probe = Lock::new();
    let _held = probe.lock();
    matches!(
        probe.acquire_timeout_checked(Duration::from_millis(1)),
        Err(AcquireError::Deadlock(_))
    )
}

fn main() {
    let detecting = detection_enabled();
    println!(
        "deadlock detection is {}",
        if detecting {
            "on"
        } else {
            "off (build with --features deadlock-detection)"
        }
    );
    let checking = Arc::new(Account::new("checking", 100));
    let savings = Arc::new(Account::new("savings", 100));
    let both_hold_one = Arc::new(Barrier::new(2, None));

    // teller-1: checking -> savings, blocking waits (it will be the one left waiting).
    let teller1 = {
        let (from, to, barrier) = (
            Arc::clone(&checking),
            Arc::clone(&savings),
            Arc::clone(&both_hold_one),
        );
        Thread::builder()
            .name("teller-1")
            .spawn(move || {
                let _from = from.lock.lock();
                barrier.wait(None).unwrap();
                let _to = to.lock.lock(); // waits for teller-2's savings lock
                move_money(&from, &to, 30);
            })
            .unwrap()
    };

    // teller-2: savings -> checking, timed waits that say why they failed.
    let teller2 = {
        let (from, to, barrier) = (
            Arc::clone(&savings),
            Arc::clone(&checking),
            Arc::clone(&both_hold_one),
        );
        Thread::builder()
            .name("teller-2")
            .spawn(move || -> Option<DeadlockCycle> {
                let from_guard = from.lock.lock();
                barrier.wait(None).unwrap();
                let mut found = None;
                for _ in 0..MAX_ATTEMPTS {
                    match to.lock.acquire_timeout_checked(ATTEMPT) {
                        Ok(()) => unreachable!("teller-1 holds checking until it gets savings"),
                        Err(AcquireError::Deadlock(cycle)) => {
                            println!("teller-2 detected:\n{cycle}");
                            found = Some(cycle);
                            break;
                        }
                        // With detection on: teller-1 has not parked yet, ask again.
                        Err(AcquireError::Timeout) if detecting => continue,
                        Err(AcquireError::Timeout) => {
                            println!("teller-2 timed out waiting for checking");
                            break;
                        }
                    }
                }
                // Back off: release savings so teller-1 can finish, then redo the transfer
                // taking the locks in one global order (by account name).
                drop(from_guard);
                println!("teller-2 backs off and retries in lock order");
                let (first, second) = if from.name < to.name {
                    (&from, &to)
                } else {
                    (&to, &from)
                };
                let _a = first.lock.lock();
                let _b = second.lock.lock();
                move_money(&from, &to, 50);
                found
            })
            .unwrap()
    };

    teller1.join().unwrap();
    let cycle = teller2.join().unwrap();

    let total = checking.balance.load(Ordering::Relaxed) + savings.balance.load(Ordering::Relaxed);
    assert_eq!(total, 200, "money is conserved");
    assert_eq!(checking.balance.load(Ordering::Relaxed), 100 - 30 + 50);
    if detecting {
        let cycle = cycle.expect("the deadlock was reported");
        assert_eq!(cycle.len(), 2);
        let names: Vec<&str> = cycle.threads().iter().map(|t| t.name()).collect();
        assert!(names.contains(&"teller-1") && names.contains(&"teller-2"));
        let teller1 = cycle
            .threads()
            .iter()
            .find(|t| t.name() == "teller-1")
            .unwrap();
        assert_eq!(teller1.waits_for().name(), Some("savings"));
        assert_eq!(
            teller1.holds().map(|h| h.lock().name()),
            Some(Some("checking"))
        );
    }
    println!(
        "done: checking {}, savings {}",
        checking.balance.load(Ordering::Relaxed),
        savings.balance.load(Ordering::Relaxed)
    );
}
