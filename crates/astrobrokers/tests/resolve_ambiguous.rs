#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! An ambiguous cone: two ALeRCE objects within the radius of a position are listed as
//! candidates, neither is chosen, and the position still makes a target.

#![cfg(feature = "alerce")]

use std::sync::Arc;

use astrobrokers::resolve::{IdKind, Resolver};
use astrobrokers::sources::AlerceZtf;
use httpmock::prelude::*;
use serde_json::json;

fn item(oid: &str, ra: f64, dec: f64) -> serde_json::Value {
    json!({"oid": oid, "ndethist": 12, "ncovhist": 345, "mjdstarthist": 59149.11, "mjdendhist": 59180.2,
        "corrected": false, "stellar": false, "ndet": 10, "firstmjd": 59149.11, "lastmjd": 59180.2,
        "deltajd": 31.09, "meanra": ra, "meandec": dec, "class": null, "classifier": null, "probability": null})
}

#[tokio::test]
async fn two_objects_in_the_cone_are_listed_not_guessed() {
    let server = MockServer::start_async().await;
    // 0.6" and 1.2" north of the centre (150, +2).
    let cone = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/ztf/v1/objects/")
                .query_param_exists("ra")
                .query_param_exists("dec")
                .query_param_exists("radius");
            then.status(200).json_body(json!({"total": 2, "page": 1, "next": null, "has_next": false, "prev": null,
                "has_prev": false, "items": [item("ZTF23aaaaaaa", 150.0, 2.0 + 0.6 / 3600.0),
                                             item("ZTF23bbbbbbb", 150.0, 2.0 + 1.2 / 3600.0)]}));
        })
        .await;
    let alerce = astrobrokers::alerce::AlerceClient::builder().host(&server.base_url()).build().unwrap();
    let r = Resolver::new().with_cone_source(Arc::new(AlerceZtf::new(alerce.clone()))).with_alerce(alerce);
    let res = r.resolve("150.0 2.0").await.unwrap();
    cone.assert_async().await;
    assert_eq!(res.id(IdKind::Ztf), None, "no ZTF id chosen: {res:?}");
    let mut listed: Vec<(&str, f64)> =
        res.ambiguous.iter().map(|c| (c.hit.object_id.as_str(), c.hit.separation_arcsec.unwrap())).collect();
    listed.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(listed.len(), 2, "{res:?}");
    assert_eq!(listed[0].0, "ZTF23aaaaaaa");
    assert!((listed[0].1 - 0.6).abs() < 0.01, "{listed:?}");
    assert_eq!(listed[1].0, "ZTF23bbbbbbb");
    assert!((listed[1].1 - 1.2).abs() < 0.01, "{listed:?}");
    assert!(res.ambiguous.iter().all(|c| c.kind == IdKind::Ztf));
    // The position is still a target (forced photometry), without a ZTF id.
    let t = res.target();
    assert!(t.ztf_oid.is_none());
    assert!(t.position.is_some());

    // Only one in the cone: that one is the id, with its separation.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/ztf/v1/objects/");
            then.status(200).json_body(json!({"total": 1, "page": 1, "next": null, "has_next": false, "prev": null,
                "has_prev": false, "items": [item("ZTF23aaaaaaa", 150.0, 2.0 + 0.6 / 3600.0)]}));
        })
        .await;
    let alerce = astrobrokers::alerce::AlerceClient::builder().host(&server.base_url()).build().unwrap();
    let res = Resolver::new().with_cone_source(Arc::new(AlerceZtf::new(alerce))).resolve("150.0 2.0").await.unwrap();
    assert_eq!(res.id(IdKind::Ztf), Some("ZTF23aaaaaaa"));
    assert!(res.ambiguous.is_empty());
}
