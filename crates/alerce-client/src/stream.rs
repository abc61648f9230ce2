//! A stream of items from a paginated listing, with this crate's errors.

use std::pin::Pin;
use std::task::{Context, Poll};

use broker_core::paginate::ItemStream;
use futures::{Stream, TryStreamExt};

use crate::error::{Error, Result};

/// Every item of a paginated listing (ZTF `objects/`, LSST `object_api/list_objects`),
/// fetched page by page as the stream is read. Errors are this crate's [`Error`]
/// (404 stays [`Error::NotFound`], 400/422 [`Error::Parse`]).
pub struct AlerceStream<T> {
    inner: ItemStream<T>,
}

impl<T: Send + 'static> AlerceStream<T> {
    pub(crate) fn new(inner: ItemStream<T>) -> Self {
        AlerceStream { inner }
    }
    /// The total number of items, once the server has said it (ZTF with `count=true`).
    pub fn total(&self) -> Option<u64> {
        self.inner.total()
    }
    /// Reads every item; stops at the first error.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.try_collect().await
    }
}

impl<T> Stream for AlerceStream<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx).map(|o| o.map(|r| r.map_err(Error::from)))
    }
}

impl<T> std::fmt::Debug for AlerceStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlerceStream").finish_non_exhaustive()
    }
}
