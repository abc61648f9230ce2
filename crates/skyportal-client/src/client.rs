//! The [`Client`], its [`ClientBuilder`], and the plumbing every endpoint shares: the
//! `{"status", "data", "message", "version"}` envelope, error mapping, and paging.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker_core::error::excerpt;
use broker_core::paginate::{ItemStream, Page, PageNumberPaginator, Paginator};
use broker_core::ratelimit::Quota;
use broker_core::{
    Auth, ClientOptions, Error, HeaderToken, HttpClient, HttpError, NoAuth, Request, Response, Result, RetryPolicy,
    SecretString, redact_url,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Environment variable read by [`ClientBuilder::from_env`] for the base URL.
pub const ENV_URL: &str = "SKYPORTAL_URL";
/// Environment variable read by [`ClientBuilder::from_env`] for the API token.
pub const ENV_TOKEN: &str = "SKYPORTAL_TOKEN";
/// Default client-side rate: nginx's default `server.rate_limit` of 5 requests per second.
pub const DEFAULT_RATE_PER_SECOND: f64 = 5.0;
/// Default client-side burst: nginx's default `server.burst` of 10.
pub const DEFAULT_BURST: u32 = 10;
/// Default per-attempt timeout. nginx gives the app 60 s before a 504, so allow a bit more.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// Builds a [`Client`]. A base URL is required: there is no public default deployment
/// (`https://fritz.science` is one, `http://localhost:5000` a local one).
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]. Here the default timeout is
/// [`DEFAULT_TIMEOUT`] (90 s) and the default retry policy is [`default_retry`].
/// `rate_limit`, `rate_limiter` and `no_rate_limit` (also from the core) set the client-side
/// limit, shared by every client using the same deployment and token; the default is
/// [`DEFAULT_RATE_PER_SECOND`] requests per second with a burst of [`DEFAULT_BURST`]
/// (SkyPortal's default nginx `server.rate_limit` and `server.burst`).
#[derive(Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<SecretString>,
    options: ClientOptions,
}

broker_core::client_options_setters!(ClientBuilder, options, rate_limit);

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url.as_deref().map(broker_core::redact::redact_url_str))
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with no base URL or token yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder filled from `SKYPORTAL_URL` and `SKYPORTAL_TOKEN` when they are set.
    pub fn from_env() -> Self {
        let mut b = Self::new();
        if let Ok(u) = std::env::var(ENV_URL) {
            if !u.trim().is_empty() {
                b.base_url = Some(u);
            }
        }
        if let Ok(t) = std::env::var(ENV_TOKEN) {
            if !t.trim().is_empty() {
                b.token = Some(SecretString::from(t.trim().to_string()));
            }
        }
        b
    }

    /// The deployment's base URL, e.g. `https://fritz.science` (a trailing `/api` is
    /// accepted and dropped: every route already starts with `api/`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API token (from your profile page), sent as `Authorization: token <token>`.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Builds the client. Fails with [`Error::Config`] without a base URL, with a bad one,
    /// or when a token would go over plain http to a remote host.
    pub fn build(self) -> Result<Client> {
        let raw = self.base_url.ok_or_else(|| {
            Error::Config(format!(
                "a SkyPortal base URL is required (e.g. https://fritz.science or http://localhost:5000); \
                 set it with ClientBuilder::base_url or {ENV_URL}"
            ))
        })?;
        let base = normalize_base(&raw);
        let (auth, cred): (Arc<dyn Auth>, String) = match self.token {
            Some(t) => {
                let a = HeaderToken::new("token", t);
                let id = a.credential_id().unwrap_or_default();
                (Arc::new(a), id)
            }
            None => (Arc::new(NoAuth), "anonymous".to_string()),
        };
        let (accept, json) = broker_core::http::accept_json();
        let defaults = HttpClient::builder(base.clone()).retry(default_retry()).timeout(DEFAULT_TIMEOUT);
        let mut b = self.options.apply(defaults).auth_arc(auth).default_header(accept, json);
        let default = Quota::rate(DEFAULT_RATE_PER_SECOND, DEFAULT_BURST);
        if let Some(l) = self.options.limiter(|| format!("skyportal:{base}:{cred}"), Some(default)) {
            b = b.rate_limit("skyportal", l).default_bucket("skyportal");
        }
        Ok(Client { http: b.build()? })
    }
}

/// The default retry policy: 5 attempts, at least 1 s after a 429, backoff on 5xx for
/// idempotent requests.
pub fn default_retry() -> RetryPolicy {
    RetryPolicy::default().throttle_floor(Duration::from_secs(1))
}

fn normalize_base(raw: &str) -> String {
    let t = raw.trim().trim_end_matches('/');
    let t = t.strip_suffix("/api").unwrap_or(t);
    format!("{t}/")
}

/// A SkyPortal client. Cheap to clone; clones share connections, retry and rate limits.
///
/// Every resource group has an accessor returning a small handle:
/// [`sources`](Client::sources), [`candidates`](Client::candidates),
/// [`photometry`](Client::photometry), [`spectra`](Client::spectra),
/// [`classifications`](Client::classifications), [`comments`](Client::comments),
/// [`annotations`](Client::annotations), [`resources`](Client::resources), [`followup_requests`](Client::followup_requests), [`gcn`](Client::gcn).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: HttpClient,
}

/// The success/error envelope's head (the `data` is decoded separately).
#[derive(Deserialize)]
struct Head {
    status: Option<String>,
    message: Option<Value>,
    version: Option<String>,
}

#[derive(Deserialize)]
struct DataOnly<T> {
    data: T,
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client for `base_url` with `token`, default retry and rate limits.
    pub fn new(base_url: impl Into<String>, token: impl Into<SecretString>) -> Result<Client> {
        ClientBuilder::new().base_url(base_url).token(token).build()
    }

    /// The underlying HTTP client (for routes this crate does not cover).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Sends a request and checks the envelope: a 200 whose `status` is not `"success"`
    /// becomes [`Error::Http`] with status 200 and the server's message; 401 and 403 become
    /// [`Error::Auth`].
    ///
    /// A retry-safe request whose JSON reply was cut short is sent again by the core
    /// ([`HttpClient::execute`]), up to the retry policy's attempts.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let is_head = req.method().as_str() == "HEAD";
        let resp = self.http.execute(req).await.map_err(map_error)?;
        if is_head || resp.status == 204 {
            return Ok(resp);
        }
        check_envelope(&resp)?;
        Ok(resp)
    }

    /// Sends a request and decodes the envelope's `data`.
    pub async fn data<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let resp = self.send(req).await?;
        let d: DataOnly<T> = resp.json()?;
        Ok(d.data)
    }

    /// Sends a request and decodes `data` along with the envelope's `version`.
    pub(crate) async fn data_and_version<T: DeserializeOwned>(&self, req: Request) -> Result<(T, Option<String>)> {
        let resp = self.send(req).await?;
        let head: Head = resp.json()?;
        let d: DataOnly<T> = resp.json()?;
        Ok((d.data, head.version))
    }

    /// Sends a request whose `data` is of no interest (updates, deletes).
    pub async fn ok(&self, req: Request) -> Result<()> {
        self.send(req).await.map(|_| ())
    }

    /// One page of a paginated listing.
    pub(crate) async fn fetch_page<T: DeserializeOwned>(&self, req: Request, key: Option<&str>) -> Result<RawPage<T>> {
        let resp = self.send(req).await?;
        let d: DataOnly<Value> = resp.json()?;
        let url = redact_url(&resp.url);
        let decode_err = |path: String, message: String| Error::Decode {
            path,
            message,
            excerpt: excerpt(&resp.body),
            url: url.clone(),
        };
        let (list, meta) = match key {
            None => (d.data, serde_json::Map::new()),
            Some(k) => match d.data {
                Value::Object(mut m) => {
                    let list = m.remove(k).unwrap_or(Value::Null);
                    (list, m)
                }
                other => {
                    return Err(decode_err(
                        "data".into(),
                        format!("expected an object with a `{k}` list, found {}", kind(&other)),
                    ));
                }
            },
        };
        let prefix = match key {
            Some(k) => format!("data.{k}"),
            None => "data".to_string(),
        };
        let items: Vec<T> = match list {
            Value::Null if meta.get("totalMatches").and_then(lenient_u64) == Some(0) => Vec::new(),
            Value::Null => {
                return Err(decode_err(prefix, "the list is missing".to_string()));
            }
            other => serde_path_to_error::deserialize(other).map_err(|e| {
                let p = e.path().to_string();
                let path = if p == "." {
                    prefix.clone()
                } else if p.starts_with('[') {
                    format!("{prefix}{p}")
                } else {
                    format!("{prefix}.{p}")
                };
                decode_err(path, e.into_inner().to_string())
            })?,
        };
        Ok(RawPage {
            items,
            total: meta.get("totalMatches").and_then(lenient_u64),
            page_number: meta.get("pageNumber").and_then(lenient_u64),
            num_per_page: meta.get("numPerPage").and_then(lenient_u64),
            query_id: meta.get("queryID").and_then(|v| v.as_str()).map(str::to_string),
        })
    }

    /// Streams a paginated listing (see [`ListSpec`]).
    pub(crate) fn stream<T: DeserializeOwned + Send + 'static>(&self, spec: ListSpec) -> ItemStream<T> {
        let client = self.clone();
        let query_id: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(spec.query_id.clone()));
        let first = spec.first_page;
        let size = spec.page_size;
        let max_pages = spec.max_pages;
        let spec = Arc::new(spec);
        let p = PageNumberPaginator::new(first, size, move |p| {
            let client = client.clone();
            let spec = spec.clone();
            let qid = query_id.clone();
            async move {
                let known = qid.lock().ok().and_then(|g| g.clone());
                let req = spec.request(p.page, p.page_size, known.as_deref());
                let page: RawPage<T> = client.fetch_page(req, spec.key).await?;
                if let Some(id) = &page.query_id {
                    if let Ok(mut g) = qid.lock() {
                        *g = Some(id.clone());
                    }
                }
                // The server clamps numPerPage and says what it used: the core judges a
                // short page by that.
                let per_page = page.num_per_page.filter(|n| *n > 0).unwrap_or(p.page_size);
                // A stream may start past page 1 (a cached query continued with its
                // `queryID`): the core counts only the items it has seen, so say here
                // when this page reaches `totalMatches`.
                let reached_total = page.total.is_some_and(|t| p.page.saturating_mul(per_page) >= t);
                Ok(Page::new(page.items)
                    .with_total(page.total)
                    .with_page_size(page.num_per_page)
                    .with_has_next(Some(!reached_total)))
            }
        });
        let p = match max_pages {
            Some(n) => p.max_pages(n),
            None => p,
        };
        p.into_stream()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number or a numeric string as `u64`.
pub(crate) fn lenient_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The start of SkyPortal's 403 for a comment or annotation id that is missing or not
/// readable (`handlers/api/annotation.py`, `comment.py`: "Could not find any accessible
/// annotations." / "... comments."): a not-found, not a permission problem of the token.
const NOT_ACCESSIBLE_403: &str = "could not find any accessible";

fn is_not_accessible_403(h: &HttpError) -> bool {
    h.status == 403 && h.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().starts_with(NOT_ACCESSIBLE_403))
}

/// Maps HTTP errors to SkyPortal's meaning: 401 and 403 are auth/permission errors, except
/// the 403 "Could not find any accessible ..." of a missing comment or annotation, which
/// stays an [`Error::Http`] that [`is_not_found`] recognizes.
pub(crate) fn map_error(e: Error) -> Error {
    match e {
        Error::Http(h) if is_not_accessible_403(&h) => Error::Http(h),
        Error::Http(h) if h.status == 401 || h.status == 403 => {
            let message = h
                .message
                .clone()
                .unwrap_or_else(|| if h.status == 401 { "unauthorized".to_string() } else { "forbidden".to_string() });
            Error::Auth { status: Some(h.status), message }
        }
        other => other,
    }
}

fn check_envelope(resp: &Response) -> Result<()> {
    let head: Head = match serde_json::from_slice(&resp.body) {
        Ok(h) => h,
        Err(e) => {
            return Err(Error::Decode {
                path: ".".into(),
                message: format!("expected the SkyPortal JSON envelope: {e}"),
                excerpt: excerpt(&resp.body),
                url: redact_url(&resp.url),
            });
        }
    };
    match head.status.as_deref() {
        Some("success") => Ok(()),
        other => {
            let message = match (head.message, other) {
                (Some(Value::String(s)), _) => s,
                (Some(Value::Null) | None, Some(s)) => format!("status `{s}` without a message"),
                (Some(Value::Null) | None, None) => "the reply is not a SkyPortal envelope (no `status`)".to_string(),
                (Some(v), _) => v.to_string(),
            };
            let message = Some(message);
            Err(Error::Http(Box::new(HttpError {
                status: resp.status,
                message,
                excerpt: excerpt(&resp.body),
                url: redact_url(&resp.url),
                retry_after: None,
                body: resp.body.clone(),
            })))
        }
    }
}

/// Whether an error means "no such object". SkyPortal often says so with a 400 (`Invalid
/// ID`, `Cannot find ...`) rather than a 404, and for a comment or annotation id with a
/// 403 "Could not find any accessible annotations." (or "... comments.").
pub fn is_not_found(e: &Error) -> bool {
    let Some(h) = e.as_http() else { return false };
    if h.status == 404 || is_not_accessible_403(h) {
        return true;
    }
    if h.status != 400 {
        return false;
    }
    let m = h.message.as_deref().unwrap_or_default().to_ascii_lowercase();
    ["not found", "invalid id", "cannot find", "does not exist", "no such", "invalid object id"]
        .iter()
        .any(|p| m.contains(p))
}

/// One page as decoded from `data`.
#[derive(Debug, Clone)]
pub(crate) struct RawPage<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
    pub page_number: Option<u64>,
    pub num_per_page: Option<u64>,
    pub query_id: Option<String>,
}

/// One page of a listing, with the paging metadata the server returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// `totalMatches`, when the endpoint reports it.
    pub total_matches: Option<u64>,
    /// `pageNumber` as the server echoed it.
    pub page_number: Option<u64>,
    /// `numPerPage` as the server used it (it clamps larger values).
    pub num_per_page: Option<u64>,
    /// `queryID` of the cached query, to pass on later pages.
    pub query_id: Option<String>,
}

impl<T> From<RawPage<T>> for ListPage<T> {
    fn from(r: RawPage<T>) -> Self {
        ListPage {
            items: r.items,
            total_matches: r.total,
            page_number: r.page_number,
            num_per_page: r.num_per_page,
            query_id: r.query_id,
        }
    }
}

/// How a listing uses SkyPortal's query cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheMode {
    /// No cache parameters.
    None,
    /// `useCache=true`, then `queryID` from the first page (sources).
    UseCache,
    /// The server always caches; only carry `queryID` (candidates).
    QueryIdOnly,
}

/// Everything needed to request any page of a listing.
#[derive(Debug, Clone)]
pub(crate) struct ListSpec {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub key: Option<&'static str>,
    pub page_size: u64,
    pub first_page: u64,
    pub max_pages: Option<u64>,
    pub cache: CacheMode,
    pub query_id: Option<String>,
}

impl ListSpec {
    pub(crate) fn new(path: impl Into<String>, key: Option<&'static str>, page_size: u64) -> Self {
        ListSpec {
            path: path.into(),
            query: Vec::new(),
            key,
            page_size,
            first_page: 1,
            max_pages: None,
            cache: CacheMode::None,
            query_id: None,
        }
    }

    pub(crate) fn request(&self, page: u64, page_size: u64, query_id: Option<&str>) -> Request {
        let mut req = Request::get(self.path.clone());
        for (k, v) in &self.query {
            req = req.query(k, v);
        }
        req = req.query("pageNumber", page).query("numPerPage", page_size);
        match self.cache {
            CacheMode::None => {}
            CacheMode::UseCache => {
                req = req.query("useCache", "true").query_opt("queryID", query_id);
            }
            CacheMode::QueryIdOnly => {
                req = req.query_opt("queryID", query_id);
            }
        }
        req
    }
}

/// Checks a page size against an endpoint's maximum (the server would silently clamp a
/// larger one).
pub(crate) fn check_page_size(n: u64, max: u64) -> Result<u64> {
    if n == 0 || n > max {
        return Err(Error::invalid("num_per_page", format!("{n} is not a valid page size here: use 1 to {max}")));
    }
    Ok(n)
}

/// Checks a page number (1-based).
pub(crate) fn check_page_number(n: u64) -> Result<u64> {
    if n == 0 {
        return Err(Error::invalid("page_number", "pages are numbered from 1"));
    }
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(normalize_base("https://fritz.science"), "https://fritz.science/");
        assert_eq!(normalize_base("https://fritz.science/"), "https://fritz.science/");
        assert_eq!(normalize_base("https://fritz.science/api/"), "https://fritz.science/");
        assert_eq!(normalize_base("http://localhost:5000/sp/api"), "http://localhost:5000/sp/");
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(lenient_u64(&serde_json::json!(5)), Some(5));
        assert_eq!(lenient_u64(&serde_json::json!("7")), Some(7));
        assert_eq!(lenient_u64(&serde_json::json!(2.0)), Some(2));
        assert_eq!(lenient_u64(&serde_json::json!(-1)), None);
        assert_eq!(lenient_u64(&serde_json::json!(null)), None);
    }

    #[test]
    fn builder_requires_base_url_and_hides_token() {
        let err = ClientBuilder::new().token("s3cr3t-token".to_string()).build().unwrap_err();
        assert!(err.to_string().contains("base URL is required"), "{err}");
        let b = ClientBuilder::new().base_url("https://fritz.science").token("s3cr3t-token".to_string());
        assert!(!format!("{b:?}").contains("s3cr3t"));
        let c = b.build().unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn page_size_checks() {
        assert_eq!(check_page_size(500, 500).unwrap(), 500);
        let e = check_page_size(501, 500).unwrap_err();
        assert!(e.to_string().contains("use 1 to 500"), "{e}");
        assert!(check_page_size(0, 500).is_err());
        assert!(check_page_number(0).is_err());
    }
}
