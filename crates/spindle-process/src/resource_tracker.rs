//! The resource tracker: named shared-memory segments are unlinked even if their creator
//! crashes.
//!
//! The first [`SharedMemory::create`](crate::shared_memory::SharedMemory::create) in a process
//! tree forks a tiny tracker process (see `sys::tracker`). Every process of the tree — spawned
//! children inherit the tracker's pipe through their job, forked ones by `fork` — registers
//! the names it creates and unregisters those it unlinks. When the last process of the tree
//! has exited (normally or not), the tracker unlinks whatever is still registered.
//!
//! What differs from Python's tracker, whose behaviour is a common complaint:
//! - attaching never registers, so a process that merely attached never unlinks a segment
//!   (Python's tracker unlinks segments attached by a child when that child exits);
//! - nothing is unlinked while any process of the tree is alive, so a segment created by a
//!   child may outlive that child and be picked up by its parent;
//! - no warnings are printed: cleanup of an un-unlinked segment at tree exit is the contract.

use crate::sys;
use parking_lot::Mutex;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

static TRACKER: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// The tracker pipe this process holds, to pass to a spawned child.
pub(crate) fn inherited_fd() -> Option<RawFd> {
    TRACKER.lock().as_ref().map(|fd| fd.as_raw_fd())
}

/// Takes over the tracker pipe a spawned child received from its parent.
pub(crate) fn adopt(fd: OwnedFd) {
    *TRACKER.lock() = Some(fd);
}

/// Registers `name` (with its leading `/`), starting the tracker if this tree has none.
///
/// Failures are ignored: tracking is best effort and never blocks creating a segment.
pub(crate) fn register(name: &str) {
    send(b'R', name, true);
}

/// Unregisters `name` after it was unlinked.
pub(crate) fn unregister(name: &str) {
    send(b'U', name, false);
}

fn send(op: u8, name: &str, start: bool) {
    let Some(rec) = sys::tracker::record(op, name) else {
        return;
    };
    let mut t = TRACKER.lock();
    if t.is_none() && start {
        if let Ok((fd, _pid)) = sys::tracker::start_tracker() {
            *t = Some(fd);
        }
    }
    if let Some(fd) = t.as_ref() {
        let _ = sys::tracker::send_record(fd.as_fd(), &rec);
    }
}
