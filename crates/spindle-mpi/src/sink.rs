//! Sinks: how a task's future is settled from a worker's reply, with the rank and host in
//! every error.
//!
//! The pool thread does not know a task's result type; each task carries a boxed [`Sink`]
//! that does. A sink dropped unsettled (the pool went away with the task still queued) fails
//! its future with [`FutureError::ShutDown`], so no future is left pending forever.

use serde::de::DeserializeOwned;
use spindle_futures::{Future, FutureError};
use spindle_process::shipping::{decode_batch, decode_result, ItemError, ShipError};

use crate::wire::{Reply, Status};
use crate::{MpiError, WorkerInfo};

/// How a task ended, as the pool thread learnt it.
#[derive(Debug)]
pub(crate) enum Outcome<'a> {
    /// The worker replied.
    Replied(Reply<'a>, &'a WorkerInfo),
    /// The task never ran: the pool is broken or shutting down, or it could not be sent.
    Failed(FutureError),
}

/// Items that succeeded and failed in one settled task, for the pool's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) completed: u64,
    pub(crate) failed: u64,
}

/// The typed end of a task: settles its future.
pub(crate) trait Sink: Send {
    /// Marks the task running before it is sent; `false` if it was cancelled meanwhile.
    fn start(&self) -> bool;
    /// How many items (calls of the function) the task holds.
    fn items(&self) -> usize;
    /// Settles the future from `outcome`, calling `count` with the tally just before, so
    /// that whoever sees the result also sees it counted.
    fn finish(self: Box<Self>, outcome: Outcome<'_>, count: &mut dyn FnMut(Tally));
    /// Cancels the future of a task that was never sent (`shutdown(cancel_futures)`).
    fn cancel(self: Box<Self>);
}

/// One result per item of a task of `n` items.
fn item_results<R: DeserializeOwned>(
    outcome: Outcome<'_>,
    n: usize,
) -> Vec<Result<R, FutureError>> {
    let (reply, worker) = match outcome {
        Outcome::Replied(reply, worker) => (reply, worker),
        Outcome::Failed(e) => return every_item_fails(e, n),
    };
    let remote = |error: ShipError| -> FutureError {
        MpiError::Remote {
            rank: worker.rank,
            host: worker.host.clone(),
            error,
        }
        .into()
    };
    let whole_task_error =
        match reply.status {
            Status::Ran => match decode_batch::<R>(reply.payload) {
                Ok(items) if items.len() == n => {
                    return items
                        .into_iter()
                        .map(|item| {
                            item.map_err(|e| match e {
                                ItemError::Panicked(message) => panicked(&message, worker),
                                ItemError::Encode(message) => remote(ShipError::Encode(message)),
                            })
                        })
                        .collect();
                }
                Ok(items) => remote(ShipError::Decode(format!(
                    "the reply holds {} results for {n} items",
                    items.len()
                ))),
                Err(e) => remote(e),
            },
            Status::Refused => remote(decode_result::<ShipError>(reply.payload).unwrap_or_else(
                |e| ShipError::Decode(format!("unreadable refusal from the worker: {e}")),
            )),
            Status::Panicked => panicked(&String::from_utf8_lossy(reply.payload), worker),
        };
    every_item_fails(whole_task_error, n)
}

fn every_item_fails<R>(error: FutureError, n: usize) -> Vec<Result<R, FutureError>> {
    (0..n).map(|_| Err(error.clone())).collect()
}

/// A panic on a worker, as every spindle executor reports it, with where it happened.
fn panicked(message: &str, worker: &WorkerInfo) -> FutureError {
    FutureError::Panicked(format!(
        "{message} (on rank {} of host {})",
        worker.rank, worker.host
    ))
}

fn tally<R>(results: &[Result<R, FutureError>]) -> Tally {
    let completed = results.iter().filter(|r| r.is_ok()).count() as u64;
    Tally {
        completed,
        failed: results.len() as u64 - completed,
    }
}

/// The sink of one task: settles a `Future<T>` from the task's `n` item results with
/// `deliver`. A `submit` settles a `Future<R>` from its one result ([`FutureSink::task`]); a
/// chunk of a `map` settles a future of all its items' results ([`FutureSink::chunk`]).
pub(crate) struct FutureSink<R, T> {
    fut: Option<Future<T>>,
    n: usize,
    deliver: fn(Future<T>, Vec<Result<R, FutureError>>),
}

impl<R, T> std::fmt::Debug for FutureSink<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureSink")
            .field("settled", &self.fut.is_none())
            .field("n", &self.n)
            .finish()
    }
}

impl<R> FutureSink<R, R> {
    /// The sink of one `submit`.
    pub(crate) fn task(fut: Future<R>) -> Self {
        FutureSink {
            fut: Some(fut),
            n: 1,
            deliver: |fut, results| {
                // The future is ours and running: neither call can find it settled.
                let _ = match results.into_iter().next() {
                    Some(Ok(value)) => fut.set_result(value).map_err(drop),
                    Some(Err(e)) => fut.set_exception(e).map_err(drop),
                    None => fut.set_exception(FutureError::ShutDown).map_err(drop),
                };
            },
        }
    }
}

impl<R> FutureSink<R, Vec<Result<R, FutureError>>> {
    /// The sink of a `map` chunk of `n` items.
    pub(crate) fn chunk(fut: Future<Vec<Result<R, FutureError>>>, n: usize) -> Self {
        FutureSink {
            fut: Some(fut),
            n,
            // Running and ours, as above.
            deliver: |fut, results| drop(fut.set_result(results)),
        }
    }
}

impl<R: DeserializeOwned + Send + 'static, T: Send + 'static> Sink for FutureSink<R, T> {
    fn start(&self) -> bool {
        self.fut
            .as_ref()
            .is_some_and(Future::set_running_or_notify_cancel)
    }

    fn items(&self) -> usize {
        self.n
    }

    fn finish(mut self: Box<Self>, outcome: Outcome<'_>, count: &mut dyn FnMut(Tally)) {
        let Some(fut) = self.fut.take() else {
            return;
        };
        let results = item_results::<R>(outcome, self.n);
        count(tally(&results));
        (self.deliver)(fut, results);
    }

    fn cancel(mut self: Box<Self>) {
        if let Some(fut) = self.fut.take() {
            fut.cancel();
        }
    }
}

impl<R, T> Drop for FutureSink<R, T> {
    /// A sink dropped unsettled fails its future with `ShutDown`.
    fn drop(&mut self) {
        if let Some(fut) = self.fut.take() {
            // A future the user cancelled meanwhile refuses this; nothing is lost.
            let _ = fut.set_exception(FutureError::ShutDown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::seal_reply;
    use spindle_process::shipping::{encode_batch_into, encode_result, invoke_batch};
    use std::time::Duration;

    fn halve(x: u32) -> u32 {
        assert!(x % 2 == 0, "odd input");
        x / 2
    }

    fn worker() -> WorkerInfo {
        WorkerInfo {
            rank: 2,
            host: "node7".into(),
        }
    }

    /// What a worker would send back for `args`.
    fn reply_for(args: &[u32]) -> Vec<u8> {
        let (mut call, mut out) = (Vec::new(), Vec::new());
        encode_batch_into(halve, args, &mut call).unwrap();
        // SAFETY: made by encode_batch_into in this process.
        unsafe { invoke_batch(&call, &mut out) }.unwrap();
        seal_reply(&mut out, 0, Duration::ZERO, 0, Status::Ran);
        out
    }

    #[test]
    fn panics_and_results_settle_per_item_with_rank_and_host() {
        let msg = reply_for(&[4, 3]);
        let w = worker();
        let results = item_results::<u32>(Outcome::Replied(crate::wire::single_reply(&msg), &w), 2);
        assert_eq!(results[0], Ok(2));
        assert_eq!(
            results[1],
            Err(FutureError::Panicked(
                "odd input (on rank 2 of host node7)".into()
            ))
        );
        assert_eq!(
            tally(&results),
            Tally {
                completed: 1,
                failed: 1
            }
        );
    }

    #[test]
    fn a_refusal_fails_every_item_with_the_remote_error() {
        let mut msg = encode_result(&ShipError::UnknownFunction).unwrap();
        seal_reply(&mut msg, 0, Duration::ZERO, 0, Status::Refused);
        let w = worker();
        let results = item_results::<u32>(Outcome::Replied(crate::wire::single_reply(&msg), &w), 3);
        let expected = MpiError::Remote {
            rank: 2,
            host: "node7".into(),
            error: ShipError::UnknownFunction,
        };
        for r in results {
            assert_eq!(
                MpiError::from_future_error(&r.unwrap_err()),
                Some(expected.clone())
            );
        }
    }

    #[test]
    fn a_reply_of_the_wrong_length_or_type_is_a_decode_error() {
        let msg = reply_for(&[2, 4]);
        let w = worker();
        let results = item_results::<u32>(Outcome::Replied(crate::wire::single_reply(&msg), &w), 3);
        let err = MpiError::from_future_error(results[0].as_ref().unwrap_err()).unwrap();
        assert!(matches!(
            err,
            MpiError::Remote {
                error: ShipError::Decode(_),
                ..
            }
        ));
        let mut garbage = vec![0xff; 3];
        seal_reply(&mut garbage, 0, Duration::ZERO, 0, Status::Ran);
        let results =
            item_results::<u32>(Outcome::Replied(crate::wire::single_reply(&garbage), &w), 1);
        assert!(results[0].is_err());
    }

    #[test]
    fn a_dropped_sink_fails_its_future_with_shutdown() {
        let fut = Future::<u32>::new();
        drop(FutureSink::task(fut.clone()));
        assert_eq!(fut.result(), Err(FutureError::ShutDown));
        let chunk = Future::<Vec<Result<u32, FutureError>>>::new();
        drop(FutureSink::chunk(chunk.clone(), 4));
        assert_eq!(chunk.result(), Err(FutureError::ShutDown));
    }

    #[test]
    fn cancelling_a_queued_task_cancels_its_future() {
        let fut = Future::<u32>::new();
        (Box::new(FutureSink::task(fut.clone())) as Box<dyn Sink>).cancel();
        assert!(fut.cancelled());
    }

    #[test]
    fn a_cancelled_task_does_not_start() {
        let fut = Future::<u32>::new();
        let sink = FutureSink::task(fut.clone());
        assert!(fut.cancel());
        assert!(!sink.start());
    }
}
