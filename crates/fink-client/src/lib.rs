//! # fink-client
//!
//! A typed async client for the [Fink](https://fink-broker.org) broker's REST APIs, for
//! ZTF (`https://api.ztf.fink-portal.org`) and Rubin/LSST (`https://api.lsst.fink-portal.org`)
//! from one [`FinkClient`] with a [`Survey`] switch. Routes, parameters and columns follow
//! the server's source (astrolabsoftware/fink-object-api, `apps/routes/v1/{ztf,lsst}/`).
//!
//! - ZTF ([`FinkClient::ztf`], module [`ztf`]): `objects` with upper limits, `latests` by
//!   class (also as a stream), `classes`.
//! - LSST ([`FinkClient::lsst`], module [`lsst`]): `sources`, `objects`, `fp`, `tags` (list,
//!   and the latest alerts of a tag, also as a stream).
//! - Both ([`common`]): `conesearch` (radius ≤ 18,000 arcsec), `cutouts` (PNG or FITS),
//!   `sso`, `resolver`, `schema`, and the unified [`broker_core::Lightcurve`].
//!
//! **Requests.** Every read is a `POST` with a JSON body, under the server's parameter
//! names (`output-format`, `cutout-kind`, `objectId`, `diaObjectId`, ...), marked
//! retry-safe: a 503 (overload) or 504 (the server cuts queries at about 120 s) is retried
//! with the core's backoff. Only parameters that were set are sent.
//!
//! **Rows.** Column names carry a family prefix (`i:`, `d:`, `r:`, `f:`, `v:`, `b:`; see
//! [`columns`]); typed rows name the common columns and keep the rest under their raw
//! names in `extra`. `output-format` json is decoded; csv, parquet and votable come back
//! as bytes (`raw`), and with the `polars` feature parquet is read into a DataFrame
//! (`dataframe`).
//!
//! **64-bit ids.** LSST `diaObjectId`/`diaSourceId` are `i64` here, sent as decimal text
//! (the routes slice them as strings) and read from JSON integers without going through
//! `f64` (fink-client's `botlib.py` reads replies with `pd.read_json`, where an integer
//! column becomes `float64` as soon as one value is missing).
//!
//! **Errors.** A 400 reply is a Python repr (`{'status': 'error', 'text': '...'}`), some are
//! plain text: the core error keeps status and raw body, and [`columns::error_text`] gives
//! the message.
//!
//! **Light curves** ([`FinkClient::lightcurve`]): ZTF rows come from `objects` with
//! `withupperlim`; `d:tag = valid` rows are detections from `i:magpsf ± i:sigmapsf` (band
//! from `i:fid`: 1 g, 2 r, 3 i; MJD = `i:jd − 2400000.5`), `upperlim` rows limits at
//! `i:diffmaglim`, `badquality` rows are left out. LSST rows come from `sources`:
//! `r:psfFlux ± r:psfFluxErr` in nJy (→ µJy), a detection when S/N ≥ 3, else a 5-sigma
//! limit; band from `r:band`, MJD = `r:midpointMjdTai`. Survey `ztf`/`lsst`, broker `fink`.
//!
//! **Lists.** Fink has no page, offset or cursor: only `n` and a `startdate`/`stopdate`
//! window. `latests` and `tags` streams walk back through time with the core's
//! [`broker_core::paginate::TimeWindowPaginator`]; a cone search is a single request (its
//! `n` limits a pixel scan that has no time order, so windows cannot page it).
//!
//! ```
//! use fink_client::{FinkClient, Survey};
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> broker_core::Result<()> {
//! # let server = MockServer::start_async().await;
//! # server.mock_async(|w, t| {
//! #     w.method(POST).path("/ztf/api/v1/objects")
//! #         .json_body(serde_json::json!({"objectId": "ZTF21abfmbix", "withupperlim": true, "output-format": "json"}));
//! #     t.status(200).header("content-type", "application/json").body(r#"[
//! #       {"i:objectId": "ZTF21abfmbix", "i:candid": 1549473362115015004, "i:jd": 2459323.9734954, "i:fid": 2,
//! #        "i:magpsf": 17.82, "i:sigmapsf": 0.05, "i:diffmaglim": 20.3, "d:tag": "valid", "d:rf_snia_vs_nonia": 0.81},
//! #       {"i:objectId": "ZTF21abfmbix", "i:candid": -1, "i:jd": "2459320.9", "i:fid": "1",
//! #        "i:magpsf": null, "i:diffmaglim": "19.9", "d:tag": "upperlim"}]"#);
//! # }).await;
//! # server.mock_async(|w, t| {
//! #     w.method(POST).path("/lsst/api/v1/sources")
//! #         .json_body(serde_json::json!({"diaObjectId": "314003014107006318", "output-format": "json"}));
//! #     t.status(200).body(r#"[{"r:diaObjectId": 314003014107006318, "r:diaSourceId": 314003014107006319,
//! #        "r:midpointMjdTai": 61176.98962, "r:band": "r", "r:psfFlux": 5012.0, "r:psfFluxErr": 120.0}]"#);
//! # }).await;
//! let fink = FinkClient::builder()
//! #   .host(&server.base_url())
//!     .build()?;
//!
//! // ZTF: alerts and upper limits, typed columns plus the raw ones.
//! let rows = fink.ztf().objects(["ZTF21abfmbix"]).with_upper_limits(true).send().await?;
//! assert_eq!(rows[0].magpsf, Some(17.82));
//! assert_eq!(rows[0].extra["d:rf_snia_vs_nonia"], 0.81);
//!
//! // The unified light curve: one detection, one limit.
//! let lc = fink.lightcurve(Survey::Ztf, "ZTF21abfmbix").await?;
//! assert_eq!((lc.detections().count(), lc.limits().count()), (1, 1));
//!
//! // LSST: 64-bit ids survive.
//! let src = fink.lsst().sources(&[314003014107006318]).send().await?;
//! assert_eq!(src[0].dia_source_id, Some(314003014107006319));
//! # Ok(()) }
//! ```

pub mod client;
pub mod columns;
pub mod common;
pub mod de;
#[cfg(feature = "polars")]
pub mod frame;
pub mod lsst;
pub mod time;
pub mod ztf;

pub use broker_core::{Error, Result};
pub use client::{DEFAULT_LSST_URL, DEFAULT_ZTF_URL, ENV_VARS, FinkClient, FinkClientBuilder, OutputFormat, Survey};
pub use columns::{Column, Family, error_text, parse_columns};
pub use common::{ConeHit, CutoutFormat, CutoutKind, MAX_CONE_RADIUS_ARCSEC, Resolver, Rows};
pub use lsst::{LsstObject, LsstSource};
pub use ztf::{Trend, ZtfAlert};
