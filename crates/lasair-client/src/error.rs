//! Lasair's error kinds on top of the core [`broker_core::Error`].
//!
//! Both Lasair servers are Django REST framework views (`webserver/lasairapi/views.py` in
//! `lsst-uk/lasair4` and `lsst-uk/lasair-lsst`). Their error bodies:
//!
//! - **400 `{"error": "..."}`**: the serializer ran and said no (`views.py::retcode` turns
//!   any reply with an `error` key into a 400): a cone radius over 1000″, a query the
//!   query builder refused or that MySQL failed on (that message carries HTML such as
//!   `<br/><b>`; it is stripped here), an annotator topic the user does not own.
//!   → [`Error::Rejected`].
//! - **400 `{"field": ["This field is required."]}`**: DRF field validation.
//!   → [`Error::Validation`] with the `(field, message)` pairs.
//! - **401 `{"detail": "Invalid token."}`**: → the core's [`broker_core::Error::Auth`]
//!   (inside [`Error::Core`]).
//! - **404 `{"detail": "Not found."}`** (LSST `object/` of an unknown id) or
//!   `{"message": "Object ... not found"}` (LSST Sherlock) → [`Error::NotFound`].
//! - **429 `{"message": "Request limit exceeded. Either wait an hour, ..."}`** with DRF's
//!   `Retry-After` (`webserver/lasairapi/throttle.py::custom_exception_handler` only
//!   replaces the body) → retried by the core while the wait is within the policy, then
//!   [`Error::Throttled`] (or the core's `RateLimited` when the wait is longer than the
//!   policy allows, or when the client-side quota would wait too long).
//! - anything else (500s, gateway pages) → [`Error::Api`].

use broker_core::error::collect_strings;
use serde_json::Value;
use std::time::Duration;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Lasair.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 400 with `{"error": "..."}`: the server understood the request and refused it.
    #[error("Lasair refused the request (HTTP 400) {url}: {message}")]
    Rejected {
        /// The `error` text, with HTML tags removed.
        message: String,
        /// The `error` text as the server sent it (may contain HTML).
        raw: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// HTTP 400 with DRF field errors (`{"ra": ["A valid number is required."]}`).
    #[error("Lasair rejected the parameters (HTTP 400) {url}: {message}")]
    Validation {
        /// `field: message` pairs joined with `; `.
        message: String,
        /// `(field, message)` pairs, in the order the server gave them.
        errors: Vec<(String, String)>,
        /// The redacted URL of the request.
        url: String,
    },
    /// HTTP 404: no such object.
    #[error("not found (HTTP 404) {url}: {message}")]
    NotFound {
        /// The server's `detail` or `message`.
        message: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// HTTP 429 after the core's retries: the per-account hourly limit is spent.
    #[error("Lasair request limit exceeded (HTTP 429) {url}: {message}{}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    Throttled {
        /// The server's `message`.
        message: String,
        /// The `Retry-After` the server sent, when it sent one.
        retry_after: Option<Duration>,
        /// The redacted URL of the request.
        url: String,
    },
    /// Any other error status.
    #[error("Lasair API error (HTTP {status}) {url}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's message, or the start of the body.
        message: String,
        /// The first characters of the body.
        excerpt: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// An error of the shared HTTP layer: invalid input (rejected before any request),
    /// authentication (401), transport, timeout, the client-side quota
    /// (`RateLimited`), decode errors, configuration.
    #[error(transparent)]
    Core(broker_core::Error),
}

impl Error {
    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Rejected { .. } | Error::Validation { .. } => Some(400),
            Error::NotFound { .. } => Some(404),
            Error::Throttled { .. } => Some(429),
            Error::Api { status, .. } => Some(*status),
            Error::Core(e) => e.status(),
        }
    }

    /// Whether the same request could succeed later (5xx, throttling, timeouts, transport).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } => true,
            Error::Api { status, .. } => matches!(status, 408 | 425 | 500 | 502 | 503 | 504),
            Error::Core(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether this is a not-found error.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Shorthand for an invalid-input error (rejected before any request).
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Core(broker_core::Error::invalid(field, message))
    }
}

impl From<broker_core::Error> for Error {
    fn from(e: broker_core::Error) -> Self {
        let broker_core::Error::Http(h) = e else { return Error::Core(e) };
        let json: Option<Value> = serde_json::from_slice(&h.body).ok();
        let fallback = || h.message.clone().unwrap_or_else(|| h.excerpt.clone());
        match h.status {
            400 => match json.as_ref().and_then(Value::as_object) {
                Some(obj) => match obj.get("error") {
                    Some(Value::String(raw)) => {
                        Error::Rejected { message: strip_html(raw), raw: raw.clone(), url: h.url }
                    }
                    _ => {
                        let errors: Vec<(String, String)> = obj.iter().map(|(k, v)| (k.clone(), text_of(v))).collect();
                        let message = if errors.is_empty() {
                            fallback()
                        } else {
                            errors.iter().map(|(k, m)| format!("{k}: {m}")).collect::<Vec<_>>().join("; ")
                        };
                        Error::Validation { message, errors, url: h.url }
                    }
                },
                None => Error::Api { status: 400, message: fallback(), excerpt: h.excerpt, url: h.url },
            },
            404 => Error::NotFound { message: fallback(), url: h.url },
            429 => Error::Throttled { message: fallback(), retry_after: h.retry_after, url: h.url },
            status => Error::Api { status, message: fallback(), excerpt: h.excerpt, url: h.url },
        }
    }
}

/// The text of a DRF error value (`["msg", ...]`, a string, or nested maps).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => {
            let mut parts = Vec::new();
            collect_strings(other, None, &mut parts);
            if parts.is_empty() { other.to_string() } else { parts.join("; ") }
        }
    }
}

/// Removes HTML tags (`<br/>` becomes a space) and collapses whitespace.
pub(crate) fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn html_is_stripped() {
        let raw = "Your query:<br/><b>SELECT x FROM objects LIMIT 10 OFFSET 0</b><br/>returned the error<br/><i>Unknown column 'x'</i>";
        assert_eq!(
            strip_html(raw),
            "Your query: SELECT x FROM objects LIMIT 10 OFFSET 0 returned the error Unknown column 'x'"
        );
    }
}
