//! [`LasairClient`], its builder, and the per-server handles [`Ztf`] and [`Lsst`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use broker_core::ratelimit::{Quota, credential_id};
use broker_core::{
    ClientOptions, ExposeSecret, HeaderToken, HttpClient, NoAuth, Request, RetryPolicy, RetrySafety, SecretString,
};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ids::Survey;

/// Default Lasair-ZTF API base (the Python client's `endpoint`, `lasair/lasair.py`).
pub const DEFAULT_ZTF_URL: &str = "https://lasair-ztf.lsst.ac.uk/api/";
/// Default Lasair-LSST API base (`lasair-lsst/docs/source/core_functions/rest-api.md`).
pub const DEFAULT_LSST_URL: &str = "https://api.lasair.lsst.ac.uk/api/";

/// Environment variables read by [`LasairClientBuilder::from_env`].
///
/// - `LASAIR_URL`: the ZTF server's API base;
/// - `LASAIR_LSST_URL`: the LSST server's API base;
/// - `LASAIR_TOKEN`: the API token, sent to both servers unless `LASAIR_LSST_TOKEN` is set;
/// - `LASAIR_LSST_TOKEN`: a separate token for the LSST server (the two servers are
///   separate systems with separate accounts and tokens).
pub const ENV_VARS: [&str; 4] = ["LASAIR_URL", "LASAIR_LSST_URL", "LASAIR_TOKEN", "LASAIR_LSST_TOKEN"];

/// Which class of account a token belongs to, which sets the server's hourly call limit
/// and the largest `limit` a `query/` may ask for.
///
/// From the servers' settings (`deploy/roles/webserver/templates/settings.py.j2`:
/// `ANON_THROTTLE_RATES` 10/hour for the shared `dummy` user, `USER_THROTTLE_RATES`
/// 100/hour, `POWER_THROTTLE_RATES` 10000/hour for the `powerapi` group; see
/// `webserver/lasairapi/throttle.py::UserClassRateThrottle`) and the query row caps in
/// `webserver/lasairapi/serializers.py::QuerySerializer` (1,000 for `dummy`, 10,000 for
/// a user, 1,000,000 for `powerapi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserClass {
    /// The shared token printed in the documentation (user `dummy`): 10 calls an hour,
    /// 1,000 query rows.
    Dummy,
    /// A personal token: 100 calls an hour, 10,000 query rows.
    #[default]
    User,
    /// A token in the `powerapi` group: 10,000 calls an hour, 1,000,000 query rows.
    Power,
}

impl UserClass {
    /// Calls per hour the server allows this class.
    pub fn calls_per_hour(self) -> u32 {
        match self {
            UserClass::Dummy => 10,
            UserClass::User => 100,
            UserClass::Power => 10_000,
        }
    }
    /// The most rows one `query/` call returns for this class (the server clamps
    /// `limit` to it silently).
    pub fn max_query_rows(self) -> u64 {
        match self {
            UserClass::Dummy => 1_000,
            UserClass::User => 10_000,
            UserClass::Power => 1_000_000,
        }
    }
    /// The client-side quota matching the server's throttle.
    pub fn quota(self) -> Quota {
        Quota::per_hour(self.calls_per_hour())
    }
}

impl std::str::FromStr for UserClass {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dummy" | "anon" => Ok(UserClass::Dummy),
            "user" => Ok(UserClass::User),
            "power" | "powerapi" => Ok(UserClass::Power),
            other => Err(Error::invalid(
                "user class",
                format!("{other:?} is not a Lasair user class: use dummy, user or power"),
            )),
        }
    }
}

/// The longest the client waits for a slot of its own hourly quota before failing with
/// the core's `RateLimited { retry_after }` (nothing sent): one minute.
pub const DEFAULT_MAX_QUOTA_WAIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct ServerConfig {
    url: String,
    token: Option<SecretString>,
    class: UserClass,
}

/// Builds a [`LasairClient`]. Each server has its own base URL, token and user class.
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]. The default retry policy
/// is the core's with [`DEFAULT_MAX_QUOTA_WAIT`] as the longest client-side quota wait.
///
/// The client-side hourly quota of each server follows its [`UserClass`] (one bucket per
/// server and token, shared by every client in the process built with the same token: the
/// server counts calls per account). `rate_limit` (another quota for both servers),
/// `rate_limiter` (one limiter for both) and `no_rate_limit` (the server still throttles)
/// come from the core too.
pub struct LasairClientBuilder {
    ztf: ServerConfig,
    lsst: ServerConfig,
    options: ClientOptions,
}

broker_core::client_options_setters!(LasairClientBuilder, options, rate_limit);

impl fmt::Debug for LasairClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LasairClientBuilder")
            .field("ztf_url", &self.ztf.url)
            .field("ztf_token", &self.ztf.token.as_ref().map(|_| "[REDACTED]"))
            .field("ztf_user_class", &self.ztf.class)
            .field("lsst_url", &self.lsst.url)
            .field("lsst_token", &self.lsst.token.as_ref().map(|_| "[REDACTED]"))
            .field("lsst_user_class", &self.lsst.class)
            .finish_non_exhaustive()
    }
}

impl Default for LasairClientBuilder {
    fn default() -> Self {
        let server = |url: &str| ServerConfig { url: url.into(), token: None, class: UserClass::User };
        LasairClientBuilder {
            ztf: server(DEFAULT_ZTF_URL),
            lsst: server(DEFAULT_LSST_URL),
            options: ClientOptions::default(),
        }
    }
}

impl LasairClientBuilder {
    /// The ZTF server's API base (default [`DEFAULT_ZTF_URL`]); routes are appended with
    /// their trailing slash (`cone/`, `object/`).
    pub fn ztf_url(mut self, url: impl Into<String>) -> Self {
        self.ztf.url = url.into();
        self
    }
    /// The LSST server's API base (default [`DEFAULT_LSST_URL`]).
    pub fn lsst_url(mut self, url: impl Into<String>) -> Self {
        self.lsst.url = url.into();
        self
    }
    /// One token for both servers, sent as `Authorization: Token <token>`.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        let t = token.into();
        self.ztf.token = Some(t.clone());
        self.lsst.token = Some(t);
        self
    }
    /// The ZTF server's token.
    pub fn ztf_token(mut self, token: impl Into<SecretString>) -> Self {
        self.ztf.token = Some(token.into());
        self
    }
    /// The LSST server's token.
    pub fn lsst_token(mut self, token: impl Into<SecretString>) -> Self {
        self.lsst.token = Some(token.into());
        self
    }
    /// The account class of both tokens (default [`UserClass::User`]): sets the
    /// client-side hourly quota and the query page-size cap.
    pub fn user_class(mut self, class: UserClass) -> Self {
        self.ztf.class = class;
        self.lsst.class = class;
        self
    }
    /// The account class of the ZTF token.
    pub fn ztf_user_class(mut self, class: UserClass) -> Self {
        self.ztf.class = class;
        self
    }
    /// The account class of the LSST token.
    pub fn lsst_user_class(mut self, class: UserClass) -> Self {
        self.lsst.class = class;
        self
    }
    /// Reads base URLs and tokens from the environment ([`ENV_VARS`]), keeping the current
    /// value for each variable that is unset or empty.
    pub fn from_env(self) -> Self {
        self.from_env_with(|k| std::env::var(k).ok())
    }
    /// [`Self::from_env`] with another source of variables (for tests and config layers).
    pub fn from_env_with(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("LASAIR_URL") {
            self.ztf.url = v;
        }
        if let Some(v) = get("LASAIR_LSST_URL") {
            self.lsst.url = v;
        }
        if let Some(v) = get("LASAIR_TOKEN") {
            self = self.token(v);
        }
        if let Some(v) = get("LASAIR_LSST_TOKEN") {
            self.lsst.token = Some(SecretString::from(v));
        }
        self
    }

    /// Builds the client; fails on a malformed base URL.
    pub fn build(self) -> Result<LasairClient> {
        let retry = self.options.retry_or(RetryPolicy::default().max_limiter_wait(DEFAULT_MAX_QUOTA_WAIT));
        let make = |cfg: &ServerConfig, survey: Survey| -> Result<Api> {
            let mut url = cfg.url.trim().to_string();
            if !url.ends_with('/') {
                url.push('/');
            }
            let mut b = self.options.apply(HttpClient::builder(url.clone()).retry(retry.clone()));
            b = match &cfg.token {
                Some(t) => b.auth(HeaderToken::new("Token", t.clone())),
                None => b.auth(NoAuth),
            };
            // One bucket per server and token, shared by every client in the process built
            // with the same token: the server counts calls per account.
            let key = || {
                let who =
                    cfg.token.as_ref().map(|t| credential_id(t.expose_secret())).unwrap_or_else(|| "anonymous".into());
                format!("lasair:{}:{url}:{who}", survey.name())
            };
            if let Some(limiter) = self.options.limiter(key, Some(cfg.class.quota())) {
                b = b.rate_limit("lasair", limiter).default_bucket("lasair");
            }
            Ok(Api { http: b.build()?, survey, class: cfg.class })
        };
        Ok(LasairClient {
            inner: Arc::new(Inner { ztf: make(&self.ztf, Survey::Ztf)?, lsst: make(&self.lsst, Survey::Lsst)? }),
        })
    }
}

/// A client for both Lasair servers: [`LasairClient::ztf`] and [`LasairClient::lsst`].
/// Cheap to clone.
#[derive(Clone)]
pub struct LasairClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) ztf: Api,
    pub(crate) lsst: Api,
}

/// One server: its HTTP client, survey and account class.
pub(crate) struct Api {
    pub(crate) http: HttpClient,
    pub(crate) survey: Survey,
    pub(crate) class: UserClass,
}

impl fmt::Debug for LasairClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LasairClient").field("ztf", &self.inner.ztf.http).field("lsst", &self.inner.lsst.http).finish()
    }
}

impl LasairClient {
    /// A client for the public servers, without a token (every Lasair route needs one:
    /// set it with [`LasairClientBuilder::token`] or `LASAIR_TOKEN`).
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }
    /// Starts a builder.
    pub fn builder() -> LasairClientBuilder {
        LasairClientBuilder::default()
    }
    /// The ZTF server (`lsst-uk/lasair4`).
    pub fn ztf(&self) -> Ztf<'_> {
        Ztf { api: &self.inner.ztf }
    }
    /// The LSST server (`lsst-uk/lasair-lsst`).
    pub fn lsst(&self) -> Lsst<'_> {
        Lsst { api: &self.inner.lsst }
    }
    /// The HTTP client of one server (for its base URL, clock and quota bucket).
    pub fn http(&self, survey: Survey) -> &HttpClient {
        &self.api(survey).http
    }
    pub(crate) fn api(&self, survey: Survey) -> &Api {
        match survey {
            Survey::Ztf => &self.inner.ztf,
            Survey::Lsst => &self.inner.lsst,
        }
    }
}

/// The Lasair-ZTF server. Get it with [`LasairClient::ztf`].
#[derive(Clone, Copy)]
pub struct Ztf<'a> {
    pub(crate) api: &'a Api,
}

/// The Lasair-LSST server. Get it with [`LasairClient::lsst`].
#[derive(Clone, Copy)]
pub struct Lsst<'a> {
    pub(crate) api: &'a Api,
}

impl fmt::Debug for Ztf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ztf").field("http", &self.api.http).finish()
    }
}

impl fmt::Debug for Lsst<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lsst").field("http", &self.api.http).finish()
    }
}

/// A read: a form POST, as the Python client sends every call
/// (`lasair.py::fetch_from_server`), safe to retry (the servers answer GET and POST alike).
pub(crate) fn read(path: &str) -> Request {
    Request::post(path).retry_safety(RetrySafety::Safe)
}

/// How DRF's `BooleanField` is sent (the Python client's `True`/`False`).
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

impl Api {
    /// Sends a request and decodes the JSON reply (the servers set `STRICT_JSON: False`, so
    /// `NaN` and `Infinity` tokens are read as null).
    pub(crate) async fn send<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        Ok(send_core(&self.http, req).await?)
    }
}

/// [`Api::send`] with the core error type (for paginators).
pub(crate) async fn send_core<T: DeserializeOwned>(http: &HttpClient, req: Request) -> broker_core::Result<T> {
    let resp = http.execute(req).await?;
    broker_core::http::decode_json_lenient(&resp.body, &resp.url)
}
