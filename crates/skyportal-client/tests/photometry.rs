//! Photometry endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::{Value, json};
use skyportal_client::broker_core::{Band, Error};
use skyportal_client::photometry::{FluxRow, MagRow, PhotometryFormat, PhotometryUpload};

#[tokio::test]
async fn source_photometry_with_format_both() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF21aaqjmps/photometry").header("Authorization", AUTH).is_true(
                exact_query(&[
                    ("format", "both"),
                    ("magsys", "ab"),
                    ("individualOrSeries", "individual"),
                    ("deduplicatePhotometry", "true"),
                ]),
            );
            then.json_body(ok(json!([
                phot_json(1, 59410.3, "ztfr", Some(19.2)),
                phot_json(2, 59411.3, "ztfg", None),
                {"obj_id": "ZTF21aaqjmps", "mjd": 59412.1, "filter": "atlaso", "instrument_name": "ATLAS",
                 "mag": 18.7, "magerr": 0.1, "magsys": "ab", "limiting_mag": 19.5, "flux": null, "fluxerr": 8.0,
                 "zp": 23.9, "id": 3, "groups": [], "annotations": [], "origin": "fp", "snr": 10.0}
            ])));
        })
        .await;
    let (c, _) = client(&server);
    let recs = c
        .photometry()
        .for_source("ZTF21aaqjmps")
        .format(PhotometryFormat::Both)
        .individual_or_series("individual")
        .deduplicate_photometry(true)
        .send()
        .await
        .unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!((recs[0].id, recs[0].mag, recs[0].zp), (Some(1), Some(19.2), Some(23.9)));
    assert_eq!(recs[1].mag, None);
    m.assert_async().await;
    let lc = skyportal_client::to_lightcurve("ZTF21aaqjmps", &recs);
    assert_eq!(lc.len(), 3);
    assert_eq!(lc.detections().count(), 2);
    let lim = lc.limits().next().unwrap();
    assert_eq!((lim.band.clone(), lim.limiting_mag, lim.survey.as_str()), (Band::ZtfG, Some(20.5), "ztf"));
    assert_eq!(lc.bands(), vec![Band::ZtfG, Band::ZtfR, Band::AtlasO]);
    let atlas = &lc.points[2];
    assert_eq!((atlas.survey.as_str(), atlas.broker.as_str(), atlas.mag), ("atlas", "skyportal", Some(18.7)));
}

#[tokio::test]
async fn lightcurve_helper_asks_for_both_in_ab() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF1/photometry").is_true(exact_query(&[("format", "both"), ("magsys", "ab")]));
            then.json_body(ok(json!([phot_json(1, 59410.3, "ztfr", Some(19.2))])));
        })
        .await;
    let (c, _) = client(&server);
    let lc = c.photometry().lightcurve("ZTF1").await.unwrap();
    assert_eq!(lc.points[0].mag, Some(19.2));
    assert!((lc.points[0].flux_ujy.unwrap() - 10f64.powf((23.9 - 19.2) / 2.5)).abs() < 1e-9);
    m.assert_async().await;
}

#[tokio::test]
async fn one_point_get_patch_delete() {
    let server = MockServer::start_async().await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/photometry/42").is_true(exact_query(&[("format", "flux"), ("magsys", "ab")]));
            then.json_body(ok(json!({"id": 42, "obj_id": "ZTF1", "mjd": 59000.0, "filter": "ztfg", "flux": 120.5, "fluxerr": 4.0, "zp": 23.9, "magsys": "ab"})));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/api/photometry/42").json_body(json!({"mag": 18.1, "magerr": 0.05, "filter": "ztfg", "magsys": "ab", "instrument_id": 1, "mjd": 59000.0, "obj_id": "ZTF1"}));
            then.json_body(ok(json!({})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/photometry/42");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let r = c.photometry().get(42, PhotometryFormat::Flux).await.unwrap();
    assert_eq!((r.flux, r.fluxerr), (Some(120.5), Some(4.0)));
    c.photometry()
        .patch(42, &json!({"mag": 18.1, "magerr": 0.05, "filter": "ztfg", "magsys": "ab", "instrument_id": 1, "mjd": 59000.0, "obj_id": "ZTF1"}))
        .await
        .unwrap();
    c.photometry().delete(42).await.unwrap();
    g.assert_async().await;
    p.assert_async().await;
    d.assert_async().await;
    assert!(c.photometry().patch(42, &json!({})).await.is_err());
}

#[tokio::test]
async fn bulk_deletes() {
    let server = MockServer::start_async().await;
    let a = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/sources/ZTF1/photometry");
            then.json_body(ok(json!("Deleted 12 photometry point(s) of ZTF1.")));
        })
        .await;
    let b = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/photometry/bulk_delete/3fa85f64-5717-4562-b3fc-2c963f66afa6");
            then.json_body(ok(json!("Deleted 3 photometry point(s).")));
        })
        .await;
    let (c, _) = client(&server);
    c.photometry().delete_for_source("ZTF1").await.unwrap();
    c.photometry().delete_upload("3fa85f64-5717-4562-b3fc-2c963f66afa6").await.unwrap();
    a.assert_async().await;
    b.assert_async().await;
}

#[tokio::test]
async fn post_sends_the_column_oriented_mag_body() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/photometry")
                .header("Authorization", AUTH)
                .is_true(exact_query(&[("refresh", "false")]))
                .json_body(json!({
                    "obj_id": ["ZTF21aaqjmps", "ZTF21aaqjmps", "ZTF21aaqjmps"],
                    "instrument_id": [1, 1, 1],
                    "mjd": [59410.0, 59411.0, 59412.0],
                    "filter": ["ztfr", "ztfg", "ztfr"],
                    "magsys": ["ab", "ab", "ab"],
                    "mag": [19.2, 19.3, null],
                    "magerr": [0.05, 0.06, null],
                    "limiting_mag": [20.0, 20.1, 20.2],
                    "origin": [null, "lol", "lol"],
                    "group_ids": [1],
                    "stream_ids": [2]
                }));
            then.json_body(ok(json!({"ids": [101, 102, 103], "upload_id": "7d2f2b0e-upload"})));
        })
        .await;
    let (c, _) = client(&server);
    let rows = vec![
        MagRow::detection("ZTF21aaqjmps", 1, 59410.0, "ztfr", 19.2, 0.05).limiting_mag(20.0),
        MagRow::detection("ZTF21aaqjmps", 1, 59411.0, "ztfg", 19.3, 0.06).limiting_mag(20.1).origin("lol"),
        MagRow::non_detection("ZTF21aaqjmps", 1, 59412.0, "ztfr", 20.2).origin("lol"),
    ];
    let r =
        c.photometry().post(&PhotometryUpload::mags(rows).group_ids([1]).stream_ids([2]).refresh(false)).await.unwrap();
    assert_eq!(r.ids, vec![101, 102, 103]);
    assert_eq!(r.upload_ids, vec!["7d2f2b0e-upload".to_string()]);
    assert_eq!((r.requests, r.rows_stored), (1, 3));
    m.assert_async().await;
}

#[tokio::test]
async fn put_flux_form_public() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/photometry").is_true(exact_query(&[])).json_body(json!({
                "obj_id": ["ZTF1", "ZTF1"], "instrument_id": [2, 2], "mjd": [60000.1, 60001.1],
                "filter": ["atlaso", "atlasc"], "magsys": ["ab", "ab"], "flux": [153.2, null],
                "fluxerr": [12.1, 11.0], "zp": [23.9, 23.9], "group_ids": "all"
            }));
            then.json_body(ok(json!({"ids": [5, 6]})));
        })
        .await;
    let (c, _) = client(&server);
    let rows = vec![
        FluxRow::ujy("ZTF1", 2, 60000.1, "atlaso", Some(153.2), 12.1),
        FluxRow::ujy("ZTF1", 2, 60001.1, "atlasc", None, 11.0),
    ];
    let r = c.photometry().upsert(&PhotometryUpload::fluxes(rows).public()).await.unwrap();
    assert_eq!(r.ids, vec![5, 6]);
    assert!(r.upload_ids.is_empty());
    m.assert_async().await;
}

/// The server calls `.items()` on every entry of an altdata list
/// (`standardize_photometry_data`, `handlers/api/photometry.py`): a `null` entry is a 500.
/// Rows without altdata go as `{}` (stored as null); with none at all, the key is left out.
#[tokio::test]
async fn altdata_is_an_object_for_every_row_or_absent() {
    let server = MockServer::start_async().await;
    let with = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/photometry").json_body(json!({
                "obj_id": ["ZTF1", "ZTF1"], "instrument_id": [2, 2], "mjd": [60000.1, 60001.1],
                "filter": ["atlaso", "atlasc"], "magsys": ["ab", "ab"], "flux": [153.2, 90.0],
                "fluxerr": [12.1, 11.0], "zp": [23.9, 23.9], "altdata": [{"exptime": 30}, {}]
            }));
            then.json_body(ok(json!({"ids": [5, 6]})));
        })
        .await;
    let without = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry").is_true(|req: &httpmock::HttpMockRequest| {
                let body: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
                body.get("altdata").is_none() && body["mjd"] == json!([59000.0])
            });
            then.json_body(ok(json!({"ids": [7], "upload_id": "u"})));
        })
        .await;
    let (c, _) = client(&server);
    let mut first = FluxRow::ujy("ZTF1", 2, 60000.1, "atlaso", Some(153.2), 12.1);
    first.altdata = Some(json!({"exptime": 30}));
    let rows = vec![first, FluxRow::ujy("ZTF1", 2, 60001.1, "atlasc", Some(90.0), 11.0)];
    assert_eq!(c.photometry().upsert(&PhotometryUpload::fluxes(rows)).await.unwrap().ids, vec![5, 6]);
    let one = vec![MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1)];
    assert_eq!(c.photometry().post(&PhotometryUpload::mags(one)).await.unwrap().ids, vec![7]);
    with.assert_async().await;
    without.assert_async().await;
    // Not an object: refused before any request.
    let mut bad = MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1);
    bad.altdata = Some(json!("seeing=1.2"));
    let f = c.photometry().post(&PhotometryUpload::mags(vec![bad])).await.unwrap_err();
    assert!(matches!(&f.error, Error::InvalidInput { field, .. } if field == "rows[0].altdata"), "{f}");
    assert_eq!(without.calls_async().await, 1);
}

fn ids_reply(req: &httpmock::HttpMockRequest) -> Value {
    let body: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
    body["mjd"].as_array().unwrap().iter().map(|m| m.as_f64().unwrap() as i64).collect()
}

#[tokio::test]
async fn twelve_thousand_rows_become_two_requests() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/photometry").is_true(|req| {
                let b: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
                b["mjd"].as_array().map(|a| a.len()) == Some(10_000)
                    && b["mjd"][0] == 0.0
                    && b["obj_id"].as_array().map(|a| a.len()) == Some(10_000)
            });
            then.respond_with(|req: &httpmock::HttpMockRequest| {
                let ids = ids_reply(req);
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(ok(json!({"ids": ids})).to_string())
                    .build()
            });
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/photometry").is_true(|req| {
                let b: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
                b["mjd"].as_array().map(|a| a.len()) == Some(2_000)
                    && b["mjd"][0] == 10_000.0
                    && b["magerr"].as_array().map(|a| a.len()) == Some(2_000)
            });
            then.respond_with(|req: &httpmock::HttpMockRequest| {
                let ids = ids_reply(req);
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(ok(json!({"ids": ids})).to_string())
                    .build()
            });
        })
        .await;
    let (c, _) = client(&server);
    let rows: Vec<MagRow> = (0..12_000).map(|i| MagRow::detection("ZTF1", 1, i as f64, "ztfg", 18.0, 0.1)).collect();
    let r = c.photometry().upsert(&PhotometryUpload::mags(rows)).await.unwrap();
    assert_eq!(r.requests, 2);
    assert_eq!(r.ids.len(), 12_000);
    assert_eq!(r.ids[9_999], 9_999);
    assert_eq!(r.ids[10_000], 10_000);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_failed_chunk_reports_what_was_stored() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry").body_includes("\"mjd\":[0.0,1.0]");
            then.json_body(ok(json!({"ids": [1, 2], "upload_id": "u1"})));
        })
        .await;
    let bad = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/photometry").body_includes("\"mjd\":[2.0,3.0]");
            then.status(400).json_body(err("The following photometry already exists in the database: 77"));
        })
        .await;
    let (c, _) = client(&server);
    let rows: Vec<MagRow> = (0..5).map(|i| MagRow::detection("ZTF1", 1, i as f64, "ztfg", 18.0, 0.1)).collect();
    let f = c.photometry().post(&PhotometryUpload::mags(rows).chunk_size(2)).await.unwrap_err();
    assert_eq!(f.stored.ids, vec![1, 2]);
    assert_eq!(f.stored.upload_ids, vec!["u1".to_string()]);
    assert_eq!(f.failed_rows, 2..5);
    assert!(f.to_string().contains("already exists"), "{f}");
    bad.assert_calls_async(1).await;
    let e: Error = f.into();
    assert_eq!(e.status(), Some(400));
}

#[tokio::test]
async fn invalid_rows_send_nothing() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let (c, _) = client(&server);
    let mut bad = MagRow::detection("ZTF1", 1, 59000.0, "ztfg", 18.0, 0.1);
    bad.magerr = None;
    let f = c
        .photometry()
        .post(&PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 1.0, "ztfg", 18.0, 0.1), bad]))
        .await
        .unwrap_err();
    assert!(matches!(&f.error, Error::InvalidInput { field, .. } if field == "rows[1].magerr"), "{f}");
    assert_eq!(f.failed_rows, 0..2);
    let f = c
        .photometry()
        .upsert(&PhotometryUpload::fluxes(vec![FluxRow::ujy("ZTF1", 1, 1.0, "ztfg", Some(1.0), -1.0)]))
        .await
        .unwrap_err();
    assert!(f.to_string().contains("fluxerr"), "{f}");
    assert!(c.photometry().for_source("bad id").send().await.is_err());
    assert_eq!(any.calls_async().await, 0);
}

#[cfg(feature = "polars")]
#[tokio::test]
async fn dataframes_of_records_and_lightcurves() {
    use skyportal_client::photometry::frame::{PHOTOMETRY_COLUMNS, records_to_dataframe};
    let recs: Vec<skyportal_client::PhotometryRecord> =
        serde_json::from_value(json!([phot_json(1, 59410.3, "ztfr", Some(19.2)), phot_json(2, 59411.3, "ztfg", None)]))
            .unwrap();
    let df = records_to_dataframe(&recs).unwrap();
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    assert_eq!(names, PHOTOMETRY_COLUMNS);
    assert_eq!(df.height(), 2);
    assert_eq!(df.column("mag").unwrap().null_count(), 1);
    assert_eq!(df.column("filter").unwrap().str().unwrap().get(1), Some("ztfg"));
    assert_eq!(df.column("id").unwrap().i64().unwrap().get(0), Some(1));
    let lc = skyportal_client::to_lightcurve("ZTF21aaqjmps", &recs);
    let lf = lc.to_dataframe().unwrap();
    assert_eq!(lf.column("is_detection").unwrap().bool().unwrap().get(1), Some(false));
}
