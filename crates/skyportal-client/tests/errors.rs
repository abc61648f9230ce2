//! The envelope, error mapping, retries, rate limits and secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::Client;
use skyportal_client::broker_core::{Error, ManualClock, RetryPolicy};
use skyportal_client::photometry::{MagRow, PhotometryUpload};

const NGINX_429: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

#[tokio::test]
async fn status_error_with_http_200_is_an_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF1");
            then.status(200).json_body(err("Insufficient permissions"));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sources().get("ZTF1").send().await.unwrap_err();
    let h = e.as_http().expect("an HTTP error");
    assert_eq!((h.status, h.message.as_deref()), (200, Some("Insufficient permissions")));
}

#[tokio::test]
async fn bad_request_keeps_the_server_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/candidates/ZTF1");
            then.status(400).json_body(err("Invalid ID"));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.candidates().get("ZTF1").send().await.unwrap_err();
    assert!(skyportal_client::is_not_found(&e));
    assert!(e.to_string().contains("Invalid ID"), "{e}");
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_auth_errors() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF1");
            then.status(401).json_body(err("HTTP 401: Unauthorized"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF2/photometry");
            then.status(403).json_body(err("Insufficient permissions for User 5 to read Obj ZTF2"));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sources().get("ZTF1").send().await.unwrap_err();
    assert!(matches!(&e, Error::Auth { status: Some(401), .. }), "{e:?}");
    let e = c.photometry().for_source("ZTF2").send().await.unwrap_err();
    assert!(
        matches!(&e, Error::Auth { status: Some(403), message } if message.contains("Insufficient permissions")),
        "{e:?}"
    );
}

#[tokio::test]
async fn html_error_pages_are_typed_with_an_excerpt() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry");
            then.status(413)
                .header("content-type", "text/html")
                .body("<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>");
        })
        .await;
    let (c, clock) = client(&server);
    let up = PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1)]);
    let f = c.photometry().post(&up).await.unwrap_err();
    let h = f.error.as_http().unwrap();
    assert_eq!(h.status, 413);
    assert_eq!(h.message.as_deref(), Some("413 Request Entity Too Large"));
    assert!(h.excerpt.contains("<html>"));
    assert_eq!((f.failed_rows.clone(), f.stored.rows_stored), (0..1, 0));
    assert!(clock.sleeps().is_empty(), "a 413 is final");
}

#[tokio::test]
async fn non_json_200_is_a_decode_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sysinfo");
            then.status(200).header("content-type", "text/html").body("<html>captive portal</html>");
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sysinfo().await.unwrap_err();
    assert!(matches!(&e, Error::Decode { excerpt, .. } if excerpt.contains("captive portal")), "{e:?}");
}

#[tokio::test]
async fn decode_errors_name_the_field() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources");
            then.json_body(ok(
                json!({"sources": [source_json("A", 1.0), {"id": "B", "ra": "not a number"}], "totalMatches": 2}),
            ));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sources().list().collect_all().await.unwrap_err();
    assert!(matches!(&e, Error::Decode { path, .. } if path == "data.sources[1].ra"), "{e:?}");
}

/// Answers 429 (nginx HTML, no `Retry-After`) `n` times, then `ok_body`.
fn throttled_then(
    n: usize,
    ok_body: serde_json::Value,
) -> impl Fn(&httpmock::HttpMockRequest) -> httpmock::HttpMockResponse + Send + Sync + 'static {
    let count = Arc::new(AtomicUsize::new(0));
    move |_req| {
        if count.fetch_add(1, Ordering::SeqCst) < n {
            httpmock::HttpMockResponse::builder()
                .status(429)
                .header("content-type", "text/html")
                .body(NGINX_429)
                .build()
        } else {
            httpmock::HttpMockResponse::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(ok_body.to_string())
                .build()
        }
    }
}

#[tokio::test]
async fn nginx_429_without_retry_after_waits_at_least_a_second() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF1");
            then.respond_with(throttled_then(2, ok(source_json("ZTF1", 1.0))));
        })
        .await;
    let (c, clock) = client(&server);
    let s = c.sources().get("ZTF1").send().await.unwrap();
    assert_eq!(s.id, "ZTF1");
    assert_eq!(m.calls_async().await, 3);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    assert!(sleeps.iter().all(|d| *d >= Duration::from_secs(1)), "{sleeps:?}");
}

#[tokio::test]
async fn persistent_429_becomes_rate_limited() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/config");
            then.status(429).body(NGINX_429);
        })
        .await;
    let (c, _) = client(&server);
    let e = c.config().await.unwrap_err();
    // Out of attempts: an HTTP 429 (or RateLimited, depending on the core), retryable later.
    assert_eq!(e.status(), Some(429), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(m.calls_async().await, 5);
}

#[tokio::test]
async fn get_is_retried_on_502_and_post_is_not() {
    let server = MockServer::start_async().await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/streams");
            then.status(502).body(NGINX_502);
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry");
            then.status(502).body(NGINX_502);
        })
        .await;
    let (c, clock) = client(&server);
    let e = c.resources().streams().await.unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert_eq!(e.as_http().unwrap().message.as_deref(), Some("502 Bad Gateway"));
    assert_eq!(g.calls_async().await, 5);
    assert_eq!(clock.sleeps().len(), 4);
    let up = PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1)]);
    let f = c.photometry().post(&up).await.unwrap_err();
    assert_eq!(f.error.status(), Some(502));
    assert_eq!(p.calls_async().await, 1, "a POST that may have been acted on is not repeated");
}

#[tokio::test]
async fn post_is_retried_after_429() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry");
            then.respond_with(throttled_then(1, ok(json!({"ids": [11], "upload_id": "u-1"}))));
        })
        .await;
    let (c, clock) = client(&server);
    let up = PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1)]);
    let r = c.photometry().post(&up).await.unwrap();
    assert_eq!(r.ids, vec![11]);
    assert_eq!(m.calls_async().await, 2);
    assert!(clock.sleeps()[0] >= Duration::from_secs(1));
}

#[tokio::test]
async fn client_side_limit_is_five_per_second_burst_ten() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sysinfo");
            then.json_body(ok(json!({"gitlog": []})));
        })
        .await;
    let clock = ManualClock::new();
    // A token of its own: limiters are shared per (deployment, token).
    let c = Client::builder()
        .base_url(server.base_url())
        .token("rate-limit-test-token".to_string())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    for _ in 0..12 {
        c.sysinfo().await.unwrap();
    }
    assert_eq!(m.calls_async().await, 12);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps, vec![Duration::from_millis(200), Duration::from_millis(200)], "{sleeps:?}");
}

#[tokio::test]
async fn secrets_never_show() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF1");
            then.status(401).json_body(err("HTTP 401: Unauthorized"));
        })
        .await;
    let (c, _) = client(&server);
    assert!(!format!("{c:?}").contains(TOKEN));
    let e = c.sources().get("ZTF1").send().await.unwrap_err();
    assert!(!format!("{e:?}").contains(TOKEN));
    assert!(!e.to_string().contains(TOKEN));
    let b = Client::builder().base_url("https://fritz.science").token(TOKEN.to_string());
    assert!(!format!("{b:?}").contains(TOKEN));
}

#[tokio::test]
async fn base_url_is_required_and_http_remote_refused() {
    let e = Client::builder().token("t".to_string()).build().unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("https://fritz.science")), "{e}");
    let e = Client::new("http://fritz.science", "t".to_string()).unwrap_err();
    assert!(matches!(e, Error::Config(_)));
    let c = Client::builder().base_url("http://localhost:5000/api").token("t".to_string()).build().unwrap();
    assert_eq!(c.http().base_url().as_str(), "http://localhost:5000/");
}

#[tokio::test]
async fn sysinfo_needs_no_token_and_reports_version() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sysinfo").header_missing("authorization");
            then.json_body(json!({"status": "success", "version": "1.4.0+fritz.3a7b641", "data": {
                "gitlog": [{"time": "2026-08-21T10:00:00", "sha": "8bd346c", "description": "Accept sexagesimal coordinates"}]}}));
        })
        .await;
    let c = Client::builder().base_url(server.base_url()).retry(RetryPolicy::none()).no_rate_limit().build().unwrap();
    let s = c.sysinfo().await.unwrap();
    assert_eq!(s.version.as_deref(), Some("1.4.0+fritz.3a7b641"));
    assert_eq!(s.gitlog[0]["sha"], "8bd346c");
    m.assert_async().await;
}

#[tokio::test]
async fn put_and_patch_are_retried_on_503() {
    let server = MockServer::start_async().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/photometry");
            then.status(503).json_body(json!({"status": "error", "message": "System provisioning"}));
        })
        .await;
    let patch = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/api/sources/ZTF1");
            then.status(503).json_body(json!({"status": "error", "message": "System provisioning"}));
        })
        .await;
    let (c, _) = client(&server);
    let up = PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1)]);
    let f = c.photometry().upsert(&up).await.unwrap_err();
    assert_eq!(f.error.as_http().unwrap().message.as_deref(), Some("System provisioning"));
    assert_eq!(put.calls_async().await, 5);
    let u = skyportal_client::sources::SourceUpdate { redshift: Some(0.1), ..Default::default() };
    assert_eq!(c.sources().update("ZTF1", &u).await.unwrap_err().status(), Some(503));
    assert_eq!(patch.calls_async().await, 5);
}

#[tokio::test]
async fn json_without_envelope_is_an_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/config");
            then.json_body(json!({"allowedSpectrumTypes": ["source"]}));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.config().await.unwrap_err();
    assert!(e.to_string().contains("not a SkyPortal envelope"), "{e}");
}
