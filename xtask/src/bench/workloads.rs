//! Workloads 1-5: ALeRCE light curves, SkyPortal paged listing, ATLAS bulk, SkyPortal rate limit, parsing.

use super::format::{cpu_split, kib_as_mib, mb_s, median, ratio, rows_s, s, secs};
use super::sandbox::{SandboxProc, ours, peer};
use super::{Env, Opts, Row};
use anyhow::Result;
use serde_json::Value;

/// 1. Bulk light curves with 20 ms added latency.
pub(super) fn bulk_lightcurves(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let n = o.size(2000, 200);
    let objects = o.size(3000, 300);
    let sb = SandboxProc::start(env, "lightcurves", &[s("--objects"), s(objects), s("--alerce-latency-ms"), s(20)])?;
    let info: Value = serde_json::from_str(std::fs::read_to_string(&sb.info)?.trim())?;
    let distinct = info["ztf_oids"].as_array().map_or(0, Vec::len);
    let one = ours(env, "bench_alerce", &[s("lightcurves"), sb.info(), s(n), s("1"), s(o.slow_runs)])?;
    let many = ours(env, "bench_alerce", &[s("lightcurves"), sb.info(), s(n), s("8,32,64"), s(o.runs)])?;
    let p = peer(env, &[s("lightcurves"), sb.info(), s(n), s(o.slow_runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let w = format!("1. {n} ZTF light curves, +20 ms/request");
    let mut rows = Vec::new();
    let mut pr = Row::new(&w, "Python `Alerce().query_lightcurve` loop");
    if let Some(m) = peer_med {
        pr.peer = secs(m);
        pr.notes = format!("{:.0} curves/s", n as f64 / m);
    }
    rows.push(pr);
    for res in one["results"].as_array().into_iter().flatten().chain(many["results"].as_array().into_iter().flatten()) {
        let c = res["concurrency"].as_u64().unwrap_or(0);
        let m = median(&res["secs"]);
        let mut row = Row::new(&w, &format!("ours, `ztf().lightcurves(oids, {c})`"));
        if let Some(m) = m {
            row.ours = secs(m);
            row.ratio = ratio(peer_med, Some(m));
            row.notes = format!(
                "{:.0} curves/s, {} ok, {} failed{}",
                n as f64 / m,
                res["ok"],
                res["failed"],
                if c == 32 { "; target ≥ 25x" } else { "" }
            );
        }
        rows.push(row);
    }
    if distinct < n
        && let Some(r) = rows.first_mut()
    {
        r.notes.push_str(&format!(" ({distinct} distinct oids, cycled)"));
    }
    Ok(rows)
}

/// 2. Paged listing of SkyPortal sources, streamed.
pub(super) fn paged_listing(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let extra = o.size(100_000, 10_000);
    let sb = SandboxProc::start(env, "listing", &[s("--objects"), s(300), s("--skyportal-extra"), s(extra)])?;
    let total = extra + 300;
    let w = format!("2. {total} SkyPortal sources, pages of 500");
    let mut times = Vec::new();
    let mut last = Value::Null;
    for _ in 0..o.runs {
        last = ours(env, "bench_skyportal", &[s("stream"), sb.info(), s(500), s("all")])?;
        times.push(last["secs"].clone());
    }
    // The same stream stopped after a tenth of the items: peak memory must not grow with the total.
    let tenth = ours(env, "bench_skyportal", &[s("stream"), sb.info(), s(500), s(total / 10)])?;
    let ours_med = median(&Value::Array(times));
    let mut peer_times = Vec::new();
    let mut peer_last = None;
    for _ in 0..o.runs {
        if let Some(p) = peer(env, &[s("stream"), sb.info(), s(500)]) {
            peer_times.push(p["secs"].clone());
            peer_last = Some(p);
        }
    }
    let peer_med = median(&Value::Array(peer_times));
    let mut row = Row::new(&w, "ours `sources().list().page_size(500).stream()` vs docs script");
    if let Some(m) = ours_med {
        row.ours = secs(m);
    }
    if let Some(m) = peer_med {
        row.peer = secs(m);
    }
    row.ratio = ratio(peer_med, ours_med);
    let mib = |v: &Value| v.as_f64().unwrap_or(0.0) / 1024.0;
    row.notes = format!(
        "{} items; our peak RSS {:.1} MiB for all, {:.1} MiB for the first {} (target < 100 MB, flat){}",
        last["items"],
        mib(&last["hwm_kib"]),
        mib(&tenth["hwm_kib"]),
        total / 10,
        peer_last
            .map(|p| format!("; Python peak RSS {:.0} MiB (it buffers, as the docs do)", mib(&p["hwm_kib"])))
            .unwrap_or_default()
    );
    Ok(vec![row])
}

/// 3. ATLAS bulk: full light curves of many ids.
pub(super) fn atlas_bulk(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let n = o.size(5000, 500);
    let sb = SandboxProc::start(env, "atlas", &[s("--objects"), s(n)])?;
    let w = format!("3. {n} ATLAS ids, full light curves");
    let p = peer(env, &[s("atlas"), sb.info(), s(n), s(o.slow_runs)]);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let mut rows = Vec::new();
    let mut pr = Row::new(&w, "Python `RequestMultipleSourceData(...).chunk_get_response_quiet()` (100 ids/request)");
    if let (Some(m), Some(p)) = (peer_med, &p) {
        pr.peer = secs(m);
        pr.notes = format!(
            "{} sources, {} points; peak RSS {:.0} MiB; {}",
            p["found"],
            p["points"],
            kib_as_mib(&p["hwm_kib"]),
            cpu_split(p)
        );
    }
    rows.push(pr);
    for (chunk, conc) in [(100, 1), (100, 4)] {
        let r = ours(env, "bench_atlas", &[s("bulk"), sb.info(), s(n), s(chunk), s(conc), s(o.slow_runs)])?;
        let m = median(&r["secs"]);
        let mut row = Row::new(&w, &format!("ours `sources(ids).chunk_size({chunk}).concurrency({conc})`"));
        if let Some(m) = m {
            row.ours = secs(m);
            row.ratio = ratio(peer_med, Some(m));
        }
        row.notes = format!(
            "{} found, {} failed, {} points; peak RSS {:.0} MiB; {}",
            r["found"],
            r["failed"],
            r["points"],
            kib_as_mib(&r["hwm_kib"]),
            cpu_split(&r)
        );
        rows.push(row);
    }
    // The bound at 4 in flight: the same requests with the bodies discarded, and the same
    // replies decoded alone.
    let t = ours(env, "bench_atlas", &[s("transfer"), sb.info(), s(n), s(100), s(4), s(o.slow_runs)])?;
    let mut row =
        Row::new(&w, "transfer alone: the same 100-id `objects/` requests, 4 in flight, bodies discarded (reference)");
    if let Some(m) = median(&t["secs"]) {
        row.ours = secs(m);
        row.notes = format!(
            "{:.0} MB, {}; {}",
            t["bytes"].as_f64().unwrap_or(0.0) / 1e6,
            mb_s(t["bytes"].as_f64().unwrap_or(0.0), m),
            cpu_split(&t)
        );
    }
    rows.push(row);
    let d = ours(env, "bench_atlas", &[s("decode"), sb.info(), s(n), s(100), s(o.slow_runs)])?;
    let mut row =
        Row::new(&w, "decoding alone: the same replies, `Source::from_json` per source, 1 thread (reference)");
    if let Some(m) = median(&d["secs"]) {
        row.ours = secs(m);
        row.notes = format!(
            "{} points from {:.0} MB, {}; CPU-bound: one core's worth",
            d["points"],
            d["bytes"].as_f64().unwrap_or(0.0) / 1e6,
            mb_s(d["bytes"].as_f64().unwrap_or(0.0), m)
        );
    }
    rows.push(row);
    Ok(rows)
}

/// 4. Rate-limited throughput against a SkyPortal limited to R requests/s.
pub(super) fn rate_limited(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let rate = if o.quick { 50.0 } else { 20.0 };
    let burst = 10;
    let requests = o.size(400, 100);
    let sb = SandboxProc::start(
        env,
        "ratelimited",
        &[s("--objects"), s(300), s("--skyportal-rate"), s(rate), s("--skyportal-burst"), s(burst)],
    )?;
    let w = format!("4. {requests} SkyPortal GETs, server limit {rate} r/s (burst {burst})");
    let describe = |v: &Value| {
        let secs_v = v["secs"].as_f64().unwrap_or(f64::NAN);
        let sent = v["sent"].as_f64().unwrap_or(0.0);
        let thr = v["throttled"].as_f64().unwrap_or(0.0);
        let achieved = v["requests"].as_f64().unwrap_or(0.0) / secs_v;
        let steady = (v["requests"].as_f64().unwrap_or(0.0) - f64::from(burst)).max(0.0) / secs_v;
        (
            secs_v,
            format!(
                "achieved {achieved:.1} r/s = {:.0}% of R ({:.0}% after the burst); {thr:.0} of {sent:.0} answered 429 ({:.1}%)",
                100.0 * achieved / rate,
                100.0 * steady / rate,
                if sent > 0.0 { 100.0 * thr / sent } else { 0.0 }
            ),
        )
    };
    let r = ours(env, "bench_skyportal", &[s("ratelimited"), sb.info(), s(rate), s(burst), s(requests), s(16)])?;
    let (ours_secs, ours_notes) = describe(&r);
    let mut rows = Vec::new();
    let mut row = Row::new(&w, "ours, client limiter R/s burst 10, 16 in flight");
    row.ours = secs(ours_secs);
    row.notes = format!("{ours_notes}; target ≥ 95%, ≤ 1% 429s");
    if let Some(p) = peer(env, &[s("ratelimited"), sb.info(), s(requests)]) {
        let (ps, pn) = describe(&p);
        let mut pr = Row::new(&w, "Python loop, sleep 1 s on 429 (docs' script)");
        pr.peer = secs(ps);
        pr.notes = pn;
        row.ratio = ratio(Some(ps), Some(ours_secs));
        rows.push(pr);
    }
    rows.push(row);
    Ok(rows)
}

/// 5. Parsing: forced-photometry table, ALeRCE detections JSON, ATLAS source JSON.
pub(super) fn parsing(env: &Env, o: &Opts) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let runs = s(o.runs.max(3));
    // Forced photometry.
    let fp_rows = o.size(1_000_000, 100_000);
    let fp_file = env.work.join(format!("forcedphot-{fp_rows}.txt"));
    if !fp_file.exists() {
        ours(env, "bench_forcedphot", &[s("generate"), fp_file.display().to_string(), s(fp_rows)])?;
    }
    // Sub-second cases on a shared machine: at least 5 runs each side.
    let fp_runs = s(o.runs.max(5));
    let r = ours(env, "bench_forcedphot", &[s("parse"), fp_file.display().to_string(), fp_runs.clone()])?;
    let p = peer(env, &[s("parse-fp"), fp_file.display().to_string(), fp_runs.clone()]);
    let bytes = r["bytes"].as_f64().unwrap_or(0.0);
    let nrows = r["rows"].as_f64().unwrap_or(0.0);
    let threads = r["threads"].as_u64().unwrap_or(1);
    let peer_med = p.as_ref().and_then(|p| median(&p["secs"]));
    let w = format!("5a. forced photometry, {fp_rows} rows ({:.0} MB)", bytes / 1e6);
    let floats_note = format!(
        "bound: `fast-float2` over the {:.1} M numeric fields alone (fields found beforehand), {threads} threads",
        r["numeric_fields"].as_f64().unwrap_or(0.0) / 1e6
    );
    let scan_note = format!("bound: `memchr` count of line feeds, {threads} threads");
    for (case, key, target) in [
        ("ours -> columns (`ResultColumns::parse`)", "columns_secs", "target ≥ 10x pandas"),
        ("ours -> DataFrame (`ResultColumns::parse` + `into_dataframe`)", "frame_secs", "target ≥ 10x pandas"),
        ("ours -> typed rows (`ResultTable::parse`)", "typed_secs", ""),
        ("float parsing alone (reference)", "floats_secs", floats_note.as_str()),
        ("line scan alone (reference)", "scan_secs", scan_note.as_str()),
    ] {
        let Some(m) = median(&r[key]) else { continue };
        let mut row = Row::new(&w, case);
        row.ours = secs(m);
        if let Some(pm) = peer_med {
            row.peer = secs(pm);
        }
        row.ratio = ratio(peer_med, Some(m));
        row.notes = format!(
            "{}, {}{}",
            mb_s(bytes, m),
            rows_s(nrows, m),
            if target.is_empty() { String::new() } else { format!("; {target}") }
        );
        rows.push(row);
    }
    if let Some(pm) = peer_med {
        let mut row = Row::new(&w, "Python `pandas.read_csv(sep=r\"\\s+\")` after stripping `###`");
        row.peer = secs(pm);
        row.notes = format!("{}, {}; median of {fp_runs} runs each side", mb_s(bytes, pm), rows_s(nrows, pm));
        rows.push(row);
    }

    // ALeRCE detections and the ATLAS source, fetched once from a sandbox with long light curves.
    let alerce_n = o.size(100_000, 10_000);
    let atlas_n = o.size(50_000, 5_000);
    let alerce_file = env.work.join(format!("alerce-detections-{alerce_n}.json"));
    let atlas_file = env.work.join(format!("atlas-source-{atlas_n}.json"));
    if !alerce_file.exists() {
        // About half of the epochs are detections.
        let sb =
            SandboxProc::start(env, "parse-alerce", &[s("--objects"), s(3), s("--points-per-lc"), s(alerce_n * 2)])?;
        ours(env, "bench_alerce", &[s("fetch"), sb.info(), alerce_file.display().to_string()])?;
    }
    if !atlas_file.exists() {
        // lc + lcnondets + fp hold about 1.18 points per epoch.
        let sb = SandboxProc::start(
            env,
            "parse-atlas",
            &[s("--objects"), s(3), s("--points-per-lc"), s(atlas_n * 85 / 100)],
        )?;
        ours(env, "bench_atlas", &[s("fetch"), sb.info(), atlas_file.display().to_string()])?;
    }
    for (label, bin, file, frame) in [
        ("5b. ALeRCE detections JSON", "bench_alerce", &alerce_file, true),
        ("5c. ATLAS source JSON", "bench_atlas", &atlas_file, false),
    ] {
        let r = ours(env, bin, &[s("parse"), file.display().to_string(), runs.clone()])?;
        let p = peer(env, &[s("parse-json"), file.display().to_string(), runs.clone(), s(u8::from(frame))]);
        let bytes = r["bytes"].as_f64().unwrap_or(0.0);
        let nrows = r["rows"].as_f64().unwrap_or(0.0);
        let w = format!("{label}, {nrows} rows ({:.1} MB)", bytes / 1e6);
        let raw = median(&r["raw_secs"]);
        let loads = p.as_ref().and_then(|p| median(&p["loads_secs"]));
        let pframe = p.as_ref().and_then(|p| median(&p["frame_secs"]));
        if let Some(m) = raw {
            let mut row = Row::new(&w, "serde_json -> `serde_json::Value` (raw, reference)");
            row.ours = secs(m);
            row.notes = format!("{}, {}", mb_s(bytes, m), rows_s(nrows, m));
            rows.push(row);
        }
        if let Some(m) = median(&r["typed_secs"]) {
            let mut row = Row::new(&w, "ours -> typed rows (client decoding) vs `json.loads`");
            row.ours = secs(m);
            if let Some(l) = loads {
                row.peer = secs(l);
            }
            row.ratio = ratio(loads, Some(m));
            row.notes = format!(
                "{}, {}; {:.2}x the raw serde_json time (target ≤ 2x)",
                mb_s(bytes, m),
                rows_s(nrows, m),
                raw.map_or(f64::NAN, |r| m / r)
            );
            rows.push(row);
        }
        if let Some(m) = median(&r["frame_secs"]) {
            let mut row = Row::new(&w, "ours -> DataFrame vs `pandas.DataFrame(json.loads(..))`");
            row.ours = secs(m);
            if let Some(f) = pframe {
                row.peer = secs(f);
            }
            row.ratio = ratio(pframe, Some(m));
            row.notes = format!("{}, {}", mb_s(bytes, m), rows_s(nrows, m));
            rows.push(row);
        }
    }
    Ok(rows)
}
