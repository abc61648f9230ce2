//! `output-format=parquet` read straight into polars (feature `polars`).
#![cfg(feature = "polars")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fink_client::FinkClient;
use fink_client::frame::polars::prelude::*;
use fink_client::frame::polars_io::parquet::write::ParquetWriter;
use httpmock::prelude::*;
use serde_json::json;

/// A parquet body like pandas `to_parquet` of a sources frame: prefixed column names, an
/// int64 id above 2^53, doubles, a string band, a null.
fn parquet_body() -> Vec<u8> {
    let mut df = df!(
        "r:diaObjectId" => [314_003_014_107_006_318i64, 314_003_014_107_006_318],
        "r:diaSourceId" => [314_003_014_107_006_319i64, 314_003_014_107_006_555],
        "r:midpointMjdTai" => [61176.9896294959f64, 61170.1],
        "r:band" => ["g", "r"],
        "r:psfFlux" => [Some(15300.5f64), None],
    )
    .unwrap();
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
    buf
}

#[tokio::test]
async fn parquet_replies_become_dataframes_with_exact_64_bit_ids() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|w, t| {
            w.method(POST)
                .path("/lsst/api/v1/sources")
                .json_body(json!({"diaObjectId": "314003014107006318", "output-format": "parquet"}));
            t.status(200).header("content-type", "parquet").body(parquet_body());
        })
        .await;
    let fink = FinkClient::builder().host(&server.base_url()).build().unwrap();
    let df = fink.lsst().sources(&[314_003_014_107_006_318]).dataframe().await.unwrap();
    m.assert_async().await;
    assert_eq!(df.height(), 2);
    let ids = df.column("r:diaObjectId").unwrap();
    assert_eq!(ids.dtype(), &DataType::Int64);
    assert_eq!(ids.i64().unwrap().get(0), Some(314_003_014_107_006_318));
    assert_eq!(df.column("r:diaSourceId").unwrap().i64().unwrap().get(1), Some(314_003_014_107_006_555));
    assert_eq!(df.column("r:psfFlux").unwrap().f64().unwrap().get(1), None);
    assert_eq!(df.column("r:band").unwrap().str().unwrap().get(0), Some("g"));
}

#[tokio::test]
async fn a_reply_that_is_not_parquet_is_a_decode_error_not_a_panic() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|w, t| {
            w.method(POST).path("/ztf/api/v1/objects");
            t.status(200).header("content-type", "application/json").body("[]");
        })
        .await;
    let fink = FinkClient::builder().host(&server.base_url()).build().unwrap();
    let err = fink.ztf().objects(["ZTF21abfmbix"]).dataframe().await.unwrap_err();
    assert!(matches!(err, broker_core::Error::Decode { .. }), "{err}");
    // The unified light curve as a frame.
    let lc = broker_core::Lightcurve::new();
    assert_eq!(
        fink_client::frame::lightcurve_to_dataframe(&lc).unwrap().width(),
        broker_core::astro::LIGHTCURVE_COLUMNS.len()
    );
}
