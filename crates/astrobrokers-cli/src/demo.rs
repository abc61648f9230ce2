//! `astrobrokers demo` (the sandbox, one transient named by TNS through every service, a table,
//! a CSV and a PNG) and `astrobrokers sandbox` (the emulators standalone).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use astrobrokers::core::{Lightcurve, SkyPosition};
use astrobrokers::cross::{CrossBroker, CrossLightcurve, LightcurveSource, Target};
use astrobrokers::fink::Survey;
use astrobrokers::sources::{AlerceZtf, AtlasSource, FinkSource, ForcedPhotSource, LasairSource, SkyPortalSource};
use broker_sandbox::{QueueConfig, Sandbox};
use serde_json::{Value, json};

use crate::Global;
use crate::ctx::{self, Endpoints};
use crate::output::{self, Format, LIGHTCURVE_COLUMNS};
use crate::plot::{self, YAxis};

/// Options of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to write demo-lightcurve.csv and demo-lightcurve.png (default: the current directory).
    #[arg(long, default_value = ".")]
    pub output_dir: PathBuf,
    /// The sandbox's random seed (another seed, another sky).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Options of `sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// The sandbox's random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Serve on six ports from this one (ALeRCE, ATLAS, SkyPortal, forced photometry, Fink, TNS; Lasair on a free port); default: free ports.
    #[arg(long)]
    pub port_base: Option<u16>,
    /// How many synthetic objects in the sky.
    #[arg(long, default_value_t = 200)]
    pub objects: usize,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub seconds: Option<u64>,
}

/// A fast simulated queue: a task waits 0.3 s and runs 0.5 s.
fn fast_queue() -> QueueConfig {
    QueueConfig {
        queue_delay: Duration::from_millis(300),
        run_time: Duration::from_millis(500),
        ..QueueConfig::default()
    }
}

/// Light-curve sources for every configured service.
pub fn sources(ep: &Endpoints, g: &Global, forced_label: &str) -> Result<(CrossBroker, Vec<(String, String)>)> {
    let mut cb = CrossBroker::new();
    let mut missing = Vec::new();
    let alerce = AlerceZtf::new(ep.alerce()?);
    cb = cb.with_lightcurve_source(Arc::new(alerce.clone())).with_cone_source(Arc::new(alerce));
    let fink = ep.fink()?;
    for survey in [Survey::Ztf, Survey::Lsst] {
        let f = FinkSource::new(fink.clone(), survey);
        cb = cb.with_lightcurve_source(Arc::new(f.clone())).with_cone_source(Arc::new(f));
    }
    if ep.atlas_configured() {
        let atlas = AtlasSource::new(ep.atlas()?).with_forced_photometry(true);
        cb = cb.with_lightcurve_source(Arc::new(atlas.clone())).with_cone_source(Arc::new(atlas));
    } else {
        missing.push(("atlas".into(), "not configured: set ATLAS_API_TOKEN".into()));
    }
    if ep.skyportal_configured() {
        let sp = SkyPortalSource::new(ep.skyportal()?);
        cb = cb.with_lightcurve_source(Arc::new(sp.clone())).with_cone_source(Arc::new(sp));
    } else {
        missing.push(("skyportal".into(), "not configured: set SKYPORTAL_URL and SKYPORTAL_TOKEN".into()));
    }
    if ep.forcedphot_configured() {
        let fp: Arc<dyn LightcurveSource> =
            Arc::new(ForcedPhotSource::new(ep.forcedphot()?).run_options(queue_progress(g, forced_label)));
        cb = cb.with_lightcurve_source(fp);
    } else {
        missing.push((
            "forcedphot".into(),
            "not configured: set FORCEDPHOT_TOKEN (or FORCEDPHOT_USERNAME and FORCEDPHOT_PASSWORD)".into(),
        ));
    }
    if ep.lasair_configured() {
        let lasair = LasairSource::new(ep.lasair()?).with_forced_photometry(true);
        cb = cb.with_lightcurve_source(Arc::new(lasair.clone())).with_cone_source(Arc::new(lasair));
    } else {
        missing.push(("lasair".into(), "not configured: set LASAIR_TOKEN".into()));
    }
    Ok((cb, missing))
}

/// Run options whose progress shows the task's queue position: a spinner on a terminal, one
/// line per stage otherwise (nothing with `-q`).
pub fn queue_progress(g: &Global, label: &str) -> astrobrokers::forcedphot::RunOptions {
    use astrobrokers::forcedphot::{RunOptions, Stage};
    let pb = ctx::bar(g, None, &format!("{label}: submitting"));
    let draw = ctx::progress_enabled(g);
    let quiet = g.quiet;
    let label = label.to_string();
    RunOptions::new().deadline(Duration::from_secs(3600)).progress(move |p| {
        let what = match &p.stage {
            Stage::Submitted => "submitted".to_string(),
            Stage::Queued { position: Some(n) } => format!("queued (position {n})"),
            Stage::Queued { position: None } => "queued".to_string(),
            Stage::Running => "running".to_string(),
            Stage::Finished => "finished".to_string(),
            Stage::Downloaded { rows } => format!("downloaded {rows} rows"),
            Stage::Deleted => "deleted from the server".to_string(),
        };
        let line = format!("{label}: task {} {what}", p.task_id);
        if draw {
            pb.set_message(line);
            if matches!(p.stage, Stage::Deleted) {
                pb.finish_and_clear();
            }
        } else if !quiet {
            eprintln!("{line}");
        }
    })
}

/// Per-broker summary rows of a merged light curve.
pub fn summary_rows(r: &CrossLightcurve) -> Vec<Value> {
    let mut rows = Vec::new();
    for (broker, _) in &r.served {
        let pts: Vec<_> = r.lightcurve.points.iter().filter(|p| &p.broker == broker).collect();
        let det = pts.iter().filter(|p| p.is_detection()).count();
        let mut bands: Vec<String> = pts.iter().map(|p| p.band.name().to_string()).collect();
        bands.sort();
        bands.dedup();
        let min = pts.iter().map(|p| p.mjd).fold(f64::INFINITY, f64::min);
        let max = pts.iter().map(|p| p.mjd).fold(f64::NEG_INFINITY, f64::max);
        let range = if pts.is_empty() { String::new() } else { format!("{min:.2} – {max:.2}") };
        rows.push(json!({
            "broker": broker, "points": pts.len(), "detections": det, "limits": pts.len() - det,
            "bands": bands.join(" "), "mjd_range": range, "status": "ok",
        }));
    }
    for f in &r.failures {
        rows.push(json!({"broker": f.broker, "points": 0, "detections": 0, "limits": 0, "bands": "", "mjd_range": "",
            "status": format!("failed: {}", f.message)}));
    }
    rows
}

/// Writes the unified CSV.
pub fn write_csv(lc: &Lightcurve, path: &Path) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    output::write_rows(&mut f, &output::lightcurve_rows(lc), Format::Csv, Some(&LIGHTCURVE_COLUMNS))?;
    use std::io::Write;
    f.flush()?;
    Ok(())
}

/// `astrobrokers demo`.
pub async fn demo(g: &Global, args: DemoArgs) -> Result<()> {
    let note = |s: &str| {
        if !g.quiet {
            eprintln!("{s}");
        }
    };
    note(
        "Starting the sandbox: local emulators of ALeRCE, ATLAS, SkyPortal, ATLAS forced photometry, Fink, Lasair and TNS (no network).",
    );
    let sb = Sandbox::builder()
        .seed(args.seed)
        .objects(60)
        .queue(fast_queue())
        .start()
        .await
        .map_err(|e| anyhow!("could not start the sandbox: {e}"))?;
    // A transient with a TNS name that ALeRCE knows (the sandbox sky is the same for a seed).
    let ep = Endpoints::sandbox(&sb);
    let alerce = ep.alerce()?;
    let mut candidates: Vec<_> =
        sb.objects().into_iter().filter(|o| o.transient && o.ztf_oid.is_some() && o.peak_mjd.is_some()).collect();
    candidates.sort_by_key(|o| o.tns_name.is_none());
    // Best: discovered on the rise (the plot shows rise, peak and decline); else any with 10+ detections.
    let (mut best, mut fallback) = (None, None);
    for o in candidates.into_iter().take(25) {
        let oid = o.ztf_oid.clone().unwrap_or_default();
        let peak = o.peak_mjd.unwrap_or_default();
        let Ok(z) = alerce.ztf().object(&oid).await else { continue };
        if z.ndet.unwrap_or(0) < 10 {
            continue;
        }
        if z.firstmjd.is_some_and(|f| f > peak - 40.0 && f < peak - 5.0) {
            best = Some(o);
            break;
        }
        if fallback.is_none() {
            fallback = Some(o);
        }
    }
    let obj = best
        .or(fallback)
        .ok_or_else(|| anyhow!("the sandbox sky has no well-observed ZTF transient (try another --seed)"))?;
    let peak = obj.peak_mjd.unwrap_or_default();
    let ztf = obj.ztf_oid.clone().unwrap_or_default();
    // Its official name, from the TNS emulator (an exact internal-name search for the ZTF id).
    let tns_name = if ep.tns_configured() {
        match ep.tns()?.search_internal_name(&ztf).await {
            Ok(hits) => hits.first().map(|h| format!("{} {}", h.prefix.as_deref().unwrap_or("AT"), h.objname)),
            Err(e) => {
                note(&format!("TNS lookup failed: {e}"));
                None
            }
        }
    } else {
        None
    };
    let name = tns_name.clone().unwrap_or_else(|| ztf.clone());
    note(&format!(
        "Transient: {name}{} ({} at RA {:.5}, Dec {:+.5}); ZTF {ztf}, ATLAS {}, SkyPortal {}",
        if tns_name.is_some() { " (name from TNS)" } else { "" },
        obj.class,
        obj.ra,
        obj.dec,
        obj.atlas_id,
        obj.skyportal_id
    ));
    note("Fetching its light curve from every service at once (forced photometry goes through the queue)…");
    let (cb, _) = sources(&ep, g, "forced photometry")?;
    let mut target = Target::new()
        .ztf(ztf.clone())
        .atlas(obj.atlas_id.to_string())
        .skyportal(obj.skyportal_id.clone())
        .position(SkyPosition::new(obj.ra, obj.dec)?)
        .mjd_range(peak - 40.0, peak + 80.0);
    if let Some(l) = obj.lsst_oid {
        target = target.lsst(l.to_string());
    }
    let r = cb.timeout(Duration::from_secs(300)).lightcurve(&target).await;
    let rows = summary_rows(&r);
    let fmt = g.format.unwrap_or(Format::Table);
    {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        output::write_rows(
            &mut lock,
            &rows,
            fmt,
            Some(&["broker", "points", "detections", "limits", "bands", "mjd_range", "status"]),
        )?;
    }
    if r.lightcurve.is_empty() {
        return Err(anyhow!("no service returned points"));
    }
    let csv = ctx::file_in(&args.output_dir, "demo-lightcurve.csv")?;
    let png = ctx::file_in(&args.output_dir, "demo-lightcurve.png")?;
    write_csv(&r.lightcurve, &csv)?;
    // The plot shows the transient's season (the CSV has every point).
    let (from, to) = (peak - 40.0, peak + 80.0);
    let window =
        Lightcurve::from_points(r.lightcurve.points.iter().filter(|p| (from..=to).contains(&p.mjd)).cloned().collect());
    let title = format!("{name} ({}) — {} services, MJD {from:.0}–{to:.0}", obj.class, r.served.len());
    plot::plot_lightcurve(&window, &title, YAxis::Magnitude, &png, 1200, 750)?;
    note(&format!("Wrote {} ({} rows, unified columns) and {}", csv.display(), r.lightcurve.len(), png.display()));
    sb.shutdown().await;
    if !r.failures.is_empty() {
        return Err(anyhow!(
            "{} service(s) failed: {}",
            r.failures.len(),
            r.failures.iter().map(|f| format!("{}: {}", f.broker, f.message)).collect::<Vec<_>>().join("; ")
        ));
    }
    Ok(())
}

/// `astrobrokers sandbox`: serve the emulators and print how to use them.
pub async fn sandbox(g: &Global, args: SandboxArgs) -> Result<()> {
    let mut b = Sandbox::builder().seed(args.seed).objects(args.objects).queue(fast_queue());
    if let Some(p) = args.port_base {
        if p > u16::MAX - 5 {
            return Err(anyhow!("invalid --port-base {p}: use a port from 1024 to {}", u16::MAX - 5));
        }
        b = b.ports([p, p + 1, p + 2, p + 3]).fink_port(p + 4);
    }
    let sb = b.start().await.map_err(|e| anyhow!("could not start the sandbox: {e}"))?;
    let u = sb.urls();
    let c = sb.credentials();
    let info = json!({
        "ALERCE_URL": u.alerce.api,
        "ATLAS_API_URL": u.atlas,
        "ATLAS_API_TOKEN": c.atlas.token,
        "SKYPORTAL_URL": u.skyportal,
        "SKYPORTAL_TOKEN": c.skyportal.token,
        "FORCEDPHOT_URL": u.forcedphot,
        "FORCEDPHOT_TOKEN": c.forcedphot.token,
        "FORCEDPHOT_USERNAME": c.forcedphot.username,
        "FORCEDPHOT_PASSWORD": c.forcedphot.password,
        "FINK_URL": format!("{}/ztf/", u.fink),
        "FINK_LSST_URL": format!("{}/lsst/", u.fink),
        "LASAIR_URL": u.lasair.ztf,
        "LASAIR_LSST_URL": u.lasair.lsst,
        "LASAIR_TOKEN": c.lasair.ztf_token,
        "LASAIR_LSST_TOKEN": c.lasair.lsst_token,
        "TNS_URL": u.tns,
        "TNS_API_KEY": c.tns.api_key,
        "TNS_BOT_ID": c.tns.bot_id.to_string(),
        "TNS_BOT_NAME": c.tns.bot_name,
    });
    match g.format {
        Some(Format::Json) | Some(Format::Jsonl) => println!("{info}"),
        _ => {
            println!("# The sandbox is running (synthetic data, synthetic credentials). In another shell:");
            if let Value::Object(m) = &info {
                for (k, v) in m {
                    println!("export {k}={}", v.as_str().unwrap_or_default());
                }
            }
            println!("# Some objects (TNS name, ZTF id, ATLAS id, SkyPortal id, RA, Dec, class):");
            for o in sb.objects().iter().filter(|o| o.transient).take(5) {
                println!(
                    "#   {} {} {} {} {:.5} {:+.5} {}",
                    o.tns_name.as_deref().map(|n| format!("\"SN {n}\"")).unwrap_or_else(|| "-".into()),
                    o.ztf_oid.as_deref().unwrap_or("-"),
                    o.atlas_id,
                    o.skyportal_id,
                    o.ra,
                    o.dec,
                    o.class
                );
            }
            println!("# Stop with Ctrl-C.");
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match args.seconds {
        Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    sb.shutdown().await;
    Ok(())
}
