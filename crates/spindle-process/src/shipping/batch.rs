//! Batches: many calls of one function shipped as one message (a chunk of a pool's `map`).
//!
//! A batch is one [`BatchToken`] followed by the arguments encoded once as a `Vec<A>`; the
//! worker decodes them, calls the function on each item under `catch_unwind` and encodes the
//! results as one `Vec<Result<R, ItemError>>`, item by item, so a panic or an unencodable
//! result fails only its item.

use super::{code_addrs, code_offsets, BuildId, ShipError};
use crate::codec::{self, CodecError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why one item of a batch produced no result (the other items are not affected).
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_batch, encode_batch_into, invoke_batch, ItemError};
///
/// fn check(x: u8) -> u8 {
///     assert!(x > 0, "zero");
///     x
/// }
/// let (mut call, mut reply) = (Vec::new(), Vec::new());
/// encode_batch_into(check, &[0], &mut call).unwrap();
/// // SAFETY: `call` was made by `encode_batch_into` in this program.
/// unsafe { invoke_batch(&call, &mut reply) }.unwrap();
/// let results = decode_batch::<u8>(&reply).unwrap();
/// assert_eq!(results, [Err(ItemError::Panicked("zero".into()))]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ItemError {
    /// The function panicked on this item, with this message.
    #[error("the function panicked: {0}")]
    Panicked(String),
    /// The item's result could not be encoded.
    #[error("cannot encode the result: {0}")]
    Encode(String),
}

type BatchTrampoline = unsafe fn(usize, &[u8], &mut Vec<u8>) -> Result<(), ShipError>;

/// Decodes a `Vec<A>`, calls the `fn(A) -> R` at `target` on each item under `catch_unwind`,
/// and appends the encoding of `Vec<Result<R, ItemError>>` to `out`, item by item.
///
/// # Safety
///
/// `target` is the address of a `fn(A) -> R` with exactly these `A` and `R`.
unsafe fn batch_trampoline<A: DeserializeOwned, R: Serialize>(
    target: usize,
    args: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ShipError> {
    let args: Vec<A> = codec::decode(args)?;
    // SAFETY:
    // - the caller guarantees `target` came from a `fn(A) -> R` of this same executable
    //   (`BatchToken::of::<A, R>` paired this trampoline with it).
    let f: fn(A) -> R = unsafe { std::mem::transmute::<usize, fn(A) -> R>(target) };
    // A sequence's length is encoded as a `u64`: the same bytes as serde's `Vec` header.
    codec::encode_into(&(args.len() as u64), out)?;
    for a in args {
        let start = out.len();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(a)));
        let failure = match r {
            Ok(v) => match codec::encode_into(&Ok::<&R, ItemError>(&v), out) {
                Ok(()) => continue,
                Err(e) => ItemError::Encode(codec_message(e)),
            },
            Err(payload) => ItemError::Panicked(panic_message(&*payload)),
        };
        out.truncate(start);
        codec::encode_into(&Err::<(), ItemError>(failure), out)?;
    }
    Ok(())
}

fn codec_message(e: CodecError) -> String {
    match e {
        CodecError::Encode(m) | CodecError::Decode(m) => m,
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// A shippable reference to a `fn(A) -> R` run over a batch of arguments: one token for many
/// calls (a chunk of a pool's `map`), so the function is resolved once and the arguments and
/// results travel as one `Vec` each.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::BatchToken;
///
/// fn id(x: u8) -> u8 {
///     x
/// }
/// assert_eq!(BatchToken::of(id).unwrap(), BatchToken::of(id).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchToken {
    build: BuildId,
    trampoline: i64,
    target: i64,
}

impl BatchToken {
    /// The batch token for `f`.
    ///
    /// # Errors
    ///
    /// [`ShipError::UnknownFunction`] if `f` does not live in the main executable's code.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_process::shipping::BatchToken;
    ///
    /// fn double(x: u64) -> u64 {
    ///     x * 2
    /// }
    /// let token = BatchToken::of(double).unwrap();
    /// assert_eq!(token, BatchToken::of(double).unwrap());
    /// ```
    pub fn of<A: DeserializeOwned, R: Serialize>(f: fn(A) -> R) -> Result<BatchToken, ShipError> {
        let (trampoline, target) = code_offsets(
            batch_trampoline::<A, R> as BatchTrampoline as usize,
            f as usize,
        )?;
        Ok(BatchToken {
            build: BuildId::current(),
            trampoline,
            target,
        })
    }

    fn resolve(&self) -> Result<(BatchTrampoline, usize), ShipError> {
        let (t, g) = code_addrs(self.build, self.trampoline, self.target)?;
        // SAFETY:
        // - `t` lies in this executable's code and, the build id being equal, is the address
        //   `BatchToken::of` took of a `BatchTrampoline` in the sender (the caller of
        //   `invoke_batch` guarantees the token was made by `BatchToken::of`).
        let t = unsafe { std::mem::transmute::<usize, BatchTrampoline>(t) };
        Ok((t, g))
    }
}

/// Appends a batch call of `f` over `args` to `out`: its [`BatchToken`], then `args` encoded
/// once as a `Vec<A>`. A worker runs it with [`invoke_batch`].
///
/// # Errors
///
/// [`ShipError::UnknownFunction`] as for [`BatchToken::of`]; [`ShipError::Encode`] if an
/// argument does not serialise (`out` may then hold a partial encoding).
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_batch, encode_batch_into, invoke_batch, ItemError};
///
/// fn inverse(x: i32) -> i32 {
///     assert!(x != 0, "zero has no inverse");
///     100 / x
/// }
/// let mut call = Vec::new();
/// encode_batch_into(inverse, &[4, 0, 5], &mut call).unwrap();
/// // What a worker does after receiving the batch (here, in the same process):
/// let mut reply = Vec::new();
/// // SAFETY: `call` was made by `encode_batch_into` in this program.
/// unsafe { invoke_batch(&call, &mut reply) }.unwrap();
/// let results = decode_batch::<i32>(&reply).unwrap();
/// assert_eq!(results[0], Ok(25));
/// assert_eq!(results[1], Err(ItemError::Panicked("zero has no inverse".into())));
/// assert_eq!(results[2], Ok(20));
/// ```
pub fn encode_batch_into<A, R>(
    f: fn(A) -> R,
    args: &[A],
    out: &mut Vec<u8>,
) -> Result<(), ShipError>
where
    A: Serialize + DeserializeOwned,
    R: Serialize,
{
    codec::encode_into(&BatchToken::of(f)?, out)?;
    codec::encode_into(args, out)?;
    Ok(())
}

/// Runs a batch made by [`encode_batch_into`]: each item under `catch_unwind`, so a panic
/// fails only its item. Appends the encoded `Vec<Result<R, ItemError>>` to `out`.
///
/// # Errors
///
/// [`ShipError::BuildMismatch`] if another executable made the batch;
/// [`ShipError::UnknownFunction`] if an address is outside this executable's code;
/// [`ShipError::Decode`] if the batch or its arguments do not decode (no item ran).
///
/// # Safety
///
/// As [`Call::invoke`](super::Call::invoke): the bytes must come from [`encode_batch_into`] in a process of this
/// program.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::{decode_batch, encode_batch_into, invoke_batch};
///
/// fn double(x: u64) -> u64 {
///     x * 2
/// }
/// let (mut call, mut reply) = (Vec::new(), Vec::new());
/// encode_batch_into(double, &[1, 2], &mut call).unwrap();
/// // SAFETY: `call` was made by `encode_batch_into` in this program.
/// unsafe { invoke_batch(&call, &mut reply) }.unwrap();
/// assert_eq!(decode_batch::<u64>(&reply).unwrap(), [Ok(2), Ok(4)]);
/// ```
pub unsafe fn invoke_batch(batch: &[u8], out: &mut Vec<u8>) -> Result<(), ShipError> {
    let (token, used) = codec::decode_prefix::<BatchToken>(batch)?;
    let (t, g) = token.resolve()?;
    // SAFETY:
    // - the caller guarantees the token came from `BatchToken::of::<A, R>`, which pairs `g`
    //   (a `fn(A) -> R`) with `batch_trampoline::<A, R>`; the build id check above ensures
    //   the offsets refer to the same code here.
    unsafe { t(g, &batch[used..], out) }
}

/// Decodes the results [`invoke_batch`] produced, one per item in order.
///
/// # Errors
///
/// [`ShipError::Decode`] if `bytes` is not a batch of `R` results.
///
/// # Examples
///
/// ```
/// use spindle_process::shipping::decode_batch;
///
/// assert!(decode_batch::<u64>(&[0xff]).is_err()); // not a batch reply
/// ```
pub fn decode_batch<R: DeserializeOwned>(
    bytes: &[u8],
) -> Result<Vec<Result<R, ItemError>>, ShipError> {
    Ok(codec::decode(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: u64) -> u64 {
        x * x
    }

    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}

    #[test]
    fn item_error_is_an_error_with_a_lowercase_message() {
        is_error::<ItemError>();
        assert_eq!(
            ItemError::Panicked("boom".into()).to_string(),
            "the function panicked: boom"
        );
        assert_eq!(
            ItemError::Encode("bad".into()).to_string(),
            "cannot encode the result: bad"
        );
    }

    fn halve(x: u64) -> u64 {
        assert!(x % 2 == 0, "odd");
        x / 2
    }

    #[test]
    fn batch_round_trip_fails_only_the_panicking_item() {
        let mut call = Vec::new();
        encode_batch_into(halve, &[4, 3, 8], &mut call).unwrap();
        let mut reply = Vec::new();
        // SAFETY: made by encode_batch_into in this process.
        unsafe { invoke_batch(&call, &mut reply) }.unwrap();
        let got = decode_batch::<u64>(&reply).unwrap();
        assert_eq!(
            got,
            vec![Ok(2), Err(ItemError::Panicked("odd".into())), Ok(4)]
        );
    }

    #[test]
    fn empty_batch_round_trip() {
        let mut call = Vec::new();
        encode_batch_into(square, &[], &mut call).unwrap();
        let mut reply = Vec::new();
        // SAFETY: made by encode_batch_into in this process.
        unsafe { invoke_batch(&call, &mut reply) }.unwrap();
        assert!(decode_batch::<u64>(&reply).unwrap().is_empty());
    }

    #[test]
    fn batch_of_other_build_is_refused() {
        let mut token = BatchToken::of(square).unwrap();
        token.build = token.build.altered();
        let mut call = codec::encode(&token).unwrap();
        codec::encode_into(&[1u64][..], &mut call).unwrap();
        // SAFETY: the token is refused before any address is used.
        let err = unsafe { invoke_batch(&call, &mut Vec::new()) }.unwrap_err();
        assert!(matches!(err, ShipError::BuildMismatch { .. }));
    }

    #[test]
    fn bad_batch_arguments_are_a_decode_error() {
        let mut call = codec::encode(&BatchToken::of(square).unwrap()).unwrap();
        call.extend_from_slice(&[0xff; 20]);
        // SAFETY: the token is genuine; only the arguments are wrong.
        let err = unsafe { invoke_batch(&call, &mut Vec::new()) }.unwrap_err();
        assert!(matches!(err, ShipError::Decode(_)));
    }
}
