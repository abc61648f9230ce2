//! `query/`: the SQL-like search (`selected`, `tables`, `conditions`) with `limit` and
//! `offset`, one page at a time or as a stream of every row.
//!
//! From `webserver/lasairapi/serializers.py::QuerySerializer` and
//! `webserver/lasair/query_builder.py` (both servers):
//!
//! - `selected` (≤ 4096 characters, not blank), `tables` (≤ 1024), `conditions` (≤ 4096,
//!   may be blank), `limit` (≤ 1,000,000; default 1000), `offset` (default 0).
//! - The server clamps `limit` by account class **without saying so**: 1,000 for the
//!   shared `dummy` token, 10,000 for a user token, 1,000,000 for `powerapi`. The stream
//!   therefore asks for at most the class's cap ([`crate::UserClass::max_query_rows`]),
//!   so that a short page really means the end.
//! - `conditions` must not contain `limit` or `offset` (the query builder refuses it:
//!   "use the parameter ... instead"), nor `#`, `/*`, `*/`, `;`, `||` or `\`; the same
//!   characters are refused in `selected`. These are checked here before sending.
//! - Watchlists, watchmaps and annotators join through `tables`: `watchlist:<id>` adds
//!   `watchlist_hits` (columns such as `watchlist_hits.name`, `watchlist_hits.arcsec`),
//!   `area:<id>` adds `area_hits`, `annotator:<topic>` an annotations table named after
//!   the topic. The singular forms are the ones **both** servers read: the ZTF query
//!   builder also accepts `watchlists:`/`areas:`, the LSST one only `watchlist:` and
//!   `area:`/`watchmap:`, and silently ignores `watchlists:<id>` (no join, no error).
//! - A query may run for up to 300 s on the server; requests here allow 330 s.
//!
//! Column names differ by server: ZTF `objects.objectId`, `ramean`, `decmean`; LSST
//! `objects.diaObjectId`, `ra`, `decl` (see the schema pages of each server).

use std::time::Duration;

use broker_core::paginate::{Page, PageNumberPaginator, Paginator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::{Api, Lsst, Ztf, read, send_core};
use crate::error::{Error, Result};
use crate::stream::LasairStream;

/// One row of a query reply: column name to value, in the server's order.
pub type Row = Map<String, Value>;

/// The default page size of the server (`limit` when none is sent).
pub const DEFAULT_QUERY_LIMIT: u64 = 1000;
/// The largest `limit` the server's serializer accepts.
pub const MAX_QUERY_LIMIT: u64 = 1_000_000;
/// How long one `query/` request may take here (the server stops at 300 s).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(330);

const FORBIDDEN: [&str; 6] = ["#", "/*", "*/", ";", "||", "\\"];

/// A Lasair query: `SELECT <selected> FROM <tables> WHERE <conditions>`, plus paging.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    selected: String,
    tables: Vec<String>,
    conditions: String,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl Query {
    /// A query of `selected` columns from `tables` (a comma list, e.g. `"objects"` or
    /// `"objects,sherlock_classifications"`) where `conditions` hold (may be empty; may
    /// be only an `ORDER BY`).
    pub fn new(selected: impl Into<String>, tables: impl AsRef<str>, conditions: impl Into<String>) -> Self {
        let tables = tables.as_ref().split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        Query { selected: selected.into(), tables, conditions: conditions.into(), limit: None, offset: None }
    }
    /// Adds a table to the `tables` list.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.tables.push(table.into());
        self
    }
    /// Joins a watchlist: adds `watchlist:<id>` to `tables` (its hits are then in
    /// `watchlist_hits`, e.g. `watchlist_hits.name`, `watchlist_hits.arcsec`).
    pub fn watchlist(self, id: u64) -> Self {
        self.table(format!("watchlist:{id}"))
    }
    /// Joins a watchmap: adds `area:<id>` to `tables` (hits in `area_hits`).
    pub fn watchmap(self, id: u64) -> Self {
        self.table(format!("area:{id}"))
    }
    /// Joins an annotator's annotations: adds `annotator:<topic>` to `tables` (its
    /// columns are then `<topic>.classification`, `<topic>.classdict`, ...).
    pub fn annotator(self, topic: impl AsRef<str>) -> Self {
        self.table(format!("annotator:{}", topic.as_ref()))
    }
    /// `limit`: rows per call (the server's default is 1000, the cap depends on the
    /// account class).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// `offset`: rows to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// The `selected` text.
    pub fn selected(&self) -> &str {
        &self.selected
    }
    /// The `tables` text as sent (comma-joined).
    pub fn tables(&self) -> String {
        self.tables.join(",")
    }
    /// The `conditions` text.
    pub fn conditions(&self) -> &str {
        &self.conditions
    }

    /// Checks what the server's serializer and query builder would refuse.
    pub fn validate(&self) -> Result<()> {
        if self.selected.trim().is_empty() {
            return Err(Error::invalid("selected", "the selected columns are empty: name columns, or use *"));
        }
        check_len("selected", &self.selected, 4096)?;
        let tables = self.tables();
        if tables.is_empty() {
            return Err(Error::invalid("tables", "no table given: use at least `objects`"));
        }
        check_len("tables", &tables, 1024)?;
        check_len("conditions", &self.conditions, 4096)?;
        for (field, text) in [("selected", self.selected.as_str()), ("conditions", self.conditions.as_str())] {
            if let Some(s) = FORBIDDEN.iter().find(|s| text.contains(*s)) {
                return Err(Error::invalid(
                    field,
                    format!("Lasair refuses {s:?} in a query (refused: # /* */ ; || \\)"),
                ));
            }
        }
        for word in ["limit", "offset"] {
            if self.conditions.contains(word) {
                return Err(Error::invalid(
                    "conditions",
                    format!("Lasair refuses `{word}` in the conditions: use Query::{word} instead"),
                ));
            }
        }
        if let Some(l) = self.limit {
            if l == 0 || l > MAX_QUERY_LIMIT {
                return Err(Error::invalid("limit", format!("{l} is not a valid limit: use 1 to {MAX_QUERY_LIMIT}")));
            }
        }
        Ok(())
    }

    fn request(&self, limit: Option<u64>, offset: Option<u64>) -> broker_core::Request {
        read("query/")
            .form("selected", &self.selected)
            .form("tables", self.tables())
            .form("conditions", &self.conditions)
            .form_opt("limit", limit)
            .form_opt("offset", offset)
            .timeout(QUERY_TIMEOUT)
    }
}

fn check_len(field: &str, s: &str, max: usize) -> Result<()> {
    let n = s.chars().count();
    if n > max {
        return Err(Error::invalid(field, format!("{n} characters is too long: at most {max}")));
    }
    Ok(())
}

pub(crate) async fn query_page<T: DeserializeOwned>(api: &Api, q: &Query) -> Result<Vec<T>> {
    q.validate()?;
    api.send(q.request(q.limit, q.offset)).await
}

pub(crate) fn query_stream<T: DeserializeOwned + Send + 'static>(api: &Api, q: Query) -> Result<LasairStream<T>> {
    q.validate()?;
    let size = q.limit.unwrap_or(DEFAULT_QUERY_LIMIT).min(api.class.max_query_rows());
    let start = q.offset.unwrap_or(0);
    let http = api.http.clone();
    let pages = PageNumberPaginator::new(0, size, move |p| {
        let http = http.clone();
        let req = q.request(Some(p.page_size), Some(start + p.page * p.page_size));
        async move {
            let rows: Vec<T> = send_core(&http, req).await?;
            Ok(Page::new(rows))
        }
    });
    Ok(LasairStream::new(pages.into_stream()))
}

macro_rules! query_methods {
    ($t:ident) => {
        impl $t<'_> {
            /// One page of a query (`POST query/`, form `selected`, `tables`, `conditions`,
            /// and `limit`/`offset` when set): rows as column maps.
            pub async fn query(&self, q: &Query) -> Result<Vec<Row>> {
                query_page(self.api, q).await
            }
            /// One page of a query, each row decoded into `T`.
            pub async fn query_as<T: DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>> {
                query_page(self.api, q).await
            }
            /// Every row of a query, page by page (`limit` = the query's limit, at most the
            /// account class's cap; `offset` advancing from the query's offset) until a
            /// short page.
            pub fn query_stream(&self, q: Query) -> Result<LasairStream<Row>> {
                query_stream(self.api, q)
            }
            /// [`Self::query_stream`] with rows decoded into `T`.
            pub fn query_stream_as<T: DeserializeOwned + Send + 'static>(&self, q: Query) -> Result<LasairStream<T>> {
                query_stream(self.api, q)
            }
        }
    };
}

query_methods!(Ztf);
query_methods!(Lsst);
