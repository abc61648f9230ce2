//! The one error type of the workspace.

use std::time::Duration;

/// A `Result` with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a broker.
///
/// URLs inside errors are always redacted (see [`crate::redact_url`]): `token=`, `api_key=`
/// and similar query parameters and any user-info are replaced by `REDACTED`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input was rejected before any request was sent.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// Which field or argument was wrong (`"dec"`, `"ids"`, `"radius"`).
        field: String,
        /// What was wrong and what is valid.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{0}")]
    Http(Box<HttpError>),
    /// Authentication failed (bad or expired credentials, missing permission).
    #[error("authentication failed{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Auth {
        /// The HTTP status, when a server answered.
        status: Option<u16>,
        /// What the server (or the login flow) said.
        message: String,
    },
    /// The server asked us to wait longer than the configured maximum, or retries ran out
    /// while it kept throttling.
    #[error("rate limited by {url}{}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// The redacted URL of the request.
        url: String,
    },
    /// A response body did not match the expected shape.
    #[error("could not decode the response of {url} at `{path}`: {message} (body starts: {excerpt:?})")]
    Decode {
        /// The path of the failing field (`items[3].mjd`), or `.` for the whole document.
        path: String,
        /// What serde (or the parser) said.
        message: String,
        /// The first bytes of the body, lossily decoded.
        excerpt: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// A timeout: a single request, or the total time allowed for all attempts.
    #[error("timed out after {:.1} s: {url}", elapsed.as_secs_f64())]
    Timeout {
        /// The redacted URL of the request.
        url: String,
        /// How long we waited.
        elapsed: Duration,
    },
    /// The connection failed (DNS, refused, reset, TLS) or the body could not be read.
    #[error("transport error for {url}: {message}")]
    Transport {
        /// The redacted URL of the request.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The client is misconfigured (bad base URL, unreadable config file, ...).
    #[error("configuration error: {0}")]
    Config(String),
}

/// An error status from a server, with what it said.
#[derive(Debug, Clone)]
pub struct HttpError {
    /// The HTTP status code.
    pub status: u16,
    /// The server's own message when one could be found in the body
    /// (`message`, `detail`, `error`, `errors`, `non_field_errors`, `info`, or the text of an
    /// HTML `<title>`).
    pub message: Option<String>,
    /// The first bytes of the body (at most [`EXCERPT_LEN`] characters), lossily decoded.
    pub excerpt: String,
    /// The redacted URL of the request.
    pub url: String,
    /// The `Retry-After` header, when present and parseable.
    pub retry_after: Option<Duration>,
    /// The whole body, for broker crates that map it to their own error kinds.
    pub body: bytes::Bytes,
}

/// How many characters of a body an error keeps in its excerpt.
pub const EXCERPT_LEN: usize = 300;

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} from {}", self.status, self.url)?;
        match &self.message {
            Some(m) => write!(f, ": {m}"),
            None if !self.excerpt.is_empty() => write!(f, " (body starts: {:?})", self.excerpt),
            None => Ok(()),
        }
    }
}

impl HttpError {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), message: message.into() }
    }

    /// Whether trying the same request again later could succeed (server errors, throttling,
    /// timeouts and transport failures). Input, auth, decode and config errors are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(h) => matches!(h.status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::InvalidInput { .. } | Error::Auth { .. } | Error::Decode { .. } | Error::Config(_) => false,
        }
    }

    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http(h) => Some(h.status),
            Error::Auth { status, .. } => *status,
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The [`HttpError`], if this is one.
    pub fn as_http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(h) => Some(h),
            _ => None,
        }
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::Http(Box::new(e))
    }
}

/// The first [`EXCERPT_LEN`] characters of a body, lossily decoded, whitespace collapsed.
pub fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(EXCERPT_LEN * 4)];
    let text = String::from_utf8_lossy(cut);
    let mut out = String::new();
    let mut last_space = false;
    for ch in text.chars() {
        if out.chars().count() >= EXCERPT_LEN {
            out.push('…');
            break;
        }
        if ch.is_whitespace() {
            if !last_space && !out.is_empty() {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(ch);
            last_space = false;
        }
    }
    out.trim_end().to_string()
}

/// Finds the server's own message in an error body: common JSON keys (`message`, `detail`,
/// `error`, `errors`, `non_field_errors`, `info`), collecting every string of nested lists
/// and maps; or an HTML `<title>`; or a short plain-text body.
pub fn server_message(body: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        return json_message(&v);
    }
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>")) {
        if b > a + 7 {
            let t = text[a + 7..b].trim();
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    }
    if lower.contains('<') {
        // Some other HTML page: the excerpt says enough.
        return None;
    }
    let t = text.trim();
    (!t.is_empty() && t.len() <= 500).then(|| t.to_string())
}

fn json_message(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for key in ["message", "detail", "error", "errors", "non_field_errors", "info"] {
                if let Some(inner) = map.get(key) {
                    let mut parts = Vec::new();
                    collect_strings(inner, None, &mut parts);
                    if !parts.is_empty() {
                        return Some(parts.join("; "));
                    }
                }
            }
            // DRF field errors: {"field": ["msg", ...], ...}
            let mut parts = Vec::new();
            for (k, inner) in map {
                if k == "status" || k == "data" || k == "version" {
                    continue;
                }
                collect_strings(inner, Some(k), &mut parts);
            }
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Value::Array(_) | Value::String(_) => {
            let mut parts = Vec::new();
            collect_strings(v, None, &mut parts);
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    }
}

/// Collects every string in a JSON value (lists and maps recursively), prefixing map keys.
pub fn collect_strings(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::String(s) => out.push(match key {
            Some(k) => format!("{k}: {s}"),
            None => s.clone(),
        }),
        Value::Array(items) => {
            for item in items {
                collect_strings(item, key, out);
            }
        }
        Value::Object(map) => {
            for (k, inner) in map {
                let full = match key {
                    Some(p) => format!("{p}.{k}"),
                    None => k.clone(),
                };
                collect_strings(inner, Some(&full), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_common_bodies() {
        assert_eq!(server_message(br#"{"detail":"Invalid token."}"#).as_deref(), Some("Invalid token."));
        assert_eq!(
            server_message(br#"{"status":"error","message":"Source not found","data":{}}"#).as_deref(),
            Some("Source not found")
        );
        assert_eq!(
            server_message(br#"{"ra":["A valid number is required."],"dec":"bad"}"#).as_deref(),
            Some("ra: A valid number is required.; dec: bad")
        );
        assert_eq!(
            server_message(b"<html><head><title>429 Too Many Requests</title></head><body>x</body></html>").as_deref(),
            Some("429 Too Many Requests")
        );
        assert_eq!(server_message(b"Page not found").as_deref(), Some("Page not found"));
        assert_eq!(server_message(b""), None);
    }

    #[test]
    fn excerpt_is_short_and_collapsed() {
        let body = format!("<html>\n\n  <body>{}</body></html>", "x".repeat(1000));
        let e = excerpt(body.as_bytes());
        assert!(e.starts_with("<html> <body>xxx"));
        assert!(e.chars().count() <= EXCERPT_LEN + 1);
    }

    #[test]
    fn retryable_classification() {
        assert!(Error::Timeout { url: "u".into(), elapsed: Duration::from_secs(1) }.is_retryable());
        assert!(!Error::invalid("dec", "must be in [-90, 90]").is_retryable());
        assert_eq!(Error::invalid("dec", "must be in [-90, 90]").to_string(), "invalid dec: must be in [-90, 90]");
    }
}
