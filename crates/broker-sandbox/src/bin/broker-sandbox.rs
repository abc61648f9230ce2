//! Standalone sandbox: serves every emulator (ALeRCE, ATLAS, SkyPortal, forced photometry, Fink,
//! Lasair, TNS) until interrupted; with `--port-base`, all but Lasair on chosen ports.

use broker_sandbox::{RateLimits, Sandbox, WindowLimit};
use clap::Parser;
use std::time::Duration;

/// Local emulators of ALeRCE, ATLAS, SkyPortal and the ATLAS forced-photometry server.
#[derive(Debug, Parser)]
#[command(name = "broker-sandbox", version)]
struct Args {
    /// First port: ALeRCE on BASE, ATLAS on BASE+1, SkyPortal on BASE+2, forced photometry on
    /// BASE+3, Fink BASE+4, TNS BASE+5 (Lasair on a random free port). Default: random free
    /// ports.
    #[arg(long)]
    port_base: Option<u16>,
    /// Seed of the synthetic sky.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of synthetic objects.
    #[arg(long, default_value_t = 300)]
    objects: usize,
    /// Disable all rate limits.
    #[arg(long)]
    unlimited: bool,
    /// Forced-photometry writes allowed per minute (real: 60).
    #[arg(long)]
    fp_writes_per_min: Option<usize>,
    /// ATLAS requests allowed per hour (real: 100).
    #[arg(long)]
    atlas_per_hour: Option<usize>,
    /// Forced-photometry queue delay in milliseconds (simulated time).
    #[arg(long)]
    queue_delay_ms: Option<u64>,
    /// Forced-photometry run time in milliseconds (simulated time).
    #[arg(long)]
    run_time_ms: Option<u64>,
    /// Serve the current (FastAPI, list-of-attributes) catsHTM format instead of the legacy one.
    #[arg(long)]
    catshtm_current: bool,
    /// Forced-photometry result tables with 20 columns (`PA_DEG` between `mag5sig` and `Sky`).
    #[arg(long)]
    fp_pa_deg: bool,
    /// Print one JSON line with URLs, credentials and a few sample objects instead of text.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut b = Sandbox::builder().seed(args.seed).objects(args.objects);
    if let Some(base) = args.port_base {
        b = b.ports([base, base + 1, base + 2, base + 3]).fink_port(base.saturating_add(4));
    }
    let mut limits = if args.unlimited { RateLimits::unlimited() } else { RateLimits::default() };
    if let Some(n) = args.fp_writes_per_min {
        limits.forcedphot_writes = Some(WindowLimit::new(n, Duration::from_secs(60)));
    }
    if let Some(n) = args.atlas_per_hour {
        limits.atlas_user = Some(WindowLimit::new(n, Duration::from_secs(3600)));
    }
    b = b.limits(limits);
    {
        let cfg = b.config_mut();
        if let Some(ms) = args.queue_delay_ms {
            cfg.queue.queue_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = args.run_time_ms {
            cfg.queue.run_time = Duration::from_millis(ms);
        }
        cfg.forcedphot_pa_deg = args.fp_pa_deg;
        if args.catshtm_current {
            cfg.catshtm_format = broker_sandbox::CatsHtmFormat::Current;
        }
    }
    let sandbox = b.start().await?;
    let objects = sandbox.objects();
    if args.json {
        let sample: Vec<_> = objects.iter().take(20).collect();
        let line = serde_json::json!({
            "urls": sandbox.urls(),
            "credentials": sandbox.credentials(),
            "objects": sample,
        });
        println!("{line}");
    } else {
        let u = sandbox.urls();
        let c = sandbox.credentials();
        println!("broker-sandbox (seed {}, {} synthetic objects)", args.seed, objects.len());
        println!("ALeRCE ZTF API        {}", u.alerce.ztf);
        println!("ALeRCE v2 lightcurve  {}", u.alerce.lightcurve_v2);
        println!("ALeRCE multisurvey    {}", u.alerce.multisurvey);
        println!("ALeRCE LSST stamps    {}", u.alerce.multisurvey_stamps);
        println!("ALeRCE ZTF stamps     {}", u.alerce.ztf_stamps);
        println!("catsHTM               {}", u.alerce.catshtm);
        println!(
            "ATLAS                 {}  token {}  (read-only {}, login {} / {})",
            u.atlas, c.atlas.token, c.atlas.readonly_token, c.atlas.username, c.atlas.password
        );
        println!(
            "SkyPortal             {}  token {}  (view-only {})",
            u.skyportal, c.skyportal.token, c.skyportal.view_only_token
        );
        println!(
            "Forced photometry     {}  token {}  (login {} / {})",
            u.forcedphot, c.forcedphot.token, c.forcedphot.username, c.forcedphot.password
        );
        println!("Fink ZTF / LSST       {}/ztf/  {}/lsst/", u.fink, u.fink);
        println!(
            "Lasair ZTF / LSST     {} {}  tokens {} / {}  (dummy {})",
            u.lasair.ztf, u.lasair.lsst, c.lasair.ztf_token, c.lasair.lsst_token, c.lasair.dummy_token
        );
        println!(
            "TNS                   {}  api key {}  bot {} / {}",
            u.tns, c.tns.api_key, c.tns.bot_id, c.tns.bot_name
        );
        if let Some(o) = objects.iter().find(|o| o.transient && o.ztf_oid.is_some()) {
            println!(
                "example transient     {} / ATLAS {} at ra={:.5} dec={:.5} ({})",
                o.ztf_oid.as_deref().unwrap_or(""),
                o.atlas_id,
                o.ra,
                o.dec,
                o.class
            );
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
