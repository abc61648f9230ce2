//! Multisurvey (LSST) API endpoint tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alerce_client::Error;
use alerce_client::lsst::{ClassifierVersion, LsstObjectQuery, Magstats, MultisurveyOid};
use alerce_client::ztf::OrderMode;
use broker_core::Band;
use common::{client, exact_query};
use httpmock::prelude::*;
use serde_json::json;

const OID: i64 = 313_765_480_543_813_793; // above 2^53
const MID: i64 = 313_985_346_497_413_306;

fn lsst(ids: &[i64]) -> Vec<MultisurveyOid> {
    ids.iter().copied().map(MultisurveyOid::Lsst).collect()
}

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
    assert_eq!(o.oid, MultisurveyOid::Lsst(OID), "every digit of a 64-bit id survives");
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
    assert_eq!(all.iter().map(|o| o.oid.clone()).collect::<Vec<_>>(), lsst(&[1, 2, 3, 4, 5]));
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
    assert_eq!(o.oid, MultisurveyOid::Lsst(OID));
    assert_eq!(o.extra.get("nDiaSources"), Some(&json!(7)));
    m.assert_async().await;
    // An unknown oid: the server's catch-all 500 "An error occurred" is a not-found, after
    // one request (no retry).
    let e = c.lsst().object(42i64, false).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("no object 42 in survey lsst"), "{e}");
    plain.assert_calls_async(1).await;
}

#[tokio::test]
async fn object_other_5xx_is_still_retried() {
    let server = MockServer::start_async().await;
    let (c, clock) = client(&server);
    let gw = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/object");
            t.status(502).body("<html>Bad Gateway</html>");
        })
        .await;
    let e = c.lsst().object(7i64, false).await.unwrap_err();
    assert!(matches!(e, Error::Api { status: 502, .. }), "{e:?}");
    // One unretried try, then the normal policy (3 attempts).
    gw.assert_calls_async(4).await;
    assert!(!clock.sleeps().is_empty());
}

#[tokio::test]
async fn ztf_names_go_as_master_ids_alone_and_as_names_in_batches() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    // ZTF18abbuksn: master id = 2^55 + 18 * 26^7 + seq("abbuksn").
    let name = "ZTF18abbuksn";
    let master =
        (1i64 << 55) + 18 * 8_031_810_176 + "abbuksn".bytes().fold(0i64, |a, ch| a * 26 + i64::from(ch - b'a'));
    let master_s = master.to_string();
    let single = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/lightcurve_api/detections")
                .is_true(exact_query(&[("survey_id", "ztf"), ("oid", &master_s)]));
            t.status(200).json_body(json!([{"oid": master, "survey_id": "ztf", "measurement_id": 1, "mjd": 59000.5,
                "band": 1, "band_map": {"1": "g", "2": "r"}, "magpsf": 18.5, "sigmapsf": 0.1}]));
        })
        .await;
    let batch = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/detections").is_true(exact_query(&[
                ("survey_id", "ztf"),
                ("oid", "ZTF18abbuksn"),
                ("oid", "ZTF20acnsdjd"),
            ]));
            t.status(200).json_body(json!([]));
        })
        .await;
    let list = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/object_api/list_objects")
                .is_true(exact_query(&[("survey", "ztf"), ("oid", &master.to_string())]));
            t.status(200).json_body(json!({"items": [{"oid": "ZTF18abbuksn", "meanra": 1.0}]}));
        })
        .await;
    let one = MultisurveyOid::parse(name).unwrap();
    let rows = c.lsst().detections(std::slice::from_ref(&one)).await.unwrap();
    single.assert_async().await;
    assert_eq!(rows[0].oid, one, "the master id in the reply reads back as the ZTF name");
    assert_eq!(rows[0].band_name.as_deref(), Some("g"));
    let two = [one.clone(), MultisurveyOid::parse("ZTF20acnsdjd").unwrap()];
    c.lsst().detections(&two).await.unwrap();
    batch.assert_async().await;
    let page = c.lsst().query_objects(&LsstObjectQuery::new().oids([one.clone()])).await.unwrap();
    list.assert_async().await;
    assert_eq!(page.items[0].oid, one);
    assert_eq!(MultisurveyOid::from_ztf_master_id(master).as_deref(), Some(name));
    // Mixed surveys and malformed ids are refused before any request.
    assert!(c.lsst().detections(&[one.clone(), MultisurveyOid::Lsst(5)]).await.is_err());
    assert!(MultisurveyOid::parse("ZTF18ABC").is_err());
    assert!(MultisurveyOid::parse("18abbuksn").is_err());
    assert_eq!(MultisurveyOid::parse(" 313765480543813793 ").unwrap(), MultisurveyOid::Lsst(OID));
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
    let rows = c.lsst().detections(&lsst(&[169_298_433_191_444_990, OID])).await.unwrap();
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
    let rows = c.lsst().forced_photometry(&lsst(&oids)).await.unwrap();
    first.assert_async().await;
    second.assert_async().await;
    assert_eq!(rows.iter().map(|r| r.oid.clone()).collect::<Vec<_>>(), lsst(&[1, 250]));
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
            // One DiaObject row (magstat_api/models/lsst_dia_object.py), floats rounded to 3.
            t.status(200).header("content-type", "application/json").body(
                r#"[{"oid": 313765480543813793, "validityStartMjdTai": 60800.0, "ra": 150.1, "raErr": 0.001,
                    "dec": 2.2, "decErr": 0.001, "ra_dec_Cov": null, "r_psfFluxMean": 1523.4, "r_psfFluxMeanErr": 21.0,
                    "r_psfFluxSigma": 40.2, "r_psfFluxNdata": 7, "r_fpFluxMean": 1400.5, "g_psfFluxMean": null,
                    "firstDiaSourceMjdTai": 60800.1, "lastDiaSourceMjdTai": 60810.3, "nDiaSources": 7, "future": 1}]"#,
            );
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
    let curve = l.lightcurve(&lsst(&[OID])).await.unwrap();
    assert_eq!(curve.detections[0].band_name.as_deref(), Some("i"));
    assert_eq!(curve.non_detections[0].band_name.as_deref(), Some("z"));
    let core = curve.to_lightcurve();
    assert_eq!(core.len(), 3);
    assert_eq!(core.points[0].band, Band::LsstZ);
    let lim = core.points[0].limiting_mag.unwrap();
    assert!((lim - (23.9 - 2.5 * (0.1f64 * 5.0).log10())).abs() < 1e-9, "5-sigma of diaNoise 100 nJy");
    assert!(core.points[2].is_detection());
    assert!(l.non_detections(&lsst(&[OID])).await.unwrap().is_empty());
    let p = l.probabilities(OID, None).await.unwrap();
    assert_eq!(p[0].classifier_version, Some(ClassifierVersion::Number(1)));
    let e = l.probabilities(OID, Some("nope")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message, .. } if message == "Classifier not found"), "{e:?}");
    let Magstats::Lsst(m) = l.magstats(OID).await.unwrap() else { panic!("an LSST id gives the DiaObject row") };
    assert_eq!(m.oid, Some(OID));
    assert_eq!(m.nDiaSources, Some(7));
    let r = m.band("r").unwrap();
    assert_eq!((r.psfFluxMean, r.psfFluxNdata, r.fpFluxMean), (Some(1523.4), Some(7), Some(1400.5)));
    assert!(m.band("g").is_some_and(|g| g.psfFluxMean.is_none()));
    assert!(m.band("u").is_none());
    assert_eq!(m.extra.get("future"), Some(&json!(1)));
    let back = serde_json::to_value(&*m).unwrap();
    assert_eq!(back["r_psfFluxMean"], json!(1523.4));
    assert_eq!(back["oid"], json!(OID));
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
    let e = c.lsst().detections(&lsst(&[5])).await.unwrap_err();
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
    assert!(c.lsst().query_objects(&LsstObjectQuery::new().n_det_range(9, 1)).await.is_err());
    assert!(c.lsst().classifier(" ").await.is_err());
    before.assert_calls_async(0).await;
}

/// The REST `list_objects` runs only the `n_det` and `order_mode` checks
/// (`object_api/routes/rest.py`); the 200-oid cap and "probability needs a class" are
/// HTMX-only (`routes/htmx.py`), so the client must send such queries.
#[tokio::test]
async fn list_objects_sends_htmx_only_checks_to_the_rest_route() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let prob = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/object_api/list_objects")
                .is_true(exact_query(&[("survey", "lsst"), ("probability", "0.5")]));
            t.status(200).json_body(json!({"items": []}));
        })
        .await;
    let many = server
        .mock_async(|w, t| {
            w.method(GET).path("/object_api/list_objects").is_true(|r: &httpmock::HttpMockRequest| {
                r.query_params().iter().filter(|(k, _)| k == "oid").count() == 201
            });
            t.status(200).json_body(json!({"items": []}));
        })
        .await;
    c.lsst().query_objects(&LsstObjectQuery::new().probability(0.5)).await.unwrap();
    c.lsst().query_objects(&LsstObjectQuery::new().oids(0i64..201)).await.unwrap();
    prob.assert_async().await;
    many.assert_async().await;
}

#[tokio::test]
async fn ztf_magstats_rows_have_no_band_and_dashes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/magstat_api/magstats").query_param("survey_id", "ztf");
            t.status(200).json_body(json!([{"stellar": false, "corrected": true, "ndubious": 0, "magmean": 18.9,
                "magmedian": 18.8, "magmax": 19.9, "magmin": 18.1, "magsigma": 0.4, "maglast": 19.5, "magfirst": 18.7,
                "step_id_corr": "correction_1.0.6", "ndet": "-", "firstmjd": "-", "lastmjd": "-"}]));
        })
        .await;
    let Magstats::Ztf(rows) = c.lsst().magstats(MultisurveyOid::parse("ZTF18abbuksn").unwrap()).await.unwrap() else {
        panic!("a ZTF name gives ZTF rows")
    };
    m.assert_async().await;
    assert_eq!(rows[0].magmean, Some(18.9));
    assert_eq!((rows[0].ndet, rows[0].firstmjd), (None, None));
    assert!(!rows[0].extra.contains_key("fid"));
}

#[tokio::test]
async fn conesearch_and_crossmatch_routes() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let by_oid = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/conesearch/objects_by_oid").is_true(exact_query(&[
                ("oid", "ZTF18abbuksn"),
                ("survey", "ztf"),
                ("radius", "0.01"),
                ("neighbors", "5"),
            ]));
            t.status(200).json_body(json!([{"objectId": "ZTF18abbuksn", "survey_id": "ztf", "ra": 10.0, "dec": 20.0}]));
        })
        .await;
    let by_pos = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/conesearch/objects_by_coordinates").is_true(exact_query(&[
                ("ra", "150.1"),
                ("dec", "2.2"),
                ("radius", "0.001"),
                ("neighbors", "3"),
            ]));
            t.status(200)
                .json_body(json!([{"objectId": "313765480543813793", "survey_id": "lsst", "ra": 150.1, "dec": 2.2}]));
        })
        .await;
    let lc = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/conesearch/lightcurve_by_oid").is_true(exact_query(&[
                ("oid", "313765480543813793"),
                ("survey", "lsst"),
                ("radius", "0.001"),
                ("neighbors", "1"),
            ]));
            t.status(200).json_body(json!({"detections": [], "non_detections": [], "forced_photometry": []}));
        })
        .await;
    let xm = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/crossmatch_api/crossmatch")
                .is_true(exact_query(&[("oid", "313765480543813793"), ("survey_id", "lsst")]));
            t.status(200).json_body(
                json!([{"NEDz": {"z": {"unit": " ", "value": 0.1}, "distance": {"unit": "arcsec", "value": 8.0}}}]),
            );
        })
        .await;
    let l = c.lsst();
    let ztf = MultisurveyOid::parse("ZTF18abbuksn").unwrap();
    assert_eq!(l.conesearch_by_oid(ztf.clone(), 0.01, 5).await.unwrap()[0].objectId, ztf);
    let found =
        l.conesearch_by_coordinates(broker_core::SkyPosition::new(150.1, 2.2).unwrap(), 0.001, 3).await.unwrap();
    assert_eq!(found[0].objectId, MultisurveyOid::Lsst(OID));
    l.conesearch_lightcurve(OID, 0.001, 1).await.unwrap();
    let tables = l.crossmatch(OID).await.unwrap();
    assert_eq!(tables[0].catalog, "NEDz");
    for m in [&by_oid, &by_pos, &lc, &xm] {
        m.assert_async().await;
    }
    assert!(l.conesearch_by_oid(OID, 0.0, 5).await.is_err());
    assert!(l.conesearch_by_oid(OID, 0.1, 0).await.is_err());
}
