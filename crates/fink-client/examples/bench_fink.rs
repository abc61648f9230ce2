//! Our side of the Fink benchmark run by `cargo xtask bench` (build it with `--release`).
//! Prints one JSON line with the wall time of every run.
//!
//! ```text
//! bench_fink lightcurves <sandbox.json> <n> <concurrency,...> <runs>
//! ```
//!
//! ZTF light curves of `n` objects (the sandbox's ZTF oids, cycled): one `POST
//! api/v1/objects` with `withupperlim` per object, decoded into typed rows, `c` in flight.
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.

use fink_client::FinkClient;
use fink_client::ztf::ZtfRowKind;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

async fn lightcurves(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let concurrencies: Vec<usize> = arg(args, 3)?.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let runs: usize = arg(args, 4)?.parse()?;
    let oids: Vec<String> = info["ztf_oids"]
        .as_array()
        .ok_or("no ztf_oids")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .cycle()
        .take(n)
        .collect();
    let root = info["urls"]["fink"].as_str().ok_or("no Fink url in the sandbox info")?;
    let fink = FinkClient::builder().host(root).build()?;
    let mut out = Vec::new();
    for &c in &concurrencies {
        let (mut secs, mut ok, mut failed, mut rows, mut detections, mut limits) =
            (Vec::new(), 0usize, 0usize, 0usize, 0usize, 0usize);
        for _ in 0..runs {
            let t = Instant::now();
            let ztf = fink.ztf();
            let mut s = futures::stream::iter(oids.iter().map(|oid| {
                let req = ztf.objects([oid.as_str()]).with_upper_limits(true);
                async move { req.send().await }
            }))
            .buffer_unordered(c.max(1));
            (ok, failed, rows, detections, limits) = (0, 0, 0, 0, 0);
            while let Some(r) = s.next().await {
                match r {
                    Ok(alerts) => {
                        ok += 1;
                        rows += alerts.len();
                        for a in &alerts {
                            match a.kind() {
                                Some(ZtfRowKind::Valid) => detections += 1,
                                Some(ZtfRowKind::UpperLimit) => limits += 1,
                                _ => {}
                            }
                        }
                    }
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("bench_fink: {e}");
                        }
                        failed += 1;
                    }
                }
            }
            secs.push(t.elapsed().as_secs_f64());
        }
        out.push(json!({"concurrency": c, "secs": secs, "ok": ok, "failed": failed, "rows": rows,
            "detections": detections, "upper_limits": limits}));
    }
    Ok(json!({"workload": "fink-lightcurves", "n": n, "results": out}))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("lightcurves") => lightcurves(&args).await?,
        _ => return Err("usage: bench_fink lightcurves ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
