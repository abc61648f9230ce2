//! # fallingstar-forcedphot
//!
//! A client for the [ATLAS forced-photometry server](https://fallingstar-data.com/forcedphot/):
//! queue a position, wait for the task, download and parse the result, delete the task — with
//! the server's throttling (60 writes a minute, `Retry-After`), its 500-task queue limit,
//! "No data returned" and expired results handled as normal outcomes.
//!
//! - [`Client::run`] does the whole job for one target; [`Client::run_many`] for hundreds
//!   (batches of 100, one outcome per target, in input order).
//! - Endpoints one by one: [`Client::submit`], [`Client::submit_batch`], [`Client::task`],
//!   [`Client::poll`], [`Client::download_url`], [`Client::result`], [`Client::delete`],
//!   [`Client::list`], [`Client::obtain_token`].
//! - Results: [`ResultColumns::parse`] (straight into one `Vec` per column, on every core;
//!   with the `polars` feature `into_dataframe()` moves them into a DataFrame),
//!   [`ResultTable::parse`] (typed rows; by header names, 19 or 20 columns, extras kept),
//!   [`ResultTable::to_lightcurve`] (magnitudes where S/N >= 3, else 3σ limits),
//!   [`QualityCuts`] (the FAQ's cuts), [`binning`] (nightly weighted means with clipping) and,
//!   with the `polars` feature, `to_dataframe()`.
//!
//! ## Forced photometry for one position into a DataFrame
//!
//! ```
//! # use httpmock::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = MockServer::start_async().await;
//! # let task = |finished: bool| serde_json::json!({
//! #     "url": server.url("/queue/1088/"), "id": 1088, "ra": 29.86137, "dec": 30.72672,
//! #     "mjd_min": 59100.0, "mjd_max": null, "use_reduced": false, "finished": finished,
//! #     "result_url": if finished { Some(server.url("/static/results/job01088.txt")) } else { None },
//! #     "starttimestamp": if finished { Some("2024-05-15T12:34:50Z") } else { None },
//! #     "finishtimestamp": if finished { Some("2024-05-15T12:34:56Z") } else { None },
//! #     "error_msg": null, "queuepos": if finished { None } else { Some(0) } });
//! # server.mock(|w, t| { w.method(POST).path("/queue/"); t.status(201).json_body(task(false)); });
//! # server.mock(|w, t| { w.method(GET).path("/queue/1088/"); t.status(200).json_body(task(true)); });
//! # server.mock(|w, t| { w.method(GET).path("/static/results/job01088.txt").header("authorization", "Token my-token"); t.status(200).body(
//! #   "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n\
//! #    59103.552116 16.499 0.011 912 10 o 0 613.69 29.86137 30.72672 6239.87 2027.06 1.95 1.88 39.8 -0.438 19.59 20.81 02a59103o0723o\n"); });
//! # let deleted = server.mock(|w, t| { w.method(DELETE).path("/queue/1088/"); t.status(204); });
//! # let base = server.base_url();
//! use fallingstar_forcedphot::{Client, Outcome, RunOptions, TaskRequest};
//!
//! let client = Client::builder().base_url(base).token("my-token".to_string()).build()?;
//! // Sexagesimal or decimal degrees; validated before anything is sent.
//! let request = TaskRequest::new("01:59:26.73 +30:43:36.2".parse::<fallingstar_forcedphot::Target>()?)
//!     .mjd_min(59100.0);
//! let run = client.run(&request, &RunOptions::new()).await?;
//! match run.outcome {
//!     Outcome::Data(table) => {
//!         let lc = table.to_lightcurve("AT2020wol"); // detections at S/N >= 3, else 3σ limits
//!         println!("{} points, {} detections", lc.len(), lc.detections().count());
//!         # assert_eq!(lc.detections().count(), 1);
//!         #[cfg(feature = "polars")]
//!         println!("{}", lc.to_dataframe()?); // or table.to_dataframe() for the raw columns
//!     }
//!     Outcome::NoData { message } => println!("no data: {message}"),
//!     other => println!("{other:?}"),
//! }
//! # deleted.assert_async().await; // the task was deleted after download
//! # Ok(()) }
//! ```
//!
//! ## Many targets
//!
//! ```no_run
//! use fallingstar_forcedphot::{Client, Outcome, RunOptions, Target, TaskOptions};
//! # async fn demo() -> Result<(), fallingstar_forcedphot::Error> {
//! let client = Client::builder().from_env().build()?; // ATLASFORCED_SECRET_KEY
//! let targets = Target::parse_list(["150.1 2.2", "10:00:24.0 +02:12:00", "mpc Makemake"])?;
//! let opts = RunOptions::new().progress(|p| eprintln!("{:?}: task {} {:?}", p.index, p.task_id, p.stage));
//! let outcomes = client.run_many(targets, &TaskOptions::new().mjd_min(60000.0), &opts).await?;
//! for o in &outcomes {
//!     match &o.outcome {
//!         Outcome::Data(t) => println!("{}: {} rows", o.target, t.len()),
//!         Outcome::NoData { .. } => println!("{}: no data", o.target),
//!         Outcome::Failed { reason } => println!("{}: failed: {reason}", o.target),
//!         Outcome::Expired => println!("{}: expired", o.target),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Wire notes
//!
//! Every request sends `Accept: application/json` and, with credentials,
//! `Authorization: Token <key>`; paths keep their trailing slash (`queue/`, `queue/<id>/`,
//! `api-token-auth/`). Submissions are form-encoded with `send_email` and `use_reduced`
//! always explicit. Tasks are addressed as `queue/<id>/` under the configured base URL.
//! Writes (POST, DELETE) share a client-side budget of 60 per minute per credential.

pub mod binning;
mod client;
pub mod columns;
pub mod error;
#[cfg(feature = "polars")]
pub mod frame;
pub mod quality;
pub mod result;
mod run;
pub mod task;

pub use client::{
    BASE_URL_ENV, Client, ClientBuilder, DEFAULT_BASE_URL, ListOptions, MAX_QUEUED_TASKS, Poll, PollIntervals,
    READS_PER_MINUTE, TOKEN_ENV, WRITES_PER_MINUTE, default_retry,
};
pub use columns::ResultColumns;
pub use error::{Error, Result};
pub use quality::QualityCuts;
pub use result::{CompactString, Measurement, ResultTable};
pub use run::{
    Cleanup, MAX_TAGGED_COMMENT, Outcome, Progress, ProgressFn, RunOptions, RunResult, Stage, TargetOutcome,
};
pub use task::{MAX_BATCH, MjdMin, Target, Task, TaskOptions, TaskPage, TaskRequest, TaskState};
pub use tokio_util::sync::CancellationToken;

pub use broker_core;
