//! catsHTM endpoint tests: both response formats.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alerce_client::catshtm::{CatsValue, catalog_id, parse_tables};
use broker_core::SkyPosition;
use common::{client, exact_query};
use httpmock::prelude::*;
use serde_json::json;

fn pos() -> SkyPosition {
    SkyPosition::new(10.0, 20.0).unwrap()
}

#[tokio::test]
async fn conesearch_legacy_and_new_formats_with_aliases() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let legacy = server
        .mock_async(|w, t| {
            w.method(GET).path("/conesearch").is_true(exact_query(&[
                ("catalog", "GAIADR1"),
                ("ra", "10.0"),
                ("dec", "20.0"),
                ("radius", "30.000000"),
            ]));
            t.status(200).json_body(json!({"GAIA/DR1": {
                "RA": {"units": "deg", "values": [357.7325, 357.7412]},
                "Dec": {"units": "deg", "values": [14.1829, 14.1841]},
                "MagG": {"units": "mag", "values": [19.45, "infinity"]},
                "Plx": {"units": "mas", "values": [null, "null"]}}}));
        })
        .await;
    let newer = server
        .mock_async(|w, t| {
            w.method(GET).path("/conesearch").query_param("catalog", "TMASS");
            t.status(200).json_body(json!([
                {"attribute_name": "RA", "unit": "deg", "values": [357.733707]},
                {"attribute_name": "Mag_J", "unit": "mag", "values": [16.074]}]));
        })
        .await;
    let empty = server
        .mock_async(|w, t| {
            w.method(GET).path("/conesearch").query_param("catalog", "NEDz");
            t.status(200).json_body(json!({}));
        })
        .await;
    let cs = c.catshtm();
    let t = cs.conesearch(pos(), 30.0, "GAIA/DR1").await.unwrap();
    assert_eq!(t.catalog, "GAIA/DR1");
    assert_eq!(t.len(), 2);
    assert_eq!(t.column("ra").unwrap().unit.as_deref(), Some("deg"));
    assert_eq!(t.column("MagG").unwrap().values[1], CatsValue::Number(f64::INFINITY));
    assert_eq!(t.column("Plx").unwrap().values, [CatsValue::Null, CatsValue::Null]);
    let t = cs.conesearch(pos(), 30.0, "2MASS").await.unwrap();
    assert_eq!((t.catalog.as_str(), t.first_f64("Mag_J")), ("TMASS", Some(16.074)));
    let t = cs.conesearch(pos(), 30.0, "NEDz").await.unwrap();
    assert!(t.is_empty());
    for m in [&legacy, &newer, &empty] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn conesearch_all_both_formats() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/conesearch_all").is_true(exact_query(&[
                ("catalog", "all"),
                ("ra", "10.0"),
                ("dec", "20.0"),
                ("radius", "30.000000"),
            ]));
            t.status(200).json_body(json!({"catalogs": [
                {"2MASS": {"RA": {"units": "deg", "values": [357.733707]}, "Mag_J": {"units": "mag", "values": [16.074]}}},
                {"DECaLS": {"RA": {"units": "deg", "values": [357.7, 357.8]}}}]}));
        })
        .await;
    let tables = c.catshtm().conesearch_all(pos(), 30.0).await.unwrap();
    m.assert_async().await;
    assert_eq!(tables.iter().map(|t| (t.catalog.as_str(), t.len())).collect::<Vec<_>>(), [("2MASS", 1), ("DECaLS", 2)]);

    let newer = json!({"TMASS": [{"attribute_name": "RA", "unit": "deg", "values": [1.0, 2.0]}], "NEDz": []});
    let t = parse_tables(&newer, "all").unwrap();
    assert_eq!(t.iter().map(|t| (t.catalog.as_str(), t.len())).collect::<Vec<_>>(), [("TMASS", 2), ("NEDz", 0)]);
}

#[tokio::test]
async fn crossmatch_one_catalog_both_formats() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let legacy = server
        .mock_async(|w, t| {
            w.method(GET).path("/crossmatch").is_true(exact_query(&[
                ("catalog", "GAIADR1"),
                ("ra", "10.000000"),
                ("dec", "20.000000"),
                ("radius", "20.000000"),
            ]));
            t.status(200).json_body(json!({"RA": {"unit": "deg", "value": 357.73372964552243},
                "Dec": {"unit": "deg", "value": 14.20512820647999},
                "MagG": {"unit": "mag", "value": 17.018136614317157},
                "distance": {"unit": "arcsec", "value": 0.04247469148586401}}));
        })
        .await;
    let newer = server
        .mock_async(|w, t| {
            w.method(GET).path("/crossmatch").query_param("catalog", "GAIADR2");
            t.status(200).json_body(json!([{"attribute_name": "RA", "unit": "deg", "value": 357.7},
                {"attribute_name": "source_id", "unit": null, "value": "4295806720"},
                {"attribute_name": "distance", "unit": "arcsec", "value": 0.5}]));
        })
        .await;
    let t = c.catshtm().crossmatch(pos(), 20.0, "GAIA/DR1").await.unwrap();
    assert_eq!((t.catalog.as_str(), t.len()), ("GAIADR1", 1));
    assert_eq!(t.first_f64("distance"), Some(0.04247469148586401));
    let t = c.catshtm().crossmatch(pos(), 20.0, "GAIA/DR2").await.unwrap();
    assert_eq!(t.column("source_id").unwrap().values[0], CatsValue::Text("4295806720".into()));
    assert_eq!(t.column("source_id").unwrap().unit, None);
    legacy.assert_async().await;
    newer.assert_async().await;
}

#[tokio::test]
async fn crossmatch_all_and_redshift() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|w, t| {
            w.method(GET).path("/crossmatch_all").is_true(exact_query(&[
                ("catalog", "all"),
                ("ra", "10.000000"),
                ("dec", "20.000000"),
                ("radius", "100.000000"),
            ]));
            t.status(200).json_body(json!([
                {"2MASS": {"RA": {"unit": "deg", "value": 357.733707}, "distance": {"unit": "arcsec", "value": 0.65}}},
                {"SDSSDR10": {"zphot": {"unit": " ", "value": 0.2}, "distance": {"unit": "arcsec", "value": 1.1}}},
                {"NEDz": {"z": {"unit": " ", "value": 0.100681}, "distance": {"unit": "arcsec", "value": 80.14}}}]));
        })
        .await;
    let tables = c.catshtm().crossmatch_all(pos(), 100.0).await.unwrap();
    assert_eq!(tables.len(), 3);
    let z = c.catshtm().redshift(pos(), 100.0).await.unwrap().unwrap();
    assert_eq!((z.z, z.catalog.as_str(), z.column.as_str()), (0.100681, "NEDz", "z"));
    m.assert_calls_async(2).await;

    // The newer shape, keyed by catalog, with only a photometric redshift.
    let newer = json!({"SDSSDR10": [{"attribute_name": "z_phot", "unit": "", "value": "0.31"}]});
    let z = alerce_client::catshtm::find_redshift(&parse_tables(&newer, "all").unwrap()).unwrap();
    assert_eq!((z.z, z.column.as_str()), (0.31, "z_phot"));
    assert!(alerce_client::catshtm::find_redshift(&[]).is_none());
}

#[tokio::test]
async fn bad_radius_or_catalog_sends_nothing_and_errors_map() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let any = server
        .mock_async(|w, t| {
            w.path_prefix("/conesearch");
            t.status(200).json_body(json!({}));
        })
        .await;
    assert!(c.catshtm().conesearch(pos(), 0.0, "GAIA/DR1").await.is_err());
    assert!(c.catshtm().conesearch(pos(), 4000.0, "GAIA/DR1").await.is_err());
    assert!(c.catshtm().conesearch(pos(), 10.0, " ").await.is_err());
    any.assert_calls_async(0).await;
    assert_eq!(catalog_id("2MASSxsc"), "TMASSxsc");
    assert_eq!(catalog_id("SDSS/DR10"), "SDSSDR10");
    assert_eq!(catalog_id(" WISE "), "WISE");

    server
        .mock_async(|w, t| {
            w.path("/crossmatch");
            t.status(500).json_body(json!({"detail": "catalog not available"}));
        })
        .await;
    let e = c.catshtm().crossmatch(pos(), 10.0, "XMM").await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().contains("catalog not available"), "{e}");

    assert!(parse_tables(&json!("oops"), "x").is_err());
    assert!(parse_tables(&json!([1, 2]), "x").is_err());
}

/// The current catsHTM service makes `radius` optional on the crossmatch routes (per-catalog
/// default, `src/view/fastAPI_project.py`): the request carries no `radius` at all.
#[tokio::test]
async fn crossmatch_without_radius_uses_the_server_default() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let one = server
        .mock_async(|w, t| {
            w.method(GET).path("/crossmatch").is_true(exact_query(&[
                ("catalog", "GAIADR2"),
                ("ra", "10.000000"),
                ("dec", "20.000000"),
            ]));
            t.status(200).json_body(json!([{"attribute_name": "distance", "unit": "arcsec", "value": 1.5}]));
        })
        .await;
    let all = server
        .mock_async(|w, t| {
            w.method(GET).path("/crossmatch_all").is_true(exact_query(&[
                ("catalog", "all"),
                ("ra", "10.000000"),
                ("dec", "20.000000"),
            ]));
            t.status(200).json_body(json!({"NEDz": [{"attribute_name": "z", "unit": " ", "value": 0.1}]}));
        })
        .await;
    let t = c.catshtm().crossmatch_default_radius(pos(), "GAIA/DR2").await.unwrap();
    assert_eq!(t.first_f64("distance"), Some(1.5));
    let tables = c.catshtm().crossmatch_all_default_radius(pos()).await.unwrap();
    assert_eq!(tables[0].catalog, "NEDz");
    one.assert_async().await;
    all.assert_async().await;
}
