//! Spectrum endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::spectra::{AsciiSpectrum, AsciiSpectrumUpload, NewSpectrum, SpectrumSort};

fn spectrum(id: i64) -> serde_json::Value {
    json!({"id": id, "wavelengths": [4000.0, 4001.5, 4003.0], "fluxes": [1.2e-16, 1.3e-16, null], "errors": null,
           "units": "erg/s/cm/cm/AA", "obj_id": "ZTF1", "observed_at": "2021-03-05T10:00:00", "origin": "SEDM",
           "type": "source", "label": null, "instrument_id": 7, "instrument_name": "SEDM", "followup_request_id": null,
           "assignment_id": null, "altdata": {"exptime": 1800}, "owner_id": 2})
}

#[tokio::test]
async fn list_for_source_get_delete() {
    let server = MockServer::start_async().await;
    let l = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/spectra").is_true(exact_query(&[
                ("objID", "ZTF1"),
                ("instrumentIDs", "7,8"),
                ("groupIDs", "4"),
                ("observedAfter", "2021-01-01"),
                ("minimalPayload", "true"),
            ]));
            then.json_body(ok(json!([spectrum(1)])));
        })
        .await;
    let s = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/spectra").is_true(exact_query(&[("normalization", "median")]));
            then.json_body(ok(json!({"obj_id": "ZTF1", "spectra": [spectrum(1), spectrum(2)]})));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/spectra/2");
            then.json_body(ok(spectrum(2)));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/spectra/2");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let list = c
        .spectra()
        .list()
        .obj_id("ZTF1")
        .instrument_ids([7, 8])
        .group_ids([4])
        .observed_after("2021-01-01")
        .minimal_payload(true)
        .send()
        .await
        .unwrap();
    assert_eq!(list[0].spectrum_type.as_deref(), Some("source"));
    let ss = c.spectra().for_source("ZTF1", Some("median")).await.unwrap();
    assert_eq!((ss.obj_id.as_str(), ss.spectra.len()), ("ZTF1", 2));
    assert_eq!(ss.spectra[0].fluxes.as_ref().unwrap()[2], None);
    let one = c.spectra().get(2).await.unwrap();
    assert_eq!(
        (one.id, one.instrument_id, one.altdata.as_ref().unwrap()["exptime"].as_i64()),
        (Some(2), Some(7), Some(1800))
    );
    c.spectra().delete(2).await.unwrap();
    for m in [&l, &s, &g, &d] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn create_and_update() {
    let server = MockServer::start_async().await;
    let body = json!({"obj_id": "ZTF1", "instrument_id": 7, "observed_at": "2021-03-05T10:00:00",
                      "wavelengths": [4000.0, 4001.5], "fluxes": [1.0, 2.0], "units": "erg/s/cm/cm/AA",
                      "type": "source", "group_ids": [4]});
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/spectra").json_body(body.clone());
            then.json_body(ok(json!({"id": 99})));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/spectra/99").json_body(body.clone());
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let s = NewSpectrum {
        obj_id: "ZTF1".into(),
        instrument_id: 7,
        observed_at: "2021-03-05T10:00:00".into(),
        wavelengths: vec![4000.0, 4001.5],
        fluxes: vec![1.0, 2.0],
        units: Some("erg/s/cm/cm/AA".into()),
        spectrum_type: Some("source".into()),
        group_ids: Some(vec![4]),
        ..Default::default()
    };
    assert_eq!(c.spectra().create(&s).await.unwrap(), 99);
    c.spectra().update(99, &s).await.unwrap();
    p.assert_async().await;
    u.assert_async().await;
    let mut bad = s.clone();
    bad.fluxes.pop();
    let e = c.spectra().create(&bad).await.unwrap_err();
    assert!(e.to_string().contains("one flux per wavelength"), "{e}");
}

#[tokio::test]
async fn ascii_parse_and_upload() {
    let server = MockServer::start_async().await;
    let text = "# EXPTIME = 1800\n4000.0 1.2e-16 1e-18\n4001.5 1.3e-16 1e-18\n";
    let parse = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/spectra/parse/ascii").json_body(json!({"ascii": text, "wave_column": 0, "flux_column": 1, "fluxerr_column": 2}));
            then.json_body(ok(json!({"wavelengths": [4000.0, 4001.5], "fluxes": [1.2e-16, 1.3e-16], "errors": [1e-18, 1e-18], "altdata": {"EXPTIME": "1800"}})));
        })
        .await;
    let up = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/spectra/ascii").json_body(json!({
                "obj_id": "ZTF1", "instrument_id": 7, "observed_at": "2021-03-05T10:00:00", "filename": "ztf1_sedm.txt",
                "ascii": text, "wave_column": 0, "flux_column": 1, "fluxerr_column": 2, "group_ids": [4]
            }));
            then.json_body(ok(json!({"id": 100})));
        })
        .await;
    let (c, _) = client(&server);
    let a = AsciiSpectrum { fluxerr_column: Some(2), ..AsciiSpectrum::new(text) };
    let parsed = c.spectra().parse_ascii(&a).await.unwrap();
    assert_eq!(parsed.errors.as_ref().unwrap().len(), 2);
    let u = AsciiSpectrumUpload {
        obj_id: "ZTF1".into(),
        instrument_id: 7,
        observed_at: "2021-03-05T10:00:00".into(),
        filename: "ztf1_sedm.txt".into(),
        ascii: a,
        group_ids: Some(vec![4]),
        extra: Default::default(),
    };
    assert_eq!(c.spectra().upload_ascii(&u).await.unwrap(), 100);
    parse.assert_async().await;
    up.assert_async().await;
}

#[tokio::test]
async fn source_spectra_sorted() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/sources/ZTF1/spectra")
                .is_true(exact_query(&[("sortBy", "created_at"), ("sortOrder", "desc")]));
            then.json_body(ok(json!({"obj_id": "ZTF1", "spectra": []})));
        })
        .await;
    let (c, _) = client(&server);
    let s = c.spectra().for_source_sorted("ZTF1", None, SpectrumSort::CreatedAt, true).await.unwrap();
    assert_eq!(s.obj_id, "ZTF1");
    m.assert_async().await;
}
