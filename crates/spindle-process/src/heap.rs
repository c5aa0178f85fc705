//! Anonymous shared blocks: the memory behind process-shared locks, values, arrays and queue
//! counters (Python's `multiprocessing.heap`).
//!
//! Each block is a `memfd` mapped `MAP_SHARED`. It has no name, so it can never leak: the
//! kernel frees it when the last process unmaps it. It reaches a child as an inherited
//! descriptor (see [`reduction`](crate::reduction)).

use crate::reduction;
use crate::sys;
use crate::sys::shm::Mapping;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

/// A zero-initialised block of memory shared with every process that receives it.
#[derive(Debug)]
pub(crate) struct SharedBlock {
    fd: OwnedFd,
    map: Mapping,
}

impl SharedBlock {
    /// A new zeroed block of at least `size` bytes.
    pub(crate) fn new(size: usize) -> io::Result<Arc<SharedBlock>> {
        let size = size.max(1);
        let fd = sys::shm::memfd(size)?;
        let map = Mapping::new(fd.as_fd(), size)?;
        Ok(Arc::new(SharedBlock { fd, map }))
    }

    /// Start of the block (page aligned).
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    /// Size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The `u32` at byte `offset`, as an atomic.
    ///
    /// # Panics
    ///
    /// If `offset` is not 4-aligned or the word is out of bounds (a bug in this crate).
    pub(crate) fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset % 4 == 0 && offset + 4 <= self.len(),
            "shared word out of bounds"
        );
        // SAFETY:
        // - the word lies inside the mapping (checked above), which lives as long as `self`;
        // - the mapping is page aligned, so `offset % 4 == 0` makes the pointer aligned;
        // - all processes access these words only atomically.
        unsafe { &*self.ptr().add(offset).cast::<AtomicU32>() }
    }
}

impl Serialize for SharedBlock {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The length is recovered from the descriptor on the other side.
        reduction::serialize_fd(self.fd.as_fd(), s)
    }
}

impl<'de> Deserialize<'de> for SharedBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fd = reduction::deserialize_fd(d)?;
        let len = sys::shm::fd_size(fd.as_fd()).map_err(D::Error::custom)?;
        let map = Mapping::new(fd.as_fd(), len).map_err(D::Error::custom)?;
        Ok(SharedBlock { fd, map })
    }
}

/// Serde helpers for `Arc<SharedBlock>` fields.
pub(crate) mod arc_block {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(b: &Arc<SharedBlock>, s: S) -> Result<S::Ok, S::Error> {
        b.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<SharedBlock>, D::Error> {
        SharedBlock::deserialize(d).map(Arc::new)
    }
}
