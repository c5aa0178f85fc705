//! The resource tracker process: unlinks named segments nobody unlinked, and removes private
//! directories nobody removed, once its tree is gone.
//!
//! It is `fork`ed (not re-executed), so it works even in a program that never calls `init()`.
//! Because the parent may have threads, the child does only async-signal-safe work: raw
//! system calls on fixed-size records in an anonymous mapping, no allocation, no locks.
//!
//! Protocol: fixed [`RECORD`]-byte records on a pipe (writes of at most `PIPE_BUF` bytes are
//! atomic, so records from many processes never interleave): byte 0 is `b'R'` (register) or
//! `b'U'` (unregister), byte 1 the name length, then the name. Every process of the tree holds
//! the write end; when the last one exits the tracker reads end-of-file, `shm_unlink`s every
//! name still registered, and exits.
//!
//! A directory record ([`dir_record`]: `b'D'` register, `b'd'` unregister) carries the path
//! (NUL-terminated after byte 1's length), the one entry the directory may hold at
//! [`ENTRY_AT`], and the directory's identity ([`DirId`]: device, inode, owner and birth time)
//! in the last [`ID_LEN`] bytes. At the end the tracker opens the path (no symlink followed),
//! and only if it is still that very directory unlinks the entry inside it and removes the
//! directory (`rmdir`, which never removes a directory that holds anything else). A stale
//! record thus cannot delete another directory that took the same path, even one that got the
//! same inode number (ext4 hands a freed inode number to the next `mkdir` at once; the birth
//! time tells them apart).
//!
//! The tracker leaves the process group of its creator (`setsid`), so a signal sent to that
//! group (Ctrl-C in a terminal, `kill -9 -<pgid>`) does not take the tracker down with the
//! processes it cleans up after.

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Size of one record on the tracker pipe.
pub(crate) const RECORD: usize = 256;
/// Longest name a record carries (leaves room for the NUL terminator).
pub(crate) const MAX_NAME: usize = RECORD - 3;
/// Size of a directory's identity ([`DirId`]).
pub(crate) const ID_LEN: usize = 32;
/// A directory's identity: device (major, minor), inode, owner, birth time (seconds,
/// nanoseconds; zero where the file system does not record it), native byte order.
pub(crate) type DirId = [u8; ID_LEN];
/// Where a directory record keeps the directory's identity.
const ID_AT: usize = RECORD - ID_LEN;
/// Where a directory record keeps the name of the entry inside the directory.
const ENTRY_AT: usize = ID_AT - 32;
/// Longest entry name in a directory record (leaves room for the NUL terminator).
const MAX_ENTRY: usize = 31;
/// Longest directory path in a directory record (ends, NUL included, before [`ENTRY_AT`]).
const MAX_DIR: usize = ENTRY_AT - 3;
/// A slot holding a segment name.
const SLOT_SEGMENT: u8 = 1;
/// A slot holding a directory.
const SLOT_DIR: u8 = 2;
/// How many names the tracker remembers at once; later registrations are not tracked.
const CAPACITY: usize = 16 * 1024;

/// Forks the tracker; returns the write end of its pipe (close-on-exec) and its pid.
pub(crate) fn start_tracker() -> io::Result<(OwnedFd, u32)> {
    let (r, w) = super::pipe()?;
    // SAFETY:
    // - the child runs only `tracker_main`, which makes async-signal-safe system calls and
    //   never returns (it ends with `_exit`), so no lock another thread held is ever touched.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY:
        // - we are the freshly forked child; `r` is the read end we own.
        unsafe { tracker_main(r.as_raw_fd()) }
    }
    drop(r);
    Ok((w, pid as u32))
}

/// Encodes one record; `None` if the name is too long to track.
pub(crate) fn record(op: u8, name: &str) -> Option<[u8; RECORD]> {
    let bytes = name.as_bytes();
    if bytes.len() > MAX_NAME {
        return None;
    }
    let mut rec = [0u8; RECORD];
    rec[0] = op;
    rec[1] = bytes.len() as u8;
    rec[2..2 + bytes.len()].copy_from_slice(bytes);
    Some(rec)
}

/// Encodes one directory record (`b'D'` register, `b'd'` unregister) for `dir`, holding at
/// most `entry`, whose identity is `id` (see [`dir_id`]); `None` if the path or entry is too
/// long to track.
pub(crate) fn dir_record(op: u8, dir: &Path, entry: &str, id: &DirId) -> Option<[u8; RECORD]> {
    let path = dir.as_os_str().as_bytes();
    let entry = entry.as_bytes();
    if path.is_empty() || path.len() > MAX_DIR || entry.is_empty() || entry.len() > MAX_ENTRY {
        return None;
    }
    if path.contains(&0) || entry.contains(&0) || entry.contains(&b'/') {
        return None;
    }
    let mut rec = [0u8; RECORD];
    rec[0] = op;
    rec[1] = path.len() as u8;
    rec[2..2 + path.len()].copy_from_slice(path);
    rec[ENTRY_AT..ENTRY_AT + entry.len()].copy_from_slice(entry);
    rec[ID_AT..].copy_from_slice(id);
    Some(rec)
}

/// The identity of the directory at `dir` (not following a symlink).
pub(crate) fn dir_id(dir: &Path) -> io::Result<DirId> {
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY:
    // - `path` is a NUL-terminated string that outlives the call.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), flags) })?;
    // SAFETY:
    // - `open` succeeded, so `fd` is an open descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut id = [0u8; ID_LEN];
    // SAFETY:
    // - `fd` is open for the whole call and `id` is a writable identity buffer.
    if unsafe { identify(fd.as_raw_fd(), &mut id) } {
        Ok(id)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes the identity of the open directory `dfd` into `id`; false if `statx` failed.
/// Async-signal-safe (one system call on stack memory).
///
/// # Safety
///
/// `dfd` must be an open descriptor.
unsafe fn identify(dfd: RawFd, id: &mut DirId) -> bool {
    // SAFETY:
    // - statx with AT_EMPTY_PATH describes `dfd` itself; `stx` is stack memory it fills.
    let stx = unsafe {
        let mut stx: libc::statx = std::mem::zeroed();
        let mask = libc::STATX_INO | libc::STATX_UID | libc::STATX_BTIME;
        if libc::statx(dfd, c"".as_ptr(), libc::AT_EMPTY_PATH, mask, &mut stx) != 0 {
            return false;
        }
        stx
    };
    let born = stx.stx_mask & libc::STATX_BTIME != 0;
    let (sec, nsec) = if born {
        (stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec)
    } else {
        (0, 0)
    };
    id[0..4].copy_from_slice(&stx.stx_dev_major.to_ne_bytes());
    id[4..8].copy_from_slice(&stx.stx_dev_minor.to_ne_bytes());
    id[8..16].copy_from_slice(&stx.stx_ino.to_ne_bytes());
    id[16..20].copy_from_slice(&stx.stx_uid.to_ne_bytes());
    id[20..28].copy_from_slice(&sec.to_ne_bytes());
    id[28..32].copy_from_slice(&nsec.to_ne_bytes());
    true
}

/// Sends one record to the tracker.
pub(crate) fn send_record(fd: BorrowedFd<'_>, rec: &[u8; RECORD]) -> io::Result<()> {
    super::write_all_vectored(fd, false, &[rec])
}

/// The tracker's whole life. Async-signal-safe only.
///
/// # Safety
///
/// Must run in a freshly forked child that owns `rfd`; it never returns.
unsafe fn tracker_main(rfd: RawFd) -> ! {
    // SAFETY:
    // - every call is a raw, async-signal-safe system call (`shm_unlink` formats the path on
    //   the stack); memory is an anonymous mapping checked against MAP_FAILED; indices stay
    //   inside `CAPACITY * RECORD`.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        // Out of the creator's process group (and session): see the module notes.
        libc::setsid();
        libc::prctl(
            libc::PR_SET_NAME,
            c"spindle-tracker".as_ptr() as libc::c_ulong,
            0,
            0,
            0,
        );
        // Hold no descriptor but our pipe: otherwise pipes of the tree would never see EOF.
        if rfd > 3 {
            libc::syscall(libc::SYS_close_range, 3u32, (rfd - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (rfd + 1) as u32, u32::MAX, 0u32);
        let table = libc::mmap(
            std::ptr::null_mut(),
            CAPACITY * RECORD,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if table == libc::MAP_FAILED {
            libc::_exit(1);
        }
        let table = table.cast::<u8>();
        // Slots in use are `0..used`; byte 0 of a slot is 1 when it holds a name, 0 when free.
        let mut used = 0usize;
        let mut rec = [0u8; RECORD];
        loop {
            let mut got = 0;
            while got < RECORD {
                let n = libc::read(rfd, rec.as_mut_ptr().add(got).cast(), RECORD - got);
                if n > 0 {
                    got += n as usize;
                } else if n == 0 || *libc::__errno_location() != libc::EINTR {
                    break;
                }
            }
            if got < RECORD {
                break; // End of file: every process of the tree has exited.
            }
            let (kind, register) = match rec[0] {
                b'R' => (SLOT_SEGMENT, true),
                b'U' => (SLOT_SEGMENT, false),
                b'D' => (SLOT_DIR, true),
                b'd' => (SLOT_DIR, false),
                _ => continue,
            };
            let len = rec[1] as usize;
            let max = if kind == SLOT_DIR { MAX_DIR } else { MAX_NAME };
            if len == 0 || len > max {
                continue;
            }
            rec[0] = kind;
            let slot = |i: usize| table.add(i * RECORD);
            let same = |i: usize| libc::memcmp(slot(i).cast(), rec.as_ptr().cast(), RECORD) == 0;
            let existing = (0..used).find(|&i| same(i));
            match (register, existing) {
                (true, None) => {
                    let free = (0..used).find(|&i| *slot(i) == 0).or_else(|| {
                        (used < CAPACITY).then(|| {
                            used += 1;
                            used - 1
                        })
                    });
                    if let Some(i) = free {
                        libc::memcpy(slot(i).cast(), rec.as_ptr().cast(), RECORD);
                    }
                }
                (false, Some(i)) => *slot(i) = 0,
                _ => {}
            }
        }
        for i in 0..used {
            let slot = table.add(i * RECORD);
            match *slot {
                SLOT_SEGMENT => {
                    libc::shm_unlink(slot.add(2).cast());
                }
                SLOT_DIR => remove_dir(slot),
                _ => {}
            }
        }
        libc::_exit(0)
    }
}

/// Removes the directory a directory record names, if it is still the one registered.
/// Async-signal-safe only.
///
/// # Safety
///
/// `rec` points to a [`RECORD`]-byte directory slot whose path and entry are NUL-terminated.
unsafe fn remove_dir(rec: *const u8) {
    // SAFETY:
    // - the caller guarantees `rec` covers a whole record with NUL-terminated path and entry;
    //   `id` is a stack buffer; the descriptor is ours, open while used, and closed once.
    unsafe {
        let path = rec.add(2).cast::<libc::c_char>();
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let dfd = libc::open(path, flags);
        if dfd < 0 {
            return;
        }
        let mut id = [0u8; ID_LEN];
        let same = identify(dfd, &mut id)
            && libc::memcmp(id.as_ptr().cast(), rec.add(ID_AT).cast(), ID_LEN) == 0;
        if same {
            // Relative to the descriptor: the entry of the directory we checked, wherever
            // its path points by now.
            libc::unlinkat(dfd, rec.add(ENTRY_AT).cast(), 0);
            libc::rmdir(path);
        }
        libc::close(dfd);
    }
}
