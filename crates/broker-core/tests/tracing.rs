#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Request spans carry method, redacted URL, attempt, status and elapsed time; no secret
//! ever reaches a log line, even at trace level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use broker_core::auth::LoginToken;
use broker_core::{HttpClient, ManualClock, Request, RetryPolicy, SecretString};
use httpmock::prelude::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn spans_have_request_fields_and_no_secrets() {
    let capture = Capture::default();
    let c2 = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || c2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api-token-auth/");
            then.status(200).json_body(json!({"token": "tok-aaaa1111"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/");
            then.status(503).body("down");
        })
        .await;
    let auth = LoginToken::new(
        url::Url::parse(&server.url("/api-token-auth/")).unwrap(),
        "ann",
        SecretString::from("pw-bbbb2222".to_string()),
        "Token",
    );
    let http = HttpClient::builder(server.base_url())
        .auth(auth)
        .clock(Arc::new(ManualClock::new()))
        .retry(RetryPolicy::default().max_attempts(2).jitter(false))
        .build()
        .unwrap();
    let err = http.execute(Request::get("queue/").query("token", "tok-cccc3333")).await.unwrap_err();
    assert_eq!(err.status(), Some(503));

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("http_request"), "{log}");
    assert!(log.contains("method=GET"), "{log}");
    assert!(log.contains("attempt=1") && log.contains("attempt=2"), "{log}");
    assert!(log.contains("status=503"), "{log}");
    assert!(log.contains("token=REDACTED"), "{log}");
    for secret in ["tok-aaaa1111", "pw-bbbb2222", "tok-cccc3333"] {
        assert!(!log.contains(secret), "{secret} leaked into the log:\n{log}");
    }
}

/// Every request span says whether the request is a write: an idempotent write (retry-safe)
/// still shows `write=true`, a read POST `write=false`, a GET `write=false`.
#[tokio::test]
async fn spans_say_which_requests_are_writes() {
    use broker_core::RetrySafety;
    let capture = Capture::default();
    let c2 = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || c2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({}));
        })
        .await;
    let http = HttpClient::builder(server.base_url()).clock(Arc::new(ManualClock::new())).build().unwrap();
    let upsert = Request::post("upsert/").retry_safety(RetrySafety::Safe);
    assert!(upsert.is_write() && upsert.safety() == RetrySafety::Safe);
    assert!(format!("{upsert:?}").contains("write: true"), "{upsert:?}");
    http.execute(upsert).await.unwrap();
    http.execute(Request::post("search/").retry_safety(RetrySafety::Safe).writes(false)).await.unwrap();
    http.execute(Request::get("thing/")).await.unwrap();

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let line = |path: &str| log.lines().find(|l| l.contains(path)).unwrap_or_default().to_string();
    assert!(line("/upsert/").contains("write=true"), "{log}");
    assert!(line("/search/").contains("write=false"), "{log}");
    assert!(line("/thing/").contains("write=false"), "{log}");
}

#[test]
fn methods_declare_writes_by_default() {
    assert!(!Request::get("a").is_write());
    assert!(!Request::head("a").is_write());
    assert!(Request::post("a").is_write());
    assert!(Request::put("a").is_write());
    assert!(Request::patch("a").is_write());
    assert!(Request::delete("a").is_write());
    assert!(!Request::post("a").writes(false).is_write());
}
