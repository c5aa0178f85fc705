//! [`BuildId`]: which build of the program a process runs, so that a shipped function's code
//! offset is only ever resolved in the same build.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

/// Identifies the program a process runs: the GNU build-id note the linker wrote into the
/// executable (a hash of its contents), or, for an executable without one, the device, inode,
/// size and modification time of `/proc/self/exe`.
///
/// Two processes with equal build ids run the same bytes, so a function's offset means the
/// same code in both. The note makes this hold across machines too (a copy of the binary on
/// another host of an MPI job has the same note); the file fallback holds only for the same
/// file. Rebuilding the program with any change changes the id.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{BuildId, FnToken};
///
/// fn id(x: u8) -> u8 { x }
/// assert_eq!(FnToken::of(id).unwrap().build_id(), BuildId::current());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BuildId {
    source: IdSource,
    bytes: [u8; 32],
}

/// Where a [`BuildId`]'s bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum IdSource {
    /// The first `len` bytes are the GNU build-id note.
    Note { len: u8 },
    /// Device, inode, size and modification time (ns) of the executable, 8 bytes each.
    File,
}

impl BuildId {
    /// The build id of the running executable (computed once per process).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::BuildId;
    ///
    /// assert_eq!(BuildId::current(), BuildId::current());
    /// ```
    pub fn current() -> BuildId {
        static ID: OnceLock<BuildId> = OnceLock::new();
        *ID.get_or_init(|| match crate::sys::gnu_build_id() {
            Some(note) if !note.is_empty() => {
                let mut bytes = [0; 32];
                let len = note.len().min(bytes.len());
                bytes[..len].copy_from_slice(&note[..len]);
                BuildId {
                    source: IdSource::Note { len: len as u8 },
                    bytes,
                }
            }
            _ => BuildId::of_file(),
        })
    }

    fn of_file() -> BuildId {
        use std::os::unix::fs::MetadataExt;
        let mut bytes = [0; 32];
        // Without /proc nothing can be checked; an all-zero id matches only itself.
        if let Ok(m) = std::fs::metadata("/proc/self/exe") {
            let mtime_ns = m
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(m.mtime_nsec());
            let words = [m.dev(), m.ino(), m.size(), mtime_ns as u64];
            for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
                chunk.copy_from_slice(&word.to_le_bytes());
            }
        }
        BuildId {
            source: IdSource::File,
            bytes,
        }
    }
}

impl fmt::Display for BuildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            IdSource::Note { len } => {
                f.write_str("build-id ")?;
                for b in &self.bytes[..usize::from(len)] {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            IdSource::File => {
                let word = |i: usize| {
                    u64::from_le_bytes(self.bytes[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]))
                };
                write!(
                    f,
                    "file {:x}:{:x}/{}b@{}",
                    word(0),
                    word(1),
                    word(2),
                    word(3) as i64
                )
            }
        }
    }
}

#[cfg(test)]
impl BuildId {
    /// Another build's id, for tests of the refusal paths.
    pub(crate) fn altered(self) -> BuildId {
        let mut other = self;
        other.bytes[0] ^= 1;
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_id_names_its_source() {
        let id = BuildId::current();
        assert!(
            matches!(id.source, IdSource::Note { len } if len >= 8),
            "{id}"
        );
        assert!(id.to_string().starts_with("build-id "), "{id}");
        assert!(BuildId::of_file().to_string().starts_with("file "));
        assert_ne!(BuildId::of_file(), id);
    }
}
