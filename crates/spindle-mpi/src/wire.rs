//! The messages between rank 0 and the worker ranks, and their layout.
//!
//! - `HELLO` (worker to rank 0, once): the worker's host name and build id, encoded.
//! - `TASK` (rank 0 to worker): one or more task frames, each a batch made by
//!   `shipping::encode_batch_into` followed by the task id (`u64`, little-endian).
//! - `REPLY` (worker to rank 0): one reply frame per task frame, in the same order, each the
//!   payload followed by the worker's busy time in ns, the task id and a status byte.
//! - `STOP` (rank 0 to worker): empty; the worker finalises MPI and exits.
//!
//! Every frame is followed by its length (`u32`), so a message is read from its end, and two
//! messages laid end to end are one message: rank 0 packs several short tasks for a worker
//! into one send, and the worker answers them with one reply. Ids, statuses and lengths go
//! last so that neither side copies a payload to put a header in front of it: rank 0 appends
//! to the batch it encoded, a worker to the results `invoke_batch` wrote.

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

/// Bytes a frame's length takes after it.
const LEN: usize = 4;
/// Bytes a task frame adds to its batch: the id and the frame length.
pub(crate) const TASK_OVERHEAD: usize = 8 + LEN;
/// Bytes a reply frame adds to its payload: busy time, id, status and the frame length.
pub(crate) const REPLY_OVERHEAD: usize = 8 + 8 + 1 + LEN;

/// Ends the frame that began at `start` by appending its length.
fn end_frame(msg: &mut Vec<u8>, start: usize) {
    let len = u32::try_from(msg.len() - start).unwrap_or(u32::MAX);
    msg.extend_from_slice(&len.to_le_bytes());
}

/// The frames of a message, in order, without their lengths; `None` if it is not made of
/// frames.
pub(crate) fn frames(mut msg: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !msg.is_empty() {
        let (rest, len) = msg.split_at_checked(msg.len().checked_sub(LEN)?)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let (rest, frame) = rest.split_at_checked(rest.len().checked_sub(len)?)?;
        out.push(frame);
        msg = rest;
    }
    out.reverse();
    Some(out)
}

/// Turns a batch into a one-task message: appends the task's id and the frame length.
/// Messages append to each other: `a.extend_from_slice(&b)` holds the tasks of both.
pub(crate) fn seal_task(batch: &mut Vec<u8>, id: u64) {
    batch.extend_from_slice(&id.to_le_bytes());
    end_frame(batch, 0);
}

/// Splits a task frame into its batch and id.
pub(crate) fn open_task(frame: &[u8]) -> Option<(&[u8], u64)> {
    let (batch, id) = frame.split_at_checked(frame.len().checked_sub(8)?)?;
    Some((batch, u64::from_le_bytes(id.try_into().ok()?)))
}

/// Ends the reply frame whose payload began at `start` in `msg`: appends the trailer and the
/// frame length.
pub(crate) fn seal_reply(msg: &mut Vec<u8>, start: usize, busy: Duration, id: u64, status: Status) {
    let busy_ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
    msg.extend_from_slice(&busy_ns.to_le_bytes());
    msg.extend_from_slice(&id.to_le_bytes());
    msg.push(status as u8);
    end_frame(msg, start);
}

/// A `REPLY` message, opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reply<'a> {
    pub(crate) payload: &'a [u8],
    pub(crate) busy: Duration,
    pub(crate) id: u64,
    pub(crate) status: Status,
}

/// Splits a reply frame; `None` if it is not one.
pub(crate) fn open_reply(frame: &[u8]) -> Option<Reply<'_>> {
    let (payload, trailer) = frame.split_at_checked(frame.len().checked_sub(17)?)?;
    let word = |at: usize| u64::from_le_bytes(trailer[at..at + 8].try_into().unwrap_or([0; 8]));
    Some(Reply {
        payload,
        busy: Duration::from_nanos(word(0)),
        id: word(8),
        status: Status::from_byte(trailer[16])?,
    })
}

/// The one reply frame of a message, for tests.
#[cfg(test)]
pub(crate) fn single_reply(msg: &[u8]) -> Reply<'_> {
    let frames = frames(msg).expect("a framed message");
    assert_eq!(frames.len(), 1, "one reply frame");
    open_reply(frames[0]).expect("a reply frame")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_tasks_append_and_split_back() {
        let mut msg = b"batch one".to_vec();
        seal_task(&mut msg, 42);
        let mut second = b"two".to_vec();
        seal_task(&mut second, 43);
        let mut empty = Vec::new();
        seal_task(&mut empty, 44);
        msg.extend_from_slice(&second);
        msg.extend_from_slice(&empty);
        let frames = frames(&msg).unwrap();
        let tasks: Vec<_> = frames.iter().map(|f| open_task(f).unwrap()).collect();
        assert_eq!(
            tasks,
            [(&b"batch one"[..], 42), (&b"two"[..], 43), (&b""[..], 44)]
        );
        assert_eq!(msg.len(), 9 + 3 + 3 * TASK_OVERHEAD);
    }

    #[test]
    fn reply_frames_round_trip_for_every_status() {
        let mut msg = Vec::new();
        for (id, status) in [Status::Ran, Status::Refused, Status::Panicked]
            .into_iter()
            .enumerate()
        {
            let start = msg.len();
            msg.extend_from_slice(b"payload");
            seal_reply(
                &mut msg,
                start,
                Duration::from_nanos(1234),
                id as u64,
                status,
            );
        }
        let replies: Vec<_> = frames(&msg)
            .unwrap()
            .into_iter()
            .map(|f| open_reply(f).unwrap())
            .collect();
        assert_eq!(replies.len(), 3);
        assert_eq!(
            replies[1],
            Reply {
                payload: b"payload",
                busy: Duration::from_nanos(1234),
                id: 1,
                status: Status::Refused
            }
        );
        assert_eq!(msg.len(), 3 * (7 + REPLY_OVERHEAD));
    }

    #[test]
    fn malformed_messages_and_frames_are_none() {
        assert_eq!(frames(&[1, 2]), None, "shorter than a length");
        assert_eq!(
            frames(&[1, 0, 0, 0, 9, 0, 0, 0]),
            None,
            "a length past the start"
        );
        assert_eq!(frames(&[]), Some(Vec::new()));
        assert_eq!(open_task(&[0; 7]), None, "too short for an id");
        assert_eq!(open_reply(&[0; 16]), None, "too short for a trailer");
        let mut msg = Vec::new();
        seal_reply(&mut msg, 0, Duration::ZERO, 1, Status::Ran);
        let frame_end = msg.len() - 4;
        msg[frame_end - 1] = 9;
        assert_eq!(open_reply(&msg[..frame_end]), None, "unknown status");
    }
}
