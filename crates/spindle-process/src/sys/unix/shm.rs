//! Shared memory: named POSIX segments (`shm_open` + `mmap`) and anonymous `memfd` blocks.
//!
//! Why not the `shared_memory` crate: its last release (0.12, 2022) pulls `nix` 0.23 beside the
//! current one and ties unlinking to the drop of an "owner" handle, while Python's
//! `SharedMemory` unlinks only on an explicit `unlink()` and attaches by bare name. A hundred
//! lines over `libc` give exactly those semantics.

use super::{cvt, cvt_r};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
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

/// `shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600)` then `ftruncate(size)`.
///
/// `name` starts with `/`. On a failed `ftruncate` the new segment is unlinked again.
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
    let size_off =
        libc::off_t::try_from(size).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
    let truncated = size_off.and_then(|s| {
        // SAFETY:
        // - `fd` is live; ftruncate has no memory preconditions.
        cvt_r(|| unsafe { libc::ftruncate(fd.as_raw_fd(), s) }).map(drop)
    });
    if let Err(e) = truncated {
        let _ = shm_unlink(name);
        return Err(e);
    }
    Ok(fd)
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
    let size = fd_size(std::os::fd::AsFd::as_fd(&fd))?;
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

/// An anonymous shared-memory file of `size` zeroed bytes (`memfd_create` + `ftruncate`).
///
/// It has no name to leak: the kernel frees it when the last descriptor and mapping go.
pub(crate) fn memfd(size: usize) -> io::Result<OwnedFd> {
    // SAFETY:
    // - the name is a static NUL-terminated string; flags are plain ints.
    let fd = cvt(unsafe { libc::memfd_create(c"spindle-shared".as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY:
    // - memfd_create succeeded, so `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let s =
        libc::off_t::try_from(size).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY:
    // - `fd` is live; ftruncate has no memory preconditions.
    cvt_r(|| unsafe { libc::ftruncate(fd.as_raw_fd(), s) })?;
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
    super::write_all_vectored(std::os::fd::AsFd::as_fd(&fd), false, &[bytes])?;
    // SAFETY:
    // - `fd` is live; lseek has no memory preconditions.
    cvt(unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_SET) })?;
    Ok(fd)
}
