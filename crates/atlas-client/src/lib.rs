//! # atlas-client
//!
//! A typed, async client for the [ATLAS Transient Server](https://psweb.mp.qub.ac.uk/sne/atlas4/)
//! REST API, for astronomers and their unattended bots: every endpoint
//! `atlasapiclient` users need, byte-exact on the wire, typed results, light curves and
//! DataFrames, and bulk reads that survive the server's 100-requests-per-hour throttle
//! without losing a record.
//!
//! ## Setting up
//!
//! The token comes from the builder, the `ATLAS_API_TOKEN` environment variable, or the
//! YAML file `atlasapiclient` users already have (`token`, `base_url`; pass its path to
//! [`AtlasClientBuilder::config_file`] or set `ATLAS_API_CONFIG`). With username and
//! password ([`AtlasClientBuilder::credentials`]) an expired token is refreshed
//! automatically, written back to the YAML file (mode 0600) and the request retried once;
//! the library never prompts.
//!
//! ```no_run
//! # async fn f() -> atlas_client::Result<()> {
//! use atlas_client::AtlasClient;
//! let client = AtlasClient::builder()
//!     .config_file("/home/me/atlasapiclient/config_files/api_config_MINE.yaml")
//!     .from_env() // ATLAS_API_TOKEN / ATLAS_API_URL win over the file
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ## One source
//!
//! ```
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> atlas_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # let base = server.url("/api/");
//! # server.mock_async(|when, then| {
//! #     when.method(POST).path("/api/objects/").body("objects=1161600211221604900")
//! #         .header("authorization", "Token 0123456789abcdef0123456789abcdef01234567");
//! #     then.status(200).json_body(serde_json::json!([{
//! #         "object": {"id": 1161600211221604900u64, "atlas_designation": "ATLAS18pvq", "ra": 244.0, "dec": 22.27,
//! #                    "sherlockClassification": "SN", "vra": 0.9},
//! #         "lc": [{"id": 1161600211221604900u64, "mjd": 58286.5, "mag": 14.1, "magerr": 0.01, "filter": "o"},
//! #                {"id": 1161600211221604900u64, "mjd": 58288.5, "mag": 14.3, "magerr": 0.01, "filter": "c"}],
//! #         "lcnondets": [{"id": 7, "mjd": 58280.5, "filter": "o", "mag5sig": 19.4}],
//! #         "fp": [], "sherlock_crossmatches": [], "sherlock_classifications": [],
//! #         "tns_crossmatches": [{"external_designation": "2018cow", "matched_list": "Transient Name Server"}],
//! #         "external_crossmatches": []}]));
//! # }).await;
//! use atlas_client::{AtlasClient, AtlasId};
//!
//! let client = AtlasClient::builder()
//!     .base_url(base) // default: the production server
//!     .token("0123456789abcdef0123456789abcdef01234567")
//!     .build()?;
//! let id: AtlasId = "1161600211221604900".parse()?; // 19 digits, checked before sending
//! let source = client.source(id).send().await?.expect("known object");
//! assert_eq!(source.object.atlas_designation.as_deref(), Some("ATLAS18pvq"));
//! assert_eq!(source.tns_name(), Some("2018cow"));
//!
//! // Detections and 5σ limits as the shared light curve (µJy, AB mags, sncosmo bands).
//! let lc = source.lightcurve();
//! assert_eq!(lc.len(), 3);
//! assert_eq!(lc.detections().count(), 2);
//! assert_eq!(lc.points[0].limiting_mag, Some(19.4));
//! # Ok(()) }
//! ```
//!
//! ## Many sources
//!
//! [`AtlasClient::sources`] splits the ids into chunks (1,000 per request by default; the
//! server takes up to 50,000 but allows 100 requests an hour), keeps a bounded number of
//! requests in flight, stays under 100 requests an hour, honours 429 `Retry-After`, and
//! returns **every id exactly once, in input order**: data, not found, or failed with the
//! error. A chunk is never dropped.
//!
//! ```
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> atlas_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # server.mock_async(|when, then| {
//! #     when.method(POST).path("/api/objects/").body("objects=1000005291314656200%2C1000000000000000501&mjd=60000");
//! #     then.status(200).json_body(serde_json::json!([
//! #         {"object": {"id": 1000005291314656200u64}, "lc": [], "lcnondets": [], "fp": [],
//! #          "sherlock_crossmatches": [], "sherlock_classifications": [], "tns_crossmatches": [],
//! #          "external_crossmatches": []},
//! #         {"object": "AtlasDiffObjects matching query does not exist.", "lc": null, "lcnondets": null,
//! #          "fp": null, "sherlock_crossmatches": null, "sherlock_classifications": null,
//! #          "tns_crossmatches": null, "external_crossmatches": null}]));
//! # }).await;
//! # let client = atlas_client::AtlasClient::builder().base_url(server.url("/api/"))
//! #     .token("0123456789abcdef0123456789abcdef01234567").build()?;
//! use atlas_client::{AtlasId, SourceOutcome};
//! use futures::StreamExt;
//!
//! let ids = AtlasId::parse_many(["1000005291314656200", "1000000000000000501"])?;
//! let mut stream = client.sources(ids).mjd_threshold(60000.0).stream()?;
//! assert_eq!(stream.total(), Some(2));
//! let mut found = 0;
//! while let Some(item) = stream.next().await {
//!     let r = item?;
//!     match &r.outcome {
//!         SourceOutcome::Found(s) => found += s.lc.len() + 1,
//!         SourceOutcome::NotFound(why) => println!("{}: not found ({why})", r.id),
//!         SourceOutcome::Failed(e) => eprintln!("{}: failed: {e}", r.id),
//!     }
//! }
//! assert_eq!(found, 1);
//! # Ok(()) }
//! ```
//!
//! ## Custom lists
//!
//! Lists go by name (`eyeball`, `mookodi`, `vra`, `salt`, ...) or raw id, since new lists
//! appear without a release. Adding and removing sends one request per id (the server
//! takes one integer), and the server's `info` texts become typed outcomes: a 201 that
//! says "Duplicate row. Cannot add row." is not a success.
//!
//! ```
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> atlas_client::Result<()> {
//! # let server = MockServer::start_async().await;
//! # server.mock_async(|when, then| {
//! #     when.method(POST).path("/api/objectlist/").body("objectlistid=4&getcustomlist=False&vra_gte=0.7");
//! #     then.status(200).json_body(serde_json::json!([{"id": 1000005291314656200u64, "vra": 0.8}]));
//! # }).await;
//! # server.mock_async(|when, then| {
//! #     when.method(POST).path("/api/objectgroups/").body("objectid=1000005291314656200&objectgroupid=2");
//! #     then.status(201).json_body(serde_json::json!({"objectgroupid": 1000005291314656200u64,
//! #         "info": "Duplicate row. Cannot add row."}));
//! # }).await;
//! # let client = atlas_client::AtlasClient::builder().base_url(server.url("/api/"))
//! #     .token("0123456789abcdef0123456789abcdef01234567").build()?;
//! use atlas_client::{CustomList, ListRef, WriteOutcome};
//!
//! let eyeball = client.object_list(ListRef::by_name("eyeball")?).vra_gte(0.7).send().await?;
//! let ids: Vec<_> = eyeball.iter().map(|row| row.id).collect();
//! for w in client.add_to_custom_list(CustomList::by_name("mookodi")?, ids).await? {
//!     match w.result {
//!         Ok(WriteOutcome::Created) => println!("{} added", w.id),
//!         Ok(WriteOutcome::Duplicate) => println!("{} was already there", w.id),
//!         Ok(other) => println!("{} not added: {other:?}", w.id),
//!         Err(e) => eprintln!("{} failed: {e}", w.id),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Endpoints
//!
//! | endpoint | method |
//! |---|---|
//! | `objects/` | [`AtlasClient::source`], [`AtlasClient::sources`] |
//! | `cone/` | [`AtlasClient::cone_nearest`], [`AtlasClient::cone_all`], [`AtlasClient::cone_count`], [`AtlasClient::cone_all_with_positions`] (+ `objects/`) |
//! | `objectlist/` | [`AtlasClient::object_list`] |
//! | `objectgroupslist/` | [`AtlasClient::custom_list_rows`], [`AtlasClient::custom_lists_of`], [`AtlasClient::all_custom_list_rows`] |
//! | `objectgroups/`, `objectgroupsdelete/` | [`AtlasClient::add_to_custom_list`], [`AtlasClient::remove_from_custom_list`] |
//! | `objectdetectionlist/` | [`AtlasClient::set_detection_list`] |
//! | `vrascores/`, `vrascoreslist/` | [`AtlasClient::write_vra_scores`], [`AtlasClient::vra_scores_list`] |
//! | `vratodo/`, `vratodolist/` | [`AtlasClient::add_vra_todo`], [`AtlasClient::vra_todo_list`] |
//! | `vrarank/`, `vraranklist/` | [`AtlasClient::write_vra_rank`], [`AtlasClient::vra_rank_list`] |
//! | `externalxmlist/` | [`AtlasClient::external_crossmatches`] |
//! | `auth-token/` | [`AtlasClient::refresh_token`] (and automatic refresh) |
//!
//! Every call is `POST <base>/<endpoint>/`, form-encoded (absent fields omitted, booleans
//! as `True`/`False`, id lists comma-joined), with `Authorization: Token <key>`.
//!
//! Reads are retried on 5xx, timeouts and dropped connections. Writes are marked as such
//! (`write=true` on the `http_request` tracing span, `write: true` in a request's `Debug`).
//! `vrarank/` (an upsert of the object's one rank row) and `objectdetectionlist/` (sets the
//! object's list; `insertdate` sets its `date_modified`) are idempotent writes, retried like
//! reads; `vrascores/`, `vratodo/`, `objectgroups/` and `objectgroupsdelete/` are retried
//! only when the server certainly did not act (a 429, or a connection refused).
//!
//! ## Errors
//!
//! One error type, [`Error`] (from `broker-core`): bad input is
//! [`Error::InvalidInput`] before any request; 401s become [`Error::Auth`] (after the
//! refresh rules above); a 403 is [`Error::Auth`] with status 403 ("no write
//! permission"); throttling beyond an hour is [`Error::RateLimited`]; other statuses are
//! [`Error::Http`] with the server's message. Secrets never appear in errors, logs or
//! `Debug` output.
//!
//! With the `polars` feature, the `frame` module turns sources and lists into DataFrames.

pub mod auth;
pub mod client;
pub mod config;
pub mod extra;
#[cfg(feature = "polars")]
pub mod frame;
pub mod ids;
pub mod lightcurve;
pub mod lists;
pub mod models;
pub mod objects;
mod reply;
pub mod vra;

pub use broker_core::{Error, Result, SkyPosition};
pub use client::{AtlasClient, AtlasClientBuilder, DEFAULT_BASE_URL, DateThreshold};
pub use config::AtlasConfigFile;
pub use extra::RawExtra;
pub use ids::{AtlasId, CustomList, DetectionList, ListRef};
pub use lists::{IdWrite, ObjectListRequest, WriteOutcome};
pub use models::{
    AtlasObject, ConeMatch, ExternalCrossmatch, ForcedPhotometry, LcPoint, NonDetection, ObjectGroupRow, ObjectListRow,
    SherlockClassification, SherlockCrossmatch, Source, Timestamp, TokenInfo, VraRankRow, VraScoreRow, VraTodoRow,
};
pub use objects::{ExternalMatches, SourceOutcome, SourceRequest, SourceResult, SourcesRequest};
pub use vra::{VraListQuery, VraRank, VraScores};
