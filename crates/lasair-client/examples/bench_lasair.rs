//! Our side of the Lasair benchmarks run by `cargo xtask bench` (build it with `--release`).
//! Each command prints one JSON line with the wall time of every run.
//!
//! ```text
//! bench_lasair objects <sandbox.json> <n> <concurrency,...> <runs>   # ZTF object/, light curves
//! bench_lasair cone <sandbox.json> <n> <runs>                        # ZTF cone/, 5", all
//! ```
//!
//! `object/` is asked as the Python client asks by default (`lite=True`,
//! `lasair_added=True`). The token is the sandbox's ZTF user token, used as a power user's
//! (10,000 calls an hour: start the sandbox with `--lasair-user-calls 10000`).
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.

use broker_core::SkyPosition;
use futures::StreamExt;
use lasair_client::{ConeRequest, LasairClient, ObjectOptions, UserClass};
use serde_json::{Value, json};
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn client(info: &Value) -> Res<LasairClient> {
    let url = info["urls"]["lasair"]["ztf"].as_str().ok_or("no Lasair url in the sandbox info")?;
    let token = info["credentials"]["lasair"]["ztf_token"].as_str().ok_or("no Lasair token")?;
    Ok(LasairClient::builder().ztf_url(url).ztf_token(token.to_string()).ztf_user_class(UserClass::Power).build()?)
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

async fn objects(args: &[String]) -> Res<Value> {
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
    let lasair = client(&info)?;
    let opts = ObjectOptions { lite: true, lasair_added: true, reliability_threshold: None };
    let mut out = Vec::new();
    for &c in &concurrencies {
        let (mut secs, mut ok, mut failed, mut candidates, mut forced) = (Vec::new(), 0usize, 0usize, 0usize, 0usize);
        for _ in 0..runs {
            let t = Instant::now();
            let ztf = lasair.ztf();
            let mut s = futures::stream::iter(oids.iter().map(|oid| ztf.object(oid, &opts))).buffer_unordered(c.max(1));
            (ok, failed, candidates, forced) = (0, 0, 0, 0);
            while let Some(r) = s.next().await {
                match r {
                    Ok(o) => {
                        ok += 1;
                        candidates += o.candidates.len();
                        forced += o.forcedphot.len();
                    }
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("bench_lasair: {e}");
                        }
                        failed += 1;
                    }
                }
            }
            secs.push(t.elapsed().as_secs_f64());
        }
        out.push(json!({"concurrency": c, "secs": secs, "ok": ok, "failed": failed,
            "candidates": candidates, "forcedphot": forced}));
    }
    Ok(json!({"workload": "lasair-objects", "n": n, "results": out}))
}

async fn cone(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let runs: usize = arg(args, 3)?.parse()?;
    let centres: Vec<SkyPosition> = info["ztf_radec"]
        .as_array()
        .ok_or("no ztf_radec")?
        .iter()
        .filter_map(|v| SkyPosition::new(v[0].as_f64()?, v[1].as_f64()?).ok())
        .cycle()
        .take(n)
        .collect();
    let lasair = client(&info)?;
    let (mut secs, mut ok, mut hits) = (Vec::new(), 0usize, 0usize);
    for _ in 0..runs {
        let t = Instant::now();
        (ok, hits) = (0, 0);
        for c in &centres {
            let r = lasair.ztf().cone(c, 5.0, ConeRequest::All).await?;
            ok += 1;
            hits += r.objects.len();
        }
        secs.push(t.elapsed().as_secs_f64());
    }
    Ok(json!({"workload": "lasair-cone", "n": n, "secs": secs, "ok": ok, "hits": hits}))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("objects") => objects(&args).await?,
        Some("cone") => cone(&args).await?,
        _ => return Err("usage: bench_lasair objects|cone ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
