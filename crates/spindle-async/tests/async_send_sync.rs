//! Auto traits and error traits: primitives are `Send + Sync`; loop handles are `Send`;
//! every error type is `Error + Send + Sync + 'static`.

use std::error::Error;

use spindle_async::*;

fn is_send_sync<T: Send + Sync>() {}
fn is_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn primitives_are_send_and_sync() {
    is_send_sync::<Lock>();
    is_send_sync::<Event>();
    is_send_sync::<Condition>();
    is_send_sync::<Semaphore>();
    is_send_sync::<BoundedSemaphore>();
    is_send_sync::<Barrier>();
    is_send_sync::<Queue<String>>();
    is_send_sync::<LifoQueue<String>>();
    is_send_sync::<PriorityQueue<String>>();
    is_send_sync::<LoopHandle>();
    is_send_sync::<ThreadsafeHandle>();
}

#[test]
fn errors_are_errors() {
    is_error::<LoopError>();
    is_error::<RunError>();
    is_error::<TaskError>();
    is_error::<Cancelled>();
    is_error::<TimeoutError>();
    is_error::<ReleaseError>();
    is_error::<OverReleaseError>();
    is_error::<BrokenBarrierError>();
    is_error::<GetError>();
    is_error::<PutError<String>>();
    is_error::<TaskDoneError>();
    is_error::<TaskGroupError<String>>();
}

#[test]
fn error_messages_are_lowercase_without_period() {
    let msgs = [
        LoopError::NoRunningLoop.to_string(),
        RunError::Stopped.to_string(),
        TaskError::Panicked("x".into()).to_string(),
        Cancelled::new(None).to_string(),
        TimeoutError.to_string(),
        ReleaseError.to_string(),
        OverReleaseError.to_string(),
        BrokenBarrierError.to_string(),
        GetError::Empty.to_string(),
        PutError::Full(1).to_string(),
        TaskDoneError.to_string(),
    ];
    for m in msgs {
        assert!(!m.ends_with('.'), "{m}");
        assert_eq!(
            m.chars().next().unwrap().to_lowercase().next(),
            m.chars().next(),
            "{m}"
        );
    }
    assert_eq!(format!("{:?}", PutError::ShutDown(vec![1])), "ShutDown(..)");
}
