//! The messages between rank 0 and the worker ranks, and their layout.
//!
//! - `HELLO` (worker to rank 0, once): the worker's host name and build id, encoded.
//! - `TASK` (rank 0 to worker): a batch made by `shipping::encode_batch_into`, then the task id
//!   (`u64`, little-endian) as a trailer.
//! - `REPLY` (worker to rank 0): the payload, then the worker's busy time in ns, the task id and
//!   a status byte as a trailer.
//! - `STOP` (rank 0 to worker): empty; the worker finalises MPI and exits.
//!
//! Ids and statuses go last so that neither side copies a payload to put a header in front of
//! it: rank 0 appends the id to the batch it encoded, a worker appends its trailer to the reply
//! `invoke_batch` wrote.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use spindle_process::shipping::BuildId;

use crate::comm::Tag;

/// Worker to rank 0: who I am.
pub(crate) const HELLO: Tag = 1;
/// Rank 0 to worker: run this batch.
pub(crate) const TASK: Tag = 2;
/// Worker to rank 0: the batch's results.
pub(crate) const REPLY: Tag = 3;
/// Rank 0 to worker: no more work; exit.
pub(crate) const STOP: Tag = 4;

/// The id of the initializer's task, which every worker runs first.
pub(crate) const INIT_ID: u64 = u64::MAX;

/// What a worker says when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) host: String,
    pub(crate) build: BuildId,
}

/// How a worker's batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Status {
    /// The payload is `invoke_batch`'s output: one result per item.
    Ran = 0,
    /// The payload is an encoded `ShipError`: no item ran.
    Refused = 1,
    /// The payload is a panic message (UTF-8) from outside the items, such as a panicking
    /// `Serialize` impl; no result is usable.
    Panicked = 2,
}

impl Status {
    fn from_byte(b: u8) -> Option<Status> {
        [Status::Ran, Status::Refused, Status::Panicked]
            .into_iter()
            .find(|s| *s as u8 == b)
    }
}

/// Appends a task's id to its batch.
pub(crate) fn seal_task(batch: &mut Vec<u8>, id: u64) {
    batch.extend_from_slice(&id.to_le_bytes());
}

/// Splits a `TASK` message into its batch and id.
pub(crate) fn open_task(msg: &[u8]) -> Option<(&[u8], u64)> {
    let (batch, id) = msg.split_at_checked(msg.len().checked_sub(8)?)?;
    Some((batch, u64::from_le_bytes(id.try_into().ok()?)))
}

/// Appends a reply's trailer to its payload.
pub(crate) fn seal_reply(payload: &mut Vec<u8>, busy: Duration, id: u64, status: Status) {
    let busy_ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
    payload.extend_from_slice(&busy_ns.to_le_bytes());
    payload.extend_from_slice(&id.to_le_bytes());
    payload.push(status as u8);
}

/// A `REPLY` message, opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reply<'a> {
    pub(crate) payload: &'a [u8],
    pub(crate) busy: Duration,
    pub(crate) id: u64,
    pub(crate) status: Status,
}

/// Splits a `REPLY` message; `None` if it is not one.
pub(crate) fn open_reply(msg: &[u8]) -> Option<Reply<'_>> {
    let (payload, trailer) = msg.split_at_checked(msg.len().checked_sub(17)?)?;
    let word = |at: usize| u64::from_le_bytes(trailer[at..at + 8].try_into().unwrap_or([0; 8]));
    Some(Reply {
        payload,
        busy: Duration::from_nanos(word(0)),
        id: word(8),
        status: Status::from_byte(trailer[16])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_round_trip() {
        let mut msg = b"batch".to_vec();
        seal_task(&mut msg, 42);
        assert_eq!(open_task(&msg), Some((&b"batch"[..], 42)));
        assert_eq!(open_task(&msg[..7]), None, "too short for an id");
    }

    #[test]
    fn reply_round_trip_for_every_status() {
        for status in [Status::Ran, Status::Refused, Status::Panicked] {
            let mut msg = b"payload".to_vec();
            seal_reply(&mut msg, Duration::from_nanos(1234), 7, status);
            let reply = open_reply(&msg).unwrap();
            assert_eq!(
                reply,
                Reply {
                    payload: b"payload",
                    busy: Duration::from_nanos(1234),
                    id: 7,
                    status
                }
            );
        }
    }

    #[test]
    fn malformed_replies_are_none() {
        assert_eq!(open_reply(&[0; 16]), None, "too short");
        let mut msg = Vec::new();
        seal_reply(&mut msg, Duration::ZERO, 1, Status::Ran);
        *msg.last_mut().unwrap() = 9;
        assert_eq!(open_reply(&msg), None, "unknown status");
    }
}
