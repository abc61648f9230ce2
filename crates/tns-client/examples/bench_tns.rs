//! Our side of the TNS benchmarks run by `cargo xtask bench` (build it with `--release`).
//! Each command prints one JSON line with the wall time of every run.
//!
//! ```text
//! bench_tns objects <sandbox.json> <n> <concurrency,...> <runs>   # get/object with photometry
//! bench_tns fetch <sandbox.json> <out.csv>      # the staged public-objects CSV, unzipped
//! bench_tns parse <public_objects.csv> <runs>   # CSV records, typed rows, DataFrame
//! ```
//!
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.
//! Only the workload is timed: not the process start, not the reading of the file.

use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Instant;
use tns_client::{ObjectQuery, Staged, TnsClient};

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn client(info: &Value) -> Res<TnsClient> {
    let url = info["urls"]["tns"].as_str().ok_or("no TNS url in the sandbox info")?;
    let c = &info["credentials"]["tns"];
    let key = c["api_key"].as_str().ok_or("no TNS api key")?;
    let bot_id = c["bot_id"].as_u64().ok_or("no TNS bot id")?;
    let bot_name = c["bot_name"].as_str().ok_or("no TNS bot name")?;
    Ok(TnsClient::builder().url(url).api_key(key.to_string()).bot(bot_id, bot_name).build()?)
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

/// `n` names (cycled) looked up with `get/object` and photometry, `c` in flight, for each
/// concurrency `c`. The client honours the quota headers as always.
async fn objects(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let concurrencies: Vec<usize> = arg(args, 3)?.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let runs: usize = arg(args, 4)?.parse()?;
    let names: Vec<String> = info["tns_names"]
        .as_array()
        .ok_or("no tns_names")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .cycle()
        .take(n)
        .collect();
    let queries = names.iter().map(|n| Ok(ObjectQuery::name(n)?.photometry(true))).collect::<Res<Vec<_>>>()?;
    let tns = client(&info)?;
    let mut out = Vec::new();
    for &c in &concurrencies {
        let (mut secs, mut ok, mut failed, mut points) = (Vec::new(), 0usize, 0usize, 0usize);
        for _ in 0..runs {
            let t = Instant::now();
            let mut s = futures::stream::iter(queries.iter().map(|q| tns.object(q))).buffer_unordered(c.max(1));
            (ok, failed, points) = (0, 0, 0);
            while let Some(r) = s.next().await {
                match r {
                    Ok(o) => {
                        ok += 1;
                        points += o.photometry.len();
                    }
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("bench_tns: {e}");
                        }
                        failed += 1;
                    }
                }
            }
            secs.push(t.elapsed().as_secs_f64());
        }
        out.push(json!({"concurrency": c, "secs": secs, "ok": ok, "failed": failed, "points": points}));
    }
    Ok(json!({"workload": "tns-objects", "n": n, "results": out}))
}

/// Downloads the whole-catalogue file through the client and writes the CSV inside.
async fn fetch(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let zip = client(&info)?.download_staged_zip(Staged::Full).await?;
    let text = tns_client::bulk::unzip_csv(&zip)?;
    std::fs::write(arg(args, 2)?, &text)?;
    let rows = tns_client::bulk::parse_public_objects(&text)?.rows.len();
    Ok(json!({"bytes": text.len(), "zip_bytes": zip.len(), "rows": rows}))
}

fn parse(args: &[String]) -> Res<Value> {
    let text = std::fs::read_to_string(arg(args, 1)?)?;
    let runs: usize = arg(args, 2)?.parse()?;
    let (mut records, mut typed) = (Vec::new(), Vec::new());
    let mut frame: Vec<f64> = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        // The CSV tokenizer alone (fields as strings), for reference.
        let t = Instant::now();
        let recs = tns_client::bulk::parse_csv_records(&text)?;
        records.push(t.elapsed().as_secs_f64());
        drop(recs);
        let t = Instant::now();
        let objs = tns_client::bulk::parse_public_objects(&text)?;
        typed.push(t.elapsed().as_secs_f64());
        rows = objs.rows.len();
        drop(objs);
        #[cfg(feature = "polars")]
        {
            let t = Instant::now();
            let objs = tns_client::bulk::parse_public_objects(&text)?;
            let df = tns_client::frame::public_objects(&objs)?;
            frame.push(t.elapsed().as_secs_f64());
            if df.height() != rows {
                return Err("the DataFrame and the typed rows differ in length".into());
            }
        }
    }
    let _ = &mut frame;
    Ok(json!({"bytes": text.len(), "rows": rows, "records_secs": records, "typed_secs": typed, "frame_secs": frame}))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("objects") => objects(&args).await?,
        Some("fetch") => fetch(&args).await?,
        Some("parse") => parse(&args)?,
        _ => return Err("usage: bench_tns objects|fetch|parse ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
