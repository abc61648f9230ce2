#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The HTTP client against httpmock servers: exact requests seen, exact outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_core::auth::LoginToken;
use broker_core::http::Request;
use broker_core::{
    AvailableInHint, Error, ExposeSecret, HeaderToken, HttpClient, ListStyle, ManualClock, Quota, RateLimiter,
    RetryPolicy, RetrySafety, SecretString,
};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::json;

fn policy() -> RetryPolicy {
    RetryPolicy::default().jitter(false).backoff(Duration::from_millis(100), Duration::from_secs(2))
}

fn client(server: &MockServer, clock: &ManualClock) -> broker_core::HttpClientBuilder {
    HttpClient::builder(server.base_url()).clock(Arc::new(clock.clone())).retry(policy())
}

type Scripted = Vec<(u16, Vec<(&'static str, String)>, String)>;

/// A responder that answers from a script, one response per request, repeating the last.
fn script(responses: Scripted) -> impl Fn(&HttpMockRequest) -> HttpMockResponse {
    let n = AtomicUsize::new(0);
    move |_req| {
        let i = n.fetch_add(1, Ordering::SeqCst).min(responses.len() - 1);
        let (status, headers, body) = &responses[i];
        let mut b = HttpMockResponse::builder().status(*status);
        for (k, v) in headers {
            b = b.header(*k, v.clone());
        }
        b.body(body.clone()).build()
    }
}

#[tokio::test]
async fn header_token_forms_are_sent_exactly() {
    let server = MockServer::start_async().await;
    for (scheme, expected) in [("Token", "Token abc"), ("token", "token abc"), ("Bearer", "Bearer abc")] {
        let m = server
            .mock_async(|when, then| {
                when.method(GET).path("/who").header("authorization", expected);
                then.status(200).json_body(json!({"ok": true}));
            })
            .await;
        let clock = ManualClock::new();
        let http = client(&server, &clock).auth(HeaderToken::new(scheme, "abc".to_string())).build().unwrap();
        let v: serde_json::Value = http.json(Request::get("who")).await.unwrap();
        assert_eq!(v["ok"], true);
        m.assert_async().await;
        m.delete_async().await;
    }
}

#[tokio::test]
async fn default_user_agent_and_override() {
    let server = MockServer::start_async().await;
    let ua = format!("astrobrokers/{}", env!("CARGO_PKG_VERSION"));
    let m = server
        .mock_async(|when, then| {
            when.path("/a").header("user-agent", ua.as_str());
            then.status(200);
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.path("/b").header("user-agent", "mybot/1.0");
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    client(&server, &clock).build().unwrap().execute(Request::get("a")).await.unwrap();
    client(&server, &clock).user_agent("mybot/1.0").build().unwrap().execute(Request::get("b")).await.unwrap();
    m.assert_async().await;
    m2.assert_async().await;
}

#[tokio::test]
async fn base_url_join_keeps_trailing_slashes() {
    let server = MockServer::start_async().await;
    let with = server
        .mock_async(|when, then| {
            when.path("/sne/atlas4/api/objects/");
            then.status(200);
        })
        .await;
    let without = server
        .mock_async(|when, then| {
            when.path("/sne/atlas4/api/objects");
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    for base in ["/sne/atlas4/api/", "/sne/atlas4/api"] {
        let http =
            HttpClient::builder(format!("{}{base}", server.base_url())).clock(Arc::new(clock.clone())).build().unwrap();
        http.execute(Request::get("objects/")).await.unwrap();
        http.execute(Request::get("objects")).await.unwrap();
    }
    with.assert_calls_async(2).await;
    without.assert_calls_async(2).await;
}

#[tokio::test]
async fn query_lists_both_styles_and_optional_values_omitted() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/objects/")
                .query_param("oid", "ZTF1")
                .query_param("oid", "ZTF2")
                .query_param("group_ids", "4,71")
                .query_param("page", "1")
                .query_param_missing("classifier")
                .query_param_missing("empty")
                .is_true(|r: &HttpMockRequest| {
                    // Repeated keys arrive as two pairs, in order; the comma list as one.
                    let q = r.query_params();
                    q.iter().filter(|(k, _)| k == "oid").count() == 2
                        && r.uri().query() == Some("oid=ZTF1&oid=ZTF2&group_ids=4%2C71&page=1")
                });
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let req = Request::get("objects/")
        .query_list("oid", ["ZTF1", "ZTF2"], ListStyle::Repeated)
        .query_list("group_ids", [4, 71], ListStyle::CommaJoined)
        .query("page", 1)
        .query_opt("classifier", None::<&str>)
        .query_list("empty", Vec::<String>::new(), ListStyle::Repeated);
    http.execute(req).await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn bodies_form_json_json_in_form_and_raw() {
    let server = MockServer::start_async().await;
    let form = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/objects/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("objects=1%2C2&getcustomlist=False");
            then.status(200);
        })
        .await;
    let json_m = server
        .mock_async(|when, then| {
            when.method(POST).path("/json").header("content-type", "application/json").json_body(json!({"a": [1, 2]}));
            then.status(200);
        })
        .await;
    let packed = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/search")
                .form_urlencoded_tuple("api_key", "k")
                .form_urlencoded_tuple("data", r#"{"ra":"10.5","radius":"5"}"#);
            then.status(200);
        })
        .await;
    let raw = server
        .mock_async(|when, then| {
            when.method(PUT).path("/raw").header("content-type", "text/plain").body("hello");
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    http.execute(
        Request::post("objects/")
            .form_list("objects", [1, 2], ListStyle::CommaJoined)
            .form_opt("mjd", None::<f64>)
            .form("getcustomlist", "False"),
    )
    .await
    .unwrap();
    http.execute(Request::post("json").json(&json!({"a": [1, 2]}))).await.unwrap();
    http.execute(Request::post("search").form("api_key", "k").form_json("data", &json!({"ra": "10.5", "radius": "5"})))
        .await
        .unwrap();
    http.execute(Request::put("raw").raw("hello", "text/plain")).await.unwrap();
    form.assert_async().await;
    json_m.assert_async().await;
    packed.assert_async().await;
    raw.assert_async().await;
}

#[tokio::test]
async fn gzip_responses_are_decompressed() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(br#"{"n": 42}"#).unwrap();
    let gz = enc.finish().unwrap();
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/g").header_exists("accept-encoding");
            then.status(200).header("content-encoding", "gzip").header("content-type", "application/json").body(gz);
        })
        .await;
    let clock = ManualClock::new();
    let v: serde_json::Value = client(&server, &clock).build().unwrap().json(Request::get("g")).await.unwrap();
    assert_eq!(v["n"], 42);
    m.assert_async().await;
}

#[tokio::test]
async fn fifty_concurrent_requests_cause_one_login() {
    let server = MockServer::start_async().await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api-token-auth/")
                .form_urlencoded_tuple("username", "ann")
                .form_urlencoded_tuple("password", "pw");
            then.status(200).delay(Duration::from_millis(50)).json_body(json!({"token": "t0k3n"}));
        })
        .await;
    let data = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/").header("authorization", "Token t0k3n");
            then.status(200).json_body(json!({"results": []}));
        })
        .await;
    let clock = ManualClock::new();
    let auth = Arc::new(LoginToken::new(
        url::Url::parse(&server.url("/api-token-auth/")).unwrap(),
        "ann",
        SecretString::from("pw".to_string()),
        "Token",
    ));
    let http = client(&server, &clock).auth_arc(auth.clone()).build().unwrap();
    let futs = (0..50).map(|_| {
        let http = http.clone();
        async move { http.execute(Request::get("queue/")).await }
    });
    let results = futures::future::join_all(futs).await;
    assert!(results.iter().all(|r| r.is_ok()));
    login.assert_calls_async(1).await;
    data.assert_calls_async(50).await;
    assert_eq!(auth.login_count().await, 1);
}

#[tokio::test]
async fn refresh_once_after_401_then_a_clean_auth_error() {
    let server = MockServer::start_async().await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST).path("/login/");
            then.status(200).json_body(json!({"token": "fresh"}));
        })
        .await;
    let data = server
        .mock_async(|when, then| {
            when.method(GET).path("/data");
            then.status(401).json_body(json!({"detail": "Token has expired."}));
        })
        .await;
    let persisted = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let p2 = persisted.clone();
    let auth = LoginToken::new(
        url::Url::parse(&server.url("/login/")).unwrap(),
        "ann",
        SecretString::from("pw".to_string()),
        "Token",
    )
    .with_token(SecretString::from("stale".to_string()))
    .on_new_token(Arc::new(move |t: &SecretString| {
        p2.lock().unwrap().push(t.expose_secret().to_string());
        Ok(())
    }));
    let clock = ManualClock::new();
    let http = client(&server, &clock).auth(auth).build().unwrap();
    let err = http.execute(Request::get("data")).await.unwrap_err();
    match &err {
        Error::Auth { status: Some(401), message } => assert_eq!(message, "Token has expired."),
        other => panic!("expected an auth error, got {other:?}"),
    }
    // One request with the stale token, one re-login, one request with the fresh token.
    login.assert_calls_async(1).await;
    data.assert_calls_async(2).await;
    assert_eq!(persisted.lock().unwrap().as_slice(), ["fresh"]);
    assert!(!err.to_string().contains("fresh") && !format!("{err:?}").contains("stale"));
}

#[tokio::test]
async fn bad_login_is_an_auth_error_with_the_server_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api-token-auth/");
            then.status(400).json_body(json!({"non_field_errors": ["Unable to log in with provided credentials."]}));
        })
        .await;
    let auth = LoginToken::new(
        url::Url::parse(&server.url("/api-token-auth/")).unwrap(),
        "ann",
        SecretString::from("hunter2".to_string()),
        "Token",
    );
    let clock = ManualClock::new();
    let http = client(&server, &clock).auth(auth).build().unwrap();
    let err = http.execute(Request::get("queue/")).await.unwrap_err();
    assert!(matches!(err, Error::Auth { status: Some(400), .. }), "{err:?}");
    assert_eq!(err.to_string(), "authentication failed (HTTP 400): Unable to log in with provided credentials.");
}

#[tokio::test]
async fn retry_after_seconds_and_http_date_are_honoured() {
    let server = MockServer::start_async().await;
    // ManualClock's wall time is 1_700_000_000 s + virtual time: 2023-11-14T22:13:20Z.
    let m = server
        .mock_async(|when, then| {
            when.path("/r");
            then.respond_with(script(vec![
                (429, vec![("Retry-After", "7".into())], String::new()),
                (503, vec![("Retry-After", "Tue, 14 Nov 2023 22:13:47 GMT".into())], String::new()),
                (200, vec![], "{}".into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    client(&server, &clock).build().unwrap().execute(Request::get("r")).await.unwrap();
    m.assert_calls_async(3).await;
    // 7 s, then the date: 22:13:47 - (22:13:20 + 7 s) = 20 s.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7), Duration::from_secs(20)]);
}

#[tokio::test]
async fn body_hint_plural_and_singular() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/");
            then.respond_with(script(vec![
                (429, vec![], r#"{"detail":"Request was throttled. Expected available in 37 seconds."}"#.into()),
                (429, vec![], r#"{"detail":"Request was throttled. Expected available in 1 second."}"#.into()),
                (201, vec![], r#"{"id": 1}"#.into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).retry(policy().hint(AvailableInHint)).build().unwrap();
    http.execute(Request::post("queue/").form("ra", 10)).await.unwrap();
    m.assert_calls_async(3).await;
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(37), Duration::from_secs(1)]);
}

#[tokio::test]
async fn throttle_floor_when_429_has_no_hint() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/s");
            then.respond_with(script(vec![
                (429, vec![], "<html><title>429 Too Many Requests</title></html>".into()),
                (200, vec![], "{}".into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    client(&server, &clock).build().unwrap().execute(Request::get("s")).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
}

#[tokio::test]
async fn post_is_not_retried_on_500_but_is_on_429() {
    let server = MockServer::start_async().await;
    let m500 = server
        .mock_async(|when, then| {
            when.method(POST).path("/photometry");
            then.status(500).body("boom");
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let err = http.execute(Request::post("photometry").json(&json!({"mag": [18.0]}))).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    m500.assert_calls_async(1).await;
    assert!(clock.sleeps().is_empty());

    // The same POST declared safe is retried.
    m500.delete_async().await;
    let flaky = server
        .mock_async(|when, then| {
            when.method(POST).path("/photometry");
            then.respond_with(script(vec![(500, vec![], "boom".into()), (200, vec![], "{}".into())]));
        })
        .await;
    http.execute(Request::post("photometry").retry_safety(RetrySafety::Safe)).await.unwrap();
    flaky.assert_calls_async(2).await;
    flaky.delete_async().await;

    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/photometry");
            then.respond_with(script(vec![
                (429, vec![("Retry-After", "2".into())], String::new()),
                (200, vec![], "{}".into()),
            ]));
        })
        .await;
    http.execute(Request::post("photometry").json(&json!({"mag": [18.0]}))).await.unwrap();
    throttled.assert_calls_async(2).await;
}

#[tokio::test]
async fn get_retries_5xx_with_backoff_until_success() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/x");
            then.respond_with(script(vec![
                (502, vec![], "<html><title>502 Bad Gateway</title></html>".into()),
                (503, vec![], String::new()),
                (200, vec![], "[1]".into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    let v: Vec<u32> = client(&server, &clock).build().unwrap().json(Request::get("x")).await.unwrap();
    assert_eq!(v, vec![1]);
    m.assert_calls_async(3).await;
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(100), Duration::from_millis(200)]);
}

#[tokio::test]
async fn over_long_wait_returns_rate_limited_without_sleeping() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/objects/");
            then.status(429).header("Retry-After", "3600").json_body(json!({"detail": "Request was throttled."}));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).retry(policy().max_server_wait(Duration::from_secs(60))).build().unwrap();
    let err = http.execute(Request::get("objects/")).await.unwrap_err();
    match err {
        Error::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(3600))),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    m.assert_calls_async(1).await;
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn html_429_body_kept_as_excerpt_when_attempts_run_out() {
    let server = MockServer::start_async().await;
    let html = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>";
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources");
            then.status(429).header("content-type", "text/html").body(html);
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).retry(policy().max_attempts(3)).build().unwrap();
    let err = http.execute(Request::get("api/sources")).await.unwrap_err();
    let h = err.as_http().expect("an HTTP error");
    assert_eq!(h.status, 429);
    assert_eq!(h.message.as_deref(), Some("429 Too Many Requests"));
    assert!(h.excerpt.contains("<center><h1>429 Too Many Requests</h1></center>"), "{}", h.excerpt);
    assert!(err.is_retryable());
    m.assert_calls_async(3).await;
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn redirect_308_keeps_method_and_query() {
    let server = MockServer::start_async().await;
    let redirect = server
        .mock_async(|when, then| {
            when.path("/objects");
            then.status(308).header("Location", "/objects/");
        })
        .await;
    let target = server
        .mock_async(|when, then| {
            when.method(GET).path("/objects/").query_param("classifier", "lc_classifier").query_param("page", "2");
            then.status(200).json_body(json!({"items": []}));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    http.execute(Request::get("objects").query("classifier", "lc_classifier").query("page", 2)).await.unwrap();
    redirect.assert_async().await;
    target.assert_async().await;
}

#[tokio::test]
async fn no_credentials_to_another_host_after_a_redirect() {
    let server = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let other_url = other.url("/landing");
    server
        .mock_async(|when, then| {
            when.path("/start").header("authorization", "token s3cret");
            then.status(307).header("Location", other_url.as_str());
        })
        .await;
    let leak = other
        .mock_async(|when, then| {
            when.path("/landing").header_exists("authorization");
            then.status(500);
        })
        .await;
    let clean = other
        .mock_async(|when, then| {
            when.path("/landing").header_missing("authorization");
            then.status(200).body("ok");
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).auth(HeaderToken::new("token", "s3cret".to_string())).build().unwrap();
    let r = http.execute(Request::get("start")).await.unwrap();
    assert_eq!(r.text(), "ok");
    leak.assert_calls_async(0).await;
    clean.assert_calls_async(1).await;
}

#[tokio::test]
async fn credentials_over_plain_http_to_a_remote_host_are_refused() {
    let err = HttpClient::builder("http://example.org/api/")
        .auth(HeaderToken::new("Token", "x".to_string()))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(HttpClient::builder("http://example.org/api/").build().is_ok(), "no credentials: fine");
    assert!(
        HttpClient::builder("http://example.org/api/")
            .auth(HeaderToken::new("Token", "x".to_string()))
            .allow_insecure_http(true)
            .build()
            .is_ok()
    );
    assert!(
        HttpClient::builder("http://127.0.0.1:5000/").auth(HeaderToken::new("token", "x".to_string())).build().is_ok()
    );
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_unsafe_requests() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let clock = ManualClock::new();
    let http = HttpClient::builder(format!("http://127.0.0.1:{port}/"))
        .clock(Arc::new(clock.clone()))
        .retry(policy().max_attempts(3))
        .build()
        .unwrap();
    let err = http.execute(Request::post("queue/").form("ra", 1)).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("connection failed"), "{err}");
    assert_eq!(clock.sleeps().len(), 2, "three attempts, two waits");
}

#[tokio::test]
async fn a_slow_server_times_out_with_a_timeout_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/slow");
            then.status(200).delay(Duration::from_secs(5)).body("late");
        })
        .await;
    let clock = ManualClock::new();
    let http =
        client(&server, &clock).timeout(Duration::from_millis(100)).retry(policy().max_attempts(2)).build().unwrap();
    let t0 = std::time::Instant::now();
    let err = http.execute(Request::get("slow")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "the deadline bounds the wait");
    // An unsafe request is not retried after a timeout (the server may have acted).
    let clock2 = ManualClock::new();
    let http2 = client(&server, &clock2).timeout(Duration::from_millis(100)).build().unwrap();
    assert!(matches!(http2.execute(Request::post("slow")).await, Err(Error::Timeout { .. })));
    assert!(clock2.sleeps().is_empty());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/big");
            then.status(200).body(vec![b'x'; 10_000]);
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).max_response_bytes(1000).retry(RetryPolicy::none()).build().unwrap();
    let err = http.execute(Request::get("big")).await.unwrap_err();
    assert!(err.to_string().contains("exceeds the limit of 1000 bytes"), "{err}");
}

#[tokio::test]
async fn decode_errors_name_the_field_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/items");
            then.status(200).body(r#"{"items":[{"mjd":1.0},{"mjd":"soon"}]}"#);
        })
        .await;
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        mjd: f64,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct L {
        items: Vec<P>,
    }
    let clock = ManualClock::new();
    let err = client(&server, &clock).build().unwrap().json::<L>(Request::get("items")).await.unwrap_err();
    match &err {
        Error::Decode { path, excerpt, .. } => {
            assert_eq!(path, "items[1].mjd");
            assert!(excerpt.starts_with(r#"{"items":[{"mjd":1.0}"#));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn http_errors_keep_message_excerpt_and_redact_token_query() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/source/nope");
            then.status(400).json_body(json!({"status": "error", "message": "Invalid source ID.", "data": {}}));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let err = http.execute(Request::get("api/source/nope").query("token", "verysecret")).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("verysecret"), "{shown}");
    let h = err.as_http().unwrap();
    assert_eq!(h.status, 400);
    assert_eq!(h.message.as_deref(), Some("Invalid source ID."));
    assert!(h.url.contains("token=REDACTED"));
    assert_eq!(h.json().unwrap()["status"], "error");
}

#[tokio::test]
async fn client_side_rate_limit_spaces_requests() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/w");
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    let http =
        client(&server, &clock).rate_limit("writes", Arc::new(RateLimiter::new(Quota::per_minute(2)))).build().unwrap();
    for _ in 0..3 {
        http.execute(Request::post("w").bucket("writes")).await.unwrap();
    }
    // Reads do not draw from the write bucket.
    http.execute(Request::get("w")).await.unwrap();
    m.assert_calls_async(4).await;
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(60)]);
    assert!(matches!(
        http.execute(Request::get("w").bucket("nope")).await,
        Err(Error::Config(m)) if m.contains("nope")
    ));
}

#[test]
fn secrets_never_in_debug_or_display() {
    let secret = "tok-9f8e7d6c5b4a";
    let ht = HeaderToken::new("Token", secret.to_string());
    let lt = LoginToken::new(
        url::Url::parse("https://h/api-token-auth/").unwrap(),
        "ann",
        SecretString::from(secret.to_string()),
        "Token",
    )
    .with_token(SecretString::from(secret.to_string()));
    let b = HttpClient::builder("https://h/api/?token=tok-9f8e7d6c5b4a")
        .auth(HeaderToken::new("Token", secret.to_string()));
    let builder_dbg = format!("{b:?}");
    let http = b.build().unwrap();
    let s = SecretString::from(secret.to_string());
    for shown in [format!("{ht:?}"), format!("{lt:?}"), builder_dbg, format!("{http:?}"), format!("{s:?}")] {
        assert!(!shown.contains(secret), "leaked in {shown}");
    }
}

#[tokio::test]
async fn client_side_waits_are_bounded_and_not_counted_as_server_time() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/objects/");
            then.status(200);
        })
        .await;
    let clock = ManualClock::new();
    // A 100 s total budget, but a queue of 90 s per slot: queueing is not server time.
    let http = client(&server, &clock)
        .retry(policy().max_elapsed(Duration::from_secs(100)).max_limiter_wait(Duration::from_secs(600)))
        .rate_limit("writes", Arc::new(RateLimiter::new(Quota::window(1, Duration::from_secs(90)))))
        .default_bucket("writes")
        .build()
        .unwrap();
    for _ in 0..3 {
        http.execute(Request::post("objects/")).await.unwrap();
    }
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(90), Duration::from_secs(90)]);

    // A slot further away than max_limiter_wait fails at once, nothing reserved.
    let clock = ManualClock::new();
    let http = client(&server, &clock)
        .retry(policy().max_limiter_wait(Duration::from_secs(600)))
        .rate_limit("hourly", Arc::new(RateLimiter::new(Quota::per_hour(1))))
        .default_bucket("hourly")
        .build()
        .unwrap();
    http.execute(Request::post("objects/")).await.unwrap();
    let err = http.execute(Request::post("objects/")).await.unwrap_err();
    match err {
        Error::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(3600))),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(clock.sleeps().is_empty(), "no sleep for a slot that is out of reach");
    m.assert_calls_async(4).await;
}

#[tokio::test]
async fn concurrent_waiters_share_virtual_time() {
    let clock = ManualClock::new();
    let limiter = Arc::new(RateLimiter::new(Quota::window(2, Duration::from_secs(60))));
    let futs = (0..4).map(|_| {
        let (l, c) = (limiter.clone(), clock.clone());
        async move { l.acquire(&c).await }
    });
    futures::future::join_all(futs).await;
    // Slots 3 and 4 both open at t = 60 s: virtual time is 60 s, not 120 s.
    assert_eq!(broker_core::Clock::now(&clock), Duration::from_secs(60));
}

/// A text reply that its request's own check finds cut short is fetched again (safe
/// requests only); once the attempts run out the caller gets the last body.
#[tokio::test]
async fn a_reply_failing_the_requests_completeness_check_is_fetched_again() {
    let server = MockServer::start_async().await;
    let ct = ("content-type", "text/plain".to_string());
    let m = server
        .mock_async(|when, then| {
            when.path("/table.txt");
            then.respond_with(script(vec![
                (200, vec![ct.clone()], "a b\n1 2\n3".into()),
                (200, vec![ct.clone()], "a b\n1 2\n3 4\n".into()),
            ]));
        })
        .await;
    fn whole(b: &[u8]) -> bool {
        b.ends_with(b"\n")
    }
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let r = http.execute(Request::get("table.txt").complete_when(whole)).await.unwrap();
    assert_eq!(r.text(), "a b\n1 2\n3 4\n");
    m.assert_calls_async(2).await;

    // Without the check the short body is the answer; a POST is never sent again for it.
    let short = server
        .mock_async(|when, then| {
            when.path("/short.txt");
            then.status(200).header("content-type", "text/plain").body("a b\n1");
        })
        .await;
    assert_eq!(http.execute(Request::get("short.txt")).await.unwrap().text(), "a b\n1");
    short.assert_calls_async(1).await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST).path("/post.txt");
            then.status(200).header("content-type", "text/plain").body("a b\n1");
        })
        .await;
    http.execute(Request::post("post.txt").complete_when(whole)).await.unwrap();
    post.assert_calls_async(1).await;
    // Attempts run out: the last body comes back as it is.
    let always = server
        .mock_async(|when, then| {
            when.path("/always.txt");
            then.status(200).header("content-type", "text/plain").body("a b\n1");
        })
        .await;
    let http3 = client(&server, &clock).retry(RetryPolicy::default().max_attempts(3)).build().unwrap();
    assert_eq!(http3.execute(Request::get("always.txt").complete_when(whole)).await.unwrap().text(), "a b\n1");
    always.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_json_reply_cut_short_is_fetched_again_for_safe_requests() {
    let server = MockServer::start_async().await;
    let ct = ("content-type", "application/json".to_string());
    let m = server
        .mock_async(|when, then| {
            when.path("/items");
            then.respond_with(script(vec![
                (200, vec![ct.clone()], r#"{"items": [1, 2, "thr"#.into()),
                (200, vec![ct.clone()], r#"{"items": [1, 2, 3]}"#.into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let v: serde_json::Value = http.json(Request::get("items")).await.unwrap();
    assert_eq!(v["items"], json!([1, 2, 3]));
    m.assert_calls_async(2).await;

    // A POST is never sent again for it; the caller gets the decode error.
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/write");
            then.status(201).header("content-type", "application/json").body(r#"{"id": 1"#);
        })
        .await;
    let err = http.json::<serde_json::Value>(Request::post("write")).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    p.assert_calls_async(1).await;

    // NaN from a Python server is not a truncation: no retry.
    let nan = server
        .mock_async(|when, then| {
            when.path("/nan");
            then.status(200).header("content-type", "application/json").body(r#"{"x": NaN}"#);
        })
        .await;
    let v: serde_json::Value = broker_core::http::decode_json_lenient(
        &http.execute(Request::get("nan")).await.unwrap().body,
        &url::Url::parse("http://x/").unwrap(),
    )
    .unwrap();
    assert!(v["x"].is_null());
    nan.assert_calls_async(1).await;
}

/// Found by the Fink fault scenario (`tests/tests/faults.rs`): a reply cut right after a
/// minus sign (`"i:dec": -`), a decimal point or an exponent marker is the end of input for
/// serde_json's parser but "invalid number" for its fast skipping, so it was not recognised
/// as cut short and came back as a decode error instead of being fetched again.
#[test]
fn a_reply_cut_inside_a_number_is_recognised_as_cut_short() {
    use broker_core::http::is_truncated_json;
    for cut in [&b"[1, -"[..], b"{\"dec\": -", b"[1.", b"[2e", b"[2E+", b"[2e-", b"[1, 2", b"{\"a\": \"b", b" [ "] {
        assert!(is_truncated_json(cut), "{} is cut short", String::from_utf8_lossy(cut));
    }
    for whole_or_bad in [&b"[1, -2]"[..], b"[1, x]", b"{\"x\": NaN}", b"[-x]", b"[1.x]", b"[1, 2]-", b"[1.5e3]"] {
        assert!(!is_truncated_json(whole_or_bad), "{} is not cut short", String::from_utf8_lossy(whole_or_bad));
    }
}

/// A cut body with a Python `NaN` or `Infinity` before the cut (Lasair's and Fink's Django
/// servers write them) was not recognised as cut short: the value skipping stops at the
/// `NaN`, a syntax error, before it reaches the end of input.
#[test]
fn a_reply_cut_after_a_python_nan_is_recognised_as_cut_short() {
    use broker_core::http::is_truncated_json;
    for cut in [&br#"{"x": NaN, "y": [1, 2"#[..], br#"{"x": -Infinity, "flux": -"#, br#"[NaN, Infinity, "ab"#] {
        assert!(is_truncated_json(cut), "{} is cut short", String::from_utf8_lossy(cut));
    }
    // Invalid, not cut: a `NaN` inside a string stays a string, once.
    for whole_or_bad in [&br#"{"x": NaN, "y": [1, 2]}"#[..], br#"[NaN, x]"#, br#"{"x": Nan}"#, br#"{"a": "NaN", x}"#] {
        assert!(!is_truncated_json(whole_or_bad), "{} is not cut short", String::from_utf8_lossy(whole_or_bad));
    }
}

#[tokio::test]
async fn a_safe_read_cut_after_a_minus_sign_is_fetched_again() {
    let server = MockServer::start_async().await;
    let ct = ("content-type", "application/json".to_string());
    let m = server
        .mock_async(|when, then| {
            when.path("/rows");
            then.respond_with(script(vec![
                (200, vec![ct.clone()], r#"[{"ra": 10.5, "dec": -"#.into()),
                (200, vec![ct.clone()], r#"[{"ra": 10.5, "dec": -20.25}]"#.into()),
            ]));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).build().unwrap();
    let v: serde_json::Value = http.json(Request::post("rows").retry_safety(RetrySafety::Safe)).await.unwrap();
    assert_eq!(v[0]["dec"], json!(-20.25));
    m.assert_calls_async(2).await;
}

#[tokio::test]
async fn an_oversized_reply_is_not_downloaded_again() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/huge");
            then.status(200).body(vec![b'x'; 5_000]);
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock).max_response_bytes(1000).build().unwrap();
    let err = http.execute(Request::get("huge")).await.unwrap_err();
    assert!(err.to_string().contains("exceeds the limit"), "{err}");
    m.assert_calls_async(1).await;
}

fn quota_headers(prefix: &str, remaining: &str, reset: &str) -> Vec<(&'static str, String)> {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    vec![
        (leak(format!("{prefix}-limit")), "10".to_string()),
        (leak(format!("{prefix}-remaining")), remaining.to_string()),
        (leak(format!("{prefix}-reset")), reset.to_string()),
    ]
}

#[tokio::test]
async fn server_quota_remaining_zero_on_a_200_delays_the_next_request_of_that_family_only() {
    let server = MockServer::start_async().await;
    // Every general reply says the general window is used up for 30 s.
    let general = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/object");
            then.status(200)
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", "30")
                .json_body(json!({"id_code": 200}));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock)
        .server_quota("general", Arc::new(broker_core::ServerQuota::new("x-rate-limit")))
        .server_quota(
            "cone",
            Arc::new(broker_core::ServerQuota::new("x-cone-rate-limit").margin(Duration::from_secs(1))),
        )
        .default_server_quota("general")
        .build()
        .unwrap();
    http.execute(Request::post("api/get/object")).await.unwrap();
    assert!(clock.sleeps().is_empty(), "the first request does not wait: {:?}", clock.sleeps());
    http.execute(Request::post("api/get/object")).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)], "the second waits the announced reset");
    assert_eq!(general.calls_async().await, 2);

    // The cone family: only requests that opt in wait for it.
    let cone = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200)
                .header("x-rate-limit-remaining", "5")
                .header("x-rate-limit-reset", "10")
                .header("x-cone-rate-limit-remaining", "0")
                .header("x-cone-rate-limit-reset", "20")
                .json_body(json!({"id_code": 200}));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock)
        .server_quota("general", Arc::new(broker_core::ServerQuota::new("x-rate-limit")))
        .server_quota(
            "cone",
            Arc::new(broker_core::ServerQuota::new("x-cone-rate-limit").margin(Duration::from_secs(1))),
        )
        .default_server_quota("general")
        .build()
        .unwrap();
    http.execute(Request::post("api/get/search").server_quota("cone")).await.unwrap();
    // A request outside the cone family is not held back (general has 5 left).
    http.execute(Request::post("api/get/search")).await.unwrap();
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    http.execute(Request::post("api/get/search").server_quota("cone")).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(21)], "cone reset plus its margin");
    assert_eq!(cone.calls_async().await, 3);
}

#[tokio::test]
async fn server_quota_429_waits_the_announced_reset_then_succeeds() {
    let server = MockServer::start_async().await;
    let mut h429 = quota_headers("x-rate-limit", "0", "45");
    h429.push(("content-type", "application/json".to_string()));
    let responses = vec![
        (429, h429, r#"{"id_code":429,"id_message":"Too Many Requests"}"#.to_string()),
        (200, quota_headers("x-rate-limit", "9", "60"), r#"{"ok":true}"#.to_string()),
    ];
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/object");
            then.respond_with(script(responses));
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock)
        .server_quota("general", Arc::new(broker_core::ServerQuota::new("x-rate-limit")))
        .default_server_quota("general")
        .build()
        .unwrap();
    // A non-retry-safe POST is retried after a 429 (the server did not act on it).
    let v: serde_json::Value = http.json(Request::post("api/get/object")).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(45)], "waits the reset, not a backoff");
    // After the fresh window (remaining 9), nothing waits.
    http.execute(Request::post("api/get/object")).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(45)]);
    assert_eq!(m.calls_async().await, 3);
}

#[tokio::test]
async fn server_quota_wait_beyond_the_maximum_fails_fast_with_rate_limited() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/x");
            then.status(200).header("x-rate-limit-remaining", "0").header("x-rate-limit-reset", "3600");
        })
        .await;
    let clock = ManualClock::new();
    let http = client(&server, &clock)
        .retry(policy().max_server_wait(Duration::from_secs(60)))
        .server_quota("general", Arc::new(broker_core::ServerQuota::new("x-rate-limit")))
        .default_server_quota("general")
        .build()
        .unwrap();
    http.execute(Request::get("x")).await.unwrap();
    let err = http.execute(Request::get("x")).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert!(clock.sleeps().is_empty());
    // An unregistered quota name is a configuration error, before anything is sent.
    let err = http.execute(Request::get("x").server_quota("nope")).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
