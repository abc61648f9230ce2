//! The layer in front of every emulator: request log, faults, SkyPortal's nginx limit.

use crate::config::{Fault, Service};
use crate::log::LoggedRequest;
use crate::state::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted (bigger bodies get 413).
const MAX_BODY: usize = 256 * 1024 * 1024;

#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) service: Service,
}

enum Picked {
    Pre(Fault),
    Post(Fault),
    None,
}

fn pick(shared: &Shared, service: Service, now: Duration) -> (Picked, Duration) {
    let mut st = shared.faults(service);
    let mut delay = st.random.latency;
    if !st.random.jitter.is_zero() {
        let j = st.rng.f64();
        delay += st.random.jitter.mul_f64(j);
    }
    if let Some(f) = st.scripted.pop_front() {
        return match f {
            Fault::Delay(d) => (Picked::None, delay + d),
            Fault::ResetMidBody | Fault::Truncate | Fault::SlowDrip => (Picked::Post(f), delay),
            other => (Picked::Pre(other), delay),
        };
    }
    if let Some(until) = st.storm_until {
        if now < until {
            let secs = (until - now).as_secs().max(1);
            return (Picked::Pre(Fault::Throttle { retry_after_secs: secs }), delay);
        }
        st.storm_until = None;
    }
    let r = st.random.clone();
    if r.error_rate > 0.0 && st.rng.chance(r.error_rate) {
        let code = [500, 502, 503][st.rng.below(3) as usize];
        return (Picked::Pre(Fault::Status(code)), delay);
    }
    if r.throttle_rate > 0.0 && st.rng.chance(r.throttle_rate) {
        let secs = 1 + st.rng.below(5);
        return (Picked::Pre(Fault::Throttle { retry_after_secs: secs }), delay);
    }
    if r.html_rate > 0.0 && st.rng.chance(r.html_rate) {
        return (Picked::Pre(Fault::Html(502)), delay);
    }
    if r.reset_rate > 0.0 && st.rng.chance(r.reset_rate) {
        return (Picked::Post(Fault::ResetMidBody), delay);
    }
    if r.truncate_rate > 0.0 && st.rng.chance(r.truncate_rate) {
        return (Picked::Post(Fault::Truncate), delay);
    }
    if r.drip_rate > 0.0 && st.rng.chance(r.drip_rate) {
        return (Picked::Post(Fault::SlowDrip), delay);
    }
    (Picked::None, delay)
}

fn fault_name(f: &Fault) -> String {
    match f {
        Fault::Status(c) => format!("status {c}"),
        Fault::Throttle { .. } => "throttle".into(),
        Fault::Html(c) => format!("html {c}"),
        Fault::ResetMidBody => "reset".into(),
        Fault::Truncate => "truncate".into(),
        Fault::SlowDrip => "slow-drip".into(),
        Fault::Delay(_) => "delay".into(),
    }
}

pub(crate) async fn layer(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let shared = ctx.shared.clone();
    let service = ctx.service;
    let (parts, body) = req.into_parts();
    let at = shared.clock.now();
    let hdr = |h: &HeaderMap, n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = hdr(&parts.headers, header::CONTENT_TYPE);
    let authorization = hdr(&parts.headers, header::AUTHORIZATION);
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let (body, too_big) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => (b, false),
        Err(_) => (Bytes::new(), true),
    };
    let mut entry = LoggedRequest {
        seq: 0,
        service,
        method,
        path,
        query,
        content_type,
        authorization: authorization.clone(),
        body: body.clone(),
        at,
        status: 0,
        handled: false,
        fault: None,
    };
    let (picked, delay) = pick(&shared, service, at);
    if !delay.is_zero() {
        tokio::time::sleep(shared.clock.real_for(delay)).await;
    }
    let response = if too_big {
        canned::too_large(service)
    } else {
        match picked {
            Picked::Pre(f) => {
                entry.fault = Some(fault_name(&f));
                canned::pre_fault(&shared, service, &f)
            }
            other => {
                // SkyPortal's nginx limit_req sits in front of the app, keyed by Authorization.
                let limited = service == Service::SkyPortal
                    && match (&shared.config.limits.skyportal, &authorization) {
                        (Some(limit), Some(key)) if !key.is_empty() => {
                            !shared.nginx.check(limit, key, shared.clock.now())
                        }
                        _ => false,
                    };
                if limited {
                    canned::nginx_html(429)
                } else {
                    entry.handled = true;
                    let req = Request::from_parts(parts, Body::from(body));
                    let resp = next.run(req).await;
                    match other {
                        Picked::Post(f) => {
                            entry.fault = Some(fault_name(&f));
                            post_fault(&shared, service, resp, &f).await
                        }
                        _ => resp,
                    }
                }
            }
        }
    };
    entry.status = response.status().as_u16();
    {
        let mut log = shared.log();
        entry.seq = log.len() as u64;
        log.push(entry);
    }
    response
}

async fn post_fault(shared: &Shared, service: Service, resp: Response, f: &Fault) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    match f {
        Fault::Truncate => {
            parts.headers.remove(header::CONTENT_LENGTH);
            let half = bytes.slice(..bytes.len() / 2);
            Response::from_parts(parts, Body::from(half))
        }
        Fault::ResetMidBody => {
            let total = bytes.len();
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total.max(2)));
            let half = bytes.slice(..total / 2);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sandbox: connection reset mid-body")),
            ]);
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::SlowDrip => {
            let (chunk, pause) = {
                let st = shared.faults(service);
                let c = if st.random.drip_chunk == 0 { 64 } else { st.random.drip_chunk };
                let p =
                    if st.random.drip_interval.is_zero() { Duration::from_millis(50) } else { st.random.drip_interval };
                (c, p)
            };
            let chunks: Vec<Bytes> =
                (0..bytes.len()).step_by(chunk).map(|i| bytes.slice(i..(i + chunk).min(bytes.len()))).collect();
            let stream = futures::stream::unfold((chunks.into_iter(), true), move |(mut it, first)| async move {
                let next = it.next()?;
                if !first {
                    tokio::time::sleep(pause).await;
                }
                Some((Ok::<Bytes, std::io::Error>(next), (it, false)))
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Canned replies in each service's real forms.
pub(crate) mod canned {
    use super::*;

    pub(crate) fn json(status: u16, v: serde_json::Value) -> Response {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
    }

    pub(crate) fn text(status: u16, ctype: &'static str, body: String) -> Response {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, [(header::CONTENT_TYPE, ctype)], body).into_response()
    }

    fn reason(status: u16) -> &'static str {
        StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
    }

    /// nginx's default error page (SkyPortal, also used for gateway errors in front of ALeRCE).
    pub(crate) fn nginx_html(status: u16) -> Response {
        let r = reason(status);
        text(
            status,
            "text/html",
            format!(
                "<html>\r\n<head><title>{status} {r}</title></head>\r\n<body>\r\n<center><h1>{status} {r}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            ),
        )
    }

    /// Apache's default error page (ATLAS and the forced-photometry server run behind Apache).
    pub(crate) fn apache_html(status: u16) -> Response {
        let r = reason(status);
        let p = match status {
            404 => "<p>The requested URL was not found on this server.</p>".to_string(),
            502 => "<p>The proxy server received an invalid\nresponse from an upstream server.<br />\n</p>".to_string(),
            503 => "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>".to_string(),
            _ => format!("<p>{r}</p>"),
        };
        text(
            status,
            "text/html; charset=iso-8859-1",
            format!(
                "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} {r}</title>\n</head><body>\n<h1>{r}</h1>\n{p}\n</body></html>\n"
            ),
        )
    }

    /// AWS load balancer page in front of ALeRCE.
    pub(crate) fn alb_html(status: u16) -> Response {
        let r = reason(status);
        text(
            status,
            "text/html",
            format!(
                "<html>\r\n<head><title>{status} {r}</title></head>\r\n<body>\r\n<center><h1>{status} {r}</h1></center>\r\n</body>\r\n</html>\r\n"
            ),
        )
    }

    /// DRF throttle body with `Retry-After` (ATLAS, forced photometry).
    pub(crate) fn drf_throttled(wait: u64) -> Response {
        let unit = if wait == 1 { "second" } else { "seconds" };
        let mut r = json(
            429,
            serde_json::json!({"detail": format!("Request was throttled. Expected available in {wait} {unit}.")}),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        r
    }

    pub(crate) fn skyportal_error(status: u16, message: &str) -> Response {
        json(
            status,
            serde_json::json!({"status": "error", "message": message, "data": {}, "version": crate::skyportal::VERSION}),
        )
    }

    /// Django's production 500 page.
    pub(crate) fn pre_fault_html500() -> Response {
        text(500, "text/html", "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n".into())
    }

    pub(crate) fn too_large(service: Service) -> Response {
        match service {
            // Lasair: nginx's `client_max_body_size` (lasair-lsst `deploy/roles/proxy`).
            Service::SkyPortal | Service::Alerce | Service::Lasair => nginx_html(413),
            _ => apache_html(413),
        }
    }

    pub(crate) fn pre_fault(_shared: &Shared, service: Service, f: &Fault) -> Response {
        match (f, service) {
            (Fault::Throttle { retry_after_secs }, Service::Atlas | Service::ForcedPhot) => drf_throttled(*retry_after_secs),
            (Fault::Throttle { .. }, Service::SkyPortal) => nginx_html(429),
            (Fault::Throttle { retry_after_secs }, Service::Tns) => crate::tns::throttled(*retry_after_secs),
            (Fault::Throttle { retry_after_secs }, Service::Lasair) => crate::lasair::throttled(*retry_after_secs),
            // Fink documents no 429 and no rate-limit headers: an overloaded server answers a
            // 503 with no JSON and no `Retry-After` (Fink API notes, `docs/services/api/tips.md`;
            // the page is the same server page as Fink's other injected 5xx).
            (Fault::Throttle { .. }, Service::Fink) => apache_html(503),
            (Fault::Throttle { retry_after_secs }, Service::Alerce) => {
                let mut r = alb_html(429);
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                r
            }
            (Fault::Html(code), Service::SkyPortal | Service::Lasair) => nginx_html(*code),
            (Fault::Html(code), Service::Alerce) => alb_html(*code),
            (Fault::Html(code), _) => apache_html(*code),
            (Fault::Status(500), Service::Alerce) => json(500, serde_json::json!({"message": "Internal Server Error"})),
            (Fault::Status(500), Service::SkyPortal) => skyportal_error(500, "Internal server error"),
            (Fault::Status(503), Service::SkyPortal) => json(503, serde_json::json!({"status": "error", "message": "System provisioning"})),
            // Lasair: nginx in front of mod_wsgi-express (lasair-lsst `deploy/roles/proxy`,
            // `deploy/roles/webserver`): gateway pages are nginx's; a 500 is Django's page below.
            (Fault::Status(code), Service::Lasair) if *code != 500 => nginx_html(*code),
            (Fault::Status(500), _) => text(500, "text/html", "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n".into()),
            (Fault::Status(code), Service::SkyPortal | Service::Alerce) => {
                if service == Service::Alerce { alb_html(*code) } else { nginx_html(*code) }
            }
            (Fault::Status(code), _) => apache_html(*code),
            _ => apache_html(500),
        }
    }
}
