//! [`Chunks`]: an iterator's items grouped into vectors, the unit a remote executor's chunked
//! `map` ships to a worker.

/// Groups an iterator's items into vectors of `size` items (the last may be shorter), lazily:
/// what the process and MPI pools' `map(f, iter, chunksize)` send to a worker as one task.
/// A `size` of 0 means 1.
///
/// # Examples
///
/// ```
/// use spindle_futures::Chunks;
///
/// let chunks: Vec<Vec<u8>> = Chunks::new(1..=5, 2).collect();
/// assert_eq!(chunks, [vec![1, 2], vec![3, 4], vec![5]]);
/// assert_eq!(Chunks::new(0..2, 0).count(), 2, "size 0 means 1");
/// ```
#[derive(Debug, Clone)]
pub struct Chunks<I> {
    inner: I,
    size: usize,
}

impl<I> Chunks<I> {
    /// Chunks of `size` items (at least 1) from `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::Chunks;
    ///
    /// let mut chunks = Chunks::new("abc".chars(), 2);
    /// assert_eq!(chunks.next(), Some(vec!['a', 'b']));
    /// ```
    pub fn new(inner: I, size: usize) -> Self {
        Chunks {
            inner,
            size: size.max(1),
        }
    }
}

impl<I: Iterator> Iterator for Chunks<I> {
    type Item = Vec<I::Item>;

    fn next(&mut self) -> Option<Vec<I::Item>> {
        let chunk: Vec<I::Item> = self.inner.by_ref().take(self.size).collect();
        (!chunk.is_empty()).then_some(chunk)
    }
}
