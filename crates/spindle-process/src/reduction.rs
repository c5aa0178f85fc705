//! How handles that own descriptors travel inside serialised arguments.
//!
//! Python pickles a `Connection` by duplicating its descriptor into the child. Here the
//! `Serialize` impl of such a handle records the descriptor in a per-thread list that the
//! process-start path opened with [`collect_fds`], and writes only its index. The start path
//! then keeps those descriptors open in the child (same numbers for spawn, inherited for fork;
//! a pool can send them with `SCM_RIGHTS`). On the receiving side [`with_incoming_fds`] makes
//! the received descriptors available to `Deserialize` impls, which take a duplicate by index.
//!
//! Outside those two windows serialising or deserialising such a handle is an error
//! ([`NOT_IN_START`]), never a dangling descriptor number.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use std::cell::RefCell;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// The error text for a descriptor-owning handle serialised outside a process start.
pub(crate) const NOT_IN_START: &str = "this handle owns a file descriptor and can only be sent as an argument of a process start (or pool task)";

thread_local! {
    static OUTGOING: RefCell<Option<Vec<RawFd>>> = const { RefCell::new(None) };
    static INCOMING: RefCell<Option<Vec<OwnedFd>>> = const { RefCell::new(None) };
}

/// Runs `f` (which serialises arguments) and returns the descriptors their handles recorded.
///
/// The numbers are borrowed: the handles that own them must stay alive until the child has
/// them. Calls nest: an inner window hides the outer one.
pub(crate) fn collect_fds<R>(f: impl FnOnce() -> R) -> (R, Vec<RawFd>) {
    let saved = OUTGOING.with(|o| o.replace(Some(Vec::new())));
    let r = f();
    let fds = OUTGOING.with(|o| o.replace(saved)).unwrap_or_default();
    (r, fds)
}

/// Runs `f` (which deserialises arguments) with `fds` available by index.
///
/// Each deserialised handle takes its own duplicate; the originals close when `f` returns.
pub(crate) fn with_incoming_fds<R>(fds: Vec<OwnedFd>, f: impl FnOnce() -> R) -> R {
    let saved = INCOMING.with(|i| i.replace(Some(fds)));
    let r = f();
    INCOMING.with(|i| i.replace(saved));
    r
}

/// Serialises `fd` as its index in the current outgoing list.
pub(crate) fn serialize_fd<S: Serializer>(fd: BorrowedFd<'_>, s: S) -> Result<S::Ok, S::Error> {
    let raw = fd.as_raw_fd();
    let index = OUTGOING.with(|o| {
        let mut o = o.borrow_mut();
        let list = o.as_mut()?;
        Some(match list.iter().position(|&f| f == raw) {
            Some(i) => i,
            None => {
                list.push(raw);
                list.len() - 1
            }
        })
    });
    match index {
        Some(i) => s.serialize_u32(i as u32),
        None => Err(S::Error::custom(NOT_IN_START)),
    }
}

/// Deserialises an index written by [`serialize_fd`] into a fresh duplicate of that descriptor.
pub(crate) fn deserialize_fd<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedFd, D::Error> {
    let index = u32::deserialize(d)? as usize;
    INCOMING.with(|i| {
        let i = i.borrow();
        let list = i.as_ref().ok_or_else(|| D::Error::custom(NOT_IN_START))?;
        let fd = list
            .get(index)
            .ok_or_else(|| D::Error::custom(format!("descriptor index {index} was not passed")))?;
        fd.try_clone()
            .map_err(|e| D::Error::custom(format!("cannot duplicate a passed descriptor: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Holder(#[serde(with = "fd_serde")] OwnedFd);

    mod fd_serde {
        use super::*;
        pub(super) fn serialize<S: Serializer>(fd: &OwnedFd, s: S) -> Result<S::Ok, S::Error> {
            serialize_fd(fd.as_fd(), s)
        }
        pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedFd, D::Error> {
            deserialize_fd(d)
        }
    }

    #[test]
    fn outside_a_start_is_an_error() {
        let (a, _b) = crate::sys::pipe().unwrap();
        let err = crate::codec::encode(&Holder(a)).unwrap_err();
        assert!(
            matches!(err, crate::codec::CodecError::Encode(m) if m.contains("file descriptor"))
        );
    }

    #[test]
    fn same_descriptor_twice_gets_one_index() {
        let (a, _b) = crate::sys::pipe().unwrap();
        let h = Holder(a);
        let (bytes, fds) = collect_fds(|| crate::codec::encode(&(&h, &h)).unwrap());
        assert_eq!(fds, vec![h.0.as_raw_fd()]);
        let passed = vec![h.0.try_clone().unwrap()];
        let (x, y): (Holder, Holder) =
            with_incoming_fds(passed, || crate::codec::decode(&bytes).unwrap());
        assert_ne!(x.0.as_raw_fd(), y.0.as_raw_fd());
    }
}
