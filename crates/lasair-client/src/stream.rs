//! A stream of items from a paged listing, with this crate's errors.

use std::pin::Pin;
use std::task::{Context, Poll};

use broker_core::paginate::ItemStream;
use futures::{Stream, TryStreamExt};

use crate::error::{Error, Result};

/// Every item of a paged listing (`query/` rows, batched light curves), fetched as the
/// stream is read. Errors are this crate's [`Error`].
pub struct LasairStream<T> {
    inner: ItemStream<T>,
}

impl<T: Send + 'static> LasairStream<T> {
    pub(crate) fn new(inner: ItemStream<T>) -> Self {
        LasairStream { inner }
    }
    /// Reads every item; stops at the first error.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.try_collect().await
    }
    /// The core stream underneath (core errors), for code generic over brokers.
    pub fn into_inner(self) -> ItemStream<T> {
        self.inner
    }
}

impl<T> Stream for LasairStream<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx).map(|o| o.map(|r| r.map_err(Error::from)))
    }
}

impl<T> std::fmt::Debug for LasairStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LasairStream").finish_non_exhaustive()
    }
}
