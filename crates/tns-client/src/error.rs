//! TNS's error kinds on top of the core [`broker_core::Error`].
//!
//! The TNS API layer answers with a JSON envelope `{"id_code": ..., "id_message": ...}`; its
//! codes are kept as [`Error::Api`] (429 as [`Error::RateLimited`]). The web front end in front
//! of it answers some requests with a plain (HTML or empty) `403`, `500` or `503`; the TNS
//! sample code lists these as "Forbidden", "Internal Server Error: Something is broken" and
//! "Service Unavailable". They become [`Error::Forbidden`] and [`Error::Unavailable`].

use std::time::Duration;

use broker_core::HttpError;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to TNS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an `id_code` other than 200 (in the envelope, or as the HTTP
    /// status with a JSON body).
    #[error("TNS answered {id_code} {url}: {message}")]
    Api {
        /// The envelope's `id_code` (or the HTTP status when the body has none).
        id_code: u16,
        /// The envelope's `id_message`.
        message: String,
        /// The whole JSON body, for callers that want the details (a report's feedback).
        body: Option<serde_json::Value>,
        /// The redacted URL of the request.
        url: String,
    },
    /// The API said the quota is used up (HTTP 429 with an `id_code` body), after the core's
    /// waits and retries, or the wait it asked for is longer than allowed.
    #[error("TNS rate limit reached{}: {message}", retry_after.map(|d| format!(" (reset in {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The wait the server announced (`x-rate-limit-reset` / `x-cone-rate-limit-reset`).
        retry_after: Option<Duration>,
        /// The server's `id_message`, or a description.
        message: String,
    },
    /// A plain (not JSON) 403 from the web front end: usually a missing or malformed
    /// `tns_marker` User-Agent, or a key/bot mismatch.
    #[error(
        "TNS front end refused the request (HTTP 403, not an API reply) {url}: check the bot/user id and name of the tns_marker User-Agent and the api key"
    )]
    Forbidden {
        /// The redacted URL of the request.
        url: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// A plain (not JSON) 500 or 503 from the web front end, after the core's retries of
    /// retry-safe requests.
    #[error("TNS is unavailable (HTTP {status}) {url}")]
    Unavailable {
        /// 500, 502, 503 or 504.
        status: u16,
        /// The redacted URL of the request.
        url: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// The object asked for does not exist (an empty object reply).
    #[error("no TNS object {0}")]
    NotFound(String),
    /// A file (the public-objects CSV, a zip) could not be read.
    #[error("could not read the {what}: {message}")]
    Format {
        /// What was being read.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A local file (the mirror) could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An error of the shared HTTP layer: invalid input, transport, timeout, decode errors,
    /// configuration, authentication.
    #[error(transparent)]
    Core(broker_core::Error),
}

impl Error {
    /// The `id_code` or HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { id_code, .. } => Some(*id_code),
            Error::RateLimited { .. } => Some(429),
            Error::Forbidden { .. } => Some(403),
            Error::Unavailable { status, .. } => Some(*status),
            Error::Core(e) => e.status(),
            _ => None,
        }
    }

    /// Whether trying again later could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Unavailable { .. } => true,
            Error::Api { id_code, .. } => matches!(id_code, 429 | 500 | 502 | 503 | 504),
            Error::Core(e) => e.is_retryable(),
            _ => false,
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Core(broker_core::Error::invalid(field, message))
    }
}

/// Reads `id_code`/`id_message` from a JSON body.
pub(crate) fn id_code_of(v: &serde_json::Value) -> Option<(u16, String)> {
    let code = v.get("id_code")?;
    let code = code.as_u64().or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))?;
    let message = v.get("id_message").and_then(|m| m.as_str()).unwrap_or_default().to_string();
    Some((u16::try_from(code).unwrap_or(u16::MAX), message))
}

fn from_http(h: &HttpError) -> Error {
    let json: Option<serde_json::Value> = serde_json::from_slice(&h.body).ok();
    if let Some((id_code, message)) = json.as_ref().and_then(id_code_of) {
        if id_code == 429 || h.status == 429 {
            return Error::RateLimited { retry_after: h.retry_after, message };
        }
        return Error::Api { id_code, message, body: json, url: h.url.clone() };
    }
    match h.status {
        403 => Error::Forbidden { url: h.url.clone(), excerpt: h.excerpt.clone() },
        500 | 502 | 503 | 504 => {
            Error::Unavailable { status: h.status, url: h.url.clone(), excerpt: h.excerpt.clone() }
        }
        429 => Error::RateLimited {
            retry_after: h.retry_after,
            message: h.message.clone().unwrap_or_else(|| "too many requests".into()),
        },
        status => Error::Api {
            id_code: status,
            message: h.message.clone().unwrap_or_else(|| h.excerpt.clone()),
            body: json,
            url: h.url.clone(),
        },
    }
}

impl From<broker_core::Error> for Error {
    fn from(e: broker_core::Error) -> Self {
        match &e {
            broker_core::Error::Http(h) => from_http(h),
            broker_core::Error::RateLimited { retry_after, .. } => Error::RateLimited {
                retry_after: *retry_after,
                message: "the announced wait is longer than the client allows".into(),
            },
            _ => Error::Core(e),
        }
    }
}
