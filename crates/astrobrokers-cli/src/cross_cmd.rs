//! Cross-broker verbs: `lightcurve` (one transient from every configured service, merged) and
//! `cone` (a cone search fanned out).

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Result, bail};
use astrobrokers::core::astro::dedup::{DedupOptions, DedupPolicy, mark_duplicates};
use astrobrokers::cross::{CrossLightcurve, Target};
use clap::Args;

use crate::ctx::{self, Endpoints};
use crate::output::{UsageError, to_rows};
use crate::{Global, LcOut, PosArgs};

/// Options of `lightcurve`.
#[derive(Debug, Args)]
pub struct LightcurveArgs {
    /// The object: a TNS name (`"SN 2023ixf"`), any broker's id or a position, resolved
    /// first (see `astrobrokers resolve`). Or name the ids with the flags below instead.
    pub query: Option<String>,
    /// Duplicates of one exposure (same survey, band, MJD within 1e-4 d, across sources):
    /// which point stays independent; the others get `duplicate_of` (every point is kept).
    #[arg(long, default_value = "keep-forced", value_parser = DedupPolicy::from_str)]
    pub dedup: DedupPolicy,
    /// Cone radius (arcseconds) when resolving the query.
    #[arg(long, default_value_t = astrobrokers::resolve::DEFAULT_RADIUS_ARCSEC, allow_negative_numbers = true)]
    pub radius: f64,
    /// A ZTF object id (ALeRCE).
    #[arg(long)]
    pub ztf: Option<String>,
    /// An LSST diaObjectId (Fink/LSST, Lasair's LSST server).
    #[arg(long)]
    pub lsst: Option<String>,
    /// A 19-digit ATLAS id (ATLAS Transient Server).
    #[arg(long)]
    pub atlas: Option<String>,
    /// A SkyPortal object id.
    #[arg(long)]
    pub skyportal: Option<String>,
    /// RA of the position (degrees): forced photometry runs there.
    #[arg(long, allow_negative_numbers = true, requires = "dec")]
    pub ra: Option<f64>,
    /// Dec of the position (degrees).
    #[arg(long, allow_negative_numbers = true, requires = "ra")]
    pub dec: Option<f64>,
    /// Forced photometry: first MJD (default: 60 days before --mjd-max).
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_min: Option<f64>,
    /// Forced photometry: last MJD (default: now).
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_max: Option<f64>,
    /// Give up on a service after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    #[command(flatten)]
    pub lc: LcOut,
}

/// Options of `cone`.
#[derive(Debug, Args)]
pub struct ConeArgs {
    #[command(flatten)]
    pub pos: PosArgs,
}

/// `astrobrokers lightcurve`.
pub async fn lightcurve(g: &Global, ep: &Endpoints, a: LightcurveArgs) -> Result<()> {
    let flags = a.ztf.is_some() || a.lsst.is_some() || a.atlas.is_some() || a.skyportal.is_some() || a.ra.is_some();
    ctx::mjd_range(a.mjd_min, a.mjd_max)?;
    a.lc.check()?;
    let t = match (&a.query, flags) {
        (Some(q), true) => {
            return Err(UsageError(format!(
                "give either a query ({q:?}) or the --ztf/--lsst/--atlas/--skyportal/--ra/--dec flags, not both"
            ))
            .into());
        }
        (Some(q), false) => return lightcurve_of(g, ep, &a, q).await,
        (None, _) => flag_target(&a)?,
    };
    if t.is_empty() {
        bail!(
            "nothing to look up: give a name, an id or a position, or at least one of --ztf, --lsst, --atlas, --skyportal, or --ra and --dec"
        );
    }
    let title = a.ztf.clone().or(a.lsst.clone()).or(a.skyportal.clone()).or(a.atlas.clone());
    let (cb, missing) = crate::demo::sources(ep, g, "forced photometry")?;
    warn_missing(g, &missing, &t);
    let mut r = cb.timeout(Duration::from_secs(a.timeout.max(1))).lightcurve(&t).await;
    mark_duplicates(&mut r.lightcurve, &DedupOptions::new(a.dedup));
    emit(g, &a, r, title.as_deref().unwrap_or("light curve"))
}

/// A query (name, id or position): resolved, then fetched from every service that applies,
/// with duplicates marked ([`astrobrokers::CrossBroker::lightcurve_of_within`]).
async fn lightcurve_of(g: &Global, ep: &Endpoints, a: &LightcurveArgs, q: &str) -> Result<()> {
    astrobrokers::resolve::Query::parse(q)?;
    let resolver = crate::resolve_cmd::resolver(ep, a.radius)?;
    let (cb, missing) = crate::demo::sources(ep, g, "forced photometry")?;
    let (res, r) = cb
        .timeout(Duration::from_secs(a.timeout.max(1)))
        .lightcurve_of_within(&resolver, q, a.mjd_min, a.mjd_max, &DedupOptions::new(a.dedup))
        .await?;
    crate::resolve_cmd::report(g, &res);
    if !g.quiet {
        let ids: Vec<&str> = res.ids.iter().map(|i| i.id.as_str()).collect();
        eprintln!("resolved {q:?} to {}", ids.join(", "));
    }
    warn_missing(g, &missing, &res.target());
    emit(g, a, r, q.trim())
}

/// The target named by the flags.
fn flag_target(a: &LightcurveArgs) -> Result<Target> {
    let mut t = Target::new();
    if let Some(z) = a.ztf.as_deref().map(str::trim) {
        if z.is_empty() {
            bail!("invalid --ztf: it is empty; give a ZTF id such as ZTF18abbuksn");
        }
        t = t.ztf(z);
    }
    if let Some(id) = a.lsst.as_deref().map(str::trim) {
        if id.parse::<i64>().is_err() {
            bail!("invalid --lsst {id:?}: give the diaObjectId, a 64-bit integer such as 314003014107006318");
        }
        t = t.lsst(id);
    }
    if let Some(id) = &a.atlas {
        t = t.atlas(astrobrokers::atlas::AtlasId::parse(id)?.to_string());
    }
    if let Some(id) = a.skyportal.as_deref().map(str::trim) {
        if id.is_empty() || id.contains('/') {
            bail!("invalid --skyportal {id:?}: give a SkyPortal object id (no `/`)");
        }
        t = t.skyportal(id);
    }
    if let (Some(ra), Some(dec)) = (a.ra, a.dec) {
        t = t.position(ctx::position(ra, dec)?);
    }
    t.mjd_min = a.mjd_min;
    t.mjd_max = a.mjd_max;
    Ok(t)
}

/// Warns about the unconfigured services that would have applied to `t`.
fn warn_missing(g: &Global, missing: &[(String, String)], t: &Target) {
    let wanted = |b: &str| match b {
        "atlas" => t.atlas_id.is_some(),
        "skyportal" => t.skyportal_id.is_some(),
        "forcedphot" => t.position.is_some(),
        "lasair" => t.ztf_oid.is_some() || t.lsst_oid.is_some(),
        _ => false,
    };
    for (b, why) in missing {
        if wanted(b) && !g.quiet {
            eprintln!("warning: {b} skipped: {why}");
        }
    }
}

/// Reports failures and per-service counts, and prints the (duplicate-marked) light curve.
fn emit(g: &Global, a: &LightcurveArgs, r: CrossLightcurve, title: &str) -> Result<()> {
    for f in &r.failures {
        if !g.quiet {
            eprintln!("warning: {} failed: {}", f.broker, f.message);
        }
    }
    if r.served.is_empty() {
        if r.failures.is_empty() {
            bail!("no configured service can look this target up: see `astrobrokers config show`");
        }
        bail!(
            "every service failed: {}",
            r.failures.iter().map(|f| format!("{}: {}", f.broker, f.message)).collect::<Vec<_>>().join("; ")
        );
    }
    if !g.quiet {
        let served: Vec<String> = r.served.iter().map(|(b, n)| format!("{b} {n}")).collect();
        eprintln!("points per service: {}", served.join(", "));
        let marked = r.lightcurve.points.iter().filter(|p| p.duplicate_of.is_some()).count();
        eprintln!("{marked} of {} points marked duplicate_of another (--dedup {})", r.lightcurve.points.len(), a.dedup);
    }
    a.lc.emit(g, &r.lightcurve, title)
}

/// `astrobrokers cone`.
pub async fn cone(g: &Global, ep: &Endpoints, a: ConeArgs) -> Result<()> {
    let (p, r) = a.pos.get()?;
    let (cb, missing) = crate::demo::sources(ep, g, "forced photometry")?;
    if !g.quiet {
        for (b, why) in missing.iter().filter(|(b, _)| b != "forcedphot") {
            eprintln!("warning: {b} skipped: {why}");
        }
    }
    let (hits, failures) = cb.timeout(Duration::from_secs(120)).cone(&p, r).await;
    for f in &failures {
        if !g.quiet {
            eprintln!("warning: {} failed: {}", f.broker, f.message);
        }
    }
    let rows = to_rows(&hits)?;
    g.emit(&rows, Some(&["broker", "object_id", "separation_arcsec", "ra", "dec"]))?;
    if hits.is_empty() && !failures.is_empty() {
        bail!("every service failed");
    }
    Ok(())
}
