//! [`ProgressExt`]: a tqdm-style progress bar around any iterator of results (thread-pool
//! `map` and `as_completed`, the process pools' `imap`, `imap_unordered` and `map`), drawn with
//! `indicatif`. Behind the `progress` feature.
//!
//! The bar draws to stderr, at most 20 times a second, and only when stderr is a terminal
//! (indicatif hides it otherwise), so piping a program's output or running it under CI shows
//! nothing and costs little. [`ProgressBar`], [`ProgressDrawTarget`] and [`ProgressStyle`] are
//! re-exported for [`ProgressExt::progress_with`].

use std::fmt;
use std::iter::FusedIterator;

pub use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// tqdm's layout: `42%|████▏     | 42/100 [00:00:01<00:00:02, 35/s]`.
const BAR_TEMPLATE: &str =
    "{percent:>3}%|{wide_bar}| {human_pos}/{human_len} [{elapsed_precise}<{eta_precise}, {per_sec}]";
/// tqdm's layout without a known length: `42 [00:00:01, 35/s]`.
const SPINNER_TEMPLATE: &str = "{spinner} {human_pos} [{elapsed_precise}, {per_sec}]";

/// Adds a progress bar to any iterator: tqdm's `tqdm(iterable)`, mpire's `progress_bar=True`.
///
/// Each item the iterator yields moves the bar one step; when the iterator ends, the bar is
/// finished and left on screen. Items pass through unchanged, so `Result` items of a pool's
/// `map` stay results.
///
/// # Examples
///
/// ```
/// use spindle_futures::progress::{ProgressBar, ProgressDrawTarget, ProgressExt};
/// use spindle_futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
/// // `.progress()` draws to stderr when it is a terminal; a hidden bar keeps this quiet.
/// let bar = ProgressBar::with_draw_target(Some(5), ProgressDrawTarget::hidden());
/// let squares: Vec<u64> = pool
///     .map(|x: u64| x * x, 1..=5)
///     .progress_with(bar.clone())
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(squares, vec![1, 4, 9, 16, 25]);
/// assert_eq!(bar.position(), 5);
/// assert!(bar.is_finished());
/// ```
pub trait ProgressExt: Iterator + Sized {
    /// A bar on stderr whose length is the iterator's exact size hint, or a spinner with a
    /// count when the length is unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::progress::ProgressExt;
    ///
    /// let doubled: Vec<i32> = vec![1, 2, 3].into_iter().progress().map(|x| x * 2).collect();
    /// assert_eq!(doubled, vec![2, 4, 6]);
    /// ```
    fn progress(self) -> Progress<Self> {
        let len = match self.size_hint() {
            (low, Some(high)) if low == high => Some(low as u64),
            _ => None,
        };
        Progress::new(
            self,
            styled(ProgressBar::hidden(), len, ProgressDrawTarget::stderr()),
        )
    }

    /// A bar on stderr of length `len`: tqdm's `tqdm(iterable, total=len)`. Use it when the
    /// iterator cannot know its length (a lazy `map` over a generator, `as_completed`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::progress::ProgressExt;
    ///
    /// let evens = (0..10).filter(|x| x % 2 == 0).progress_with_len(5);
    /// assert_eq!(evens.bar().length(), Some(5));
    /// assert_eq!(evens.count(), 5);
    /// ```
    fn progress_with_len(self, len: u64) -> Progress<Self> {
        Progress::new(
            self,
            styled(
                ProgressBar::hidden(),
                Some(len),
                ProgressDrawTarget::stderr(),
            ),
        )
    }

    /// Drives `bar`, made and styled by the caller (a [`ProgressDrawTarget::hidden`] target
    /// for tests, a `MultiProgress` member, a custom template).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::progress::{ProgressBar, ProgressExt};
    ///
    /// let bar = ProgressBar::hidden();
    /// let sum: u32 = (1..=4).progress_with(bar.clone()).sum();
    /// assert_eq!((sum, bar.position()), (10, 4));
    /// ```
    fn progress_with(self, bar: ProgressBar) -> Progress<Self> {
        Progress::new(self, bar)
    }
}

impl<I: Iterator> ProgressExt for I {}

/// Gives `bar` tqdm's layout for `len` (a spinner if `None`) and then its draw target, so
/// nothing is drawn before the style is set.
fn styled(bar: ProgressBar, len: Option<u64>, target: ProgressDrawTarget) -> ProgressBar {
    let template = match len {
        Some(len) => {
            bar.set_length(len);
            BAR_TEMPLATE
        }
        None => SPINNER_TEMPLATE,
    };
    // The templates are constants covered by tests; fall back to the default look anyway.
    let style = ProgressStyle::with_template(template).unwrap_or_else(|_| match len {
        Some(_) => ProgressStyle::default_bar(),
        None => ProgressStyle::default_spinner(),
    });
    bar.set_style(style);
    bar.set_draw_target(target);
    bar
}

/// An iterator that moves a progress bar one step per item; made by [`ProgressExt`].
///
/// # Examples
///
/// ```
/// use spindle_futures::progress::{ProgressBar, ProgressExt};
///
/// let mut it = ["a", "b"].into_iter().progress_with(ProgressBar::hidden());
/// assert_eq!(it.next(), Some("a"));
/// assert_eq!(it.bar().position(), 1);
/// ```
pub struct Progress<I> {
    iter: I,
    bar: ProgressBar,
}

impl<I> Progress<I> {
    fn new(iter: I, bar: ProgressBar) -> Self {
        Self { iter, bar }
    }

    /// The bar this iterator drives (to read its position, set a message or a prefix).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::progress::{ProgressBar, ProgressExt};
    ///
    /// let mut it = (0..3).progress_with(ProgressBar::hidden());
    /// it.bar().set_message("squaring");
    /// assert_eq!(it.next(), Some(0));
    /// assert_eq!(it.bar().position(), 1);
    /// assert_eq!(it.bar().message(), "squaring");
    /// ```
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// Gives back the inner iterator and the bar, unfinished.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::progress::{ProgressBar, ProgressExt};
    ///
    /// let mut it = (0..3).progress_with(ProgressBar::hidden());
    /// assert_eq!(it.next(), Some(0));
    /// let (rest, bar) = it.into_parts();
    /// assert_eq!(rest.collect::<Vec<_>>(), [1, 2]);
    /// assert_eq!(bar.position(), 1);
    /// assert!(!bar.is_finished());
    /// ```
    pub fn into_parts(self) -> (I, ProgressBar) {
        (self.iter, self.bar)
    }
}

impl<I> fmt::Debug for Progress<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("position", &self.bar.position())
            .field("length", &self.bar.length())
            .finish_non_exhaustive()
    }
}

impl<I: Iterator> Iterator for Progress<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        match self.iter.next() {
            Some(item) => {
                self.bar.inc(1);
                Some(item)
            }
            None => {
                if !self.bar.is_finished() {
                    self.bar.finish();
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for Progress<I> {}

impl<I: FusedIterator> FusedIterator for Progress<I> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        ProgressStyle::with_template(BAR_TEMPLATE).unwrap();
        ProgressStyle::with_template(SPINNER_TEMPLATE).unwrap();
    }

    #[test]
    fn progress_takes_an_exact_length_or_none() {
        let exact = (0..7).progress_with(styled(
            ProgressBar::hidden(),
            Some(7),
            ProgressDrawTarget::hidden(),
        ));
        assert_eq!(exact.bar().length(), Some(7));
        let unknown = styled(ProgressBar::hidden(), None, ProgressDrawTarget::hidden());
        assert_eq!(unknown.length(), None);
    }
}
