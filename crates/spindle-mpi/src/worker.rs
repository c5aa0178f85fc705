//! What ranks 1.. do: say hello, run the batches rank 0 sends until told to stop, finalise
//! MPI and exit. They never return into the user's `main`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use spindle_process::shipping::{encode_result, invoke_batch, BuildId, ShipError};

use crate::backoff::Backoff;
use crate::comm::{self, Link, Session, MAX_MESSAGE};
use crate::wire::{self, Hello, Status};

/// Serves rank 0 until it sends `STOP`, then finalises MPI and ends the process with status 0.
pub(crate) fn serve(session: Session, mut backoff: Backoff) -> ! {
    // This process is ours from here on: reuse big buffers instead of faulting them in anew.
    spindle_process::pool::keep_freed_memory();
    let link = Link::world();
    let hello = Hello {
        host: comm::host_name(),
        build: BuildId::current(),
    };
    // A `String` and a `BuildId` always encode.
    let hello = encode_result(&hello).unwrap_or_default();
    let _ = link.send_blocking(0, wire::HELLO, &hello);
    loop {
        let message = link.receive(Some(0), &mut backoff);
        match message.tag {
            wire::TASK => {
                let reply = run(&message.bytes);
                let _ = link.send_blocking(0, wire::REPLY, &reply);
            }
            wire::STOP => break,
            // Nothing else is sent to workers; an unknown tag is ignored, not fatal.
            _ => {}
        }
    }
    drop(link);
    drop(session);
    std::process::exit(0)
}

/// Runs the tasks of one `TASK` message and returns the `REPLY` message for them.
fn run(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(frames) = wire::frames(message) else {
        let error = ShipError::Decode("malformed task message".into());
        refusal(&mut out, 0, error, 0, Instant::now());
        return out;
    };
    for frame in frames {
        run_one(frame, &mut out);
    }
    out
}

/// Runs one task frame, appending its reply frame to `out`.
fn run_one(frame: &[u8], out: &mut Vec<u8>) {
    let started = Instant::now();
    let start = out.len();
    let Some((batch, id)) = wire::open_task(frame) else {
        let error = ShipError::Decode("malformed task frame".into());
        return refusal(out, start, error, 0, started);
    };
    // SAFETY:
    // - the batch comes from rank 0 of this MPI job, which made it with
    //   `shipping::encode_batch_into`: the job's ranks are processes of the same program (the
    //   build id check in `invoke_batch` refuses any other), not an untrusted network peer.
    let ran = catch_unwind(AssertUnwindSafe(|| unsafe { invoke_batch(batch, out) }));
    match ran {
        Ok(Ok(())) if out.len() + wire::REPLY_OVERHEAD <= MAX_MESSAGE => {
            wire::seal_reply(out, start, started.elapsed(), id, Status::Ran);
        }
        Ok(Ok(())) => {
            let error = ShipError::Encode(format!(
                "the results take {} bytes, more than one MPI message carries ({MAX_MESSAGE})",
                out.len() - start
            ));
            refusal(out, start, error, id, started);
        }
        Ok(Err(e)) => refusal(out, start, e, id, started),
        Err(payload) => {
            out.truncate(start);
            let text = spindle_sync::threading::panic_payload_text(&*payload)
                .unwrap_or("non-string panic payload");
            out.extend_from_slice(text.as_bytes());
            wire::seal_reply(out, start, started.elapsed(), id, Status::Panicked);
        }
    }
}

/// Replaces whatever the task wrote after `start` with a refusal frame.
fn refusal(out: &mut Vec<u8>, start: usize, error: ShipError, id: u64, started: Instant) {
    out.truncate(start);
    // A `ShipError` is strings and integers: it always encodes.
    out.extend_from_slice(&encode_result(&error).unwrap_or_default());
    wire::seal_reply(out, start, started.elapsed(), id, Status::Refused);
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_process::shipping::{decode_batch, decode_result, encode_batch_into};

    fn double(x: u64) -> u64 {
        2 * x
    }

    fn replies(msg: &[u8]) -> Vec<wire::Reply<'_>> {
        wire::frames(msg)
            .unwrap()
            .into_iter()
            .map(|f| wire::open_reply(f).unwrap())
            .collect()
    }

    #[test]
    fn every_task_of_a_message_runs_and_replies_in_order() {
        let mut msg = Vec::new();
        encode_batch_into(double, &[1, 2], &mut msg).unwrap();
        wire::seal_task(&mut msg, 9);
        let mut second = Vec::new();
        encode_batch_into(double, &[5], &mut second).unwrap();
        wire::seal_task(&mut second, 10);
        msg.extend_from_slice(&second);
        let out = run(&msg);
        let replies = replies(&out);
        assert_eq!(replies.len(), 2);
        assert_eq!((replies[0].id, replies[0].status), (9, Status::Ran));
        assert_eq!(
            decode_batch::<u64>(replies[0].payload).unwrap(),
            [Ok(2), Ok(4)]
        );
        assert_eq!(replies[1].id, 10);
        assert_eq!(decode_batch::<u64>(replies[1].payload).unwrap(), [Ok(10)]);
    }

    #[test]
    fn garbage_is_refused_not_run() {
        let out = run(&[1, 2, 3]);
        assert_eq!(replies(&out)[0].status, Status::Refused);
        let mut msg = vec![0xff; 40];
        wire::seal_task(&mut msg, 3);
        let out = run(&msg);
        let reply = &replies(&out)[0];
        assert_eq!((reply.id, reply.status), (3, Status::Refused));
        assert!(matches!(
            decode_result::<ShipError>(reply.payload).unwrap(),
            ShipError::Decode(_)
        ));
    }
}
