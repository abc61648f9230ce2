//! The request log: every request each emulator received, to assert exactly-once behaviour.

use crate::config::Service;
use bytes::Bytes;
use std::time::Duration;

/// One request as the sandbox received it, and what it did with it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Sequence number across all services, from 0.
    pub seq: u64,
    /// Which emulator received it.
    pub service: Service,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path as sent, e.g. `/sne/atlas4/api/objects/`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// `Authorization` header (it is a sandbox credential, never a real secret).
    pub authorization: Option<String>,
    /// Request body.
    pub body: Bytes,
    /// Simulated time of arrival since the sandbox started.
    pub at: Duration,
    /// Status sent (for a reset connection: the status line that was sent before the reset).
    pub status: u16,
    /// Whether the emulator's handler ran (false when a fault or the SkyPortal nginx limit
    /// answered first). A write is applied at most when this is true and the status is 2xx.
    pub handled: bool,
    /// The injected fault, if any (e.g. `"status 503"`, `"reset"`, `"throttle"`).
    pub fault: Option<String>,
}

impl LoggedRequest {
    /// The body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body parsed as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The query string parsed as pairs (repeated keys kept).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes()).into_owned().collect()
    }

    /// True when the handler ran and answered 2xx: the request took effect.
    pub fn applied(&self) -> bool {
        self.handled && (200..300).contains(&self.status)
    }
}
