//! What travels between a pool and its workers: task frames and replies.
//!
//! A task frame carries one or more task records, each `[u64 id][u32 len][batch]` (little
//! endian), where the batch is what [`encode_batch_into`] writes: one function token and the
//! task's items encoded once as a `Vec<A>` (a chunk of a `map` holds several items, `submit`
//! one). The id sits in front so it can be filled in after the (lock-free) encoding; records
//! are concatenated so that a batch of small tasks costs one `write`. Each reply is a bincode
//! [`Reply`] for one task, sent as soon as that task is done (so after a crash the pool knows
//! exactly which task was running); its body is the encoded `Vec<Result<R, ItemError>>`, one
//! entry per item, decoded by the typed sink. Frames go over the pool's per-worker pipes with
//! the connection's length prefix.

use super::error::PoolError;
use crate::codec;
use crate::shipping::{decode_batch, encode_batch_into, invoke_batch, ItemError, ShipError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Bytes in front of each task record: its id (`u64`) and the length of its calls (`u32`).
pub(crate) const TASK_HEADER: usize = 12;

/// What happened to a task, as the worker reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum TaskOutcome {
    /// The encoded `Vec<Result<R, ItemError>>`, one entry per item.
    Items(#[serde(with = "byte_buf")] Vec<u8>),
    /// Shipping failed in the worker before any item ran (decoding the arguments, a token of
    /// another executable).
    Ship(ShipFailure),
}

/// A [`ShipError`] reduced to what the parent needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ShipFailure {
    /// Encoding the result failed.
    Encode(String),
    /// Decoding the arguments failed.
    Decode(String),
    /// The function could not be resolved.
    Other(String),
}

impl From<ShipError> for ShipFailure {
    fn from(e: ShipError) -> Self {
        match e {
            ShipError::Encode(m) => ShipFailure::Encode(m),
            ShipError::Decode(m) => ShipFailure::Decode(m),
            other => ShipFailure::Other(other.to_string()),
        }
    }
}

/// A worker's message to the pool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// The initializer (if any) ran; tasks can be trusted to this worker.
    Ready,
    /// The initializer failed with this message; the worker exits.
    InitFailed(String),
    /// Task `id` finished.
    Done {
        /// The task id from the frame.
        id: u64,
        /// Its items' results, or why none ran.
        outcome: TaskOutcome,
    },
}

/// Encodes a task record for `f` over `args` (the id is filled in later with [`set_id`]).
pub(crate) fn encode_task<A, R>(f: fn(A) -> R, args: &[A]) -> Result<Vec<u8>, PoolError>
where
    A: Serialize + DeserializeOwned,
    R: Serialize,
{
    let mut rec = Vec::with_capacity(64);
    rec.resize(TASK_HEADER, 0);
    encode_batch_into(f, args, &mut rec).map_err(|e| PoolError::Encode(e.to_string()))?;
    let len = u32::try_from(rec.len() - TASK_HEADER)
        .map_err(|_| PoolError::Encode(format!("a task of {} bytes is too large", rec.len())))?;
    rec[8..TASK_HEADER].copy_from_slice(&len.to_le_bytes());
    Ok(rec)
}

/// Writes `id` into the front of a task record.
pub(crate) fn set_id(rec: &mut [u8], id: u64) {
    rec[..8].copy_from_slice(&id.to_le_bytes());
}

/// The id of a task record.
pub(crate) fn id_of(rec: &[u8]) -> u64 {
    let mut id = [0u8; 8];
    id.copy_from_slice(&rec[..8]);
    u64::from_le_bytes(id)
}

/// Splits a task frame into its records: `(id, encoded calls)`.
pub(crate) fn split_frame(mut frame: &[u8]) -> Result<Vec<(u64, &[u8])>, String> {
    let mut out = Vec::new();
    while !frame.is_empty() {
        if frame.len() < TASK_HEADER {
            return Err(format!("truncated task record of {} bytes", frame.len()));
        }
        let id = id_of(frame);
        let mut len = [0u8; 4];
        len.copy_from_slice(&frame[8..TASK_HEADER]);
        let len = u32::from_le_bytes(len) as usize;
        let body = frame
            .get(TASK_HEADER..TASK_HEADER + len)
            .ok_or_else(|| format!("task record {id} announces {len} bytes, has fewer"))?;
        out.push((id, body));
        frame = &frame[TASK_HEADER + len..];
    }
    Ok(out)
}

/// Runs a record's batch in this (worker) process.
pub(crate) fn run_task(body: &[u8]) -> TaskOutcome {
    let mut out = Vec::new();
    // SAFETY:
    // - the record came from our parent over a private pipe or ring and was made by
    //   `encode_batch_into` in the same program (the build id inside is checked before any
    //   address is used).
    match unsafe { invoke_batch(body, &mut out) } {
        Ok(()) => TaskOutcome::Items(out),
        Err(e) => TaskOutcome::Ship(e.into()),
    }
}

/// Encodes a reply.
pub(crate) fn encode_reply(reply: &Reply) -> Vec<u8> {
    // A reply holds only strings, integers and byte vectors, which always encode.
    codec::encode(reply).unwrap_or_default()
}

/// Decodes a reply.
pub(crate) fn decode_reply(bytes: &[u8]) -> Result<Reply, codec::CodecError> {
    codec::decode(bytes)
}

/// Turns a task outcome into `n` typed item results (a whole-task failure fails each item).
pub(crate) fn decode_items<R: DeserializeOwned>(
    n: usize,
    outcome: Result<TaskOutcome, PoolError>,
) -> Vec<Result<R, PoolError>> {
    let failed = |e: PoolError| (0..n).map(|_| Err(e.clone())).collect();
    let bytes = match outcome {
        Ok(TaskOutcome::Items(bytes)) => bytes,
        Ok(TaskOutcome::Ship(f)) => return failed(ship_failure(f)),
        Err(e) => return failed(e),
    };
    let items = match decode_batch::<R>(&bytes) {
        Ok(items) => items,
        Err(ShipError::Decode(m)) => return failed(PoolError::Decode(format!("the result: {m}"))),
        Err(other) => return failed(PoolError::Decode(other.to_string())),
    };
    let mut out: Vec<Result<R, PoolError>> = items
        .into_iter()
        .map(|r| {
            r.map_err(|e| match e {
                ItemError::Panicked(m) => PoolError::Panicked(m),
                ItemError::Encode(m) => PoolError::Encode(format!("the result: {m}")),
            })
        })
        .collect();
    // A well-behaved worker answers every item; a short answer is a protocol error.
    while out.len() < n {
        out.push(Err(PoolError::Decode(
            "the worker returned too few results".into(),
        )));
    }
    out
}

/// The pool error for a task the worker could not run at all.
fn ship_failure(f: ShipFailure) -> PoolError {
    match f {
        ShipFailure::Encode(m) => PoolError::Encode(format!("the result: {m}")),
        ShipFailure::Decode(m) => PoolError::Decode(format!("the arguments: {m}")),
        ShipFailure::Other(m) => PoolError::Broken(m.into()),
    }
}

/// `#[serde(with = "...")]` helpers that move a `Vec<u8>` as one byte string instead of a
/// sequence of `u8`s: the same bytes on the wire with bincode, encoded and decoded in one
/// copy instead of one serde call per byte (about 100x faster for a megabyte).
pub(crate) mod byte_buf {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Serialises `v` with `serialize_bytes`.
    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }

    /// Deserialises what [`serialize`] wrote (or a plain sequence of `u8`).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Fast(#[serde(with = "byte_buf")] Vec<u8>);

    #[test]
    fn byte_buf_is_the_same_encoding_as_a_vec() {
        let v: Vec<u8> = (0..=255).collect();
        let fast = codec::encode(&Fast(v.clone())).unwrap();
        assert_eq!(fast, codec::encode(&v).unwrap());
        assert_eq!(codec::decode::<Fast>(&fast).unwrap(), Fast(v.clone()));
        assert_eq!(codec::decode::<Vec<u8>>(&fast).unwrap(), v);
    }

    fn triple(x: u32) -> u32 {
        assert!(x != 13, "unlucky");
        x * 3
    }

    #[test]
    fn task_runs_and_decodes_per_item() {
        let rec = encode_task(triple, &[1, 13, 2]).unwrap();
        let records = split_frame(&rec).unwrap();
        let outcome = run_task(records[0].1);
        let got = decode_items::<u32>(3, Ok(outcome));
        assert_eq!(got[0], Ok(3));
        assert_eq!(got[1], Err(PoolError::Panicked("unlucky".into())));
        assert_eq!(got[2], Ok(6));
    }

    #[test]
    fn short_or_failed_answers_fill_every_item() {
        let got = decode_items::<u32>(2, Ok(TaskOutcome::Ship(ShipFailure::Decode("x".into()))));
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|r| matches!(r, Err(PoolError::Decode(_)))));
        let empty = codec::encode(&Vec::<Result<u32, ItemError>>::new()).unwrap();
        let got = decode_items::<u32>(2, Ok(TaskOutcome::Items(empty)));
        assert!(got.iter().all(|r| matches!(r, Err(PoolError::Decode(_)))));
    }

    #[test]
    fn records_split_back() {
        let mut a = encode_task(triple, &[]).unwrap();
        set_id(&mut a, 7);
        let mut b = encode_task(triple, &[]).unwrap();
        set_id(&mut b, 9);
        let frame = [a, b].concat();
        let ids: Vec<u64> = split_frame(&frame)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, vec![7, 9]);
        assert!(split_frame(&frame[..frame.len() - 1]).is_err());
    }
}
