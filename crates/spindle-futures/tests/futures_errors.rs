//! Error types: `Error + Send + Sync + 'static`, messages, sources, `Debug` without
//! `T: Debug`.

use std::error::Error;

use spindle_futures::{Future, FutureError, InvalidStateError, State};

fn is_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn error_types_are_errors() {
    is_error::<FutureError>();
    is_error::<InvalidStateError<u8>>();
    is_error::<InvalidStateError<FutureError>>();
}

#[test]
fn messages_are_lowercase_without_period() {
    let all = [
        FutureError::Cancelled,
        FutureError::Timeout,
        FutureError::Panicked("p".into()),
        FutureError::broken("b"),
        FutureError::ShutDown,
        FutureError::failed(std::io::Error::other("io")),
        FutureError::Taken,
    ];
    for e in &all {
        let msg = e.to_string();
        assert!(msg.chars().next().unwrap().is_lowercase(), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
    assert_eq!(all[2].to_string(), "task panicked: p");
    assert_eq!(all[3].to_string(), "executor is broken: b");
}

#[test]
fn failed_exposes_and_downcasts_its_source() {
    let e = FutureError::failed(std::io::Error::other("disk"));
    let FutureError::Failed(inner) = &e else {
        unreachable!()
    };
    assert!(inner.downcast_ref::<std::io::Error>().is_some());
    assert_eq!(e.source().unwrap().to_string(), "disk");
    assert!(FutureError::Cancelled.source().is_none());
}

#[test]
fn invalid_state_debug_needs_no_debug_value() {
    struct Opaque;
    let f = Future::new();
    f.set_result(Opaque).map_err(|_| ()).unwrap();
    let err = f.set_result(Opaque).unwrap_err();
    assert_eq!(
        format!("{err:?}"),
        "InvalidStateError { state: Finished, .. }"
    );
    assert_eq!(err.to_string(), "future is already finished");
    assert_eq!(err.state(), State::Finished);
}
