//! ALeRCE's error kinds on top of the core [`broker_core::Error`].
//!
//! The Python client maps `400` to `ParseError`, `404` to `ObjectNotFoundError` and every
//! other status `>= 400` to `APIError`. This crate does the same with [`Error::Parse`],
//! [`Error::NotFound`] and [`Error::Api`], and also treats FastAPI's `422` validation
//! errors as [`Error::Parse`] (they are rejected parameters too). Everything else
//! (transport, timeouts, throttling, decode errors, invalid input) is [`Error::Core`].

use broker_core::error::collect_strings;
use serde_json::Value;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to ALeRCE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server rejected the parameters (HTTP 400, or FastAPI's 422).
    ///
    /// `errors` holds the field errors: Flask-RESTX's `errors` map, FastAPI's 422 list
    /// (`loc` joined with `.`) or the multisurvey validation map (`{"detail": {field: msg}}`).
    #[error("ALeRCE rejected the request (HTTP {status}) {url}: {message}")]
    Parse {
        /// 400 or 422.
        status: u16,
        /// The server's `message` (Flask) or `detail` (FastAPI) text, or the field errors.
        message: String,
        /// `(field, message)` pairs, in the order the server gave them.
        errors: Vec<(String, String)>,
        /// The redacted URL of the request.
        url: String,
    },
    /// HTTP 404: the object, classifier, stamp or avro packet does not exist.
    #[error("not found (HTTP 404) {url}: {message}")]
    NotFound {
        /// The server's message (`message` for Flask, `detail` for FastAPI), or the body excerpt.
        message: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// Any other error status (`>= 400`), after the core's retries of 5xx.
    #[error("ALeRCE API error (HTTP {status}) {url}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's message, or the start of the body (HTML gateway pages included).
        message: String,
        /// The first characters of the body.
        excerpt: String,
        /// The redacted URL of the request.
        url: String,
    },
    /// No detection of the object has stamps (the Python client's `CandidError`).
    #[error("object {oid} has no detection with stamps")]
    NoStamps {
        /// The object id.
        oid: String,
    },
    /// A stamp or avro packet arrived but could not be read.
    #[error("could not read the {what}: {message}")]
    Format {
        /// What was being read (`"FITS stamp"`, `"avro packet"`, `"gzip stream"`).
        what: &'static str,
        /// What went wrong.
        message: String,
    },
    /// An error of the shared HTTP layer: invalid input, transport, timeout, throttling,
    /// decode errors, configuration.
    #[error(transparent)]
    Core(broker_core::Error),
}

impl Error {
    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Parse { status, .. } | Error::Api { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            Error::Core(e) => e.status(),
            Error::NoStamps { .. } | Error::Format { .. } => None,
        }
    }

    /// Whether the same request could succeed later (5xx, throttling, timeouts, transport).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
            Error::Core(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether this is an object-not-found error.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Shorthand for an invalid-input error (rejected before any request).
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Core(broker_core::Error::invalid(field, message))
    }

    pub(crate) fn format(what: &'static str, message: impl Into<String>) -> Self {
        Error::Format { what, message: message.into() }
    }
}

impl From<broker_core::Error> for Error {
    fn from(e: broker_core::Error) -> Self {
        match e {
            broker_core::Error::Http(h) => {
                let json: Option<Value> = serde_json::from_slice(&h.body).ok();
                let fallback = || h.message.clone().unwrap_or_else(|| h.excerpt.clone());
                match h.status {
                    400 | 422 => {
                        let (message, errors) = parse_error_body(json.as_ref());
                        Error::Parse { status: h.status, message: message.unwrap_or_else(fallback), errors, url: h.url }
                    }
                    404 => {
                        let message = json.as_ref().and_then(top_message).unwrap_or_else(fallback);
                        Error::NotFound { message, url: h.url }
                    }
                    status => {
                        let message = json.as_ref().and_then(top_message).unwrap_or_else(fallback);
                        Error::Api { status, message, excerpt: h.excerpt, url: h.url }
                    }
                }
            }
            other => Error::Core(other),
        }
    }
}

/// `message` (Flask) or `detail` (FastAPI) as text.
fn top_message(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    for key in ["detail", "message", "error"] {
        match obj.get(key) {
            Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(other @ (Value::Array(_) | Value::Object(_))) => {
                let mut parts = Vec::new();
                collect_strings(other, None, &mut parts);
                if !parts.is_empty() {
                    return Some(parts.join("; "));
                }
            }
            _ => {}
        }
    }
    None
}

/// Reads a 400/422 body: Flask `{"errors": {field: msg}, "message": ...}`, FastAPI
/// `{"detail": "..."}`, `{"detail": [{"loc": [...], "msg": ...}]}` or `{"detail": {field: msg}}`.
fn parse_error_body(v: Option<&Value>) -> (Option<String>, Vec<(String, String)>) {
    let Some(obj) = v.and_then(Value::as_object) else { return (None, Vec::new()) };
    let mut errors = Vec::new();
    if let Some(Value::Object(map)) = obj.get("errors") {
        for (k, val) in map {
            errors.push((k.clone(), text_of(val)));
        }
    }
    let mut message = obj.get("message").and_then(Value::as_str).map(str::to_string);
    match obj.get("detail") {
        Some(Value::String(s)) => message = Some(s.clone()),
        Some(Value::Array(items)) => {
            for item in items {
                let loc = item
                    .get("loc")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .map(|p| match p {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                let msg = item.get("msg").map(text_of).unwrap_or_else(|| text_of(item));
                errors.push((loc, msg));
            }
        }
        Some(Value::Object(map)) => {
            for (k, val) in map {
                errors.push((k.clone(), text_of(val)));
            }
        }
        _ => {}
    }
    let joined =
        errors.iter().map(|(k, m)| if k.is_empty() { m.clone() } else { format!("{k}: {m}") }).collect::<Vec<_>>();
    let message = match (message, joined.is_empty()) {
        (Some(m), true) => Some(m),
        (Some(m), false) => Some(format!("{m} ({})", joined.join("; "))),
        (None, false) => Some(joined.join("; ")),
        (None, true) => None,
    };
    (message, errors)
}

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn flask_and_fastapi_bodies() {
        let flask = serde_json::json!({"errors": {"order_mode": "Ordering could be ascendent or descendent The value 'None' is not a valid choice for 'order_mode'."}, "message": "Input payload validation failed"});
        let (m, e) = parse_error_body(Some(&flask));
        assert_eq!(e[0].0, "order_mode");
        assert!(m.unwrap().starts_with("Input payload validation failed (order_mode: Ordering"));
        let fast = serde_json::json!({"detail":[{"type":"missing","loc":["query","oid"],"msg":"Field required","input":null}]});
        let (m, e) = parse_error_body(Some(&fast));
        assert_eq!(e, vec![("query.oid".to_string(), "Field required".to_string())]);
        assert_eq!(m.as_deref(), Some("query.oid: Field required"));
        let ms = serde_json::json!({"detail": {"n_det": "min must be lower than max"}});
        let (_, e) = parse_error_body(Some(&ms));
        assert_eq!(e[0], ("n_det".to_string(), "min must be lower than max".to_string()));
    }
}
