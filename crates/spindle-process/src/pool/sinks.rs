//! Where results go: the typed [`Sink`]s behind futures, `AsyncResult`s, `map` and the
//! unordered iterator.

use super::core::{Sink, Tally};
use super::error::PoolError;
use super::wire::{decode_items, TaskOutcome};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use spindle_futures::Future;
use std::sync::mpsc::Sender;
use std::sync::Arc;

/// Turns a task outcome into `n` typed item results, counting them in `tally`.
pub(crate) fn items<R: DeserializeOwned>(
    n: usize,
    outcome: Result<TaskOutcome, PoolError>,
    tally: Option<&Tally>,
) -> Vec<Result<R, PoolError>> {
    let results = decode_items(n, outcome);
    if let Some(tally) = tally {
        let ok = results.iter().filter(|r| r.is_ok()).count() as u64;
        tally.add(ok, results.len() as u64 - ok);
    }
    results
}

/// One task, one item, one future (`submit`, `apply_async`).
pub(crate) struct FutureSink<R> {
    pub(crate) fut: Future<R>,
    /// Keep the [`PoolError`] whole (see [`PoolError::into_exact`]) rather than map it.
    pub(crate) exact: bool,
}

impl<R: DeserializeOwned + Send + 'static> Sink for FutureSink<R> {
    fn claim(&self) -> bool {
        self.fut.set_running_or_notify_cancel()
    }
    fn complete(self: Box<Self>, outcome: Result<TaskOutcome, PoolError>, tally: Option<&Tally>) {
        match items::<R>(1, outcome, tally).into_iter().next() {
            Some(Ok(v)) => {
                let _ = self.fut.set_result(v);
            }
            Some(Err(e)) => {
                let e = if self.exact { e.into_exact() } else { e.into() };
                let _ = self.fut.set_exception(e);
            }
            None => {}
        }
    }
    fn cancel(self: Box<Self>) {
        self.fut.cancel();
    }
}

/// One chunk of an ordered map: a future of the chunk's item results (never an error of its
/// own, so the reader always knows how many items a chunk had).
pub(crate) struct ChunkSink<R> {
    pub(crate) n: usize,
    pub(crate) fut: Future<Vec<Result<R, PoolError>>>,
}

impl<R: DeserializeOwned + Send + 'static> Sink for ChunkSink<R> {
    fn claim(&self) -> bool {
        self.fut.set_running_or_notify_cancel()
    }
    fn items(&self) -> u64 {
        self.n as u64
    }
    fn complete(self: Box<Self>, outcome: Result<TaskOutcome, PoolError>, tally: Option<&Tally>) {
        let _ = self.fut.set_result(items(self.n, outcome, tally));
    }
    fn cancel(self: Box<Self>) {
        self.fut.cancel();
    }
}

/// One chunk of an unordered map: its results go down a channel.
pub(crate) struct ChannelSink<R> {
    pub(crate) n: usize,
    pub(crate) tx: Sender<Vec<Result<R, PoolError>>>,
}

impl<R: DeserializeOwned + Send + 'static> Sink for ChannelSink<R> {
    fn items(&self) -> u64 {
        self.n as u64
    }
    fn complete(self: Box<Self>, outcome: Result<TaskOutcome, PoolError>, tally: Option<&Tally>) {
        let _ = self.tx.send(items(self.n, outcome, tally));
    }
}

/// The shared accumulator of a `map_async`: results by position and the first error.
pub(crate) struct Gather<R> {
    slots: Vec<Option<R>>,
    remaining: usize,
    error: Option<PoolError>,
}

/// One chunk of a `map_async`, writing into a [`Gather`].
pub(crate) struct GatherSink<R> {
    pub(crate) offset: usize,
    pub(crate) n: usize,
    pub(crate) gather: Arc<Mutex<Gather<R>>>,
    pub(crate) fut: Future<Vec<R>>,
}

impl<R> GatherSink<R> {
    /// The accumulator for `len` items in `chunks` chunks.
    pub(crate) fn gather(len: usize, chunks: usize) -> Arc<Mutex<Gather<R>>> {
        Arc::new(Mutex::new(Gather {
            slots: (0..len).map(|_| None).collect(),
            remaining: chunks,
            error: None,
        }))
    }
}

impl<R: DeserializeOwned + Send + 'static> Sink for GatherSink<R> {
    fn items(&self) -> u64 {
        self.n as u64
    }
    fn complete(self: Box<Self>, outcome: Result<TaskOutcome, PoolError>, tally: Option<&Tally>) {
        let results = items::<R>(self.n, outcome, tally);
        let mut g = self.gather.lock();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(v) => g.slots[self.offset + i] = Some(v),
                Err(e) => {
                    if g.error.is_none() {
                        g.error = Some(e);
                    }
                }
            }
        }
        g.remaining -= 1;
        if g.remaining > 0 {
            return;
        }
        let outcome = match g.error.take() {
            Some(e) => Err(e),
            // With no error every slot was filled, so nothing is lost by `flatten`.
            None => Ok(g.slots.drain(..).flatten().collect()),
        };
        drop(g);
        let _ = match outcome {
            Ok(v) => self.fut.set_result(v).map_err(drop),
            Err(e) => self.fut.set_exception(e.into_exact()).map_err(drop),
        };
    }
}
