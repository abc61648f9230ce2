//! `astrobrokers harvest`: many targets' light curves from every configured service into a
//! resumable Parquet dataset (see `astrobrokers::harvest`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use astrobrokers::harvest::{
    AtlasBatch, Harvest, HarvestOptions, NameResolver, PerTarget, parse_explicit, read_input_lines,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Global;
use crate::ctx::{self, Endpoints};

/// Options of `harvest`.
#[derive(Debug, Args)]
pub struct HarvestArgs {
    /// The dataset directory (created when needed; a run there before is resumed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A file of inputs, one a line (`-`: standard input): `ztf:<id>`, `atlas:<19-digit id>`,
    /// `lsst:<diaObjectId>`, `skyportal:<obj_id>`, a bare ZTF id, or `RA Dec`; several
    /// prefixed items on a line make one target; `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Harvest ALeRCE's ZTF objects of this class (e.g. SNIa), with --since.
    #[arg(long, value_name = "CLASS", requires = "since")]
    pub alerce_class: Option<String>,
    /// The ALeRCE classifier of --alerce-class.
    #[arg(long, default_value = "lc_classifier")]
    pub classifier: String,
    /// With --alerce-class: first detection on or after this MJD or date (YYYY-MM-DD).
    #[arg(long, value_name = "MJD|DATE")]
    pub since: Option<String>,
    /// Harvest the sources saved to this SkyPortal group.
    #[arg(long, value_name = "GROUP_ID")]
    pub skyportal_group: Option<i64>,
    /// Harvest the objects of this ATLAS custom list (its number).
    #[arg(long, value_name = "LIST_ID")]
    pub atlas_list: Option<u32>,
    /// Use cached answers younger than this (`0`: always ask; `90s`, `30m`, `6h`, `2d`).
    #[arg(long, default_value = "1d", value_name = "AGE")]
    pub max_age: String,
    /// Do not keep answers in the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Also run forced photometry at each target's position (one server task per target).
    #[arg(long)]
    pub forced: bool,
    /// Forced photometry: first MJD.
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_min: Option<f64>,
    /// Forced photometry: last MJD.
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_max: Option<f64>,
    /// ATLAS ids per request when the hourly quota allows (grown to fit an hour's quota,
    /// at most 50,000).
    #[arg(long, default_value_t = 1000)]
    pub atlas_chunk: usize,
    /// Services not to ask (e.g. `--skip lasair,fink-lsst` when an hourly quota would make
    /// the harvest too long).
    #[arg(long, value_delimiter = ',', value_name = "BROKER,...")]
    pub skip: Vec<String>,
    /// Print the plan (requests, quotas, least time) and stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// `90s`, `30m`, `6h`, `2d` or a number of seconds.
fn parse_age(s: &str) -> Result<Duration> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 =
        num.trim().parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0).ok_or_else(|| {
            anyhow::anyhow!("invalid --max-age {s:?}: use a number with s, m, h or d (e.g. 6h), or 0")
        })?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => bail!("invalid --max-age {s:?}: the unit is s, m, h or d"),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// An MJD, or a date `YYYY-MM-DD` as the MJD of its midnight (UTC).
fn parse_since(s: &str) -> Result<f64> {
    let t = s.trim();
    if let Ok(m) = t.parse::<f64>() {
        if m.is_finite() && m >= 0.0 {
            return Ok(m);
        }
    }
    let parts: Vec<&str> = t.split('-').collect();
    let bad = || anyhow::anyhow!("invalid --since {s:?}: give an MJD (e.g. 60000) or a date YYYY-MM-DD");
    if parts.len() != 3 {
        return Err(bad());
    }
    let (y, m, d): (i64, i64, i64) = (
        parts[0].parse().map_err(|_| bad())?,
        parts[1].parse().map_err(|_| bad())?,
        parts[2].parse().map_err(|_| bad())?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil), then MJD = days + 40587.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days as f64 + 40587.0)
}

/// `astrobrokers harvest`.
pub async fn run(g: &Global, ep: &Endpoints, a: HarvestArgs) -> Result<()> {
    let max_age = parse_age(&a.max_age)?;
    ctx::mjd_range(a.mjd_min, a.mjd_max)?;
    const BROKERS: [&str; 7] = ["alerce", "atlas", "fink", "fink-lsst", "forcedphot", "lasair", "skyportal"];
    for b in &a.skip {
        if !BROKERS.contains(&b.trim()) {
            bail!("invalid --skip {b:?}: use one or more of {}", BROKERS.join(", "));
        }
    }
    if a.atlas_chunk == 0 || a.atlas_chunk > AtlasBatch::MAX_IDS {
        bail!("invalid --atlas-chunk {}: use 1 to 50000 ids a request", a.atlas_chunk);
    }
    if a.input.is_none() && a.alerce_class.is_none() && a.skyportal_group.is_none() && a.atlas_list.is_none() {
        bail!(
            "nothing to harvest: give --input FILE, --alerce-class CLASS --since DATE, --skyportal-group ID or --atlas-list ID"
        );
    }
    // Waits for an hourly quota are part of a harvest: let the limiters wait up to an hour.
    let mut ep = ep.clone();
    ep.max_wait = ep.max_wait.max(Duration::from_secs(3700));

    let mut inputs: Vec<String> = Vec::new();
    if let Some(path) = &a.input {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("cannot read the inputs from standard input")?
        } else {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
        };
        let lines = read_input_lines(&text);
        // Every line is checked before any request.
        let bad: Vec<String> = lines
            .iter()
            .filter_map(|l| match (parse_explicit(l), astrobrokers::resolve::Query::parse(l)) {
                (Err(_), Err(e)) => Some(format!("invalid input {l:?}: {e}")),
                _ => None,
            })
            .collect();
        if !bad.is_empty() {
            bail!("{} of {} inputs are not valid; the first: {}", bad.len(), lines.len(), bad[0]);
        }
        if lines.is_empty() {
            bail!("{} has no inputs: one name, id or position a line (`#` starts a comment)", path.display());
        }
        inputs.extend(lines);
    }
    if let Some(class) = &a.alerce_class {
        let since = parse_since(a.since.as_deref().unwrap_or_default())?;
        let found = astrobrokers::harvest::alerce_class_since(&ep.alerce()?, &a.classifier, class, since).await?;
        note(g, &format!("ALeRCE: {} objects of class {class} since MJD {since}", found.len()));
        inputs.extend(found);
    }
    if let Some(group) = a.skyportal_group {
        let found = astrobrokers::harvest::skyportal_group(&ep.skyportal()?, group)
            .await
            .map_err(|e| anyhow::anyhow!("SkyPortal group {group}: {e}"))?;
        note(g, &format!("SkyPortal: {} sources in group {group}", found.len()));
        inputs.extend(found);
    }
    if let Some(list) = a.atlas_list {
        let found = astrobrokers::harvest::atlas_custom_list(&ep.atlas()?, list)
            .await
            .map_err(|e| anyhow::anyhow!("ATLAS custom list {list}: {e}"))?;
        note(g, &format!("ATLAS: {} objects on custom list {list}", found.len()));
        inputs.extend(found);
    }

    let (cb, missing) = crate::demo::sources(&ep, g, "forced photometry")?;
    for (b, why) in &missing {
        if b != "forcedphot" || a.forced {
            note(g, &format!("{b} skipped: {why}"));
        }
    }
    // Names, bare ids and positions go through the resolver (TNS when configured, cones at
    // the services not skipped); prefixed lines are read as they are.
    let resolver = crate::resolve_cmd::resolver_without(&ep, astrobrokers::resolve::DEFAULT_RADIUS_ARCSEC, &a.skip)?;
    let mut h = Harvest::new(&a.out).resolver(Arc::new(NameResolver::new(resolver))).options(HarvestOptions {
        max_age,
        cache: !a.no_cache,
        mjd_min: a.mjd_min,
        mjd_max: a.mjd_max,
        ..HarvestOptions::default()
    });
    let skipped = |b: &str| a.skip.iter().any(|s| s.trim() == b);
    if ep.atlas_configured() && !skipped("atlas") {
        h = h
            .source(Arc::new(AtlasBatch::new(ep.atlas()?).with_forced_photometry(true).preferred_chunk(a.atlas_chunk)));
    }
    for s in cb.lightcurve_sources() {
        if s.broker() == "atlas" || skipped(s.broker()) || (s.broker() == "forcedphot" && !a.forced) {
            continue;
        }
        h = h.source(Arc::new(PerTarget::new(s.clone())));
    }

    let pb = ProgressBar::new(0);
    if ctx::progress_enabled(g) {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} harvest [{bar:30}] {pos}/{len} lightcurves ({per_sec}, ETA {eta}) {msg}",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.enable_steady_tick(Duration::from_millis(200));
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    let bar = pb.clone();
    h = h.on_progress(move |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(format!("{} rows, last: {}", p.rows, p.broker));
    });

    let prepared = h.prepare(&inputs).await?;
    for line in prepared.plan().lines() {
        note(g, &line);
    }
    if a.dry_run {
        return Ok(());
    }
    let report = prepared.run().await?;
    pb.finish_and_clear();
    note(
        g,
        &format!(
            "harvest run {}: {} targets: {} done, {} not found, {} failed, {} with no service, {} unresolved; \
             {} rows in {} ({} fetched, {} from the cache)",
            report.run_id,
            report.targets,
            report.done,
            report.not_found,
            report.failed,
            report.no_service,
            report.unresolved.len(),
            report.rows,
            a.out.display(),
            report.this_run.fetched,
            report.this_run.from_cache
        ),
    );
    let json = serde_json::to_value(&report)?;
    g.emit(&[json], None)?;
    if !report.complete {
        bail!(
            "{} targets failed and {} inputs did not resolve (see the report's `failures`): run the same command again to retry them",
            report.failed,
            report.unresolved.len()
        );
    }
    Ok(())
}

fn note(g: &Global, line: &str) {
    if !g.quiet {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_dates() {
        assert_eq!(parse_age("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_age("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("6h").unwrap(), Duration::from_secs(21600));
        assert_eq!(parse_age("2d").unwrap(), Duration::from_secs(172_800));
        assert!(parse_age("-1h").is_err());
        assert!(parse_age("3w").is_err());
        assert_eq!(parse_since("60000").unwrap(), 60000.0);
        assert_eq!(parse_since("2023-02-25").unwrap(), 60000.0);
        assert_eq!(parse_since("1970-01-01").unwrap(), 40587.0);
        assert!(parse_since("2023-13-01").is_err());
        assert!(parse_since("yesterday").is_err());
    }
}
