//! `PoolError`: an `Error + Send + Sync + 'static`, its messages, and its round trip through
//! `FutureError`; the pool types are `Send + Sync`.

use spindle_futures::FutureError;
use spindle_process::pool::{AsyncResult, Pool, PoolError, ProcessPoolExecutor};
use std::error::Error;

fn is_error<E: Error + Send + Sync + 'static>() {}
fn is_send_sync<T: Send + Sync>() {}

#[test]
fn pool_error_is_an_error() {
    is_error::<PoolError>();
}

#[test]
fn pools_are_send_and_sync() {
    is_send_sync::<Pool>();
    is_send_sync::<ProcessPoolExecutor>();
    is_send_sync::<AsyncResult<Vec<u8>>>();
}

#[test]
fn messages_are_lowercase_and_name_what_happened() {
    let all = [
        PoolError::WorkerDied {
            pid: 12,
            signal: Some(11),
            exitcode: None,
        },
        PoolError::WorkerDied {
            pid: 12,
            signal: None,
            exitcode: Some(3),
        },
        PoolError::Timeout,
        PoolError::Panicked("boom".into()),
        PoolError::Encode("x".into()),
        PoolError::Decode("y".into()),
        PoolError::Broken("z".into()),
        PoolError::Closed,
        PoolError::NotReady,
    ];
    for e in &all {
        let m = e.to_string();
        assert!(m.chars().next().unwrap().is_lowercase(), "{m}");
        assert!(!m.ends_with('.'), "{m}");
        // Round trip through the executor's error type.
        assert_eq!(
            &PoolError::from_future_error(&FutureError::from(e.clone())),
            e
        );
    }
    assert!(all[0].to_string().contains("12") && all[0].to_string().contains("SIGSEGV"));
    assert!(all[1].to_string().contains("status 3"));
    assert_eq!(format!("{:?}", PoolError::Closed), "Closed");
}

#[test]
fn mapping_into_future_errors() {
    assert_eq!(
        FutureError::from(PoolError::Panicked("m".into())),
        FutureError::Panicked("m".into())
    );
    assert_eq!(
        FutureError::from(PoolError::Broken("b".into())),
        FutureError::broken("b")
    );
    assert_eq!(FutureError::from(PoolError::Closed), FutureError::ShutDown);
    assert!(matches!(
        FutureError::from(PoolError::Timeout),
        FutureError::Failed(_)
    ));
    assert_eq!(
        PoolError::from_future_error(&FutureError::Cancelled),
        PoolError::Closed
    );
}
