#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Every read against httpmock: the exact method, path, User-Agent and form body; decoding
//! of both envelope shapes; quotas on a simulated clock; typed errors.

use std::sync::Arc;
use std::time::Duration;

use broker_core::{ManualClock, RetryPolicy, SkyPosition};
use chrono::TimeZone;
use httpmock::prelude::*;
use serde_json::json;
use tns_client::{Error, ObjectQuery, RadiusUnit, SearchQuery, Survey, TnsClient, TnsName};

const MARKER: &str = r#"tns_marker{"tns_id":1234,"type":"bot","name":"my_bot"}"#;

fn client(server: &MockServer, clock: &ManualClock) -> TnsClient {
    TnsClient::builder()
        .url(server.base_url())
        .api_key("secret-key-123")
        .bot(1234, "my_bot")
        .clock(Arc::new(clock.clone()))
        .retry(RetryPolicy::default().jitter(false))
        .build()
        .unwrap()
}

/// The exact urlencoded body reqwest sends for these pairs.
fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn ok(data: serde_json::Value) -> serde_json::Value {
    json!({"id_code": 200, "id_message": "OK", "data": data})
}

#[tokio::test]
async fn search_forms_are_sent_exactly_with_the_marker() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let t = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).unwrap();
    let cases: Vec<(SearchQuery, &str)> = vec![
        (
            SearchQuery::new().objname(&TnsName::parse("SN 2023ixf").unwrap(), true),
            r#"{"objname":"2023ixf","objname_exact_match":1}"#,
        ),
        (SearchQuery::new().objname_like("2023ix"), r#"{"objname":"2023ix","objname_exact_match":0}"#),
        (
            SearchQuery::new().internal_name("ZTF23aaklqou", false),
            r#"{"internal_name":"ZTF23aaklqou","internal_name_exact_match":0}"#,
        ),
        (
            SearchQuery::new().cone(SkyPosition::new(210.910674, 54.31165).unwrap(), 5.0, RadiusUnit::Arcsec),
            r#"{"ra":"14:03:38.562","dec":"+54:18:41.94","radius":"5","units":"arcsec"}"#,
        ),
        (SearchQuery::new().objid(130454), r#"{"objid":"130454"}"#),
        (SearchQuery::new().public_since(t), r#"{"public_timestamp":"2024-05-01T12:30:00"}"#),
    ];
    for (q, data) in cases {
        let m = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/api/get/search")
                    .header("user-agent", MARKER)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form_body(&[("api_key", "secret-key-123"), ("data", data)]));
                then.status(200).json_body(ok(json!([{"objname": "2023ixf", "prefix": "SN", "objid": 130454}])));
            })
            .await;
        let hits = tns.search(&q).await.unwrap();
        assert_eq!(hits.len(), 1, "{data}");
        assert_eq!(hits[0].objname, "2023ixf");
        assert_eq!(hits[0].objid, Some(130454));
        assert_eq!(hits[0].name().unwrap().to_string(), "SN 2023ixf");
        m.assert_calls_async(1).await;
        m.delete_async().await;
    }
}

#[tokio::test]
async fn search_accepts_the_older_data_reply_shape_and_empty_results() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/search")
                .form_urlencoded_tuple("data", r#"{"objname":"2016A","objname_exact_match":1}"#);
            then.status(200).json_body(ok(json!({"reply": [{"objname": "2016A", "prefix": "AT", "objid": "1"}]})));
        })
        .await;
    let hits = tns.search_name("AT 2016a").await.unwrap();
    assert_eq!(hits[0].objname, "2016A");
    assert_eq!(hits[0].objid, Some(1), "objid given as a string");
    m.assert_async().await;
    let e = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/search")
                .form_urlencoded_tuple("data", r#"{"internal_name":"nothing","internal_name_exact_match":1}"#);
            then.status(200).json_body(ok(json!([])));
        })
        .await;
    assert!(tns.search_internal_name("nothing").await.unwrap().is_empty());
    e.assert_async().await;
}

fn object_2023ixf() -> serde_json::Value {
    json!({
        "objname": "2023ixf", "name_prefix": "SN", "objid": 130454,
        "ra": "14:03:38.562", "dec": "+54:18:41.94", "radeg": 210.910674637, "decdeg": 54.3116510708,
        "object_type": {"name": "SN II", "id": 10},
        "redshift": 0.000804, "hostname": "M101", "host_redshift": 0.000804,
        "discoverydate": "2023-05-19 17:27:35.000", "discoverymag": 14.9,
        "discmagfilter": {"id": 2, "name": "Clear", "family": "Clear"},
        "internal_names": ",ZTF23aaklqou, ATLAS23np, PS23aaa, GOTO23vl, LSST-P-DO-99, Gaia23cdd",
        "reporting_group": {"groupid": 0, "group_name": "None"},
        "discovery_data_source": {"groupid": 0, "group_name": "None"},
        "photometry": [
            {"jd": 2460084.227, "flux": 14.9, "fluxerr": "", "limflux": "", "flux_unit": {"id": 1, "name": "ABMag"},
             "filters": {"id": 111, "name": "r"}, "instrument": {"id": 196, "name": "P48 - ZTF-Cam"}, "remarks": "x"},
            {"jd": 2460083.5, "flux": "", "fluxerr": "", "limflux": 20.5, "flux_unit": {"id": 1, "name": "ABMag"},
             "filters": {"id": 110, "name": "g"}, "instrument": {"id": 196, "name": "P48 - ZTF-Cam"}}
        ],
        "spectra": [{"jd": 2460085.1, "asciifile": "https://www.wis-tns.org/system/files/uploaded/x/tns_2023ixf.txt",
                     "fitsfile": "", "instrument": {"id": 10, "name": "Kast"}}],
        "new_field_tomorrow": 1
    })
}

#[tokio::test]
async fn object_with_photometry_and_spectra_decodes_both_envelopes() {
    for older in [false, true] {
        let server = MockServer::start_async().await;
        let clock = ManualClock::new();
        let tns = client(&server, &clock);
        let data = if older { json!({"reply": object_2023ixf()}) } else { object_2023ixf() };
        let m = server
            .mock_async(|when, then| {
                when.method(POST).path("/api/get/object").header("user-agent", MARKER).body(form_body(&[
                    ("api_key", "secret-key-123"),
                    ("data", r#"{"objname":"2023ixf","photometry":"1","spectra":"1"}"#),
                ]));
                then.status(200).json_body(ok(data));
            })
            .await;
        let obj = tns.object_full("SN 2023ixf").await.unwrap();
        m.assert_async().await;
        assert_eq!(obj.name().unwrap().to_string(), "SN 2023ixf");
        assert_eq!(obj.objid, Some(130454));
        let pos = obj.position().unwrap();
        assert!((pos.ra() - 210.910674637).abs() < 1e-9);
        assert_eq!(obj.object_type.as_ref().unwrap().name.as_deref(), Some("SN II"));
        let names = obj.internal_names();
        assert_eq!(names.ztf(), Some("ZTF23aaklqou"));
        assert_eq!(names.atlas(), Some("ATLAS23np"));
        assert_eq!(names.pan_starrs(), Some("PS23aaa"));
        assert_eq!(names.goto(), Some("GOTO23vl"));
        assert_eq!(names.lsst(), Some("LSST-P-DO-99"));
        assert_eq!(names.first(Survey::Gaia), Some("Gaia23cdd"));
        assert_eq!(obj.photometry.len(), 2);
        assert_eq!(obj.photometry[0].fluxerr, None, "empty string read as none");
        let lc = obj.lightcurve();
        assert_eq!(lc.len(), 2);
        assert_eq!(lc.detections().count(), 1);
        assert_eq!(lc.points[0].band, broker_core::Band::ZtfG, "sorted by date; limit first");
        assert_eq!(obj.spectra[0].fitsfile, None);
        assert!(obj.spectra[0].asciifile.as_deref().unwrap().ends_with("tns_2023ixf.txt"));
        assert_eq!(obj.extra.get("new_field_tomorrow"), Some(&json!(1)));
    }
}

#[tokio::test]
async fn object_by_objid_without_photometry_and_not_found() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/object")
                .form_urlencoded_tuple("data", r#"{"objid":"130454","photometry":"0","spectra":"0"}"#);
            then.status(200).json_body(ok(json!({})));
        })
        .await;
    let err = tns.object(&ObjectQuery::objid(130454)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(ref s) if s == "objid 130454"), "{err:?}");
    m.assert_async().await;
}

#[tokio::test]
async fn malformed_names_fail_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    for bad in ["ZTF23aaklqou", "SN 23ixf", "", "2023"] {
        let e = tns.object_full(bad).await.unwrap_err();
        assert!(matches!(e, Error::Core(broker_core::Error::InvalidInput { .. })), "{bad}: {e:?}");
        let e = tns.search_name(bad).await.unwrap_err();
        assert!(e.to_string().contains("four-digit year"), "{e}");
    }
    let e = tns.search(&SearchQuery::new()).await.unwrap_err();
    assert!(e.to_string().contains("needs a name"), "{e}");
    let e = tns
        .search(&SearchQuery::new().cone(SkyPosition::new(1.0, 2.0).unwrap(), 2.0, RadiusUnit::Deg))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("radius"), "{e}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn remaining_zero_on_a_200_holds_the_next_call_and_429_with_id_code_is_waited_out() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    // A 200 that says the general quota is used up for 20 s.
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/object")
                .form_urlencoded_tuple("data", r#"{"objname":"2023ixf","photometry":"0","spectra":"0"}"#);
            then.status(200)
                .header("x-rate-limit-limit", "90")
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", "20")
                .json_body(ok(object_2023ixf()));
        })
        .await;
    tns.object(&ObjectQuery::name("2023ixf").unwrap()).await.unwrap();
    assert!(clock.sleeps().is_empty());
    // The next call waits reset + 1 s (the sample code's margin) before it is sent.
    let second = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200)
                .header("x-rate-limit-remaining", "89")
                .header("x-rate-limit-reset", "60")
                .json_body(ok(json!([])));
        })
        .await;
    tns.search_name("2023ixf").await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(21)]);
    first.assert_async().await;
    second.assert_async().await;

    // The cone family: a 429 with an id_code body and the cone headers is waited out.
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search").form_urlencoded_tuple(
                "data",
                r#"{"ra":"00:04:00.000","dec":"+02:00:00.00","radius":"1","units":"arcmin"}"#,
            );
            then.status(429)
                .header("content-type", "application/json")
                .header("x-cone-rate-limit-remaining", "0")
                .header("x-cone-rate-limit-reset", "30")
                .json_body(json!({"id_code": 429, "id_message": "Too Many Requests"}));
        })
        .await;
    let err = tns.cone_search(SkyPosition::new(1.0, 2.0).unwrap(), 1.0, RadiusUnit::Arcmin).await.unwrap_err();
    // Five attempts, each after the announced 31 s: then a typed rate-limit error.
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), ref message } if d == Duration::from_secs(31) && message == "Too Many Requests"),
        "{err:?}"
    );
    assert_eq!(throttled.calls_async().await, 5);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(31); 4]);
}

#[tokio::test]
async fn front_end_403_500_503_and_api_errors_are_typed() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(403).header("content-type", "text/html").body("<html><title>403 Forbidden</title></html>");
        })
        .await;
    let e = tns.search_name("2023ixf").await.unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("tns_marker"), "{e}");
    assert!(!format!("{e:?} {e}").contains("secret-key-123"));
    m.delete_async().await;

    for status in [500u16, 503] {
        let m = server
            .mock_async(|when, then| {
                when.method(POST).path("/api/get/search");
                then.status(status).body("Service Unavailable");
            })
            .await;
        let e = tns.search_name("2023ixf").await.unwrap_err();
        assert!(matches!(e, Error::Unavailable { status: s, .. } if s == status), "{e:?}");
        // A retry-safe read: retried with backoff first.
        assert_eq!(m.calls_async().await, 5);
        m.delete_async().await;
    }

    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(401).json_body(json!({"id_code": 401, "id_message": "Unauthorized"}));
        })
        .await;
    let e = tns.search_name("2023ixf").await.unwrap_err();
    assert!(matches!(e, Error::Core(broker_core::Error::Auth { status: Some(401), .. })), "{e:?}");
    m.delete_async().await;

    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200).json_body(json!({"id_code": 400, "id_message": "Bad request", "data": {}}));
        })
        .await;
    let e = tns.search_name("2023ixf").await.unwrap_err();
    assert!(matches!(e, Error::Api { id_code: 400, ref message, .. } if message == "Bad request"), "{e:?}");
    m.assert_async().await;
}

#[tokio::test]
async fn file_download_posts_the_key_alone_and_never_to_another_host() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/system/files/uploaded/x/tns_2023ixf.txt")
                .header("user-agent", MARKER)
                .body(form_body(&[("api_key", "secret-key-123")]));
            then.status(200).body("4000 1.0\n4001 1.1\n");
        })
        .await;
    let url = server.url("/system/files/uploaded/x/tns_2023ixf.txt");
    let bytes = tns.download_file(&url).await.unwrap();
    assert_eq!(&bytes[..], b"4000 1.0\n4001 1.1\n");
    m.assert_async().await;
    let e = tns.download_file("https://elsewhere.example/x.txt").await.unwrap_err();
    assert!(e.to_string().contains("TNS server only"), "{e}");
}

#[test]
fn builder_needs_key_and_identity_and_hides_the_key() {
    let e = TnsClient::builder().bot(1, "b").build().unwrap_err();
    assert!(e.to_string().contains("TNS_API_KEY"), "{e}");
    let e = TnsClient::builder().api_key("k").build().unwrap_err();
    assert!(e.to_string().contains("TNS_BOT_ID"), "{e}");
    let e = TnsClient::builder().api_key("k").bot(1, "bad\nname").build().unwrap_err();
    assert!(e.to_string().contains("printable ASCII"), "{e}");
    let b = TnsClient::builder().api_key("hunter2-key").user(42, "Ann Astro");
    assert!(!format!("{b:?}").contains("hunter2-key"));
    let c = b.build().unwrap();
    assert!(!format!("{c:?}").contains("hunter2-key"));
    assert_eq!(c.identity().marker(), r#"tns_marker{"tns_id":42,"type":"user","name":"Ann Astro"}"#);
    // Credentials never go over plain http to a remote host.
    let e = TnsClient::builder().url("http://tns.example/").api_key("k").bot(1, "b").build().unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
}

#[tokio::test]
async fn two_clients_with_one_key_share_the_announced_quota() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200)
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", "10")
                .json_body(ok(json!([])));
        })
        .await;
    let clock = ManualClock::new();
    // One clock shared by the clients (clients with their own custom clocks keep their quotas apart).
    let shared: Arc<dyn broker_core::Clock> = Arc::new(clock.clone());
    let build = |key: &str| {
        TnsClient::builder()
            .url(server.base_url())
            .api_key(key.to_string())
            .bot(1234, "my_bot")
            .clock(shared.clone())
            .build()
            .unwrap()
    };
    let (a, b, other) = (build("shared-key"), build("shared-key"), build("another-key"));
    a.search_name("2023ixf").await.unwrap();
    // Another key's quota is untouched.
    other.search_name("2023ixf").await.unwrap();
    assert!(clock.sleeps().is_empty());
    // The same key, built separately: waits for the reset announced to the first client.
    b.search_name("2023ixf").await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(11)]);
}

#[tokio::test]
async fn a_client_side_rate_limit_spaces_requests_on_top_of_the_announced_quota() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200).header("x-rate-limit-remaining", "99").json_body(ok(json!([])));
        })
        .await;
    let clock = ManualClock::new();
    let tns = TnsClient::builder()
        .url(server.base_url())
        .api_key("client-side-limit-key")
        .bot(1234, "my_bot")
        .clock(Arc::new(clock.clone()))
        .rate_limit(broker_core::Quota::rate(1.0, 1))
        .build()
        .unwrap();
    for _ in 0..3 {
        tns.search_name("2023ixf").await.unwrap();
    }
    m.assert_calls_async(3).await;
    // One a second with a burst of one: the 2nd and 3rd wait a second each.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1), Duration::from_secs(1)]);
}

#[test]
fn user_and_bot_markers_are_compact_escaped_json() {
    let c = TnsClient::builder().api_key("k").user(77, "Ann").build().unwrap();
    assert_eq!(c.identity().marker(), r#"tns_marker{"tns_id":77,"type":"user","name":"Ann"}"#);
    let c = TnsClient::builder().api_key("k").bot(5, "bot \"q\"").build().unwrap();
    assert_eq!(c.identity().marker(), r#"tns_marker{"tns_id":5,"type":"bot","name":"bot \"q\""}"#);
}
