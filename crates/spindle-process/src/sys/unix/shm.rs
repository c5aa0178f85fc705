//! Shared memory: named POSIX segments (`shm_open` + `mmap`) and anonymous `memfd` blocks.
//!
//! Why not the `shared_memory` crate: its last release (0.12, 2022) pulls `nix` 0.23 beside the
//! current one and ties unlinking to the drop of an "owner" handle, while Python's
//! `SharedMemory` unlinks only on an explicit `unlink()` and attaches by bare name. A hundred
//! lines over `libc` give exactly those semantics.

use super::{cvt, cvt_r};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// A `MAP_SHARED` read/write mapping, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY:
// - a Mapping is a plain address range; the types built on it synchronise their accesses.
unsafe impl Send for Mapping {}
// SAFETY:
// - as above: `&Mapping` only exposes the address.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `fd` from offset 0.
    pub(crate) fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        // SAFETY:
        // - a null hint lets the kernel choose the address; `fd` is live for the borrow.
        // - the result is checked against MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::from(io::ErrorKind::Other))?;
        Ok(Mapping { ptr, len })
    }

    /// Start of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY:
        // - `ptr`/`len` describe exactly the range mmap returned, mapped once and unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// `shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600)`, then its `size` bytes reserved
/// ([`reserve`]).
///
/// `name` starts with `/`. If the space cannot be reserved (`ENOSPC` on a full `/dev/shm`) the
/// new segment is unlinked again, so a failed create leaves nothing behind.
pub(crate) fn shm_create(name: &str, size: usize) -> io::Result<OwnedFd> {
    let c = c_name(name)?;
    let fd = cvt_r(|| {
        // SAFETY:
        // - `c` is a NUL-terminated string that outlives the call.
        unsafe {
            libc::shm_open(
                c.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC,
                0o600,
            )
        }
    })?;
    // SAFETY:
    // - shm_open succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if let Err(e) = reserve(fd.as_fd(), size) {
        let _ = shm_unlink(name);
        return Err(e);
    }
    Ok(fd)
}

/// Sizes a new, empty shared-memory file to `size` bytes and allocates every page now
/// (`posix_fallocate`), the one place where every segment spindle creates gets its memory.
///
/// A tmpfs page is otherwise allocated at the first write through a mapping, and when the file
/// system is full that write gets `SIGBUS`, killing the process far from the cause. Reserving
/// turns it into `ENOSPC` (or `ENOMEM`) here. It costs the page allocation up front, which the
/// first touch would pay anyway. `posix_fallocate` also sets the size, so no `ftruncate` is
/// needed.
fn reserve(fd: BorrowedFd<'_>, size: usize) -> io::Result<()> {
    let len =
        libc::off_t::try_from(size).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    if len == 0 {
        return Ok(());
    }
    loop {
        // SAFETY:
        // - `fd` is live for the borrow; posix_fallocate touches no memory of ours.
        let r = unsafe { libc::posix_fallocate(fd.as_raw_fd(), 0, len) };
        match r {
            0 => return Ok(()),
            // A signal interrupted the allocation; the pages allocated so far stay, so the
            // retry only does what is left.
            libc::EINTR => continue,
            // posix_fallocate returns the error number instead of setting errno.
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// `shm_open(name, O_RDWR)` of an existing segment; returns it with its size.
pub(crate) fn shm_attach(name: &str) -> io::Result<(OwnedFd, usize)> {
    let c = c_name(name)?;
    let fd = cvt_r(|| {
        // SAFETY:
        // - `c` is a NUL-terminated string that outlives the call.
        unsafe { libc::shm_open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0o600) }
    })?;
    // SAFETY:
    // - shm_open succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let size = fd_size(fd.as_fd())?;
    Ok((fd, size))
}

/// Size of the object behind `fd` (`fstat`).
pub(crate) fn fd_size(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY:
    // - `st` is a plain C struct; all-zero is a valid placeholder for the kernel to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY:
    // - `fd` is live for the borrow and `st` is a valid out-pointer.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    usize::try_from(st.st_size).map_err(|_| io::ErrorKind::InvalidData.into())
}

/// `shm_unlink(name)`.
pub(crate) fn shm_unlink(name: &str) -> io::Result<()> {
    let c = c_name(name)?;
    // SAFETY:
    // - `c` is a NUL-terminated string that outlives the call.
    cvt(unsafe { libc::shm_unlink(c.as_ptr()) })?;
    Ok(())
}

/// An anonymous shared-memory file of `size` zeroed bytes, reserved like a named segment
/// (`memfd_create` + [`reserve`]).
///
/// It has no name to leak: the kernel frees it when the last descriptor and mapping go.
pub(crate) fn memfd(size: usize) -> io::Result<OwnedFd> {
    // SAFETY:
    // - the name is a static NUL-terminated string; flags are plain ints.
    let fd = cvt(unsafe { libc::memfd_create(c"spindle-shared".as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY:
    // - memfd_create succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    reserve(fd.as_fd(), size)?;
    Ok(fd)
}

/// A `memfd` holding `bytes`, positioned at offset 0 for the reader.
pub(crate) fn memfd_with_contents(bytes: &[u8]) -> io::Result<OwnedFd> {
    // SAFETY:
    // - the name is a static NUL-terminated string; flags are plain ints.
    let fd = cvt(unsafe { libc::memfd_create(c"spindle-job".as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY:
    // - memfd_create succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    super::write_all_vectored(fd.as_fd(), false, &[bytes])?;
    // SAFETY:
    // - `fd` is live; lseek has no memory preconditions.
    cvt(unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_SET) })?;
    Ok(fd)
}
