//! Linux implementation of the system layer; [`cvt`] turns every `-1` return into an `io::Error`.

pub(crate) mod futex;
pub(crate) mod shm;
pub(crate) mod socket;
pub(crate) mod tracker;

mod build_note;
mod fd;
mod malloc;
mod nonblocking;
mod signals;
mod spawn;
mod wait;

pub(crate) use build_note::gnu_build_id;
pub(crate) use fd::*;
pub(crate) use malloc::*;
pub(crate) use nonblocking::*;
pub(crate) use signals::*;
pub(crate) use spawn::*;
pub(crate) use wait::*;

use std::io;

/// Turns a libc return value into `io::Result`: `-1` becomes `io::Error::last_os_error()`.
pub(crate) fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Like [`cvt`], retrying while the call fails with `EINTR`.
pub(crate) fn cvt_r<T: IsMinusOne>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Integer types a libc call can return.
pub(crate) trait IsMinusOne: Copy {
    /// Whether this is the `-1` error marker.
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(impl IsMinusOne for $t { fn is_minus_one(self) -> bool { self == -1 } })*};
}
impl_is_minus_one! { i32 i64 isize }

/// Number of online CPUs (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
pub(crate) fn cpu_count() -> usize {
    // SAFETY:
    // - sysconf has no preconditions; it only reads system configuration.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
}
