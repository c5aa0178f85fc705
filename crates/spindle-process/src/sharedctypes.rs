//! `Value` and `Array`: plain data in shared memory, each with a process-shared lock (Python's
//! `multiprocessing.Value` / `Array`, from `multiprocessing.sharedctypes`).
//!
//! Layout of the anonymous block: the lock word at offset 0, the data from offset
//! [`DATA_OFFSET`] (a cache line away, so the lock and the data do not share a line).

use crate::heap::{arc_block, SharedBlock};
use crate::synchronize::Lock;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use spindle_sync::threading::LockGuard;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Where the data starts in a `Value`/`Array` block.
const DATA_OFFSET: usize = 64;

/// Plain data that may live in shared memory: Python's ctypes typecodes.
///
/// # Safety
///
/// Implementors are `Copy`, contain no pointers or references, have no padding, and every bit
/// pattern (including all zeros) is a valid value, because another process may write any
/// bytes, and a new block starts zeroed. Alignment must not exceed 64.
///
/// # Examples
///
/// ```
/// use spindle_process::{Pod, Value};
///
/// fn zeroed<T: Pod + Default>() -> Value<T> {
///     Value::new(T::default()).unwrap()
/// }
/// assert_eq!(zeroed::<u32>().get(), 0);
/// let pair = Value::new([1u16, 2]).unwrap(); // arrays of Pod are Pod
/// assert_eq!(pair.get(), [1, 2]);
/// ```
pub unsafe trait Pod: Copy + Send + Sync + 'static {}

macro_rules! pod {
    ($($t:ty)*) => {$(
        // SAFETY:
        // - a primitive number: no pointers, no padding, every bit pattern valid, align <= 8.
        unsafe impl Pod for $t {}
    )*};
}
pod! { u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 }

// SAFETY:
// - an array of Pod has no padding between elements and every bit pattern is valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// One `T` in shared memory with a lock: Python's `multiprocessing.Value(typecode, value)`.
///
/// [`get`](Value::get) and [`set`](Value::set) are single reads and writes; a
/// read-modify-write such as `+= 1` must hold [`get_lock`](Value::get_lock) (or use
/// [`lock`](Value::lock), whose guard dereferences to the value), or concurrent updates are
/// lost, exactly as in Python.
///
/// # Examples
///
/// ```
/// use spindle_process::Value;
///
/// let v = Value::new(41i64).unwrap();
/// *v.lock() += 1;
/// assert_eq!(v.get(), 42);
/// ```
pub struct Value<T: Pod> {
    block: Arc<SharedBlock>,
    lock: Lock,
    _t: PhantomData<T>,
}

impl<T: Pod + fmt::Debug> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value").field("value", &self.get()).finish()
    }
}

impl<T: Pod> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            block: self.block.clone(),
            lock: self.lock.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Pod> Value<T> {
    /// A shared value holding `value`.
    ///
    /// # Errors
    ///
    /// The operating system's error if the shared block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = spindle_process::Value::new(2.5f64).unwrap();
    /// assert_eq!(v.get(), 2.5);
    /// ```
    pub fn new(value: T) -> io::Result<Value<T>> {
        let block = SharedBlock::new(DATA_OFFSET + std::mem::size_of::<T>())?;
        let v = Value {
            lock: Lock::in_block(block.clone(), 0),
            block,
            _t: PhantomData,
        };
        v.set(value);
        Ok(v)
    }

    fn ptr(&self) -> *mut T {
        // SAFETY:
        // - the block holds at least DATA_OFFSET + size_of::<T>() bytes (checked at creation
        //   and on deserialisation), and DATA_OFFSET is a multiple of T's alignment (<= 64).
        unsafe { self.block.ptr().add(DATA_OFFSET).cast::<T>() }
    }

    /// Reads the value: Python's `v.value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = spindle_process::Value::new(7u8).unwrap();
    /// assert_eq!(v.get(), 7);
    /// ```
    pub fn get(&self) -> T {
        // SAFETY:
        // - `ptr` is valid and aligned for T (see `ptr`); every bit pattern is a valid T (Pod).
        // - a volatile read: other processes write this memory outside the compiler's view.
        unsafe { self.ptr().read_volatile() }
    }

    /// Writes the value: Python's `v.value = x`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = spindle_process::Value::new(0i32).unwrap();
    /// v.set(-3);
    /// assert_eq!(v.get(), -3);
    /// ```
    pub fn set(&self, value: T) {
        // SAFETY:
        // - `ptr` is valid and aligned for T; volatile because other processes read it.
        unsafe { self.ptr().write_volatile(value) }
    }

    /// The lock guarding the value: Python's `v.get_lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = spindle_process::Value::new(1u64).unwrap();
    /// let g = v.get_lock().lock();
    /// v.set(v.get() + 1); // read-modify-write under the lock
    /// drop(g);
    /// assert_eq!(v.get(), 2);
    /// ```
    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }

    /// Takes the lock and returns a guard that dereferences to the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = spindle_process::Value::new(10u32).unwrap();
    /// {
    ///     let mut g = v.lock();
    ///     *g *= 2;
    ///     assert!(v.get_lock().locked());
    /// }
    /// assert_eq!(v.get(), 20);
    /// ```
    pub fn lock(&self) -> ValueGuard<'_, T> {
        ValueGuard {
            _guard: self.lock.lock(),
            ptr: self.ptr(),
            _t: PhantomData,
        }
    }
}

/// The value of a [`Value`], borrowed with its lock held.
///
/// # Examples
///
/// ```
/// let v = spindle_process::Value::new(1i16).unwrap();
/// let mut g = v.lock();
/// *g -= 2;
/// assert_eq!(*g, -1);
/// ```
pub struct ValueGuard<'a, T: Pod> {
    _guard: LockGuard<'a, Lock>,
    ptr: *mut T,
    _t: PhantomData<&'a mut T>,
}

impl<T: Pod + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&**self).finish()
    }
}

impl<T: Pod> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY:
        // - valid, aligned pointer into the live block; the lock is held, so cooperating
        //   processes do not write meanwhile.
        unsafe { &*self.ptr }
    }
}

impl<T: Pod> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY:
        // - as in `deref`; `&mut self` makes this the only reference from this guard.
        unsafe { &mut *self.ptr }
    }
}

/// A fixed-length array of `T` in shared memory with a lock: Python's
/// `multiprocessing.Array(typecode, size_or_initializer)`.
///
/// # Examples
///
/// ```
/// use spindle_process::Array;
///
/// let a = Array::from_slice(&[1.0f64, 2.0, 3.0]).unwrap();
/// a.lock()[1] = 20.0;
/// assert_eq!(a.to_vec(), vec![1.0, 20.0, 3.0]);
/// assert_eq!(a.get(3), None);
/// ```
pub struct Array<T: Pod> {
    block: Arc<SharedBlock>,
    lock: Lock,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Pod + fmt::Debug> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array").field("len", &self.len).finish()
    }
}

impl<T: Pod> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            block: self.block.clone(),
            lock: self.lock.clone(),
            len: self.len,
            _t: PhantomData,
        }
    }
}

impl<T: Pod> Array<T> {
    /// An array of `len` zeroed elements.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the byte size overflows; the operating system's error if the shared
    /// block cannot be created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::<u32>::new(3).unwrap();
    /// assert_eq!(a.to_vec(), [0, 0, 0]);
    /// ```
    pub fn new(len: usize) -> io::Result<Array<T>> {
        let bytes = std::mem::size_of::<T>()
            .checked_mul(len)
            .and_then(|b| b.checked_add(DATA_OFFSET))
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let block = SharedBlock::new(bytes)?;
        Ok(Array {
            lock: Lock::in_block(block.clone(), 0),
            block,
            len,
            _t: PhantomData,
        })
    }

    /// An array holding a copy of `items`.
    ///
    /// # Errors
    ///
    /// As [`Array::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::from_slice(&[4u8, 5]).unwrap();
    /// assert_eq!(a.get(1), Some(5));
    /// ```
    pub fn from_slice(items: &[T]) -> io::Result<Array<T>> {
        let a = Array::new(items.len())?;
        a.lock().copy_from_slice(items);
        Ok(a)
    }

    fn ptr(&self) -> *mut T {
        // SAFETY:
        // - the block holds DATA_OFFSET + len * size_of::<T>() bytes; DATA_OFFSET keeps T aligned.
        unsafe { self.block.ptr().add(DATA_OFFSET).cast::<T>() }
    }

    /// Number of elements: Python's `len(a)`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle_process::Array::<i64>::new(4).unwrap().len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle_process::Array::<i64>::new(0).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `i`, or `None` out of range: Python's `a[i]` (which raises `IndexError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::from_slice(&[1i32, 2]).unwrap();
    /// assert_eq!(a.get(0), Some(1));
    /// assert_eq!(a.get(2), None);
    /// ```
    pub fn get(&self, i: usize) -> Option<T> {
        // SAFETY:
        // - `i < len` keeps the read inside the block; volatile as for `Value::get`.
        (i < self.len).then(|| unsafe { self.ptr().add(i).read_volatile() })
    }

    /// Writes element `i`; returns false (and writes nothing) if `i` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::<u16>::new(2).unwrap();
    /// assert!(a.set(1, 9));
    /// assert!(!a.set(2, 9)); // out of range
    /// assert_eq!(a.to_vec(), [0, 9]);
    /// ```
    pub fn set(&self, i: usize, value: T) -> bool {
        if i >= self.len {
            return false;
        }
        // SAFETY:
        // - `i < len` keeps the write inside the block; volatile as for `Value::set`.
        unsafe { self.ptr().add(i).write_volatile(value) };
        true
    }

    /// A copy of all elements, taken under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::from_slice(&[1.5f32, 2.5]).unwrap();
    /// assert_eq!(a.to_vec(), vec![1.5, 2.5]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.lock().to_vec()
    }

    /// The lock guarding the array: Python's `a.get_lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::<u8>::new(1).unwrap();
    /// let g = a.get_lock().lock();
    /// assert!(a.get_lock().locked());
    /// drop(g);
    /// ```
    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }

    /// Takes the lock and returns a guard that dereferences to the elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle_process::Array::<u8>::new(3).unwrap();
    /// a.lock().copy_from_slice(&[1, 2, 3]);
    /// assert_eq!(a.to_vec(), [1, 2, 3]);
    /// ```
    pub fn lock(&self) -> ArrayGuard<'_, T> {
        ArrayGuard {
            _guard: self.lock.lock(),
            ptr: self.ptr(),
            len: self.len,
            _t: PhantomData,
        }
    }
}

/// The elements of an [`Array`], borrowed with its lock held.
///
/// # Examples
///
/// ```
/// let a = spindle_process::Array::from_slice(&[3u32, 1, 2]).unwrap();
/// let mut g = a.lock();
/// g.sort();
/// assert_eq!(&*g, &[1, 2, 3]);
/// ```
pub struct ArrayGuard<'a, T: Pod> {
    _guard: LockGuard<'a, Lock>,
    ptr: *mut T,
    len: usize,
    _t: PhantomData<&'a mut [T]>,
}

impl<T: Pod + fmt::Debug> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Pod> Deref for ArrayGuard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY:
        // - `ptr..ptr+len` lies in the live block, aligned; the lock is held.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Pod> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY:
        // - as in `deref`; `&mut self` makes this the only slice from this guard.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(with = "arc_block")]
    block: Arc<SharedBlock>,
    elem_size: u64,
    len: u64,
}

fn from_wire<E: serde::de::Error, T: Pod>(w: Wire) -> Result<(Arc<SharedBlock>, usize), E> {
    let len = usize::try_from(w.len).map_err(E::custom)?;
    let need = std::mem::size_of::<T>()
        .checked_mul(len)
        .and_then(|b| b.checked_add(DATA_OFFSET));
    if w.elem_size != std::mem::size_of::<T>() as u64 || need.is_none_or(|n| n > w.block.len()) {
        return Err(E::custom(
            "shared value has a different element type or size",
        ));
    }
    Ok((w.block, len))
}

impl<T: Pod> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            block: self.block.clone(),
            elem_size: std::mem::size_of::<T>() as u64,
            len: 1,
        }
        .serialize(s)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (block, _) = from_wire::<D::Error, T>(Wire::deserialize(d)?)?;
        Ok(Value {
            lock: Lock::in_block(block.clone(), 0),
            block,
            _t: PhantomData,
        })
    }
}

impl<T: Pod> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            block: self.block.clone(),
            elem_size: std::mem::size_of::<T>() as u64,
            len: self.len as u64,
        }
        .serialize(s)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (block, len) = from_wire::<D::Error, T>(Wire::deserialize(d)?)?;
        Ok(Array {
            lock: Lock::in_block(block.clone(), 0),
            block,
            len,
            _t: PhantomData,
        })
    }
}
