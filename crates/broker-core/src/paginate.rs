//! Pagination: page-number, next-URL/cursor, time-window and id-chunk strategies, all turned
//! into a `futures::Stream` of items with a known total for progress bars.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};

/// One page as a server returned it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The total number of items, when the server says it (it may change between pages;
    /// the latest value wins).
    pub total: Option<u64>,
    /// Whether the server says there is a next page.
    pub has_next: Option<bool>,
    /// The next page's URL or cursor, for cursor pagination.
    pub next: Option<String>,
    /// The page size the server says it used, when it says it (servers clamp a larger ask
    /// to their maximum). The short-page stop rule judges a page by this, else by the size
    /// asked for.
    pub page_size: Option<u64>,
}

impl<T> Page<T> {
    /// A page with items only.
    pub fn new(items: Vec<T>) -> Self {
        Page { items, total: None, has_next: None, next: None, page_size: None }
    }
    /// Sets the total.
    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }
    /// Sets `has_next`.
    pub fn with_has_next(mut self, has_next: Option<bool>) -> Self {
        self.has_next = has_next;
        self
    }
    /// Sets the next cursor.
    pub fn with_next(mut self, next: Option<String>) -> Self {
        self.next = next;
        self
    }
    /// Sets the page size the server reports having used (see [`Page::page_size`]).
    pub fn with_page_size(mut self, page_size: Option<u64>) -> Self {
        self.page_size = page_size;
        self
    }
}

/// Yields pages until done.
#[async_trait]
pub trait Paginator: Send {
    /// The item type.
    type Item: Send + 'static;
    /// The next page's items, or `None` when there are no more.
    async fn next_page(&mut self) -> Result<Option<Vec<Self::Item>>>;
    /// The total number of items, once known.
    fn total(&self) -> Option<u64>;

    /// Turns the paginator into a stream of items.
    fn into_stream(self) -> ItemStream<Self::Item>
    where
        Self: Sized + 'static,
    {
        ItemStream::from_paginator(self)
    }
}

/// What a page-number strategy asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page number.
    pub page: u64,
    /// The page size asked for.
    pub page_size: u64,
}

/// Which rules end a page-number listing. All on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRules {
    /// Stop once as many items as the (latest) total have been seen.
    pub total: bool,
    /// Stop after a page shorter than the page size: the size the server reports on the
    /// page ([`Page::with_page_size`]) when it does, else the size asked for. Turn it off
    /// for a server that clamps the page size below the ask without saying so.
    pub short_page: bool,
    /// Stop when the server says `has_next == false`.
    pub has_next: bool,
}

impl Default for StopRules {
    fn default() -> Self {
        StopRules { total: true, short_page: true, has_next: true }
    }
}

type FetchFut<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

/// Page number + page size: asks for page `first`, `first + 1`, ... until a stop rule
/// fires, or an empty page arrives.
pub struct PageNumberPaginator<T> {
    next: u64,
    page_size: u64,
    seen: u64,
    total: Option<u64>,
    done: bool,
    rules: StopRules,
    max_pages: u64,
    pages: u64,
    fetch: Box<dyn FnMut(PageRequest) -> FetchFut<T> + Send>,
}

impl<T: Send + 'static> PageNumberPaginator<T> {
    /// Pages from `first` (usually 1) of `page_size` items, fetched by `fetch`.
    pub fn new<F, Fut>(first: u64, page_size: u64, mut fetch: F) -> Self
    where
        F: FnMut(PageRequest) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>>> + Send + 'static,
    {
        PageNumberPaginator {
            next: first,
            page_size: page_size.max(1),
            seen: 0,
            total: None,
            done: false,
            rules: StopRules::default(),
            max_pages: u64::MAX,
            pages: 0,
            fetch: Box::new(move |r| Box::pin(fetch(r))),
        }
    }
    /// Chooses the stop rules.
    pub fn stop_rules(mut self, rules: StopRules) -> Self {
        self.rules = rules;
        self
    }
    /// Stops after this many pages (a `--max-pages` style cap).
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = n;
        self
    }
}

#[async_trait]
impl<T: Send + 'static> Paginator for PageNumberPaginator<T> {
    type Item = T;

    async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        if self.done || self.pages >= self.max_pages {
            return Ok(None);
        }
        let req = PageRequest { page: self.next, page_size: self.page_size };
        let page = (self.fetch)(req).await?;
        self.pages += 1;
        self.next += 1;
        if page.total.is_some() {
            self.total = page.total;
        }
        let n = page.items.len() as u64;
        self.seen += n;
        let r = self.rules;
        // A reported size of 0 says nothing usable: fall back to the size asked for.
        let size = page.page_size.filter(|s| *s > 0).unwrap_or(self.page_size);
        if n == 0
            || (r.has_next && page.has_next == Some(false))
            || (r.total && self.total.is_some_and(|t| self.seen >= t))
            || (r.short_page && n < size)
        {
            self.done = true;
        }
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(page.items))
    }

    fn total(&self) -> Option<u64> {
        self.total
    }
}

type CursorFut<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

/// Next-URL / cursor pagination: the first call gets `None`, each later call the `next`
/// of the page before; stops when `next` is absent.
pub struct CursorPaginator<T> {
    cursor: Option<String>,
    started: bool,
    done: bool,
    total: Option<u64>,
    fetch: Box<dyn FnMut(Option<String>) -> CursorFut<T> + Send>,
}

impl<T: Send + 'static> CursorPaginator<T> {
    /// A paginator whose pages are fetched by `fetch(cursor)`.
    pub fn new<F, Fut>(mut fetch: F) -> Self
    where
        F: FnMut(Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>>> + Send + 'static,
    {
        CursorPaginator {
            cursor: None,
            started: false,
            done: false,
            total: None,
            fetch: Box::new(move |c| Box::pin(fetch(c))),
        }
    }
}

#[async_trait]
impl<T: Send + 'static> Paginator for CursorPaginator<T> {
    type Item = T;

    async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        if self.done {
            return Ok(None);
        }
        let cursor = self.cursor.take();
        if self.started && cursor.is_none() {
            self.done = true;
            return Ok(None);
        }
        self.started = true;
        let page = (self.fetch)(cursor.clone()).await?;
        if page.total.is_some() {
            self.total = page.total;
        }
        match page.next {
            Some(n) if Some(&n) != cursor.as_ref() => self.cursor = Some(n),
            Some(_) => {
                return Err(Error::Decode {
                    path: "next".into(),
                    message: "the server returned the same next page again".into(),
                    excerpt: String::new(),
                    url: String::new(),
                });
            }
            None => self.done = true,
        }
        if page.items.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(page.items))
    }

    fn total(&self) -> Option<u64> {
        self.total
    }
}

/// What a time-window strategy asks for: at most `limit` items whose time lies in
/// `[start, stop]`, newest first (the server's "last N between two dates").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// The start of the window (inclusive), in the caller's time unit (MJD, JD, ...).
    pub start: f64,
    /// The end of the window (inclusive), in the same unit.
    pub stop: f64,
    /// How many items to ask for.
    pub limit: u64,
}

type KeyFn<T> = Box<dyn Fn(&T) -> Option<(f64, String)> + Send>;

/// "Last N items between two times", walked backwards: for servers whose only controls are
/// a count and a time window (no page, offset or cursor).
///
/// Each request asks for `limit` items in `[start, stop]`; the server answers with the
/// newest ones. When the answer is full, the next window ends at the oldest time seen
/// (inclusive, since several items may share that time) and items already yielded are
/// dropped by their key, so nothing is lost or repeated. The walk ends on an empty
/// answer, on an answer shorter than `limit` (unless [`TimeWindowPaginator::short_page_ends`]
/// is turned off for a server that filters after limiting), once the window passes
/// `start`, or after [`TimeWindowPaginator::max_pages`]. When more than `limit` items share
/// one time, the window cannot move and the walk fails with [`Error::InvalidInput`] on
/// `limit` rather than loop.
pub struct TimeWindowPaginator<T> {
    start: f64,
    stop: f64,
    limit: u64,
    seen: HashSet<String>,
    done: bool,
    short_page_ends: bool,
    max_pages: u64,
    pages: u64,
    key: KeyFn<T>,
    fetch: Box<dyn FnMut(TimeWindow) -> FetchFut<T> + Send>,
}

impl<T: Send + 'static> TimeWindowPaginator<T> {
    /// Walks `[start, stop]` with `limit` items a request. `key` gives an item's time and
    /// its identity (an item without a time is yielded but does not move the window).
    pub fn new<K, F, Fut>(start: f64, stop: f64, limit: u64, key: K, mut fetch: F) -> Self
    where
        K: Fn(&T) -> Option<(f64, String)> + Send + 'static,
        F: FnMut(TimeWindow) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<T>>> + Send + 'static,
    {
        TimeWindowPaginator {
            start,
            stop,
            limit: limit.max(1),
            seen: HashSet::new(),
            done: !(start.is_finite() && stop.is_finite()) || stop < start,
            short_page_ends: true,
            max_pages: u64::MAX,
            pages: 0,
            key: Box::new(key),
            fetch: Box::new(move |w| {
                let fut = fetch(w);
                Box::pin(async move { fut.await.map(Page::new) })
            }),
        }
    }
    /// Whether an answer shorter than `limit` ends the walk (default true). Turn it off when
    /// the server drops or groups rows after applying the limit.
    pub fn short_page_ends(mut self, yes: bool) -> Self {
        self.short_page_ends = yes;
        self
    }
    /// Stops after this many requests.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = n;
        self
    }
}

#[async_trait]
impl<T: Send + 'static> Paginator for TimeWindowPaginator<T> {
    type Item = T;

    async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        loop {
            if self.done || self.pages >= self.max_pages {
                return Ok(None);
            }
            let window = TimeWindow { start: self.start, stop: self.stop, limit: self.limit };
            let page = (self.fetch)(window).await?;
            self.pages += 1;
            let n = page.items.len() as u64;
            if n == 0 {
                self.done = true;
                return Ok(None);
            }
            let mut oldest: Option<f64> = None;
            let mut fresh = Vec::with_capacity(page.items.len());
            for item in page.items {
                match (self.key)(&item) {
                    Some((t, id)) => {
                        if t.is_finite() {
                            oldest = Some(oldest.map_or(t, |o: f64| o.min(t)));
                        }
                        if self.seen.insert(id) {
                            fresh.push(item);
                        }
                    }
                    None => fresh.push(item),
                }
            }
            if self.short_page_ends && n < self.limit {
                self.done = true;
            } else {
                match oldest {
                    None => self.done = true,
                    Some(t) if t < self.start => self.done = true,
                    Some(t) if t < self.stop => self.stop = t,
                    Some(t) => {
                        if fresh.is_empty() && n < self.limit {
                            self.done = true;
                            return Ok(None);
                        }
                        if fresh.is_empty() {
                            self.done = true;
                            return Err(Error::invalid(
                                "limit",
                                format!(
                                    "more than {} items share the time {t}: the window cannot move; ask for more items a request",
                                    self.limit
                                ),
                            ));
                        }
                        // Progress by identity only this once; the next answer decides.
                        self.stop = t;
                    }
                }
            }
            if fresh.is_empty() {
                continue;
            }
            return Ok(Some(fresh));
        }
    }

    fn total(&self) -> Option<u64> {
        None
    }
}

/// A stream of items from a paginator, with the total once known.
pub struct ItemStream<T> {
    inner: BoxStream<'static, Result<T>>,
    total: Arc<AtomicU64>,
}

const UNKNOWN: u64 = u64::MAX;

impl<T: Send + 'static> ItemStream<T> {
    /// Wraps a paginator.
    pub fn from_paginator<P: Paginator<Item = T> + 'static>(p: P) -> Self {
        let total = Arc::new(AtomicU64::new(UNKNOWN));
        let t2 = total.clone();
        let pages = stream::try_unfold(p, move |mut p| {
            let t = t2.clone();
            async move {
                let page = p.next_page().await?;
                if let Some(n) = p.total() {
                    t.store(n, Ordering::Relaxed);
                }
                Ok::<_, Error>(page.map(|items| (items, p)))
            }
        });
        let inner = pages.map_ok(|items| stream::iter(items.into_iter().map(Ok))).try_flatten().boxed();
        ItemStream { inner, total }
    }

    /// Wraps any stream of results (e.g. id chunks flattened).
    pub fn from_stream(s: impl Stream<Item = Result<T>> + Send + 'static, total: Option<u64>) -> Self {
        ItemStream { inner: s.boxed(), total: Arc::new(AtomicU64::new(total.unwrap_or(UNKNOWN))) }
    }

    /// A stream that yields one error and ends (e.g. for input rejected before any request).
    pub fn failed(err: Error) -> Self {
        Self::from_stream(stream::iter([Err(err)]), None)
    }

    /// The total number of items, once the server has said it.
    pub fn total(&self) -> Option<u64> {
        match self.total.load(Ordering::Relaxed) {
            UNKNOWN => None,
            n => Some(n),
        }
    }

    /// Reads every item; stops at the first error.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.inner.try_collect().await
    }
}

impl<T> Stream for ItemStream<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The outcome of one chunk of ids.
#[derive(Debug)]
pub struct Chunk<I, R> {
    /// The chunk's position (0-based).
    pub index: usize,
    /// The ids in this chunk, in input order.
    pub ids: Vec<I>,
    /// What fetching the chunk gave.
    pub result: Result<R>,
}

/// Splits `ids` into chunks of `chunk_size`, fetches up to `concurrency` chunks at once,
/// and yields one [`Chunk`] per chunk in input order. Each chunk is fetched exactly once
/// by this function (retries belong to the HTTP layer), and a failed chunk is yielded with
/// its error, never dropped.
pub fn id_chunks<I, R, F, Fut>(
    ids: Vec<I>,
    chunk_size: usize,
    concurrency: usize,
    fetch: F,
) -> impl Stream<Item = Chunk<I, R>> + Send
where
    I: Clone + Send + 'static,
    R: Send + 'static,
    F: Fn(Vec<I>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    let size = chunk_size.max(1);
    let mut chunks: Vec<Vec<I>> = Vec::new();
    let mut it = ids.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(size).collect());
    }
    stream::iter(chunks.into_iter().enumerate())
        .map(move |(index, ids)| {
            let fut = fetch(ids.clone());
            async move { Chunk { index, ids, result: fut.await } }
        })
        .buffered(concurrency.max(1))
}
