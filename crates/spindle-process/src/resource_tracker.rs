//! The resource tracker: named shared-memory segments are unlinked, and private directories
//! (a manager's socket directory) removed, even if their creator crashes.
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
//!
//! A directory is registered with its identity (device, inode, owner, birth time) and the one
//! entry it may hold
//! ([`TrackedDir`]); the tracker removes it only if the path still leads to that very
//! directory, so a stale registration never deletes a directory that reused the path.

use crate::sys;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

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
    if let Some(rec) = sys::tracker::record(b'R', name) {
        send(&rec, true);
    }
}

/// Unregisters `name` after it was unlinked.
pub(crate) fn unregister(name: &str) {
    if let Some(rec) = sys::tracker::record(b'U', name) {
        send(&rec, false);
    }
}

/// A directory the tracker removes (with the one entry it may hold) if nobody else does.
///
/// It travels to other processes of the tree (the manager's server), so whichever process
/// removes the directory can unregister it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TrackedDir {
    path: PathBuf,
    entry: String,
    /// Device, inode, owner and birth time: what makes this directory, not just its path.
    id: sys::tracker::DirId,
}

impl TrackedDir {
    fn record(&self, op: u8) -> Option<[u8; sys::tracker::RECORD]> {
        sys::tracker::dir_record(op, &self.path, &self.entry, &self.id)
    }
}

/// Registers the freshly made directory `dir`, which will hold at most the entry `entry`,
/// starting the tracker if this tree has none.
///
/// Best effort like [`register`]: `None` if the directory cannot be identified or its path
/// is too long to track (the owner's own cleanup still runs).
pub(crate) fn register_dir(dir: &Path, entry: &str) -> Option<TrackedDir> {
    let tracked = TrackedDir {
        path: dir.to_path_buf(),
        entry: entry.to_owned(),
        id: sys::tracker::dir_id(dir).ok()?,
    };
    send(&tracked.record(b'D')?, true);
    Some(tracked)
}

/// Unregisters a directory after it was removed.
pub(crate) fn unregister_dir(dir: &TrackedDir) {
    if let Some(rec) = dir.record(b'd') {
        send(&rec, false);
    }
}

fn send(rec: &[u8; sys::tracker::RECORD], start: bool) {
    let mut t = TRACKER.lock();
    if t.is_none() && start {
        if let Ok((fd, _pid)) = sys::tracker::start_tracker() {
            *t = Some(fd);
        }
    }
    if let Some(fd) = t.as_ref() {
        let _ = sys::tracker::send_record(fd.as_fd(), rec);
    }
}
