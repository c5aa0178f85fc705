//! Auto traits of the threading types (tokio's tests/async_send_sync.rs pattern): what must
//! be `Send + Sync` is, and what must not be `Send` (guards of owner-tracking locks) is not.

#![allow(dead_code)]

use std::rc::Rc;
use std::sync::Arc;

use spindle_sync::threading::*;

fn send_sync<T: Send + Sync>() {}
fn sync<T: Sync>() {}

#[test]
fn shared_types_are_send_and_sync() {
    send_sync::<Lock>();
    send_sync::<RLock>();
    send_sync::<RawMutex>();
    send_sync::<RawRLock>();
    send_sync::<RawRwLock>();
    send_sync::<Condition>();
    send_sync::<Condition<RLock>>();
    send_sync::<Condition<Arc<Lock>>>();
    send_sync::<Condition<&'static RLock>>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<Event>();
    send_sync::<Barrier>();
    send_sync::<Timer>();
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<ThreadInfo>();
    send_sync::<Thread<String>>();
    send_sync::<Builder>();
    send_sync::<Panicked>();
    send_sync::<MainGuard>();
    // Values never leave their thread, so even a `!Send` value is fine.
    send_sync::<Local<Rc<u8>>>();
}

#[test]
fn guards_are_sync() {
    sync::<LockGuard<'static>>();
    sync::<LockGuard<'static, RawRLock>>();
    sync::<RwLockReadGuard<'static, u8>>();
    sync::<RwLockWriteGuard<'static, u8>>();
    sync::<SemaphorePermit<'static>>();
}

/// Compiles only if `T` is not `Send`: with two blanket impls the call is ambiguous exactly
/// when the `Send` one applies.
trait AmbiguousIfSend<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

#[test]
fn lock_guards_are_not_send() {
    <LockGuard<'static> as AmbiguousIfSend<_>>::some_item();
    <LockGuard<'static, RawRLock> as AmbiguousIfSend<_>>::some_item();
}
