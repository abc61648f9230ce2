//! The shared HTTP client: base URL, auth, retry, rate limits, redirects, tracing.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::auth::{Auth, AuthContext, AuthStamp, NoAuth};
use crate::body::{BodyDecoder, BodyReader, Decoded};
use crate::error::{Error, HttpError, Result, excerpt, server_message};
use crate::ratelimit::{RateLimiter, ServerQuota};
use crate::redact::redact_url;
use crate::retry::{Clock, RetryPolicy, RetrySafety, TokioClock, parse_retry_after};

pub use reqwest::Method;
pub use reqwest::header;

/// The default user agent: `astrobrokers/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("astrobrokers/", env!("CARGO_PKG_VERSION"));

/// How a list-valued query or form parameter goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStyle {
    /// `oid=a&oid=b` (ALeRCE, Flask `getlist`).
    Repeated,
    /// `group_ids=1,2` (SkyPortal, ATLAS `objects`).
    CommaJoined,
}

/// A request body. Its `Debug` shows the kind and size only (a form may hold a password).
#[derive(Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A JSON document (already serialized).
    Json(Bytes),
    /// `application/x-www-form-urlencoded` pairs, in order.
    Form(Vec<(String, String)>),
    /// Raw bytes with a content type.
    Raw {
        /// The bytes.
        bytes: Bytes,
        /// The `Content-Type` to send.
        content_type: String,
    },
}

/// One request, relative to a client's base URL (or an absolute URL).
///
/// Retry safety is declared per request: [`Request::get`], [`Request::head`],
/// [`Request::put`] and [`Request::delete`] start as [`RetrySafety::Safe`];
/// [`Request::post`] and [`Request::patch`] as [`RetrySafety::Unsafe`]. Change it with
/// [`Request::retry_safety`] (an ATLAS read POST is safe; a write is not).
///
/// Whether a request changes data on the server is declared apart from its retry safety,
/// because the two differ: an upsert is a write that is safe to retry. A request starts as
/// a write unless its method is `GET`, `HEAD`, `OPTIONS` or `TRACE`; change it with
/// [`Request::writes`] (an ATLAS read POST is not a write; an ATLAS `vrarank/` upsert is a
/// write and retry-safe). The `http_request` tracing span and `Debug` show it as `write`.
///
/// Its `Debug` never shows secrets: form fields and JSON bodies are summarised, header values
/// are left out, and secret query parameters (`token=`, ...) are redacted.
#[derive(Clone)]
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Body,
    body_error: Option<String>,
    safety: RetrySafety,
    write: bool,
    buckets: Vec<String>,
    server_quotas: Vec<String>,
    timeout: Option<Duration>,
    complete: Option<fn(&[u8]) -> bool>,
    wire: Option<Arc<tokio::sync::Semaphore>>,
}

impl Request {
    /// A check that a successful reply's body is whole (for bodies without a format the core
    /// knows: a JSON reply cut short is recognised anyway). For a retry-safe request, a 2xx
    /// body that fails it is fetched again, like a JSON reply cut short, within the retry
    /// policy; when the attempts run out the last body is returned as it is.
    pub fn complete_when(mut self, check: fn(&[u8]) -> bool) -> Self {
        self.complete = Some(check);
        self
    }

    /// Holds a permit of `slots` from sending each attempt until its reply's last byte has
    /// arrived (not while the reply is decoded), so that callers sharing `slots` keep at
    /// most that many requests on the wire while earlier replies are still being decoded
    /// (see [`HttpClient::execute_decoding`]).
    pub fn wire_slots(mut self, slots: Arc<tokio::sync::Semaphore>) -> Self {
        self.wire = Some(slots);
        self
    }

    /// A request with an explicit method and retry safety. `path` is joined to the base URL
    /// as is (a trailing slash is kept, none is added); an `http(s)://` URL is used as is.
    pub fn new(method: Method, path: impl Into<String>, safety: RetrySafety) -> Self {
        let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            body_error: None,
            safety,
            write,
            buckets: Vec::new(),
            server_quotas: Vec::new(),
            timeout: None,
            complete: None,
            wire: None,
        }
    }
    /// `GET`, retry-safe.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path, RetrySafety::Safe)
    }
    /// `HEAD`, retry-safe.
    pub fn head(path: impl Into<String>) -> Self {
        Self::new(Method::HEAD, path, RetrySafety::Safe)
    }
    /// `POST`, not retry-safe unless declared so.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path, RetrySafety::Unsafe)
    }
    /// `PUT`, retry-safe (an upsert).
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path, RetrySafety::Safe)
    }
    /// `PATCH`, not retry-safe unless declared so.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path, RetrySafety::Unsafe)
    }
    /// `DELETE`, retry-safe.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path, RetrySafety::Safe)
    }

    /// Declares whether the request may be sent twice.
    pub fn retry_safety(mut self, safety: RetrySafety) -> Self {
        self.safety = safety;
        self
    }
    /// Declares whether the request changes data on the server (see [`Request`]). It does
    /// not change retries: that is [`Request::retry_safety`].
    pub fn writes(mut self, write: bool) -> Self {
        self.write = write;
        self
    }
    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// Adds a query parameter when it has a value; `None` sends nothing.
    pub fn query_opt(self, key: &str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Adds a list-valued query parameter in the given style; an empty list sends nothing.
    pub fn query_list<I, T>(mut self, key: &str, values: I, style: ListStyle) -> Self
    where
        I: IntoIterator<Item = T>,
        T: fmt::Display,
    {
        push_list(&mut self.query, key, values, style);
        self
    }
    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(v) => self.body = Body::Json(Bytes::from(v)),
            Err(e) => self.body_error = Some(format!("could not serialize the JSON body: {e}")),
        }
        self
    }
    /// Adds a form field (the body becomes form-encoded).
    pub fn form(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.push_form(vec![(key.to_string(), value.to_string())]);
        self
    }
    /// Adds a form field when it has a value; `None` sends nothing.
    pub fn form_opt(self, key: &str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(v) => self.form(key, v),
            None => self,
        }
    }
    /// Adds a list-valued form field in the given style; an empty list sends nothing.
    pub fn form_list<I, T>(mut self, key: &str, values: I, style: ListStyle) -> Self
    where
        I: IntoIterator<Item = T>,
        T: fmt::Display,
    {
        let mut pairs = Vec::new();
        push_list(&mut pairs, key, values, style);
        self.push_form(pairs);
        self
    }
    /// Adds a form field holding a JSON document (`data={"ra": ...}`), as TNS-style APIs
    /// expect.
    pub fn form_json<T: Serialize + ?Sized>(mut self, key: &str, value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(s) => self.push_form(vec![(key.to_string(), s)]),
            Err(e) => self.body_error = Some(format!("could not serialize the `{key}` form field: {e}")),
        }
        self
    }
    /// A raw body with a content type.
    pub fn raw(mut self, bytes: impl Into<Bytes>, content_type: &str) -> Self {
        self.body = Body::Raw { bytes: bytes.into(), content_type: content_type.to_string() };
        self
    }
    /// Draws this request from the named client-side rate-limit bucket too.
    pub fn bucket(mut self, name: &str) -> Self {
        self.buckets.push(name.to_string());
        self
    }
    /// Makes this request wait for the named server-announced quota too (see
    /// [`ServerQuota`]): when the server last said that quota has nothing left, the request
    /// waits for the reset it announced before being sent.
    pub fn server_quota(mut self, name: &str) -> Self {
        self.server_quotas.push(name.to_string());
        self
    }
    /// A timeout for each attempt of this request.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The path or URL as given.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The query pairs, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }
    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }
    /// The declared retry safety.
    pub fn safety(&self) -> RetrySafety {
        self.safety
    }
    /// Whether the request changes data on the server (see [`Request::writes`]).
    pub fn is_write(&self) -> bool {
        self.write
    }

    fn push_form(&mut self, pairs: Vec<(String, String)>) {
        if pairs.is_empty() {
            return;
        }
        match &mut self.body {
            Body::Form(p) => p.extend(pairs),
            _ => self.body = Body::Form(pairs),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(b) => write!(f, "Json({} bytes)", b.len()),
            Body::Form(pairs) => {
                let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
                write!(f, "Form(fields: {keys:?})")
            }
            Body::Raw { bytes, content_type } => write!(f, "Raw({} bytes of {content_type})", bytes.len()),
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), if crate::redact::is_secret_param(k) { "REDACTED" } else { v.as_str() }))
            .collect();
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &crate::redact::redact_url_str(&self.path))
            .field("query", &query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("safety", &self.safety)
            .field("write", &self.write)
            .field("buckets", &self.buckets)
            .field("server_quotas", &self.server_quotas)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn push_list<I, T>(out: &mut Vec<(String, String)>, key: &str, values: I, style: ListStyle)
where
    I: IntoIterator<Item = T>,
    T: fmt::Display,
{
    let values: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    if values.is_empty() {
        return;
    }
    match style {
        ListStyle::Repeated => out.extend(values.into_iter().map(|v| (key.to_string(), v))),
        ListStyle::CommaJoined => out.push((key.to_string(), values.join(","))),
    }
}

/// A successful (status < 400) response, body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (decompressed when the server used `Content-Encoding: gzip`).
    pub body: Bytes,
    /// The final URL, after redirects.
    pub url: Url,
}

impl Response {
    /// Decodes the body as JSON; a failure names the path of the failing field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body, &self.url)
    }
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
}

/// Whether a body is JSON that ends before its document does (not merely invalid: a
/// Python `NaN` is a syntax error, not a truncation).
pub fn is_truncated_json(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => false,
        Err(e) => e.classify() == serde_json::error::Category::Eof,
    }
}

/// Decodes JSON with the path of the failing field in the error.
pub fn decode_json<T: DeserializeOwned>(body: &[u8], url: &Url) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::Decode { path, message: e.into_inner().to_string(), excerpt: excerpt(body), url: redact_url(url) }
    })
}

/// Replaces the bare `NaN`, `Infinity` and `-Infinity` tokens that Python servers write
/// (outside strings) with `null`, so that strict JSON decoders accept the body. Borrows the
/// input when there is nothing to replace.
pub fn replace_nonfinite_json(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let needs = body.windows(3).any(|w| w == b"NaN") || body.windows(8).any(|w| w == b"Infinity");
    if !needs {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_str = true;
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &body[i..];
        if rest.starts_with(b"NaN") {
            out.extend_from_slice(b"null");
            i += 3;
        } else if rest.starts_with(b"-Infinity") {
            out.extend_from_slice(b"null");
            i += 9;
        } else if rest.starts_with(b"Infinity") {
            out.extend_from_slice(b"null");
            i += 8;
        } else {
            out.push(b);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`decode_json`] after [`replace_nonfinite_json`]: for servers that emit `NaN`.
pub fn decode_json_lenient<T: DeserializeOwned>(body: &[u8], url: &Url) -> Result<T> {
    decode_json(&replace_nonfinite_json(body), url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_shows_no_secrets() {
        let req = Request::post("api-token-auth/")
            .form("username", "ann")
            .form("password", "hunter2-secret")
            .query("token", "tok-in-query")
            .header(reqwest::header::AUTHORIZATION, HeaderValue::from_static("Token tok-in-header"))
            .json(&serde_json::json!({"api_key": "json-secret"}));
        let shown = format!("{req:?}");
        for secret in ["hunter2-secret", "tok-in-query", "tok-in-header", "json-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("api-token-auth/") && shown.contains("Json("), "{shown}");
        let form = Request::post("x").form("password", "pw-secret");
        assert!(format!("{form:?}").contains("fields: [\"password\"]"));
        assert!(!format!("{form:?}").contains("pw-secret"));
    }

    #[test]
    fn nonfinite_tokens_become_null_outside_strings() {
        let body = br#"{"a": NaN, "b": -Infinity, "c": "NaN and Infinity", "d": [Infinity, 1.5], "e": "q\"NaN"}"#;
        let fixed = replace_nonfinite_json(body);
        let v: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert!(v["a"].is_null() && v["b"].is_null() && v["d"][0].is_null());
        assert_eq!(v["c"], "NaN and Infinity");
        assert_eq!(v["e"], "q\"NaN");
        assert!(matches!(replace_nonfinite_json(b"{}"), std::borrow::Cow::Borrowed(_)));
    }
}

/// Describes a reqwest error without its URL (which may carry a secret), with its causes.
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "could not read the body"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    parts.push(kind.to_string());
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p == &t) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    base: String,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    auth: Arc<dyn Auth>,
    clock: Arc<dyn Clock>,
    limiters: HashMap<String, Arc<RateLimiter>>,
    default_buckets: Vec<String>,
    server_quotas: HashMap<String, Arc<ServerQuota>>,
    default_server_quotas: Vec<String>,
    headers: HeaderMap,
    max_response_bytes: usize,
    allow_insecure_http: bool,
    reqwest: Option<reqwest::Client>,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("base", &crate::redact::redact_url_str(&self.base))
            .field("user_agent", &self.user_agent)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    /// Sets the user agent (default `astrobrokers/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// The time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// The time allowed for one attempt, from sending to the last body byte (default 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// The auth (default: none).
    pub fn auth(mut self, auth: impl Auth + 'static) -> Self {
        self.auth = Arc::new(auth);
        self
    }
    /// The auth, shared.
    pub fn auth_arc(mut self, auth: Arc<dyn Auth>) -> Self {
        self.auth = auth;
        self
    }
    /// The clock (tests inject a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Registers a rate-limit bucket under `name`; requests opt in with
    /// [`Request::bucket`], or every request draws from it when `name` is also passed to
    /// [`Self::default_bucket`].
    pub fn rate_limit(mut self, name: &str, limiter: Arc<RateLimiter>) -> Self {
        self.limiters.insert(name.to_string(), limiter);
        self
    }
    /// Makes every request draw from the named bucket.
    pub fn default_bucket(mut self, name: &str) -> Self {
        self.default_buckets.push(name.to_string());
        self
    }
    /// Registers a quota the server announces in its response headers under `name` (see
    /// [`ServerQuota`]). Every response updates it; requests wait for it when they opt in with
    /// [`Request::server_quota`], or always when `name` is also passed to
    /// [`Self::default_server_quota`]. Share the `Arc` between clients that use the same
    /// credential.
    pub fn server_quota(mut self, name: &str, quota: Arc<ServerQuota>) -> Self {
        self.server_quotas.insert(name.to_string(), quota);
        self
    }
    /// Makes every request wait for the named server-announced quota.
    pub fn default_server_quota(mut self, name: &str) -> Self {
        self.default_server_quotas.push(name.to_string());
        self
    }
    /// A header sent on every request (e.g. `Accept: application/json`).
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
    /// The largest response body accepted (default 512 MiB); larger ones fail with a
    /// transport error instead of exhausting memory.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Allows sending credentials over plain `http` to a host that is not loopback.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
    /// Uses this reqwest client (its redirect policy must be `none`).
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.reqwest = Some(client);
        self
    }

    /// The non-secret id of the configured credential (see [`Auth::credential_id`]), for
    /// per-credential rate-limit keys.
    pub fn credential_id(&self) -> Option<String> {
        self.auth.credential_id()
    }

    /// Builds the client; fails on a bad base URL, an unknown default bucket, or credentials
    /// over plain http to a remote host.
    pub fn build(self) -> Result<HttpClient> {
        let base = parse_base_url(&self.base)?;
        if base.scheme() == "http" && self.auth.sends_secret() && !self.allow_insecure_http && !is_loopback_host(&base)
        {
            return Err(Error::Config(format!(
                "refusing to send credentials over plain http to {}; use https or allow insecure http explicitly",
                base.host_str().unwrap_or_default()
            )));
        }
        for b in &self.default_buckets {
            if !self.limiters.contains_key(b) {
                return Err(Error::Config(format!("default rate-limit bucket `{b}` is not registered")));
            }
        }
        for q in &self.default_server_quotas {
            if !self.server_quotas.contains_key(q) {
                return Err(Error::Config(format!("default server quota `{q}` is not registered")));
            }
        }
        let http = match self.reqwest {
            Some(c) => c,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .gzip(true)
                .build()
                .map_err(|e| Error::Config(format!("could not build the HTTP client: {}", describe_reqwest(&e))))?,
        };
        Ok(HttpClient {
            inner: Arc::new(Inner {
                base,
                http,
                user_agent: self.user_agent,
                timeout: self.timeout,
                retry: self.retry,
                auth: self.auth,
                clock: self.clock,
                limiters: self.limiters,
                default_buckets: self.default_buckets,
                server_quotas: self.server_quotas,
                default_server_quotas: self.default_server_quotas,
                headers: self.headers,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// Parses a base URL: `http` or `https` with a host; the path is kept exactly, and one `/`
/// is added only if the path does not end with one (so `api` and `api/` both join
/// `objects/` into `api/objects/`).
pub fn parse_base_url(s: &str) -> Result<Url> {
    let mut u = Url::parse(s.trim()).map_err(|e| Error::Config(format!("invalid base URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Error::Config("the base URL must be http(s)://host/...".into()));
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

fn is_loopback_host(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

/// A client for one service: a base URL plus auth, retry, rate limits and timeouts.
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    http: reqwest::Client,
    user_agent: String,
    timeout: Duration,
    retry: RetryPolicy,
    auth: Arc<dyn Auth>,
    clock: Arc<dyn Clock>,
    limiters: HashMap<String, Arc<RateLimiter>>,
    default_buckets: Vec<String>,
    server_quotas: HashMap<String, Arc<ServerQuota>>,
    default_server_quotas: Vec<String>,
    headers: HeaderMap,
    max_response_bytes: usize,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &redact_url(&self.inner.base))
            .field("user_agent", &self.inner.user_agent)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

enum Attempt<T> {
    Done(u16, HeaderMap, Bytes),
    /// A 2xx reply fed to the decoder: its result, and the body's chunks (kept for the
    /// checks of a reply cut short).
    Decoded(u16, HeaderMap, Result<T>, Vec<Bytes>),
    /// A failed attempt, and whether it failed before anything was sent.
    Failed(Error, bool),
    /// A failure that another attempt would only repeat (a body over the size limit).
    Fatal(Error),
}

impl HttpClient {
    /// Starts a builder for a service at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            base: base_url.into(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            auth: Arc::new(NoAuth),
            clock: Arc::new(TokioClock::default()),
            limiters: HashMap::new(),
            default_buckets: Vec::new(),
            server_quotas: HashMap::new(),
            default_server_quotas: Vec::new(),
            headers: HeaderMap::new(),
            max_response_bytes: 512 * 1024 * 1024,
            allow_insecure_http: false,
            reqwest: None,
        }
    }

    /// The base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }
    /// The clock in use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }
    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }
    /// The auth in use.
    pub fn auth(&self) -> &Arc<dyn Auth> {
        &self.inner.auth
    }
    /// The named rate-limit bucket, if registered.
    pub fn limiter(&self, name: &str) -> Option<&Arc<RateLimiter>> {
        self.inner.limiters.get(name)
    }
    /// The named server-announced quota, if registered.
    pub fn server_quota(&self, name: &str) -> Option<&Arc<ServerQuota>> {
        self.inner.server_quotas.get(name)
    }

    /// The longest wait the server-announced quotas of `req` ask for at `now`.
    fn server_quota_wait(&self, req: &Request, now: Duration) -> Result<Duration> {
        let mut wait = Duration::ZERO;
        for name in self.inner.default_server_quotas.iter().chain(req.server_quotas.iter()) {
            let Some(q) = self.inner.server_quotas.get(name) else {
                return Err(Error::Config(format!("server quota `{name}` is not registered")));
            };
            wait = wait.max(q.wait(now));
        }
        Ok(wait)
    }

    /// The URL a path resolves to: an absolute `http(s)://` URL as is; anything else
    /// appended to the base URL (a leading `/` is dropped; trailing slashes are kept).
    pub fn url_for(&self, path: &str) -> Result<Url> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return Url::parse(path).map_err(|e| Error::invalid("url", format!("{path:?} is not a valid URL: {e}")));
        }
        let joined = format!("{}{}", self.inner.base.as_str(), path.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| Error::invalid("path", format!("{path:?} does not form a valid URL: {e}")))
    }

    /// Sends a request and decodes the JSON reply.
    pub async fn json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.execute(req).await?.json()
    }

    /// Sends a request with retries, redirects and auth; returns the response when its
    /// status is below 400, and an error otherwise (see [`Error`]).
    pub async fn execute(&self, req: Request) -> Result<Response> {
        match self.run::<()>(req, None).await? {
            Outcome::Body(r) => Ok(r),
            Outcome::Decoded(d) => Err(Error::Decode {
                path: ".".into(),
                message: "a reply was decoded although no decoder was given".into(),
                excerpt: String::new(),
                url: redact_url(&d.url),
            }),
        }
    }

    /// Like [`HttpClient::execute`], but a successful (2xx) reply's body is fed to `decode`
    /// on tokio's blocking pool while it arrives, chunk by chunk, so that decoding overlaps
    /// the transfer; the request's [`Request::wire_slots`] permit is released when the last
    /// byte has arrived, before decoding ends. Other replies (redirects, 401, 429, errors)
    /// are read in full and handled as by `execute`.
    ///
    /// The same guarantees hold: the client's size limit (the decoder then sees an error
    /// instead of the end of the body), retries, and for a retry-safe request a reply cut
    /// short (the connection fails mid-body, a JSON body ends early, or the
    /// [`Request::complete_when`] check fails) is fetched again, within the retry policy.
    /// When the decoder fails on a whole reply, its error is returned.
    pub async fn execute_decoding<T: Send + 'static>(
        &self,
        req: Request,
        decode: BodyDecoder<T>,
    ) -> Result<Decoded<T>> {
        match self.run(req, Some(decode)).await? {
            Outcome::Decoded(d) => Ok(d),
            Outcome::Body(r) => Err(Error::Decode {
                path: ".".into(),
                message: format!("the reply (HTTP {}) was not given to the decoder", r.status),
                excerpt: excerpt(&r.body),
                url: redact_url(&r.url),
            }),
        }
    }

    async fn run<T: Send + 'static>(&self, req: Request, decoder: Option<BodyDecoder<T>>) -> Result<Outcome<T>> {
        let inner = &self.inner;
        if let Some(e) = &req.body_error {
            return Err(Error::invalid("body", e.clone()));
        }
        let mut url = self.url_for(&req.path)?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let clock = inner.clock.clone();
        let mut started = clock.now();
        let policy = &inner.retry;
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut attempt: u32 = 0;
        let mut redirects = 0u32;
        let mut refreshed = false;
        let ctx = AuthContext { http: &inner.http, user_agent: &inner.user_agent };

        loop {
            attempt += 1;
            for name in inner.default_buckets.iter().chain(req.buckets.iter()) {
                let Some(l) = inner.limiters.get(name) else {
                    return Err(Error::Config(format!("rate-limit bucket `{name}` is not registered")));
                };
                // Wait for a client-side slot only up to `max_limiter_wait`; a longer wait
                // fails at once (nothing sent, nothing reserved). Queueing behind our own
                // limiter is not server time: it does not count against `max_elapsed`.
                match l.acquire_within(clock.as_ref(), policy.max_limiter_wait).await {
                    Ok(waited) => started += waited,
                    Err(wait) => return Err(Error::RateLimited { retry_after: Some(wait), url: redact_url(&url) }),
                }
            }
            // The server said a quota of this request is used up: wait for the reset it
            // announced (like a client-side limiter wait, not counted as server time).
            let quota_wait = self.server_quota_wait(&req, wall_now(clock.as_ref()))?;
            if !quota_wait.is_zero() {
                if quota_wait > policy.max_server_wait {
                    return Err(Error::RateLimited { retry_after: Some(quota_wait), url: redact_url(&url) });
                }
                tracing::debug!(wait_s = quota_wait.as_secs_f64(), "server quota used up: waiting for its reset");
                clock.sleep(quota_wait).await;
                started += quota_wait;
            }
            let elapsed = clock.now().saturating_sub(started);
            let remaining = policy.max_elapsed.saturating_sub(elapsed);
            if remaining.is_zero() {
                return Err(Error::Timeout { url: redact_url(&url), elapsed });
            }
            let per_attempt = req.timeout.unwrap_or(inner.timeout).min(remaining);

            let mut headers = inner.headers.clone();
            if let Ok(ua) = HeaderValue::from_str(&inner.user_agent) {
                headers.insert(USER_AGENT, ua);
            }
            for (k, v) in &req.headers {
                headers.insert(k.clone(), v.clone());
            }
            let with_auth = same_origin(&url, &inner.base);
            let stamp = if with_auth { inner.auth.apply(&ctx, &mut headers).await? } else { AuthStamp::default() };

            let span = tracing::debug_span!(
                "http_request",
                method = %method,
                url = %redact_url(&url),
                write = req.write,
                attempt,
                status = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
            );
            let t0 = clock.now();
            let outcome = self
                .send_once(&method, &url, headers, &body, per_attempt, req.wire.as_ref(), decoder.as_ref())
                .instrument(span.clone())
                .await;
            let took = clock.now().saturating_sub(t0);
            span.record("elapsed_ms", took.as_millis() as u64);

            let (status, resp_headers, resp_body) = match outcome {
                Attempt::Failed(err, before_send) => {
                    let _g = span.enter();
                    tracing::debug!(error = %err, "request failed");
                    let may_retry = before_send || req.safety == RetrySafety::Safe;
                    if may_retry && attempt < policy.max_attempts {
                        let wait = policy.backoff_delay(attempt);
                        if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                            clock.sleep(wait).await;
                            continue;
                        }
                    }
                    return Err(err);
                }
                Attempt::Fatal(err) => return Err(err),
                Attempt::Done(s, h, b) => (s, h, Got::Body(b)),
                Attempt::Decoded(s, h, result, chunks) => (s, h, Got::Decoded(result, chunks)),
            };
            span.record("status", status);
            let seen_at = wall_now(clock.as_ref());
            for q in inner.server_quotas.values() {
                q.observe(&resp_headers, seen_at);
            }
            let quota_wait = self.server_quota_wait(&req, seen_at)?;
            let quota_hint = (!quota_wait.is_zero()).then_some(quota_wait);
            let resp_body = match resp_body {
                Got::Body(b) => b,
                Got::Decoded(result, chunks) => {
                    let bytes: usize = chunks.iter().map(Bytes::len).sum();
                    {
                        let _g = span.enter();
                        tracing::debug!(status, bytes, decoded = result.is_ok(), "response decoded while it arrived");
                    }
                    // As below for a body read in full: a reply cut short is fetched again.
                    if req.safety == RetrySafety::Safe && attempt < policy.max_attempts {
                        let check = result.is_err() || req.complete.is_some();
                        let cut_short = check && {
                            let whole = join_chunks(&chunks);
                            (result.is_err() && is_json(&resp_headers) && is_truncated_json(&whole))
                                || req.complete.is_some_and(|c| !c(&whole))
                        };
                        let wait = policy.backoff_delay(attempt);
                        if cut_short && clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                            tracing::debug!(bytes, "reply ends early; retrying");
                            clock.sleep(wait).await;
                            continue;
                        }
                    }
                    return result.map(|value| Outcome::Decoded(Decoded { status, headers: resp_headers, url, value }));
                }
            };
            {
                let _g = span.enter();
                tracing::debug!(status, bytes = resp_body.len(), "response");
            }

            // Redirects: followed here so that credentials never go to another origin.
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                if let Some(loc) = resp_headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
                    redirects += 1;
                    if redirects > 10 {
                        return Err(Error::Transport { url: redact_url(&url), message: "too many redirects".into() });
                    }
                    let mut next = url.join(loc).map_err(|e| Error::Transport {
                        url: redact_url(&url),
                        message: format!("bad redirect location: {e}"),
                    })?;
                    if matches!(status, 307 | 308) {
                        if next.query().is_none() && url.query().is_some() {
                            next.set_query(url.query());
                        }
                    } else if method != Method::GET && method != Method::HEAD {
                        method = Method::GET;
                        body = Body::Empty;
                    }
                    url = next;
                    attempt -= 1;
                    continue;
                }
            }

            if status == 401 && with_auth && inner.auth.sends_secret() {
                if !refreshed {
                    refreshed = true;
                    if inner.auth.refresh(&ctx, stamp, &resp_body).await? {
                        attempt -= 1;
                        continue;
                    }
                }
                let message = server_message(&resp_body).unwrap_or_else(|| "the server refused the credentials".into());
                return Err(Error::Auth { status: Some(401), message });
            }

            let retry_after = resp_headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, clock.system_time()));

            if status == 429 {
                let hinted = retry_after
                    .or_else(|| policy.hint.as_ref().and_then(|h| h.wait_from_body(status, &resp_body)))
                    .or(quota_hint);
                let wait = match hinted {
                    Some(w) => w.max(Duration::from_millis(1)),
                    None => policy.backoff_delay(attempt).max(policy.throttle_floor),
                };
                if wait > policy.max_server_wait {
                    tracing::debug!(wait_s = wait.as_secs_f64(), "throttled for longer than allowed; not waiting");
                    return Err(Error::RateLimited { retry_after: Some(wait), url: redact_url(&url) });
                }
                let over_budget = clock.now().saturating_sub(started) + wait >= policy.max_elapsed;
                if attempt < policy.max_attempts && !over_budget {
                    tracing::debug!(wait_s = wait.as_secs_f64(), "throttled; waiting");
                    clock.sleep(wait).await;
                    continue;
                }
                // Out of attempts or time: fall through to an HTTP 429 error that keeps the
                // server's body (nginx HTML pages included) and the wait it asked for.
            }

            if matches!(status, 408 | 500 | 502 | 503 | 504)
                && req.safety == RetrySafety::Safe
                && attempt < policy.max_attempts
            {
                let wait = match retry_after {
                    Some(w) if w <= policy.max_server_wait => w,
                    _ => policy.backoff_delay(attempt),
                };
                if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                    clock.sleep(wait).await;
                    continue;
                }
            }

            if status >= 400 {
                return Err(Error::Http(Box::new(HttpError {
                    status,
                    message: server_message(&resp_body),
                    excerpt: excerpt(&resp_body),
                    url: redact_url(&url),
                    retry_after: if status == 429 {
                        retry_after
                            .or_else(|| policy.hint.as_ref().and_then(|h| h.wait_from_body(status, &resp_body)))
                            .or(quota_hint)
                    } else {
                        retry_after
                    },
                    body: resp_body,
                })));
            }
            // A JSON reply cut short (a proxy or connection that gave up mid-body while the
            // framing still looked complete) is worth another try for a safe request.
            if req.safety == RetrySafety::Safe
                && attempt < policy.max_attempts
                && ((is_json(&resp_headers) && is_truncated_json(&resp_body))
                    || req.complete.is_some_and(|whole| !whole(&resp_body)))
            {
                let wait = policy.backoff_delay(attempt);
                if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                    tracing::debug!(bytes = resp_body.len(), "reply ends early; retrying");
                    clock.sleep(wait).await;
                    continue;
                }
            }
            return Ok(Outcome::Body(Response { status, headers: resp_headers, body: resp_body, url }));
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_once<T: Send + 'static>(
        &self,
        method: &Method,
        url: &Url,
        headers: HeaderMap,
        body: &Body,
        timeout: Duration,
        wire: Option<&Arc<tokio::sync::Semaphore>>,
        decoder: Option<&BodyDecoder<T>>,
    ) -> Attempt<T> {
        let inner = &self.inner;
        let mut rb = inner.http.request(method.clone(), url.clone()).headers(headers).timeout(timeout);
        match body {
            Body::Empty => {}
            Body::Json(b) => {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            Body::Form(pairs) => {
                rb = rb.form(pairs);
            }
            Body::Raw { bytes, content_type } => {
                rb = rb.header(CONTENT_TYPE, content_type.as_str()).body(bytes.clone());
            }
        }
        let redacted = || redact_url(url);
        let clock = inner.clock.clone();
        // The semaphore is never closed; if it were, the request would go without a permit.
        let wire_permit = match wire {
            Some(slots) => slots.clone().acquire_owned().await.ok(),
            None => None,
        };
        let t0 = clock.now();
        let mut resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let before_send = e.is_connect();
                let err = if e.is_timeout() {
                    Error::Timeout { url: redacted(), elapsed: clock.now().saturating_sub(t0) }
                } else {
                    Error::Transport { url: redacted(), message: describe_reqwest(&e) }
                };
                return Attempt::Failed(err, before_send);
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(len) = resp.content_length() {
            if len > inner.max_response_bytes as u64 {
                return Attempt::Fatal(Error::Transport {
                    url: redacted(),
                    message: format!("response of {len} bytes exceeds the limit of {} bytes", inner.max_response_bytes),
                });
            }
        }
        if let Some(decode) = decoder.filter(|_| (200..300).contains(&status)) {
            return self.stream_body(resp, status, headers, url, decode.clone(), wire_permit, t0).await;
        }
        let mut buf = bytes::BytesMut::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > inner.max_response_bytes {
                        return Attempt::Fatal(Error::Transport {
                            url: redacted(),
                            message: format!("response exceeds the limit of {} bytes", inner.max_response_bytes),
                        });
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let err = if e.is_timeout() {
                        Error::Timeout { url: redacted(), elapsed: clock.now().saturating_sub(t0) }
                    } else {
                        Error::Transport { url: redacted(), message: describe_reqwest(&e) }
                    };
                    return Attempt::Failed(err, false);
                }
            }
        }
        drop(wire_permit);
        Attempt::Done(status, headers, buf.freeze())
    }

    /// Feeds a 2xx body to `decode` on the blocking pool while it arrives; keeps the chunks
    /// for the checks of a reply cut short. The wire permit goes when the last byte is in.
    #[allow(clippy::too_many_arguments)]
    async fn stream_body<T: Send + 'static>(
        &self,
        mut resp: reqwest::Response,
        status: u16,
        headers: HeaderMap,
        url: &Url,
        decode: BodyDecoder<T>,
        wire_permit: Option<tokio::sync::OwnedSemaphorePermit>,
        t0: Duration,
    ) -> Attempt<T> {
        let inner = &self.inner;
        let (tx, mut reader) = BodyReader::channel();
        let task = tokio::task::spawn_blocking(move || decode(&mut reader));
        let mut chunks = Vec::new();
        let mut total = 0usize;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if total > inner.max_response_bytes {
                        let message = format!("response exceeds the limit of {} bytes", inner.max_response_bytes);
                        let _ = tx.send(Err(std::io::Error::other(message.clone())));
                        return Attempt::Fatal(Error::Transport { url: redact_url(url), message });
                    }
                    chunks.push(chunk.clone());
                    // A decoder that stopped early dropped its end: the body is still read
                    // to its end, for the checks below and to keep the connection.
                    let _ = tx.send(Ok(chunk));
                }
                Ok(None) => break,
                Err(e) => {
                    let err = if e.is_timeout() {
                        Error::Timeout { url: redact_url(url), elapsed: inner.clock.now().saturating_sub(t0) }
                    } else {
                        Error::Transport { url: redact_url(url), message: describe_reqwest(&e) }
                    };
                    let _ = tx.send(Err(std::io::Error::other(err.to_string())));
                    return Attempt::Failed(err, false);
                }
            }
        }
        drop(tx);
        drop(wire_permit);
        let result = match task.await {
            Ok(r) => r,
            Err(e) => Err(Error::Decode {
                path: ".".into(),
                message: format!("the decoding task failed: {e}"),
                excerpt: chunks.first().map(|c| excerpt(c)).unwrap_or_default(),
                url: redact_url(url),
            }),
        };
        Attempt::Decoded(status, headers, result, chunks)
    }
}

/// What [`HttpClient::run`] gives back: a body read in full, or the decoder's value.
enum Outcome<T> {
    Body(Response),
    Decoded(Decoded<T>),
}

/// A reply's body as read by an attempt.
enum Got<T> {
    Body(Bytes),
    Decoded(Result<T>, Vec<Bytes>),
}

fn join_chunks(chunks: &[Bytes]) -> Bytes {
    match chunks {
        [one] => one.clone(),
        _ => Bytes::from(chunks.concat()),
    }
}

/// The clock's wall time as time since the Unix epoch: the time base of [`ServerQuota`]s, so
/// that clients with different clocks' origins can share one.
fn wall_now(clock: &dyn Clock) -> Duration {
    clock.system_time().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}

/// `Accept: application/json`, for [`HttpClientBuilder::default_header`].
pub fn accept_json() -> (HeaderName, HeaderValue) {
    (ACCEPT, HeaderValue::from_static("application/json"))
}
