//! Named shared memory: Python's `multiprocessing.shared_memory`.
//!
//! A [`SharedMemory`] segment is a POSIX shared-memory object (`/dev/shm/<name>` on Linux)
//! that any process can attach by name. As in Python, closing a handle only unmaps it; the
//! segment lives until [`SharedMemory::unlink`]. Segments that are never unlinked are removed
//! by the resource tracker once every process of the creating tree has exited, including
//! after a crash (see the `resource_tracker` notes in [`SharedMemory::create`]).
//! [`ShareableList`] stores a fixed-length list of simple values in such a segment.

mod shareable_list;

pub use shareable_list::{Item, ListError, ShareableList};

use crate::resource_tracker;
use crate::sys;
use crate::sys::shm::Mapping;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Longest segment name accepted, without the leading `/` (Linux's `NAME_MAX` less one).
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::{SharedMemory, ShmError, MAX_NAME_LEN};
///
/// let long = "x".repeat(MAX_NAME_LEN + 1);
/// let r = SharedMemory::create(Some(&long), 1);
/// assert!(matches!(r, Err(ShmError::InvalidName { .. })));
/// ```
pub const MAX_NAME_LEN: usize = 250;

/// Why a shared-memory operation failed.
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::{SharedMemory, ShmError};
///
/// assert!(matches!(SharedMemory::create(None, 0), Err(ShmError::InvalidSize)));
/// assert!(matches!(SharedMemory::attach("a/b"), Err(ShmError::InvalidName { .. })));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShmError {
    /// `create` with a name that exists: Python's `FileExistsError`.
    #[error("shared memory segment {name:?} already exists")]
    FileExists {
        /// The requested name.
        name: String,
    },
    /// `attach` (or `unlink`) of a name that does not exist: Python's `FileNotFoundError`.
    #[error("shared memory segment {name:?} does not exist")]
    FileNotFound {
        /// The requested name.
        name: String,
    },
    /// `create` with size 0: Python's `ValueError("'size' must be a positive number ...")`.
    #[error("shared memory size must be positive")]
    InvalidSize,
    /// A name that is empty, too long, or contains `/` or NUL.
    #[error("invalid shared memory name {name:?}")]
    InvalidName {
        /// The requested name.
        name: String,
    },
    /// There is no room for the segment (`ENOSPC`: `/dev/shm` is full, or too small for
    /// `size`). Its space is reserved at creation, so this comes from `create`, never as a
    /// `SIGBUS` at a later write; nothing is left behind (the half-made segment is unlinked).
    #[error("no space for shared memory segment {name:?} of {size} bytes: {source}")]
    NoSpace {
        /// The segment's name (generated if `create` was given none).
        name: String,
        /// The size asked for.
        size: usize,
        /// The operating system's error (`ENOSPC`).
        #[source]
        source: io::Error,
    },
    /// `ShareableList::attach` of a segment that does not hold a shareable list.
    #[error("shared memory segment {name:?} does not hold a shareable list")]
    NotAList {
        /// The segment's name.
        name: String,
    },
    /// Another operating-system failure.
    #[error("shared memory system call failed: {0}")]
    Os(#[source] io::Error),
}

impl ShmError {
    fn from_io(e: io::Error, name: &str) -> ShmError {
        match e.raw_os_error() {
            Some(libc::EEXIST) => ShmError::FileExists {
                name: name.to_owned(),
            },
            Some(libc::ENOENT) => ShmError::FileNotFound {
                name: name.to_owned(),
            },
            _ => ShmError::Os(e),
        }
    }

    /// `from_io` for `create`, which can also run out of space.
    fn from_create(e: io::Error, name: &str, size: usize) -> ShmError {
        if e.raw_os_error() == Some(libc::ENOSPC) {
            return ShmError::NoSpace {
                name: name.to_owned(),
                size,
                source: e,
            };
        }
        ShmError::from_io(e, name)
    }
}

/// A named block of memory shared between processes: Python's
/// `multiprocessing.shared_memory.SharedMemory`.
///
/// # Platform-specific behavior
///
/// The memory may be written by other processes at any time. Reading through
/// [`buf`](SharedMemory::buf) while another process writes the same bytes is a data race:
/// coordinate with a [`Lock`](crate::Lock) (or use atomics at [`as_ptr`](SharedMemory::as_ptr)),
/// exactly as with a file mapped by several processes.
///
/// # Differences from Python
///
/// `unlink` is idempotent per handle: the first call removes the segment, a second one
/// reports [`ShmError::FileNotFound`] without touching a segment someone else may have
/// created under the same name since. Attaching never registers with the tracker, so a
/// process that only attached never unlinks (Python's tracker does; a known bug).
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::SharedMemory;
///
/// let mut a = SharedMemory::create(None, 16).unwrap();
/// a.as_slice_mut()[..5].copy_from_slice(b"hello");
/// let b = SharedMemory::attach(a.name()).unwrap();
/// assert_eq!(&b.buf()[..5], b"hello");
/// assert_eq!(b.size(), 16);
/// a.unlink().unwrap();
/// ```
pub struct SharedMemory {
    name: String,
    size: usize,
    map: Mapping,
    unlinked: AtomicBool,
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish()
    }
}

fn validate(name: &str) -> Result<String, ShmError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() || bare.len() > MAX_NAME_LEN || bare.contains(['/', '\0']) {
        return Err(ShmError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(bare.to_owned())
}

/// A fresh name: `spindle_<pid>_<counter>_<mixed bits>` (short, so the tracker can hold it).
fn generate_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let stack = &n as *const u64 as u64;
    // SplitMix64 finaliser over time, address and counter: unique enough with the pid and
    // counter beside it; the `O_EXCL` create retries on the rare clash anyway.
    let mut z = t ^ stack.rotate_left(32) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("spindle_{}_{n}_{:08x}", sys::getpid(), z as u32)
}

impl SharedMemory {
    /// Creates a segment of `size` bytes, zero-filled: Python's
    /// `SharedMemory(name, create=True, size=size)`. With `name: None` a unique name is
    /// generated (read it back with [`name`](SharedMemory::name)).
    ///
    /// The name is registered with this process tree's resource tracker (started on first
    /// use), which unlinks it if it is still there when every process of the tree has exited.
    ///
    /// # Errors
    ///
    /// [`ShmError::InvalidSize`] if `size` is 0; [`ShmError::InvalidName`] for a bad name;
    /// [`ShmError::FileExists`] if the name is taken; [`ShmError::NoSpace`] if `/dev/shm`
    /// cannot hold `size` more bytes; [`ShmError::Os`] otherwise. A failed create leaves no
    /// segment behind.
    ///
    /// # Platform-specific behavior
    ///
    /// The whole size is allocated at creation (`posix_fallocate`), as the pages a first write
    /// would allocate anyway: a full `/dev/shm` is then an error here instead of a `SIGBUS`
    /// at the first write to a page the file system could not provide (what an `ftruncate`d
    /// segment, Python's included, gives). A segment therefore uses its full size in memory
    /// from the start; do not create huge segments meant to stay sparse.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{SharedMemory, ShmError};
    ///
    /// let shm = SharedMemory::create(None, 8).unwrap();
    /// assert_eq!(shm.buf(), [0; 8]);
    /// let taken = SharedMemory::create(Some(shm.name()), 8);
    /// assert!(matches!(taken, Err(ShmError::FileExists { .. })));
    /// shm.unlink().unwrap();
    /// ```
    pub fn create(name: Option<&str>, size: usize) -> Result<SharedMemory, ShmError> {
        if size == 0 {
            return Err(ShmError::InvalidSize);
        }
        let (bare, fd) = match name {
            Some(n) => {
                let bare = validate(n)?;
                let fd = sys::shm::shm_create(&format!("/{bare}"), size)
                    .map_err(|e| ShmError::from_create(e, &bare, size))?;
                (bare, fd)
            }
            None => loop {
                let bare = generate_name();
                match sys::shm::shm_create(&format!("/{bare}"), size) {
                    Ok(fd) => break (bare, fd),
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
                    Err(e) => return Err(ShmError::from_create(e, &bare, size)),
                }
            },
        };
        let path = format!("/{bare}");
        let map = match Mapping::new(fd.as_fd(), size) {
            Ok(m) => m,
            Err(e) => {
                let _ = sys::shm::shm_unlink(&path);
                return Err(ShmError::Os(e));
            }
        };
        resource_tracker::register(&path);
        Ok(SharedMemory {
            name: bare,
            size,
            map,
            unlinked: AtomicBool::new(false),
        })
    }

    /// Attaches an existing segment by name: Python's `SharedMemory(name)`.
    ///
    /// # Errors
    ///
    /// [`ShmError::FileNotFound`] if no such segment exists; [`ShmError::InvalidName`];
    /// [`ShmError::Os`] otherwise (including a zero-sized segment, which cannot be mapped).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{SharedMemory, ShmError};
    ///
    /// let shm = SharedMemory::create(None, 4).unwrap();
    /// assert_eq!(SharedMemory::attach(shm.name()).unwrap().size(), 4);
    /// shm.unlink().unwrap();
    /// assert!(matches!(SharedMemory::attach(shm.name()), Err(ShmError::FileNotFound { .. })));
    /// ```
    pub fn attach(name: &str) -> Result<SharedMemory, ShmError> {
        let bare = validate(name)?;
        let (fd, size) =
            sys::shm::shm_attach(&format!("/{bare}")).map_err(|e| ShmError::from_io(e, &bare))?;
        let map = Mapping::new(fd.as_fd(), size).map_err(ShmError::Os)?;
        Ok(SharedMemory {
            name: bare,
            size,
            map,
            unlinked: AtomicBool::new(false),
        })
    }

    /// The segment's name, without a leading `/` (what `attach` takes): Python's `shm.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = spindle_process::shared_memory::SharedMemory::create(None, 1).unwrap();
    /// assert!(!shm.name().is_empty() && !shm.name().starts_with('/'));
    /// shm.unlink().unwrap();
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size in bytes: Python's `shm.size`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = spindle_process::shared_memory::SharedMemory::create(None, 100).unwrap();
    /// assert_eq!(shm.size(), 100);
    /// shm.unlink().unwrap();
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }

    /// The bytes: Python's `shm.buf` (read side). See the type's data-race note.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut shm = spindle_process::shared_memory::SharedMemory::create(None, 2).unwrap();
    /// shm.as_slice_mut()[1] = 7;
    /// assert_eq!(shm.buf(), [0, 7]);
    /// shm.unlink().unwrap();
    /// ```
    pub fn buf(&self) -> &[u8] {
        // SAFETY:
        // - the mapping covers `size` readable bytes and lives as long as `self`;
        // - other processes may write concurrently; callers coordinate (documented above).
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.size) }
    }

    /// The bytes, writable: Python's `shm.buf` (write side).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut shm = spindle_process::shared_memory::SharedMemory::create(None, 3).unwrap();
    /// shm.as_slice_mut().copy_from_slice(b"abc");
    /// assert_eq!(shm.buf(), b"abc");
    /// shm.unlink().unwrap();
    /// ```
    pub fn as_slice_mut(&mut self) -> &mut [u8] {
        // SAFETY:
        // - the mapping covers `size` writable bytes and lives as long as `self`;
        // - `&mut self` makes this the only slice from this handle.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_ptr(), self.size) }
    }

    /// Start of the mapping, for atomics or `ptr::copy` into shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use spindle_process::shared_memory::SharedMemory;
    ///
    /// let shm = SharedMemory::create(None, 4).unwrap();
    /// // SAFETY: the mapping is 4 bytes, page-aligned, and lives as long as `shm`.
    /// let word = unsafe { AtomicU32::from_ptr(shm.as_ptr().cast::<u32>()) };
    /// word.fetch_add(5, Ordering::SeqCst);
    /// assert_eq!(u32::from_ne_bytes(shm.buf().try_into().unwrap()), 5);
    /// shm.unlink().unwrap();
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    /// Unmaps this handle: Python's `shm.close()` (dropping does the same). The segment stays.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::SharedMemory;
    ///
    /// let shm = SharedMemory::create(None, 4).unwrap();
    /// let name = shm.name().to_owned();
    /// shm.unlink().unwrap(); // the name goes; the mapping stays until close
    /// shm.close();
    /// assert!(SharedMemory::attach(&name).is_err());
    /// ```
    pub fn close(self) {}

    /// Removes the segment's name so no new process can attach; existing mappings stay valid:
    /// Python's `shm.unlink()`.
    ///
    /// # Errors
    ///
    /// [`ShmError::FileNotFound`] if this handle already unlinked it, or someone else did.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = spindle_process::shared_memory::SharedMemory::create(None, 4).unwrap();
    /// shm.unlink().unwrap();
    /// assert!(shm.unlink().is_err()); // already unlinked
    /// ```
    pub fn unlink(&self) -> Result<(), ShmError> {
        if self.unlinked.swap(true, Ordering::AcqRel) {
            return Err(ShmError::FileNotFound {
                name: self.name.clone(),
            });
        }
        let path = format!("/{}", self.name);
        sys::shm::shm_unlink(&path).map_err(|e| ShmError::from_io(e, &self.name))?;
        resource_tracker::unregister(&path);
        Ok(())
    }
}

impl Serialize for SharedMemory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name.serialize(s)
    }
}

/// Deserialising attaches by name, as Python's pickling of `SharedMemory` does.
impl<'de> Deserialize<'de> for SharedMemory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        SharedMemory::attach(&name).map_err(D::Error::custom)
    }
}
