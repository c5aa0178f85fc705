//! `ShareableList`: a fixed-length list of simple values in a named segment (Python's
//! `multiprocessing.shared_memory.ShareableList`).
//!
//! Layout (all little-endian `u64`): a header `[MAGIC, len]`, then one slot record per item
//! `[kind, capacity, offset]`, then the data area. Each slot has an 8-byte word at its offset
//! (the number, `bool` or `None` marker, or the length of a text) followed by `capacity` bytes
//! of text storage: 0 for a slot created with a number, the initial length rounded up to 8
//! for one created with `str`/`bytes`. Numbers fit in every slot.
//!
//! Every offset, capacity and length read from the segment is checked against its size, so a
//! segment corrupted by another process gives [`ListError::Corrupt`], never an out-of-bounds
//! access.

use super::{SharedMemory, ShmError};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

const MAGIC: u64 = 0x5350_4e44_4c53_5431; // "SPNDLST1"
const HEADER: usize = 16;
const SLOT: usize = 24;

const KIND_NONE: u64 = 0;
const KIND_INT: u64 = 1;
const KIND_FLOAT: u64 = 2;
const KIND_BOOL: u64 = 3;
const KIND_STR: u64 = 4;
const KIND_BYTES: u64 = 5;

/// One item of a [`ShareableList`]: the types Python's `ShareableList` stores.
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::Item;
///
/// assert_eq!(Item::from(3i64), Item::Int(3));
/// assert_eq!(Item::from("s"), Item::Str("s".into()));
/// assert_eq!(Item::from(vec![1u8]), Item::Bytes(vec![1]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Python's `None`.
    None,
    /// An `int` (64-bit here).
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `bool`.
    Bool(bool),
    /// A `str`.
    Str(String),
    /// A `bytes`.
    Bytes(Vec<u8>),
}

impl Item {
    fn kind(&self) -> u64 {
        match self {
            Item::None => KIND_NONE,
            Item::Int(_) => KIND_INT,
            Item::Float(_) => KIND_FLOAT,
            Item::Bool(_) => KIND_BOOL,
            Item::Str(_) => KIND_STR,
            Item::Bytes(_) => KIND_BYTES,
        }
    }

    /// Bytes of payload a str/bytes item needs (0 for fixed-size items).
    fn payload_len(&self) -> usize {
        match self {
            Item::Str(s) => s.len(),
            Item::Bytes(b) => b.len(),
            _ => 0,
        }
    }
}

impl From<i64> for Item {
    fn from(v: i64) -> Item {
        Item::Int(v)
    }
}
impl From<f64> for Item {
    fn from(v: f64) -> Item {
        Item::Float(v)
    }
}
impl From<bool> for Item {
    fn from(v: bool) -> Item {
        Item::Bool(v)
    }
}
impl From<&str> for Item {
    fn from(v: &str) -> Item {
        Item::Str(v.to_owned())
    }
}
impl From<String> for Item {
    fn from(v: String) -> Item {
        Item::Str(v)
    }
}
impl From<Vec<u8>> for Item {
    fn from(v: Vec<u8>) -> Item {
        Item::Bytes(v)
    }
}

/// Why a list operation failed.
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::{Item, ListError, ShareableList};
///
/// let list = ShareableList::new(&[Item::Int(1)], None).unwrap();
/// assert_eq!(list.get(1), Err(ListError::IndexOutOfRange { index: 1, len: 1 }));
/// list.shm().unlink().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// The index is past the end: Python's `IndexError`.
    #[error("index {index} out of range for a list of {len} items")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The list's length.
        len: usize,
    },
    /// A `str`/`bytes` value longer than its slot's storage: Python's
    /// `ValueError: bytes/str item exceeds available storage`.
    #[error("item of {size} bytes exceeds the {capacity} bytes of slot {index}")]
    TooLarge {
        /// The slot.
        index: usize,
        /// The slot's storage in bytes.
        capacity: usize,
        /// The value's size in bytes.
        size: usize,
    },
    /// The segment does not hold a valid list (or another process corrupted it).
    #[error("shared memory segment does not hold a valid shareable list")]
    Corrupt,
}

/// A fixed-length list of `None`/int/float/bool/str/bytes items in a named shared-memory
/// segment: Python's `multiprocessing.shared_memory.ShareableList`.
///
/// Any process can [`attach`](ShareableList::attach) it by name. The length is fixed; each
/// `str`/`bytes` slot keeps the storage of its initial value (rounded up to 8 bytes), and a
/// longer value is refused with [`ListError::TooLarge`]. Unlink the segment with
/// `list.shm().unlink()` when done.
///
/// # Platform-specific behavior
///
/// As in Python there is no lock: concurrent `set`s of the same slot race. Reads are always
/// bounds-checked, so a race yields a stale or mixed value (text decoded lossily), never a
/// crash.
///
/// # Examples
///
/// ```
/// use spindle_process::shared_memory::{Item, ShareableList};
///
/// let list = ShareableList::new(&[Item::Int(1), Item::from("howdy"), Item::None], None).unwrap();
/// let other = ShareableList::attach(list.shm().name()).unwrap();
/// other.set(0, Item::Float(2.5)).unwrap();
/// other.set(1, "hi".into()).unwrap();
/// assert_eq!(list.get(0).unwrap(), Item::Float(2.5));
/// assert_eq!(list.get(1).unwrap(), Item::from("hi"));
/// assert!(list.set(1, "far too long".into()).is_err());
/// list.shm().unlink().unwrap();
/// ```
pub struct ShareableList {
    shm: SharedMemory,
    len: usize,
}

impl fmt::Debug for ShareableList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareableList")
            .field("name", &self.shm.name())
            .field("len", &self.len)
            .finish()
    }
}

fn round8(n: usize) -> usize {
    n.div_ceil(8).max(1) * 8
}

impl ShareableList {
    /// Creates a segment holding `items`: Python's `ShareableList(sequence, name=name)`.
    ///
    /// # Errors
    ///
    /// As [`SharedMemory::create`] (an empty list still takes a header, so never
    /// `InvalidSize`): [`ShmError::NoSpace`] when `/dev/shm` cannot hold the list, before
    /// anything is written to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Bool(true), Item::None], None).unwrap();
    /// assert_eq!(list.to_vec().unwrap(), [Item::Bool(true), Item::None]);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn new(items: &[Item], name: Option<&str>) -> Result<ShareableList, ShmError> {
        let caps: Vec<usize> = items.iter().map(|i| round8(i.payload_len())).collect();
        let data_start = HEADER + SLOT * items.len();
        let data: usize = items
            .iter()
            .zip(&caps)
            .map(|(i, c)| {
                if matches!(i, Item::Str(_) | Item::Bytes(_)) {
                    8 + c
                } else {
                    8
                }
            })
            .sum();
        let mut shm = SharedMemory::create(name, data_start + data)?;
        let buf = shm.as_slice_mut();
        put(buf, 0, MAGIC);
        put(buf, 8, items.len() as u64);
        let mut off = data_start;
        for (i, (item, &cap)) in items.iter().zip(&caps).enumerate() {
            // Payload capacity: 0 for a number slot (8 bytes), else the text storage after
            // an 8-byte length word.
            let cap = if matches!(item, Item::Str(_) | Item::Bytes(_)) {
                cap
            } else {
                0
            };
            let rec = HEADER + i * SLOT;
            put(buf, rec + 8, cap as u64);
            put(buf, rec + 16, off as u64);
            off += 8 + cap;
        }
        let list = ShareableList {
            shm,
            len: items.len(),
        };
        for (i, item) in items.iter().enumerate() {
            list.set(i, item.clone())
                .map_err(|_| ShmError::InvalidSize)?;
        }
        Ok(list)
    }

    /// Attaches an existing list by name: Python's `ShareableList(name=name)`.
    ///
    /// # Errors
    ///
    /// As [`SharedMemory::attach`]; [`ShmError::NotAList`] if the segment does not hold a
    /// shareable list.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(5)], None).unwrap();
    /// let same = ShareableList::attach(list.shm().name()).unwrap();
    /// assert_eq!(same.get(0).unwrap(), Item::Int(5));
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn attach(name: &str) -> Result<ShareableList, ShmError> {
        let shm = SharedMemory::attach(name)?;
        let invalid = || ShmError::NotAList {
            name: shm.name().to_owned(),
        };
        let buf = shm.buf();
        if buf.len() < HEADER || get(buf, 0) != MAGIC {
            return Err(invalid());
        }
        let len = usize::try_from(get(buf, 8)).map_err(|_| invalid())?;
        if len
            .checked_mul(SLOT)
            .and_then(|t| t.checked_add(HEADER))
            .is_none_or(|t| t > buf.len())
        {
            return Err(invalid());
        }
        Ok(ShareableList { shm, len })
    }

    /// The segment behind the list: Python's `sl.shm` (use it to `unlink`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(1)], None).unwrap();
    /// assert!(list.shm().size() > 0);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn shm(&self) -> &SharedMemory {
        &self.shm
    }

    /// Number of items: Python's `len(sl)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(1), Item::Int(2)], None).unwrap();
    /// assert_eq!(list.len(), 2);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list has no items.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::ShareableList;
    ///
    /// let list = ShareableList::new(&[], None).unwrap();
    /// assert!(list.is_empty());
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checked (kind, capacity, offset) of slot `index`.
    fn slot(&self, index: usize) -> Result<(u64, usize, usize), ListError> {
        if index >= self.len {
            return Err(ListError::IndexOutOfRange {
                index,
                len: self.len,
            });
        }
        let buf = self.shm.buf();
        let rec = HEADER + index * SLOT;
        let kind = get(buf, rec);
        let cap = usize::try_from(get(buf, rec + 8)).map_err(|_| ListError::Corrupt)?;
        let off = usize::try_from(get(buf, rec + 16)).map_err(|_| ListError::Corrupt)?;
        let end = cap.checked_add(8).and_then(|need| off.checked_add(need));
        if end.is_none_or(|end| end > buf.len()) {
            return Err(ListError::Corrupt);
        }
        Ok((kind, cap, off))
    }

    /// Item `index`: Python's `sl[index]`.
    ///
    /// # Errors
    ///
    /// [`ListError::IndexOutOfRange`]; [`ListError::Corrupt`] for a damaged segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::from("abc")], None).unwrap();
    /// assert_eq!(list.get(0).unwrap(), Item::from("abc"));
    /// assert!(list.get(1).is_err());
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn get(&self, index: usize) -> Result<Item, ListError> {
        let (kind, cap, off) = self.slot(index)?;
        let buf = self.shm.buf();
        let word = get(buf, off);
        Ok(match kind {
            KIND_NONE => Item::None,
            KIND_INT => Item::Int(word as i64),
            KIND_FLOAT => Item::Float(f64::from_bits(word)),
            KIND_BOOL => Item::Bool(word != 0),
            KIND_STR | KIND_BYTES => {
                let n = usize::try_from(word)
                    .map_err(|_| ListError::Corrupt)?
                    .min(cap);
                let bytes = buf[off + 8..off + 8 + n].to_vec();
                if kind == KIND_STR {
                    Item::Str(String::from_utf8_lossy(&bytes).into_owned())
                } else {
                    Item::Bytes(bytes)
                }
            }
            _ => return Err(ListError::Corrupt),
        })
    }

    /// Replaces item `index`: Python's `sl[index] = value`. Any type may replace any other;
    /// a `str`/`bytes` value must fit the slot's storage.
    ///
    /// # Errors
    ///
    /// [`ListError::IndexOutOfRange`]; [`ListError::TooLarge`] for text or bytes longer than
    /// the slot (or any text in a slot created for a number); [`ListError::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ListError, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(0)], None).unwrap();
    /// list.set(0, Item::Float(1.5)).unwrap();
    /// assert_eq!(list.get(0).unwrap(), Item::Float(1.5));
    /// assert!(matches!(list.set(0, "text".into()), Err(ListError::TooLarge { .. })));
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn set(&self, index: usize, item: Item) -> Result<(), ListError> {
        let (_, cap, off) = self.slot(index)?;
        let ptr = self.shm.as_ptr();
        let write = |at: usize, bytes: &[u8]| {
            // SAFETY:
            // - `slot` checked that `off + 8 (+ cap)` lies inside the mapping, and callers
            //   write at most that range; the mapping lives as long as `self.shm`.
            // - concurrent writers of the same slot race as in Python (documented), but
            //   never outside the mapping.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.add(at), bytes.len()) }
        };
        match &item {
            Item::Str(_) | Item::Bytes(_) => {
                let data: &[u8] = match &item {
                    Item::Str(s) => s.as_bytes(),
                    Item::Bytes(b) => b,
                    _ => &[],
                };
                if data.len() > cap {
                    return Err(ListError::TooLarge {
                        index,
                        capacity: cap,
                        size: data.len(),
                    });
                }
                write(off, &(data.len() as u64).to_le_bytes());
                write(off + 8, data);
            }
            Item::None => write(off, &0u64.to_le_bytes()),
            Item::Int(v) => write(off, &v.to_le_bytes()),
            Item::Float(v) => write(off, &v.to_bits().to_le_bytes()),
            Item::Bool(v) => write(off, &u64::from(*v).to_le_bytes()),
        }
        write(HEADER + index * SLOT, &item.kind().to_le_bytes());
        Ok(())
    }

    /// All items, in order.
    ///
    /// # Errors
    ///
    /// [`ListError::Corrupt`] for a damaged segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let items = [Item::Int(1), Item::from(b"xy".to_vec())];
    /// let list = ShareableList::new(&items, None).unwrap();
    /// assert_eq!(list.to_vec().unwrap(), items);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn to_vec(&self) -> Result<Vec<Item>, ListError> {
        (0..self.len).map(|i| self.get(i)).collect()
    }

    /// How many items equal `value`: Python's `sl.count(value)`.
    ///
    /// # Errors
    ///
    /// [`ListError::Corrupt`] for a damaged segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(1), Item::Int(2), Item::Int(1)], None).unwrap();
    /// assert_eq!(list.count(&Item::Int(1)).unwrap(), 2);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn count(&self, value: &Item) -> Result<usize, ListError> {
        Ok(self.to_vec()?.iter().filter(|i| *i == value).count())
    }

    /// Position of the first item equal to `value`, `None` if absent: Python's
    /// `sl.index(value)` (which raises `ValueError`).
    ///
    /// # Errors
    ///
    /// [`ListError::Corrupt`] for a damaged segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shared_memory::{Item, ShareableList};
    ///
    /// let list = ShareableList::new(&[Item::Int(1), Item::Int(2)], None).unwrap();
    /// assert_eq!(list.index(&Item::Int(2)).unwrap(), Some(1));
    /// assert_eq!(list.index(&Item::Int(3)).unwrap(), None);
    /// list.shm().unlink().unwrap();
    /// ```
    pub fn index(&self, value: &Item) -> Result<Option<usize>, ListError> {
        Ok(self.to_vec()?.iter().position(|i| i == value))
    }
}

fn put(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(buf: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(w)
}

impl Serialize for ShareableList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shm.name().serialize(s)
    }
}

/// Deserialising attaches by name, as Python's pickling of `ShareableList` does.
impl<'de> Deserialize<'de> for ShareableList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ShareableList::attach(&name).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_offsets_are_errors_not_crashes() {
        let list = ShareableList::new(&[Item::Int(1), Item::from("abc")], None).unwrap();
        let mut raw = SharedMemory::attach(list.shm().name()).unwrap();
        put(raw.as_slice_mut(), HEADER + SLOT + 16, u64::MAX / 2);
        assert_eq!(list.get(1), Err(ListError::Corrupt));
        put(raw.as_slice_mut(), HEADER + 8, u64::MAX);
        assert_eq!(list.set(0, Item::Str("x".into())), Err(ListError::Corrupt));
        put(raw.as_slice_mut(), 0, 0);
        assert!(ShareableList::attach(list.shm().name()).is_err());
        list.shm().unlink().unwrap();
    }
}
