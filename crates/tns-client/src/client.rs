//! The client, its builder, the identities and the request/envelope plumbing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use broker_core::auth::{Auth, AuthContext, AuthStamp};
use broker_core::http::header::HeaderMap;
use broker_core::ratelimit::{credential_id, server_quota_for};
use broker_core::{ClientOptions, ExposeSecret, HttpClient, Request, Response, SecretString, ServerQuota};
use serde::Serialize;

use crate::error::{Error, Result, id_code_of};

/// The production server.
pub const DEFAULT_URL: &str = "https://www.wis-tns.org/";
/// The TNS sandbox (for trying reports).
pub const SANDBOX_URL: &str = "https://sandbox.wis-tns.org/";

/// The environment variables [`TnsClientBuilder::from_env`] reads.
pub const ENV_VARS: [&str; 6] =
    ["TNS_URL", "TNS_API_KEY", "TNS_BOT_ID", "TNS_BOT_NAME", "TNS_USER_ID", "TNS_USER_NAME"];

/// The name of the general server quota (`x-rate-limit-*` headers), drawn by every request.
pub const GENERAL_QUOTA: &str = "general";
/// The name of the cone-search server quota (`x-cone-rate-limit-*` headers), drawn by
/// searches with a position.
pub const CONE_QUOTA: &str = "cone";

/// Who is calling: TNS wants the id and name in a `tns_marker` User-Agent on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A bot (`"type":"bot"`, its `tns_id` and name), the usual identity of API keys.
    Bot {
        /// The bot's TNS id.
        id: u64,
        /// The bot's name.
        name: String,
    },
    /// A personal key (`"type":"user"`, the user id and name).
    User {
        /// The user's TNS id.
        id: u64,
        /// The user's name.
        name: String,
    },
}

impl Identity {
    /// A bot identity.
    pub fn bot(id: u64, name: impl Into<String>) -> Self {
        Identity::Bot { id, name: name.into() }
    }
    /// A user identity.
    pub fn user(id: u64, name: impl Into<String>) -> Self {
        Identity::User { id, name: name.into() }
    }

    /// The User-Agent: `tns_marker{"tns_id":<id>,"type":"bot","name":"<name>"}` (compact
    /// JSON, the id a number, the name JSON-escaped).
    pub fn marker(&self) -> String {
        let (id, kind, name) = match self {
            Identity::Bot { id, name } => (id, "bot", name),
            Identity::User { id, name } => (id, "user", name),
        };
        let json = serde_json::json!({"tns_id": id, "type": kind, "name": name});
        format!("tns_marker{json}")
    }

    fn check(&self) -> Result<()> {
        let name = match self {
            Identity::Bot { name, .. } | Identity::User { name, .. } => name,
        };
        if name.trim().is_empty() {
            return Err(Error::invalid("name", "the bot or user name must not be empty"));
        }
        if !name.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(Error::invalid(
                "name",
                format!("{name:?} cannot go in a User-Agent header: use printable ASCII characters"),
            ));
        }
        Ok(())
    }
}

/// The api key: sent as the `api_key` form field (never in a header or URL); it makes the
/// core refuse plain http to remote hosts and keys the per-credential state.
struct ApiKeyAuth {
    key: SecretString,
}

impl fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyAuth([REDACTED])")
    }
}

#[async_trait]
impl Auth for ApiKeyAuth {
    async fn apply(&self, _ctx: &AuthContext<'_>, _headers: &mut HeaderMap) -> broker_core::Result<AuthStamp> {
        Ok(AuthStamp::default())
    }
    fn credential_id(&self) -> Option<String> {
        Some(credential_id(self.key.expose_secret()))
    }
}

/// Builds a [`TnsClient`].
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]; the user agent is always
/// replaced by the `tns_marker` TNS requires. TNS announces its quotas in its replies and the
/// client waits for them; `rate_limit`, `rate_limiter` and `no_rate_limit` (also from the core)
/// add a client-side limit on top, shared by every client of the same server and key in the
/// process (none by default).
pub struct TnsClientBuilder {
    url: String,
    api_key: Option<SecretString>,
    identity: Option<Identity>,
    options: ClientOptions,
    quota_margin: Duration,
    poll_interval: Duration,
    max_polls: u32,
}

broker_core::client_options_setters!(TnsClientBuilder, options, rate_limit);

impl fmt::Debug for TnsClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TnsClientBuilder")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Default for TnsClientBuilder {
    fn default() -> Self {
        TnsClientBuilder {
            url: DEFAULT_URL.into(),
            api_key: None,
            identity: None,
            options: ClientOptions::default(),
            quota_margin: Duration::from_secs(1),
            poll_interval: Duration::from_secs(5),
            max_polls: 60,
        }
    }
}

impl TnsClientBuilder {
    /// The server root (default [`DEFAULT_URL`]; [`SANDBOX_URL`] for the TNS sandbox).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }
    /// The api key of the bot or user.
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// The identity sent in the `tns_marker` User-Agent.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }
    /// A bot identity (`tns_id` and name).
    pub fn bot(self, id: u64, name: impl Into<String>) -> Self {
        self.identity(Identity::bot(id, name))
    }
    /// A user identity (user id and name).
    pub fn user(self, id: u64, name: impl Into<String>) -> Self {
        self.identity(Identity::user(id, name))
    }
    /// Extra time added to every announced quota reset (default 1 s, as the TNS sample
    /// code sleeps `reset + 1`).
    pub fn quota_margin(mut self, d: Duration) -> Self {
        self.quota_margin = d;
        self
    }
    /// The wait between two polls of a report's reply (default 5 s, as the TNS sample code).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }
    /// How many times a report's reply is polled before giving up (default 60).
    pub fn max_polls(mut self, n: u32) -> Self {
        self.max_polls = n.max(1);
        self
    }

    /// Reads `TNS_URL`, `TNS_API_KEY`, and `TNS_BOT_ID` + `TNS_BOT_NAME` (or `TNS_USER_ID` +
    /// `TNS_USER_NAME`). A malformed id is reported by [`Self::build`].
    pub fn from_env(mut self) -> Result<Self> {
        let get = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(v) = get("TNS_URL") {
            self.url = v;
        }
        if let Some(v) = get("TNS_API_KEY") {
            self.api_key = Some(SecretString::from(v));
        }
        let parse_id = |var: &str, v: String| -> Result<u64> {
            v.parse().map_err(|_| {
                Error::invalid(var, format!("{v:?} is not a TNS id: use the number TNS gave the bot or user"))
            })
        };
        if let (Some(id), Some(name)) = (get("TNS_BOT_ID"), get("TNS_BOT_NAME")) {
            self.identity = Some(Identity::bot(parse_id("TNS_BOT_ID", id)?, name));
        } else if let (Some(id), Some(name)) = (get("TNS_USER_ID"), get("TNS_USER_NAME")) {
            self.identity = Some(Identity::user(parse_id("TNS_USER_ID", id)?, name));
        }
        Ok(self)
    }

    /// Builds the client; fails without an api key or identity, on a bad URL, or on a name
    /// that cannot go in a header.
    pub fn build(self) -> Result<TnsClient> {
        let key = self.api_key.ok_or_else(|| {
            Error::Core(broker_core::Error::Config("TNS needs an api key: set TNS_API_KEY or call api_key()".into()))
        })?;
        if key.expose_secret().trim().is_empty() {
            return Err(Error::invalid("api_key", "the api key must not be empty"));
        }
        let identity = self.identity.ok_or_else(|| {
            Error::Core(broker_core::Error::Config(
                "TNS needs the bot or user of the key for its tns_marker User-Agent: set TNS_BOT_ID and TNS_BOT_NAME (or TNS_USER_ID and TNS_USER_NAME), or call bot()/user()".into(),
            ))
        })?;
        identity.check()?;
        // The quotas are per key: clients built with the same key and server share them.
        // A custom clock (a simulation, a test) keeps its quotas to itself.
        let clock_scope = self.options.clock().map(|c| format!(":clock{:p}", Arc::as_ptr(c))).unwrap_or_default();
        let who = format!("tns:{}:{}{clock_scope}", self.url.trim_end_matches('/'), credential_id(key.expose_secret()));
        let margin = self.quota_margin;
        let general = server_quota_for(&format!("{who}:general"), || ServerQuota::new("x-rate-limit").margin(margin));
        let cone = server_quota_for(&format!("{who}:cone"), || ServerQuota::new("x-cone-rate-limit").margin(margin));
        let mut b = HttpClient::builder(self.url.as_str())
            .auth(ApiKeyAuth { key: key.clone() })
            .server_quota(GENERAL_QUOTA, general)
            .server_quota(CONE_QUOTA, cone)
            .default_server_quota(GENERAL_QUOTA);
        if let Some(l) = self.options.limiter(|| who.clone(), None) {
            b = b.rate_limit("tns", l).default_bucket("tns");
        }
        // The marker is mandatory (without it the front end answers 403): it replaces any
        // user agent set through the shared options.
        let http = self.options.apply(b).user_agent(identity.marker()).build()?;
        Ok(TnsClient {
            inner: Arc::new(Inner {
                http,
                key,
                identity,
                poll_interval: self.poll_interval,
                max_polls: self.max_polls,
            }),
        })
    }
}

/// A client for the Transient Name Server. Cheap to clone (clones share the quotas).
#[derive(Clone)]
pub struct TnsClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: HttpClient,
    key: SecretString,
    identity: Identity,
    pub(crate) poll_interval: Duration,
    pub(crate) max_polls: u32,
}

impl fmt::Debug for TnsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TnsClient")
            .field("http", &self.inner.http)
            .field("identity", &self.inner.identity)
            .field("api_key", &"[REDACTED]")
            .finish()
    }
}

impl TnsClient {
    /// Starts a builder.
    pub fn builder() -> TnsClientBuilder {
        TnsClientBuilder::default()
    }
    /// The identity in use.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }
    /// The underlying HTTP client (base URL, clock, quotas).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// A `POST` carrying the `api_key` form field.
    pub(crate) fn keyed(&self, path: &str) -> Request {
        Request::post(path).form("api_key", self.inner.key.expose_secret())
    }

    /// A `POST` with `api_key` and `data` (the JSON document as a string).
    pub(crate) fn api_request<T: Serialize + ?Sized>(&self, path: &str, data: &T) -> Request {
        self.keyed(path).form_json("data", data)
    }

    /// Sends a request and returns the envelope's `data` (see [`unwrap_envelope`]).
    pub(crate) async fn call(&self, req: Request) -> Result<serde_json::Value> {
        let resp = self.inner.http.execute(req).await?;
        unwrap_envelope(&resp)
    }

    /// Sends a request and returns the raw response (files).
    pub(crate) async fn raw(&self, req: Request) -> Result<Response> {
        Ok(self.inner.http.execute(req).await?)
    }
}

/// Marks a read `POST` as retry-safe.
pub(crate) fn safe(req: Request) -> Request {
    req.retry_safety(broker_core::RetrySafety::Safe)
}

/// Decodes the TNS envelope `{"id_code": 200, "id_message": "OK", "data": ...}`: an
/// `id_code` other than 200 becomes an error; `data` is returned, unwrapped from the older
/// `data.reply` shape when the server uses it.
pub fn unwrap_envelope(resp: &Response) -> Result<serde_json::Value> {
    let body = broker_core::http::replace_nonfinite_json(&resp.body);
    let mut v: serde_json::Value = broker_core::http::decode_json(&body, &resp.url)?;
    if let Some((code, message)) = id_code_of(&v) {
        if code == 429 {
            return Err(Error::RateLimited { retry_after: None, message });
        }
        if code != 200 {
            return Err(Error::Api { id_code: code, message, body: Some(v), url: broker_core::redact_url(&resp.url) });
        }
    }
    let mut data = v.get_mut("data").map(serde_json::Value::take).unwrap_or(serde_json::Value::Null);
    if let Some(reply) = data.as_object_mut().and_then(|o| o.remove("reply")) {
        data = reply;
    }
    Ok(data)
}
