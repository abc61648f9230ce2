//! `astrobrokers resolve <query>`: one object's position and its id at every configured
//! service, each with how it was found and a confidence; ambiguous cone matches listed.

use std::sync::Arc;

use anyhow::Result;
use astrobrokers::fink::Survey;
use astrobrokers::resolve::{FoundBy, Resolution, Resolver};
use astrobrokers::sources::{AlerceZtf, AtlasSource, FinkSource, LasairSource, SkyPortalSource};
use clap::Args;
use serde_json::{Value, json};

use crate::Global;
use crate::ctx::{self, Endpoints};
use crate::output::views;

/// Options of `resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// A TNS name (`"SN 2023ixf"`, `2023ixf`), a ZTF id, an LSST diaObjectId, an ATLAS id or
    /// designation, a SkyPortal object id, or a position (`"210.91 54.31"`,
    /// `"14:03:38.6 +54:18:42"`); `ztf:`, `lsst:`, `atlas:`, `tns:`, `skyportal:` force a kind.
    pub query: String,
    /// The cone radius at each broker, in arcseconds.
    #[arg(long, short = 'r', default_value_t = astrobrokers::resolve::DEFAULT_RADIUS_ARCSEC, allow_negative_numbers = true)]
    pub radius: f64,
}

/// A resolver over every configured service: TNS when its key and identity are set, the
/// ALeRCE and ATLAS lookups, and a cone at each cone-search service.
pub fn resolver(ep: &Endpoints, radius_arcsec: f64) -> Result<Resolver> {
    resolver_without(ep, radius_arcsec, &[])
}

/// [`resolver`] without the services named in `skip` (`alerce`, `atlas`, `fink`,
/// `fink-lsst`, `lasair`, `skyportal`: harvest's `--skip`).
pub fn resolver_without(ep: &Endpoints, radius_arcsec: f64, skip: &[String]) -> Result<Resolver> {
    let on = |b: &str| !skip.iter().any(|s| s.trim() == b);
    let mut r = Resolver::new().radius_arcsec(ctx::radius(radius_arcsec)?);
    if on("alerce") {
        let alerce = ep.alerce()?;
        r = r.with_alerce(alerce.clone()).with_cone_source(Arc::new(AlerceZtf::new(alerce)));
    }
    let fink = ep.fink()?;
    for (name, survey) in [("fink", Survey::Ztf), ("fink-lsst", Survey::Lsst)] {
        if on(name) {
            r = r.with_cone_source(Arc::new(FinkSource::new(fink.clone(), survey)));
        }
    }
    if ep.atlas_configured() && on("atlas") {
        let atlas = ep.atlas()?;
        r = r.with_atlas(atlas.clone()).with_cone_source(Arc::new(AtlasSource::new(atlas)));
    }
    if ep.skyportal_configured() && on("skyportal") {
        r = r.with_cone_source(Arc::new(SkyPortalSource::new(ep.skyportal()?)));
    }
    if ep.lasair_configured() && on("lasair") {
        r = r.with_cone_source(Arc::new(LasairSource::new(ep.lasair()?)));
    }
    if ep.tns_configured() {
        r = r.with_tns(ep.tns()?);
    }
    Ok(r)
}

/// Says on standard error where the position came from and which services failed.
pub fn report(g: &Global, res: &Resolution) {
    if g.quiet {
        return;
    }
    match res.position {
        Some(p) => eprintln!("position: RA {:.6} Dec {:+.6}", p.ra(), p.dec()),
        None => eprintln!("position: unknown (forced photometry needs one)"),
    }
    if !res.ambiguous.is_empty() {
        eprintln!(
            "{} ambiguous cone {} listed, not chosen: pick one by its id",
            res.ambiguous.len(),
            if res.ambiguous.len() == 1 { "match" } else { "matches" }
        );
    }
    for f in &res.failures {
        eprintln!("warning: {} failed: {}", f.broker, f.message);
    }
}

/// One row per id found (status `found`) and per ambiguous candidate (status `ambiguous`).
pub fn rows(res: &Resolution) -> Vec<Value> {
    let (ra, dec) = (res.position.map(|p| p.ra()), res.position.map(|p| p.dec()));
    let mut out: Vec<Value> = res
        .ids
        .iter()
        .map(|i| {
            let (broker, how, sep) = match &i.found_by {
                FoundBy::Query => (None, "query".to_string(), None),
                FoundBy::TnsInternalName => (Some("tns".to_string()), "tns_internal_name".to_string(), None),
                FoundBy::Cone { broker, separation_arcsec } => {
                    (Some(broker.clone()), "cone".to_string(), *separation_arcsec)
                }
                FoundBy::CrossReference { broker, field } => {
                    (Some(broker.clone()), format!("cross_reference ({field})"), None)
                }
            };
            json!({
                "status": "found",
                "kind": i.kind,
                "id": i.id,
                "broker": broker,
                "how": how,
                "separation_arcsec": sep,
                "confidence": i.confidence,
                "ra": ra,
                "dec": dec,
            })
        })
        .collect();
    out.extend(res.ambiguous.iter().map(|c| {
        json!({
            "status": "ambiguous",
            "kind": c.kind,
            "id": c.hit.object_id,
            "broker": c.hit.broker,
            "how": "cone",
            "separation_arcsec": c.hit.separation_arcsec,
            "confidence": Value::Null,
            "ra": c.hit.ra,
            "dec": c.hit.dec,
        })
    }));
    out
}

/// `astrobrokers resolve`.
pub async fn run(g: &Global, ep: &Endpoints, a: ResolveArgs) -> Result<()> {
    astrobrokers::resolve::Query::parse(&a.query)?;
    let res = resolver(ep, a.radius)?.resolve(&a.query).await?;
    report(g, &res);
    g.emit_view(&rows(&res), views::RESOLVE)
}

#[cfg(test)]
mod tests {
    use astrobrokers::core::SkyPosition;
    use astrobrokers::cross::ConeHit;
    use astrobrokers::resolve::{BrokerId, Candidate, IdKind, Query};

    use super::*;

    /// Ambiguous cone matches are rows of their own, with no confidence: listed, not chosen.
    #[test]
    fn ambiguous_candidates_are_listed_beside_the_ids() {
        let p = SkyPosition::new(150.0, 2.0).unwrap();
        let hit = |id: &str, sep: f64| Candidate {
            kind: IdKind::Ztf,
            hit: ConeHit {
                broker: "alerce".into(),
                object_id: id.into(),
                ra: Some(150.0),
                dec: Some(2.0),
                separation_arcsec: Some(sep),
            },
        };
        let res = Resolution {
            query: Query::Position(p),
            position: Some(p),
            ids: vec![BrokerId {
                kind: IdKind::Atlas,
                id: "1100000000000000000".into(),
                found_by: FoundBy::Cone { broker: "atlas".into(), separation_arcsec: Some(0.3) },
                confidence: 0.83,
            }],
            ambiguous: vec![hit("ZTF23aaaaaaa", 0.6), hit("ZTF23bbbbbbb", 1.2)],
            failures: vec![],
        };
        let rows = rows(&res);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["status"], "found");
        assert_eq!(rows[0]["how"], "cone");
        assert_eq!(rows[0]["broker"], "atlas");
        assert_eq!(rows[0]["separation_arcsec"], 0.3);
        let amb: Vec<_> = rows.iter().filter(|r| r["status"] == "ambiguous").collect();
        assert_eq!(amb.len(), 2);
        assert!(amb.iter().all(|r| r["confidence"].is_null() && r["kind"] == "ztf"));
        assert_eq!(amb[1]["id"], "ZTF23bbbbbbb");
        assert_eq!(amb[1]["separation_arcsec"], 1.2);
    }
}
