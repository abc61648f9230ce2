//! Errors, retries, the client-side quota and configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use broker_core::SkyPosition;
use common::{builder, client};
use httpmock::prelude::*;
use lasair_client::annotate::Annotation;
use lasair_client::cone::ConeRequest;
use lasair_client::{Error, LasairClient, ObjectOptions, Query, UserClass};
use serde_json::json;

fn pos() -> SkyPosition {
    SkyPosition::new(10.0, 20.0).unwrap()
}

#[tokio::test]
async fn drf_error_bodies_are_typed() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-errors");
    server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/query/");
            t.status(400).json_body(json!({"error": "Your query:<br/><b>SELECT x FROM objects LIMIT 1000 OFFSET 0</b><br/>returned the error<br/><i>Unknown column 'x'</i>"}));
        })
        .await;
    match c.ztf().query(&Query::new("x", "objects", "")).await.unwrap_err() {
        Error::Rejected { message, raw, .. } => {
            assert_eq!(
                message,
                "Your query: SELECT x FROM objects LIMIT 1000 OFFSET 0 returned the error Unknown column 'x'"
            );
            assert!(raw.contains("<br/>"));
        }
        other => panic!("{other:?}"),
    }
    server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/");
            t.status(400).json_body(
                json!({"requestType": ["\"sideways\" is not a valid choice."], "ra": ["A valid number is required."]}),
            );
        })
        .await;
    match c.lsst().cone(&pos(), 5.0, ConeRequest::All).await.unwrap_err() {
        Error::Validation { errors, message, .. } => {
            assert_eq!(errors[0].0, "requestType");
            assert_eq!(errors[1], ("ra".to_string(), "A valid number is required.".to_string()));
            assert!(message.contains("ra: A valid number"));
        }
        other => panic!("{other:?}"),
    }
    server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/sherlock/object/");
            t.status(401).json_body(json!({"detail": "Invalid token."}));
        })
        .await;
    match c.lsst().sherlock_object(1, true).await.unwrap_err() {
        Error::Core(broker_core::Error::Auth { status, message }) => {
            assert_eq!((status, message.as_str()), (Some(401), "Invalid token."));
        }
        other => panic!("{other:?}"),
    }
    server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/object/");
            t.status(500).body("<html><title>Server Error (500)</title></html>");
        })
        .await;
    let e = c.ztf().object("ZTF21nothere", &ObjectOptions::default()).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().contains("Server Error (500)"), "{e}");
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_then_typed() {
    let server = MockServer::start_async().await;
    let (c, clock) = client(&server, "tok-429");
    let body = json!({"message": "Request limit exceeded. Either wait an hour, or see API documentation to increase your limits."});
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/cone/");
            t.status(429).header("retry-after", "7").json_body(body.clone());
        })
        .await;
    let e = c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap_err();
    // max_attempts 3: two waits of the server's 7 s, then the typed error.
    m.assert_calls_async(3).await;
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7), Duration::from_secs(7)]);
    match e {
        Error::Throttled { message, retry_after, .. } => {
            assert!(message.starts_with("Request limit exceeded"));
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("{other:?}"),
    }
    // An hour's Retry-After is longer than the policy waits: RateLimited at once.
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/");
            t.status(429).header("retry-after", "3600").json_body(body.clone());
        })
        .await;
    let e = c.lsst().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap_err();
    m2.assert_calls_async(1).await;
    assert!(
        matches!(e, Error::Core(broker_core::Error::RateLimited { retry_after: Some(d), .. }) if d == Duration::from_secs(3600)),
        "{e:?}"
    );
}

#[tokio::test]
async fn reads_are_retried_on_503_but_an_annotation_is_sent_once() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-5xx");
    let read = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/sherlock/position/");
            t.status(503);
        })
        .await;
    assert_eq!(c.ztf().sherlock_position(&pos(), true).await.unwrap_err().status(), Some(503));
    read.assert_calls_async(3).await;
    let write = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/annotate/");
            t.status(503);
        })
        .await;
    let e = c.ztf().annotate(&Annotation::new("t", "ZTF21abcdefg", "SN")).await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    write.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_annotation_is_retried_after_a_429_since_the_server_did_not_act() {
    let server = MockServer::start_async().await;
    let (c, clock) = client(&server, "tok-429-write");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/annotate/");
            t.status(429).header("retry-after", "2").json_body(json!({"message": "Request limit exceeded."}));
        })
        .await;
    let _ = c.ztf().annotate(&Annotation::new("t", "ZTF21abcdefg", "SN")).await.unwrap_err();
    m.assert_calls_async(3).await;
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn the_hourly_quota_is_kept_client_side_and_shared_per_token() {
    let server = MockServer::start_async().await;
    let token = "tok-quota-dummy";
    let (b, clock) = builder(&server, token);
    let c = b.user_class(UserClass::Dummy).build().unwrap();
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/cone/");
            t.json_body(json!({"count": 0}));
        })
        .await;
    for _ in 0..6 {
        c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    }
    // A second client with the same token (same clock) draws from the same bucket.
    let (b2, _) = builder(&server, token);
    let c2 = b2.clock(std::sync::Arc::new(clock.clone())).user_class(UserClass::Dummy).build().unwrap();
    for _ in 0..4 {
        c2.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    }
    m.assert_calls_async(10).await;
    // The 11th call would wait an hour, longer than the 60 s allowed: RateLimited, not sent.
    let e = c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap_err();
    match e {
        Error::Core(broker_core::Error::RateLimited { retry_after: Some(d), .. }) => {
            assert_eq!(d, Duration::from_secs(3600))
        }
        other => panic!("{other:?}"),
    }
    m.assert_calls_async(10).await;
    assert!(clock.sleeps().is_empty(), "no waiting: {:?}", clock.sleeps());
    // The LSST server has its own bucket.
    let l = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/");
            t.json_body(json!({"count": 0}));
        })
        .await;
    c.lsst().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    l.assert_calls_async(1).await;
    // An hour later the window has moved.
    clock.advance(Duration::from_secs(3600));
    c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    m.assert_calls_async(11).await;
}

#[tokio::test]
async fn the_shared_rate_limit_setters_replace_or_remove_the_class_quota() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/cone/");
            t.json_body(json!({"count": 0}));
        })
        .await;
    // Off: a dummy account's 10 calls an hour no longer hold the 11th back.
    let (b, clock) = builder(&server, "tok-quota-off");
    let c = b.user_class(UserClass::Dummy).no_rate_limit().build().unwrap();
    for _ in 0..11 {
        c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    }
    m.assert_calls_async(11).await;
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    // A given limiter replaces the class quota: 2 an hour even for a power user.
    let mine = std::sync::Arc::new(broker_core::RateLimiter::new(broker_core::Quota::per_hour(2)));
    let (b, _) = builder(&server, "tok-quota-mine");
    let c = b.user_class(UserClass::Power).rate_limiter(mine).build().unwrap();
    c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    match c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap_err() {
        Error::Core(broker_core::Error::RateLimited { retry_after: Some(d), .. }) => {
            assert_eq!(d, Duration::from_secs(3600))
        }
        other => panic!("{other:?}"),
    }
    m.assert_calls_async(13).await;
}

#[tokio::test]
async fn a_short_quota_wait_is_waited_on_the_clock() {
    let server = MockServer::start_async().await;
    let (b, clock) = builder(&server, "tok-quota-wait");
    let c = b.user_class(UserClass::Dummy).build().unwrap();
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/cone/");
            t.json_body(json!({"count": 0}));
        })
        .await;
    for _ in 0..10 {
        c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
        clock.advance(Duration::from_secs(359)); // 10 calls over 59 min 50 s
    }
    // The first slot frees at t = 3600 s; now is 3590 s: a 10 s wait, within 60 s.
    c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(10)]);
    m.assert_calls_async(11).await;
}

#[test]
fn env_vars_and_debug_never_show_the_token() {
    let vars = [
        ("LASAIR_URL", "http://127.0.0.1:1/ztf/api"),
        ("LASAIR_LSST_URL", "http://127.0.0.1:1/lsst/api/"),
        ("LASAIR_TOKEN", "sekret-ztf"),
        ("LASAIR_LSST_TOKEN", "sekret-lsst"),
    ];
    let b = LasairClient::builder().from_env_with(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
    let shown = format!("{b:?}");
    assert!(!shown.contains("sekret"), "{shown}");
    assert!(shown.contains("127.0.0.1:1/ztf/api"));
    let c = b.allow_insecure_http(true).build().unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("sekret"), "{shown}");
    // The base gains its trailing slash, so routes keep theirs.
    assert_eq!(c.http(lasair_client::Survey::Ztf).base_url().as_str(), "http://127.0.0.1:1/ztf/api/");
}

#[tokio::test]
async fn the_lsst_token_override_goes_to_the_lsst_server_only() {
    let server = MockServer::start_async().await;
    let vars = [("LASAIR_TOKEN", "tok-env-ztf"), ("LASAIR_LSST_TOKEN", "tok-env-lsst")];
    let (b, _) = builder(&server, "ignored");
    let c = b.from_env_with(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).build().unwrap();
    let z = server
        .mock_async(|w, t| {
            w.path("/ztf/api/cone/").header("authorization", "Token tok-env-ztf");
            t.json_body(json!({"count": 1}));
        })
        .await;
    let l = server
        .mock_async(|w, t| {
            w.path("/lsst/api/cone/").header("authorization", "Token tok-env-lsst");
            t.json_body(json!({"count": 1}));
        })
        .await;
    c.ztf().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    c.lsst().cone(&pos(), 5.0, ConeRequest::Count).await.unwrap();
    z.assert_async().await;
    l.assert_async().await;
}

mod props {
    use lasair_client::{ConeResult, ObjectId};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lsst_ids_round_trip_exactly(id in any::<i64>()) {
            let parsed = ObjectId::parse(&id.to_string()).unwrap();
            prop_assert_eq!(&parsed, &ObjectId::Lsst(id));
            let json = serde_json::to_string(&parsed).unwrap();
            prop_assert_eq!(json.clone(), id.to_string());
            let back: ObjectId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, ObjectId::Lsst(id));
            let from_text: ObjectId = serde_json::from_str(&format!("\"{id}\"")).unwrap();
            prop_assert_eq!(from_text, ObjectId::Lsst(id));
        }

        #[test]
        fn ztf_ids_are_text(s in "ZTF[0-9]{2}[a-z]{7}") {
            prop_assert_eq!(ObjectId::parse(&s).unwrap(), ObjectId::Ztf(s.clone()));
        }

        #[test]
        fn any_json_cone_reply_decodes_or_errors_without_panic(v in arb_json()) {
            let _ = ConeResult::from_value(v);
        }
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            "[a-z]{0,4}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("object".to_string()),
                            Just("separation".to_string()),
                            Just("nearest".to_string()),
                            Just("objects".to_string()),
                            Just("count".to_string())
                        ],
                        inner
                    ),
                    0..4
                )
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
