//! [`AtlasClient`] and its builder: base URL, token (builder, environment, YAML file),
//! refresh credentials, retry, the client-side rate limit, chunking defaults.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use broker_core::ratelimit::credential_id;
use broker_core::{
    AvailableInHint, ClientOptions, Error, ExposeSecret, HttpClient, HttpClientBuilder, Quota, Request, Response,
    Result, RetryPolicy, RetrySafety, SecretString,
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::auth::{AtlasAuth, Credentials, TokenHook, validate_token};
use crate::config::AtlasConfigFile;
use crate::models::TokenInfo;

/// The production base URL of the ATLAS Transient Server API.
pub const DEFAULT_BASE_URL: &str = "https://psweb.mp.qub.ac.uk/sne/atlas4/api/";
/// The environment variable holding the API token.
pub const ENV_TOKEN: &str = "ATLAS_API_TOKEN";
/// The environment variable holding the base URL.
pub const ENV_BASE_URL: &str = "ATLAS_API_URL";
/// The environment variable naming the `atlasapiclient` YAML config file.
pub const ENV_CONFIG: &str = "ATLAS_API_CONFIG";

/// Default ids per `objects/` request in bulk reads.
///
/// The server accepts up to 50,000 ids per request but allows only 100 requests per hour
/// per user, and a request may run for at most 600 s: 1,000 ids per request keeps each
/// request well inside the time limit while reading 100,000 sources an hour.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;
/// The server's cap on ids per `objects/` request.
pub const SERVER_MAX_IDS: usize = 50_000;
/// Default number of bulk requests in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 2;
/// The server's throttle for ordinary users: 100 requests per hour over all endpoints.
pub const DEFAULT_REQUESTS_PER_HOUR: u32 = 100;
/// Time allowed for one attempt of an ordinary request unless the builder sets another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest cone radius the server accepts, in arcsec.
pub const MAX_CONE_RADIUS_ARCSEC: f64 = 300.0;

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds an [`AtlasClient`].
///
/// Settings are resolved as: builder > environment (after [`Self::from_env`]) > config file.
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]. Here the default timeout is
/// [`DEFAULT_TIMEOUT`] (120 s) for ordinary requests ([`Self::objects_timeout`] for
/// `objects/`), and the default retry policy is [`AtlasClient::default_retry_policy`].
pub struct AtlasClientBuilder {
    base_url: Option<String>,
    token: Option<SecretString>,
    config_path: Option<PathBuf>,
    credentials: Option<Credentials>,
    env: Option<EnvLookup>,
    options: ClientOptions,
    chunk_size: usize,
    concurrency: usize,
    objects_timeout: Duration,
    hook: Option<TokenHook>,
}

broker_core::client_options_setters!(AtlasClientBuilder, options, rate_limit);

impl fmt::Debug for AtlasClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlasClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("config_path", &self.config_path)
            .field("username", &self.credentials.as_ref().map(|c| c.username.as_str()))
            .field("chunk_size", &self.chunk_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Default for AtlasClientBuilder {
    fn default() -> Self {
        AtlasClientBuilder {
            base_url: None,
            token: None,
            config_path: None,
            credentials: None,
            env: None,
            options: ClientOptions::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            objects_timeout: Duration::from_secs(600),
            hook: None,
        }
    }
}

impl AtlasClientBuilder {
    /// The API base URL (default [`DEFAULT_BASE_URL`]); a missing trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// The API token (sent as `Authorization: Token <token>`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }
    /// The `atlasapiclient` YAML config file (`token`, `base_url`): read now, and written
    /// back (mode 0600, other keys kept) when the token is refreshed.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_path = Some(path.into());
        self
    }
    /// Username and password for refreshing an expired token at `auth-token/`
    /// (automatically after a 401 "Token has expired.", then the request is retried once).
    /// Without a token, the first request logs in with them.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials =
            Some(Credentials { username: username.into(), password: SecretString::from(password.into()) });
        self
    }
    /// Reads `ATLAS_API_TOKEN`, `ATLAS_API_URL` and `ATLAS_API_CONFIG` (a config file path)
    /// from the process environment, below anything set on the builder.
    pub fn from_env(self) -> Self {
        self.env_lookup(|k| std::env::var(k).ok())
    }
    /// Like [`Self::from_env`] with another lookup (for tests and embedding).
    pub fn env_lookup(mut self, f: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Some(Arc::new(f));
        self
    }
    /// The client-side limit in requests per hour, shared by every client with the same
    /// base URL and credential in this process (default 100, the server's limit for
    /// ordinary users; 0 turns it off, e.g. for staff accounts). Shorthand for
    /// `rate_limit(Quota::per_hour(n))` / `no_rate_limit()`; see also `rate_limiter`.
    pub fn requests_per_hour(self, n: u32) -> Self {
        if n == 0 { self.no_rate_limit() } else { self.rate_limit(Quota::per_hour(n)) }
    }
    /// Default ids per `objects/` request for bulk reads (default [`DEFAULT_CHUNK_SIZE`]).
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk_size = n;
        self
    }
    /// Default bulk requests in flight (default [`DEFAULT_CONCURRENCY`]).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }
    /// Time allowed for one attempt of an `objects/` request (default 600 s, the server's
    /// own limit).
    pub fn objects_timeout(mut self, d: Duration) -> Self {
        self.objects_timeout = d;
        self
    }
    /// Called with every new token from `auth-token/` (after it was written to the config
    /// file, if any), e.g. to store it in a keyring.
    pub fn on_new_token(mut self, hook: impl Fn(&SecretString) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Builds the client. Fails with [`Error::Config`] when no token (and no credentials)
    /// can be found, the config file cannot be read, or the base URL is invalid.
    pub fn build(self) -> Result<AtlasClient> {
        let env =
            |k: &str| self.env.as_ref().and_then(|f| f(k)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if self.chunk_size == 0 || self.chunk_size > SERVER_MAX_IDS {
            return Err(Error::invalid(
                "chunk_size",
                format!("{} is not valid: use 1 to {SERVER_MAX_IDS} ids per request", self.chunk_size),
            ));
        }
        if self.concurrency == 0 {
            return Err(Error::invalid("concurrency", "use at least 1 request in flight"));
        }
        let config_path = self.config_path.clone().or_else(|| env(ENV_CONFIG).map(PathBuf::from));
        let file = match &config_path {
            Some(p) => Some(AtlasConfigFile::load(p)?),
            None => None,
        };
        let token = self
            .token
            .clone()
            .or_else(|| env(ENV_TOKEN).map(SecretString::from))
            .or_else(|| file.as_ref().map(|f| f.token().clone()));
        let base = self
            .base_url
            .clone()
            .or_else(|| env(ENV_BASE_URL))
            .or_else(|| file.as_ref().and_then(|f| f.base_url().map(str::to_string)))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        if let Some(t) = &token {
            validate_token(t.expose_secret().trim())?;
        } else if self.credentials.is_none() {
            return Err(Error::Config(format!(
                "no ATLAS API token: pass one to AtlasClientBuilder::token, set {ENV_TOKEN}, \
                 or point to your atlasapiclient config file (config_file or {ENV_CONFIG})"
            )));
        }
        let token = token.map(|t| SecretString::from(t.expose_secret().trim().to_string()));

        // Ordinary requests get 120 s unless the user set a timeout; `auth-token/` is never
        // retried (a login is sent once; the caller's request is what gets retried).
        let with_defaults = |b: HttpClientBuilder| {
            self.options.apply(b.timeout(DEFAULT_TIMEOUT).retry(AtlasClient::default_retry_policy()))
        };
        let login = with_defaults(HttpClient::builder(base.clone())).retry(RetryPolicy::none()).build()?;
        let base_url = login.base_url().to_string();

        let cred = match (&token, &self.credentials) {
            (Some(t), _) => credential_id(t.expose_secret()),
            (None, Some(c)) => credential_id(&format!("{base_url}\u{0}{}", c.username)),
            (None, None) => String::new(),
        };
        let auth = Arc::new(AtlasAuth::new(token, config_path, self.credentials, login, self.hook, cred.clone()));

        let mut http = with_defaults(HttpClient::builder(base_url.clone()))
            .auth_arc(auth.clone())
            .default_header(reqwest::header::ACCEPT, reqwest::header::HeaderValue::from_static("application/json"));
        let limiter = self
            .options
            .limiter(|| format!("atlas:{base_url}:{cred}"), Some(Quota::per_hour(DEFAULT_REQUESTS_PER_HOUR)));
        if let Some(limiter) = limiter {
            http = http.rate_limit("atlas", limiter).default_bucket("atlas");
        }
        let http = http.build()?;
        Ok(AtlasClient {
            inner: Arc::new(Inner {
                http,
                auth,
                chunk_size: self.chunk_size,
                concurrency: self.concurrency,
                objects_timeout: self.objects_timeout,
            }),
        })
    }
}

/// A client for the ATLAS Transient Server API. Cheap to clone.
///
/// Every call is `POST <base>/<endpoint>/` with a form-encoded body and
/// `Authorization: Token <key>`. Reads are retried on 5xx and timeouts; writes only when
/// the server certainly did not act (429). All requests share a client-side limit of 100
/// per hour (the server's own throttle), and a 429's `Retry-After` is honoured.
#[derive(Clone)]
pub struct AtlasClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: HttpClient,
    pub(crate) auth: Arc<AtlasAuth>,
    pub(crate) chunk_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) objects_timeout: Duration,
}

impl fmt::Debug for AtlasClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlasClient")
            .field("http", &self.inner.http)
            .field("chunk_size", &self.inner.chunk_size)
            .field("concurrency", &self.inner.concurrency)
            .finish()
    }
}

impl AtlasClient {
    /// Starts a builder.
    pub fn builder() -> AtlasClientBuilder {
        AtlasClientBuilder::default()
    }

    /// A client configured from the environment (`ATLAS_API_TOKEN`, `ATLAS_API_URL`,
    /// `ATLAS_API_CONFIG`).
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env().build()
    }

    /// A client configured from an `atlasapiclient` YAML config file.
    pub fn from_config_file(path: impl Into<PathBuf>) -> Result<Self> {
        Self::builder().config_file(path).build()
    }

    /// The retry policy used unless another is given: 5 attempts; 429 waits read from
    /// `Retry-After` or the body ("Expected available in N seconds"), up to an hour (the
    /// server's window); 3 hours in all.
    pub fn default_retry_policy() -> RetryPolicy {
        RetryPolicy::default()
            .hint(AvailableInHint)
            .max_server_wait(Duration::from_secs(3600))
            .max_elapsed(Duration::from_secs(3 * 3600))
            .backoff(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &url::Url {
        self.inner.http.base_url()
    }

    /// The underlying HTTP client (for endpoints this crate does not cover yet).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// Gets a token for `username` from `auth-token/` and uses it from now on; it is
    /// written back to the config file when the client has one. If the current token has
    /// not expired the server returns the same token (`refreshed: false`).
    pub async fn refresh_token(&self, username: &str, password: impl Into<String>) -> Result<TokenInfo> {
        let password = SecretString::from(password.into());
        if password.expose_secret().is_empty() {
            return Err(Error::invalid("password", "the password is empty"));
        }
        self.inner.auth.refresh_with(username, &password).await
    }

    /// A read request: `POST <path>`, retry-safe, not a write.
    pub(crate) fn read(path: &str) -> Request {
        Request::post(path).retry_safety(RetrySafety::Safe).writes(false)
    }

    /// A write request: `POST <path>`, not retried unless the server did not act.
    pub(crate) fn write(path: &str) -> Request {
        Request::post(path).retry_safety(RetrySafety::Unsafe).writes(true)
    }

    /// An idempotent write: `POST <path>`, a write (logs show `write=true`) that is safe to
    /// retry, because sending it twice leaves the same state as sending it once (`vrarank/`
    /// upserts the one rank row of an object; `objectdetectionlist/` sets an object's list).
    pub(crate) fn idempotent_write(path: &str) -> Request {
        Request::post(path).retry_safety(RetrySafety::Safe).writes(true)
    }

    /// Sends a request; a 403 becomes a clear permission error.
    pub(crate) async fn send(&self, req: Request) -> Result<Response> {
        self.inner.http.execute(req).await.map_err(map_forbidden)
    }

    /// Sends a read whose reply is decoded while it arrives (see
    /// [`broker_core::HttpClient::execute_decoding`]).
    pub(crate) async fn send_decoding<T: Send + 'static>(
        &self,
        req: Request,
        decode: broker_core::BodyDecoder<T>,
    ) -> Result<broker_core::Decoded<T>> {
        self.inner.http.execute_decoding(req, decode).await.map_err(map_forbidden)
    }
}

/// A 403 means the token's user may read but not write.
pub(crate) fn map_forbidden(e: Error) -> Error {
    match e {
        Error::Http(h) if h.status == 403 => {
            let said = h.message.clone().unwrap_or_else(|| "permission denied".into());
            Error::Auth {
                status: Some(403),
                message: format!(
                    "{said} (no write permission: writes need a user in the `api_write_access` group, \
                     and every call an approved account; ask the ATLAS team)"
                ),
            }
        }
        other => other,
    }
}

/// `True` / `False`, as the Python client sends booleans.
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Checks that a number is finite.
pub(crate) fn finite(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() { Ok(v) } else { Err(Error::invalid(field, format!("{v} is not a finite number"))) }
}

/// A date (or date-time) threshold, sent as `YYYY-MM-DD` or RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateThreshold {
    /// A date (UTC midnight on the server).
    Date(NaiveDate),
    /// A date-time.
    DateTime(DateTime<Utc>),
}

impl DateThreshold {
    /// Parses `YYYY-MM-DD` or an RFC 3339 date-time.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(DateThreshold::Date(d));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(DateThreshold::DateTime(dt.with_timezone(&Utc)));
        }
        Err(Error::invalid("datethreshold", format!("{t:?} is not a date: use YYYY-MM-DD or an RFC 3339 date-time")))
    }
    /// `days` days before today (UTC), as `atlasapiclient` main uses by default (100).
    pub fn days_ago(days: u32) -> Self {
        let d = Utc::now().date_naive() - chrono::Days::new(u64::from(days));
        DateThreshold::Date(d)
    }
    /// The form value.
    pub fn to_form(&self) -> String {
        match self {
            DateThreshold::Date(d) => d.format("%Y-%m-%d").to_string(),
            DateThreshold::DateTime(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }
}

impl From<NaiveDate> for DateThreshold {
    fn from(d: NaiveDate) -> Self {
        DateThreshold::Date(d)
    }
}

impl From<DateTime<Utc>> for DateThreshold {
    fn from(t: DateTime<Utc>) -> Self {
        DateThreshold::DateTime(t)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn date_thresholds() {
        assert_eq!(DateThreshold::parse("2024-02-22").unwrap().to_form(), "2024-02-22");
        assert_eq!(DateThreshold::parse("2024-02-22T10:00:00+01:00").unwrap().to_form(), "2024-02-22T09:00:00Z");
        assert!(DateThreshold::parse("22/02/2024").is_err());
        assert_eq!(DateThreshold::days_ago(0).to_form(), Utc::now().date_naive().format("%Y-%m-%d").to_string());
    }
}
