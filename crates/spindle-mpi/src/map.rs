//! [`MpiMap`]: the lazy, ordered result stream of [`MpiPoolExecutor::map`], sending the input
//! to the workers in chunks.
//!
//! [`MpiPoolExecutor::map`]: crate::MpiPoolExecutor::map

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use spindle_futures::{Chunks, Future, FutureError, Map};

use crate::sink::{FutureSink, Sink};

type ChunkResults<R> = Vec<Result<R, FutureError>>;

/// Results of [`MpiPoolExecutor::map`](crate::MpiPoolExecutor::map), in input order: Python's
/// `executor.map(...)` generator.
///
/// Lazy: the input is read and sent as results are consumed, with at most
/// [`read_ahead`](Self::read_ahead) chunks in flight (default `2 x` the worker count). Each
/// item is a `Result`: a call that panicked yields `Err(FutureError::Panicked(..))` naming
/// the rank and host, and the stream goes on. With a [`timeout`](Self::timeout), counted from
/// the `map` call, a result not ready in time yields one `Err(FutureError::Timeout)` and the
/// stream ends. Dropping the stream cancels the chunks not yet sent.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle_mpi::MpiPoolExecutor;
///
/// fn len(s: String) -> usize { s.len() }
/// if let Ok(pool) = MpiPoolExecutor::start() {
///     let words = ["a", "bb", "ccc"].map(String::from);
///     let lengths: Vec<usize> = pool
///         .map(len, words, 2)
///         .timeout(Duration::from_secs(60))
///         .map(Result::unwrap)
///         .collect();
///     assert_eq!(lengths, [1, 2, 3]);
/// }
/// ```
pub struct MpiMap<'a, I: Iterator, R> {
    chunks: Map<'a, Chunks<I>, ChunkResults<R>>,
    /// Sizes of the chunks submitted and not yet yielded, oldest first.
    sizes: Rc<RefCell<VecDeque<usize>>>,
    current: std::vec::IntoIter<Result<R, FutureError>>,
    /// A failed chunk's error, still to be yielded this many more times (once per item).
    repeat: Option<(FutureError, usize)>,
}

impl<'a, I, R> MpiMap<'a, I, R>
where
    I: Iterator,
    R: DeserializeOwned + Send + 'static,
{
    /// A stream over `input` that hands each chunk to `send` with the sink settling it.
    pub(crate) fn new<S>(input: I, chunksize: usize, read_ahead: usize, send: S) -> Self
    where
        S: Fn(&[I::Item], Box<dyn Sink>) + 'a,
    {
        let sizes = Rc::new(RefCell::new(VecDeque::new()));
        let recorded = Rc::clone(&sizes);
        let submit = move |chunk: Vec<I::Item>| {
            let fut = Future::new();
            recorded.borrow_mut().push_back(chunk.len());
            send(
                &chunk,
                Box::new(FutureSink::<R, _>::chunk(fut.clone(), chunk.len())),
            );
            fut
        };
        MpiMap {
            chunks: Map::new(Chunks::new(input, chunksize), Box::new(submit), read_ahead),
            sizes,
            current: Vec::new().into_iter(),
            repeat: None,
        }
    }
}

impl<I: Iterator, R> MpiMap<'_, I, R> {
    /// Gives up waiting once `timeout` has passed since `map` was called: Python's
    /// `map(..., timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     let out: Vec<_> = pool.map(id, [1, 2], 1).timeout(Duration::from_secs(60)).collect();
    ///     assert_eq!(out, [Ok(1), Ok(2)]);
    /// }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.chunks = self.chunks.timeout(timeout);
        self
    }

    /// Sets how many chunks may be in flight ahead of the consumer (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_mpi::MpiPoolExecutor;
    ///
    /// fn id(x: u8) -> u8 { x }
    /// if let Ok(pool) = MpiPoolExecutor::start() {
    ///     let out: Vec<_> = pool.map(id, 0..10, 3).read_ahead(1).map(Result::unwrap).collect();
    ///     assert_eq!(out, (0..10).collect::<Vec<u8>>());
    /// }
    /// ```
    pub fn read_ahead(mut self, chunks: usize) -> Self {
        self.chunks = self.chunks.read_ahead(chunks);
        self
    }
}

impl<I: Iterator, R> Iterator for MpiMap<'_, I, R> {
    type Item = Result<R, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            if let Some((error, left)) = self.repeat.take() {
                if left > 1 {
                    self.repeat = Some((error.clone(), left - 1));
                }
                return Some(Err(error));
            }
            let chunk = self.chunks.next()?;
            let size = self.sizes.borrow_mut().pop_front().unwrap_or(1);
            match chunk {
                Ok(results) => self.current = results.into_iter(),
                // The stream ends after a timeout: report it once.
                Err(FutureError::Timeout) => return Some(Err(FutureError::Timeout)),
                Err(error) => self.repeat = Some((error, size)),
            }
        }
    }
}

impl<I: Iterator, R> fmt::Debug for MpiMap<'_, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiMap")
            .field("chunks", &self.chunks)
            .field("buffered", &self.current.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Outcome;

    /// A stand-in for the pool: settles each chunk at once, failing the chunk holding `bad`.
    fn run(input: Vec<u32>, chunksize: usize, bad: u32) -> Vec<Result<u32, FutureError>> {
        let send = move |chunk: &[u32], sink: Box<dyn Sink>| {
            if chunk.contains(&bad) {
                sink.finish(Outcome::Failed(FutureError::broken("x")), &mut drop);
            } else {
                // Settle through the real sink by replaying a worker's reply.
                let (mut call, mut out) = (Vec::new(), Vec::new());
                fn double(x: u32) -> u32 {
                    2 * x
                }
                spindle_process::shipping::encode_batch_into(double, chunk, &mut call).unwrap();
                // SAFETY: made by encode_batch_into in this process.
                unsafe { spindle_process::shipping::invoke_batch(&call, &mut out) }.unwrap();
                crate::wire::seal_reply(&mut out, 0, Duration::ZERO, 0, crate::wire::Status::Ran);
                let w = crate::WorkerInfo {
                    rank: 1,
                    host: "h".into(),
                };
                sink.finish(
                    Outcome::Replied(crate::wire::single_reply(&out), &w),
                    &mut drop,
                );
            }
        };
        MpiMap::<_, u32>::new(input.into_iter(), chunksize, 2, send).collect()
    }

    #[test]
    fn results_come_in_order_across_chunks() {
        let out = run((0..7).collect(), 3, 99);
        assert_eq!(out, (0..7).map(|x| Ok(2 * x)).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_chunk_fails_each_of_its_items_and_the_stream_goes_on() {
        let out = run((0..6).collect(), 2, 3);
        let broken = Err(FutureError::broken("x"));
        assert_eq!(out, [Ok(0), Ok(2), broken.clone(), broken, Ok(8), Ok(10)]);
    }

    #[test]
    fn a_zero_chunksize_means_one() {
        let out = run(vec![5, 6], 0, 99);
        assert_eq!(out, [Ok(10), Ok(12)]);
    }
}
