//! Stamp and avro endpoint tests (ZTF and multisurvey).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alerce_client::Error;
use alerce_client::stamps::StampKind;
use common::{client, exact_query, ztf_stamp_gz};
use httpmock::prelude::*;
use serde_json::json;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

#[tokio::test]
async fn ztf_fits_stamp_is_gunzipped_and_read() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/get_stamp").is_true(exact_query(&[
                ("oid", "ZTF18abjpdlh"),
                ("candid", "570448435315010000"),
                ("type", "difference"),
                ("format", "fits"),
            ]));
            t.status(200)
                .header("content-type", "application/fits+gzip")
                .header(
                    "content-disposition",
                    "attachment; filename=ZTF18abjpdlh_570448435315010000_difference.fits.gz",
                )
                .body(ztf_stamp_gz(0.25));
        })
        .await;
    let s = c.stamps().ztf_stamp("ZTF18abjpdlh", "570448435315010000", StampKind::Difference).await.unwrap();
    m.assert_async().await;
    assert_eq!(s.kind, StampKind::Difference);
    assert!(s.fits.starts_with(b"SIMPLE  ="));
    assert_eq!(s.fits.len() % 2880, 0);
    let img = s.image().unwrap();
    assert_eq!((img.width, img.height, img.bitpix), (63, 63, -32));
    assert_eq!(img.data.len(), 63 * 63);
    assert_eq!(img.pixel(2, 1), Some(0.25 + 65.0));
    assert_eq!(img.header_value("MAGZP").and_then(|v| v.as_f64()), Some(26.325));
}

#[tokio::test]
async fn ztf_stamps_without_candid_pick_the_first_alert_with_stamps() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let det = server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF18abkifng/detections");
            t.status(200).json_body(json!([
                {"mjd": 59001.0, "candid": "1000000000000000003", "fid": 1, "magpsf": 19.0, "has_stamp": true},
                {"mjd": 59000.0, "candid": "1000000000000000001", "fid": 1, "magpsf": 19.0, "has_stamp": false},
                {"mjd": 59000.5, "candid": "1000000000000000002", "fid": 2, "magpsf": 19.0, "has_stamp": true}
            ]));
        })
        .await;
    let mut mocks = Vec::new();
    for (i, kind) in ["science", "template", "difference"].into_iter().enumerate() {
        mocks.push(
            server
                .mock_async(move |w, t| {
                    w.method(GET).path("/get_stamp").is_true(exact_query(&[
                        ("oid", "ZTF18abkifng"),
                        ("candid", "1000000000000000002"),
                        ("type", kind),
                        ("format", "fits"),
                    ]));
                    t.status(200).body(ztf_stamp_gz(i as f32 * 1000.0));
                })
                .await,
        );
    }
    let trip = c.stamps().ztf_stamps("ZTF18abkifng", None).await.unwrap();
    det.assert_async().await;
    for m in &mocks {
        m.assert_async().await;
    }
    assert_eq!(trip.alert_id, "1000000000000000002");
    assert_eq!(trip.science.image().unwrap().pixel(0, 0), Some(0.0));
    assert_eq!(trip.template.image().unwrap().pixel(0, 0), Some(1000.0));
    assert_eq!(trip.get(StampKind::Difference).image().unwrap().pixel(0, 0), Some(2000.0));
}

#[tokio::test]
async fn no_stamps_and_missing_stamps_are_clear_errors() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    server
        .mock_async(|w, t| {
            w.method(GET).path("/ztf/v1/objects/ZTF1/detections");
            t.status(200).json_body(json!([{"mjd": 59000.0, "candid": "1", "fid": 1, "has_stamp": false}]));
        })
        .await;
    let e = c.stamps().ztf_stamps("ZTF1", None).await.unwrap_err();
    assert!(matches!(&e, Error::NoStamps { oid } if oid == "ZTF1"), "{e:?}");

    // The status is checked before gunzipping (the Python client does not).
    server
        .mock_async(|w, t| {
            w.method(GET).path("/get_stamp").query_param("candid", "404");
            t.status(404).json_body(json!({"message": "AVRO not found"}));
        })
        .await;
    let e = c.stamps().ztf_stamp("ZTF1", "404", StampKind::Science).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message, .. } if message == "AVRO not found"), "{e:?}");

    // A 200 with an HTML body is a format error, not a panic.
    server
        .mock_async(|w, t| {
            w.method(GET).path("/get_stamp").query_param("candid", "html");
            t.status(200).body("<html>maintenance</html>");
        })
        .await;
    let e = c.stamps().ztf_stamp("ZTF1", "html", StampKind::Science).await.unwrap_err();
    assert!(matches!(e, Error::Format { what: "FITS stamp", .. }), "{e:?}");
}

#[tokio::test]
async fn png_stamps() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let z = server
        .mock_async(|w, t| {
            w.method(GET).path("/get_stamp").is_true(exact_query(&[
                ("oid", "ZTF1"),
                ("candid", "5"),
                ("type", "science"),
                ("format", "png"),
            ]));
            t.status(200).header("content-type", "image/png").body(PNG);
        })
        .await;
    let l = server
        .mock_async(|w, t| {
            w.method(GET).path("/stamps_api/stamp").is_true(exact_query(&[
                ("oid", "1"),
                ("measurement_id", "2"),
                ("stamp_type", "cutoutTemplate"),
                ("file_format", "png"),
                ("survey_id", "lsst"),
            ]));
            t.status(200).header("content-type", "image/png").body(PNG);
        })
        .await;
    assert_eq!(&c.stamps().ztf_stamp_png("ZTF1", "5", StampKind::Science).await.unwrap()[..], PNG);
    assert_eq!(&c.stamps().lsst_stamp_png(1, 2, StampKind::Template).await.unwrap()[..], PNG);
    z.assert_async().await;
    l.assert_async().await;
}

#[tokio::test]
async fn lsst_stamps_use_the_earliest_detection_with_stamps() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let oid = 313_765_480_543_813_793_i64;
    let det = server
        .mock_async(|w, t| {
            w.method(GET).path("/lightcurve_api/detections").is_true(exact_query(&[("survey_id", "lsst"), ("oid", "313765480543813793")]));
            t.status(200).header("content-type", "application/json").body(
                r#"[{"oid": 313765480543813793, "measurement_id": 313985346497413307, "mjd": 60811.0, "band": 1, "has_stamp": true},
                    {"oid": 313765480543813793, "measurement_id": 313985346497413306, "mjd": 60810.0, "band": 1, "has_stamp": true},
                    {"oid": 313765480543813793, "measurement_id": 313985346497413305, "mjd": 60809.0, "band": 1, "has_stamp": false}]"#,
            );
        })
        .await;
    let mut mocks = Vec::new();
    for kind in ["cutoutScience", "cutoutTemplate", "cutoutDifference"] {
        mocks.push(
            server
                .mock_async(move |w, t| {
                    w.method(GET).path("/stamps_api/stamp").is_true(exact_query(&[
                        ("oid", "313765480543813793"),
                        ("measurement_id", "313985346497413306"),
                        ("stamp_type", kind),
                        ("file_format", "fits"),
                        ("survey_id", "lsst"),
                    ]));
                    t.status(200).header("content-type", "application/gzip").body(ztf_stamp_gz(1.0));
                })
                .await,
        );
    }
    let trip = c.stamps().lsst_stamps(oid, None).await.unwrap();
    det.assert_async().await;
    for m in &mocks {
        m.assert_async().await;
    }
    assert_eq!(trip.alert_id, "313985346497413306");
    assert_eq!(trip.science.image().unwrap().width, 63);
}

#[tokio::test]
async fn lsst_avro_calls_the_server_route() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/stamps_api/avro").is_true(exact_query(&[
                ("oid", "313765480543813793"),
                ("measurement_id", "313985346497413306"),
                ("survey_id", "lsst"),
            ]));
            t.status(200)
                .header("content-type", "application/json")
                .body(r#"{"diaSourceId": 313985346497413306, "psfFlux": 1523.4}"#);
        })
        .await;
    let v = c.stamps().lsst_avro(313_765_480_543_813_793, 313_985_346_497_413_306).await.unwrap();
    m.assert_async().await;
    assert_eq!(v["diaSourceId"].as_i64(), Some(313_985_346_497_413_306));
}

#[cfg(feature = "avro")]
#[tokio::test]
async fn ztf_avro_raw_and_decoded_with_its_cutouts() {
    use apache_avro::types::{Record, Value as Avro};
    let schema = apache_avro::Schema::parse_str(
        r#"{"type": "record", "name": "alert", "namespace": "ztf", "fields": [
            {"name": "objectId", "type": "string"},
            {"name": "candid", "type": "long"},
            {"name": "candidate", "type": {"type": "record", "name": "candidate", "fields": [
                {"name": "magpsf", "type": "float"}, {"name": "fid", "type": "int"},
                {"name": "magzpsci", "type": ["null", "float"], "default": null}]}},
            {"name": "cutoutScience", "type": ["null", {"type": "record", "name": "cutout", "fields": [
                {"name": "fileName", "type": "string"}, {"name": "stampData", "type": "bytes"}]}], "default": null}
        ]}"#,
    )
    .unwrap();
    let mut rec = Record::new(&schema).unwrap();
    rec.put("objectId", "ZTF18abbuksn");
    rec.put("candid", 570_448_435_315_010_000_i64);
    rec.put(
        "candidate",
        Avro::Record(vec![
            ("magpsf".into(), Avro::Float(18.5)),
            ("fid".into(), Avro::Int(2)),
            ("magzpsci".into(), Avro::Union(1, Box::new(Avro::Float(f32::NAN)))),
        ]),
    );
    rec.put(
        "cutoutScience",
        Avro::Union(
            1,
            Box::new(Avro::Record(vec![
                ("fileName".into(), Avro::String("candid570448435315010000_pid_sciimg.fits.gz".into())),
                ("stampData".into(), Avro::Bytes(ztf_stamp_gz(3.0))),
            ])),
        ),
    );
    let mut w = apache_avro::Writer::new(&schema, Vec::new()).unwrap();
    w.append_value(rec).unwrap();
    let file = w.into_inner().unwrap();

    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|wh, t| {
            wh.method(GET)
                .path("/get_avro")
                .is_true(exact_query(&[("oid", "ZTF18abbuksn"), ("candid", "570448435315010000")]));
            t.status(200).header("content-type", "app/avro+binary").body(file.clone());
        })
        .await;
    let raw = c.stamps().ztf_avro("ZTF18abbuksn", "570448435315010000").await.unwrap();
    assert_eq!(&raw[..], &file[..]);
    let alert = c.stamps().ztf_alert("ZTF18abbuksn", "570448435315010000").await.unwrap();
    m.assert_calls_async(2).await;
    assert_eq!(alert.records.len(), 1);
    assert_eq!(alert.schema["name"], "ztf.alert");
    let j = &alert.to_json()[0];
    assert_eq!(j["candid"].as_i64(), Some(570_448_435_315_010_000));
    assert_eq!(j["candidate"]["fid"], 2);
    assert!(j["candidate"]["magzpsci"].is_null(), "NaN becomes null in JSON");
    assert_eq!(alert.field("candidate.magpsf"), Some(&Avro::Float(18.5)));
    let cut = alert.cutout(StampKind::Science).unwrap();
    assert_eq!(cut.image().unwrap().pixel(0, 0), Some(3.0));
    assert!(alert.cutout(StampKind::Template).is_err());

    assert!(alerce_client::avro::AvroPacket::parse(b"not avro").is_err());
}

#[tokio::test]
async fn lsst_stamp_uncompressed_sends_is_compressed_false() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let fits = alerce_client::fits::write_f32_fits(4, 3, &[2.5; 12], &[]);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/stamps_api/stamp").is_true(exact_query(&[
                ("oid", "313765480543813793"),
                ("measurement_id", "313985346497413306"),
                ("stamp_type", "cutoutDifference"),
                ("file_format", "fits"),
                ("survey_id", "lsst"),
                ("is_compressed", "false"),
            ]));
            t.status(200).header("content-type", "application/fits").body(fits.clone());
        })
        .await;
    let s = c
        .stamps()
        .lsst_stamp_uncompressed(313_765_480_543_813_793, 313_985_346_497_413_306, StampKind::Difference)
        .await
        .unwrap();
    m.assert_async().await;
    let img = s.image().unwrap();
    assert_eq!((img.width, img.height), (4, 3));
}

#[tokio::test]
async fn ztf_avro_info_is_json_without_cutouts() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET)
                .path("/get_avro_info")
                .is_true(exact_query(&[("oid", "ZTF18abbuksn"), ("candid", "570448435315010000")]));
            t.status(200).json_body(json!({"objectId": "ZTF18abbuksn",
                "candidate": {"candid": "570448435315010000", "magpsf": 18.2}, "prv_candidates": []}));
        })
        .await;
    let v = c.stamps().ztf_avro_info("ZTF18abbuksn", "570448435315010000").await.unwrap();
    m.assert_async().await;
    assert_eq!(v["candidate"]["candid"], "570448435315010000");
    assert!(v.get("cutoutScience").is_none());
}
