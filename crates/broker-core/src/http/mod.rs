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

mod attempt;
mod builder;
mod execute;
mod request;
mod response;

pub use attempt::describe_reqwest;
pub use builder::{HttpClientBuilder, parse_base_url};
pub use request::{Body, ListStyle, Request};
pub use response::{Response, decode_json, decode_json_lenient, is_truncated_json, replace_nonfinite_json};

use attempt::Attempt;
use builder::same_origin;
use response::is_json;

/// The default user agent: `astrobrokers/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("astrobrokers/", env!("CARGO_PKG_VERSION"));

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

impl HttpClient {
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

    /// The URL a path resolves to: an absolute `http(s)://` URL as is; anything else
    /// appended to the base URL (a leading `/` is dropped; trailing slashes are kept).
    pub fn url_for(&self, path: &str) -> Result<Url> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return Url::parse(path).map_err(|e| Error::invalid("url", format!("{path:?} is not a valid URL: {e}")));
        }
        let joined = format!("{}{}", self.inner.base.as_str(), path.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| Error::invalid("path", format!("{path:?} does not form a valid URL: {e}")))
    }
}

/// `Accept: application/json`, for [`HttpClientBuilder::default_header`].
pub fn accept_json() -> (HeaderName, HeaderValue) {
    (ACCEPT, HeaderValue::from_static("application/json"))
}
