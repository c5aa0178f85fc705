//! The collections are `Send + Sync` for `Send + Sync` contents (so they can sit in an `Arc`
//! or be borrowed by scoped threads), and their errors are proper `Error + Send + Sync`.

use std::error::Error;
use std::rc::Rc;

use spindle_sync::collections::{
    CacheBuilder, CacheInfo, IndexError, ManualClock, SystemClock, ThreadSafeCache, ThreadSafeDict,
    ThreadSafeList, WaitTimeout,
};

fn is_send_sync<T: Send + Sync>() {}
fn is_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn collections_are_send_and_sync() {
    is_send_sync::<ThreadSafeDict<String, Vec<u8>>>();
    is_send_sync::<ThreadSafeList<String>>();
    is_send_sync::<ThreadSafeCache<String, Vec<u8>>>();
    is_send_sync::<CacheBuilder>();
    is_send_sync::<CacheInfo>();
    is_send_sync::<ManualClock>();
    is_send_sync::<SystemClock>();
}

#[test]
fn errors_are_errors() {
    is_error::<IndexError>();
    is_error::<IndexError<String>>();
    is_error::<WaitTimeout>();
}

#[test]
fn index_error_debug_needs_no_debug_item() {
    struct Opaque;
    let list = ThreadSafeList::new();
    let Err(err) = list.set(0, Rc::new(Opaque)) else {
        panic!("an empty list has no position 0");
    };
    assert_eq!(format!("{err:?}"), "IndexError { index: 0, len: 0, .. }");
    assert_eq!(err.to_string(), "list index 0 out of range for length 0");
}
