//! A standalone sandbox configured for `cargo xtask bench`: the settings the benchmarks need
//! that the `broker-sandbox` binary has no flag for (added latency, extra SkyPortal sources,
//! a SkyPortal rate limit of R requests per second, light curves of a fixed length, the TNS
//! general quota, the Lasair user-token quota).
//!
//! Prints one JSON line (URLs, credentials, every ZTF oid (with its position), ATLAS id,
//! SkyPortal source id and TNS name of the synthetic sky) and serves until its standard input
//! closes or it is killed.
//!
//! ```text
//! cargo run --release -p broker-sandbox --example bench_sandbox -- --objects 3000 --alerce-latency-ms 20
//! ```

use broker_sandbox::{BucketLimit, Faults, RateLimits, Sandbox, Service, WindowLimit};
use clap::Parser;
use std::time::Duration;

/// A sandbox for the benchmarks.
#[derive(Debug, Parser)]
#[command(name = "bench_sandbox")]
struct Args {
    /// Seed of the synthetic sky.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of synthetic objects.
    #[arg(long, default_value_t = 300)]
    objects: usize,
    /// Added latency before every ALeRCE reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    alerce_latency_ms: u64,
    /// Extra SkyPortal sources (positions only) for paging benchmarks.
    #[arg(long, default_value_t = 0)]
    skyportal_extra: usize,
    /// SkyPortal limit in requests per second (nginx `limit_req`); none when absent.
    #[arg(long)]
    skyportal_rate: Option<f64>,
    /// SkyPortal burst (with `--skyportal-rate`).
    #[arg(long, default_value_t = 10)]
    skyportal_burst: u32,
    /// Every light curve of every survey has exactly this many epochs.
    #[arg(long)]
    points_per_lc: Option<usize>,
    /// Added latency before every Fink reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    fink_latency_ms: u64,
    /// Added latency before every TNS reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    tns_latency_ms: u64,
    /// Added latency before every Lasair reply (both servers), in milliseconds.
    #[arg(long, default_value_t = 0)]
    lasair_latency_ms: u64,
    /// TNS general quota (`x-rate-limit-*`): requests per 60 s window and key. Without it the
    /// emulator's default (90).
    #[arg(long)]
    tns_limit: Option<usize>,
    /// Lasair calls an hour per user token (default 100; 10000 is a power user's).
    #[arg(long, default_value_t = 100)]
    lasair_user_calls: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut limits = RateLimits::unlimited();
    limits.skyportal = args.skyportal_rate.map(|r| BucketLimit { rate_per_sec: r, burst: args.skyportal_burst });
    let mut b = Sandbox::builder().seed(args.seed).objects(args.objects).limits(limits);
    {
        let cfg = b.config_mut();
        cfg.sky.extra_skyportal_sources = args.skyportal_extra;
        cfg.sky.points_per_lightcurve = args.points_per_lc;
        if let Some(n) = args.tns_limit {
            cfg.tns.general = Some(WindowLimit::new(n, Duration::from_secs(60)));
        }
        cfg.lasair_user_calls_per_hour = args.lasair_user_calls;
    }
    for (service, ms) in [
        (Service::Fink, args.fink_latency_ms),
        (Service::Tns, args.tns_latency_ms),
        (Service::Lasair, args.lasair_latency_ms),
    ] {
        if ms > 0 {
            b = b.faults(service, Faults { latency: Duration::from_millis(ms), ..Default::default() });
        }
    }
    if args.alerce_latency_ms > 0 {
        b = b.faults(
            Service::Alerce,
            Faults { latency: Duration::from_millis(args.alerce_latency_ms), ..Default::default() },
        );
    }
    let sandbox = b.start().await?;
    let objects = sandbox.objects();
    let ztf: Vec<&str> = objects.iter().filter_map(|o| o.ztf_oid.as_deref()).collect();
    let ztf_radec: Vec<[f64; 2]> = objects.iter().filter(|o| o.ztf_oid.is_some()).map(|o| [o.ra, o.dec]).collect();
    let tns: Vec<&str> = objects.iter().filter_map(|o| o.tns_name.as_deref()).collect();
    let atlas: Vec<u64> = objects.iter().map(|o| o.atlas_id).collect();
    let skyportal: Vec<&str> = objects.iter().map(|o| o.skyportal_id.as_str()).collect();
    let line = serde_json::json!({
        "urls": sandbox.urls(),
        "credentials": sandbox.credentials(),
        "ztf_oids": ztf,
        "ztf_radec": ztf_radec,
        "tns_names": tns,
        "atlas_ids": atlas,
        "skyportal_ids": skyportal,
        "skyportal_total": objects.len() + args.skyportal_extra,
        // For the benches that read this process's CPU time (`/proc/<pid>/stat`).
        "pid": std::process::id(),
    });
    println!("{line}");
    use std::io::Write;
    std::io::stdout().flush()?;
    // Serve until stdin closes (the xtask holds the pipe) or a signal ends the process.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    });
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    sandbox.shutdown().await;
    Ok(())
}
