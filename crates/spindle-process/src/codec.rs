//! The wire encoding: every value that crosses a process boundary goes through this module.
//!
//! Values are `serde` types encoded with `bincode` 2 (standard configuration: little endian,
//! variable-length integers). Frames on a byte stream carry a 4-byte little-endian length
//! prefix. Swapping the format (`postcard`, `wincode`) means changing only this file.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bytes of the length prefix in front of every frame.
pub(crate) const HEADER: usize = 4;

/// Largest body a frame header can describe.
pub(crate) const MAX_FRAME: usize = u32::MAX as usize;

/// Why a value could not be encoded or decoded; the text is bincode's (or serde's) message.
/// No operating-system failure can happen here (encoding writes into memory), so a message
/// is all there is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CodecError {
    /// `Serialize` failed (for example a handle serialised outside a process start).
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The bytes are not a valid encoding of the requested type.
    #[error("cannot decode: {0}")]
    Decode(String),
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value` into a fresh buffer.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out` (on error `out` may hold a partial encoding).
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(drop)
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a `T` that must use every byte of `bytes`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (v, used) = bincode::serde::decode_from_slice::<T, _>(bytes, config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::Decode(format!(
            "{} trailing bytes after the value",
            bytes.len() - used
        )));
    }
    Ok(v)
}

/// Decodes a `T` from the front of `bytes`; returns it and the number of bytes it used.
pub(crate) fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), CodecError> {
    bincode::serde::decode_from_slice::<T, _>(bytes, config())
        .map_err(|e| CodecError::Decode(e.to_string()))
}

/// The length prefix for a body of `len` bytes, or `None` if it is too long for a frame.
pub(crate) fn frame_header(len: usize) -> Option<[u8; HEADER]> {
    u32::try_from(len).ok().map(u32::to_le_bytes)
}

/// The body length a frame header announces.
pub(crate) fn frame_len(header: [u8; HEADER]) -> usize {
    u32::from_le_bytes(header) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = (1u8, "two".to_string(), vec![3.0f64, 4.5], Some(-7i64));
        let bytes = encode(&v).unwrap();
        let back: (u8, String, Vec<f64>, Option<i64>) = decode(&bytes).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode(&5u32).unwrap();
        bytes.push(0);
        assert!(matches!(decode::<u32>(&bytes), Err(CodecError::Decode(_))));
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = encode(&"hello".to_string()).unwrap();
        assert!(matches!(
            decode::<String>(&bytes[..3]),
            Err(CodecError::Decode(_))
        ));
    }

    #[test]
    fn frame_header_round_trip() {
        assert_eq!(frame_len(frame_header(70_000).unwrap()), 70_000);
    }
}
