//! Auto traits of the public types.

use spindle_futures::{
    AsCompleted, Future, FutureError, InvalidStateError, Map, ReturnWhen, State, ThreadPoolBuilder,
    ThreadPoolExecutor,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Future<u8>>();
    send_sync::<Future<Vec<String>>>();
    send_sync::<FutureError>();
    send_sync::<InvalidStateError<u8>>();
    send_sync::<State>();
    send_sync::<ReturnWhen>();
    send_sync::<ThreadPoolExecutor>();
    send::<ThreadPoolBuilder>();
    send_sync::<AsCompleted<'static, u8>>();
    // Map holds the submit closure borrowing the executor; it is used where it was made.
    let _ = std::mem::size_of::<Map<'static, std::ops::Range<u8>, u8>>();
}
