//! Building a request: method, path, query, headers, body, retry safety and the limits it
//! goes through; its `Debug` without secrets.

use super::*;

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
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Body,
    pub(super) body_error: Option<String>,
    pub(super) safety: RetrySafety,
    pub(super) write: bool,
    pub(super) buckets: Vec<String>,
    pub(super) server_quotas: Vec<String>,
    pub(super) timeout: Option<Duration>,
    pub(super) complete: Option<fn(&[u8]) -> bool>,
    pub(super) wire: Option<Arc<tokio::sync::Semaphore>>,
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
}
