//! The resource tracker process: unlinks named segments nobody unlinked once its tree is gone.
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

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// Size of one record on the tracker pipe.
pub(crate) const RECORD: usize = 256;
/// Longest name a record carries (leaves room for the NUL terminator).
pub(crate) const MAX_NAME: usize = RECORD - 3;
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
            let op = rec[0];
            let len = rec[1] as usize;
            if len == 0 || len > MAX_NAME {
                continue;
            }
            rec[0] = 1;
            let slot = |i: usize| table.add(i * RECORD);
            let same = |i: usize| libc::memcmp(slot(i).cast(), rec.as_ptr().cast(), RECORD) == 0;
            let existing = (0..used).find(|&i| same(i));
            match (op, existing) {
                (b'R', None) => {
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
                (b'U', Some(i)) => *slot(i) = 0,
                _ => {}
            }
        }
        for i in 0..used {
            let slot = table.add(i * RECORD);
            if *slot != 0 {
                libc::shm_unlink(slot.add(2).cast());
            }
        }
        libc::_exit(0)
    }
}
