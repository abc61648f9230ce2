//! # skyportal-client
//!
//! A typed async client for the [SkyPortal](https://skyportal.io) REST API, as deployed at
//! Fritz (`https://fritz.science`) and elsewhere: sources, candidates, photometry,
//! spectra, classifications, comments, annotations, groups, streams, filters,
//! instruments, telescopes, taxonomies, allocations, assignments, follow-up requests,
//! galaxies, GCN events, `sysinfo` and `config`.
//!
//! What it does for you:
//!
//! - sends `Authorization: token <token>` (lowercase `token`, as SkyPortal requires);
//! - unwraps the `{"status": "success", "data": ...}` envelope; a `status: "error"` (even
//!   with HTTP 200) becomes [`Error::Http`](broker_core::Error::Http) with the server's
//!   message, 401 and 403 become [`Error::Auth`](broker_core::Error::Auth), and nginx's
//!   HTML pages (413, 429, 502, 504) keep an excerpt; [`is_not_found`] recognizes
//!   SkyPortal's "not found" 400s;
//! - stays under nginx's per-token limit (5 requests/s, burst 10) and retries 429s (which
//!   carry no `Retry-After`) after at least a second, with backoff; GET/HEAD/PUT/PATCH/
//!   DELETE are also retried on 5xx, POSTs only on 429;
//! - turns every paginated listing into a stream: `pageNumber` from 1, `numPerPage`
//!   checked against the endpoint's maximum, `useCache=true` with the returned `queryID`
//!   so pages do not shift, stop on `totalMatches` or a short page, and never a
//!   `totalMatches` sent;
//! - comma-joins multi-valued filters with each endpoint's own spelling (`group_ids`,
//!   `groupIDs`, `groupIds`);
//! - uploads photometry in SkyPortal's column-oriented body, at most 10,000 rows a
//!   request, and converts points to the shared [`Lightcurve`](broker_core::Lightcurve)
//!   (and DataFrames with the `polars` feature);
//! - rejects bad input (a declination of 95, an object id with a `/`, a page size of
//!   1000 for sources) before any request, with a message saying what is valid.
//!
//! ## Paging through sources
//!
//! SkyPortal's API documentation gives a 40-line Python script that pages through the
//! sources of groups 4 and 71, 500 at a time, sleeping a second on 429. Here it is in
//! Rust (the hidden lines start a mock server so that the example runs):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> broker_core::Result<()> {
//! # let server = httpmock::MockServer::start_async().await;
//! # let page = |ids: &[&str], n: u64| serde_json::json!({"status": "success", "version": "1.4.0", "data": {
//! #     "sources": ids.iter().map(|i| serde_json::json!({"id": i, "ra": 1.0, "dec": 2.0})).collect::<Vec<_>>(),
//! #     "totalMatches": 3, "pageNumber": n, "numPerPage": 2, "queryID": "f00d"}});
//! # server.mock_async(|w, t| { w.path("/api/sources").query_param("pageNumber", "1")
//! #     .query_param("group_ids", "4,71").header("authorization", "token your_token_id_here");
//! #     t.json_body(page(&["ZTF1", "ZTF2"], 1)); }).await;
//! # server.mock_async(|w, t| { w.path("/api/sources").query_param("pageNumber", "2")
//! #     .query_param("queryID", "f00d"); t.json_body(page(&["ZTF3"], 2)); }).await;
//! # let base_url = server.base_url();
//! # let num_per_page = 2;
//! use futures::TryStreamExt;
//! use skyportal_client::Client;
//!
//! let client = Client::new(base_url, "your_token_id_here".to_string())?; // e.g. https://fritz.science
//! let mut sources = client.sources().list().group_ids([4, 71]).page_size(num_per_page).stream();
//! let mut all_sources = Vec::new();
//! while let Some(source) = sources.try_next().await? {
//!     all_sources.push(source);
//!     println!("Fetched {} of {:?} sources.", all_sources.len(), sources.total());
//! }
//! # assert_eq!(all_sources.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["ZTF1", "ZTF2", "ZTF3"]);
//! # Ok(()) }
//! ```
//!
//! (Or in one line: `client.sources().list().group_ids([4, 71]).collect_all().await?`.)
//!
//! ## A light curve, and an upload
//!
//! ```no_run
//! # async fn demo() -> broker_core::Result<()> {
//! use skyportal_client::{Client, photometry::{MagRow, PhotometryUpload}};
//!
//! let client = skyportal_client::ClientBuilder::from_env().build()?; // SKYPORTAL_URL, SKYPORTAL_TOKEN
//! let lc = client.photometry().lightcurve("ZTF21aaqjmps").await?;
//! println!("{} points in {:?}", lc.len(), lc.bands());
//!
//! let ztf = client.resources().instruments(Some("ZTF")).await?;
//! let instrument_id = ztf.first().and_then(|i| i.id).unwrap_or(1);
//! let rows = vec![
//!     MagRow::detection("ZTF21aaqjmps", instrument_id, 59410.3, "ztfr", 19.2, 0.05),
//!     MagRow::non_detection("ZTF21aaqjmps", instrument_id, 59411.3, "ztfg", 20.1),
//! ];
//! // PUT is the idempotent upsert; `post` inserts. Both split into requests of 10,000 rows.
//! let stored = client.photometry().upsert(&PhotometryUpload::mags(rows).group_ids([4])).await?;
//! println!("stored ids {:?}", stored.ids);
//! # Ok(()) }
//! ```
//!
//! See the `examples/` directory for complete programs.

pub mod candidates;
pub mod classifications;
mod client;
pub mod comments;
pub mod followup;
pub mod gcn;
pub mod models;
mod params;
pub mod photometry;
pub mod resources;
pub mod sources;
pub mod spectra;
mod validate;

pub use client::{
    Client, ClientBuilder, DEFAULT_BURST, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT, ENV_TOKEN, ENV_URL, ListPage,
    default_retry, is_not_found,
};
pub use models::{Annotation, Candidate, Classification, Comment, Group, Source, Spectrum};
pub use photometry::{PhotometryRecord, to_lightcurve};

/// The shared core this crate builds on (errors, retry policy, clocks, light curves).
pub use broker_core;
