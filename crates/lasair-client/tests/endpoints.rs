//! One test per endpoint: the exact request (method, path with its trailing slash,
//! form or JSON body, auth header) and the decoding of a reply shaped like the server's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use broker_core::{PointKind, SkyPosition};
use common::{client, exact_form};
use httpmock::prelude::*;
use lasair_client::annotate::Annotation;
use lasair_client::cone::ConeRequest;
use lasair_client::{Error, ObjectId, ObjectOptions, Query};
use serde_json::json;

const BIG: i64 = 170_000_000_000_000_123; // above 2^53

#[tokio::test]
async fn ztf_cone_all_sends_the_form_and_reads_the_list_reply() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-cone-ztf");
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/cone/")
                .header("authorization", "Token tok-cone-ztf")
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(exact_form(&[
                    ("ra", "194.494"),
                    ("dec", "48.851"),
                    ("radius", "240"),
                    ("requestType", "all"),
                ]));
            t.json_body(json!([
                {"object": "ZTF19abcdefg", "separation": 12.5},
                {"object": "ZTF20zzzzzzz", "separation": 3.25}
            ]));
        })
        .await;
    let r = c.ztf().cone(&SkyPosition::new(194.494, 48.851).unwrap(), 240.0, ConeRequest::All).await.unwrap();
    m.assert_async().await;
    assert_eq!(r.objects.len(), 2);
    assert_eq!(r.count, Some(2));
    assert_eq!(r.nearest.unwrap().object, ObjectId::Ztf("ZTF20zzzzzzz".into()));
}

#[tokio::test]
async fn lsst_cone_reads_nearest_all_and_count_shapes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-cone-lsst");
    let pos = SkyPosition::new(10.0, -5.0).unwrap();
    let near = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/").is_true(exact_form(&[
                ("ra", "10"),
                ("dec", "-5"),
                ("radius", "5"),
                ("requestType", "nearest"),
            ]));
            t.json_body(json!({"nearest": {"object": BIG, "separation": 0.7}}));
        })
        .await;
    let r = c.lsst().cone(&pos, 5.0, ConeRequest::Nearest).await.unwrap();
    near.assert_async().await;
    assert_eq!(r.nearest.as_ref().unwrap().object, ObjectId::Lsst(BIG));
    let all = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/").form_urlencoded_tuple("requestType", "all");
            t.json_body(
                json!({"objects": [{"object": BIG, "separation": 0.7}, {"object": BIG + 1, "separation": 4.0}],
                "count": 2, "nearest": {"object": BIG, "separation": 0.7}}),
            );
        })
        .await;
    let r = c.lsst().cone(&pos, 5.0, ConeRequest::All).await.unwrap();
    all.assert_async().await;
    assert_eq!(r.objects[1].object, ObjectId::Lsst(BIG + 1));
    assert_eq!(r.count, Some(2));
    let count = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/cone/").form_urlencoded_tuple("requestType", "count");
            t.json_body(json!({"count": 7}));
        })
        .await;
    let r = c.lsst().cone(&pos, 5.0, ConeRequest::Count).await.unwrap();
    count.assert_async().await;
    assert_eq!((r.count, r.objects.len(), r.nearest), (Some(7), 0, None));
    // An empty nearest reply is `{}`.
    let empty = ConeResult_from(json!({}));
    assert!(empty.nearest.is_none() && empty.objects.is_empty());
}

#[allow(non_snake_case)]
fn ConeResult_from(v: serde_json::Value) -> lasair_client::ConeResult {
    lasair_client::ConeResult::from_value(v).unwrap()
}

#[tokio::test]
async fn cone_radius_over_1000_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-cone-bad");
    let m = server
        .mock_async(|w, t| {
            w.any_request();
            t.status(500);
        })
        .await;
    let pos = SkyPosition::new(10.0, 5.0).unwrap();
    for r in [1000.5, 0.0, -1.0, f64::NAN] {
        let e = c.lsst().cone(&pos, r, ConeRequest::All).await.unwrap_err();
        assert!(e.to_string().contains("at most 1000 arcsec"), "{e}");
    }
    m.assert_calls_async(0).await;
}

#[tokio::test]
async fn query_sends_selected_tables_conditions_limit_offset() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-query");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/query/").header("authorization", "Token tok-query").is_true(exact_form(&[
                ("selected", "objectId, gmag"),
                ("tables", "objects,watchlist:139"),
                ("conditions", "gmag < 12.0"),
                ("limit", "3"),
                ("offset", "6"),
            ]));
            t.json_body(
                json!([{"objectId": "ZTF17aaagaie", "gmag": 11.4319}, {"objectId": "ZTF18aaadvxy", "gmag": 11.8582}]),
            );
        })
        .await;
    let q = Query::new("objectId, gmag", "objects", "gmag < 12.0").watchlist(139).limit(3).offset(6);
    let rows = c.ztf().query(&q).await.unwrap();
    m.assert_async().await;
    assert_eq!(rows[1]["gmag"], 11.8582);
    // Without limit/offset nothing extra is sent.
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/query/").is_true(exact_form(&[
                ("selected", "*"),
                ("tables", "objects"),
                ("conditions", ""),
            ]));
            t.json_body(json!([]));
        })
        .await;
    assert!(c.lsst().query(&Query::new("*", "objects", "")).await.unwrap().is_empty());
    m2.assert_async().await;
}

#[tokio::test]
async fn query_stream_pages_by_offset_until_a_short_page() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-stream");
    let mut mocks = Vec::new();
    for (offset, n) in [(10u64, 2u64), (12, 2), (14, 1)] {
        mocks.push(
            server
                .mock_async(|w, t| {
                    w.method(POST).path("/lsst/api/query/").is_true(exact_form(&[
                        ("selected", "diaObjectId"),
                        ("tables", "objects"),
                        ("conditions", "ORDER BY diaObjectId"),
                        ("limit", "2"),
                        ("offset", &offset.to_string()),
                    ]));
                    t.json_body(json!(
                        (0..n).map(|i| json!({"diaObjectId": BIG + (offset + i) as i64})).collect::<Vec<_>>()
                    ));
                })
                .await,
        );
    }
    #[derive(serde::Deserialize)]
    #[allow(non_snake_case)]
    struct R {
        diaObjectId: i64,
    }
    let q = Query::new("diaObjectId", "objects", "ORDER BY diaObjectId").limit(2).offset(10);
    let rows: Vec<R> = c.lsst().query_stream_as(q).unwrap().collect_all().await.unwrap();
    assert_eq!(rows.iter().map(|r| r.diaObjectId - BIG).collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn query_stream_asks_at_most_the_class_cap_so_a_clamped_page_is_not_mistaken_for_the_end() {
    let server = MockServer::start_async().await;
    let (b, _) = common::builder(&server, "tok-dummy-cap");
    let c = b.user_class(lasair_client::UserClass::Dummy).build().unwrap();
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/query/")
                .form_urlencoded_tuple("limit", "1000")
                .form_urlencoded_tuple("offset", "0");
            t.json_body(json!([]));
        })
        .await;
    let rows =
        c.ztf().query_stream(Query::new("objectId", "objects", "").limit(5000)).unwrap().collect_all().await.unwrap();
    assert!(rows.is_empty());
    m.assert_async().await;
}

#[tokio::test]
async fn query_input_the_server_refuses_is_refused_here() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-query-bad");
    let m = server
        .mock_async(|w, t| {
            w.any_request();
            t.status(500);
        })
        .await;
    for q in [
        Query::new("objectId", "objects", "gmag < 12 limit 5"),
        Query::new("objectId", "objects", "gmag < 12; drop table x"),
        Query::new(" ", "objects", ""),
        Query::new("objectId", "", ""),
        Query::new("objectId", "objects", "").limit(2_000_000),
    ] {
        assert!(matches!(c.ztf().query(&q).await, Err(Error::Core(broker_core::Error::InvalidInput { .. }))), "{q:?}");
    }
    m.assert_calls_async(0).await;
}

fn ztf_object_reply() -> serde_json::Value {
    // The shape of lasair4 `objjson`: detections with candid, a non-candidate whose magpsf
    // objjson overwrote with diffmaglim, a negative-difference detection, forced photometry.
    json!({
        "objectId": "ZTF21abcdefg",
        "objectData": {"ncand": 3, "ramean": 150.1, "decmean": 2.2, "glonmean": 236.8, "glatmean": 42.1,
            "jdmin": 2459300.7, "jdmax": 2459310.8, "rasex": "10:00:24.00", "decsex": "+02:12:00.0",
            "discMjd": 59300.2, "discFilter": "g", "peakMag": "18.10±0.05"},
        "candidates": [
            {"candid": 1557123451015015011_i64, "jd": 2459310.8, "mjd": 59310.3, "ra": 150.1, "dec": 2.2, "fid": 2, "nid": 1557,
             "magpsf": 18.4, "sigmapsf": 0.06, "magnr": 21.0, "sigmagnr": 0.1, "magzpsci": 26.3, "isdiffpos": "t",
             "ssdistnr": -999.0, "ssnamenr": "null", "drb": 0.99, "imjd": 59310, "since_now": -20.1,
             "utc": "2021-04-10 07:12:00", "image_urls": {"Science": "https://x/y.fits"}, "json": "..."},
            {"candid": 1547123451015015012_i64, "jd": 2459300.7, "mjd": 59300.2, "fid": 1, "magpsf": 18.1, "sigmapsf": 0.05,
             "isdiffpos": "f", "drb": 0.9},
            {"jd": 2459299.7, "mjd": 59299.2, "fid": 1, "diffmaglim": 20.5, "magpsf": 20.5}
        ],
        "forcedphot": [
            {"objectid": "ZTF21abcdefg", "jd": 2459305.7, "mjd": 59305.2, "ranr": 150.1, "decnr": 2.2, "fid": 2,
             "forcediffimflux": 1000.0, "forcediffimfluxunc": 50.0, "magzpsci": 26.3},
            {"jd": 2459306.7, "fid": 2, "forcediffimflux": -99999.0, "forcediffimfluxunc": -99999.0, "magzpsci": 26.3}
        ],
        "count_isdiffpos": 1, "count_isdiffneg": 1, "count_all_candidates": 2, "count_noncandidate": 1,
        "sherlock": {"classification": "SN", "separationArcsec": 1.2},
        "image_urls": {}, "TNS": {"tns_name": "2021abc", "type": "SN Ia"},
        "message": "Got 2 candidates and 1 noncandidates"
    })
}

#[tokio::test]
async fn ztf_object_sends_both_booleans_and_decodes_objjson() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-obj-ztf");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/object/").is_true(exact_form(&[
                ("objectId", "ZTF21abcdefg"),
                ("lite", "False"),
                ("lasair_added", "True"),
            ]));
            t.json_body(ztf_object_reply());
        })
        .await;
    let o = c.ztf().object("ZTF21abcdefg", &ObjectOptions::default()).await.unwrap();
    m.assert_async().await;
    assert_eq!(o.object_data.as_ref().unwrap().ramean, Some(150.1));
    assert_eq!(o.candidates[0].candid, Some(1557123451015015011));
    assert_eq!(o.tns.as_ref().unwrap()["tns_name"], "2021abc");
    assert_eq!(o.extra["count_noncandidate"], 1);
    let lc = o.to_lightcurve(false);
    assert_eq!(lc.len(), 3);
    // Ordered by MJD: the limit, the negative detection, the positive detection.
    let p = &lc.points;
    assert_eq!(p[0].kind, PointKind::Limit);
    assert_eq!((p[0].limiting_mag, p[0].mag), (Some(20.5), None), "the copied magpsf is not a measurement");
    assert_eq!(p[1].band, broker_core::Band::ZtfG);
    assert!(p[1].flux_ujy.unwrap() < 0.0, "isdiffpos f is a negative difference");
    assert_eq!(
        (p[2].mag, p[2].band.name(), p[2].survey.as_str(), p[2].broker.as_str()),
        (Some(18.4), "ztfr", "ztf", "lasair")
    );
    assert_eq!(p[2].object_id, "ZTF21abcdefg");
    // Forced photometry: 1000 DN at zp 26.3 is 1000 × 10^(-0.96) µJy; the -99999 row is dropped.
    let lc = o.to_lightcurve(true);
    assert_eq!(lc.len(), 4);
    let fp = lc.points.iter().find(|p| (p.mjd - 59305.2).abs() < 1e-9).unwrap();
    assert!((fp.flux_ujy.unwrap() - 1000.0 * 10f64.powf(-0.96)).abs() < 1e-9);
    assert_eq!(fp.kind, PointKind::Detection);
}

#[tokio::test]
async fn ztf_lightcurve_asks_without_lasair_additions_and_reads_raw_rows() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-lc-ztf");
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/object/")
                .is_true(exact_form(&[("objectId", "ZTF21abcdefg"), ("lite", "True"), ("lasair_added", "False")]));
            // lightcurve_fetcher rows: no mjd; non-candidates only jd, fid, diffmaglim.
            t.json_body(json!({"objectId": "ZTF21abcdefg",
                "candidates": [{"candid": 1, "jd": 2459310.5, "fid": 3, "magpsf": 19.0, "sigmapsf": 0.1, "isdiffpos": "t"},
                               {"jd": 2459309.5, "fid": 2, "diffmaglim": 20.0}],
                "forcedphot": []}));
        })
        .await;
    let lc = c.ztf().lightcurve("ZTF21abcdefg").await.unwrap().to_lightcurve(true);
    m.assert_async().await;
    assert_eq!(lc.points[0].mjd, 59309.0);
    assert_eq!(lc.points[0].kind, PointKind::Limit);
    assert_eq!(lc.points[1].band, broker_core::Band::ZtfI);
}

#[tokio::test]
async fn ztf_lightcurves_batches_ten_ids_per_request() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-lcs");
    let ids: Vec<String> = (0..12).map(|i| format!("ZTF21aaaa{i:03}")).collect();
    let first = ids[..10].join(",");
    let m1 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/lightcurves/").is_true(exact_form(&[("objectIds", &first)]));
            t.json_body(json!(
                (0..10)
                    .map(|i| json!({"objectId": format!("ZTF21aaaa{i:03}"), "candidates": [], "forcedphot": []}))
                    .collect::<Vec<_>>()
            ));
        })
        .await;
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/lightcurves/").is_true(exact_form(&[("objectIds", "ZTF21aaaa010,ZTF21aaaa011")]));
            t.json_body(json!([{"objectId": "ZTF21aaaa010", "candidates": [{"candid": 5, "jd": 2459310.5, "fid": 1, "magpsf": 19.0}], "forcedphot": []},
                               {"error": "Object ZTF21aaaa011 does not exist"}]));
        })
        .await;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let got = c.ztf().lightcurves(&refs).await.unwrap();
    m1.assert_async().await;
    m2.assert_async().await;
    assert_eq!(got.len(), 12);
    assert_eq!(got[10].to_lightcurve(false).len(), 1);
    assert!(got[11].error.as_deref().unwrap().contains("does not exist"));
}

#[tokio::test]
async fn lsst_object_keeps_64_bit_ids_from_string_and_integer_fields() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-obj-lsst");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/object/").is_true(exact_form(&[
                ("objectId", &BIG.to_string()),
                ("lite", "False"),
                ("lasair_added", "True"),
                ("reliabilityThreshold", "0.5"),
            ]));
            // serializers.py::reformat: diaObjectId echoes the CharField (a string);
            // Cassandra rows carry integers; STRICT_JSON False lets NaN through.
            t.header("content-type", "application/json").body(format!(
                r#"{{"diaObjectId": "{BIG}",
                   "diaObject": {{"ra": 150.1, "decl": 2.2, "firstDiaSourceMjdTai": 60800.1, "lastDiaSourceMjdTai": 60810.2}},
                   "lasairData": {{"nDiaSources": 3, "sherlock": {{"classification": "SN"}}, "TNS": {{}}, "annotations": [], "imageUrls": []}},
                   "diaSourcesList": [
                     {{"diaSourceId": {s1}, "diaObjectId": {BIG}, "midpointMjdTai": 60810.2, "band": "g", "psfFlux": 30000.0, "psfFluxErr": 400.0, "reliability": 0.97}},
                     {{"diaSourceId": {s2}, "midpointMjdTai": 60805.2, "band": "r", "psfFlux": NaN, "psfFluxErr": 400.0, "reliability": 0.6}},
                     {{"diaSourceId": {s3}, "midpointMjdTai": 60800.1, "band": "y", "psfFlux": 500.0, "psfFluxErr": 400.0, "reliability": 0.8}}
                   ],
                   "diaForcedSourcesList": [{{"midpointMjdTai": 60799.0, "band": "i", "psfFlux": 1200.0, "psfFluxErr": 300.0}}]}}"#,
                s1 = BIG + 10,
                s2 = BIG + 11,
                s3 = BIG + 12,
            ));
        })
        .await;
    let opts = ObjectOptions { reliability_threshold: Some(0.5), ..ObjectOptions::default() };
    let o = c.lsst().object(BIG, &opts).await.unwrap();
    m.assert_async().await;
    assert_eq!(o.dia_object_id, BIG);
    assert_eq!(o.dia_sources[0].diaSourceId, Some(BIG + 10));
    assert_eq!(o.dia_sources[0].extra["diaObjectId"].as_i64(), Some(BIG));
    assert_eq!((o.ra(), o.dec()), (Some(150.1), Some(2.2)));
    let lc = o.to_lightcurve(true);
    // NaN flux dropped; 500 ± 400 nJy is below S/N 3: a limit; 1200 ± 300 forced is S/N 4.
    assert_eq!(lc.len(), 3);
    assert_eq!(lc.points[0].object_id, BIG.to_string());
    assert_eq!((lc.points[0].band.name(), lc.points[0].kind), ("lssti", PointKind::Detection));
    assert_eq!((lc.points[1].band.name(), lc.points[1].kind), ("lssty", PointKind::Limit));
    let g = &lc.points[2];
    assert_eq!((g.survey.as_str(), g.flux_ujy), ("lsst", Some(30.0)));
    assert!((g.mag.unwrap() - (23.9 - 2.5 * 30f64.log10())).abs() < 1e-9);
}

#[tokio::test]
async fn lsst_unknown_object_is_not_found() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-404");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/object/");
            t.status(404).json_body(json!({"detail": "Not found."}));
        })
        .await;
    let e = c.lsst().object(5, &ObjectOptions::default()).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn sherlock_object_and_position_on_both_servers() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-sherlock");
    let reply = json!({"classifications": {"ZTF21abcdefg": ["SN", "The transient is possibly associated with <em>SDSS J081931</em>"]},
        "crossmatches": [{"catalogue_object_id": "1237673709862061782", "separationArcsec": 1.56, "association_type": "SN", "z": 0.05}]});
    let m1 = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/sherlock/object/")
                .is_true(exact_form(&[("objectId", "ZTF21abcdefg"), ("lite", "True")]));
            t.json_body(reply.clone());
        })
        .await;
    let r = c.ztf().sherlock_object("ZTF21abcdefg", true).await.unwrap();
    m1.assert_async().await;
    assert_eq!(r.classification("ZTF21abcdefg"), Some("SN"));
    assert_eq!(r.crossmatches[0]["separationArcsec"], 1.56);
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/lsst/api/sherlock/object/")
                .is_true(exact_form(&[("objectId", &BIG.to_string()), ("lite", "False")]));
            t.json_body(json!({"classifications": {BIG.to_string(): ["NT", "nuclear"]}, "crossmatches": []}));
        })
        .await;
    let r = c.lsst().sherlock_object(BIG, false).await.unwrap();
    m2.assert_async().await;
    assert_eq!(r.first_classification(), Some((BIG.to_string().as_str(), "NT")));
    let m3 = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/sherlock/position/").is_true(exact_form(&[
                ("ra", "16.851866"),
                ("dec", "34.53307"),
                ("lite", "True"),
            ]));
            t.json_body(json!({"classifications": {"query0": ["ORPHAN", "no match"]}, "crossmatches": []}));
        })
        .await;
    let r = c.lsst().sherlock_position(&SkyPosition::new(16.851866, 34.53307).unwrap(), true).await.unwrap();
    m3.assert_async().await;
    assert_eq!(r.classification("query0"), Some("ORPHAN"));
}

#[tokio::test]
async fn ztf_streams_topics_and_topic() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-streams");
    let m1 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/streams/").is_true(exact_form(&[("regex", ".*SN.*")]));
            t.json_body(
                json!([{"topic": "2SN-likecandidates", "more_info": "https://lasair-ztf.lsst.ac.uk/query/2/"}]),
            );
        })
        .await;
    let topics = c.ztf().stream_topics(Some(".*SN.*")).await.unwrap();
    m1.assert_async().await;
    assert_eq!(topics[0].topic, "2SN-likecandidates");
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/streams/2SN-likecandidates/").is_true(exact_form(&[("limit", "1")]));
            t.json_body(json!([{"objectId": "ZTF19abrokxg", "ramean": 35.82811567, "decmean": -27.79242059}]));
        })
        .await;
    let rows = c.ztf().stream("2SN-likecandidates", Some(1)).await.unwrap();
    m2.assert_async().await;
    assert_eq!(rows[0]["objectId"], "ZTF19abrokxg");
    assert!(c.ztf().stream("../x", None).await.is_err());
    let m3 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/streams/").is_true(exact_form(&[("regex", "(")]));
            t.json_body(json!({"topics": [], "info": "( is not a regular expression"}));
        })
        .await;
    assert!(matches!(c.ztf().stream_topics(Some("(")).await, Err(Error::Rejected { .. })));
    m3.assert_async().await;
}

#[tokio::test]
async fn annotate_sends_the_form_with_classdict_as_json_text() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-annotate");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/annotate/").header("authorization", "Token tok-annotate").is_true(
                exact_form(&[
                    ("topic", "my_classifier"),
                    ("objectId", &BIG.to_string()),
                    ("classification", "SN Ia"),
                    ("version", "0.1"),
                    ("explanation", "early light curve"),
                    ("classdict", r#"{"p":0.93}"#),
                    ("url", ""),
                ]),
            );
            t.json_body(json!({"status": "success", "annotation_topic": "lasair_annotations", "message": "{...}"}));
        })
        .await;
    let mut d = serde_json::Map::new();
    d.insert("p".into(), json!(0.93));
    let a = Annotation::new("my_classifier", BIG, "SN Ia").explanation("early light curve").classdict(d);
    let r = c.lsst().annotate(&a).await.unwrap();
    m.assert_async().await;
    assert_eq!(r.status.as_deref(), Some("success"));
    // The wrong kind of id for the server, and over-long fields, are refused before sending.
    assert!(c.lsst().annotate(&Annotation::new("t", "ZTF21abcdefg", "SN")).await.is_err());
    assert!(c.lsst().annotate(&Annotation::new("t", BIG, "x".repeat(81))).await.is_err());
    assert!(c.ztf().annotate(&Annotation::new("t", "ZTF21abcdefg", "")).await.is_err());
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn annotate_list_posts_json() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server, "tok-annotatelist");
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/annotatelist/").header("content-type", "application/json").json_body(json!({
                "annotations": [
                    {"topic": "t", "objectId": BIG, "classification": "SN", "version": "0.1", "explanation": "", "classdict": "{}", "url": ""},
                    {"topic": "t", "objectId": 7, "classification": "AGN", "version": "2", "explanation": "", "classdict": "{}", "url": "https://x"}
                ]
            }));
            t.json_body(json!({"status": "success", "n": 2}));
        })
        .await;
    let list = [Annotation::new("t", BIG, "SN"), Annotation::new("t", 7, "AGN").version("2").url("https://x")];
    let r = c.lsst().annotate_list(&list).await.unwrap();
    m.assert_async().await;
    assert_eq!(r.n, Some(2));
}
