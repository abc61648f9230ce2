//! ZTF v1 API and forced-photometry endpoint tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alerce_client::Error;
use alerce_client::ztf::{FeatureFilter, ObjectQuery, OrderMode, ZtfOrderBy};
use broker_core::{Band, SkyPosition};
use common::{client, exact_query};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;

fn object_item(oid: &str) -> serde_json::Value {
    json!({"oid": oid, "ndethist": "12", "ncovhist": 345, "mjdstarthist": 59149.11, "mjdendhist": 59180.2,
        "corrected": false, "stellar": false, "ndet": 10, "g_r_max": 0.21, "g_r_max_corr": null, "g_r_mean": 0.3,
        "g_r_mean_corr": null, "firstmjd": 59149.1119328998, "lastmjd": 59180.2, "deltajd": 31.09,
        "meanra": 181.9453, "meandec": 4.0945, "sigmara": 0.00012, "sigmadec": 0.0001,
        "class": "SNIa", "classifier": "lc_classifier", "probability": 0.61, "step_id_corr": "correction_1.0.6"})
}

#[tokio::test]
async fn query_objects_sends_every_filter_once_with_renames_and_repeats() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/").is_true(exact_query(&[
                ("oid", "ZTF1"),
                ("oid", "ZTF2"),
                ("classifier", "lc_classifier"),
                ("class", "SNIa"),
                ("ranking", "1"),
                ("ndet", "5"),
                ("ndet", "10"),
                ("probability", "0.5"),
                ("firstmjd", "60000.0"),
                ("firstmjd", "60100.0"),
                ("ra", "10.5"),
                ("dec", "-20.0"),
                ("radius", "30.0"),
                ("page", "2"),
                ("page_size", "50"),
                ("count", "true"),
                ("order_by", "probability"),
                ("order_mode", "DESC"),
            ]));
            then.status(200).json_body(json!({"total": 1234, "page": null, "next": 3, "has_next": true, "prev": 1,
                "has_prev": true, "items": [object_item("ZTF20acnsdjd")]}));
        })
        .await;
    let q = ObjectQuery::new()
        .oids(["ZTF1", "ZTF2"])
        .classifier("lc_classifier")
        .class_name("SNIa")
        .ranking(1)
        .ndet_range(5, 10)
        .probability(0.5)
        .firstmjd_range(60000.0, 60100.0)
        .cone(SkyPosition::new(10.5, -20.0).unwrap(), Some(30.0))
        .page(2)
        .page_size(50)
        .count(true)
        .order_by(ZtfOrderBy::Probability, OrderMode::Desc);
    let page = c.ztf().query_objects(&q).await.unwrap();
    m.assert_async().await;
    assert_eq!(page.total, Some(1234));
    assert_eq!(page.page, None);
    assert_eq!(page.has_next, Some(true));
    let o = &page.items[0];
    assert_eq!(o.oid, "ZTF20acnsdjd");
    assert_eq!(o.ndethist.as_deref(), Some("12"));
    assert_eq!(o.class_name.as_deref(), Some("SNIa"));
    assert_eq!(o.classifier.as_deref(), Some("lc_classifier"));
    assert_eq!(o.firstmjd, Some(59149.1119328998));
    assert_eq!(o.g_r_max_corr, None);
    assert!(o.extra.is_empty(), "every documented field is typed: {:?}", o.extra);
}

#[tokio::test]
async fn an_empty_query_sends_no_parameters_and_the_raw_url_repeats_keys() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let empty = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/").is_true(exact_query(&[]));
            then.status(200).json_body(json!({"total": null, "page": null, "next": null, "has_next": false,
                "prev": null, "has_prev": false, "items": []}));
        })
        .await;
    let page = c.ztf().query_objects(&ObjectQuery::new()).await.unwrap();
    empty.assert_async().await;
    assert!(page.items.is_empty());
    assert_eq!(page.total, None);

    let raw = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/").is_true(|r: &httpmock::HttpMockRequest| {
                r.uri_str().ends_with("/ztf/v1/objects/?oid=ZTF1&oid=ZTF2&ndet=3")
            });
            then.status(200).json_body(json!({"items": [object_item("ZTF1")]}));
        })
        .await;
    c.ztf().query_objects(&ObjectQuery::new().oids(["ZTF1", "ZTF2"]).ndet_min(3)).await.unwrap();
    raw.assert_async().await;
}

#[tokio::test]
async fn stream_objects_pages_with_count_until_has_next_is_false() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let mut mocks = Vec::new();
    for (page, oids, has_next) in [(1, vec!["A", "B"], true), (2, vec!["C", "D"], true), (3, vec!["E"], false)] {
        let p = page.to_string();
        let items: Vec<_> = oids.iter().map(|o| object_item(o)).collect();
        mocks.push(
            server
                .mock_async(move |when, then| {
                    when.method(GET).path("/ztf/v1/objects/").is_true(exact_query(&[
                        ("class", "SN"),
                        ("page", &p),
                        ("page_size", "2"),
                        ("count", "true"),
                    ]));
                    then.status(200).json_body(
                        json!({"total": 5, "page": null, "next": if has_next { json!(page + 1) } else { json!(null) },
                        "has_next": has_next, "prev": null, "has_prev": page > 1, "items": items}),
                    );
                })
                .await,
        );
    }
    let mut s = c.ztf().stream_objects(ObjectQuery::new().class_name("SN").page_size(2)).unwrap();
    let mut got = Vec::new();
    while let Some(item) = s.next().await {
        got.push(item.unwrap().oid);
    }
    assert_eq!(got, ["A", "B", "C", "D", "E"]);
    assert_eq!(s.total(), Some(5));
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn per_object_routes_decode_realistic_bodies() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let oid = "ZTF18abbuksn";
    let mut single = object_item(oid);
    for k in ["class", "classifier", "probability"] {
        single.as_object_mut().unwrap().remove(k);
    }
    let obj = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn").is_true(exact_query(&[]));
            t.status(200).json_body(single);
        })
        .await;
    // Detections: nulls omitted, candid a string, a bare NaN as Python writes it.
    let lc_body = r#"{"detections": [{"mjd": 59690.27546299994, "candid": "1936275461615015015", "fid": 1, "pid": 1936275461615,
       "diffmaglim": 20.50796, "isdiffpos": 1, "nid": 1936, "distnr": 0.1533999, "magpsf": 20.146738,
       "magpsf_corr": 18.00878, "sigmapsf": 0.18631585, "sigmapsf_corr": 0.015807027, "sigmapsf_corr_ext": 0.026005577,
       "ra": 181.9453484, "dec": 4.0944815, "rb": 0.93142855, "rbversion": "t17_f5_c3", "drb": 0.9999496,
       "rfid": 472120116, "has_stamp": true, "corrected": true, "dubious": false, "step_id_corr": "correction_1.0.6",
       "phase": 0, "magap": NaN},
       {"mjd": 59700.2, "candid": "1945275461615015016", "fid": 2, "magpsf": 19.5, "sigmapsf": 0.1, "has_stamp": false}],
     "non_detections": [{"mjd": 59699.25937499991, "fid": 2, "diffmaglim": 20.2106}]}"#;
    let lc = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/lightcurve").is_true(exact_query(&[]));
            t.status(200).header("content-type", "application/json").body(lc_body);
        })
        .await;
    let det = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/detections");
            t.status(200).json_body(json!([{"mjd": 59690.27, "candid": "1936275461615015015", "fid": 1, "magpsf": 20.1, "sigmapsf": 0.18, "has_stamp": true}]));
        })
        .await;
    let nondet = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/non_detections");
            t.status(200).json_body(json!([{"tid": "ztf", "mjd": 59699.25937499991, "fid": 2, "diffmaglim": 20.2106}]));
        })
        .await;
    let ms = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/magstats");
            t.status(200).json_body(
                json!([{"fid": 1, "stellar": false, "corrected": true, "ndet": 25, "ndubious": 0, "magmean": 18.9,
                "magmedian": 18.8, "magmax": 19.9, "magmin": 18.1, "magsigma": 0.4, "maglast": 19.5, "magfirst": 18.7,
                "firstmjd": 59149.11, "lastmjd": 59200.3, "step_id_corr": "correction_1.0.6", "dmdt_first": -0.05}]),
            );
        })
        .await;

    let o = c.ztf().object(oid).await.unwrap();
    assert_eq!((o.oid.as_str(), o.class_name.clone(), o.ndet), (oid, None, Some(10)));
    let l = c.ztf().lightcurve(oid).await.unwrap();
    assert_eq!(l.detections.len(), 2);
    assert_eq!(l.detections[0].candid.as_deref(), Some("1936275461615015015"));
    assert_eq!(l.detections[0].magap, None, "NaN becomes null");
    assert_eq!(l.detections[0].parent_candid, None);
    assert_eq!(l.non_detections[0].diffmaglim, Some(20.2106));
    let d = c.ztf().detections(oid).await.unwrap();
    assert_eq!(d[0].has_stamp, Some(true));
    let n = c.ztf().non_detections(oid).await.unwrap();
    assert_eq!(n[0].tid.as_deref(), Some("ztf"));
    let m = c.ztf().magstats(oid).await.unwrap();
    assert_eq!(m[0].magmean, Some(18.9));
    assert_eq!(m[0].extra.get("dmdt_first"), Some(&json!(-0.05)));
    for mock in [&obj, &lc, &det, &nondet, &ms] {
        mock.assert_async().await;
    }

    // Into the core light curve: magpsf with fid bands, non-detections as limits.
    let core = l.to_lightcurve(oid);
    assert_eq!(core.len(), 3);
    assert_eq!(core.points[0].band, Band::ZtfG);
    assert_eq!(core.points[0].mag, Some(20.146738));
    assert_eq!(core.points[0].mag_err, Some(0.18631585));
    assert!(!core.points[1].is_detection());
    assert_eq!(core.points[1].limiting_mag, Some(20.2106));
    assert_eq!(core.points[1].band, Band::ZtfR);
    assert_eq!(core.points[2].band, Band::ZtfR);
    assert_eq!(core.points[2].object_id, oid);
}

#[tokio::test]
async fn forced_photometry_uses_the_v2_route_and_keeps_extra_fields() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/v2/lightcurve/forced-photometry/ZTF18abbuksn").is_true(exact_query(&[]));
            t.status(200).json_body(json!([
                {"candid": "2436161521715015001", "tid": "ztf", "sid": "ztf", "aid": "AL1", "pid": 2436161521715_i64,
                 "oid": "ZTF18abbuksn", "mjd": 60265.16, "fid": 2, "ra": 181.94, "e_ra": 0.0, "dec": 4.09, "e_dec": 0.0,
                 "mag": 19.8, "e_mag": 0.12, "mag_corr": null, "e_mag_corr": null, "e_mag_corr_ext": null, "isdiffpos": 1,
                 "corrected": false, "dubious": false, "parent_candid": null, "has_stamp": false,
                 "extra_fields": {"diffmaglim": 20.9, "field": 719, "rcid": 36, "magzpsci": 26.1, "exptime": 30.0}},
                {"candid": "2436161521715015002", "oid": "ZTF18abbuksn", "mjd": 60266.16, "fid": 1, "mag": 100.0, "e_mag": 100.0,
                 "extra_fields": {"diffmaglim": 20.5}}
            ]));
        })
        .await;
    let rows = c.ztf().forced_photometry("ZTF18abbuksn").await.unwrap();
    m.assert_async().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].diffmaglim(), Some(20.9));
    assert_eq!(rows[0].field("rcid"), Some(&json!(36)));
    let lc = alerce_client::ztf::forced_photometry_to_lightcurve("ZTF18abbuksn", &rows);
    assert!(lc.points[0].is_detection());
    assert_eq!(lc.points[0].mag, Some(19.8));
    assert!(!lc.points[1].is_detection(), "mag 100 is the pipeline's 'no value'");
    assert_eq!(lc.points[1].limiting_mag, Some(20.5));
}

#[tokio::test]
async fn probabilities_features_classifiers_and_classes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let probs = json!([{"classifier_name": "lc_classifier", "classifier_version": "hierarchical_random_forest_1.0.0",
        "class_name": "SNIa", "probability": 0.61, "ranking": 1}]);
    let p_all = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/probabilities").is_true(exact_query(&[]));
            t.status(200).json_body(probs.clone());
        })
        .await;
    let p_one = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/probabilities").is_true(exact_query(&[
                ("classifier", "lc_classifier"),
                ("classifier_version", "hierarchical_random_forest_1.1.0"),
            ]));
            t.status(200).json_body(probs.clone());
        })
        .await;
    let feats = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/features").is_true(exact_query(&[]));
            t.status(200).json_body(json!([{"name": "Multiband_period", "value": 0.53, "fid": 12, "version": "1.0.0"},
                {"name": "Amplitude", "value": null, "fid": 1, "version": "1.0.0"}]));
        })
        .await;
    let feats_f = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/ztf/v1/objects/ZTF18abbuksn/features")
                .is_true(exact_query(&[("fid", "1"), ("version", "1.0.0")]));
            t.status(200).json_body(json!([]));
        })
        .await;
    let feat = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/features/Multiband_period").is_true(exact_query(&[]));
            t.status(200)
                .json_body(json!([{"name": "Multiband_period", "value": 0.53, "fid": 12, "version": "1.0.0"}]));
        })
        .await;
    let clf = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/classifiers/").is_true(exact_query(&[]));
            t.status(200).json_body(json!([
                {"classifier_name": "lc_classifier", "classifier_version": "hierarchical_random_forest_1.0.0", "classes": ["SNIa", "SNIbc"]},
                {"classifier_name": "stamp_classifier", "classifier_version": "stamp_classifier_1.0.4", "classes": ["SN", "AGN"]}]));
        })
        .await;
    let classes = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/classifiers/lc_classifier/hierarchical_random_forest_1.0.0/classes");
            t.status(200).json_body(json!([{"name": "SNIa"}, {"name": "SNIbc"}]));
        })
        .await;

    let z = c.ztf();
    let p = z.probabilities("ZTF18abbuksn").await.unwrap();
    assert_eq!(p[0].classifier_version.as_deref(), Some("hierarchical_random_forest_1.0.0"));
    assert_eq!(p[0].probability, Some(0.61));
    z.probabilities_of("ZTF18abbuksn", Some("lc_classifier"), Some("hierarchical_random_forest_1.1.0")).await.unwrap();
    let f = z.features("ZTF18abbuksn").await.unwrap();
    assert_eq!((f[0].fid, f[1].value), (Some(12), None));
    let filter = FeatureFilter { fid: Some(1), version: Some("1.0.0".into()) };
    assert!(z.features_with("ZTF18abbuksn", &filter).await.unwrap().is_empty());
    let one = z.feature("ZTF18abbuksn", "Multiband_period").await.unwrap();
    assert_eq!(one[0].value, Some(0.53));
    let cl = z.classifiers().await.unwrap();
    assert_eq!(cl[1].classes, ["SN", "AGN"]);
    let cs = z.classes("lc_classifier", "hierarchical_random_forest_1.0.0").await.unwrap();
    assert_eq!(cs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["SNIa", "SNIbc"]);
    for m in [&p_all, &p_one, &feats, &feats_f, &feat, &clf, &classes] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn error_statuses_map_to_parse_not_found_and_api_errors() {
    let server = MockServer::start_async().await;
    let (c, clock) = client(&server);
    let bad = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/").query_param("page", "1");
            t.status(400).json_body(json!({"errors": {"order_mode": "Ordering could be ascendent or descendent The value 'None' is not a valid choice for 'order_mode'."},
                "message": "Input payload validation failed"}));
        })
        .await;
    let e = c.ztf().query_objects(&ObjectQuery::new().page(1)).await.unwrap_err();
    bad.assert_async().await;
    match &e {
        Error::Parse { status, errors, message, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(errors[0].0, "order_mode");
            assert!(message.starts_with("Input payload validation failed"));
        }
        other => panic!("expected a parse error, got {other:?}"),
    }

    server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF0missing");
            t.status(404).json_body(json!({"message": "Object not found. You have requested this URI [/objects/ZTF0missing] but did you mean /objects/<id> ?"}));
        })
        .await;
    let e = c.ztf().object("ZTF0missing").await.unwrap_err();
    assert!(e.is_not_found());
    assert!(e.to_string().contains("Object not found"), "{e}");

    let gw = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abbuksn/magstats");
            t.status(502).header("content-type", "text/html").body("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>");
        })
        .await;
    let e = c.ztf().magstats("ZTF18abbuksn").await.unwrap_err();
    gw.assert_calls_async(3).await;
    assert_eq!(clock.sleeps().len(), 2, "retried with backoff on the virtual clock");
    match &e {
        Error::Api { status, message, .. } => {
            assert_eq!(*status, 502);
            assert_eq!(message, "502 Bad Gateway");
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_transient_503_is_retried_and_then_succeeds() {
    let server = MockServer::start_async().await;
    let (c, clock) = client(&server);
    let flaky = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/classifiers/");
            t.status(503).body("busy");
        })
        .await;
    let c2 = c.clone();
    let task = tokio::spawn(async move { c2.ztf().classifiers().await });
    // Let the first attempt fail, then make the server healthy.
    while flaky.calls_async().await == 0 {
        tokio::task::yield_now().await;
    }
    flaky.delete_async().await;
    let ok = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/classifiers/");
            t.status(200).json_body(json!([]));
        })
        .await;
    assert!(task.await.unwrap().unwrap().is_empty());
    ok.assert_async().await;
    assert!(!clock.sleeps().is_empty());
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let any = server
        .mock_async(|w, t| {
            w.any_request();
            t.status(200).json_body(json!({}));
        })
        .await;
    let z = c.ztf();
    let cases = [
        (ObjectQuery::new().probability(1.5), "probability"),
        (ObjectQuery::new().ndet_range(10, 5), "ndet"),
        (ObjectQuery::new().cone_deg(10.0, 95.0, None), "dec"),
        (ObjectQuery::new().cone_deg(10.0, 5.0, Some(-1.0)), "radius"),
        (ObjectQuery::new().oids(["ZTF1", " "]), "oid"),
        (ObjectQuery::new().page(0), "page"),
        (ObjectQuery::new().firstmjd_range(f64::NAN, 1.0), "firstmjd"),
    ];
    for (q, field) in cases {
        let e = z.query_objects(&q).await.unwrap_err();
        match e {
            Error::Core(broker_core::Error::InvalidInput { field: f, message }) => {
                assert_eq!(f, field, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("expected invalid input for {field}, got {other:?}"),
        }
        assert!(z.stream_objects(q).is_err());
    }
    assert!(z.object("  ").await.is_err());
    assert!(z.classes("lc_classifier", "").await.is_err());
    let e = ZtfOrderBy::parse("None").unwrap_err().to_string();
    assert!(e.contains("g_r_max") && e.contains("ranking"), "{e}");
    assert_eq!(ZtfOrderBy::parse("deltajd").unwrap(), ZtfOrderBy::Deltajd);
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn ids_with_reserved_characters_are_escaped_in_paths() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET)
                .is_true(|r: &httpmock::HttpMockRequest| r.uri_str().contains("/ztf/v1/objects/a%2Fb%3Fc/detections"));
            t.status(200).json_body(json!([]));
        })
        .await;
    c.ztf().detections("a/b?c").await.unwrap_or_default();
    m.assert_async().await;
}

#[tokio::test]
async fn a_308_from_a_deployment_is_followed_with_the_query() {
    let server = MockServer::start_async().await;
    let c = alerce_client::AlerceClient::builder().ztf_url(format!("{}/old/", server.base_url())).build().unwrap();
    let moved = server
        .mock_async(|w, t| {
            w.method(GET).path("/old/objects/").query_param("class", "SN");
            t.status(308).header("location", "/ztf/v1/objects/");
        })
        .await;
    let target = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/").is_true(exact_query(&[("class", "SN")]));
            t.status(200).json_body(json!({"items": [object_item("ZTF1")]}));
        })
        .await;
    let page = c.ztf().query_objects(&ObjectQuery::new().class_name("SN")).await.unwrap();
    moved.assert_async().await;
    target.assert_async().await;
    assert_eq!(page.items[0].oid, "ZTF1");
}

#[tokio::test]
async fn unified_lightcurve_merges_detections_limits_and_forced_photometry() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    server
        .mock_async(|w, t| {
            w.path("/ztf/v1/objects/ZTF1/lightcurve");
            t.status(200).json_body(
                json!({"detections": [{"mjd": 3.0, "candid": "1", "fid": 1, "magpsf": 18.0, "sigmapsf": 0.1},
                {"mjd": 4.0, "candid": "2", "fid": 9, "magpsf": 18.5}, {"candid": "3", "fid": 1}],
                "non_detections": [{"mjd": 1.0, "fid": 2, "diffmaglim": 20.0}]}),
            );
        })
        .await;
    server
        .mock_async(|w, t| {
            w.path("/v2/lightcurve/forced-photometry/ZTF1");
            t.status(200).json_body(json!([{"mjd": 2.0, "fid": 3, "mag": 19.0, "e_mag": 0.2}]));
        })
        .await;
    let lc = c.ztf().unified_lightcurve("ZTF1", true).await.unwrap();
    assert_eq!(lc.points.iter().map(|p| p.mjd).collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(lc.points[1].band, Band::ZtfI);
    assert_eq!(lc.points[3].band, Band::Other("ztf_fid9".into()), "unknown filters are kept, not dropped");
    assert!(lc.points.iter().all(|p| p.broker == "alerce" && p.survey == "ztf"));
}

mod props {
    use alerce_client::ztf::ObjectQuery;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn object_queries_never_panic_and_never_send_non_finite_numbers(
            ra in proptest::num::f64::ANY, dec in proptest::num::f64::ANY, r in proptest::num::f64::ANY,
            p in proptest::num::f64::ANY, a in proptest::num::f64::ANY, b in proptest::num::f64::ANY,
        ) {
            let q = ObjectQuery::new().cone_deg(ra, dec, Some(r)).probability(p).firstmjd_range(a, b);
            if let Ok(pairs) = q.to_query() {
                for (_, v) in pairs {
                    prop_assert!(!v.contains("NaN") && !v.contains("inf"), "{v}");
                }
            }
        }

        #[test]
        fn the_fits_reader_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..6000)) {
            let mut bytes = b"SIMPLE  =                    T".to_vec();
            bytes.extend(tail);
            let _ = alerce_client::fits::read_images(&bytes);
            let _ = alerce_client::fits::gunzip_fits(&bytes);
        }
    }
}

#[tokio::test]
async fn gzip_encoded_forced_photometry_is_decoded() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let body =
        serde_json::to_vec(&json!([{"candid": "1", "oid": "ZTF1", "mjd": 60000.5, "fid": 1, "mag": 19.1, "e_mag": 0.1,
        "extra_fields": {"diffmaglim": 20.3}}]))
        .unwrap();
    let m = server
        .mock_async(|w, t| {
            w.path("/v2/lightcurve/forced-photometry/ZTF1");
            t.status(200)
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body(common::gzip(&body));
        })
        .await;
    let rows = c.ztf().forced_photometry("ZTF1").await.unwrap();
    m.assert_async().await;
    assert_eq!((rows[0].mag, rows[0].diffmaglim()), (Some(19.1), Some(20.3)));
}

#[tokio::test]
async fn survey_id_variants_of_the_light_curve_routes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let lc = server
        .mock_async(|w, t| {
            w.path("/ztf/v1/objects/ZTF1/lightcurve").is_true(exact_query(&[("survey_id", "atlas")]));
            t.status(200).json_body(
                json!({"detections": [{"tid": "atlas", "mjd": 1.0, "fid": 1, "magpsf": 18.0}], "non_detections": []}),
            );
        })
        .await;
    let fp = server
        .mock_async(|w, t| {
            w.path("/v2/lightcurve/forced-photometry/ZTF1").is_true(exact_query(&[("survey_id", "ztf")]));
            t.status(200).json_body(json!([]));
        })
        .await;
    let l = c.ztf().lightcurve_of("ZTF1", "atlas").await.unwrap();
    assert_eq!(l.to_lightcurve("ZTF1").points[0].survey, "atlas");
    assert!(c.ztf().forced_photometry_of("ZTF1", "ztf").await.unwrap().is_empty());
    assert!(c.ztf().lightcurve_of("ZTF1", "lsst").await.is_err());
    assert!(c.ztf().forced_photometry_of("ZTF1", "ZTF ").await.is_err());
    lc.assert_calls_async(1).await;
    fp.assert_calls_async(1).await;
}

/// The ZTF server applies a cone only when `ra and dec and radius` are truthy in Python
/// (`alerts-api/src/core/astro_object/domain/astro_object_service.py`), so a 0 would give
/// unfiltered objects: the client must never send a 0 coordinate.
#[tokio::test]
async fn cone_at_ra_zero_or_dec_zero_sends_a_truthy_nonzero_value() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/").is_true(exact_query(&[
                ("ra", "2.2250738585072014e-308"),
                ("dec", "2.2250738585072014e-308"),
                ("radius", "10.0"),
            ]));
            then.status(200).json_body(json!({"total": null, "page": null, "next": null, "has_next": false,
                "prev": null, "has_prev": false, "items": []}));
        })
        .await;
    c.ztf().query_objects(&ObjectQuery::new().cone(SkyPosition::new(0.0, 0.0).unwrap(), Some(10.0))).await.unwrap();
    c.ztf().query_objects(&ObjectQuery::new().cone_deg(0.0, -0.0, Some(10.0))).await.unwrap();
    m.assert_calls_async(2).await;
    let q = ObjectQuery::new().cone_deg(0.0, 12.5, None).to_query().unwrap();
    let ra: f64 = q.iter().find(|(k, _)| k == "ra").unwrap().1.parse().unwrap();
    assert!(ra > 0.0 && ra == alerce_client::ztf::ZERO_COORD_NUDGE_DEG);
    assert!(q.contains(&("dec".to_string(), "12.5".to_string())));
}

#[tokio::test]
async fn limit_values_and_v2_lightcurve_routes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let lim = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/limit_values").is_true(exact_query(&[]));
            t.status(200)
                .json_body(json!({"min_ndet": 1, "max_ndet": 2500, "min_firstmjd": 58288.1, "max_firstmjd": 60800.5}));
        })
        .await;
    let row = json!({"candid": "1936275461615015015", "tid": "ztf", "pid": 1936275461615_i64, "oid": "ZTF18abbuksn",
        "mjd": 59690.27, "fid": 1, "ra": 181.9, "dec": 4.09, "mag": 20.1, "e_mag": 0.18, "isdiffpos": 1,
        "corrected": false, "dubious": false, "has_stamp": true, "extra_fields": {"diffmaglim": 20.5}});
    let dets = server
        .mock_async(|w, t| {
            w.method(GET).path("/v2/lightcurve/detections/ZTF18abbuksn").is_true(exact_query(&[("survey_id", "ztf")]));
            t.status(200).json_body(json!([row]));
        })
        .await;
    let nd = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/v2/lightcurve/non_detections/ZTF18abbuksn")
                .is_true(exact_query(&[("survey_id", "all")]));
            t.status(200).json_body(
                json!([{"tid": "ztf", "oid": "ZTF18abbuksn", "mjd": 59699.2, "fid": 2, "diffmaglim": 20.2}]),
            );
        })
        .await;
    let lc = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/v2/lightcurve/lightcurve/ZTF18abbuksn")
                .is_true(exact_query(&[("survey_id", "atlas")]));
            t.status(200).json_body(json!({"detections": [row], "non_detections": [], "forced_photometry": []}));
        })
        .await;
    let z = c.ztf();
    let l = z.limit_values().await.unwrap();
    assert_eq!((l.min_ndet, l.max_ndet, l.max_firstmjd), (Some(1), Some(2500), Some(60800.5)));
    assert_eq!(z.v2_detections("ZTF18abbuksn", "ztf").await.unwrap()[0].mag, Some(20.1));
    assert_eq!(z.v2_non_detections("ZTF18abbuksn", "all").await.unwrap()[0].diffmaglim, Some(20.2));
    assert_eq!(z.v2_lightcurve("ZTF18abbuksn", "atlas").await.unwrap().detections.len(), 1);
    for m in [&lim, &dets, &nd, &lc] {
        m.assert_async().await;
    }
    assert!(z.v2_lightcurve("ZTF18abbuksn", "lsst").await.is_err(), "survey_id is all|ztf|atlas");
}
