//! The queue error types: `Error + Send + Sync + 'static`, exact `Display` strings (lowercase,
//! no final period), `Debug` without `T: Debug`, and the refused item handed back.

use std::error::Error;

use spindle_sync::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue, TaskDoneError,
};

fn is_error<E: Error + Send + Sync + 'static>() {}

/// An item type with no `Debug`, `Clone` or `PartialEq`.
struct Opaque(u32);

#[test]
fn error_types_are_errors() {
    is_error::<GetError>();
    is_error::<TaskDoneError>();
    is_error::<PutError<u32>>();
    is_error::<PutError<String>>();
}

#[test]
fn display_strings() {
    assert_eq!(PutError::Full(1).to_string(), "queue is full");
    assert_eq!(PutError::ShutDown(1).to_string(), "queue is shut down");
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
}

#[test]
fn debug_does_not_need_item_debug() {
    assert_eq!(format!("{:?}", PutError::Full(Opaque(1))), "Full(..)");
    assert_eq!(
        format!("{:?}", PutError::ShutDown(Opaque(1))),
        "ShutDown(..)"
    );
    assert_eq!(format!("{:?}", GetError::Empty), "Empty");
    assert_eq!(format!("{TaskDoneError:?}"), "TaskDoneError");
}

#[test]
fn full_hands_the_item_back() {
    let q = Queue::new(1);
    q.put(Opaque(1)).unwrap();
    let err = q.put_nowait(Opaque(2)).unwrap_err();
    assert!(err.is_full() && !err.is_shut_down());
    assert_eq!(err.into_inner().0, 2);
    let err = q
        .put_timeout(Opaque(3), std::time::Duration::from_millis(1))
        .unwrap_err();
    assert_eq!(err.into_inner().0, 3);
}

#[test]
fn shut_down_hands_the_item_back_for_every_kind() {
    let q = Queue::new(0);
    q.shutdown(false);
    let err = q.put(Opaque(1)).unwrap_err();
    assert!(err.is_shut_down() && !err.is_full());
    assert_eq!(err.into_inner().0, 1);

    let q = LifoQueue::new(0);
    q.shutdown(true);
    assert_eq!(q.put(Opaque(2)).unwrap_err().into_inner().0, 2);

    let q = PriorityQueue::new(0);
    q.shutdown(false);
    assert_eq!(q.put(5).unwrap_err().into_inner(), 5);

    let q = SimpleQueue::new();
    q.shutdown(false);
    assert_eq!(q.try_put(Opaque(3)).unwrap_err().into_inner().0, 3);
}

#[test]
fn errors_compare_and_source_is_none() {
    assert_eq!(PutError::Full(1), PutError::Full(1));
    assert_ne!(PutError::Full(1), PutError::ShutDown(1));
    assert!(GetError::Empty.source().is_none());
    assert!(PutError::Full(1).source().is_none());
    let boxed: Box<dyn Error + Send + Sync> = Box::new(PutError::ShutDown(String::from("x")));
    assert_eq!(boxed.to_string(), "queue is shut down");
}
