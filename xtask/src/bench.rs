//! `cargo xtask bench [--quick] [--runs N] [--no-python] [--only 1,2,..] [--out FILE]`:
//! our clients against the Python clients, side by side, on the same sandbox.
//!
//! 1. Builds the release benchmark programs: `bench_sandbox` (broker-sandbox example: a
//!    sandbox with added latency, extra SkyPortal sources, a SkyPortal rate limit, fixed-length
//!    light curves, a lenient TNS quota, a power user's Lasair quota) and our side of each
//!    workload (`bench_alerce`, `bench_skyportal`, `bench_atlas`, `bench_forcedphot`,
//!    `bench_tns`, `bench_fink`, `bench_lasair`: examples of the client crates, built with
//!    `polars`).
//! 2. Creates (once) the Python virtual environment `target/peer-venv` (override with
//!    `PEER_VENV`; `PEER_SKIP_INSTALL=1` skips pip) with `alerce==2.3.1`,
//!    `atlasapiclient==1.2.0`, `lasair==0.1.4`, `pandas` and `requests`. Without `python3`
//!    the peers are skipped and our side runs alone.
//! 3. For each workload, starts a sandbox configured for it, runs our program and the peer
//!    script (`xtask/bench/peer_bench.py`) against it, and takes the median of the runs.
//! 4. Prints the table and writes it with the machine description to `BENCHMARKS.md` (full
//!    mode) or `target/bench/BENCHMARKS-quick.md` (`--quick`), unless `--out` says otherwise.
//!
//! `--quick` shrinks every workload (about a tenth) and runs each case once: a smoke test of the
//! whole pipeline in a minute or two once the release build is warm.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Benchmark settings from the command line.
#[derive(Debug, Clone)]
struct Opts {
    quick: bool,
    runs: usize,
    /// Runs of the cases that take about a minute each (Python loops, concurrency 1, ATLAS
    /// bulk): 1 unless `--runs` is given.
    slow_runs: usize,
    python: bool,
    only: Option<Vec<u32>>,
    out: Option<PathBuf>,
    polars: bool,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts> {
        let mut o = Opts { quick: false, runs: 3, slow_runs: 1, python: true, only: None, out: None, polars: true };
        let mut runs = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--quick" => o.quick = true,
                "--no-python" => o.python = false,
                "--no-polars" => o.polars = false,
                "--runs" => runs = Some(it.next().context("--runs needs a number")?.parse()?),
                "--only" => {
                    let list = it.next().context("--only needs a list such as 1,5")?;
                    o.only = Some(list.split(',').map(str::parse).collect::<Result<_, _>>()?);
                }
                "--out" => o.out = Some(PathBuf::from(it.next().context("--out needs a path")?)),
                other => bail!(
                    "unknown option {other}; use --quick, --runs N, --no-python, --no-polars, --only 1,2,..., --out FILE"
                ),
            }
        }
        o.runs = runs.unwrap_or(if o.quick { 1 } else { 3 }).max(1);
        o.slow_runs = runs.unwrap_or(1).max(1);
        Ok(o)
    }
    fn wants(&self, w: u32) -> bool {
        self.only.as_ref().is_none_or(|l| l.contains(&w))
    }
    /// `full` in full mode, `quick` with `--quick`.
    fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

/// Paths of the workspace and of the build.
struct Env {
    root: PathBuf,
    target: PathBuf,
    work: PathBuf,
    python: Option<PathBuf>,
}

impl Env {
    fn bin(&self, name: &str) -> PathBuf {
        self.target.join("release").join("examples").join(name)
    }
    fn peer_script(&self) -> PathBuf {
        self.root.join("xtask").join("bench").join("peer_bench.py")
    }
}

/// One line of the results table.
#[derive(Debug, Clone)]
struct Row {
    workload: String,
    case: String,
    ours: String,
    peer: String,
    ratio: String,
    notes: String,
}

impl Row {
    fn new(workload: &str, case: &str) -> Row {
        Row {
            workload: workload.into(),
            case: case.into(),
            ours: "—".into(),
            peer: "—".into(),
            ratio: "—".into(),
            notes: String::new(),
        }
    }
}

/// Runs the benchmarks.
pub fn run(args: &[String]) -> Result<()> {
    let opts = Opts::parse(args)?;
    let started = Instant::now();
    let root = std::env::var("CARGO_MANIFEST_DIR").map(|d| PathBuf::from(d).join("..")).unwrap_or_else(|_| ".".into());
    let root = root.canonicalize().unwrap_or(root);
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let work = target.join("bench");
    std::fs::create_dir_all(&work)?;
    build(&root, &opts)?;
    let python = if opts.python { setup_python(&target) } else { None };
    let env = Env { root: root.clone(), target, work, python };
    if env.python.is_none() {
        eprintln!("note: no Python peers in this run (python3 missing, venv failed or --no-python): our side only");
    }

    let mut rows = Vec::new();
    if opts.wants(1) {
        rows.extend(bulk_lightcurves(&env, &opts)?);
    }
    if opts.wants(2) {
        rows.extend(paged_listing(&env, &opts)?);
    }
    if opts.wants(3) {
        rows.extend(atlas_bulk(&env, &opts)?);
    }
    if opts.wants(4) {
        rows.extend(rate_limited(&env, &opts)?);
    }
    if opts.wants(5) {
        rows.extend(parsing(&env, &opts)?);
    }
    if opts.wants(6) {
        rows.extend(tns(&env, &opts)?);
    }
    if opts.wants(7) {
        rows.extend(fink(&env, &opts)?);
    }
    if opts.wants(8) {
        rows.extend(lasair(&env, &opts)?);
    }

    let table = table(&rows);
    println!("\n{table}");
    let elapsed = started.elapsed().as_secs_f64();
    let out = opts.out.clone().unwrap_or_else(|| {
        if opts.quick { env.work.join("BENCHMARKS-quick.md") } else { env.root.join("BENCHMARKS.md") }
    });
    let doc = document(&env, &opts, &table, elapsed);
    std::fs::write(&out, doc).with_context(|| format!("could not write {}", out.display()))?;
    println!("wrote {} ({elapsed:.0} s in all)", out.display());
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds the sandbox and our benchmark programs in release mode, in one cargo invocation so
/// that features unify once.
fn build(root: &Path, opts: &Opts) -> Result<()> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root).args(["build", "--release", "--quiet"]);
    for p in [
        "broker-sandbox",
        "alerce-client",
        "skyportal-client",
        "atlas-client",
        "fallingstar-forcedphot",
        "tns-client",
        "fink-client",
        "lasair-client",
    ] {
        cmd.args(["-p", p]);
    }
    for e in [
        "bench_sandbox",
        "bench_alerce",
        "bench_skyportal",
        "bench_atlas",
        "bench_forcedphot",
        "bench_tns",
        "bench_fink",
        "bench_lasair",
    ] {
        cmd.args(["--example", e]);
    }
    if opts.polars {
        cmd.args(["--features", "alerce-client/polars,fallingstar-forcedphot/polars,tns-client/polars"]);
    }
    crate::run(&mut cmd)
}

/// The venv's python with the peers installed, or `None` (with the reason printed).
fn setup_python(target: &Path) -> Option<PathBuf> {
    let venv = std::env::var("PEER_VENV").map(PathBuf::from).unwrap_or_else(|_| target.join("peer-venv"));
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().map(|s| s.success());
        if !matches!(ok, Ok(true)) {
            eprintln!("warning: python3 is missing or cannot create a venv at {}", venv.display());
            return None;
        }
    }
    if std::env::var("PEER_SKIP_INSTALL").is_err() {
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args([
            "alerce==2.3.1",
            "atlasapiclient==1.2.0",
            "lasair==0.1.4",
            "pandas",
            "requests",
        ]);
        if let Err(e) = crate::run(&mut pip) {
            eprintln!("warning: could not install the Python peers: {e}");
            return None;
        }
    }
    Some(python)
}

/// A running `bench_sandbox`; stopped on drop.
struct SandboxProc {
    child: Child,
    info: PathBuf,
}

impl SandboxProc {
    fn start(env: &Env, name: &str, args: &[String]) -> Result<SandboxProc> {
        let bin = env.bin("bench_sandbox");
        eprintln!("+ {} {}", bin.display(), args.join(" "));
        let mut child = Command::new(&bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", bin.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("no stdout from the sandbox")?;
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim().is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the sandbox printed nothing");
        }
        let info = env.work.join(format!("sandbox-{name}.json"));
        std::fs::write(&info, &line)?;
        Ok(SandboxProc { child, info })
    }
    fn info(&self) -> String {
        self.info.display().to_string()
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a program that prints one JSON line; returns that line parsed.
fn json_of(cmd: &mut Command) -> Result<Value> {
    eprintln!("+ {cmd:?}");
    let out = cmd.stderr(Stdio::inherit()).output().with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed with {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{')).context("no JSON line in the output")?;
    Ok(serde_json::from_str(line)?)
}

fn ours(env: &Env, bin: &str, args: &[String]) -> Result<Value> {
    json_of(Command::new(env.bin(bin)).args(args))
}

/// The peer's result, or `None` without Python or when the peer fails (the failure is printed).
fn peer(env: &Env, args: &[String]) -> Option<Value> {
    let python = env.python.as_ref()?;
    match json_of(Command::new(python).arg(env.peer_script()).args(args)) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("warning: Python peer failed: {e:#}");
            None
        }
    }
}

fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

/// The median of a JSON array of seconds.
fn median(v: &Value) -> Option<f64> {
    let mut xs: Vec<f64> = v.as_array()?.iter().filter_map(Value::as_f64).collect();
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

fn secs(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.1} s")
    } else if x >= 0.1 {
        format!("{x:.2} s")
    } else {
        format!("{:.1} ms", x * 1e3)
    }
}

fn ratio(peer: Option<f64>, ours: Option<f64>) -> String {
    match (peer, ours) {
        (Some(p), Some(o)) if o > 0.0 => format!("{:.1}x", p / o),
        _ => "—".into(),
    }
}

fn mb_s(bytes: f64, secs: f64) -> String {
    format!("{:.0} MB/s", bytes / secs / 1e6)
}

fn rows_s(rows: f64, secs: f64) -> String {
    let r = rows / secs;
    if r >= 1e6 { format!("{:.1} M rows/s", r / 1e6) } else { format!("{:.0} k rows/s", r / 1e3) }
}

/// 1. Bulk light curves with 20 ms added latency.
fn bulk_lightcurves(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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
fn paged_listing(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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

/// A size in KiB (a JSON number) in MiB; 0 when absent.
fn kib_as_mib(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0) / 1024.0
}

/// 3. ATLAS bulk: full light curves of many ids.
fn atlas_bulk(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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

/// "CPU: client X s + sandbox Y s": the medians of a run's CPU time on each side (from
/// `cpu_secs` / `server_cpu_secs`), and the floor they put on the wall time of 2 cores.
fn cpu_split(r: &Value) -> String {
    match (median(&r["cpu_secs"]), median(&r["server_cpu_secs"])) {
        (Some(c), Some(sv)) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            format!(
                "CPU: client {c:.1} s + sandbox {sv:.1} s = {:.1} s, floor {:.1} s on {cores:.0} cores",
                c + sv,
                (c + sv) / cores
            )
        }
        _ => "CPU: not measured".into(),
    }
}

/// 4. Rate-limited throughput against a SkyPortal limited to R requests/s.
fn rate_limited(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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
fn parsing(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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

/// The sandbox info line of a running sandbox, parsed.
fn sandbox_info(sb: &SandboxProc) -> Result<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(&sb.info)?.trim())?)
}

/// 6. TNS: `get/object` with photometry (+20 ms, lenient quota); the public-objects CSV.
fn tns(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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
fn fink(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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
fn lasair(env: &Env, o: &Opts) -> Result<Vec<Row>> {
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

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| Workload | Case | Ours (median) | Python (median) | Speed-up | Notes |\n|---|---|---:|---:|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(t, "| {} | {} | {} | {} | {} | {} |", r.workload, r.case, r.ours, r.peer, r.ratio, r.notes);
    }
    t
}

fn command_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine(env: &Env) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or("?".into(), |kib| format!("{:.0}", kib / 1024.0 / 1024.0));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut m = String::new();
    let _ = writeln!(m, "- CPU: {cpu}, {cores} cores available; memory {mem_gib} GiB");
    let _ = writeln!(m, "- OS: {}", command_line("uname", &["-srm"]));
    let _ = writeln!(m, "- Rust: {} (release profile of the workspace)", command_line("rustc", &["-V"]));
    if let Some(py) = &env.python {
        let _ = writeln!(
            m,
            "- Python: {}; {}",
            command_line(&py.display().to_string(), &["-V"]),
            command_line(
                &py.display().to_string(),
                &[
                    "-c",
                    "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in ('alerce','atlasapiclient','lasair','pandas','requests','numpy')))"
                ]
            )
        );
    } else {
        let _ = writeln!(m, "- Python: not available in this run (our side only)");
    }
    let _ = writeln!(m, "- Date: {}", command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    m
}

fn document(env: &Env, o: &Opts, table: &str, elapsed: f64) -> String {
    let notes = std::fs::read_to_string(env.root.join("xtask").join("bench").join("NOTES.md")).unwrap_or_default();
    format!(
        "# Benchmarks\n\n\
         Our clients against the Python clients, on the same machine, in the same run, against the same local \
         sandbox (`broker-sandbox`'s `bench_sandbox` example). Produced by `cargo xtask bench{}` in {elapsed:.0} s; \
         each time is the median of {} run(s) ({} for the minute-long cases: the Python loops, concurrency 1 and the ATLAS bulk reads). Speed-up = Python time / our time.\n\n\
         ## Machine\n\n{}\n## Results\n\n{table}\n{notes}",
        if o.quick { " --quick" } else { "" },
        o.runs,
        o.slow_runs,
        machine(env),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&serde_json::json!([3.0, 1.0, 2.0])), Some(2.0));
        assert_eq!(median(&serde_json::json!([4.0, 1.0, 2.0, 3.0])), Some(2.5));
        assert_eq!(median(&serde_json::json!([])), None);
    }

    #[test]
    fn options() {
        let o = Opts::parse(&["--quick".into(), "--only".into(), "1,5".into()]).unwrap();
        assert!(o.quick && o.wants(5) && !o.wants(2));
        assert_eq!(o.runs, 1);
        assert!(Opts::parse(&["--bogus".into()]).is_err());
        let o = Opts::parse(&["--only".into(), "6,7,8".into()]).unwrap();
        assert!(o.wants(6) && o.wants(7) && o.wants(8) && !o.wants(1));
        assert_eq!((o.runs, o.size(500, 50)), (3, 500));
    }
}
