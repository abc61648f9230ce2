//! # lasair-client
//!
//! A typed async client for the [Lasair](https://lasair.lsst.ac.uk) broker's REST APIs:
//! the **ZTF** server (`https://lasair-ztf.lsst.ac.uk/api/`, source `lsst-uk/lasair4`) and
//! the **Rubin/LSST** server (`https://api.lasair.lsst.ac.uk/api/`, source
//! `lsst-uk/lasair-lsst`). They are separate systems with separate accounts and tokens,
//! so the client holds a base URL, a token and an account class for each, and exposes
//! them as [`LasairClient::ztf`] and [`LasairClient::lsst`].
//!
//! | route (trailing slash as routed) | ZTF | LSST | here |
//! |---|---|---|---|
//! | `cone/` | ✓ | ✓ | [`cone`]: `cone` |
//! | `query/` (`selected`, `tables`, `conditions`, `limit`, `offset`) | ✓ | ✓ | [`query`]: `query`, `query_stream` |
//! | `object/` | ✓ | ✓ | [`objects`]: `object`, `lightcurve` |
//! | `lightcurves/` (deprecated) | ✓ | | [`Ztf::lightcurves`] |
//! | `sherlock/object/`, `sherlock/position/` | ✓ | ✓ | [`sherlock`] |
//! | `streams/`, `streams/<topic>/` (legacy) | until 2025 | | [`streams`] |
//! | `annotate/` | ✓ | ✓ | [`annotate`]: `annotate` |
//! | `annotatelist/` | | ✓ | [`Lsst::annotate_list`] |
//!
//! Watchlists and watchmaps have no API route of their own: their hits are joined into
//! a query ([`Query::watchlist`], [`Query::watchmap`]).
//!
//! **Auth**: `Authorization: Token <key>` (DRF token authentication; the key is a
//! [`broker_core::SecretString`], never printed). **Quota**: each server throttles per
//! account per hour (10 for the shared `dummy` token, 100 for a user token, 10,000 for a
//! power user: [`UserClass`]); the client keeps a matching client-side quota per server
//! and token, shared by every client in the process that uses the token, waits for a
//! slot up to [`DEFAULT_MAX_QUOTA_WAIT`] and otherwise fails at once with the core's
//! `RateLimited { retry_after }` without sending. A server 429 is retried after its
//! `Retry-After` when that is short enough, else reported ([`Error::Throttled`]).
//! Writes (annotations) are never retried after a timeout. Error bodies are typed
//! ([`Error`]). LSST ids stay `i64` end to end ([`ObjectId`]).
//!
//! ```
//! use lasair_client::{LasairClient, Query, UserClass};
//! use lasair_client::cone::ConeRequest;
//! use broker_core::SkyPosition;
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> lasair_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # server.mock_async(|w, t| {
//! #     w.method(POST).path("/lsst/api/cone/").header("authorization", "Token my-token")
//! #         .form_urlencoded_tuple("requestType", "all");
//! #     t.json_body(serde_json::json!({"objects": [{"object": 170000000000000123_i64, "separation": 0.4}],
//! #         "count": 1, "nearest": {"object": 170000000000000123_i64, "separation": 0.4}}));
//! # }).await;
//! # server.mock_async(|w, t| {
//! #     w.method(POST).path("/lsst/api/object/").form_urlencoded_tuple("lasair_added", "False");
//! #     t.json_body(serde_json::json!({"diaObjectId": "170000000000000123",
//! #         "diaSourcesList": [{"diaSourceId": 170000000000000999_i64, "midpointMjdTai": 60800.1, "band": "r",
//! #             "psfFlux": 25000.0, "psfFluxErr": 300.0, "reliability": 0.9}],
//! #         "diaForcedSourcesList": [{"midpointMjdTai": 60799.1, "band": "r", "psfFlux": 100.0, "psfFluxErr": 250.0}]}));
//! # }).await;
//! # server.mock_async(|w, t| {
//! #     w.method(POST).path("/lsst/api/query/").form_urlencoded_tuple("tables", "objects,watchlist:42");
//! #     t.json_body(serde_json::json!([{"diaObjectId": 170000000000000123_i64, "name": "NGC 1234"}]));
//! # }).await;
//! let lasair = LasairClient::builder()
//! #   .lsst_url(server.url("/lsst/api/"))
//!     .lsst_token("my-token".to_string())
//!     .user_class(UserClass::User)
//!     .build()?;
//!
//! // What is near a position?
//! let centre = SkyPosition::new(150.1, 2.2)?;
//! let cone = lasair.lsst().cone(&centre, 5.0, ConeRequest::All).await?;
//! let id = cone.nearest.expect("a hit").object.as_lsst().expect("an LSST id");
//! assert_eq!(id, 170_000_000_000_000_123); // above 2^53, exact
//!
//! // Its light curve, unified: diaSources and forced photometry, fluxes in µJy.
//! let lc = lasair.lsst().lightcurve(id).await?.to_lightcurve(true);
//! assert_eq!(lc.detections().count(), 1);
//! assert_eq!(lc.limits().count(), 1);
//!
//! // Objects in watchlist 42, every page.
//! let q = Query::new("objects.diaObjectId, watchlist_hits.name", "objects", "").watchlist(42);
//! let rows = lasair.lsst().query_stream(q)?.collect_all().await?;
//! assert_eq!(rows[0]["name"], "NGC 1234");
//! # Ok(()) }
//! ```

pub mod annotate;
pub mod client;
pub mod cone;
pub mod error;
#[cfg(feature = "polars")]
pub mod frame;
pub mod ids;
pub mod objects;
pub mod query;
pub mod sherlock;
pub mod stream;
pub mod streams;

pub use annotate::{AnnotateReply, Annotation};
pub use client::{
    DEFAULT_LSST_URL, DEFAULT_MAX_QUOTA_WAIT, DEFAULT_ZTF_URL, ENV_VARS, LasairClient, LasairClientBuilder, Lsst,
    UserClass, Ztf,
};
pub use cone::{ConeHit, ConeRequest, ConeResult};
pub use error::{Error, Result};
pub use ids::{ObjectId, Survey};
pub use objects::{LsstObject, ObjectOptions, ZtfObject};
pub use query::{Query, Row};
pub use sherlock::SherlockReply;
pub use stream::LasairStream;
