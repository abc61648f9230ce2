//! Our side of the ATLAS benchmarks run by `cargo xtask bench` (build it with `--release`).
//! Each command prints one JSON line with the wall time of every run.
//!
//! ```text
//! bench_atlas bulk <sandbox.json> <n> <chunk> <concurrency> <runs>   # full light curves of n ids
//! bench_atlas fetch <sandbox.json> <out.json>                        # one source, raw bytes
//! bench_atlas parse <source.json> <runs>                             # raw serde_json vs `Source::from_json`
//! bench_atlas transfer <sandbox.json> <n> <chunk> <concurrency> <runs>  # the same requests, bodies discarded
//! bench_atlas decode <sandbox.json> <n> <chunk> <runs>                # the same replies, decoded alone
//! ```
//!
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.
//! `bulk` and `transfer` also report the CPU time (user + system) of this process and of the
//! sandbox process (its `pid` in `<sandbox.json>`) over each run: on a machine whose cores
//! both sides share, their sum over the core count is a floor on the wall time.

use atlas_client::{AtlasClient, AtlasId, Source, SourceOutcome};
use broker_core::ratelimit::{Quota, RateLimiter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

fn client(info: &Value) -> Res<AtlasClient> {
    let url = info["urls"]["atlas"].as_str().ok_or("no ATLAS url")?;
    let token = info["credentials"]["atlas"]["token"].as_str().ok_or("no ATLAS token")?;
    // The bench sandbox has no hourly limit; neither has this client.
    let unlimited = Arc::new(RateLimiter::new(Quota::rate(1.0e6, 1_000_000)));
    Ok(AtlasClient::builder().base_url(url).token(token).rate_limiter(unlimited).build()?)
}

fn ids(info: &Value, n: usize) -> Res<Vec<AtlasId>> {
    let all = info["atlas_ids"].as_array().ok_or("no atlas_ids")?;
    Ok(all.iter().filter_map(Value::as_u64).take(n).map(AtlasId::from_server).collect())
}

async fn bulk(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let chunk: usize = arg(args, 3)?.parse()?;
    let concurrency: usize = arg(args, 4)?.parse()?;
    let runs: usize = arg(args, 5)?.parse()?;
    let ids = ids(&info, n)?;
    let client = client(&info)?;
    let (mut secs, mut found, mut failed, mut points) = (Vec::new(), 0, 0, 0);
    let (mut cpu, mut server_cpu) = (Vec::new(), Vec::new());
    let pid = info["pid"].as_u64();
    for _ in 0..runs {
        let (c0, s0) = (cpu_secs("self"), pid.map(|p| cpu_secs(&p.to_string())));
        let t = Instant::now();
        let results = client.sources(ids.iter().copied()).chunk_size(chunk).concurrency(concurrency).collect().await?;
        secs.push(t.elapsed().as_secs_f64());
        cpu.push(cpu_secs("self") - c0);
        server_cpu.extend(s0.map(|s0| pid.map_or(0.0, |p| cpu_secs(&p.to_string())) - s0));
        (found, failed, points) = (0, 0, 0);
        for r in &results {
            match &r.outcome {
                SourceOutcome::Found(s) => {
                    found += 1;
                    points += s.lc.len() + s.lcnondets.len() + s.fp.len();
                }
                SourceOutcome::NotFound(_) => {}
                SourceOutcome::Failed(_) => failed += 1,
            }
        }
    }
    // All of a run's points stay in memory until the run ends (as in the peer); each run's
    // results are dropped before the next, so the peak is one run's data plus the replies
    // being decoded.
    let (hwm, rss) = memory_kib();
    Ok(json!({"n": ids.len(), "chunk": chunk, "concurrency": concurrency, "secs": secs,
        "found": found, "failed": failed, "points": points, "hwm_kib": hwm, "rss_kib": rss,
        "cpu_secs": cpu, "server_cpu_secs": server_cpu}))
}

/// CPU time (user + system, seconds) used so far by process `pid` (`"self"` for this one),
/// from `/proc/<pid>/stat` (clock ticks of 1/100 s, as Linux reports them to user space);
/// 0 when it cannot be read.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    f.iter().sum::<f64>() / 100.0
}

/// The raw `objects/` replies of `n` ids in chunks of `chunk`, as the client asks for them
/// (a form POST of comma-separated ids), with `concurrency` requests in flight: wall time,
/// bytes, and the CPU time of each side. Nothing is decoded.
async fn transfer(args: &[String]) -> Res<Value> {
    use futures::StreamExt;
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let chunk: usize = arg(args, 3)?.parse()?;
    let concurrency: usize = arg(args, 4)?.parse()?;
    let runs: usize = arg(args, 5)?.parse()?;
    let http = raw_http(&info)?;
    let bodies = chunk_forms(&info, n, chunk)?;
    let pid = info["pid"].as_u64();
    let (mut secs, mut cpu, mut server_cpu, mut bytes) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let (c0, s0) = (cpu_secs("self"), pid.map(|p| cpu_secs(&p.to_string())));
        let t = Instant::now();
        let sizes: Vec<Res<usize>> = futures::stream::iter(bodies.iter().cloned())
            .map(|ids| {
                let http = &http;
                async move {
                    let r = http.execute(broker_core::Request::post("objects/").form("objects", ids)).await?;
                    Ok(r.body.len())
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        secs.push(t.elapsed().as_secs_f64());
        cpu.push(cpu_secs("self") - c0);
        server_cpu.extend(s0.map(|s0| pid.map_or(0.0, |p| cpu_secs(&p.to_string())) - s0));
        bytes = 0;
        for s in sizes {
            bytes += s?;
        }
    }
    Ok(json!({"n": n, "chunk": chunk, "concurrency": concurrency, "secs": secs, "bytes": bytes,
        "cpu_secs": cpu, "server_cpu_secs": server_cpu}))
}

/// The same replies as `transfer`, fetched first, then decoded as the client decodes them
/// (the list cut into its elements, each a `Source`), on one thread: the decoding alone.
async fn decode(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let n: usize = arg(args, 2)?.parse()?;
    let chunk: usize = arg(args, 3)?.parse()?;
    let runs: usize = arg(args, 4)?.parse()?;
    let http = raw_http(&info)?;
    let mut replies = Vec::new();
    for ids in chunk_forms(&info, n, chunk)? {
        replies.push(http.execute(broker_core::Request::post("objects/").form("objects", ids)).await?.body);
    }
    let bytes: usize = replies.iter().map(|r| r.len()).sum();
    let (mut secs, mut points) = (Vec::new(), 0);
    for _ in 0..runs {
        let c0 = cpu_secs("self");
        let t = Instant::now();
        points = 0;
        for body in &replies {
            let list: Vec<&serde_json::value::RawValue> = serde_json::from_slice(body)?;
            for one in list {
                let s = Source::from_json(one.get().as_bytes())?;
                points += s.lc.len() + s.lcnondets.len() + s.fp.len();
            }
        }
        secs.push(t.elapsed().as_secs_f64());
        let _ = cpu_secs("self") - c0;
    }
    Ok(json!({"n": n, "chunk": chunk, "replies": replies.len(), "bytes": bytes, "points": points, "secs": secs}))
}

fn raw_http(info: &Value) -> Res<broker_core::HttpClient> {
    let url = info["urls"]["atlas"].as_str().ok_or("no ATLAS url")?;
    let token = info["credentials"]["atlas"]["token"].as_str().ok_or("no ATLAS token")?;
    Ok(broker_core::HttpClient::builder(url)
        .auth(broker_core::HeaderToken::new("Token", token.to_string()))
        .timeout(std::time::Duration::from_secs(300))
        .build()?)
}

/// The `objects` form values of the bulk read: `n` ids, `chunk` to a request.
fn chunk_forms(info: &Value, n: usize, chunk: usize) -> Res<Vec<String>> {
    let ids = ids(info, n)?;
    Ok(ids.chunks(chunk.max(1)).map(|c| c.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")).collect())
}

async fn fetch(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let url = info["urls"]["atlas"].as_str().ok_or("no ATLAS url")?;
    let token = info["credentials"]["atlas"]["token"].as_str().ok_or("no ATLAS token")?;
    let id = ids(&info, 1)?.into_iter().next().ok_or("no ATLAS id")?;
    let http = broker_core::HttpClient::builder(url)
        .auth(broker_core::HeaderToken::new("Token", token.to_string()))
        .timeout(std::time::Duration::from_secs(300))
        .build()?;
    let resp = http.execute(broker_core::Request::post("objects/").form("objects", id)).await?;
    // The reply is a list with one source; keep that one source object.
    let mut list: Vec<Value> = serde_json::from_slice(&resp.body)?;
    let source = list.pop().ok_or("empty objects/ reply")?;
    let points = source["lc"].as_array().map_or(0, Vec::len)
        + source["lcnondets"].as_array().map_or(0, Vec::len)
        + source["fp"].as_array().map_or(0, Vec::len);
    let bytes = serde_json::to_vec(&source)?;
    std::fs::write(arg(args, 2)?, &bytes)?;
    Ok(json!({"bytes": bytes.len(), "points": points}))
}

/// Peak and current resident memory of this process (KiB), from `/proc/self/status`.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn parse(args: &[String]) -> Res<Value> {
    let bytes = std::fs::read(arg(args, 1)?)?;
    let runs: usize = arg(args, 2)?.parse()?;
    let (mut raw, mut typed) = (Vec::new(), Vec::new());
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let v: Value = serde_json::from_slice(&bytes)?;
        raw.push(t.elapsed().as_secs_f64());
        drop(v);
        let t = Instant::now();
        let s = Source::from_json(&bytes)?;
        typed.push(t.elapsed().as_secs_f64());
        rows = s.lc.len() + s.lcnondets.len() + s.fp.len();
    }
    Ok(json!({"bytes": bytes.len(), "rows": rows, "raw_secs": raw, "typed_secs": typed}))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("bulk") => bulk(&args).await?,
        Some("fetch") => fetch(&args).await?,
        Some("parse") => parse(&args)?,
        Some("transfer") => transfer(&args).await?,
        Some("decode") => decode(&args).await?,
        _ => return Err("usage: bench_atlas bulk|fetch|parse|transfer|decode ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
