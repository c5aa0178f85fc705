//! Rank 0's start-up handshake: hear from every worker, check they run the same build, stop
//! the ranks the pool will not use, and run the initializer everywhere.
//!
//! Any error stops every worker before it is returned, so a failed start ends the job instead
//! of leaving workers polling for tasks that never come.

use spindle_process::shipping::{decode_result, BuildId, ShipError};

use crate::backoff::Backoff;
use crate::comm::{Link, Session};
use crate::wire::{self, Hello, Status, INIT_ID};
use crate::{MpiError, WorkerInfo};

/// The pool's workers after the handshake, and why the pool is broken if it is.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) workers: Vec<WorkerInfo>,
    pub(crate) broken: Option<String>,
}

/// Runs the handshake on rank 0 (see the module docs).
pub(crate) fn handshake(
    session: &Session,
    max_workers: usize,
    initializer: Option<&Result<Vec<u8>, ShipError>>,
    backoff: &Backoff,
) -> Result<Ready, MpiError> {
    let mut link = Link::world();
    let mut backoff = backoff.clone();
    let ranks: Vec<i32> = (1..session.size)
        .filter_map(|r| i32::try_from(r).ok())
        .collect();
    let mut hellos = Vec::with_capacity(ranks.len());
    while hellos.len() < ranks.len() {
        let m = link.receive(None, &mut backoff);
        if m.tag == wire::HELLO {
            hellos.push((m.source, decode_result::<Hello>(&m.bytes)));
        }
    }
    hellos.sort_by_key(|(rank, _)| *rank);
    let stop_all = |link: &mut Link, ranks: &[i32]| {
        for &rank in ranks {
            let _ = link.send(rank, wire::STOP, Vec::new());
        }
        link.flush_sends();
    };
    // A greeting that does not decode comes from another program: refuse it like a mismatch.
    let hellos = match hellos
        .into_iter()
        .map(|(rank, hello)| hello.map(|h| (rank, h)).map_err(|e| (rank, e)))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(hellos) => hellos,
        Err((rank, error)) => {
            stop_all(&mut link, &ranks);
            return Err(MpiError::Remote {
                rank,
                host: "unknown host".into(),
                error,
            });
        }
    };
    let here = BuildId::current();
    if let Some((rank, hello)) = hellos.iter().find(|(_, h)| h.build != here) {
        let error = MpiError::BuildMismatch {
            rank: *rank,
            host: hello.host.clone(),
            error: ShipError::BuildMismatch {
                sender: here,
                worker: hello.build,
            },
        };
        stop_all(&mut link, &ranks);
        return Err(error);
    }
    let initializer = match initializer {
        Some(Ok(batch)) => Some(batch),
        Some(Err(e)) => {
            stop_all(&mut link, &ranks);
            return Err(MpiError::Ship(e.clone()));
        }
        None => None,
    };
    let used = max_workers.min(ranks.len());
    stop_all(&mut link, &ranks[used..]);
    let workers: Vec<WorkerInfo> = hellos
        .into_iter()
        .take(used)
        .map(|(rank, hello)| WorkerInfo {
            rank,
            host: hello.host,
        })
        .collect();
    let broken = match initializer {
        Some(batch) => run_initializer(&mut link, &workers, batch, &mut backoff),
        None => None,
    };
    Ok(Ready { workers, broken })
}

/// Runs the initializer on every worker; the first failure, described, if any.
fn run_initializer(
    link: &mut Link,
    workers: &[WorkerInfo],
    batch: &[u8],
    backoff: &mut Backoff,
) -> Option<String> {
    for w in workers {
        let mut message = batch.to_vec();
        wire::seal_task(&mut message, INIT_ID);
        if let Err(e) = link.send(w.rank, wire::TASK, message) {
            return Some(format!("cannot send the initializer: {e}"));
        }
    }
    let mut failure = None;
    let mut pending = workers.len();
    while pending > 0 {
        let m = link.receive(None, backoff);
        let frame = wire::frames(&m.bytes).and_then(|f| f.first().copied());
        let (Some(w), Some(reply)) = (
            workers.iter().find(|w| w.rank == m.source),
            frame.and_then(wire::open_reply),
        ) else {
            continue;
        };
        if m.tag != wire::REPLY || reply.id != INIT_ID {
            continue;
        }
        pending -= 1;
        let why = match reply.status {
            Status::Ran => match spindle_process::shipping::decode_batch::<()>(reply.payload) {
                Ok(items) => items
                    .into_iter()
                    .find_map(Result::err)
                    .map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            },
            Status::Refused => Some(
                decode_result::<ShipError>(reply.payload)
                    .map_or_else(|e| e.to_string(), |e| e.to_string()),
            ),
            Status::Panicked => Some(String::from_utf8_lossy(reply.payload).into_owned()),
        };
        if let (None, Some(why)) = (&failure, why) {
            failure = Some(format!(
                "the initializer failed on rank {} of host {}: {why}",
                w.rank, w.host
            ));
        }
    }
    link.flush_sends();
    failure
}
