#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Resolution against the sandbox: one transient known to TNS, ALeRCE, ATLAS and SkyPortal
//! under different ids, found from each id, from its TNS name in several spellings and
//! from its position; the alert and forced photometry of one exposure collapsed.

#![cfg(all(feature = "alerce", feature = "atlas", feature = "skyportal", feature = "tns"))]

use std::sync::Arc;

use astrobrokers::core::astro::dedup::{DedupOptions, DedupPolicy};
use astrobrokers::core::{Origin, SkyPosition};
use astrobrokers::cross::CrossBroker;
use astrobrokers::resolve::{FoundBy, IdKind, Resolver};
use astrobrokers::sources::{AlerceZtf, AtlasSource, SkyPortalSource};
use broker_sandbox::{ObjectInfo, Sandbox};

async fn sandbox() -> Sandbox {
    Sandbox::builder().seed(11).objects(40).start().await.unwrap()
}

struct Clients {
    alerce: astrobrokers::alerce::AlerceClient,
    atlas: astrobrokers::atlas::AtlasClient,
    skyportal: astrobrokers::skyportal::Client,
    tns: astrobrokers::tns::TnsClient,
}

fn clients(sb: &Sandbox) -> Clients {
    let urls = sb.urls();
    let creds = sb.credentials();
    Clients {
        alerce: astrobrokers::alerce::AlerceClient::builder().host(&urls.alerce.api).build().unwrap(),
        atlas: astrobrokers::atlas::AtlasClient::builder()
            .base_url(&urls.atlas)
            .token(creds.atlas.token.clone())
            .build()
            .unwrap(),
        skyportal: astrobrokers::skyportal::Client::new(urls.skyportal.clone(), creds.skyportal.token.clone()).unwrap(),
        tns: astrobrokers::tns::TnsClient::builder()
            .url(urls.tns.clone())
            .api_key(creds.tns.api_key.clone())
            .bot(creds.tns.bot_id, creds.tns.bot_name.clone())
            .build()
            .unwrap(),
    }
}

fn resolver(c: &Clients, with_tns: bool) -> Resolver {
    let r = Resolver::new()
        .with_cone_source(Arc::new(AlerceZtf::new(c.alerce.clone())))
        .with_cone_source(Arc::new(AtlasSource::new(c.atlas.clone())))
        .with_cone_source(Arc::new(SkyPortalSource::new(c.skyportal.clone())))
        .with_alerce(c.alerce.clone())
        .with_atlas(c.atlas.clone());
    if with_tns { r.with_tns(c.tns.clone()) } else { r }
}

/// A transient with a TNS name, a ZTF id and an ATLAS id.
fn target(sb: &Sandbox) -> ObjectInfo {
    sb.objects().into_iter().find(|o| o.transient && o.tns_name.is_some() && o.ztf_oid.is_some()).unwrap()
}

#[tokio::test]
async fn one_transient_resolves_from_every_id_name_spelling_and_position() {
    let sb = sandbox().await;
    let c = clients(&sb);
    let o = target(&sb);
    let ztf = o.ztf_oid.clone().unwrap();
    let tns = o.tns_name.clone().unwrap();
    let atlas = o.atlas_id.to_string();
    let sexa = SkyPosition::new(o.ra, o.dec).unwrap();
    let sexa = format!("{} {}", sexa.ra_sexagesimal(), sexa.dec_sexagesimal());
    let queries = vec![
        tns.clone(),
        format!("SN {tns}"),
        format!("AT{tns}"),
        format!("sn{tns}"),
        ztf.clone(),
        atlas.clone(),
        o.atlas_designation.clone(),
        format!("{:.6} {:.6}", o.ra, o.dec),
        sexa,
    ];
    for with_tns in [true, false] {
        let r = resolver(&c, with_tns);
        for q in &queries {
            // Without TNS a bare name or designation has nothing to look it up with.
            if !with_tns && (q.contains(&tns) || q == &o.atlas_designation) {
                continue;
            }
            let res = r.resolve(q).await.unwrap_or_else(|e| panic!("{q} (tns: {with_tns}): {e}"));
            let p = res.position.unwrap_or_else(|| panic!("{q}: no position"));
            assert!(p.separation_arcsec(&SkyPosition::new(o.ra, o.dec).unwrap()) < 2.0, "{q}");
            assert_eq!(res.id(IdKind::Ztf), Some(ztf.as_str()), "{q} (tns: {with_tns}): {res:?}");
            assert_eq!(res.id(IdKind::Atlas), Some(atlas.as_str()), "{q} (tns: {with_tns}): {res:?}");
            assert!(res.id(IdKind::SkyPortal).is_some(), "{q} (tns: {with_tns}): {res:?}");
            if with_tns {
                assert_eq!(res.tns_name(), Some(tns.as_str()), "{q}");
            }
            let t = res.target();
            assert_eq!(t.ztf_oid.as_deref(), Some(ztf.as_str()));
            assert!(res.ids.iter().all(|i| (0.0..=1.0).contains(&i.confidence)));
            // Cone matches say how far.
            for i in &res.ids {
                if let FoundBy::Cone { separation_arcsec, .. } = &i.found_by {
                    assert!(separation_arcsec.unwrap() < 2.0);
                }
            }
        }
    }
}

#[tokio::test]
async fn alert_and_forced_photometry_of_one_exposure_collapse_by_the_rule() {
    let sb = sandbox().await;
    let c = clients(&sb);
    let o = target(&sb);
    let cb = CrossBroker::new()
        .with_lightcurve_source(Arc::new(AlerceZtf::new(c.alerce.clone()).with_forced_photometry(true)));
    let r = resolver(&c, true);
    let (_, out) =
        cb.lightcurve_of(&r, &o.tns_name.clone().unwrap(), &DedupOptions::new(DedupPolicy::KeepForced)).await.unwrap();
    let lc = &out.lightcurve;
    let alerts = lc.points.iter().filter(|p| p.origin == Origin::Alert && p.is_detection()).count();
    let dups = lc.duplicate_count();
    assert!(alerts > 0, "{lc:?}");
    assert!(dups > 0, "the sandbox serves ZTF alerts and forced photometry of the same exposures");
    // Every duplicate points at a kept forced point of the same survey, band and MJD.
    let kept = lc.without_duplicates();
    for d in lc.points.iter().filter(|p| p.is_duplicate()) {
        assert_eq!(d.duplicate_of.as_deref(), Some(format!("alerce/forced/{}", o.ztf_oid.clone().unwrap()).as_str()));
        assert!(
            kept.points.iter().any(|k| k.origin == Origin::Forced && k.band == d.band && (k.mjd - d.mjd).abs() <= 1e-4)
        );
    }
    assert_eq!(kept.len() + dups, lc.len());
    // keep-alert keeps the alerts instead; none keeps all.
    let (_, out) =
        cb.lightcurve_of(&r, &o.tns_name.clone().unwrap(), &DedupOptions::new(DedupPolicy::KeepAlert)).await.unwrap();
    assert!(out.lightcurve.without_duplicates().points.iter().filter(|p| p.origin == Origin::Alert).count() >= alerts);
    let (_, out) =
        cb.lightcurve_of(&r, &o.tns_name.clone().unwrap(), &DedupOptions::new(DedupPolicy::None)).await.unwrap();
    assert_eq!(out.lightcurve.duplicate_count(), 0);
}

/// A harvest input line with a TNS name becomes the object's target (ids and position);
/// prefixed lines are still read without a request; a name nobody knows is an error.
#[cfg(feature = "harvest")]
#[tokio::test]
async fn harvest_inputs_with_tns_names_resolve() {
    use astrobrokers::harvest::{NameResolver, TargetResolver};
    let sb = sandbox().await;
    let c = clients(&sb);
    let o = target(&sb);
    let r = NameResolver::new(resolver(&c, true));
    let tns = o.tns_name.clone().unwrap();
    let t = r.target(&format!("SN {tns}")).await.unwrap();
    assert_eq!(t.ztf_oid.as_deref(), o.ztf_oid.as_deref());
    assert_eq!(t.atlas_id, Some(o.atlas_id.to_string()));
    let p = t.position.unwrap();
    assert!(p.separation_arcsec(&SkyPosition::new(o.ra, o.dec).unwrap()) < 2.0);
    // ExplicitResolver's forms: exactly what the line says.
    let t = r.target("ztf:ZTF18abcdefg pos:150.1 2.2").await.unwrap();
    assert_eq!(t.ztf_oid.as_deref(), Some("ZTF18abcdefg"));
    assert!(t.atlas_id.is_none());
    assert!(r.target("SN 1999zzzzz").await.is_err());
}
