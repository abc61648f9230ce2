//! The Fink emulator: request forms, errors and row shapes as the real server has them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_sandbox::{Sandbox, Service};
use serde_json::{Value, json};

#[tokio::test]
async fn fink_ztf_and_lsst_routes_answer_like_the_server() {
    let sb = Sandbox::builder().seed(7).objects(120).start().await.unwrap();
    let c = reqwest::Client::new();
    let base = sb.urls().fink.clone();
    let objs = sb.objects();
    // The first transient with ZTF detections.
    let mut found = None;
    for o in objs.iter().filter(|o| o.transient && o.ztf_oid.is_some()) {
        let oid = o.ztf_oid.clone().unwrap();
        let rows: Vec<Value> = c
            .post(format!("{base}/ztf/api/v1/objects"))
            .json(&json!({"objectId": oid, "withupperlim": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if rows.iter().any(|r| r["d:tag"] == "valid") {
            found = Some((oid, rows));
            break;
        }
    }
    let (oid, rows) = found.unwrap();
    assert!(rows.iter().any(|r| r["d:tag"] == "valid" && r["i:magpsf"].is_f64()));
    let lim = rows.iter().find(|r| r["d:tag"] == "upperlim").unwrap();
    assert_eq!(lim["i:candid"], json!(-1));
    assert!(lim["i:jd"].is_string());
    // Newest first.
    let jd = |r: &Value| r["i:jd"].as_f64().or_else(|| r["i:jd"].as_str().and_then(|s| s.parse().ok())).unwrap();
    assert!(rows.windows(2).all(|w| jd(&w[0]) >= jd(&w[1])));

    // GET with arguments is the same handler; GET without is the description text.
    let r = c.get(format!("{base}/ztf/api/v1/objects?objectId={oid}&columns=i:jd,i:fid")).send().await.unwrap();
    let v: Vec<Value> = r.json().await.unwrap();
    assert_eq!(v[0].as_object().unwrap().len(), 2);
    let r = c.get(format!("{base}/ztf/api/v1/objects")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("api/v1/objects"));

    // A missing argument and a too-large cone are 400s with a Python repr body.
    let r = c.post(format!("{base}/ztf/api/v1/conesearch")).json(&json!({"ra": 1.0})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().starts_with("{'status': 'error', 'text': 'A value for `dec` is required."));
    let r = c
        .post(format!("{base}/ztf/api/v1/conesearch"))
        .json(&json!({"ra": 1.0, "dec": 1.0, "radius": 18001}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // LSST: 64-bit ids as JSON integers, exactly.
    let l = objs.iter().find(|o| o.lsst_oid.is_some() && o.transient).unwrap();
    let lid = l.lsst_oid.unwrap();
    assert!(lid > 1 << 53);
    let text = c
        .post(format!("{base}/lsst/api/v1/sources"))
        .json(&json!({"diaObjectId": lid.to_string()}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&format!("\"r:diaObjectId\":{lid}")), "{}", &text[..text.len().min(300)]);
    // Tags: GET lists them; an unknown tag is a plain-text 400.
    let tags: Value = c.get(format!("{base}/lsst/api/v1/tags")).send().await.unwrap().json().await.unwrap();
    assert_eq!(tags["sandbox_sn_like"]["API support"], json!(true));
    let r = c.post(format!("{base}/lsst/api/v1/tags")).json(&json!({"tag": "nope"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("nope is not a valid tag"));
    assert!(sb.applied_count(Service::Fink, "POST", "/lsst/api/v1/sources") >= 1);
    sb.shutdown().await;
}
