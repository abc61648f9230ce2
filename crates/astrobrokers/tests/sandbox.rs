#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The four clients against the sandbox emulators, through the cross-broker layer: one
//! transient's light curve from every service, merged, with provenance.

#![cfg(all(feature = "alerce", feature = "atlas", feature = "skyportal", feature = "forcedphot"))]

use std::sync::Arc;
use std::time::Duration;

use astrobrokers::core::{Band, SkyPosition};
use astrobrokers::cross::{CrossBroker, Target};
use astrobrokers::sources::{AlerceZtf, AtlasSource, ForcedPhotSource, SkyPortalSource};
use broker_sandbox::{QueueConfig, Sandbox};

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .seed(11)
        .objects(40)
        .queue(QueueConfig {
            queue_delay: Duration::from_millis(50),
            run_time: Duration::from_millis(100),
            ..QueueConfig::default()
        })
        .start()
        .await
        .unwrap()
}

fn cross(sb: &Sandbox) -> CrossBroker {
    let urls = sb.urls();
    let creds = sb.credentials();
    let alerce = astrobrokers::alerce::AlerceClient::builder().host(&urls.alerce.api).build().unwrap();
    // Fast backoff: the fault test makes one service fail every attempt.
    let fast = astrobrokers::core::RetryPolicy::default()
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .max_attempts(3);
    let atlas = astrobrokers::atlas::AtlasClient::builder()
        .base_url(&urls.atlas)
        .retry(fast)
        .token(creds.atlas.token.clone())
        .build()
        .unwrap();
    let skyportal =
        astrobrokers::skyportal::Client::new(urls.skyportal.clone(), creds.skyportal.token.clone()).unwrap();
    let fp = astrobrokers::forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .token(creds.forcedphot.token.clone())
        .poll_intervals(astrobrokers::forcedphot::PollIntervals {
            queued: Duration::from_millis(50),
            running: Duration::from_millis(50),
        })
        .build()
        .unwrap();
    let alerce = AlerceZtf::new(alerce);
    let atlas = AtlasSource::new(atlas).with_forced_photometry(true);
    let skyportal = SkyPortalSource::new(skyportal);
    CrossBroker::new()
        .with_lightcurve_source(Arc::new(alerce.clone()))
        .with_lightcurve_source(Arc::new(atlas.clone()))
        .with_lightcurve_source(Arc::new(skyportal.clone()))
        .with_lightcurve_source(Arc::new(ForcedPhotSource::new(fp)))
        .with_cone_source(Arc::new(alerce))
        .with_cone_source(Arc::new(atlas))
        .with_cone_source(Arc::new(skyportal))
        .timeout(Duration::from_secs(60))
}

#[tokio::test]
async fn one_transient_from_all_four_services() {
    let sb = sandbox().await;
    let obj = sb
        .objects()
        .into_iter()
        .find(|o| o.transient && o.ztf_oid.is_some() && o.peak_mjd.is_some())
        .expect("a ZTF transient in the sandbox sky");
    let peak = obj.peak_mjd.unwrap();
    let target = Target::new()
        .ztf(obj.ztf_oid.clone().unwrap())
        .atlas(obj.atlas_id.to_string())
        .skyportal(obj.skyportal_id.clone())
        .position(SkyPosition::new(obj.ra, obj.dec).unwrap())
        .mjd_range(peak - 40.0, peak + 60.0);
    let r = cross(&sb).lightcurve(&target).await;
    assert!(r.failures.is_empty(), "every service answered: {:?}", r.failures);
    let served: Vec<&str> = r.served.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(served, ["alerce", "atlas", "skyportal", "forcedphot"]);
    for (broker, n) in &r.served {
        assert!(*n > 0, "{broker} gave no points");
    }
    // Ordered by MJD, with provenance on every point.
    assert!(r.lightcurve.points.windows(2).all(|w| w[0].mjd <= w[1].mjd));
    let bands = r.lightcurve.bands();
    assert!(bands.contains(&Band::ZtfG) || bands.contains(&Band::ZtfR), "{bands:?}");
    assert!(bands.contains(&Band::AtlasO) || bands.contains(&Band::AtlasC), "{bands:?}");
    // The same transient everywhere: each service's brightest detection is near the peak.
    for broker in ["alerce", "atlas", "forcedphot"] {
        let brightest = r
            .lightcurve
            .detections()
            .filter(|p| p.broker == broker && p.mag.is_some())
            .min_by(|a, b| a.mag.unwrap().total_cmp(&b.mag.unwrap()))
            .unwrap_or_else(|| panic!("{broker} has detections"));
        assert!((brightest.mjd - peak).abs() < 40.0, "{broker} peaks at {} vs {peak}", brightest.mjd);
    }
    // The forced-photometry task was deleted after download.
    assert_eq!(sb.applied_count(broker_sandbox::Service::ForcedPhot, "DELETE", "/"), 1);
}

#[tokio::test]
async fn cone_fans_out_and_finds_the_object_everywhere() {
    let sb = sandbox().await;
    let obj = sb.objects().into_iter().find(|o| o.ztf_oid.is_some()).unwrap();
    let centre = SkyPosition::new(obj.ra, obj.dec).unwrap();
    let (hits, failures) = cross(&sb).cone(&centre, 5.0).await;
    assert!(failures.is_empty(), "{failures:?}");
    let found = |b: &str, id: &str| hits.iter().any(|h| h.broker == b && h.object_id == id);
    assert!(found("alerce", obj.ztf_oid.as_deref().unwrap()), "{hits:?}");
    assert!(found("atlas", &obj.atlas_id.to_string()), "{hits:?}");
    assert!(found("skyportal", &obj.skyportal_id), "{hits:?}");
}

#[tokio::test]
async fn one_service_down_still_gives_the_others() {
    let sb = sandbox().await;
    sb.set_faults(broker_sandbox::Service::Atlas, broker_sandbox::Faults { error_rate: 1.0, ..Default::default() });
    let obj = sb.objects().into_iter().find(|o| o.ztf_oid.is_some()).unwrap();
    let target = Target::new().ztf(obj.ztf_oid.clone().unwrap()).atlas(obj.atlas_id.to_string());
    let cb = cross(&sb);
    let r = cb.lightcurve(&target).await;
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(r.failures[0].broker, "atlas");
    assert!(r.served.iter().any(|(b, n)| b == "alerce" && *n > 0));
    assert_eq!(r.skipped, vec!["skyportal".to_string(), "forcedphot".to_string()]);
}
