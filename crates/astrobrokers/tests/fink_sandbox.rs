//! fink-client against the sandbox's Fink emulator, end to end, and through the
//! cross-broker adapters.
#![cfg(feature = "fink")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use astrobrokers::core::{PointKind, SkyPosition};
use astrobrokers::cross::{ConeSource, LightcurveSource, Target};
use astrobrokers::fink::{FinkClient, Survey};
use astrobrokers::sources::FinkSource;
use broker_sandbox::Sandbox;
use futures::StreamExt;

#[tokio::test]
async fn fink_client_reads_the_emulator_for_both_surveys() {
    let sb = Sandbox::builder().seed(11).objects(150).start().await.unwrap();
    let fink = FinkClient::builder().host(&sb.urls().fink).build().unwrap();
    let objs = sb.objects();

    // ZTF: a transient with detections and limits, through the unified light curve.
    let mut checked = false;
    for o in objs.iter().filter(|o| o.transient && o.ztf_oid.is_some()) {
        let oid = o.ztf_oid.clone().unwrap();
        let lc = fink.lightcurve(Survey::Ztf, &oid).await.unwrap();
        if lc.detections().count() == 0 {
            continue;
        }
        assert!(lc.limits().count() > 0, "withupperlim rows become limits");
        assert!(lc.points.iter().all(|p| p.broker == "fink" && p.survey == "ztf" && p.object_id == oid));
        assert!(lc.points.windows(2).all(|w| w[0].mjd <= w[1].mjd));
        // The same object through the cross-broker adapter and the cone.
        let src = FinkSource::new(fink.clone(), Survey::Ztf);
        let t = Target::new().ztf(oid.clone());
        assert!(src.applies_to(&t));
        assert_eq!(src.lightcurve(&t).await.unwrap().len(), lc.len());
        let hits = src.cone(&SkyPosition::new(o.ra, o.dec).unwrap(), 5.0).await.unwrap();
        assert!(hits.iter().any(|h| h.object_id == oid), "{hits:?}");
        checked = true;
        break;
    }
    assert!(checked, "the sky has a ZTF transient with detections");

    // LSST: the 64-bit id round trip through the emulator, and the light curve.
    let mut picked = None;
    for o in objs.iter().filter(|o| o.lsst_oid.is_some() && o.transient) {
        let lid = o.lsst_oid.unwrap() as i64;
        let rows = fink.lsst().sources(&[lid]).send().await.unwrap();
        if !rows.is_empty() {
            picked = Some((o, lid, rows));
            break;
        }
    }
    let (l, lid, rows) = picked.unwrap();
    assert!(lid > 1 << 53);
    assert!(rows.iter().all(|r| r.dia_object_id == Some(lid)));
    let objs_rows = fink.lsst().objects(&[lid]).send_objects().await.unwrap();
    assert_eq!(objs_rows[0].dia_object_id, Some(lid));
    let src = FinkSource::new(fink.clone(), Survey::Lsst);
    let lc = src.lightcurve(&Target::new().lsst(lid.to_string())).await.unwrap();
    assert_eq!(lc.len(), rows.len());
    assert!(lc.points.iter().all(|p| p.survey == "lsst" && p.object_id == lid.to_string()));
    assert!(lc.points.iter().any(|p| p.kind == PointKind::Detection));
    let hits = src.cone(&SkyPosition::new(l.ra, l.dec).unwrap(), 5.0).await.unwrap();
    assert!(hits.iter().any(|h| h.object_id == lid.to_string()), "{hits:?}");

    // A 400 from the emulator keeps the Python repr text.
    let err = fink.lsst().tag("nope").send().await.unwrap_err();
    let (status, text) = astrobrokers::fink::error_text(&err).unwrap();
    assert_eq!(status, 400);
    assert!(text.starts_with("nope is not a valid tag"), "{text}");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_tag_stream_walks_the_emulator_to_the_same_rows_as_one_big_request() {
    let sb = Sandbox::builder().seed(11).objects(150).start().await.unwrap();
    let fink = FinkClient::builder().host(&sb.urls().fink).build().unwrap();
    let req = fink.lsst().tag("sandbox_sn_like").since_mjd(60000.0).until_mjd(61000.0);
    let all = req.clone().n(100_000).send().await.unwrap();
    assert!(all.len() > 60, "enough rows to need several windows: {}", all.len());
    let walked: Vec<_> = req.n(25).stream().collect::<Vec<_>>().await.into_iter().map(|r| r.unwrap()).collect();
    let ids = |v: &[astrobrokers::fink::LsstSource]| v.iter().map(|r| r.dia_source_id.unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&walked), ids(&all), "nothing lost or repeated, newest first");
    // The ZTF latests stream over the same emulator, by class.
    let all = fink.ztf().latests("SN candidate").n(100_000).since_mjd(60000.0).until_mjd(61000.0).send().await.unwrap();
    let walked: Vec<_> = fink
        .ztf()
        .latests("SN candidate")
        .n(30)
        .since_mjd(60000.0)
        .until_mjd(61000.0)
        .stream()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|r| r.unwrap().candid.unwrap())
        .collect();
    assert_eq!(walked, all.iter().map(|r| r.candid.unwrap()).collect::<Vec<_>>());
    sb.shutdown().await;
}
