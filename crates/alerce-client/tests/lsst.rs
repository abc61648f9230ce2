//! Multisurvey (LSST) API endpoint tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alerce_client::Error;
use alerce_client::lsst::{ClassifierVersion, LsstObjectQuery};
use alerce_client::ztf::OrderMode;
use broker_core::Band;
use common::{client, exact_query};
use httpmock::prelude::*;
use serde_json::json;

const OID: i64 = 313_765_480_543_813_793; // above 2^53
const MID: i64 = 313_985_346_497_413_306;

fn band_map() -> serde_json::Value {
    json!({"6": "u", "1": "g", "2": "r", "3": "i", "4": "z", "5": "y"})
}

#[tokio::test]
async fn list_objects_sends_n_det_survey_and_keeps_64_bit_ids() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/list_objects").is_true(exact_query(&[
                ("survey", "lsst"),
                ("classifier", "stamp_classifier_rubin"),
                ("class_name", "SN"),
                ("n_det", "5"),
                ("n_det", "10"),
                ("probability", "0.7"),
                ("oid", "1"),
                ("oid", "2"),
                ("page", "1"),
                ("page_size", "20"),
                ("count", "true"),
                ("order_by", "probability"),
                ("order_mode", "DESC"),
            ]));
            t.status(200).header("content-type", "application/json").body(
                r#"{"total": 11, "next": 2, "has_next": true, "prev": null, "has_prev": false, "current_page": 1,
                 "items": [{"oid": 313765480543813793, "tid": 1, "sid": 1, "meanra": 150.1, "meandec": 2.2, "sigmara": null, "sigmadec": null,
                  "firstmjd": 60800.1, "lastmjd": 60810.3, "deltamjd": 10.2, "n_det": 7, "n_forced": 3, "n_non_det": 0,
                  "stellar": null, "class_name": "SN", "classifier_name": "stamp_classifier_rubin", "classifier_version": "1.0.0",
                  "probability": 0.83, "ranking": 1}],
                 "info_message": "Showing the first results"}"#,
            );
        })
        .await;
    let q = LsstObjectQuery::new()
        .classifier("stamp_classifier_rubin")
        .class_name("SN")
        .n_det_range(5, 10)
        .probability(0.7)
        .oids([1, 2])
        .page(1)
        .page_size(20)
        .count(true)
        .order_by("probability", OrderMode::Desc);
    let page = c.lsst().query_objects(&q).await.unwrap();
    m.assert_async().await;
    assert_eq!(page.current_page, Some(1));
    assert_eq!(page.info_message.as_deref(), Some("Showing the first results"));
    let o = &page.items[0];
    assert_eq!(o.oid, OID, "every digit of a 64-bit id survives");
    assert_eq!(o.classifier_version, Some(ClassifierVersion::Text("1.0.0".into())));
    assert_eq!(o.n_det, Some(7));
}

#[tokio::test]
async fn stream_objects_follows_has_next_not_total() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let p1 = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/list_objects").is_true(exact_query(&[
                ("survey", "lsst"),
                ("page", "1"),
                ("page_size", "2"),
            ]));
            t.status(200).json_body(json!({"total": 3, "next": 2, "has_next": true, "current_page": 1,
                "items": [{"oid": 1}, {"oid": 2}], "info_message": null}));
        })
        .await;
    let p2 = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/list_objects").is_true(exact_query(&[
                ("survey", "lsst"),
                ("page", "2"),
                ("page_size", "2"),
            ]));
            t.status(200).json_body(json!({"total": 3, "next": 3, "has_next": true, "current_page": 2,
                "items": [{"oid": 3}, {"oid": 4}], "info_message": null}));
        })
        .await;
    let p3 = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/list_objects").is_true(exact_query(&[
                ("survey", "lsst"),
                ("page", "3"),
                ("page_size", "2"),
            ]));
            t.status(200).json_body(json!({"total": 1, "next": null, "has_next": false, "current_page": 3,
                "items": [{"oid": 5}], "info_message": null}));
        })
        .await;
    let all = c.lsst().stream_objects(LsstObjectQuery::new().page_size(2)).unwrap().collect_all().await.unwrap();
    assert_eq!(all.iter().map(|o| o.oid).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    for m in [&p1, &p2, &p3] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn object_with_survey_extra() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/object").is_true(exact_query(&[
                ("survey_id", "lsst"),
                ("oid", "313765480543813793"),
                ("return_survey_extra", "true"),
            ]));
            t.status(200).header("content-type", "application/json").body(
                r#"{"oid": 313765480543813793, "tid": 1, "sid": 1, "meanra": 150.1, "meandec": 2.2, "firstmjd": 60800.1,
                   "lastmjd": 60810.3, "deltamjd": 10.2, "n_det": 7, "n_forced": 3, "n_non_det": 0,
                   "created_date": "2025-06-12T00:00:00", "validityStartMjdTai": 60800.0, "r_psfFluxMean": 1523.4, "nDiaSources": 7}"#,
            );
        })
        .await;
    let plain = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/object").is_true(exact_query(&[("survey_id", "lsst"), ("oid", "42")]));
            t.status(500).json_body(json!({"detail": "An error occurred"}));
        })
        .await;
    let o = c.lsst().object(OID, true).await.unwrap();
    assert_eq!(o.oid, OID);
    assert_eq!(o.extra.get("nDiaSources"), Some(&json!(7)));
    let e = c.lsst().object(42, false).await.unwrap_err();
    assert!(matches!(&e, Error::Api { status: 500, message, .. } if message == "An error occurred"), "{e:?}");
    m.assert_async().await;
    plain.assert_calls_async(3).await; // 5xx retried by the core policy
}

#[tokio::test]
async fn detections_of_several_oids_resolve_band_names() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let body = format!(
        r#"[{{"oid": 169298433191444990, "survey_id": "lsst", "measurement_id": 313985346497413306, "parentDiaSourceId": null,
          "diaObjectId": 169298433191444990, "psfFlux": 1523.4, "psfFluxErr": 210.1, "psfFlux_flag": 0, "psfFlux_flag_edge": 0,
          "psfFlux_flag_noGoodPixels": 0, "scienceFlux": 1800.2, "scienceFluxErr": 190.0, "mjd": 60810.12, "ra": 150.1, "dec": 2.2,
          "band": 2, "band_map": {bm}, "has_stamp": true, "visit": 2025061200123, "detector": 94, "x": 1012.3, "y": 2210.8}},
         {{"oid": 313765480543813793, "survey_id": "lsst", "measurement_id": 7, "psfFlux": 100.0, "psfFluxErr": 200.0,
          "mjd": 60811.5, "band": 6, "band_map": {bm}, "has_stamp": false, "visit": 1, "detector": 2, "x": 1.0, "y": 2.0}}]"#,
        bm = band_map()
    );
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/detections").is_true(exact_query(&[
                ("survey_id", "lsst"),
                ("oid", "169298433191444990"),
                ("oid", "313765480543813793"),
            ]));
            t.status(200).header("content-type", "application/json").body(body);
        })
        .await;
    let rows = c.lsst().detections(&[169_298_433_191_444_990, OID]).await.unwrap();
    m.assert_async().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].measurement_id, Some(MID));
    assert_eq!(rows[0].band_name.as_deref(), Some("r"));
    assert_eq!(rows[1].band_name.as_deref(), Some("u"));
    assert_eq!(rows[0].extra.get("x"), Some(&json!(1012.3)));
    let p = rows[0].to_point().unwrap();
    assert_eq!(p.band, Band::LsstR);
    assert!((p.flux_ujy.unwrap() - 1.5234).abs() < 1e-12, "nJy -> µJy");
    assert!(p.is_detection());
    assert_eq!(p.object_id, "169298433191444990");
    let faint = rows[1].to_point().unwrap();
    assert!(!faint.is_detection(), "S/N 0.5 is kept as a limit with its flux");
    assert_eq!(faint.flux_ujy, Some(0.1));
}

#[tokio::test]
async fn more_than_200_oids_are_split_into_chunks() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let oids: Vec<i64> = (1..=250).collect();
    let first = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/lightcurve_api/forced-photometry")
                .query_param("oid", "1")
                .query_param("oid", "200")
                .query_param_missing("unused")
                .is_true(|r: &httpmock::HttpMockRequest| {
                    r.query_params().iter().filter(|(k, _)| k == "oid").count() == 200
                });
            t.status(200).json_body(json!([{"oid": 1, "measurement_id": 11, "mjd": 60800.0, "band": 1,
                "band_map": {"1": "g"}, "psfFlux": 5000.0, "psfFluxErr": 100.0}]));
        })
        .await;
    let second = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/lightcurve_api/forced-photometry")
                .query_param("survey_id", "lsst")
                .query_param("oid", "201")
                .is_true(|r: &httpmock::HttpMockRequest| {
                    r.query_params().iter().filter(|(k, _)| k == "oid").count() == 50
                });
            t.status(200).json_body(json!([{"oid": 250, "measurement_id": 12, "mjd": 60801.0, "band": 1,
                "band_map": {"1": "g"}, "psfFlux": 6000.0, "psfFluxErr": 100.0}]));
        })
        .await;
    let rows = c.lsst().forced_photometry(&oids).await.unwrap();
    first.assert_async().await;
    second.assert_async().await;
    assert_eq!(rows.iter().map(|r| r.oid).collect::<Vec<_>>(), [1, 250]);
    assert_eq!(rows[1].band_name.as_deref(), Some("g"));
    assert!(rows[0].to_point().unwrap().mag.is_some());
}

#[tokio::test]
async fn lightcurve_non_detections_probabilities_magstats_classifiers() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let q = [("survey_id", "lsst"), ("oid", "313765480543813793")];
    let lc = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/lightcurve").is_true(exact_query(&q));
            t.status(200).header("content-type", "application/json").body(format!(
                r#"{{"detections": [{{"oid": 313765480543813793, "survey_id": "lsst", "measurement_id": 313985346497413306,
                     "psfFlux": 1523.4, "psfFluxErr": 210.1, "mjd": 60810.12, "band": 3, "band_map": {bm}, "has_stamp": true}}],
                   "non_detections": [{{"oid": 313765480543813793, "survey_id": "lsst", "ccdVisitId": 99, "band": 4, "band_map": {bm},
                     "mjd": 60805.0, "diaNoise": 100.0}}],
                   "forced_photometry": [{{"oid": 313765480543813793, "measurement_id": 5, "mjd": 60812.0, "band": 3, "band_map": {bm},
                     "psfFlux": 3000.0, "psfFluxErr": 150.0, "visit": 3, "detector": 4}}]}}"#,
                bm = band_map()
            ));
        })
        .await;
    let nd = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/non_detections").is_true(exact_query(&q));
            t.status(200).json_body(json!([]));
        })
        .await;
    let prob = server
        .mock_async(|w, t| {
            w.method(GET).path("/probability_api/probability").is_true(exact_query(&q));
            t.status(200).json_body(json!([{"classifier_name": "stamp_classifier_rubin", "classifier_version": 1,
                "class_name": "SN", "probability": 0.83, "ranking": 1}]));
        })
        .await;
    let prob_one = server
        .mock_async(|w, t| {
            w.method(GET).path("/probability_api/probability").is_true(exact_query(&[
                ("survey_id", "lsst"),
                ("oid", "313765480543813793"),
                ("classifier", "nope"),
            ]));
            t.status(404).json_body(json!({"detail": "Classifier not found"}));
        })
        .await;
    let ms = server
        .mock_async(|w, t| {
            w.method(GET).path("/magstat_api/magstats").is_true(exact_query(&q));
            t.status(200).json_body(json!([{"oid": 1, "sid": 1, "band": 2, "magmean": 21.3, "saturation_rate": 0.0,
                "updated_date": "2025-06-12T00:00:00"}]));
        })
        .await;
    let clfs = server
        .mock_async(|w, t| {
            w.method(GET).path("/classifier_api/classifiers").is_true(exact_query(&[]));
            t.status(200)
                .json_body(json!([{"classifier_name": "stamp_classifier_rubin", "classifier_version": "1.0.0",
                "classes": ["SN", "AGN", "VS"], "classifier_id": 3}]));
        })
        .await;
    let clf = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/classifier_api/classifiers")
                .is_true(exact_query(&[("classifier_name", "stamp_classifier_rubin")]));
            t.status(200).json_body(json!({"classifier_name": "stamp_classifier_rubin", "classifier_version": "1.0.0",
                "classes": [{"name": "SN"}], "classifier_id": 3}));
        })
        .await;

    let l = c.lsst();
    let curve = l.lightcurve(&[OID]).await.unwrap();
    assert_eq!(curve.detections[0].band_name.as_deref(), Some("i"));
    assert_eq!(curve.non_detections[0].band_name.as_deref(), Some("z"));
    let core = curve.to_lightcurve();
    assert_eq!(core.len(), 3);
    assert_eq!(core.points[0].band, Band::LsstZ);
    let lim = core.points[0].limiting_mag.unwrap();
    assert!((lim - (23.9 - 2.5 * (0.1f64 * 5.0).log10())).abs() < 1e-9, "5-sigma of diaNoise 100 nJy");
    assert!(core.points[2].is_detection());
    assert!(l.non_detections(&[OID]).await.unwrap().is_empty());
    let p = l.probabilities(OID, None).await.unwrap();
    assert_eq!(p[0].classifier_version, Some(ClassifierVersion::Number(1)));
    let e = l.probabilities(OID, Some("nope")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message, .. } if message == "Classifier not found"), "{e:?}");
    let m = l.magstats(OID).await.unwrap();
    assert_eq!((m[0].band, m[0].magmean), (Some(2), Some(21.3)));
    let cs = l.classifiers().await.unwrap();
    assert_eq!(cs[0].class_names(), ["SN", "AGN", "VS"]);
    let one = l.classifier("stamp_classifier_rubin").await.unwrap();
    assert_eq!((one.class_names(), one.classifier_id), (vec!["SN".to_string()], Some(3)));
    for mock in [&lc, &nd, &prob, &prob_one, &ms, &clfs, &clf] {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn validation_errors_and_bad_input() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let v = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/detections").query_param("survey_id", "lsst");
            t.status(422).json_body(
                json!({"detail":[{"type":"missing","loc":["query","oid"],"msg":"Field required","input":null}]}),
            );
        })
        .await;
    let e = c.lsst().detections(&[5]).await.unwrap_err();
    v.assert_async().await;
    assert!(
        matches!(&e, Error::Parse { status: 422, errors, .. } if errors[0] == ("query.oid".to_string(), "Field required".to_string())),
        "{e:?}"
    );

    let before = server
        .mock_async(|w, t| {
            w.path("/object_api/list_objects");
            t.status(200).json_body(json!({"items": []}));
        })
        .await;
    assert!(c.lsst().detections(&[]).await.is_err());
    assert!(
        c.lsst().query_objects(&LsstObjectQuery::new().probability(0.5)).await.is_err(),
        "probability needs class_name"
    );
    assert!(c.lsst().query_objects(&LsstObjectQuery::new().oids(0..201)).await.is_err());
    assert!(c.lsst().query_objects(&LsstObjectQuery::new().n_det_range(9, 1)).await.is_err());
    assert!(c.lsst().classifier(" ").await.is_err());
    before.assert_calls_async(0).await;
}
