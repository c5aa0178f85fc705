//! `threading::Local`: CPython's `Lib/test/test_threading_local.py` in spirit (PSF
//! licence): values are per thread, start from `init` on each thread, and are dropped when
//! their thread exits.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use spindle_sync::threading::Local;

#[test]
fn smoke_each_thread_sees_its_own_value() {
    const THREADS: usize = 4;
    let local = Local::new(|| 0usize);
    local.with(|v| *v.borrow_mut() = 100);
    std::thread::scope(|s| {
        for i in 0..THREADS {
            let local = &local;
            s.spawn(move || {
                local.with(|v| {
                    assert_eq!(*v.borrow(), 0);
                    *v.borrow_mut() = i;
                });
                for _ in 0..100 {
                    local.with(|v| assert_eq!(*v.borrow(), i));
                }
            });
        }
    });
    local.with(|v| assert_eq!(*v.borrow(), 100));
}

#[test]
fn init_runs_once_per_thread() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let local = Local::new(move || {
        i.fetch_add(1, Ordering::SeqCst);
        String::from("fresh")
    });
    local.with(|_| {});
    local.with(|_| {});
    std::thread::scope(|s| {
        s.spawn(|| {
            local.with(|_| {});
            local.with(|_| {});
        });
    });
    assert_eq!(inits.load(Ordering::SeqCst), 2);
}

struct CountsDrops(Arc<AtomicUsize>);
impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn values_drop_when_their_thread_exits() {
    // test_threading_local._local_refs: no value outlives its thread.
    const THREADS: usize = 5;
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || CountsDrops(d.clone())));
    // `JoinHandle::join` (unlike a scope's end) waits for the OS thread, and so for its
    // thread-local destructors.
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let local = local.clone();
            std::thread::spawn(move || local.with(|_| {}))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), THREADS);
}

#[test]
fn dropping_the_local_drops_this_threads_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Local::new(move || CountsDrops(d.clone()));
    local.with(|_| {});
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(local);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn values_of_a_dropped_local_on_other_threads_are_purged() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || CountsDrops(d.clone())));
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let (to_main, from_worker) = std::sync::mpsc::channel::<()>();
    let l2 = local.clone();
    let worker = std::thread::spawn(move || {
        l2.with(|_| {});
        drop(l2);
        to_main.send(()).unwrap();
        from_main.recv().unwrap();
        // A new value on this thread purges the one of the dropped Local.
        Local::new(|| 1u8).with(|_| {});
        to_main.send(()).unwrap();
        from_main.recv().unwrap();
    });
    from_worker.recv().unwrap();
    drop(local); // the last handle: the Local is gone
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    to_worker.send(()).unwrap();
    from_worker.recv().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    to_worker.send(()).unwrap();
    worker.join().unwrap();
}

#[test]
fn non_send_values_are_fine() {
    // Values never leave their thread, so `Rc` is allowed and the Local is still Sync.
    let local = Local::new(|| Rc::new(RefCell::new(vec![1])));
    std::thread::scope(|s| {
        s.spawn(|| local.with(|v| v.borrow().borrow_mut().push(2)));
    });
    local.with(|v| assert_eq!(*v.borrow().borrow(), [1]));
}

#[test]
fn nested_use_of_other_locals_and_from_init() {
    let a = Local::new(|| 1u32);
    let b = Local::new(|| 10u32);
    a.with(|x| {
        b.with(|y| *y.borrow_mut() += *x.borrow());
        a.with(|x2| assert_eq!(*x2.borrow(), 1)); // re-entry
    });
    b.with(|y| assert_eq!(*y.borrow(), 11));
    let base = Arc::new(Local::new(|| 5u32));
    let b2 = base.clone();
    let derived = Local::new(move || b2.with(|v| *v.borrow() * 2));
    derived.with(|v| assert_eq!(*v.borrow(), 10));
}
