//! The queues are `Send + Sync` for any `T: Send` (even `!Sync` items) and `Debug` without
//! `T: Debug`, so they can be shared through `Arc` or `&` in scoped threads.

use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{self, RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;

use spindle_sync::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue, TaskDoneError,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn debug<T: Debug>() {}
fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

/// `Send` but not `Sync` (and not `Debug`).
struct NotSync(Cell<u32>);

#[test]
fn queues_are_send_and_sync_for_send_items() {
    send_sync::<Queue<NotSync>>();
    send_sync::<LifoQueue<NotSync>>();
    send_sync::<PriorityQueue<u32>>();
    send_sync::<SimpleQueue<NotSync>>();
    send_sync::<PutError<u32>>();
    send::<PutError<NotSync>>();
    send_sync::<GetError>();
    send_sync::<TaskDoneError>();
}

#[test]
fn queues_are_debug_without_item_debug() {
    debug::<Queue<NotSync>>();
    debug::<LifoQueue<NotSync>>();
    debug::<SimpleQueue<NotSync>>();
    debug::<PutError<NotSync>>();
}

#[test]
fn queues_are_unwind_safe_without_poisoning() {
    unwind_safe::<Queue<NotSync>>();
    unwind_safe::<LifoQueue<NotSync>>();
    unwind_safe::<PriorityQueue<u32>>();
    unwind_safe::<SimpleQueue<NotSync>>();

    // An item whose `Ord` panics mid-put leaves a usable, consistent queue behind.
    static ARMED: AtomicBool = AtomicBool::new(false);
    #[derive(PartialEq, Eq)]
    struct Touchy(u32);
    impl PartialOrd for Touchy {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Touchy {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            assert!(!ARMED.load(Relaxed), "comparison refused");
            self.0.cmp(&other.0)
        }
    }
    let q = PriorityQueue::new(0);
    q.put(Touchy(1)).unwrap_or_else(|_| panic!("put failed"));
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    ARMED.store(true, Relaxed);
    let result = panic::catch_unwind(|| q.put(Touchy(0)));
    ARMED.store(false, Relaxed);
    panic::set_hook(hook);
    assert!(result.is_err());
    // The heap kept the item, and the task count agrees with it.
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.unfinished_tasks(), 2);
    // As with `BinaryHeap`, the order after a panicking comparison is unspecified.
    let mut left: Vec<u32> = (0..2)
        .filter_map(|_| q.get_nowait().ok())
        .map(|t| t.0)
        .collect();
    left.sort_unstable();
    assert_eq!(left, [0, 1]);
}

#[test]
fn a_not_sync_item_crosses_threads_through_an_arc() {
    let q = Arc::new(Queue::new(1));
    let sender = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            q.put(NotSync(Cell::new(7)))
                .unwrap_or_else(|_| panic!("put failed"))
        })
    };
    let item = q.get().unwrap_or_else(|_| panic!("get failed"));
    sender.join().unwrap();
    item.0.set(item.0.get() + 1);
    assert_eq!(item.0.get(), 8);
}
