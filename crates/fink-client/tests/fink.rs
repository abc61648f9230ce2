//! Exact requests per route (httpmock: method, path, content type, JSON body) and decodes
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! of realistic replies, for both surveys.

use std::sync::Arc;

use broker_core::{Error, ManualClock, PointKind, SkyPosition};
use fink_client::columns::{Column, error_text};
use fink_client::common::{CutoutFormat, CutoutKind, Resolver};
use fink_client::ztf::Trend;
use fink_client::{FinkClient, OutputFormat, Survey};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;

fn client(server: &MockServer) -> (FinkClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let c = FinkClient::builder().host(&server.base_url()).clock(clock.clone()).build().unwrap();
    (c, clock)
}

/// A realistic `objects?withupperlim=True` reply: a valid alert with typed HBase columns,
/// an upper limit and a bad-quality row read back from HBase as text (Gson dump), and
/// pandas' `candid = -1` for both.
const ZTF_OBJECT_ROWS: &str = r#"[
 {"i:objectId":"ZTF21abfmbix","i:candid":1549473362115015004,"i:jd":2459323.9734954,"i:fid":2,
  "i:magpsf":17.8213,"i:sigmapsf":0.0512,"i:diffmaglim":20.31,"i:ra":193.821739,"i:dec":2.897311,
  "d:tag":"valid","d:rf_snia_vs_nonia":0.812,"d:cdsxmatch":"Unknown","v:classification":"Early SN Ia candidate",
  "v:lastdate":"2021-04-16 11:21:49.000","b:cutoutScience_stampData":null},
 {"i:objectId":"ZTF21abfmbix","i:candid":-1,"i:jd":"2459321.9012","i:fid":"1","i:magpsf":null,
  "i:diffmaglim":"19.87","d:tag":"upperlim"},
 {"i:objectId":"ZTF21abfmbix","i:candid":-1,"i:jd":"2459320.8","i:fid":"2","i:magpsf":"18.9",
  "i:sigmapsf":"0.2","i:diffmaglim":"19.5","d:tag":"badquality"}
]"#;

#[tokio::test]
async fn ztf_objects_sends_the_exact_body_and_decodes_prefixed_columns() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/objects").header("content-type", "application/json").json_body(json!({
                "objectId": "ZTF21abfmbix,ZTF19acmdpyr",
                "withupperlim": true,
                "withcutouts": true,
                "cutout-kind": "Science",
                "columns": "i:jd,i:magpsf,d:tag",
                "output-format": "json"
            }));
            t.status(200).header("content-type", "application/json").body(ZTF_OBJECT_ROWS);
        })
        .await;
    let (fink, _) = client(&server);
    let rows = fink
        .ztf()
        .objects(["ZTF21abfmbix", "ZTF19acmdpyr"])
        .with_upper_limits(true)
        .with_cutouts(true, Some(CutoutKind::Science))
        .columns([Column::i("jd"), Column::i("magpsf"), Column::d("tag")])
        .send()
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(rows.len(), 3);
    let r = &rows[0];
    assert_eq!(r.object_id.as_deref(), Some("ZTF21abfmbix"));
    assert_eq!(r.candid, Some(1_549_473_362_115_015_004), "ZTF candids are 64-bit too");
    assert_eq!((r.fid, r.magpsf, r.tag.as_deref()), (Some(2), Some(17.8213), Some("valid")));
    assert_eq!(r.classification.as_deref(), Some("Early SN Ia candidate"));
    // Raw names kept for everything untyped, and reachable by name for typed columns too.
    assert_eq!(r.extra["d:rf_snia_vs_nonia"], json!(0.812));
    assert_eq!(r.get("i:magpsf"), Some(json!(17.8213)));
    // Text numbers from the upper-limit tables decode.
    assert_eq!((rows[1].jd, rows[1].fid, rows[1].diffmaglim), (Some(2459321.9012), Some(1), Some(19.87)));
    assert_eq!(rows[2].magpsf, Some(18.9));
}

#[tokio::test]
async fn ztf_lightcurve_follows_the_tag_rules() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/v1/objects")
                .json_body(json!({"objectId": "ZTF21abfmbix", "withupperlim": true, "output-format": "json"}));
            t.status(200).body(ZTF_OBJECT_ROWS);
        })
        .await;
    let (fink, _) = client(&server);
    let lc = fink.lightcurve(Survey::Ztf, "ZTF21abfmbix").await.unwrap();
    m.assert_async().await;
    assert_eq!(lc.len(), 2, "the bad-quality row is left out");
    let lim = &lc.points[0];
    assert_eq!((lim.kind, lim.band.name(), lim.limiting_mag), (PointKind::Limit, "ztfg", Some(19.87)));
    assert!((lim.mjd - 59321.4012).abs() < 1e-6);
    let det = &lc.points[1];
    assert_eq!((det.kind, det.band.name(), det.mag), (PointKind::Detection, "ztfr", Some(17.8213)));
    assert_eq!((det.broker.as_str(), det.survey.as_str(), det.object_id.as_str()), ("fink", "ztf", "ZTF21abfmbix"));
    let with_bad = fink_client::ztf::to_lightcurve(
        &fink.ztf().objects(["ZTF21abfmbix"]).with_upper_limits(true).send().await.unwrap(),
        true,
    );
    assert_eq!(with_bad.detections().count(), 2);
}

/// A 64-bit id above 2^53 (9007199254740992) goes out as exact text and comes back as the
/// same integer; through `f64` it would end in ...6320 / ...6318 -> ...6320.
#[tokio::test]
async fn lsst_ids_above_2_pow_53_round_trip_exactly() {
    const OID: i64 = 314_003_014_107_006_318;
    const SID: i64 = 314_003_014_107_006_319;
    assert!(OID > 1 << 53 && (OID as f64) as i64 != OID, "the id must not survive a double");
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/lsst/api/v1/sources")
                .json_body(json!({"diaObjectId": "314003014107006318", "output-format": "json"}));
            t.status(200).header("content-type", "application/json").body(
                r#"[{"r:diaObjectId":314003014107006318,"r:diaSourceId":314003014107006319,"r:midpointMjdTai":61176.9896294959,
                "r:band":"g","r:psfFlux":15300.5,"r:psfFluxErr":210.2,"r:ra":150.1,"r:dec":2.2,"r:snr":72.8,
                "f:xm_simbad_otype":"Unknown","r:visit":2025100300123},
                {"r:diaObjectId":314003014107006318,"r:diaSourceId":314003014107006555,"r:midpointMjdTai":61170.1,
                "r:band":"r","r:psfFlux":300.0,"r:psfFluxErr":200.0}]"#,
            );
        })
        .await;
    let (fink, _) = client(&server);
    let rows = fink.lsst().sources(&[OID]).send().await.unwrap();
    m.assert_async().await;
    assert_eq!(rows[0].dia_object_id, Some(OID));
    assert_eq!(rows[0].dia_source_id, Some(SID));
    assert_eq!(rows[0].extra["f:xm_simbad_otype"], json!("Unknown"));
    // Re-encoded under the raw name, still an exact integer.
    let back = serde_json::to_string(&rows[0]).unwrap();
    assert!(back.contains(r#""r:diaObjectId":314003014107006318"#), "{back}");
    // And the id taken from the reply is the id the next request sends.
    let m2 = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/lsst/api/v1/objects")
                .json_body(json!({"diaObjectId": "314003014107006318", "output-format": "json"}));
            t.status(200).body(r#"[{"r:diaObjectId":314003014107006318,"r:nDiaSources":12,"r:ra":150.1,"r:dec":2.2}]"#);
        })
        .await;
    let objs = fink.lsst().objects(&[rows[0].dia_object_id.unwrap()]).send_objects().await.unwrap();
    m2.assert_async().await;
    assert_eq!((objs[0].dia_object_id, objs[0].n_dia_sources), (Some(OID), Some(12)));
    // Light curve: the first source is a detection (S/N 73, 15.3 µJy), the second a limit.
    let lc = fink_client::lsst::to_lightcurve(&rows);
    assert_eq!(lc.points[0].kind, PointKind::Limit);
    assert_eq!(lc.points[1].kind, PointKind::Detection);
    assert_eq!(lc.points[1].object_id, "314003014107006318");
    assert_eq!(lc.points[1].band.name(), "lsstg");
    assert!((lc.points[1].flux_ujy.unwrap() - 15.3005).abs() < 1e-9);
}

#[tokio::test]
async fn lsst_sources_at_one_time_and_forced_photometry() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/sources").json_body(json!({
                "diaObjectId": "170261592629837872", "midpointMjdTai": 61176.9896294959,
                "columns": "r:midpointMjdTai,r:psfFlux", "output-format": "json"}));
            t.status(200).body("[]");
        })
        .await;
    let fp = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/lsst/api/v1/fp")
                .json_body(json!({"diaObjectId": "1,2", "output-format": "json"}));
            t.status(200).body(r#"[{"r:diaObjectId":1,"r:diaForcedSourceId":99,"r:midpointMjdTai":61000.5,"r:band":"i","r:psfFlux":-20.0,"r:psfFluxErr":40.0}]"#);
        })
        .await;
    let (fink, _) = client(&server);
    let none = fink
        .lsst()
        .sources(&[170261592629837872])
        .midpoint_mjd_tai(61176.9896294959)
        .columns([Column::r("midpointMjdTai"), Column::r("psfFlux")])
        .send()
        .await
        .unwrap();
    m.assert_async().await;
    assert!(none.is_empty());
    let rows = fink.lsst().forced_photometry(&[1, 2]).send().await.unwrap();
    fp.assert_async().await;
    assert_eq!(rows[0].extra["r:diaForcedSourceId"], json!(99));
    assert_eq!(rows[0].to_point().unwrap().kind, PointKind::Limit);
    // midpointMjdTai with two ids is refused before sending.
    let err = fink.lsst().sources(&[1, 2]).midpoint_mjd_tai(61000.0).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "midpointMjdTai"));
    assert!(matches!(fink.lsst().sources(&[]).send().await.unwrap_err(), Error::InvalidInput { .. }));
}

#[tokio::test]
async fn latests_send_uses_iso_dates_and_sends_color_only_when_true() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/latests").json_body(json!({
                "class": "Early SN Ia candidate", "trend": "rising", "n": 5,
                "startdate": "2019-11-01 00:00:00.000", "stopdate": "2023-02-25 12:00:00.000",
                "output-format": "json"}));
            t.status(200).body(r#"[{"i:objectId":"ZTF23aaa","i:candid":7,"i:jd":2459999.9,"d:mag_rate":-0.2}]"#);
        })
        .await;
    let (fink, _) = client(&server);
    let rows = fink
        .ztf()
        .latests("Early SN Ia candidate")
        .trend(Trend::Rising)
        .n(5)
        .since_mjd(58788.0)
        .until_mjd(60000.5)
        .send()
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(rows[0].mag_rate, Some(-0.2));
    // A blazar trend with another class is refused before any request.
    let err = fink.ztf().latests("SN candidate").trend(Trend::NewLowState).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "trend"), "{err}");
}

#[tokio::test]
async fn latests_stream_walks_time_windows_and_applies_the_trend_itself() {
    let server = MockServer::start_async().await;
    // Window 1: [since, until] -> 2 rows (full), oldest jd 2460000.0 (MJD 59999.5).
    let w1 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/latests").json_body(json!({
                "class": "SN candidate", "n": 2, "startdate": "2023-01-01 00:00:00.000",
                "stopdate": "2023-03-01 00:00:00.000", "output-format": "json"}));
            t.status(200).body(
                r#"[{"i:objectId":"ZTF23a","i:candid":3,"i:jd":2460001.0,"d:mag_rate":-0.1},
                    {"i:objectId":"ZTF23b","i:candid":2,"i:jd":2460000.0,"d:mag_rate":0.3}]"#,
            );
        })
        .await;
    // Window 2 ends at the oldest time seen: the repeat is dropped; still full, so on to window 3.
    let w2 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/latests").json_body(json!({
                "class": "SN candidate", "n": 2, "startdate": "2023-01-01 00:00:00.000",
                "stopdate": "2023-02-24 12:00:00.000", "output-format": "json"}));
            t.status(200).body(
                r#"[{"i:objectId":"ZTF23b","i:candid":2,"i:jd":2460000.0,"d:mag_rate":0.3},
                    {"i:objectId":"ZTF23c","i:candid":1,"i:jd":2459990.0,"d:mag_rate":-0.5}]"#,
            );
        })
        .await;
    let w3 = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/latests").json_body(json!({
                "class": "SN candidate", "n": 2, "startdate": "2023-01-01 00:00:00.000",
                "stopdate": "2023-02-14 12:00:00.000", "output-format": "json"}));
            t.status(200).body("[]");
        })
        .await;
    let (fink, _) = client(&server);
    let req = fink.ztf().latests("SN candidate").n(2).since_mjd(59945.0).until_mjd(60004.0);
    let all: Vec<_> = req.stream().collect::<Vec<_>>().await.into_iter().map(|r| r.unwrap().candid.unwrap()).collect();
    assert_eq!(all, [3, 2, 1]);
    // The trend goes client-side: the same windows are asked without `trend`.
    let rising: Vec<_> = req
        .clone()
        .trend(Trend::Rising)
        .stream()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|r| r.unwrap().candid.unwrap())
        .collect();
    assert_eq!(rising, [3, 1]);
    w1.assert_calls_async(2).await;
    w2.assert_calls_async(2).await;
    w3.assert_calls_async(2).await;
    // A stream needs an end.
    let err = fink.ztf().latests("SN candidate").stream().collect::<Vec<_>>().await;
    assert!(matches!(&err[0], Err(Error::InvalidInput { field, .. }) if field == "stopdate"));
}

#[tokio::test]
async fn tags_list_is_a_plain_get_and_tag_alerts_stream_by_midpoint() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|w, t| {
            w.method(GET).path("/lsst/api/v1/tags");
            t.status(200).json_body(json!({"some_tag": {"description": "A user-defined filter", "API support": true}}));
        })
        .await;
    let page = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/tags").json_body(json!({
                "tag": "some_tag", "n": 10, "startdate": "2026-01-01 00:00:00.000",
                "stopdate": "2026-01-02 00:00:00.000",
                "columns": "r:psfFlux,r:midpointMjdTai,r:diaSourceId", "output-format": "json"}));
            t.status(200).body(
                r#"[{"r:diaSourceId":9007199254740993,"r:diaObjectId":9007199254740995,"r:midpointMjdTai":61041.9,"r:psfFlux":1.0}]"#,
            );
        })
        .await;
    let (fink, _) = client(&server);
    let tags = fink.lsst().tags().await.unwrap();
    list.assert_async().await;
    let info: fink_client::lsst::TagInfo = serde_json::from_value(tags["some_tag"].clone()).unwrap();
    assert_eq!(info.api_support, Some(true));
    let rows: Vec<_> = fink
        .lsst()
        .tag("some_tag")
        .n(10)
        .since_mjd(61041.0)
        .until_mjd(61042.0)
        .columns([Column::r("psfFlux")])
        .stream()
        .collect::<Vec<_>>()
        .await;
    page.assert_async().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].as_ref().unwrap().dia_source_id, Some(9_007_199_254_740_993));
}

#[tokio::test]
async fn conesearch_per_survey_and_its_limits() {
    let server = MockServer::start_async().await;
    let ztf = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/conesearch").json_body(json!({
                "ra": 193.821739, "dec": 2.897311, "radius": 10.0, "n": 50,
                "startdate": "2021-06-10 12:30:00", "window": 30.0, "output-format": "json"}));
            t.status(200)
                .body(r#"[{"i:objectId":"ZTF21abfmbix","i:ra":193.8217,"i:dec":2.8973,"v:separation_degree":0.0001}]"#);
        })
        .await;
    let lsst = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/conesearch").json_body(json!({
                "ra": 150.1, "dec": 2.2, "radius": 5.0, "kind": "within",
                "columns": "r:diaObjectId,f:firstDiaSourceMjdTaiFink", "stopdate": "61000",
                "output-format": "json"}));
            t.status(200)
                .body(r#"[{"r:diaObjectId":314003014107006318,"r:ra":150.1,"r:dec":2.2,"v:separation_degree":0.0}]"#);
        })
        .await;
    let (fink, _) = client(&server);
    let pos = SkyPosition::new(193.821739, 2.897311).unwrap();
    let rows = fink
        .conesearch(Survey::Ztf, pos, 10.0)
        .n(50)
        .startdate("2021-06-10 12:30:00")
        .window_days(30.0)
        .send()
        .await
        .unwrap();
    ztf.assert_async().await;
    let hits = rows.hits();
    assert_eq!(hits[0].object_id, "ZTF21abfmbix");
    assert!((hits[0].separation_arcsec.unwrap() - 0.36).abs() < 1e-9);
    let lpos = SkyPosition::new(150.1, 2.2).unwrap();
    let rows = fink
        .conesearch(Survey::Lsst, lpos, 5.0)
        .kind("within")
        .stopdate("61000")
        .columns([Column::r("diaObjectId"), Column::f("firstDiaSourceMjdTaiFink")])
        .send()
        .await
        .unwrap();
    lsst.assert_async().await;
    assert_eq!(rows.hits()[0].object_id, "314003014107006318");
    // Refused before sending: radius over 5 degrees, dates without the column LSST needs.
    let err = fink.conesearch(Survey::Ztf, pos, 18_000.5).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "radius"), "{err}");
    let err = fink
        .conesearch(Survey::Lsst, lpos, 5.0)
        .startdate("2026-01-01")
        .columns([Column::r("ra")])
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "columns"), "{err}");
    let err = fink.conesearch(Survey::Ztf, pos, 5.0).kind("within").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "kind"));
}

#[tokio::test]
async fn cutouts_per_survey_return_the_image_bytes() {
    let server = MockServer::start_async().await;
    let ztf = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/cutouts").json_body(json!({
                "objectId": "ZTF21abfmbix", "candid": "1549473362115015004", "kind": "Science",
                "output-format": "PNG", "stretch": "linear"}));
            t.status(200).header("content-type", "image/png").body(b"\x89PNG\r\n\x1a\nrest");
        })
        .await;
    let lsst = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/cutouts").json_body(json!({
                "diaSourceId": "314003014107006319", "kind": "Difference", "output-format": "FITS"}));
            t.status(200).header("content-type", "application/octet-stream").body("SIMPLE  =                    T");
        })
        .await;
    let (fink, _) = client(&server);
    let png = fink
        .cutout(Survey::Ztf, "ZTF21abfmbix", CutoutKind::Science)
        .candid(1_549_473_362_115_015_004)
        .stretch("linear")
        .send()
        .await
        .unwrap();
    ztf.assert_async().await;
    assert!(png.starts_with(b"\x89PNG"));
    let fits = fink
        .cutout(Survey::Lsst, "314003014107006319", CutoutKind::Difference)
        .format(CutoutFormat::Fits)
        .send()
        .await
        .unwrap();
    lsst.assert_async().await;
    assert!(fits.starts_with(b"SIMPLE"));
    let err = fink.cutout(Survey::Lsst, "ZTF21abfmbix", CutoutKind::Science).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "diaSourceId"));
}

#[tokio::test]
async fn sso_resolver_classes_and_schema() {
    let server = MockServer::start_async().await;
    let sso = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/sso").json_body(json!({
                "n_or_d": "8467", "withEphem": true, "columns": "i:jd,i:magpsf,i:fid,i:ssnamenr", "output-format": "json"}));
            t.status(200).body(r#"[{"i:objectId":"ZTF19acmdpyr","i:jd":2458800.5,"i:magpsf":19.1,"i:fid":1,"i:ssnamenr":"8467","Phase":12.3}]"#);
        })
        .await;
    let res = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/resolver").json_body(json!({
                "resolver": "tns", "name_or_id": "314003014107006318", "reverse": true, "nmax": 3, "output-format": "json"}));
            t.status(200).body(r#"[{"d:fullname":"SN 2026abc","d:internalname":"314003014107006318"}]"#);
        })
        .await;
    let zres = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/v1/resolver")
                .json_body(json!({"resolver": "simbad", "name": "Vega", "output-format": "json"}));
            t.status(200).body(r#"[{"oname":"Vega","jradeg":279.23,"jdedeg":38.78}]"#);
        })
        .await;
    let classes = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/api/v1/classes");
            t.status(200).json_body(json!({"Fink classifiers": ["Early SN Ia candidate", "Kilonova candidate"],
                "Cross-match with TNS": ["(TNS) SN Ia"]}));
        })
        .await;
    let zschema = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/api/v1/schema");
            t.status(200).json_body(
                json!({"ZTF original fields (i:)": {"jd": {"type": "double", "doc": "Observation Julian date"}}}),
            );
        })
        .await;
    let lschema = server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/schema").json_body(json!({"endpoint": "/api/v1/sources"}));
            t.status(200).json_body(json!({"Rubin original fields (r:)": {}}));
        })
        .await;
    let (fink, _) = client(&server);
    let cols = fink_client::parse_columns("i:jd, i:magpsf,i:fid,i:ssnamenr").unwrap();
    let rows = fink.sso(Survey::Ztf, "8467").with_ephem(true).columns(cols).send().await.unwrap();
    sso.assert_async().await;
    assert_eq!(rows.to_json()[0]["Phase"], json!(12.3));
    let names =
        fink.resolver(Survey::Lsst, Resolver::Tns, "314003014107006318").reverse(true).nmax(3).send().await.unwrap();
    res.assert_async().await;
    assert_eq!(names[0]["d:fullname"], json!("SN 2026abc"));
    fink.resolver(Survey::Ztf, Resolver::Simbad, "Vega").send().await.unwrap();
    zres.assert_async().await;
    let c = fink.ztf().classes().await.unwrap();
    classes.assert_async().await;
    assert_eq!(c["Fink classifiers"][1], json!("Kilonova candidate"));
    fink.schema(Survey::Ztf, None).await.unwrap();
    zschema.assert_async().await;
    fink.schema(Survey::Lsst, Some("/api/v1/sources")).await.unwrap();
    lschema.assert_async().await;
    assert!(matches!(fink.schema(Survey::Lsst, None).await.unwrap_err(), Error::InvalidInput { .. }));
    assert!(matches!(fink_client::parse_columns("magpsf").unwrap_err(), Error::InvalidInput { .. }));
}

#[tokio::test]
async fn a_400_python_repr_and_a_plain_text_400_keep_status_and_text() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/conesearch");
            t.status(400).body(
                "{'status': 'error', 'text': \"A value for `ra` is required. See https://api.ztf.fink-portal.org \\n\"}",
            );
        })
        .await;
    server
        .mock_async(|w, t| {
            w.method(POST).path("/lsst/api/v1/tags");
            t.status(400).body("\n        nope is not a valid tag. Here is the list of tags:\n        ['a', 'b']\n");
        })
        .await;
    let (fink, _) = client(&server);
    let pos = SkyPosition::new(1.0, 1.0).unwrap();
    let err = fink.conesearch(Survey::Ztf, pos, 1.0).send().await.unwrap_err();
    let (status, text) = error_text(&err).unwrap();
    assert_eq!(status, 400);
    assert_eq!(text, "A value for `ra` is required. See https://api.ztf.fink-portal.org");
    let Error::Http(h) = &err else { panic!("{err}") };
    assert!(h.body.starts_with(b"{'status': 'error'"), "the raw body is kept");
    let err = fink.lsst().tag("nope").send().await.unwrap_err();
    assert_eq!(
        error_text(&err).unwrap(),
        (400, "nope is not a valid tag. Here is the list of tags:\n        ['a', 'b']".to_string())
    );
}

#[tokio::test]
async fn a_504_is_retried_with_the_core_backoff_on_the_manual_clock() {
    let server = MockServer::start_async().await;
    let cut = server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/objects").body_includes("ZTF_slow");
            t.status(504).body("<html><body><h1>504 Gateway Time-out</h1></body></html>");
        })
        .await;
    let (fink, clock) = client(&server);
    let err = fink.ztf().objects(["ZTF_slow"]).send().await.unwrap_err();
    assert!(matches!(&err, Error::Http(h) if h.status == 504), "{err}");
    let n = cut.calls_async().await;
    assert!(n > 1, "a POST read must be retried on 504 (got {n} call)");
    assert_eq!(clock.sleeps().len(), n - 1, "each retry waited on the injected clock");
}

#[tokio::test]
async fn output_formats_come_back_as_sent() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/ztf/api/v1/objects")
                .json_body(json!({"objectId": "ZTF21abfmbix", "output-format": "csv"}));
            t.status(200).header("content-type", "application/csv").body("i:jd,i:magpsf\n2459323.97,17.82\n");
        })
        .await;
    let (fink, _) = client(&server);
    let csv = fink.ztf().objects(["ZTF21abfmbix"]).raw(OutputFormat::Csv).await.unwrap();
    m.assert_async().await;
    assert!(csv.starts_with(b"i:jd,i:magpsf"));
    assert!("xml".parse::<OutputFormat>().is_err());
}
