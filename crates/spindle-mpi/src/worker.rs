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

/// Runs one `TASK` message and returns the `REPLY` message for it.
fn run(message: &[u8]) -> Vec<u8> {
    let started = Instant::now();
    let Some((batch, id)) = wire::open_task(message) else {
        return refusal(
            ShipError::Decode("malformed task message".into()),
            0,
            started,
        );
    };
    let mut out = Vec::new();
    // SAFETY:
    // - the batch comes from rank 0 of this MPI job, which made it with
    //   `shipping::encode_batch_into`: the job's ranks are processes of the same program (the
    //   build id check in `invoke_batch` refuses any other), not an untrusted network peer.
    let ran = catch_unwind(AssertUnwindSafe(|| unsafe {
        invoke_batch(batch, &mut out)
    }));
    match ran {
        Ok(Ok(())) if out.len() + 17 <= MAX_MESSAGE => {
            wire::seal_reply(&mut out, started.elapsed(), id, Status::Ran);
            out
        }
        Ok(Ok(())) => refusal(
            ShipError::Encode(format!(
                "the results take {} bytes, more than one MPI message carries ({MAX_MESSAGE})",
                out.len()
            )),
            id,
            started,
        ),
        Ok(Err(e)) => refusal(e, id, started),
        Err(payload) => {
            let text = spindle_sync::threading::panic_payload_text(&*payload)
                .unwrap_or("non-string panic payload");
            let mut out = text.as_bytes().to_vec();
            wire::seal_reply(&mut out, started.elapsed(), id, Status::Panicked);
            out
        }
    }
}

fn refusal(error: ShipError, id: u64, started: Instant) -> Vec<u8> {
    // A `ShipError` is strings and integers: it always encodes.
    let mut out = encode_result(&error).unwrap_or_default();
    wire::seal_reply(&mut out, started.elapsed(), id, Status::Refused);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_process::shipping::{decode_batch, decode_result, encode_batch_into};

    fn double(x: u64) -> u64 {
        2 * x
    }

    #[test]
    fn a_task_message_runs_and_replies_with_its_id() {
        let mut msg = Vec::new();
        encode_batch_into(double, &[1, 2], &mut msg).unwrap();
        wire::seal_task(&mut msg, 9);
        let reply = run(&msg);
        let reply = wire::open_reply(&reply).unwrap();
        assert_eq!((reply.id, reply.status), (9, Status::Ran));
        assert_eq!(decode_batch::<u64>(reply.payload).unwrap(), [Ok(2), Ok(4)]);
    }

    #[test]
    fn garbage_is_refused_not_run() {
        let reply = run(&[1, 2, 3]);
        let reply = wire::open_reply(&reply).unwrap();
        assert_eq!(reply.status, Status::Refused);
        let mut msg = vec![0xff; 40];
        wire::seal_task(&mut msg, 3);
        let reply = run(&msg);
        let reply = wire::open_reply(&reply).unwrap();
        assert_eq!((reply.id, reply.status), (3, Status::Refused));
        assert!(matches!(
            decode_result::<ShipError>(reply.payload).unwrap(),
            ShipError::Decode(_)
        ));
    }
}
