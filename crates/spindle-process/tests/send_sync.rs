//! Auto traits and error traits of the public types.

use std::error::Error;

use spindle_process::connection::ConnectionError;
use spindle_process::queues::{GetError, PutError, TaskDoneError};
use spindle_process::shared_memory::{SharedMemory, ShmError};
use spindle_process::shipping::ShipError;
use spindle_process::synchronize::{BrokenBarrierError, OverReleaseError, ReleaseError};
use spindle_process::*;

fn send_sync<T: Send + Sync>() {}
fn is_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Process>();
    send_sync::<Connection>();
    send_sync::<Queue<String>>();
    send_sync::<JoinableQueue<String>>();
    send_sync::<SimpleQueue<String>>();
    send_sync::<Lock>();
    send_sync::<RLock>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<Event>();
    send_sync::<Condition>();
    send_sync::<Barrier>();
    send_sync::<Value<u64>>();
    send_sync::<Array<f64>>();
    send_sync::<SharedMemory>();
}

#[test]
fn errors_are_errors() {
    is_error::<ProcessError>();
    is_error::<ConnectionError>();
    is_error::<GetError>();
    is_error::<PutError<String>>();
    is_error::<TaskDoneError>();
    is_error::<ShmError>();
    is_error::<ShipError>();
    is_error::<ReleaseError>();
    is_error::<BrokenBarrierError>();
    is_error::<OverReleaseError>();
}

#[test]
fn error_messages_are_lowercase_without_period() {
    let msgs = [
        ProcessError::DaemonChildren.to_string(),
        ConnectionError::Eof.to_string(),
        GetError::Empty.to_string(),
        PutError::Full(1u8).to_string(),
        ShmError::InvalidSize.to_string(),
        ReleaseError::Unlocked.to_string(),
        BrokenBarrierError.to_string(),
    ];
    for m in msgs {
        assert!(m.chars().next().unwrap().is_lowercase(), "{m}");
        assert!(!m.ends_with('.'), "{m}");
    }
    // Debug of a refused item does not need `T: Debug`.
    struct Opaque;
    assert_eq!(format!("{:?}", PutError::Closed(Opaque)), "Closed(..)");
}
