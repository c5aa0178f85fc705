//! [`gather`], [`try_gather`] and the tuple forms [`gather2`]..[`gather4`]: Python's
//! `asyncio.gather`.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that keeps its output once done (the building block of the gathers).
enum MaybeDone<F: Future> {
    Pending(F),
    Done(Option<F::Output>),
}

impl<F: Future> MaybeDone<F> {
    /// Polls if still pending; returns whether the output is there.
    fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY:
        // - The `Pending` future is structurally pinned: it is only dropped in place when
        //   the whole enum value is overwritten below, never moved out.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Pending(f) => {
                // SAFETY: see above; `f` stays where it is until overwritten.
                match unsafe { Pin::new_unchecked(f) }.poll(cx) {
                    Poll::Ready(v) => {
                        *this = MaybeDone::Done(Some(v));
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) => true,
        }
    }

    fn take(self: Pin<&mut Self>) -> F::Output {
        // SAFETY:
        // - Only the `Done` variant's output (not pinned) is moved out.
        match unsafe { self.get_unchecked_mut() } {
            MaybeDone::Done(v) => v.take().expect("gather output taken twice"),
            MaybeDone::Pending(_) => unreachable!("gather output taken before completion"),
        }
    }
}

/// Runs every future concurrently and returns their outputs in input order.
///
/// Python's `await asyncio.gather(*aws, return_exceptions=True)`: every future runs to its
/// end, and a failure (an `Err` output, or [`TaskError`](crate::TaskError) from a
/// [`Task`](crate::Task)) is returned in its slot. For the fail-fast form see [`try_gather`].
///
/// # Cancel safety
///
/// Dropping it drops the futures not yet done (spawned [`Task`](crate::Task)s keep running).
///
/// # Differences from Python
///
/// Plain futures are polled inside the gather rather than wrapped in tasks.
///
/// # Examples
///
/// ```
/// use spindle_async::{gather, run, spawn};
///
/// let v = run(async {
///     let tasks: Vec<_> = (0..4).map(|i| spawn(async move { i * i })).collect();
///     gather(tasks).await
/// });
/// let v: Vec<i32> = v.into_iter().map(Result::unwrap).collect();
/// assert_eq!(v, [0, 1, 4, 9]);
/// ```
pub async fn gather<I>(futs: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut items: Pin<Box<[MaybeDone<I::Item>]>> =
        Box::into_pin(futs.into_iter().map(MaybeDone::Pending).collect());
    poll_fn(|cx| {
        let mut all = true;
        for i in 0..items.len() {
            // SAFETY:
            // - The boxed slice is pinned and never reallocated; each element stays in place.
            let item = unsafe { items.as_mut().map_unchecked_mut(|s| &mut s[i]) };
            all &= item.poll_step(cx);
        }
        if !all {
            return Poll::Pending;
        }
        let mut out = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            // SAFETY: as above.
            let item = unsafe { items.as_mut().map_unchecked_mut(|s| &mut s[i]) };
            out.push(item.take());
        }
        Poll::Ready(out)
    })
    .await
}

/// Runs every future concurrently; the first `Err` ends the gather.
///
/// Python's `await asyncio.gather(*aws)` (with `return_exceptions=False`): the first error is
/// returned at once, the futures not yet done are dropped (spawned [`Task`](crate::Task)s keep
/// running, as in Python), otherwise the values come back in input order.
///
/// # Errors
///
/// The first error, in completion order.
///
/// # Cancel safety
///
/// Dropping it drops the futures not yet done.
///
/// # Examples
///
/// ```
/// use spindle_async::{run, try_gather};
///
/// run(async {
///     let ok = try_gather((1..=2).map(|i| async move { Ok::<_, String>(i) })).await;
///     assert_eq!(ok, Ok(vec![1, 2]));
///     let futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, String>>>>> =
///         vec![Box::pin(async { Ok(1) }), Box::pin(async { Err("bad".to_string()) })];
///     assert_eq!(try_gather(futs).await, Err("bad".to_string()));
/// });
/// ```
pub async fn try_gather<I, T, E>(futs: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let mut items: Pin<Box<[MaybeDone<I::Item>]>> =
        Box::into_pin(futs.into_iter().map(MaybeDone::Pending).collect());
    poll_fn(|cx| {
        let mut all = true;
        for i in 0..items.len() {
            // SAFETY:
            // - The boxed slice is pinned and never reallocated; each element stays in place.
            let mut item = unsafe { items.as_mut().map_unchecked_mut(|s| &mut s[i]) };
            if item.as_mut().poll_step(cx) {
                // SAFETY: only the unpinned output of a `Done` item is inspected and moved.
                if let MaybeDone::Done(Some(Err(_))) = unsafe { item.as_mut().get_unchecked_mut() }
                {
                    match item.take() {
                        Err(e) => return Poll::Ready(Err(e)),
                        Ok(_) => unreachable!(),
                    }
                }
            } else {
                all = false;
            }
        }
        if !all {
            return Poll::Pending;
        }
        let mut out = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            // SAFETY: as above.
            let item = unsafe { items.as_mut().map_unchecked_mut(|s| &mut s[i]) };
            match item.take() {
                Ok(v) => out.push(v),
                Err(_) => unreachable!("errors are returned as soon as they appear"),
            }
        }
        Poll::Ready(Ok(out))
    })
    .await
}

macro_rules! gather_tuple {
    ($(#[$doc:meta])* $name:ident; $($F:ident $f:ident),+) => {
        // tidy: no-example (the doc comment, example included, comes from each invocation)
        $(#[$doc])*
        pub async fn $name<$($F: Future),+>($($f: $F),+) -> ($($F::Output,)+) {
            $(let mut $f = std::pin::pin!(MaybeDone::Pending($f));)+
            poll_fn(|cx| {
                let mut all = true;
                $(all &= $f.as_mut().poll_step(cx);)+
                if all {
                    Poll::Ready(($($f.as_mut().take(),)+))
                } else {
                    Poll::Pending
                }
            })
            .await
        }
    };
}

gather_tuple!(
    /// Runs two futures of different types concurrently; Python's `gather(a, b)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the futures not yet done.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{gather2, run};
    ///
    /// assert_eq!(run(gather2(async { 1 }, async { "two" })), (1, "two"));
    /// ```
    gather2; A a, B b
);
gather_tuple!(
    /// Runs three futures of different types concurrently; Python's `gather(a, b, c)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the futures not yet done.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{gather3, run};
    ///
    /// assert_eq!(run(gather3(async { 1 }, async { 2.5 }, async { 'c' })), (1, 2.5, 'c'));
    /// ```
    gather3; A a, B b, C c
);
gather_tuple!(
    /// Runs four futures of different types concurrently; Python's `gather(a, b, c, d)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the futures not yet done.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{gather4, run};
    ///
    /// assert_eq!(run(gather4(async { 1 }, async { 2 }, async { 3 }, async { 4 })), (1, 2, 3, 4));
    /// ```
    gather4; A a, B b, C c, D d
);
