//! Function shipping: how a plain `fn(A) -> R` reaches another process of the same program.
//!
//! Rust has no pickle, and a closure's captures cannot cross a process boundary, so a task is a
//! non-capturing function (a `fn` item or a closure coerced to `fn(A) -> R`) plus `serde`
//! arguments. The function travels as its offset from an anchor function of this crate; a
//! worker is the same executable (re-executed, or forked), so anchor + offset is the same code
//! there even under address-space randomisation. Each [`FnToken`] carries the [`BuildId`] of
//! the executable that made it; a worker running a different file refuses it with
//! [`ShipError::BuildMismatch`], and an address outside the executable's code is
//! [`ShipError::UnknownFunction`] instead of a jump into the void.
//!
//! The pieces are public so that process pools and `spindle-mpi` reuse them: build a [`Call`]
//! in the client, move its bytes, [`Call::invoke`] it in the worker, and decode the reply with
//! [`decode_result`] (a worker's own replies go through [`encode_result`]). For many calls of one function (a chunk of a pool's `map`),
//! [`encode_batch_into`] writes one [`BatchToken`] and the arguments as one `Vec<A>`,
//! [`invoke_batch`] runs each item under `catch_unwind` (a panic fails only its item) and
//! [`decode_batch`] returns one `Result<R, ItemError>` per item. Python has no twin of this
//! module (pickle does it by qualified name).

mod batch;
mod build_id;

pub(crate) use batch::panic_message;
pub use batch::{decode_batch, encode_batch_into, invoke_batch, BatchToken, ItemError};
pub use build_id::BuildId;

use crate::codec::{self, CodecError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

/// Why a function or its arguments could not be shipped or run.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_result, ShipError};
///
/// let r = decode_result::<u64>(&[]); // no bytes: not a u64
/// assert!(matches!(r, Err(ShipError::Decode(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ShipError {
    /// The token was made by a different executable than the one running it.
    #[error("function was shipped from a different executable (sender {sender}, worker {worker})")]
    BuildMismatch {
        /// Build id of the process that made the token.
        sender: BuildId,
        /// Build id of the process asked to run it.
        worker: BuildId,
    },
    /// The address is not inside this executable's code (for example a function from a
    /// dynamically loaded library, or a corrupted token).
    #[error("function address is not inside this executable's code")]
    UnknownFunction,
    /// The arguments or the result could not be encoded.
    #[error("cannot encode a shipped value: {0}")]
    Encode(String),
    /// The arguments or the result could not be decoded.
    #[error("cannot decode a shipped value: {0}")]
    Decode(String),
}

impl From<CodecError> for ShipError {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Encode(m) => ShipError::Encode(m),
            CodecError::Decode(m) => ShipError::Decode(m),
        }
    }
}

#[inline(never)]
fn anchor() {
    // A distinct body keeps identical-code folding from merging the anchor with another fn.
    std::hint::black_box(0x0053_5049_4e44_4c45_u64);
}

fn anchor_addr() -> usize {
    anchor as fn() as usize
}

/// Executable ranges of the main program, read once from `/proc/self/maps`.
fn code_ranges() -> &'static [(usize, usize)] {
    static RANGES: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        let exe = std::fs::read_link("/proc/self/exe").ok();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let mut out = Vec::new();
        for line in maps.lines() {
            let mut it = line.split_whitespace();
            let (Some(range), Some(perms)) = (it.next(), it.next()) else {
                continue;
            };
            let path = it.nth(3);
            if !perms.contains('x') {
                continue;
            }
            if let (Some(exe), Some(path)) = (&exe, path) {
                if !path.starts_with(exe.to_string_lossy().as_ref()) {
                    continue;
                }
            }
            if let Some((a, b)) = range.split_once('-') {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    out.push((a, b));
                }
            }
        }
        out
    })
}

fn in_code(addr: usize) -> bool {
    let ranges = code_ranges();
    // If /proc is unreadable we cannot check; the build id check still applies.
    ranges.is_empty() || ranges.iter().any(|&(a, b)| (a..b).contains(&addr))
}

/// The offsets from the anchor of a trampoline at `t` and its target function at `g`, as a
/// token carries them.
///
/// # Errors
///
/// [`ShipError::UnknownFunction`] if either address lies outside the executable's code.
fn code_offsets(t: usize, g: usize) -> Result<(i64, i64), ShipError> {
    if !in_code(t) || !in_code(g) {
        return Err(ShipError::UnknownFunction);
    }
    let base = anchor_addr();
    Ok((t.wrapping_sub(base) as i64, g.wrapping_sub(base) as i64))
}

/// The addresses in this process of the trampoline and target a token made by `sender` names
/// by their offsets `t` and `g` (the inverse of [`code_offsets`]).
///
/// # Errors
///
/// [`ShipError::BuildMismatch`] if `sender` is not this executable's build;
/// [`ShipError::UnknownFunction`] if either address lies outside the executable's code.
fn code_addrs(sender: BuildId, t: i64, g: i64) -> Result<(usize, usize), ShipError> {
    let here = BuildId::current();
    if sender != here {
        return Err(ShipError::BuildMismatch {
            sender,
            worker: here,
        });
    }
    let base = anchor_addr();
    let t = base.wrapping_add(t as usize);
    let g = base.wrapping_add(g as usize);
    if !in_code(t) || !in_code(g) {
        return Err(ShipError::UnknownFunction);
    }
    Ok((t, g))
}

type Trampoline = unsafe fn(usize, &[u8]) -> Result<Vec<u8>, ShipError>;

/// Decodes `A`, calls the `fn(A) -> R` at `target`, encodes `R`.
///
/// # Safety
///
/// `target` is the address of a `fn(A) -> R` with exactly these `A` and `R`.
unsafe fn trampoline<A: DeserializeOwned, R: Serialize>(
    target: usize,
    args: &[u8],
) -> Result<Vec<u8>, ShipError> {
    let args: A = codec::decode(args)?;
    // SAFETY:
    // - the caller guarantees `target` came from a `fn(A) -> R` of this same executable
    //   (`FnToken::of::<A, R>` paired this trampoline with it).
    let f: fn(A) -> R = unsafe { std::mem::transmute::<usize, fn(A) -> R>(target) };
    Ok(codec::encode(&f(args))?)
}

/// A shippable reference to a `fn(A) -> R`: build id plus two code offsets (the function and
/// the monomorphic trampoline that decodes `A` and encodes `R` for it).
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::FnToken;
///
/// fn triple(x: u32) -> u32 { x * 3 }
/// let token = FnToken::of(triple).unwrap();
/// assert_eq!(token, FnToken::of(triple).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnToken {
    build: BuildId,
    trampoline: i64,
    target: i64,
}

impl FnToken {
    /// The token for `f`.
    ///
    /// # Errors
    ///
    /// [`ShipError::UnknownFunction`] if `f` does not live in the main executable's code.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::FnToken;
    ///
    /// fn double(x: u32) -> u32 { x * 2 }
    /// let token = FnToken::of(double).unwrap();
    /// assert_eq!(token, FnToken::of(double).unwrap());
    /// ```
    pub fn of<A: DeserializeOwned, R: Serialize>(f: fn(A) -> R) -> Result<FnToken, ShipError> {
        let (trampoline, target) =
            code_offsets(trampoline::<A, R> as Trampoline as usize, f as usize)?;
        Ok(FnToken {
            build: BuildId::current(),
            trampoline,
            target,
        })
    }

    /// The build id of the executable that made this token.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::{BuildId, FnToken};
    ///
    /// fn neg(x: i8) -> i8 { -x }
    /// assert_eq!(FnToken::of(neg).unwrap().build_id(), BuildId::current());
    /// ```
    pub fn build_id(&self) -> BuildId {
        self.build
    }

    fn resolve(&self) -> Result<(Trampoline, usize), ShipError> {
        let (t, g) = code_addrs(self.build, self.trampoline, self.target)?;
        // SAFETY:
        // - `t` lies in this executable's code and, the build id being equal, is the address
        //   `FnToken::of` took of a `Trampoline` in the sender (the caller of `Call::invoke`
        //   guarantees the token was made by `FnToken::of`).
        let t = unsafe { std::mem::transmute::<usize, Trampoline>(t) };
        Ok((t, g))
    }
}

/// A function and its encoded arguments: one self-contained job for a worker.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_result, Call};
///
/// fn len(s: String) -> usize { s.len() }
/// let call = Call::new(len, &"four".to_string()).unwrap();
/// // SAFETY: `call` was made by `Call::new` in this program.
/// let reply = unsafe { call.invoke() }.unwrap();
/// assert_eq!(decode_result::<usize>(&reply).unwrap(), 4);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    token: FnToken,
    #[serde(with = "crate::pool::wire::byte_buf")]
    args: Vec<u8>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("token", &self.token)
            .field("args_len", &self.args.len())
            .finish()
    }
}

impl Call {
    /// Packs `f` with its arguments.
    ///
    /// Handles that own descriptors (a `Connection`, a `Queue`) can be encoded only inside a
    /// process start; elsewhere this fails with [`ShipError::Encode`].
    ///
    /// # Errors
    ///
    /// [`ShipError::UnknownFunction`] as for [`FnToken::of`]; [`ShipError::Encode`] if the
    /// arguments do not serialise.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::{decode_result, Call};
    ///
    /// fn add((a, b): (i32, i32)) -> i32 { a + b }
    /// let call = Call::new(add, &(2, 3)).unwrap();
    /// // What a worker does after receiving the call (here, in the same process):
    /// // SAFETY: `call` was made by `Call::new` in this program.
    /// let reply = unsafe { call.invoke() }.unwrap();
    /// assert_eq!(decode_result::<i32>(&reply).unwrap(), 5);
    /// ```
    pub fn new<A: Serialize + DeserializeOwned, R: Serialize>(
        f: fn(A) -> R,
        args: &A,
    ) -> Result<Call, ShipError> {
        Ok(Call {
            token: FnToken::of(f)?,
            args: codec::encode(args)?,
        })
    }

    /// The function's token.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::{Call, FnToken};
    ///
    /// fn not(b: bool) -> bool { !b }
    /// assert_eq!(Call::new(not, &true).unwrap().token(), FnToken::of(not).unwrap());
    /// ```
    pub fn token(&self) -> FnToken {
        self.token
    }

    /// Runs the call here and returns the encoded result.
    ///
    /// A panic in the function propagates (catch it with `std::panic::catch_unwind` to report
    /// it, as pools do).
    ///
    /// # Errors
    ///
    /// [`ShipError::BuildMismatch`] if another executable made the call;
    /// [`ShipError::UnknownFunction`] if an address is outside this executable's code;
    /// [`ShipError::Decode`] / [`ShipError::Encode`] for the arguments and result.
    ///
    /// # Safety
    ///
    /// The call's bytes must come from [`Call::new`] in a process of this program (a trusted
    /// pipe from the parent, not the network): the checks catch a different or rebuilt
    /// executable and addresses outside its code, but a forged token pointing at the wrong
    /// function inside the code cannot be detected.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::{decode_result, Call};
    ///
    /// fn square(x: u64) -> u64 { x * x }
    /// let call = Call::new(square, &9).unwrap();
    /// // SAFETY: `call` was made by `Call::new` in this program.
    /// let reply = unsafe { call.invoke() }.unwrap();
    /// assert_eq!(decode_result::<u64>(&reply).unwrap(), 81);
    /// ```
    pub unsafe fn invoke(&self) -> Result<Vec<u8>, ShipError> {
        let (t, g) = self.token.resolve()?;
        // SAFETY:
        // - the caller guarantees the token came from `FnToken::of::<A, R>`, which pairs `g`
        //   (a `fn(A) -> R`) with `trampoline::<A, R>`; the build id check above ensures the
        //   offsets refer to the same code here.
        unsafe { t(g, &self.args) }
    }
}

/// Decodes the bytes [`Call::invoke`] returned.
///
/// # Errors
///
/// [`ShipError::Decode`] if `bytes` is not an `R`.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_result, Call};
///
/// fn greet(name: String) -> String { format!("hi {name}") }
/// let call = Call::new(greet, &"ann".to_string()).unwrap();
/// // SAFETY: `call` was made by `Call::new` in this program.
/// let reply = unsafe { call.invoke() }.unwrap();
/// assert_eq!(decode_result::<String>(&reply).unwrap(), "hi ann");
/// assert!(decode_result::<String>(&[]).is_err());
/// ```
pub fn decode_result<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, ShipError> {
    Ok(codec::decode(bytes)?)
}

/// Encodes a value the way [`Call::invoke`] encodes results, for a worker that replies with
/// something of its own (an error report, say); [`decode_result`] reads it back.
///
/// # Errors
///
/// [`ShipError::Encode`] if `value` does not serialise.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_result, encode_result, ShipError};
///
/// let bytes = encode_result(&ShipError::UnknownFunction).unwrap();
/// assert_eq!(decode_result::<ShipError>(&bytes).unwrap(), ShipError::UnknownFunction);
/// ```
pub fn encode_result<R: Serialize>(value: &R) -> Result<Vec<u8>, ShipError> {
    Ok(codec::encode(value)?)
}

/// A typed handle to a shippable function, for APIs that keep `A` and `R` in their types.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_result, RemoteFn};
///
/// fn half(x: u32) -> u32 { x / 2 }
/// let f = RemoteFn::new(half);
/// let call = f.call(&10).unwrap();
/// // SAFETY: `call` was made by `RemoteFn::call` in this program.
/// let reply = unsafe { call.invoke() }.unwrap();
/// assert_eq!(decode_result::<u32>(&reply).unwrap(), 5);
/// ```
pub struct RemoteFn<A, R> {
    f: fn(A) -> R,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, R> fmt::Debug for RemoteFn<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteFn")
            .field("addr", &(self.f as usize as *const ()))
            .finish()
    }
}

impl<A, R> Clone for RemoteFn<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, R> Copy for RemoteFn<A, R> {}

impl<A: Serialize + DeserializeOwned, R: Serialize + DeserializeOwned> RemoteFn<A, R> {
    /// Wraps `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::RemoteFn;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    /// let f = RemoteFn::new(inc);
    /// assert_eq!((f.get())(1), 2);
    /// ```
    pub fn new(f: fn(A) -> R) -> Self {
        RemoteFn {
            f,
            _types: PhantomData,
        }
    }

    /// The plain function (to call it locally).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::RemoteFn;
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    /// let local: fn(i32) -> i32 = RemoteFn::new(inc).get();
    /// assert_eq!(local(41), 42);
    /// ```
    pub fn get(&self) -> fn(A) -> R {
        self.f
    }

    /// Packs a call of this function.
    ///
    /// # Errors
    ///
    /// As [`Call::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::{Call, RemoteFn};
    ///
    /// fn inc(x: i32) -> i32 { x + 1 }
    /// let call = RemoteFn::new(inc).call(&1).unwrap();
    /// assert_eq!(call, Call::new(inc, &1).unwrap());
    /// ```
    pub fn call(&self, args: &A) -> Result<Call, ShipError> {
        Call::new(self.f, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: u64) -> u64 {
        x * x
    }

    #[test]
    fn invoke_round_trip() {
        let c = Call::new(square, &9).unwrap();
        // SAFETY: made by Call::new in this process.
        let out = unsafe { c.invoke() }.unwrap();
        assert_eq!(decode_result::<u64>(&out).unwrap(), 81);
    }

    #[test]
    fn other_build_is_refused() {
        let mut c = Call::new(square, &9).unwrap();
        c.token.build = c.token.build.altered();
        // SAFETY: the token is refused before any address is used.
        let err = unsafe { c.invoke() }.unwrap_err();
        assert!(matches!(err, ShipError::BuildMismatch { .. }));
    }

    #[test]
    fn address_outside_code_is_refused() {
        let mut c = Call::new(square, &9).unwrap();
        c.token.target = i64::MAX / 2;
        // SAFETY: the token is refused before any address is used.
        let err = unsafe { c.invoke() }.unwrap_err();
        assert_eq!(err, ShipError::UnknownFunction);
    }

    #[test]
    fn bad_arguments_are_a_decode_error() {
        let mut c = Call::new(square, &9).unwrap();
        c.args = vec![0xff; 20];
        // SAFETY: the token is genuine; only the arguments are wrong.
        assert!(matches!(unsafe { c.invoke() }, Err(ShipError::Decode(_))));
    }
}
