#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! `objects/`, bulk reads, `cone/` and `externalxmlist/` against a mock ATLAS server.

mod common;

use std::time::Duration;

use atlas_client::{AtlasId, Error, SkyPosition, SourceOutcome};
use broker_core::{Band, RetryPolicy};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

fn id(s: &str) -> AtlasId {
    s.parse().unwrap()
}

#[tokio::test]
async fn one_source_exact_request_and_typed_reply() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objects/")
                .header("authorization", AUTH)
                .header("content-type", FORM)
                .body(format!("objects={ID}"));
            then.status(200).json_body(json!([source_json(ID_U64)]));
        })
        .await;
    let (client, _) = client(&server);
    let s = client.source(id(ID)).send().await.unwrap().expect("found");
    m.assert_async().await;

    assert_eq!(s.id().get(), ID_U64, "19-digit id decoded exactly");
    assert_eq!(s.object.atlas_designation.as_deref(), Some("ATLAS20bbfr"));
    assert_eq!(s.object.sherlock_classification.as_deref(), Some("SN"));
    assert_eq!(s.object.vra, Some(0.111118));
    assert_eq!(s.object.extra["htm16id"], json!(67211174708u64), "unknown fields kept");
    assert_eq!(s.object.date_inserted.as_ref().unwrap().utc().unwrap().to_rfc3339(), "2017-12-27T19:17:25+00:00");
    assert_eq!(s.object.followup_flag_date.as_ref().unwrap().utc().unwrap().to_rfc3339(), "2020-09-15T00:00:00+00:00");
    assert_eq!(s.lc.len(), 2);
    assert_eq!(s.lc[0].id.unwrap().get(), ID_U64);
    assert_eq!(s.lc[0].extra.get("pointing"), Some(json!("TA002N29")));
    assert_eq!(s.lcnondets[0].mag5sig, Some(19.59));
    assert_eq!(s.fp[0].ujy, Some(12.3));
    assert_eq!(s.fp[0].atlas_object_id.unwrap().get(), ID_U64);
    assert_eq!(s.sherlock_crossmatches[0].catalogue_table_name.as_deref(), Some("SDSS/2MASS/PS1"));
    assert_eq!(s.sherlock_classifications[0].classification.as_deref(), Some("SN"));
    assert_eq!(s.tns_name(), Some("2020tjh"));
    assert!(s.external_crossmatches.is_empty());

    // Into the core light curve: detections, a negative-flux detection, a limit.
    let lc = s.lightcurve();
    assert_eq!(lc.len(), 3);
    assert_eq!(lc.points[0].mjd, 58019.44278435);
    assert!(!lc.points[0].is_detection());
    assert_eq!(lc.points[0].limiting_mag, Some(19.59));
    assert_eq!(lc.points[0].band, Band::AtlasC);
    assert_eq!(lc.points[1].mag, Some(18.22));
    assert_eq!(lc.points[1].band, Band::AtlasO);
    assert!(lc.points[2].is_detection());
    assert_eq!(lc.points[2].mag, None);
    assert!((lc.points[2].flux_ujy.unwrap() + 100.0).abs() < 1e-6, "mag -18.9 is -100 µJy");
    assert_eq!(lc.points[2].object_id, ID);

    let fp = s.forced_lightcurve();
    assert_eq!(fp.len(), 2);
    assert!(!fp.points[0].is_detection(), "12.3 ± 17.6 µJy is a limit");
    assert_eq!(fp.points[0].flux_ujy, Some(12.3));
    assert!(fp.points[1].is_detection(), "300 ± 20 µJy is a detection");
    assert!((fp.points[1].mag.unwrap() - (23.9 - 2.5 * 300f64.log10())).abs() < 1e-12);
}

#[tokio::test]
async fn old_field_name_realbogus_factor_and_mjd_threshold() {
    let server = MockServer::start_async().await;
    let mut body = source_json(ID_U64);
    let o = body["object"].as_object_mut().unwrap();
    o.remove("vra");
    o.insert("realbogus_factor".into(), json!(0.42));
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={ID}&mjd=60000.5"));
            then.status(200).json_body(json!([body]));
        })
        .await;
    let (client, _) = client(&server);
    let s = client.source(id(ID)).mjd_threshold(60000.5).send().await.unwrap().unwrap();
    m.assert_async().await;
    assert_eq!(s.object.vra, Some(0.42));
}

#[tokio::test]
async fn unknown_id_is_not_found() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={UNKNOWN}"));
            then.status(200).json_body(json!([unknown_json()]));
        })
        .await;
    let (client, _) = client(&server);
    assert!(client.source(id(UNKNOWN)).send().await.unwrap().is_none());
    m.assert_async().await;
}

#[tokio::test]
async fn bulk_chunks_in_order_once_each() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let c = 1_000_000_000_000_000_003u64;
    let d = 1_000_000_000_000_000_004u64;
    let e = 1_000_000_000_000_000_005u64;
    let m1 = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objects/")
                .header("authorization", AUTH)
                .body(format!("objects={a}%2C{b}&mjd=60000"));
            then.status(200).json_body(json!([source_json(a), unknown_json()]));
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={c}%2C{d}&mjd=60000"));
            // Out of order: matched by id, not position.
            then.status(200).json_body(json!([source_json(d), source_json(c)]));
        })
        .await;
    let m3 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={e}&mjd=60000"));
            then.status(200).json_body(json!([source_json(e)]));
        })
        .await;
    let (client, _) = client(&server);
    let ids: Vec<AtlasId> = [a, b, c, a, d, e].iter().map(|n| AtlasId::new(*n).unwrap()).collect();
    let req = client.sources(ids).chunk_size(2).concurrency(2).mjd_threshold(60000.0);
    let stream = req.clone().stream().unwrap();
    assert_eq!(stream.total(), Some(5), "duplicates asked once");
    let out = req.collect().await.unwrap();
    m1.assert_async().await;
    m2.assert_async().await;
    m3.assert_async().await;
    let got: Vec<u64> = out.iter().map(|r| r.id.get()).collect();
    assert_eq!(got, vec![a, b, c, d, e]);
    assert_eq!(out[0].source().unwrap().id().get(), a);
    assert!(out[1].is_not_found());
    assert_eq!(out[2].source().unwrap().id().get(), c);
    assert_eq!(out[3].source().unwrap().id().get(), d);
    assert_eq!(out[4].source().unwrap().id().get(), e);
}

#[tokio::test]
async fn failing_chunk_is_retried_then_reported_never_dropped() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let c = 1_000_000_000_000_000_003u64;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={a}%2C{b}"));
            then.status(200).json_body(json!([source_json(a), source_json(b)]));
        })
        .await;
    let bad = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={c}"));
            then.status(500).body("<html><title>Server Error (500)</title></html>");
        })
        .await;
    let clock = broker_core::ManualClock::new();
    let client = builder(&server, &clock).retry(RetryPolicy::default().max_attempts(3).jitter(false)).build().unwrap();
    let out = client.sources([a, b, c].map(|n| AtlasId::new(n).unwrap())).chunk_size(2).collect().await.unwrap();
    ok.assert_async().await;
    bad.assert_calls_async(3).await;
    assert_eq!(out.len(), 3);
    assert!(out[0].source().is_some() && out[1].source().is_some());
    assert_eq!(out[2].id.get(), c);
    let err = out[2].error().expect("failed, reported");
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("Server Error (500)"), "{err}");
    assert_eq!(clock.sleeps().len(), 2, "two backoff waits between three attempts");
}

#[tokio::test]
async fn throttled_chunk_waits_retry_after_then_succeeds() {
    let server = MockServer::start_async().await;
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let m = server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={ID}"));
            then.respond_with(move |_req: &httpmock::HttpMockRequest| {
                if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    httpmock::HttpMockResponse::builder()
                        .status(429)
                        .header("Retry-After", "120")
                        .header("content-type", "application/json")
                        .body(r#"{"detail":"Request was throttled. Expected available in 120 seconds."}"#)
                        .build()
                } else {
                    httpmock::HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(json!([source_json(ID_U64)]).to_string())
                        .build()
                }
            });
        })
        .await;
    let (client, clock) = client(&server);
    let out = client.sources([id(ID)]).collect().await.unwrap();
    m.assert_calls_async(2).await;
    assert!(out[0].source().is_some());
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(120)]);
}

#[tokio::test]
async fn client_side_limit_spaces_requests_within_the_hour() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/");
            then.status(200).json_body(json!([unknown_json()]));
        })
        .await;
    let clock = broker_core::ManualClock::new();
    let client = builder(&server, &clock)
        .rate_limiter(std::sync::Arc::new(broker_core::RateLimiter::new(broker_core::Quota::per_hour(2))))
        .build()
        .unwrap();
    let ids: Vec<AtlasId> = (1..=3u64).map(|k| AtlasId::new(1_000_000_000_000_000_000 + k).unwrap()).collect();
    let out = client.sources(ids).chunk_size(1).concurrency(1).collect().await.unwrap();
    m.assert_calls_async(3).await;
    assert!(out.iter().all(|r| r.is_not_found()));
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(3600)], "third request waits for the window");
}

#[tokio::test]
async fn over_limit_reply_splits_the_chunk() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let big = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={a}%2C{b}"));
            then.status(200).json_body(json!({"info": "Max number of objects for each requests is 1"}));
        })
        .await;
    let one = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={a}"));
            then.status(200).json_body(json!([source_json(a)]));
        })
        .await;
    let two = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={b}"));
            then.status(200).json_body(json!([source_json(b)]));
        })
        .await;
    let (client, _) = client(&server);
    let out = client.sources([a, b].map(|n| AtlasId::new(n).unwrap())).collect().await.unwrap();
    big.assert_async().await;
    one.assert_async().await;
    two.assert_async().await;
    assert_eq!(out.iter().filter(|r| r.source().is_some()).count(), 2);
}

#[tokio::test]
async fn one_bad_element_fails_only_its_id() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let mut broken = source_json(b);
    broken["lc"] = json!("not a list");
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/");
            then.status(200).json_body(json!([source_json(a), broken]));
        })
        .await;
    let (client, _) = client(&server);
    let out = client.sources([a, b].map(|n| AtlasId::new(n).unwrap())).collect().await.unwrap();
    assert!(out[0].source().is_some());
    assert!(matches!(out[1].outcome, SourceOutcome::Failed(ref e) if matches!(**e, Error::Decode { .. })));
}

#[tokio::test]
async fn invalid_input_sends_nothing() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200).json_body(json!([]));
        })
        .await;
    let (client, _) = client(&server);
    assert!(matches!(client.sources(Vec::new()).collect().await, Err(Error::InvalidInput { .. })));
    assert!(matches!(client.sources([id(ID)]).chunk_size(0).collect().await, Err(Error::InvalidInput { .. })));
    assert!(matches!(client.sources([id(ID)]).chunk_size(50_001).collect().await, Err(Error::InvalidInput { .. })));
    assert!(matches!(client.source(id(ID)).mjd_threshold(f64::NAN).send().await, Err(Error::InvalidInput { .. })));
    let pos = SkyPosition::new(150.0, 60.0).unwrap();
    let e = client.cone_all(pos, 301.0).await.unwrap_err();
    assert!(e.to_string().contains("(0, 300]"), "{e}");
    assert!(client.cone_count(pos, 0.0).await.is_err());
    assert!(client.external_crossmatches(["2020tjh,2020abc"]).await.is_err());
    assert!(client.external_crossmatches(Vec::<String>::new()).await.is_err());
    assert!("116160021122160490".parse::<AtlasId>().is_err());
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn cone_search_three_kinds() {
    let server = MockServer::start_async().await;
    let body = |kind: &str| format!("ra=150&dec=60&radius=5&requestType={kind}");
    let nearest = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").header("authorization", AUTH).body(body("nearest"));
            then.status(200).json_body(json!({"object": ID2_U64, "separation": 0.64, "objectname": "ATLAS23abc"}));
        })
        .await;
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").body(body("all"));
            then.status(200).json_body(json!([
                {"object": ID2_U64, "separation": 0.64, "objectname": "ATLAS23abc"},
                {"object": ID_U64, "separation": 4.2, "objectname": "ATLAS20bbfr"}
            ]));
        })
        .await;
    let count = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").body(body("count"));
            then.status(200).json_body(json!({"count": 2}));
        })
        .await;
    let (client, _) = client(&server);
    let pos = SkyPosition::new(150.0, 60.0).unwrap();
    let n = client.cone_nearest(pos, 5.0).await.unwrap().unwrap();
    assert_eq!(n.object.get(), ID2_U64);
    assert_eq!(n.separation, Some(0.64));
    assert_eq!(n.objectname.as_deref(), Some("ATLAS23abc"));
    let v = client.cone_all(pos, 5.0).await.unwrap();
    assert_eq!(v.iter().map(|m| m.object.get()).collect::<Vec<_>>(), vec![ID2_U64, ID_U64]);
    assert_eq!(client.cone_count(pos, 5.0).await.unwrap(), 2);
    nearest.assert_async().await;
    all.assert_async().await;
    count.assert_async().await;
}

#[tokio::test]
async fn cone_search_nothing_found_current_and_old_server() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").body("ra=10.5&dec=-5.25&radius=2&requestType=nearest");
            then.status(200).json_body(json!({}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").body("ra=10.5&dec=-5.25&radius=2&requestType=all");
            then.status(400).json_body(json!({"error": "No object found ra=10.50000 dec=-5.25000 radius=2.00"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/cone/").body("ra=10.5&dec=-5.25&radius=3&requestType=all");
            then.status(400).json_body(json!({"error": "Max radius is 300 arcsec."}));
        })
        .await;
    let (client, _) = client(&server);
    let pos = SkyPosition::new(10.5, -5.25).unwrap();
    assert!(client.cone_nearest(pos, 2.0).await.unwrap().is_none());
    assert!(client.cone_all(pos, 2.0).await.unwrap().is_empty());
    let e = client.cone_all(pos, 3.0).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("Max radius is 300 arcsec."));
}

#[tokio::test]
async fn external_crossmatch_lists_by_name() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/externalxmlist/")
                .header("authorization", AUTH)
                .body("externalObjects=2020tjh%2C2099zzz");
            then.status(200).json_body(json!([
                [{"id": 500136497, "transient_object_id": ID_U64, "external_designation": "2020tjh",
                  "type": "SN Ia", "matched_list": "Transient Name Server", "separation": 0.287803,
                  "disc_date": "2020-09-15T11:13:55Z", "host_z": null}],
                []
            ]));
        })
        .await;
    let (client, _) = client(&server);
    let out = client.external_crossmatches(["2020tjh", "2099zzz"]).await.unwrap();
    m.assert_async().await;
    assert_eq!(out[0].name, "2020tjh");
    assert_eq!(out[0].matches[0].transient_object_id.unwrap().get(), ID_U64);
    assert_eq!(out[0].matches[0].kind.as_deref(), Some("SN Ia"));
    assert!(out[1].matches.is_empty());
}

/// A server that answers `objects/` from the form body: ids ending in 7 are unknown, the
/// rest found, replied in reverse order; it records every id it was asked for.
#[tokio::test]
async fn every_id_exactly_once_in_order_for_any_chunking() {
    let server = MockServer::start_async().await;
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let asked2 = asked.clone();
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/objects/");
            then.respond_with(move |req: &httpmock::HttpMockRequest| {
                let body = String::from_utf8_lossy(req.body().as_ref()).to_string();
                let list = body.strip_prefix("objects=").unwrap_or("").replace("%2C", ",");
                let ids: Vec<u64> = list.split(',').map(|s| s.parse().unwrap()).collect();
                asked2.lock().unwrap().extend(&ids);
                let reply: Vec<serde_json::Value> =
                    ids.iter().rev().map(|&i| if i % 10 == 7 { unknown_json() } else { source_json(i) }).collect();
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(serde_json::Value::Array(reply).to_string())
                    .build()
            });
        })
        .await;
    let (client, _) = client(&server);
    let input: Vec<u64> = [5u64, 1, 17, 3, 3, 8, 2, 6, 4, 5].iter().map(|k| 1_000_000_000_000_000_000 + k).collect();
    let mut distinct = input.clone();
    let mut seen = std::collections::HashSet::new();
    distinct.retain(|x| seen.insert(*x));
    for chunk in 1..=9 {
        for conc in 1..=3 {
            asked.lock().unwrap().clear();
            let ids = input.iter().map(|n| AtlasId::new(*n).unwrap());
            let out = client.sources(ids).chunk_size(chunk).concurrency(conc).collect().await.unwrap();
            let got: Vec<u64> = out.iter().map(|r| r.id.get()).collect();
            assert_eq!(got, distinct, "chunk {chunk} concurrency {conc}");
            for r in &out {
                if r.id.get() % 10 == 7 {
                    assert!(r.is_not_found(), "{:?}", r.id);
                } else {
                    assert_eq!(r.source().map(|s| s.id()), Some(r.id));
                }
            }
            let mut a = asked.lock().unwrap().clone();
            a.sort();
            let mut d = distinct.clone();
            d.sort();
            assert_eq!(a, d, "each id asked exactly once");
        }
    }
}

#[tokio::test]
async fn isolate_failures_splits_a_500_chunk_down_to_the_bad_id() {
    let server = MockServer::start_async().await;
    let ids: Vec<u64> = (1..=4u64).map(|k| 1_000_000_000_000_000_000 + k).collect();
    let bad = ids[2];
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/objects/");
            then.respond_with(move |req: &httpmock::HttpMockRequest| {
                let body = String::from_utf8_lossy(req.body().as_ref()).to_string();
                let asked: Vec<u64> =
                    body.trim_start_matches("objects=").split("%2C").map(|s| s.parse().unwrap()).collect();
                if asked.contains(&bad) {
                    return httpmock::HttpMockResponse::builder().status(500).body("Server Error (500)").build();
                }
                let reply: Vec<serde_json::Value> = asked.iter().map(|&i| source_json(i)).collect();
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(serde_json::Value::Array(reply).to_string())
                    .build()
            });
        })
        .await;
    let clock = broker_core::ManualClock::new();
    let client = builder(&server, &clock).retry(RetryPolicy::none()).build().unwrap();
    let to_ids = || ids.iter().map(|n| AtlasId::new(*n).unwrap()).collect::<Vec<_>>();
    // Without isolation the whole chunk fails.
    let out = client.sources(to_ids()).collect().await.unwrap();
    assert!(out.iter().all(|r| r.error().is_some()));
    // With it, only the bad id fails.
    let out = client.sources(to_ids()).isolate_failures(true).collect().await.unwrap();
    assert_eq!(out.iter().map(|r| r.id.get()).collect::<Vec<_>>(), ids);
    for r in &out {
        assert_eq!(r.error().is_some(), r.id.get() == bad, "{:?}", r.id);
    }
}

/// Replies over the blocking-decode threshold (256 KiB) take the blocking-pool path: the same
/// results, in input order, matched by id when the server answers out of order.
#[tokio::test]
async fn large_replies_decoded_off_the_runtime_same_results() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_011u64;
    let b = 1_000_000_000_000_000_012u64;
    let big = |n: u64| {
        let mut s = source_json(n);
        let row = s["lc"][0].clone();
        s["lc"] = serde_json::Value::Array(vec![row; 1500]);
        s
    };
    let body = json!([big(b), big(a)]);
    assert!(serde_json::to_vec(&body).unwrap().len() > 300 * 1024);
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objects/").body(format!("objects={a}%2C{b}"));
            then.status(200).json_body(body);
        })
        .await;
    let (client, _) = client(&server);
    let out = client.sources([a, b].map(|n| AtlasId::new(n).unwrap())).chunk_size(2).collect().await.unwrap();
    m.assert_async().await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].source().unwrap().id().get(), a);
    assert_eq!(out[1].source().unwrap().id().get(), b);
    assert_eq!(out[0].source().unwrap().lc.len(), 1500);
}

/// The `cone/` reply has no positions: `cone_all_with_positions` reads them from one
/// `objects/` request for the matches, asking for no photometry (`mjd=1000000`). An id the
/// server does not know keeps `None`.
#[tokio::test]
async fn cone_with_positions_reads_ra_dec_from_objects() {
    let server = MockServer::start_async().await;
    let cone = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/cone/")
                .header("authorization", AUTH)
                .header("content-type", FORM)
                .body("ra=150&dec=60&radius=5&requestType=all");
            then.status(200).json_body(json!([
                {"object": ID_U64, "separation": 0.64, "objectname": "ATLAS20bbfr"},
                {"object": ID2_U64, "separation": 4.2, "objectname": "ATLAS23abc"}
            ]));
        })
        .await;
    let objects = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objects/")
                .header("authorization", AUTH)
                .header("content-type", FORM)
                .body(format!("objects={ID}%2C{ID2}&mjd=1000000"));
            then.status(200).json_body(json!([source_json(ID_U64), unknown_json()]));
        })
        .await;
    let (client, _) = client(&server);
    let hits = client.cone_all_with_positions(SkyPosition::new(150.0, 60.0).unwrap(), 5.0).await.unwrap();
    cone.assert_calls_async(1).await;
    objects.assert_calls_async(1).await;
    assert_eq!(hits.len(), 2);
    assert_eq!((hits[0].ra, hits[0].dec), (Some(0.02158), Some(31.78178)));
    assert_eq!(hits[0].objectname.as_deref(), Some("ATLAS20bbfr"));
    assert_eq!((hits[1].ra, hits[1].dec), (None, None));
    // Serialized, a match has the position next to the server's fields.
    let v = serde_json::to_value(&hits[0]).unwrap();
    assert_eq!(v["ra"], 0.02158);
}
