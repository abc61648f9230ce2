#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! `HttpClient::execute_decoding`: replies decoded while they arrive, with the guarantees of
//! `execute` (retries, replies cut short, the size limit) and wire slots freed before
//! decoding ends.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_core::http::Request;
use broker_core::{BodyDecoder, BodyReader, Error, HttpClient, ManualClock, RetryPolicy};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};

fn client(server: &MockServer, clock: &ManualClock) -> broker_core::HttpClientBuilder {
    let policy = RetryPolicy::default().jitter(false).backoff(Duration::from_millis(100), Duration::from_secs(2));
    HttpClient::builder(server.base_url()).clock(Arc::new(clock.clone())).retry(policy)
}

/// A decoder that sums a JSON list of numbers read through `Read`, counting its calls.
fn summing(calls: Arc<AtomicUsize>) -> BodyDecoder<f64> {
    Arc::new(move |body: &mut BodyReader| {
        calls.fetch_add(1, Ordering::SeqCst);
        let mut text = String::new();
        body.read_to_string(&mut text).map_err(|e| Error::Transport { url: "test".into(), message: e.to_string() })?;
        let v: Vec<f64> = serde_json::from_str(&text).map_err(|e| Error::Decode {
            path: ".".into(),
            message: e.to_string(),
            excerpt: String::new(),
            url: "test".into(),
        })?;
        Ok(v.iter().sum())
    })
}

/// Answers from a script, one reply per request, repeating the last.
fn script(replies: Vec<(u16, &'static str)>) -> impl Fn(&HttpMockRequest) -> HttpMockResponse {
    let n = AtomicUsize::new(0);
    move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
        let (status, body) = replies[i];
        HttpMockResponse::builder().status(status).header("content-type", "application/json").body(body).build()
    }
}

#[tokio::test]
async fn a_large_reply_is_decoded_as_it_arrives() {
    let server = MockServer::start_async().await;
    let numbers: Vec<u64> = (0..200_000).collect();
    let body = serde_json::to_string(&numbers).unwrap();
    server
        .mock_async(|when, then| {
            when.method(GET).path("/numbers");
            then.status(200).header("content-type", "application/json").body(body.clone());
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let got = http.execute_decoding(Request::get("numbers"), summing(calls.clone())).await.unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.value, (0..200_000u64).sum::<u64>() as f64);
    assert_eq!(got.url.path(), "/numbers");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reply_cut_short_is_fetched_again_for_safe_requests_only() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/list");
            then.respond_with(script(vec![(200, "[1, 2, 3"), (200, "[1, 2, 3]")]));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let got = http.execute_decoding(Request::get("list"), summing(calls.clone())).await.unwrap();
    assert_eq!(got.value, 6.0);
    m.assert_calls_async(2).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the first body was decoded, found cut short, fetched again");

    // A POST is not sent again: the decoder's error comes back.
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/list");
            then.status(200).header("content-type", "application/json").body("[1, 2");
        })
        .await;
    let err = http.execute_decoding(Request::post("list"), summing(calls.clone())).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    p.assert_calls_async(1).await;

    // Invalid (not cut short) is not fetched again either.
    let bad = server
        .mock_async(|when, then| {
            when.method(GET).path("/bad");
            then.status(200).header("content-type", "application/json").body("[1, x]");
        })
        .await;
    assert!(http.execute_decoding(Request::get("bad"), summing(calls.clone())).await.is_err());
    bad.assert_calls_async(1).await;

    // The request's own completeness check applies to decoded replies too.
    let checked = server
        .mock_async(|when, then| {
            when.method(GET).path("/checked");
            then.respond_with(script(vec![(200, "[1] "), (200, "[2]\n")]));
        })
        .await;
    fn whole(b: &[u8]) -> bool {
        b.ends_with(b"\n")
    }
    let got = http.execute_decoding(Request::get("checked").complete_when(whole), summing(calls)).await.unwrap();
    assert_eq!(got.value, 2.0);
    checked.assert_calls_async(2).await;
}

#[tokio::test]
async fn errors_and_retries_come_before_the_decoder_and_the_size_limit_holds() {
    let server = MockServer::start_async().await;
    let flaky = server
        .mock_async(|when, then| {
            when.method(GET).path("/flaky");
            then.respond_with(script(vec![(503, r#"{"message": "busy"}"#), (200, "[4]")]));
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            when.method(GET).path("/missing");
            then.status(404).header("content-type", "application/json").body(r#"{"message": "no such list"}"#);
        })
        .await;
    let huge = server
        .mock_async(|when, then| {
            when.method(GET).path("/huge");
            then.status(200).body(format!("[{}1]", "1,".repeat(5_000)));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).max_response_bytes(1000).build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let got = http.execute_decoding(Request::get("flaky"), summing(calls.clone())).await.unwrap();
    assert_eq!(got.value, 4.0);
    flaky.assert_calls_async(2).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the 503 body is not decoded");

    let err = http.execute_decoding(Request::get("missing"), summing(calls.clone())).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("no such list"), "{err}");
    missing.assert_calls_async(1).await;

    let err = http.execute_decoding(Request::get("huge"), summing(calls.clone())).await.unwrap_err();
    assert!(err.to_string().contains("exceeds the limit of 1000 bytes"), "{err}");
    huge.assert_calls_async(1).await;
}

/// With one wire slot, a second request goes out while the first reply is still being
/// decoded: the first decoder waits for the second reply, which could never come if the
/// slot were held until decoding ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wire_slot_is_free_while_a_reply_is_decoded() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/a");
            then.status(200).body("[1]");
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/b");
            then.status(200).body("[2]");
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let slots = Arc::new(tokio::sync::Semaphore::new(1));
    let (b_done_tx, b_done_rx) = std::sync::mpsc::channel::<()>();
    let b_done_rx = Arc::new(std::sync::Mutex::new(b_done_rx));
    let (a_decoding_tx, a_decoding_rx) = tokio::sync::oneshot::channel::<()>();
    let a_decoding_tx = std::sync::Mutex::new(Some(a_decoding_tx));
    let waits_for_b: BodyDecoder<f64> = Arc::new(move |body: &mut BodyReader| {
        let mut text = String::new();
        let _ = body.read_to_string(&mut text);
        if let Some(tx) = a_decoding_tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(());
        }
        let got_b = b_done_rx.lock().map(|rx| rx.recv_timeout(Duration::from_secs(20)).is_ok()).unwrap_or(false);
        Ok(if got_b { 1.0 } else { -1.0 })
    });
    let a = {
        let (http, slots) = (http.clone(), slots.clone());
        tokio::spawn(async move { http.execute_decoding(Request::get("a").wire_slots(slots), waits_for_b).await })
    };
    // A's whole body is in and its decoder is running; B needs the one slot now.
    a_decoding_rx.await.unwrap();
    let b = http
        .execute_decoding(Request::get("b").wire_slots(slots.clone()), summing(Arc::new(AtomicUsize::new(0))))
        .await
        .unwrap();
    assert_eq!(b.value, 2.0);
    b_done_tx.send(()).unwrap();
    let a = a.await.unwrap().unwrap();
    assert_eq!(a.value, 1.0, "A's decoder saw B's reply arrive while it was still decoding");
    assert_eq!(slots.available_permits(), 1);
}
