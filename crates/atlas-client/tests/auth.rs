#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Tokens: from builder, environment and YAML file; the three 401s; refresh and
//! persistence; 403; secrets never shown.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atlas_client::{AtlasClient, AtlasId, Error};
use broker_core::{ManualClock, Quota, RateLimiter};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

const NEW_TOKEN: &str = "fedcba9876543210fedcba9876543210fedcba98";
const PASSWORD: &str = "hunter2-very-secret";

fn id() -> AtlasId {
    ID.parse().unwrap()
}

fn yaml_file(name: &str, token: &str, base_url: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlas-auth-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("api_config_MINE.yaml");
    std::fs::write(&p, format!("token: \"{token}\"\nbase_url: \"{base_url}\"\nextra_key: keep me\n")).unwrap();
    p
}

fn private_limiter() -> Arc<RateLimiter> {
    Arc::new(RateLimiter::new(Quota::per_hour(100)))
}

async fn mock_401<'a>(server: &'a MockServer, token: &str, detail: &str) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").header("authorization", format!("Token {token}"));
            then.status(401).header("WWW-Authenticate", "Token").json_body(json!({"detail": detail}));
        })
        .await
}

async fn mock_ok<'a>(server: &'a MockServer, token: &str) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").header("authorization", format!("Token {token}"));
            then.status(200).json_body(json!([source_json(ID_U64)]));
        })
        .await
}

#[tokio::test]
async fn expired_token_is_refreshed_persisted_and_retried_once() {
    let server = MockServer::start_async().await;
    let path = yaml_file("expired", TOKEN, &base(&server));
    let expired = mock_401(&server, TOKEN, "Token has expired.").await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/auth-token/")
                .header("content-type", FORM)
                .header_missing("authorization")
                .body(format!("username=heloise&password={PASSWORD}"));
            then.status(200).json_body(json!({"token": NEW_TOKEN, "expires_in": 86399.5, "refreshed": true}));
        })
        .await;
    let ok = mock_ok(&server, NEW_TOKEN).await;
    let hooked = Arc::new(AtomicUsize::new(0));
    let h2 = hooked.clone();
    let client = AtlasClient::builder()
        .config_file(&path)
        .credentials("heloise", PASSWORD)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .on_new_token(move |_| {
            h2.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), base(&server), "base_url read from the YAML file");
    let s = client.source(id()).send().await.unwrap().unwrap();
    assert_eq!(s.id().get(), ID_U64);
    expired.assert_calls_async(1).await;
    login.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(NEW_TOKEN), "{text}");
    assert!(text.contains(&base(&server)), "base_url kept: {text}");
    assert!(text.contains("keep me"), "other keys kept: {text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Later requests use the new token straight away.
    client.source(id()).send().await.unwrap();
    ok.assert_calls_async(2).await;
    login.assert_calls_async(1).await;
}

#[tokio::test]
async fn expired_without_credentials_says_how_to_refresh() {
    let server = MockServer::start_async().await;
    let expired = mock_401(&server, TOKEN, "Token has expired.").await;
    let (client, _) = client(&server);
    let e = client.source(id()).send().await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: Some(401), .. }), "{e:?}");
    assert!(e.to_string().contains("refresh_token"), "{e}");
    assert!(!e.to_string().contains(TOKEN));
    expired.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_token_rereads_the_file_once() {
    let server = MockServer::start_async().await;
    let path = yaml_file("invalid", TOKEN, &base(&server));
    let invalid = mock_401(&server, TOKEN, "Invalid token.").await;
    let ok = mock_ok(&server, NEW_TOKEN).await;
    let client = AtlasClient::builder()
        .config_file(&path)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .build()
        .unwrap();
    // Another process refreshes the token in the shared file.
    std::fs::write(&path, format!("token: {NEW_TOKEN}\nbase_url: {}\n", base(&server))).unwrap();
    assert!(client.source(id()).send().await.unwrap().is_some());
    invalid.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_token_with_unchanged_file_fails_once() {
    let server = MockServer::start_async().await;
    let path = yaml_file("invalid2", TOKEN, &base(&server));
    let invalid = mock_401(&server, TOKEN, "Invalid token.").await;
    let client = AtlasClient::builder()
        .config_file(&path)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .build()
        .unwrap();
    let e = client.source(id()).send().await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: Some(401), ref message } if message == "Invalid token."), "{e:?}");
    invalid.assert_calls_async(1).await;
}

#[tokio::test]
async fn credentials_not_provided_is_a_clear_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/");
            then.status(401).json_body(json!({"detail": "Authentication credentials were not provided."}));
        })
        .await;
    let (client, _) = client(&server);
    let e = client.cone_count(broker_core::SkyPosition::new(1.0, 2.0).unwrap(), 10.0).await.unwrap_err();
    assert_eq!(e.to_string(), "authentication failed (HTTP 401): Authentication credentials were not provided.");
}

#[tokio::test]
async fn forbidden_write_says_no_write_permission() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vratodo/");
            then.status(403).json_body(json!({"detail": "You do not have permission to perform this action."}));
        })
        .await;
    let (client, _) = client(&server);
    let e = client.add_vra_todo(id(), None).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: Some(403), .. }), "{e:?}");
    assert!(e.to_string().contains("no write permission"), "{e}");
    assert!(e.to_string().contains("You do not have permission"), "{e}");
}

#[tokio::test]
async fn explicit_refresh_token_and_login_errors() {
    let server = MockServer::start_async().await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/auth-token/")
                .header_missing("authorization")
                .body(format!("username=heloise&password={PASSWORD}"));
            then.status(200).json_body(json!({"token": TOKEN, "expires_in": 1000.0, "refreshed": false}));
        })
        .await;
    let bad = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/auth-token/").body("username=heloise&password=wrong");
            then.status(400).json_body(json!({"non_field_errors": ["Unable to log in with provided credentials."]}));
        })
        .await;
    let (client, _) = client(&server);
    let info = client.refresh_token("heloise", PASSWORD).await.unwrap();
    assert_eq!(info.expires_in, Some(1000.0));
    assert_eq!(info.refreshed, Some(false));
    assert!(!info.changed, "same token back while not expired");
    let e = client.refresh_token("heloise", "wrong").await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: Some(400), .. }));
    assert!(e.to_string().contains("Unable to log in with provided credentials."), "{e}");
    assert!(!e.to_string().contains("wrong"));
    assert!(matches!(client.refresh_token("heloise", "").await, Err(Error::InvalidInput { .. })));
    login.assert_calls_async(1).await;
    bad.assert_calls_async(1).await;
}

#[tokio::test]
async fn login_first_when_only_credentials_are_given() {
    let server = MockServer::start_async().await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/auth-token/").body(format!("username=bot&password={PASSWORD}"));
            then.status(200).json_body(json!({"token": NEW_TOKEN, "expires_in": 86400.0}));
        })
        .await;
    let ok = mock_ok(&server, NEW_TOKEN).await;
    let client = AtlasClient::builder()
        .base_url(base(&server))
        .credentials("bot", PASSWORD)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .build()
        .unwrap();
    client.source(id()).send().await.unwrap();
    client.source(id()).send().await.unwrap();
    login.assert_calls_async(1).await;
    ok.assert_calls_async(2).await;
}

#[tokio::test]
async fn token_sources_in_order_builder_env_file() {
    let server = MockServer::start_async().await;
    let path = yaml_file("order", "filetoken0000000000000000000000000000000", "https://example.invalid/api/");
    let env_tok = "envtoken00000000000000000000000000000000";
    let m = mock_ok(&server, env_tok).await;
    let url = base(&server);
    let env = move |k: &str| match k {
        "ATLAS_API_TOKEN" => Some(env_tok.to_string()),
        "ATLAS_API_URL" => Some(url.clone()),
        _ => None,
    };
    let client = AtlasClient::builder()
        .config_file(&path)
        .env_lookup(env)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), base(&server), "env beats file");
    client.source(id()).send().await.unwrap();
    m.assert_calls_async(1).await;

    let from_file =
        AtlasClient::builder().env_lookup(move |k| (k == "ATLAS_API_CONFIG").then(|| path.display().to_string()));
    let c = from_file.build().unwrap();
    assert_eq!(c.base_url().as_str(), "https://example.invalid/api/");

    let none = AtlasClient::builder().env_lookup(|_| None).build().unwrap_err();
    assert!(matches!(none, Error::Config(_)));
    assert!(none.to_string().contains("ATLAS_API_TOKEN"), "{none}");
    assert!(AtlasClient::builder().token("has space").build().is_err());
    assert_eq!(
        AtlasClient::builder().token(TOKEN).build().unwrap().base_url().as_str(),
        atlas_client::DEFAULT_BASE_URL
    );
}

#[tokio::test]
async fn secrets_never_in_debug_display_or_errors() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/");
            then.status(500).body("boom");
        })
        .await;
    let builder = AtlasClient::builder()
        .base_url(base(&server))
        .token(TOKEN)
        .credentials("heloise", PASSWORD)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .retry(broker_core::RetryPolicy::none());
    let b = format!("{builder:?}");
    assert!(!b.contains(TOKEN) && !b.contains(PASSWORD), "{b}");
    let client = builder.build().unwrap();
    let c = format!("{client:?}");
    assert!(!c.contains(TOKEN) && !c.contains(PASSWORD), "{c}");
    assert!(c.contains("REDACTED"), "{c}");
    let e = client.source(id()).send().await.unwrap_err();
    for s in [format!("{e}"), format!("{e:?}")] {
        assert!(!s.contains(TOKEN) && !s.contains(PASSWORD), "{s}");
    }
    let path = yaml_file("debug", TOKEN, "https://example.invalid/api/");
    let cfg = atlas_client::AtlasConfigFile::load(&path).unwrap();
    assert!(!format!("{cfg:?}").contains(TOKEN));
}

#[tokio::test]
async fn concurrent_expired_requests_log_in_once() {
    let server = MockServer::start_async().await;
    let expired = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").header("authorization", AUTH);
            then.status(401).json_body(json!({"detail": "Token has expired."}));
        })
        .await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/auth-token/").body(format!("username=bot&password={PASSWORD}"));
            then.status(200).json_body(json!({"token": NEW_TOKEN, "expires_in": 86400.0, "refreshed": true}));
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").header("authorization", format!("Token {NEW_TOKEN}"));
            then.status(200).json_body(json!([unknown_json()]));
        })
        .await;
    let client = AtlasClient::builder()
        .base_url(base(&server))
        .token(TOKEN)
        .credentials("bot", PASSWORD)
        .clock(Arc::new(ManualClock::new()))
        .rate_limiter(private_limiter())
        .build()
        .unwrap();
    let ids: Vec<AtlasId> = (1..=4u64).map(|k| AtlasId::new(1_000_000_000_000_000_000 + k).unwrap()).collect();
    let out = client.sources(ids).chunk_size(1).concurrency(4).collect().await.unwrap();
    assert!(out.iter().all(|r| r.is_not_found()), "{out:?}");
    login.assert_calls_async(1).await;
    ok.assert_calls_async(4).await;
    assert!(expired.calls_async().await <= 4);
}

#[tokio::test]
async fn clients_with_the_same_token_share_the_hourly_limit() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/shared-limit/api/objects/");
            then.status(200).json_body(json!([unknown_json()]));
        })
        .await;
    let make = |clock: &ManualClock| {
        AtlasClient::builder()
            .base_url(server.url("/shared-limit/api/"))
            .token(TOKEN)
            .clock(Arc::new(clock.clone()))
            .requests_per_hour(1)
            .build()
            .unwrap()
    };
    let (ca, cb) = (ManualClock::new(), ManualClock::new());
    let (a, b) = (make(&ca), make(&cb));
    a.source(id()).send().await.unwrap();
    b.source(id()).send().await.unwrap();
    m.assert_calls_async(2).await;
    assert!(ca.sleeps().is_empty());
    assert_eq!(cb.sleeps(), vec![std::time::Duration::from_secs(3600)], "second client waits for the shared window");
}
