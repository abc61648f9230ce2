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

/// Path of the request-log admin route served on every service's port. The `__sandbox` prefix
/// matches no route of the emulated services.
pub const ADMIN_REQUESTS_PATH: &str = "/__sandbox/requests";

impl LoggedRequest {
    /// The entry as the admin route renders it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seq": self.seq,
            "service": self.service.name(),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "content_type": self.content_type,
            "authorization": self.authorization,
            "body": self.body_text(),
            "at_ms": self.at.as_millis() as u64,
            "status": self.status,
            "handled": self.handled,
            "applied": self.applied(),
            "fault": self.fault,
        })
    }
}

/// `GET /__sandbox/requests[?service=<name>|all][&since=<seq>]` lists the log (this port's
/// service by default); `DELETE` clears the whole log. Not logged, never faulted.
pub(crate) fn admin_router(shared: std::sync::Arc<crate::state::Shared>, service: Service) -> axum::Router {
    use axum::http::{Method, Uri};
    use axum::response::Response;
    let handler = move |method: Method, uri: Uri| {
        let shared = shared.clone();
        async move {
            let reply = |status: u16, v: serde_json::Value| -> Response { crate::middleware::canned::json(status, v) };
            match method {
                Method::GET => {}
                Method::DELETE => {
                    shared.log().clear();
                    return reply(200, serde_json::json!({"cleared": true}));
                }
                _ => return reply(405, serde_json::json!({"error": "use GET or DELETE"})),
            }
            let q = crate::util::Pairs::from_query(&uri);
            let filter: Option<Service> = match q.last("service") {
                None => Some(service),
                Some("all") => None,
                Some(name) => match Service::ALL.into_iter().find(|s| s.name() == name) {
                    Some(s) => Some(s),
                    None => {
                        return reply(
                            400,
                            serde_json::json!({"error": format!("unknown service {name:?}: use alerce, atlas, skyportal, forcedphot, fink, tns, lasair or all")}),
                        );
                    }
                },
            };
            let since = match q.last("since").map(str::parse::<u64>) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => return reply(400, serde_json::json!({"error": "since must be a sequence number"})),
            };
            let log = shared.log();
            let rows: Vec<serde_json::Value> = log
                .iter()
                .filter(|r| filter.is_none_or(|s| r.service == s) && r.seq >= since)
                .map(LoggedRequest::to_json)
                .collect();
            reply(
                200,
                serde_json::json!({"service": filter.map(Service::name).unwrap_or("all"), "count": rows.len(), "requests": rows}),
            )
        }
    };
    axum::Router::new().route(ADMIN_REQUESTS_PATH, axum::routing::any(handler))
}
