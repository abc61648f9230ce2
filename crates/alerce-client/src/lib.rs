//! # alerce-client
//!
//! A typed async client for the [ALeRCE](https://alerce.science) broker's HTTP APIs:
//!
//! - the **ZTF v1 API** and ZTF forced photometry ([`AlerceClient::ztf`], module [`ztf`]),
//! - the **multisurvey API** used for LSST ([`AlerceClient::lsst`], module [`lsst`]),
//! - **stamps** (gzip-compressed FITS read into 2-D images, PNGs) and **avro** alert packets
//!   ([`AlerceClient::stamps`], modules [`stamps`], [`fits`], and [`avro`] with the
//!   `avro` feature),
//! - **catsHTM** cone searches and crossmatches ([`AlerceClient::catshtm`], module [`catshtm`]).
//!
//! Every endpoint the Python `alerce` client 2.3.1 calls has a typed method, sends the
//! same request (repeated keys for lists, `class_name` sent as `class` to ZTF, `n_det`
//! for LSST, no parameter that was not set), and decodes the loose JSON the servers
//! send (string `ndethist`/`candid`, omitted nulls, `NaN`, 64-bit LSST ids, both catsHTM
//! formats) into models that keep unknown fields in `extra`. Errors follow the Python
//! client's classes ([`Error::Parse`], [`Error::NotFound`], [`Error::Api`]); 5xx and
//! timeouts are retried by the shared core. Light curves convert into the core
//! [`broker_core::Lightcurve`]; with the `polars` feature, records become DataFrames
//! ([`frame`], and [`broker_core::Lightcurve::to_dataframe`]).
//!
//! ## Recipes
//!
//! The ALeRCE client documentation's recipes, in Rust. They run here against a local
//! mock server (hidden lines); drop `.host(...)` to talk to the real services.
//!
//! Objects classified as SN by the stamp classifier with probability above 0.7, then a
//! light curve and the class probabilities of the first one:
//!
//! ```
//! use alerce_client::AlerceClient;
//! use alerce_client::ztf::{ObjectQuery, OrderMode, ZtfOrderBy};
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> alerce_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # server.mock_async(|w, t| {
//! #     w.path("/ztf/v1/objects/").query_param("classifier", "stamp_classifier").query_param("class", "SN")
//! #         .query_param("probability", "0.7");
//! #     t.json_body(serde_json::json!({"total": 1, "page": null, "next": null, "has_next": false, "prev": null,
//! #         "has_prev": false, "items": [{"oid": "ZTF18abbuksn", "ndethist": "12", "class": "SN",
//! #         "classifier": "stamp_classifier", "probability": 0.93, "firstmjd": 59149.11}]}));
//! # }).await;
//! # server.mock_async(|w, t| {
//! #     w.path("/ztf/v1/objects/ZTF18abbuksn/lightcurve");
//! #     t.json_body(serde_json::json!({"detections": [{"mjd": 59149.11, "candid": "1", "fid": 1, "magpsf": 18.2,
//! #         "sigmapsf": 0.05, "has_stamp": true}], "non_detections": [{"mjd": 59148.1, "fid": 2, "diffmaglim": 20.1}]}));
//! # }).await;
//! # server.mock_async(|w, t| {
//! #     w.path("/ztf/v1/objects/ZTF18abbuksn/probabilities");
//! #     t.json_body(serde_json::json!([{"classifier_name": "lc_classifier", "classifier_version":
//! #         "hierarchical_random_forest_1.0.0", "class_name": "SNIa", "probability": 0.61, "ranking": 1}]));
//! # }).await;
//! let alerce = AlerceClient::builder()
//! #   .host(&server.base_url())
//!     .build()?;
//!
//! let query = ObjectQuery::new()
//!     .classifier("stamp_classifier")
//!     .class_name("SN")
//!     .probability(0.7)
//!     .order_by(ZtfOrderBy::Probability, OrderMode::Desc);
//! let page = alerce.ztf().query_objects(&query).await?;
//! let sn = &page.items[0];
//! println!("{} is an SN with p = {:?}", sn.oid, sn.probability);
//!
//! // Light curve: detections and non-detections, and the unified core light curve.
//! let lc = alerce.ztf().lightcurve(&sn.oid).await?;
//! let unified = lc.to_lightcurve(&sn.oid);
//! assert_eq!(unified.detections().count(), 1);
//! assert_eq!(unified.limits().count(), 1);
//!
//! // Probabilities of every classifier.
//! for p in alerce.ztf().probabilities(&sn.oid).await? {
//!     println!("{:?} {:?}: {:?}", p.classifier_name, p.class_name, p.probability);
//! }
//! # Ok(()) }
//! ```
//!
//! Every page of a query, as a stream (the client sends `count=true` and follows
//! `has_next`):
//!
//! ```no_run
//! # use alerce_client::{AlerceClient, ztf::ObjectQuery};
//! # async fn demo(alerce: AlerceClient) -> alerce_client::Result<()> {
//! let all = alerce.ztf().stream_objects(ObjectQuery::new().classifier("lc_classifier").class_name("LPV"))?
//!     .collect_all()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Stamps of an object's first alert with stamps (science, template, difference), read
//! from gzip-compressed FITS into 63×63 images; then a crossmatch with catsHTM:
//!
//! ```
//! use alerce_client::AlerceClient;
//! use alerce_client::stamps::StampKind;
//! use broker_core::SkyPosition;
//! # use httpmock::prelude::*;
//! # use std::io::Write;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> alerce_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # let fits = alerce_client::fits::write_f32_fits(63, 63, &[1.5; 63 * 63], &[]);
//! # let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! # gz.write_all(&fits).unwrap();
//! # let gz = gz.finish().unwrap();
//! # server.mock_async(|w, t| {
//! #     w.path("/ztf/v1/objects/ZTF18abkifng/detections");
//! #     t.json_body(serde_json::json!([{"mjd": 59000.0, "candid": "576161491515015015", "fid": 1, "has_stamp": true}]));
//! # }).await;
//! # server.mock_async(|w, t| { w.path("/get_stamp").query_param("candid", "576161491515015015"); t.body(gz.clone()); }).await;
//! # server.mock_async(|w, t| {
//! #     w.path("/crossmatch").query_param("catalog", "GAIADR1").query_param("radius", "20.000000");
//! #     t.json_body(serde_json::json!({"RA": {"unit": "deg", "value": 10.0001}, "Dec": {"unit": "deg", "value": 20.0002},
//! #         "distance": {"unit": "arcsec", "value": 0.8}}));
//! # }).await;
//! # let alerce = AlerceClient::builder().host(&server.base_url()).build()?;
//! let stamps = alerce.stamps().ztf_stamps("ZTF18abkifng", None).await?;
//! let science = stamps.get(StampKind::Science).image().expect("an image");
//! assert_eq!((science.width, science.height), (63, 63));
//! println!("candid {}: science pixel (31, 31) = {:?}", stamps.alert_id, science.pixel(31, 31));
//!
//! let xmatch = alerce.catshtm().crossmatch(SkyPosition::new(10.0, 20.0)?, 20.0, "GAIA/DR1").await?;
//! println!("closest GAIA DR1 source at {:?} arcsec", xmatch.first_f64("distance"));
//! # assert_eq!(xmatch.first_f64("distance"), Some(0.8));
//! # Ok(()) }
//! ```
//!
//! LSST through the multisurvey API (64-bit ids, fluxes in nJy, several objects in one
//! call; a ZTF name such as `ZTF18abbuksn` works too, as [`lsst::MultisurveyOid::Ztf`]):
//!
//! ```no_run
//! # use alerce_client::AlerceClient;
//! use alerce_client::lsst::{Magstats, MultisurveyOid};
//! # async fn demo(alerce: AlerceClient) -> alerce_client::Result<()> {
//! let ids = [MultisurveyOid::Lsst(313_765_480_543_813_793), MultisurveyOid::Lsst(169_298_433_191_444_990)];
//! let dets = alerce.lsst().detections(&ids).await?;
//! for d in &dets {
//!     println!("{} {:?} band {:?}: {:?} nJy", d.oid, d.mjd, d.band_name, d.psfFlux);
//! }
//! // Per-band flux statistics of the DiaObject.
//! if let Magstats::Lsst(row) = alerce.lsst().magstats(ids[0].clone()).await? {
//!     println!("mean r flux {:?} nJy", row.band("r").and_then(|r| r.psfFluxMean));
//! }
//! # Ok(()) }
//! ```
//!
//! ## Configuration
//!
//! [`AlerceClientBuilder`] overrides each base URL (or all at once with
//! [`AlerceClientBuilder::host`]), reads `ALERCE_*` environment variables
//! ([`AlerceClientBuilder::from_env`]), takes an optional bearer token (never printed),
//! a retry policy, a client-side rate limit, a timeout and a clock.
//!
//! ## Cargo features
//!
//! - `avro` (default): decode avro packets with `apache-avro`.
//! - `polars`: DataFrames ([`frame`]).

#[cfg(feature = "avro")]
pub mod avro;
pub mod catshtm;
pub mod client;
mod de;
pub mod error;
pub mod fits;
#[cfg(feature = "polars")]
pub mod frame;
pub mod lsst;
pub mod stamps;
pub mod stream;
pub mod ztf;

pub use client::{AlerceClient, AlerceClientBuilder};
pub use error::{Error, Result};
pub use stream::AlerceStream;
