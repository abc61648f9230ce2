//! Our side of the SkyPortal benchmarks run by `cargo xtask bench` (build it with `--release`).
//! Each command prints one JSON line.
//!
//! ```text
//! bench_skyportal stream <sandbox.json> <page_size> <max_items|all>
//!     every source, streamed page by page; wall time and peak RSS (VmHWM)
//! bench_skyportal ratelimited <sandbox.json> <rate> <burst> <requests> <concurrency>
//!     GET /api/sources/{id} as fast as the client-side limiter allows; achieved rate and
//!     the 429s the sandbox logged
//! ```
//!
//! `<sandbox.json>` is the line printed by the `bench_sandbox` example of broker-sandbox.

use broker_core::ratelimit::Quota;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use skyportal_client::{Client, ClientBuilder};
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn info(path: &str) -> Res<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(path)?.lines().next().unwrap_or("{}"))?)
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in KiB.
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

fn builder(info: &Value) -> Res<ClientBuilder> {
    let url = info["urls"]["skyportal"].as_str().ok_or("no SkyPortal url")?;
    let token = info["credentials"]["skyportal"]["token"].as_str().ok_or("no SkyPortal token")?;
    Ok(ClientBuilder::new().base_url(url).token(token.to_string()))
}

async fn stream(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let page_size: u64 = arg(args, 2)?.parse()?;
    let max: Option<usize> = match arg(args, 3)? {
        "all" => None,
        n => Some(n.parse()?),
    };
    let client: Client = builder(&info)?.no_rate_limit().build()?;
    let (hwm_before, rss_before) = memory_kib();
    let t = Instant::now();
    let mut s = client.sources().list().page_size(page_size).stream();
    let mut n = 0usize;
    let mut ra_sum = 0.0;
    while let Some(src) = s.try_next().await? {
        n += 1;
        ra_sum += src.ra.unwrap_or(0.0);
        if max.is_some_and(|m| n >= m) {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let (hwm, rss) = memory_kib();
    Ok(json!({
        "items": n, "total": s.total(), "secs": secs, "ra_sum": ra_sum,
        "hwm_kib": hwm, "rss_kib": rss, "hwm_before_kib": hwm_before, "rss_before_kib": rss_before,
    }))
}

async fn ratelimited(args: &[String]) -> Res<Value> {
    let info = info(arg(args, 1)?)?;
    let rate: f64 = arg(args, 2)?.parse()?;
    let burst: u32 = arg(args, 3)?.parse()?;
    let requests: usize = arg(args, 4)?.parse()?;
    let concurrency: usize = arg(args, 5)?.parse()?;
    let ids: Vec<String> = info["skyportal_ids"]
        .as_array()
        .ok_or("no skyportal_ids")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .cycle()
        .take(requests)
        .collect();
    let client: Client = builder(&info)?.rate_limit(Quota::rate(rate, burst)).build()?;
    let base = info["urls"]["skyportal"].as_str().ok_or("no SkyPortal url")?;
    let admin = broker_core::HttpClient::builder(base).build()?;
    let log_path = broker_sandbox_requests_path();
    admin.execute(broker_core::Request::delete(log_path)).await?;
    let t = Instant::now();
    let results: Vec<bool> = futures::stream::iter(ids)
        .map(|id| {
            let client = client.clone();
            async move { client.sources().get(&id).send().await.is_ok() }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let secs = t.elapsed().as_secs_f64();
    let log: Value = admin.json(broker_core::Request::get(log_path).query("service", "skyportal")).await?;
    let statuses: Vec<u64> =
        log["requests"].as_array().map(|a| a.iter().filter_map(|r| r["status"].as_u64()).collect()).unwrap_or_default();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    Ok(json!({
        "requests": requests, "ok": results.iter().filter(|ok| **ok).count(), "secs": secs,
        "sent": statuses.len(), "throttled": throttled, "rate": rate, "burst": burst,
    }))
}

/// The sandbox's request-log path (`broker_sandbox::ADMIN_REQUESTS_PATH`, not a dependency here).
fn broker_sandbox_requests_path() -> &'static str {
    "__sandbox/requests"
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("stream") => stream(&args).await?,
        Some("ratelimited") => ratelimited(&args).await?,
        _ => return Err("usage: bench_skyportal stream|ratelimited ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
