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

mod format;
mod report;
mod sandbox;
mod tns_fink_lasair;
mod workloads;

use anyhow::{Context, Result, bail};
use report::{document, table};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tns_fink_lasair::{fink, lasair, tns};
use workloads::{atlas_bulk, bulk_lightcurves, paged_listing, parsing, rate_limited};

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

#[cfg(test)]
mod tests {
    use super::*;

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
