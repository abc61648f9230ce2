//! `Ztf::lightcurves`: many light curves, several requests in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::client;
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test]
async fn lightcurves_returns_each_oid_once_and_keeps_going_past_a_failure() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let mut mocks = Vec::new();
    for i in 0..6 {
        let oid = format!("ZTF20aaaa{i:03}");
        let m = server
            .mock_async(|when, then| {
                when.method(GET).path(format!("/ztf/v1/objects/{oid}/lightcurve"));
                then.status(200).json_body(json!({
                    "detections": (0..=i).map(|k| json!({"mjd": 59000.0 + k as f64, "candid": k.to_string(), "fid": 1, "magpsf": 18.0})).collect::<Vec<_>>(),
                    "non_detections": [],
                }));
            })
            .await;
        mocks.push(m);
    }
    let bad = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/ZTF20bad/lightcurve");
            then.status(400).json_body(json!({"detail": "bad oid"}));
        })
        .await;
    let mut oids: Vec<String> = (0..6).map(|i| format!("ZTF20aaaa{i:03}")).collect();
    oids.insert(3, "ZTF20bad".into());
    let got: BTreeMap<String, _> = c.ztf().lightcurves(oids.clone(), 3).collect::<Vec<_>>().await.into_iter().collect();
    assert_eq!(got.len(), 7);
    for (i, oid) in oids.iter().filter(|o| *o != "ZTF20bad").enumerate() {
        let lc = got[oid].as_ref().unwrap();
        assert_eq!(lc.detections.len(), i + 1, "{oid}");
    }
    assert!(got["ZTF20bad"].is_err());
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
    bad.assert_calls_async(1).await;
}

#[tokio::test]
async fn lightcurves_with_zero_concurrency_still_runs_and_empty_input_is_empty() {
    let server = MockServer::start_async().await;
    let (c, _) = client(&server);
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/ZTF1/lightcurve");
            then.status(200)
                .json_body(json!({"detections": [], "non_detections": [{"mjd": 1.0, "fid": 2, "diffmaglim": 20.0}]}));
        })
        .await;
    let got: Vec<_> = c.ztf().lightcurves(["ZTF1"], 0).collect().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.as_ref().unwrap().non_detections.len(), 1);
    m.assert_calls_async(1).await;
    let none: Vec<_> = c.ztf().lightcurves(Vec::<String>::new(), 8).collect().await;
    assert!(none.is_empty());
}
