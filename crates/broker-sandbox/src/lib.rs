//! Local, stateful emulators of the services the astrobrokers clients talk to, for demos
//! and tests that cannot reach the real servers.
//!
//! [`Sandbox::start`] serves, on loopback and random free ports (one port per service):
//!
//! * **ALeRCE** — the ZTF v1 API (`/ztf/v1/objects/`, with Flask's 308 from `/objects`),
//!   ZTF forced photometry (`/v2/lightcurve/forced-photometry/{oid}`, gzip over 1000 bytes),
//!   the multisurvey (LSST) APIs (`object_api/`, `lightcurve_api/`, `probability_api/`),
//!   ZTF and LSST stamps (gzip-compressed 63x63 float32 FITS) and avro, and catsHTM (legacy or
//!   current response format, see [`CatsHtmFormat`]).
//! * **ATLAS Transient Server** — DRF endpoints under `/sne/atlas4/api/` (form-encoded POSTs,
//!   `Authorization: Token <40 hex>`, expiring tokens and `auth-token/`, 100 requests/hour with
//!   `Retry-After`, 2xx replies whose `info` reports a logical failure, 204 deletes).
//! * **SkyPortal** — `/api/...` with `Authorization: token <uuid>`, the `{status, data, version}`
//!   envelope, the 401/403 token matrix, nginx's 5 r/s burst 10 limit answered with an HTML 429
//!   and no `Retry-After`, and these routes:
//!   - sources: list (`pageNumber`/`numPerPage`/`totalMatches`/`queryID`), get, `HEAD` (empty
//!     404), post, patch, delete from a group (JSON body `{"group_id"}`), `…/groups`,
//!     `source_groups` (save/unsave), `source_exists` (by name or cone);
//!   - photometry: `sources/{id}/photometry` (get; delete all of an obj), post/put (dedup,
//!     `upload_id`), get/patch/delete one, `photometry/bulk_delete/{upload_id}`,
//!     `photometry/{id}/annotations`;
//!   - spectra (`/api/spectra…` and the `/api/spectrum…` aliases): list with filters, get, post,
//!     put, delete, `parse/ascii`, `ascii` upload, `sources/{id}/spectra` (with
//!     `normalization=median`); one synthetic classification spectrum per transient with a
//!     redshift (SEDM, instrument 4), shaped by its class and redshift;
//!   - classifications: `/api/classification` (paged, `classifications` + `totalMatches`,
//!     100/500), post (one or `{"classifications": [...]}`), get/put/delete by id,
//!     `sources/{id}/classifications` get/delete; checked against the taxonomy hierarchy;
//!   - comments on `sources`, `spectra`, `gcn_event` and annotations on `sources`, `spectra`,
//!     `photometry` (`…/comments[/{id}]`, `…/annotations[/{id}]`: list, get, post, put,
//!     delete; comments paged 25/1000; one annotation per origin);
//!   - streams and filters (patch), telescopes, taxonomies, allocations (with their paged
//!     follow-up requests), observing-run assignments (`/api/assignment`), follow-up requests
//!     (`followup_requests` + `totalMatches`/`pageNumber`/`numPerPage`, 100/1000, put merges
//!     the payload);
//!   - candidates: list, get (`400 "Invalid ID"`), `HEAD`, post, delete per filter;
//!   - galaxies (`galaxy_catalog`, one host per transient), GCN events (list 10/1000, get by
//!     `dateobs`) and localizations (`localization/{dateobs}/name/{name}`), groups (list and
//!     by id), instruments (list and by id), `config`, `sysinfo`.
//! * **ATLAS forced photometry** — `/forcedphot/api-token-auth/`, `/forcedphot/queue/`
//!   (tasks move queued → running → finished in simulated time, `error_msg`, expiry, DELETE,
//!   cursor pagination, `radeclist` batches, the 500-task limit), result text tables, and 60
//!   writes/min with `Retry-After` and "Expected available in N seconds.".
//!   Result tables have the 19-column header of the known real files, or the documented
//!   20 columns with `PA_DEG` when [`SandboxConfig::forcedphot_pa_deg`] is set.
//! * **Fink** (a fifth port, [`SandboxUrls::fink`]) — the ZTF API under `/ztf/api/v1/` and the
//!   LSST API under `/lsst/api/v1/`: `POST` with a JSON body or `GET` with a query string,
//!   Python-repr 400 bodies, prefixed columns (`i:`/`d:`/`v:`, `r:`/`f:`), ZTF `objects` with
//!   `withupperlim` (text-valued upper-limit rows, `candid = -1`), `latests` by Fink class,
//!   `classes`, `schema`, LSST `sources`/`objects`/`fp`, `tags` (synthetic tag names), cone
//!   searches (≤ 18,000 arcsec), cutouts (a PNG signature or a FITS header); json and csv
//!   output only (parquet and votable answer 400). See the `fink` module.
//! * **Lasair** (on a port of its own, [`LasairUrls`], [`LasairCredentials`]) — the ZTF server
//!   under `/ztf/api/` and the LSST server under `/lsst/api/`: DRF token auth (header or
//!   `?token=`), separate tokens per server plus the shared `dummy` token, 10 or 100 calls per
//!   hour with `Retry-After`, `cone/`, `query/`, `object/`, `sherlock/…`, `annotate/`, ZTF
//!   `lightcurves/`, LSST `annotatelist/`, each server's reply shapes and error bodies; a
//!   [`Service`] like the others ([`Service::Lasair`]: request log, faults).
//!
//! All of them serve one deterministic synthetic sky (see [`SkyConfig`]): a few hundred transients
//! * **Transient Name Server** — `POST` form routes (`api_key` + `data` JSON) behind a
//!   `tns_marker` User-Agent check (plain HTML 403 without it): `api/get/search`,
//!   `api/get/object`, `api/set/bulk-report` and `api/get/bulk-report-reply` (a report queue
//!   processed after [`TnsConfig::report_delay`]), the staged public-objects CSV zips, both
//!   quota header families with `id_code` 429s, and either envelope shape ([`TnsEnvelope`]).
//!
//! All four serve one deterministic synthetic sky (see [`SkyConfig`]): a few hundred transients
//! and variables, each with one physical model (a Bazin rise and decline per band for
//! supernovae, periodic or stochastic curves for variables), observed with each survey's cadence,
//! seasonal gaps, depth and noise. ALeRCE ZTF detections, ATLAS `lc`/`fp`, SkyPortal photometry
//! and forced photometry at the same position describe the same object. **All identifiers
//! (ZTF oids, 19-digit ATLAS ids, 64-bit LSST ids, TNS names, SkyPortal tokens) are synthetic:**
//! they have the real formats but name nothing in the real sky.
//!
//! Faults can be configured per service ([`Faults`]: fractions of 500/502/503, 429 storms,
//! latency and jitter, resets mid-body, truncated bodies, HTML error pages, slow drip) or
//! scripted for the next requests ([`Sandbox::inject`]). Every request is recorded
//! ([`Sandbox::requests`]) so tests can assert that each write was applied exactly once.
//!
//! The sandbox is written from the services' documented behaviour and depends on none of the
//! workspace's client crates. `cargo xtask peer-check` runs the real Python clients
//! (`alerce==2.3.1`, `atlasapiclient==1.2.0`, and the forced-photometry example flow with
//! `requests`) against a standalone sandbox.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), broker_sandbox::SandboxError> {
//! use broker_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::builder().seed(7).objects(50).start().await?;
//! let urls = sandbox.urls();
//! assert!(urls.atlas.ends_with("/sne/atlas4/api/"));
//! assert!(urls.forcedphot.ends_with("/forcedphot"));
//! let creds = sandbox.credentials();
//! assert_eq!(creds.atlas.token.len(), 40);
//! // One known object, as each service names it:
//! let obj = &sandbox.objects()[0];
//! println!("{:?} {} {:?}", obj.ztf_oid, obj.atlas_id, obj.lsst_oid);
//! assert!(sandbox.requests().is_empty());
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Faults, limits and the request log
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), broker_sandbox::SandboxError> {
//! use broker_sandbox::{Fault, Faults, QueueConfig, RateLimits, Sandbox, Service, WindowLimit};
//! use std::time::Duration;
//!
//! let mut limits = RateLimits::default();
//! limits.forcedphot_writes = Some(WindowLimit::new(3, Duration::from_secs(60)));
//! let sandbox = Sandbox::builder()
//!     .objects(20)
//!     .limits(limits)
//!     .queue(QueueConfig { queue_delay: Duration::from_millis(50), ..Default::default() })
//!     .faults(Service::Alerce, Faults { error_rate: 0.1, latency: Duration::from_millis(5), ..Default::default() })
//!     .start()
//!     .await?;
//! sandbox.inject(Service::SkyPortal, Fault::ResetMidBody); // the next SkyPortal reply is cut
//! sandbox.throttle_storm(Service::Atlas, Duration::from_secs(30)); // 429s for 30 s (simulated)
//! sandbox.advance(Duration::from_secs(31)); // simulated time: queue, tokens, windows, expiry
//! // After a client run:
//! let posts = sandbox.applied_count(Service::SkyPortal, "POST", "/api/photometry");
//! assert_eq!(posts, 0);
//! for r in sandbox.requests_for(Service::ForcedPhot) {
//!     println!("{} {} -> {} (fault {:?}, handled {})", r.method, r.path, r.status, r.fault, r.handled);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Standalone: `cargo run -p broker-sandbox -- --port-base 8600 --seed 42` prints the URLs and
//! credentials (add `--json` for one machine-readable line; `--unlimited`,
//! `--fp-writes-per-min`, `--atlas-per-hour`, `--queue-delay-ms`, `--run-time-ms`,
//! `--catshtm-current`, `--fp-pa-deg` adjust it).
//!
//! # Request log over HTTP
//!
//! Every service's port also serves [`ADMIN_REQUESTS_PATH`] (`/__sandbox/requests`), a path no
//! emulated service uses, so standalone users can inspect what their client sent:
//!
//! * `GET /__sandbox/requests` → `{"service", "count", "requests": [{seq, service, method, path,
//!   query, content_type, authorization, body, at_ms, status, handled, applied, fault}]}` for
//!   the service on that port; `?service=<alerce|atlas|skyportal|forcedphot|fink|all>` picks
//!   another or all, `?since=<seq>` skips older entries;
//! * `DELETE /__sandbox/requests` clears the whole log.
//!
//! Admin requests are neither logged nor faulted, and need no credentials.
//!
//! # Peer check
//!
//! `cargo xtask peer-check` (needs PyPI) creates `target/peer-venv`, installs `alerce==2.3.1`,
//! `atlasapiclient==1.2.0` and `requests`, starts a standalone sandbox and runs
//! `xtask/peer/peer_check.py`. `PEER_VENV=<dir>` reuses another venv and
//! `PEER_SKIP_INSTALL=1` skips the pip step. It is not part of `.ci/run`.
//!
//! # Known simplifications
//!
//! The sandbox has one user per role, a fixed catalogue of ALeRCE classifiers
//! (`lc_classifier`/`hierarchical_random_forest_1.1.0`, `stamp_classifier`), and no IMGZIP
//! tasks or images in forced photometry (tasks given by `mpc_name` finish with "No data
//! returned"). ALeRCE has no documented rate limit; its injected 429 is a load-balancer HTML
//! page with `Retry-After`. In SkyPortal, every write is authored by the admin user and groups
//! are the three fixed ones (row-level visibility is not modelled: every token sees every
//! row); follow-up requests are stored, never submitted to a facility; comment attachments are
//! stored but not served (`…/attachment` is not emulated); spectra bulk upload, `synthphot`,
//! `range`, classification votes and skymap upload are not emulated and answer
//! `400 "Invalid API endpoint"` like any unknown route; GCN events and localizations are
//! read-only (writes answer 405).

// Handlers return axum `Response`s as their error type: the error *is* the reply.
#![allow(clippy::result_large_err)]

mod alerce;
mod atlas;
mod clock;
mod config;
mod fink;
mod fits;
mod forcedphot;
mod lasair;
mod log;
mod middleware;
mod rng;
mod sandbox;
mod sky;
mod skyportal;
mod state;
mod throttle;
mod tns;
mod util;

pub use config::{
    BucketLimit, CatsHtmFormat, Fault, Faults, QueueConfig, RateLimits, SandboxConfig, Service, SkyConfig, TnsConfig,
    TnsEnvelope, WindowLimit,
};
pub use log::{ADMIN_REQUESTS_PATH, LoggedRequest};
pub use sandbox::{
    AlerceUrls, AtlasCredentials, Credentials, ForcedPhotCredentials, ObjectInfo, Sandbox, SandboxBuilder,
    SandboxError, SandboxUrls, SkyPortalCredentials, TnsCredentials,
};
pub use sandbox::{LasairCredentials, LasairUrls};
