//! [`FinkClient`], its builder, the [`Survey`] switch (broker-core's) and the shared request plumbing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use broker_core::http::{decode_json, replace_nonfinite_json};
use broker_core::{ClientOptions, Error, HttpClient, NoAuth, Request, Response, Result, RetrySafety};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Default Fink/ZTF API (`https://api.ztf.fink-portal.org`).
pub const DEFAULT_ZTF_URL: &str = "https://api.ztf.fink-portal.org/";
/// Default Fink/LSST API (`https://api.lsst.fink-portal.org`).
pub const DEFAULT_LSST_URL: &str = "https://api.lsst.fink-portal.org/";
/// Environment variables read by [`FinkClientBuilder::from_env`].
pub const ENV_VARS: [&str; 2] = ["FINK_URL", "FINK_LSST_URL"];

/// The server cuts a query at about 120 s and answers 504; the client waits a little longer
/// than that for one attempt so that the server's own answer arrives.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(150);

/// Which Fink API: both are served by one code base (fink-object-api `app_ztf.py`,
/// `app_lsst.py`) but their routes and columns differ. Fink/ZTF columns are `i:` (ZTF),
/// `d:` (Fink), `v:`, `b:`; Fink/LSST columns `r:` (Rubin), `f:` (Fink), `v:`, `b:`.
pub use broker_core::Survey;

/// The `output-format` of the tabular routes (`send_tabular_data` in fink-object-api
/// `apps/utils/utils.py`). Content types are the server's own: `application/json`,
/// `application/csv`, `parquet`, `text/xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// pandas `to_json(orient="records")`: an array of row objects (the default).
    Json,
    /// pandas `to_csv(index=False)`.
    Csv,
    /// pandas `to_parquet`.
    Parquet,
    /// astropy VOTable.
    Votable,
}

impl OutputFormat {
    /// The value sent as `output-format`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Json => "json",
            OutputFormat::Csv => "csv",
            OutputFormat::Parquet => "parquet",
            OutputFormat::Votable => "votable",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(OutputFormat::Json),
            "csv" => Ok(OutputFormat::Csv),
            "parquet" => Ok(OutputFormat::Parquet),
            "votable" => Ok(OutputFormat::Votable),
            other => Err(Error::invalid(
                "output-format",
                format!("{other:?} is not a Fink output format: use json, csv, parquet or votable"),
            )),
        }
    }
}

/// Builds a [`FinkClient`]. Fink's REST APIs need no credentials.
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]. Defaults: the core's retry
/// policy (the reads are POSTs marked retry-safe, so 503 overload and 504 "query cut at
/// about 120 s" replies are retried with its backoff, as the Fink docs advise), and a
/// per-attempt timeout of [`DEFAULT_TIMEOUT`]. `rate_limit`, `rate_limiter` and
/// `no_rate_limit` (also from the core) set a client-side limit shared by both APIs; there is
/// none by default (Fink documents no limit; set one to keep bulk work polite).
pub struct FinkClientBuilder {
    ztf: String,
    lsst: String,
    options: ClientOptions,
}

broker_core::client_options_setters!(FinkClientBuilder, options, rate_limit);

impl fmt::Debug for FinkClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FinkClientBuilder").field("ztf", &self.ztf).field("lsst", &self.lsst).finish_non_exhaustive()
    }
}

impl Default for FinkClientBuilder {
    fn default() -> Self {
        FinkClientBuilder {
            ztf: DEFAULT_ZTF_URL.into(),
            lsst: DEFAULT_LSST_URL.into(),
            options: ClientOptions::default(),
        }
    }
}

impl FinkClientBuilder {
    /// The Fink/ZTF API base (default [`DEFAULT_ZTF_URL`]); routes are `api/v1/...` below it.
    pub fn ztf_url(mut self, url: impl Into<String>) -> Self {
        self.ztf = url.into();
        self
    }
    /// The Fink/LSST API base (default [`DEFAULT_LSST_URL`]).
    pub fn lsst_url(mut self, url: impl Into<String>) -> Self {
        self.lsst = url.into();
        self
    }
    /// Points both surveys at one emulator: `<root>/ztf/` and `<root>/lsst/` (the layout of
    /// the `broker-sandbox` Fink emulator).
    pub fn host(mut self, root: &str) -> Self {
        let r = root.trim_end_matches('/');
        self.ztf = format!("{r}/ztf/");
        self.lsst = format!("{r}/lsst/");
        self
    }
    /// Reads `FINK_URL` (ZTF) and `FINK_LSST_URL` ([`ENV_VARS`]), keeping the current value
    /// for each variable that is unset or empty.
    pub fn from_env(mut self) -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = get("FINK_URL") {
            self.ztf = v;
        }
        if let Some(v) = get("FINK_LSST_URL") {
            self.lsst = v;
        }
        self
    }
    /// Builds the client; fails on a malformed base URL.
    pub fn build(self) -> Result<FinkClient> {
        let limiter = self.options.limiter(|| "fink:anonymous".into(), None);
        let make = |base: &str| -> Result<HttpClient> {
            let base = if base.ends_with('/') { base.to_string() } else { format!("{base}/") };
            let mut b = self.options.apply(HttpClient::builder(base).timeout(DEFAULT_TIMEOUT)).auth(NoAuth);
            if let Some(l) = &limiter {
                b = b.rate_limit("fink", l.clone()).default_bucket("fink");
            }
            b.build()
        };
        Ok(FinkClient { inner: Arc::new(Inner { ztf: make(&self.ztf)?, lsst: make(&self.lsst)? }) })
    }
}

/// A client for the Fink REST APIs of both surveys. Cheap to clone.
///
/// Survey-specific routes live on [`FinkClient::ztf`] ([`crate::ztf::Ztf`]: objects with upper
/// limits, latests by class, classes) and [`FinkClient::lsst`] ([`crate::lsst::Lsst`]: sources,
/// objects, forced photometry, tags); the routes both surveys have take a [`Survey`]
/// ([`FinkClient::conesearch`], [`FinkClient::cutout`], [`FinkClient::sso`],
/// [`FinkClient::resolver`], [`FinkClient::schema`], [`FinkClient::lightcurve`]).
#[derive(Clone)]
pub struct FinkClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) ztf: HttpClient,
    pub(crate) lsst: HttpClient,
}

impl fmt::Debug for FinkClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FinkClient").field("ztf", &self.inner.ztf).field("lsst", &self.inner.lsst).finish()
    }
}

impl FinkClient {
    /// A client for the public production APIs.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }
    /// Starts a builder.
    pub fn builder() -> FinkClientBuilder {
        FinkClientBuilder::default()
    }
    /// The HTTP client of one survey.
    pub fn http(&self, survey: Survey) -> &HttpClient {
        match survey {
            Survey::Ztf => &self.inner.ztf,
            Survey::Lsst => &self.inner.lsst,
        }
    }
}

/// A JSON body under construction: only the parameters that were set are sent, under the
/// server's own (often hyphenated) names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Payload(pub(crate) Map<String, Value>);

impl Payload {
    pub(crate) fn new() -> Self {
        Payload(Map::new())
    }
    pub(crate) fn set(&mut self, key: &str, v: impl Into<Value>) {
        self.0.insert(key.to_string(), v.into());
    }
    pub(crate) fn opt(&mut self, key: &str, v: Option<impl Into<Value>>) {
        if let Some(v) = v {
            self.set(key, v);
        }
    }
}

/// A retry-safe `POST api/v1/<route>` with a JSON body (every Fink read is a POST).
pub(crate) fn post(route: &str, payload: &Payload) -> Request {
    Request::post(format!("api/v1/{route}")).retry_safety(RetrySafety::Safe).json(&payload.0)
}

/// A retry-safe `GET api/v1/<route>` without arguments.
pub(crate) fn get(route: &str) -> Request {
    Request::get(format!("api/v1/{route}"))
}

/// Decodes a JSON reply (NaN/Infinity read as null, as pandas may write them).
pub(crate) fn decode<T: DeserializeOwned>(resp: &Response) -> Result<T> {
    let body = replace_nonfinite_json(&resp.body);
    decode_json(&body, &resp.url)
}

/// Sends and decodes a JSON reply.
pub(crate) async fn send_json<T: DeserializeOwned>(http: &HttpClient, req: Request) -> Result<T> {
    let resp = http.execute(req).await?;
    decode(&resp)
}

/// Comma-joins ids for `objectId` / `diaObjectId`, rejecting an empty list or an empty id.
pub(crate) fn join_ids<I, S>(field: &str, ids: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    for id in ids {
        let id = id.as_ref().trim();
        if id.is_empty() || id.contains(',') {
            return Err(Error::invalid(field, format!("{id:?} is not an id: give non-empty ids without commas")));
        }
        out.push(id.to_string());
    }
    if out.is_empty() {
        return Err(Error::invalid(field, "give at least one id"));
    }
    Ok(out.join(","))
}
