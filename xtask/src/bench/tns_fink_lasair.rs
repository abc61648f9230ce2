//! Workloads 6-8: TNS objects and public-objects CSV, Fink light curves, Lasair objects and cones.

use super::format::{mb_s, median, ratio, rows_s, s, secs};
use super::sandbox::{SandboxProc, ours, peer, sandbox_info};
use super::{Env, Opts, Row};
use anyhow::{Result, bail};
use serde_json::Value;

/// Rows of our side, one per concurrency in `r["results"]`: the median time, the ratio to the
/// peer's, the rate in `unit`/s and what `counts` says about the results.
fn concurrency_rows(
    w: &str,
    case: impl Fn(u64) -> String,
    r: &Value,
    peer_med: Option<f64>,
    n: usize,
    unit: &str,
    counts: impl Fn(&Value) -> String,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for res in r["results"].as_array().into_iter().flatten() {
        let c = res["concurrency"].as_u64().unwrap_or(0);
        let mut row = Row::new(w, &case(c));
        if let Some(m) = median(&res["secs"]) {
            row.ours = secs(m);
            row.ratio = ratio(peer_med, Some(m));
            row.notes = format!("{:.0} {unit}/s; {}", n as f64 / m, counts(res));
        }
        rows.push(row);
    }
    rows
}

/// 6. TNS: `get/object` with photometry (+20 ms, lenient quota); the public-objects CSV.
pub(super) fn tns(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let n = o.size(500, 50);
    let objects = o.size(3000, 300);
    let mut rows = Vec::new();
    let sb = SandboxProc::start(
        env,
        "tns",
        &[s("--objects"), s(objects), s("--tns-latency-ms"), s(20), s("--tns-limit"), s(1_000_000)],
    )?;
    let info = sandbox_info(&sb)?;
    let distinct = info["tns_names"].as_array().map_or(0, Vec::len);
    let w = format!("6a. {n} TNS `get/object` with photometry, +20 ms/request");
    let p = peer(env, &[s("tns-objects"), sb.info(), s(n), s(o.slow_runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let mut pr = Row::new(
        &w,
        "Python `requests.post` loop as the TNS sample scripts (form `api_key` + `data`, `tns_marker` User-Agent, sleep when a `*-remaining` header is 0)",
    );
    if let (Some(m), Some(p)) = (peer_med, &p) {
        pr.peer = secs(m);
        pr.notes = format!("{:.0} objects/s; {} ok, {} photometry points", n as f64 / m, p["ok"], p["points"]);
    }
    if distinct < n {
        pr.notes.push_str(&format!(" ({distinct} distinct names, cycled)"));
    }
    rows.push(pr);
    let one = ours(env, "bench_tns", &[s("objects"), sb.info(), s(n), s("1"), s(o.slow_runs)])?;
    let many = ours(env, "bench_tns", &[s("objects"), sb.info(), s(n), s("8"), s(o.runs)])?;
    for r in [&one, &many] {
        rows.extend(concurrency_rows(
            &w,
            |c| format!("ours, `TnsClient::object` (photometry), {c} in flight, quota headers honoured"),
            r,
            peer_med,
            n,
            "objects",
            |res| format!("{} ok, {} failed, {} photometry points", res["ok"], res["failed"], res["points"]),
        ));
    }
    drop(sb);

    // The public-objects CSV (the real one holds about 150k objects), fetched once through the
    // client from a sandbox large enough, then parsed from memory on both sides.
    let want = o.size(150_000, 15_000);
    let file = env.work.join(format!("tns-public-objects-{want}.csv"));
    if !file.exists() {
        let per_object = distinct as f64 / objects as f64;
        if per_object <= 0.0 {
            bail!("the TNS sandbox has no named objects");
        }
        let sky = (want as f64 / per_object).ceil() as usize;
        let sb = SandboxProc::start(env, "tns-csv", &[s("--objects"), s(sky)])?;
        ours(env, "bench_tns", &[s("fetch"), sb.info(), file.display().to_string()])?;
    }
    let runs = s(o.runs.max(5));
    let r = ours(env, "bench_tns", &[s("parse"), file.display().to_string(), runs.clone()])?;
    let p = peer(env, &[s("tns-csv"), file.display().to_string(), runs.clone()]);
    let bytes = r["bytes"].as_f64().unwrap_or(0.0);
    let nrows = r["rows"].as_f64().unwrap_or(0.0);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let w = format!("6b. TNS public-objects CSV, {nrows} rows ({:.0} MB)", bytes / 1e6);
    for (case, key) in [
        ("ours -> typed rows (`bulk::parse_public_objects`)", "typed_secs"),
        ("ours -> DataFrame (`parse_public_objects` + `frame::public_objects`)", "frame_secs"),
        ("CSV records alone (`bulk::parse_csv_records`, reference)", "records_secs"),
    ] {
        let Some(m) = median(&r[key]) else { continue };
        let mut row = Row::new(&w, case);
        row.ours = secs(m);
        if let Some(pm) = peer_med {
            row.peer = secs(pm);
        }
        row.ratio = ratio(peer_med, Some(m));
        row.notes = format!("{}, {}", mb_s(bytes, m), rows_s(nrows, m));
        rows.push(row);
    }
    if let (Some(pm), Some(p)) = (peer_med, &p) {
        let mut row = Row::new(&w, "Python `pandas.read_csv(skiprows=1)`");
        row.peer = secs(pm);
        row.notes =
            format!("{}, {}; {} rows; median of {runs} runs each side", mb_s(bytes, pm), rows_s(nrows, pm), p["rows"]);
        rows.push(row);
    }
    Ok(rows)
}

/// 7. Fink: ZTF light curves (alerts and upper limits) of N objects, +20 ms/request.
pub(super) fn fink(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let n = o.size(500, 50);
    let sb = SandboxProc::start(env, "fink", &[s("--objects"), s(o.size(3000, 300)), s("--fink-latency-ms"), s(20)])?;
    let distinct = sandbox_info(&sb)?["ztf_oids"].as_array().map_or(0, Vec::len);
    let w = format!("7. {n} Fink ZTF light curves (`objects`, `withupperlim`), +20 ms/request");
    let counts =
        |v: &Value| format!("{} rows ({} detections, {} upper limits)", v["rows"], v["detections"], v["upper_limits"]);
    let mut rows = Vec::new();
    let p = peer(env, &[s("fink"), sb.info(), s(n), s(o.slow_runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let mut pr = Row::new(&w, "Python `requests.post(.../api/v1/objects)` + `pd.read_json` loop (Fink docs)");
    if let (Some(m), Some(p)) = (peer_med, &p) {
        pr.peer = secs(m);
        pr.notes = format!("{:.0} curves/s; {}", n as f64 / m, counts(p));
    }
    if distinct < n {
        pr.notes.push_str(&format!(" ({distinct} distinct oids, cycled)"));
    }
    rows.push(pr);
    let one = ours(env, "bench_fink", &[s("lightcurves"), sb.info(), s(n), s("1"), s(o.slow_runs)])?;
    let many = ours(env, "bench_fink", &[s("lightcurves"), sb.info(), s(n), s("8"), s(o.runs)])?;
    for r in [&one, &many] {
        rows.extend(concurrency_rows(
            &w,
            |c| format!("ours, `ztf().objects([oid]).with_upper_limits(true)`, {c} in flight"),
            r,
            peer_med,
            n,
            "curves",
            |res| format!("{} ok, {} failed, {}", res["ok"], res["failed"], counts(res)),
        ));
    }
    Ok(rows)
}

/// 8. Lasair (ZTF server): N `object/` fetches with their light curves, and N cone searches.
pub(super) fn lasair(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let n = o.size(500, 50);
    // A power user's quota (10,000 calls an hour) on the sandbox's user token.
    let sb = SandboxProc::start(
        env,
        "lasair",
        &[s("--objects"), s(o.size(3000, 300)), s("--lasair-user-calls"), s(10_000)],
    )?;
    let distinct = sandbox_info(&sb)?["ztf_oids"].as_array().map_or(0, Vec::len);
    let w = format!("8a. {n} Lasair ZTF `object/` (light curve + Lasair data)");
    let counts = |v: &Value| format!("{} candidates, {} forced-photometry rows", v["candidates"], v["forcedphot"]);
    let mut rows = Vec::new();
    let p = peer(env, &[s("lasair-objects"), sb.info(), s(n), s(o.slow_runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let mut pr = Row::new(&w, "Python `lasair_client(token, endpoint=..).object(oid)` loop");
    if let (Some(m), Some(p)) = (peer_med, &p) {
        pr.peer = secs(m);
        pr.notes = format!("{:.0} objects/s; {} ok, {}", n as f64 / m, p["ok"], counts(p));
    }
    if distinct < n {
        pr.notes.push_str(&format!(" ({distinct} distinct oids, cycled)"));
    }
    rows.push(pr);
    let one = ours(env, "bench_lasair", &[s("objects"), sb.info(), s(n), s("1"), s(o.slow_runs)])?;
    let many = ours(env, "bench_lasair", &[s("objects"), sb.info(), s(n), s("8"), s(o.runs)])?;
    for r in [&one, &many] {
        rows.extend(concurrency_rows(
            &w,
            |c| format!("ours, `ztf().object(oid, lite, lasair_added)`, {c} in flight"),
            r,
            peer_med,
            n,
            "objects",
            |res| format!("{} ok, {} failed, {}", res["ok"], res["failed"], counts(res)),
        ));
    }
    let w = format!("8b. {n} Lasair ZTF cone searches (5\", `all`), one after another");
    let p = peer(env, &[s("lasair-cone"), sb.info(), s(n), s(o.runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let r = ours(env, "bench_lasair", &[s("cone"), sb.info(), s(n), s(o.runs)])?;
    let m = median(&r["secs"]);
    let mut row = Row::new(&w, "ours `ztf().cone(..)` vs Python `lasair_client(..).cone(ra, dec, 5, 'all')`");
    if let Some(m) = m {
        row.ours = secs(m);
    }
    if let Some(pm) = peer_med {
        row.peer = secs(pm);
    }
    row.ratio = ratio(peer_med, m);
    row.notes = format!(
        "{} cones, {} hits ours{}",
        r["ok"],
        r["hits"],
        p.map(|p| format!("; {} cones, {} hits Python", p["ok"], p["hits"])).unwrap_or_default()
    );
    rows.push(row);
    Ok(rows)
}
