//! `threading::RwLock`: parking_lot's `RwLock` tests in spirit (MIT/Apache-2.0): readers
//! share, writers exclude, a waiting writer holds back new readers, timeouts return `None`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use spindle_sync::threading::RwLock;
use support::{at_least, timed, wait_until, LIMIT, SHORT};

#[test]
fn smoke() {
    let l = RwLock::new(1);
    {
        let a = l.read();
        let b = l.read();
        assert_eq!(*a + *b, 2);
        assert!(l.is_locked());
        assert!(!l.is_locked_exclusive());
    }
    {
        let mut w = l.write();
        *w = 5;
        assert!(l.is_locked_exclusive());
    }
    assert!(!l.is_locked());
    assert_eq!(l.into_inner(), 5);
}

#[test]
fn try_forms() {
    let l = RwLock::new(());
    let r = l.try_read().unwrap();
    assert!(l.try_write().is_none());
    assert!(l.try_read().is_some());
    drop(r);
    let w = l.try_write().unwrap();
    assert!(l.try_read().is_none());
    assert!(l.try_write().is_none());
    drop(w);
}

#[test]
fn timeouts_return_none_after_roughly_the_timeout() {
    let l = RwLock::new(0);
    let w = l.write();
    std::thread::scope(|s| {
        s.spawn(|| {
            let (r, took) = timed(|| l.try_read_for(SHORT).is_none());
            assert!(r);
            at_least(took, SHORT);
            let (r, took) = timed(|| l.try_write_for(SHORT).is_none());
            assert!(r);
            at_least(took, SHORT);
        });
    });
    drop(w);
    assert!(l.try_read_for(SHORT).is_some());
    assert!(l.try_write_for(SHORT).is_some());
}

#[test]
fn waiting_writer_holds_back_new_readers() {
    let l = RwLock::new(0);
    let r = l.read();
    let writer_started = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let w = s.spawn(|| {
            writer_started.store(1, Ordering::SeqCst);
            let mut g = l.try_write_for(LIMIT).expect("writer starved");
            *g += 1;
        });
        wait_until("the writer started", || {
            writer_started.load(Ordering::SeqCst) == 1
        });
        // Once the writer announced itself, a new reader is refused although only readers
        // hold the lock.
        wait_until("the writer waits", || l.try_read().is_none());
        drop(r);
        w.join().unwrap();
    });
    assert_eq!(*l.read(), 1);
}

#[test]
fn timed_out_writer_lets_readers_in_again() {
    let l = RwLock::new(());
    let r = l.read();
    std::thread::scope(|s| {
        s.spawn(|| assert!(l.try_write_for(SHORT).is_none()));
    });
    // The writer gave up: readers may enter again.
    assert!(l.try_read().is_some());
    drop(r);
}

#[test]
fn readers_blocked_by_a_writer_all_get_in() {
    const READERS: usize = 4;
    let l = RwLock::new(0);
    let w = l.write();
    let started = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    started.fetch_add(1, Ordering::SeqCst);
                    *l.try_read_for(LIMIT).expect("reader starved")
                })
            })
            .collect();
        wait_until("readers started", || {
            started.load(Ordering::SeqCst) == READERS
        });
        let mut w = w;
        *w = 7;
        drop(w);
        for h in hs {
            assert_eq!(h.join().unwrap(), 7);
        }
    });
}

#[test]
fn get_mut_and_default() {
    let mut l: RwLock<Vec<u8>> = RwLock::default();
    l.get_mut().push(1);
    assert_eq!(*l.read(), [1]);
}

#[test]
fn no_poisoning_after_a_panicking_writer() {
    let l = RwLock::new(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = l.write();
        panic!("writer panics");
    }));
    assert!(r.is_err());
    assert!(!l.is_locked());
    *l.write() += 1;
}

#[test]
fn stress_counter_exact_with_readers_checking_consistency() {
    const WRITERS: usize = 2;
    const READERS: usize = 2;
    const OPS: usize = 10_000;
    let l = RwLock::new((0usize, 0usize));
    std::thread::scope(|s| {
        for _ in 0..WRITERS {
            s.spawn(|| {
                for _ in 0..OPS {
                    let mut g = l.try_write_for(LIMIT).expect("writer starved");
                    g.0 += 1;
                    g.1 += 1;
                }
            });
        }
        for _ in 0..READERS {
            s.spawn(|| {
                for _ in 0..OPS {
                    let g = l.try_read_for(LIMIT).expect("reader starved");
                    assert_eq!(g.0, g.1, "a reader saw a half-done write");
                }
            });
        }
    });
    assert_eq!(l.into_inner(), (WRITERS * OPS, WRITERS * OPS));
}

#[test]
fn stress_timeouts_leave_the_lock_clean() {
    const THREADS: usize = 4;
    const OPS: usize = 3_000;
    let tiny = std::time::Duration::from_micros(20);
    let l = RwLock::new((0usize, 0usize));
    let writes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (l, writes) = (&l, &writes);
            s.spawn(move || {
                for i in 0..OPS {
                    if (i + t) % 3 == 0 {
                        if let Some(mut g) = l.try_write_for(tiny) {
                            g.0 += 1;
                            g.1 += 1;
                            writes.fetch_add(1, Ordering::Relaxed);
                        }
                    } else if let Some(g) = l.try_read_for(tiny) {
                        assert_eq!(g.0, g.1);
                    }
                }
            });
        }
    });
    // No waiting-writer count or parked bit leaked: both kinds of access work at once.
    assert!(!l.is_locked());
    assert!(l.try_read().is_some());
    assert!(l.try_write().is_some());
    let (a, b) = l.into_inner();
    assert_eq!(
        (a, b),
        (
            writes.load(Ordering::Relaxed),
            writes.load(Ordering::Relaxed)
        )
    );
}
