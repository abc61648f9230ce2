//! Client configuration: bearer token placement, secrets never printed, rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alerce_client::AlerceClient;
use broker_core::{ManualClock, Quota, SecretString};
use httpmock::prelude::*;
use serde_json::json;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig-very-secret";

#[tokio::test]
async fn bearer_token_goes_to_alerce_apis_only_and_never_prints() {
    let server = MockServer::start_async().await;
    let c = AlerceClient::builder()
        .host(&server.base_url())
        .bearer_token(SecretString::from(TOKEN))
        .user_agent("my-bot/1.0")
        .build()
        .unwrap();
    let ztf = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/ztf/v1/classifiers/")
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("user-agent", "my-bot/1.0");
            t.status(200).json_body(json!([]));
        })
        .await;
    let lsst = server
        .mock_async(|w, t| {
            w.method(GET).path("/classifier_api/classifiers").header("authorization", format!("Bearer {TOKEN}"));
            t.status(200).json_body(json!([]));
        })
        .await;
    let cats = server
        .mock_async(|w, t| {
            w.method(GET).path("/conesearch").header_missing("authorization");
            t.status(200).json_body(json!({}));
        })
        .await;
    c.ztf().classifiers().await.unwrap();
    c.lsst().classifiers().await.unwrap();
    c.catshtm().conesearch(broker_core::SkyPosition::new(1.0, 2.0).unwrap(), 5.0, "WISE").await.unwrap();
    ztf.assert_async().await;
    lsst.assert_async().await;
    cats.assert_async().await;

    let shown = format!("{c:?} {:?}", AlerceClient::builder().bearer_token(SecretString::from(TOKEN)));
    assert!(!shown.contains("very-secret") && !shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("REDACTED"));

    // An error after a 401 does not carry the token either.
    server
        .mock_async(|w, t| {
            w.path("/ztf/v1/objects/ZTF1");
            t.status(401).json_body(json!({"detail": "Token expired"}));
        })
        .await;
    let e = c.ztf().object("ZTF1").await.unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("Token expired") && !text.contains("very-secret"), "{text}");
}

#[tokio::test]
async fn anonymous_requests_send_no_authorization() {
    let server = MockServer::start_async().await;
    let c = AlerceClient::builder().host(&server.base_url()).build().unwrap();
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/classifiers/").header_missing("authorization");
            t.status(200).json_body(json!([]));
        })
        .await;
    c.ztf().classifiers().await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn client_side_rate_limit_spaces_requests_on_the_clock() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let c = AlerceClient::builder()
        .host(&server.base_url())
        .clock(Arc::new(clock.clone()))
        .rate_limit(Quota::rate(2.0, 1))
        .bearer_token(SecretString::from("rate-limit-test-token"))
        .build()
        .unwrap();
    let m = server
        .mock_async(|w, t| {
            w.path("/ztf/v1/classifiers/");
            t.status(200).json_body(json!([]));
        })
        .await;
    for _ in 0..3 {
        c.ztf().classifiers().await.unwrap();
    }
    m.assert_calls_async(3).await;
    let waited: f64 = clock.sleeps().iter().map(|d| d.as_secs_f64()).sum();
    assert!(waited >= 0.9, "three requests at 2/s with a burst of 1 wait about 1 s, waited {waited}");
}

#[test]
fn defaults_point_at_production_and_bad_urls_fail() {
    let c = AlerceClient::new().unwrap();
    let shown = format!("{c:?}");
    for host in [
        "api.alerce.online/ztf/v1/",
        "api.alerce.online/v2/lightcurve/",
        "api-lsst.alerce.online/",
        "avro.alerce.online/",
        "api-lsst.alerce.online/stamps_api/",
        "catshtm.alerce.online/",
    ] {
        assert!(shown.contains(host), "{host} missing from {shown}");
    }
    assert_eq!(c.survey(), "lsst");
    assert!(AlerceClient::builder().ztf_url("not a url").build().is_err());
    assert!(AlerceClient::builder().lsst_survey(" ").build().is_err());
}

#[test]
fn a_token_over_plain_http_to_a_remote_host_needs_an_opt_in() {
    let remote = || AlerceClient::builder().host("http://alerce.example.org").bearer_token("tok".to_string());
    assert!(remote().build().is_err());
    assert!(remote().allow_insecure_http(true).build().is_ok());
    assert!(AlerceClient::builder().host("http://alerce.example.org").build().is_ok(), "no token: fine");
}
