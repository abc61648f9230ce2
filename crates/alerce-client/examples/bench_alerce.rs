//! Our side of the ALeRCE benchmarks run by `cargo xtask bench` (build it with `--release`).
//! Each command prints one JSON line with the wall time of every run.
//!
//! ```text
//! bench_alerce lightcurves <sandbox.json> <n> <concurrency,...> <runs>
//! bench_alerce fetch <sandbox.json> <out.json>      # one object's detections, raw bytes
//! bench_alerce parse <detections.json> <runs>       # raw serde_json vs typed vs DataFrame
//! ```
//!
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.

use alerce_client::AlerceClient;
use alerce_client::ztf::ZtfDetection;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn client(info: &Value) -> Res<AlerceClient> {
    let api = info["urls"]["alerce"]["api"].as_str().ok_or("no ALeRCE url in the sandbox info")?;
    Ok(AlerceClient::builder().host(api).build()?)
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
    let client = client(&info)?;
    let mut out = Vec::new();
    for &c in &concurrencies {
        let (mut secs, mut ok, mut failed, mut points) = (Vec::new(), 0usize, 0usize, 0usize);
        for _ in 0..runs {
            let t = Instant::now();
            let mut s = client.ztf().lightcurves(oids.iter().cloned(), c);
            (ok, failed, points) = (0, 0, 0);
            while let Some((_, r)) = s.next().await {
                match r {
                    Ok(lc) => {
                        ok += 1;
                        points += lc.detections.len() + lc.non_detections.len();
                    }
                    Err(_) => failed += 1,
                }
            }
            secs.push(t.elapsed().as_secs_f64());
        }
        out.push(json!({"concurrency": c, "secs": secs, "ok": ok, "failed": failed, "points": points}));
    }
    Ok(json!({"workload": "lightcurves", "n": n, "results": out}))
}

async fn fetch(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let oid = info["ztf_oids"][0].as_str().ok_or("no ZTF oid")?;
    let ztf = info["urls"]["alerce"]["ztf"].as_str().ok_or("no ZTF url")?;
    let http = broker_core::HttpClient::builder(ztf).timeout(std::time::Duration::from_secs(300)).build()?;
    let resp = http.execute(broker_core::Request::get(format!("objects/{oid}/detections"))).await?;
    std::fs::write(arg(args, 2)?, &resp.body)?;
    let rows: Vec<Value> = serde_json::from_slice(&resp.body)?;
    Ok(json!({"bytes": resp.body.len(), "rows": rows.len()}))
}

fn parse(args: &[String]) -> Res<Value> {
    let bytes = std::fs::read(arg(args, 1)?)?;
    let runs: usize = arg(args, 2)?.parse()?;
    let url = url::Url::parse("http://bench.invalid/detections")?;
    let (mut raw, mut typed) = (Vec::new(), Vec::new());
    let mut frame: Vec<f64> = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let v: Value = serde_json::from_slice(&bytes)?;
        raw.push(t.elapsed().as_secs_f64());
        drop(v);
        // The client's own decoding path: NaN/Infinity tolerance, then serde with field paths.
        let t = Instant::now();
        let dets: Vec<ZtfDetection> = broker_core::http::decode_json_lenient(&bytes, &url)?;
        typed.push(t.elapsed().as_secs_f64());
        rows = dets.len();
        #[cfg(feature = "polars")]
        {
            let t = Instant::now();
            let dets: Vec<ZtfDetection> = broker_core::http::decode_json_lenient(&bytes, &url)?;
            let df = alerce_client::frame::ztf_detections(&dets)?;
            frame.push(t.elapsed().as_secs_f64());
            if df.height() != rows {
                return Err("the DataFrame and the typed rows differ in length".into());
            }
        }
    }
    let _ = &mut frame;
    Ok(json!({"bytes": bytes.len(), "rows": rows, "raw_secs": raw, "typed_secs": typed, "frame_secs": frame}))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("lightcurves") => lightcurves(&args).await?,
        Some("fetch") => fetch(&args).await?,
        Some("parse") => parse(&args)?,
        _ => return Err("usage: bench_alerce lightcurves|fetch|parse ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
