//! Lasair end to end against the sandbox: the client, the cross-broker adapters.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "lasair")]

use std::sync::Arc;

use astrobrokers::core::{PointKind, SkyPosition};
use astrobrokers::cross::{CrossBroker, Target};
use astrobrokers::lasair::annotate::Annotation;
use astrobrokers::lasair::cone::ConeRequest;
use astrobrokers::lasair::{LasairClient, ObjectOptions, Query};
use astrobrokers::sources::LasairSource;
use broker_sandbox::{RateLimits, Sandbox};

#[tokio::test]
async fn lasair_client_end_to_end_on_the_sandbox() {
    let sb = Sandbox::builder().seed(11).objects(120).limits(RateLimits::unlimited()).start().await.unwrap();
    let (u, k) = (&sb.urls().lasair, &sb.credentials().lasair);
    let c = LasairClient::builder()
        .ztf_url(&u.ztf)
        .lsst_url(&u.lsst)
        .ztf_token(k.ztf_token.clone())
        .lsst_token(k.lsst_token.clone())
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let objs = sb.objects();
    // A transient seen by both surveys with LSST detections (diaSources).
    let mut pick = None;
    for o in objs.iter().filter(|o| o.transient && o.ztf_oid.is_some() && o.lsst_oid.is_some()).take(8) {
        let id = i64::try_from(o.lsst_oid.unwrap()).unwrap();
        if !c.lsst().lightcurve(id).await.unwrap().dia_sources.is_empty() {
            pick = Some(o);
            break;
        }
    }
    let o = pick.expect("a transient with LSST detections");
    let ztf_id = o.ztf_oid.clone().unwrap();
    let lsst_id = i64::try_from(o.lsst_oid.unwrap()).unwrap();
    let pos = SkyPosition::new(o.ra, o.dec).unwrap();

    // Cone on both servers finds it.
    let z = c.ztf().cone(&pos, 3.0, ConeRequest::All).await.unwrap();
    assert_eq!(z.nearest.unwrap().object.to_string(), ztf_id);
    let l = c.lsst().cone(&pos, 3.0, ConeRequest::Nearest).await.unwrap();
    assert_eq!(l.nearest.unwrap().object.as_lsst(), Some(lsst_id));

    // Objects and light curves; the 64-bit id survives the round trip.
    let zo = c.ztf().object(&ztf_id, &ObjectOptions::default()).await.unwrap();
    let zlc = zo.to_lightcurve(false);
    assert!(zlc.detections().count() > 0 && zlc.limits().count() > 0);
    assert!(zlc.points.iter().all(|p| p.survey == "ztf" && p.broker == "lasair"));
    let lo = c.lsst().object(lsst_id, &ObjectOptions::default()).await.unwrap();
    assert_eq!(lo.dia_object_id, lsst_id);
    let llc = c.lsst().lightcurve(lsst_id).await.unwrap().to_lightcurve(true);
    assert!(llc.detections().count() > 0 && llc.limits().count() > 0);
    assert!(llc.points.iter().all(|p| p.object_id == lsst_id.to_string() && p.band.name().starts_with("lsst")));
    let e = c.lsst().object(12345, &ObjectOptions::default()).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");

    // Query stream pages through every LSST object.
    let all =
        c.lsst().query_stream(Query::new("diaObjectId", "objects", "").limit(7)).unwrap().collect_all().await.unwrap();
    let n = objs.iter().filter(|o| o.lsst_oid.is_some()).count();
    assert_eq!(all.len(), n);
    assert!(all.iter().any(|r| r["diaObjectId"].as_i64() == Some(lsst_id)));

    // Sherlock, and an annotation that shows up on the object.
    let s = c.lsst().sherlock_object(lsst_id, true).await.unwrap();
    assert!(s.classification(&lsst_id.to_string()).is_some());
    let a = Annotation::new(k.annotator_topic.clone(), lsst_id, "SN Ia");
    assert_eq!(c.lsst().annotate(&a).await.unwrap().status.as_deref(), Some("success"));
    let lo = c.lsst().object(lsst_id, &ObjectOptions::default()).await.unwrap();
    assert_eq!(lo.lasair_data.unwrap()["annotations"][0]["classification"], "SN Ia");
    // The DRF field errors of a wrong request come back typed.
    let e = c.lsst().annotate(&Annotation::new("nobody_owns_this", lsst_id, "SN")).await.unwrap_err();
    assert!(matches!(e, astrobrokers::lasair::Error::Rejected { .. }), "{e:?}");

    // Cross-broker adapters: one light curve from both servers, a cone from both.
    let src = Arc::new(LasairSource::new(c.clone()));
    let cb = CrossBroker::new().with_lightcurve_source(src.clone()).with_cone_source(src);
    let r = cb.lightcurve(&Target::new().ztf(ztf_id.clone()).lsst(lsst_id.to_string())).await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.served.iter().map(|(b, _)| b.as_str()).collect::<Vec<_>>(), ["lasair"]);
    let surveys: std::collections::BTreeSet<_> = r.lightcurve.points.iter().map(|p| p.survey.clone()).collect();
    assert_eq!(surveys.into_iter().collect::<Vec<_>>(), ["lsst", "ztf"]);
    assert!(r.lightcurve.points.iter().any(|p| p.kind == PointKind::Limit));
    let (hits, failures) = cb.cone(&pos, 3.0).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(hits.iter().any(|h| h.object_id == ztf_id));
    assert!(hits.iter().any(|h| h.object_id == lsst_id.to_string()));

    // A server that refuses the token: the other's data is kept; both refusing fails.
    let half = LasairClient::builder()
        .ztf_url(&u.ztf)
        .lsst_url(&u.lsst)
        .ztf_token(k.ztf_token.clone())
        .lsst_token("not-a-token".to_string())
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let lc = astrobrokers::cross::LightcurveSource::lightcurve(
        &LasairSource::new(half.clone()),
        &Target::new().ztf(ztf_id.clone()).lsst(lsst_id.to_string()),
    )
    .await
    .unwrap();
    assert!(!lc.is_empty() && lc.points.iter().all(|p| p.survey == "ztf"));
    let e = astrobrokers::cross::LightcurveSource::lightcurve(
        &LasairSource::new(half),
        &Target::new().lsst(lsst_id.to_string()),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("LSST server"), "{e}");
}

#[tokio::test]
async fn the_client_quota_matches_the_sandbox_throttle() {
    let sb = Sandbox::builder().seed(12).objects(40).start().await.unwrap();
    let (u, k) = (&sb.urls().lasair, &sb.credentials().lasair);
    let c = LasairClient::builder()
        .ztf_url(&u.ztf)
        .lsst_url(&u.lsst)
        .token(k.dummy_token.clone())
        .user_class(astrobrokers::lasair::UserClass::Dummy)
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let pos = SkyPosition::new(10.0, 10.0).unwrap();
    for _ in 0..10 {
        c.ztf().cone(&pos, 1.0, ConeRequest::Count).await.unwrap();
    }
    // The eleventh is refused client-side (the quota would wait an hour), nothing sent.
    let before = sb.now();
    let e = c.ztf().cone(&pos, 1.0, ConeRequest::Count).await.unwrap_err();
    assert!(matches!(e, astrobrokers::lasair::Error::Core(astrobrokers::core::Error::RateLimited { .. })), "{e:?}");
    assert!(sb.now() - before < std::time::Duration::from_secs(5));
    // Without the client quota the server's 429 (Retry-After ≈ 1 h) comes back typed.
    let raw = LasairClient::builder()
        .ztf_url(&u.ztf)
        .token(k.dummy_token.clone())
        .no_rate_limit()
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let e = raw.ztf().cone(&pos, 1.0, ConeRequest::Count).await.unwrap_err();
    assert_eq!(e.status(), Some(429), "{e:?}");
}
