//! Local stream sockets for the manager: a private directory, random keys, and the std Unix
//! socket types under portable names.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

pub(crate) use std::os::unix::net::{UnixListener as LocalListener, UnixStream as LocalStream};

/// Fills `buf` from the kernel's random source (`getrandom(2)`, blocking until it is seeded).
pub(crate) fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        let (ptr, len) = (rest.as_mut_ptr().cast(), rest.len());
        // SAFETY:
        // - `ptr` points to `len` writable bytes of `buf`, borrowed for the whole call.
        // - flags 0: plain blocking read from the urandom pool; no other preconditions.
        let getrandom = || unsafe { libc::getrandom(ptr, len, 0) };
        let n = super::cvt_r(getrandom)?;
        filled += n as usize;
    }
    Ok(())
}

/// Creates a fresh directory only this user can enter (mode `0700`) under the temporary
/// directory, named `<prefix>-<pid>-<random hex>`.
pub(crate) fn private_dir(prefix: &str) -> io::Result<PathBuf> {
    let mut tag = [0u8; 8];
    random_bytes(&mut tag)?;
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{hex}", super::getpid()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}
