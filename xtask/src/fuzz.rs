//! `cargo xtask fuzz [--minutes N] [--targets a,b] [--no-cmin]`: runs every cargo-fuzz target
//! for N minutes (default 5) on the stable toolchain (`RUSTC_BOOTSTRAP=1` unlocks the
//! sanitizer flags cargo-fuzz passes), keeps each target's corpus minimized in
//! `fuzz/corpus/<target>`, and writes executions, coverage, corpus size and crashes into
//! RELIABILITY.md between the `fuzz:begin` / `fuzz:end` markers. Fails when a target crashed
//! (its reproducer stays in `fuzz/artifacts/<target>/`).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one target's run reported.
#[derive(Debug, Default, Clone, PartialEq)]
struct Stats {
    target: String,
    seconds: u64,
    execs: Option<u64>,
    cov: Option<u64>,
    features: Option<u64>,
    corpus_files: usize,
    corpus_bytes: u64,
    crashed: bool,
    artifact: Option<String>,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Runs the task.
pub fn run(args: &[String]) -> Result<()> {
    let mut minutes: f64 = 5.0;
    let mut only: Option<Vec<String>> = None;
    let mut cmin = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => {
                let v = it.next().context("--minutes needs a number")?;
                minutes = v.parse().with_context(|| format!("--minutes: `{v}` is not a number"))?;
                if !(minutes > 0.0 && minutes <= 600.0) {
                    bail!("--minutes: use a number of minutes in (0, 600]");
                }
            }
            "--targets" => {
                let v = it.next().context("--targets needs a comma-separated list")?;
                only = Some(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
            }
            "--no-cmin" => cmin = false,
            other => bail!("unknown option `{other}`; use --minutes N, --targets a,b, --no-cmin"),
        }
    }
    ensure_cargo_fuzz()?;
    let dir = fuzz_dir();
    let all = list_targets(&dir)?;
    let targets: Vec<String> = match only {
        Some(t) => {
            for name in &t {
                if !all.contains(name) {
                    bail!("unknown fuzz target `{name}`; targets: {}", all.join(", "));
                }
            }
            t
        }
        None => all,
    };
    let seconds = (minutes * 60.0).round().max(1.0) as u64;
    let target_dir = std::env::var("FUZZ_TARGET_DIR").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
        format!("{home}/.cache/astrobrokers-fuzz-target")
    });
    let mut results = Vec::new();
    for t in &targets {
        let s = run_one(&dir, t, seconds, &target_dir, cmin)?;
        // Written after each target, so a later target that fails to build loses nothing.
        write_report(&dir.join("../RELIABILITY.md"), std::slice::from_ref(&s), minutes)?;
        eprintln!(
            "{}: {} execs, cov {}, {} corpus files, crashed: {}",
            s.target,
            s.execs.map_or("?".into(), |v| v.to_string()),
            s.cov.map_or("?".into(), |v| v.to_string()),
            s.corpus_files,
            s.crashed
        );
        results.push(s);
    }
    let crashed: Vec<&str> = results.iter().filter(|s| s.crashed).map(|s| s.target.as_str()).collect();
    if !crashed.is_empty() {
        bail!("fuzz targets crashed: {} (reproducers in fuzz/artifacts/)", crashed.join(", "));
    }
    Ok(())
}

fn ensure_cargo_fuzz() -> Result<()> {
    let ok = Command::new(cargo()).args(["fuzz", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        bail!("cargo-fuzz is not installed: run `cargo install cargo-fuzz --locked` (it builds on stable)");
    }
    Ok(())
}

fn fuzz_cmd(dir: &Path) -> Command {
    let mut c = Command::new(cargo());
    c.current_dir(dir).env("RUSTC_BOOTSTRAP", "1").env_remove("CARGO_TARGET_DIR");
    c
}

fn list_targets(dir: &Path) -> Result<Vec<String>> {
    let out = fuzz_cmd(dir).args(["fuzz", "list"]).output().context("could not run cargo fuzz list")?;
    if !out.status.success() {
        bail!("cargo fuzz list failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

fn run_one(dir: &Path, target: &str, seconds: u64, target_dir: &str, cmin: bool) -> Result<Stats> {
    let corpus = dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).with_context(|| format!("could not create {}", corpus.display()))?;
    let corpus_arg = format!("corpus/{target}");
    let out = fuzz_cmd(dir)
        .args(["fuzz", "run", "--target-dir", target_dir, target, &corpus_arg, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .args(["-print_final_stats=1", "-rss_limit_mb=2048", "-timeout=10", "-max_len=65536"])
        .output()
        .with_context(|| format!("could not run cargo fuzz run {target}"))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let log_path = dir.join("artifacts").join(format!("{target}.log"));
    if let Some(p) = log_path.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(&log_path, &log)?;
    let mut s = parse_log(&log);
    s.target = target.to_string();
    s.seconds = seconds;
    s.crashed = !out.status.success();
    if s.crashed && s.execs.is_none() && s.artifact.is_none() {
        bail!("cargo fuzz run {target} failed before fuzzing; see {}", log_path.display());
    }
    if cmin && !s.crashed {
        let tmp = dir.join("corpus").join(format!("{target}.min"));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        // A set-cover merge into an empty directory keeps a small set of inputs with the same
        // coverage and features.
        let merged = fuzz_cmd(dir)
            .args(["fuzz", "run", "--target-dir", target_dir, target])
            .arg(format!("corpus/{target}.min"))
            .arg(&corpus_arg)
            .args(["--", "-set_cover_merge=1", "-rss_limit_mb=2048", "-timeout=10"])
            .output()
            .with_context(|| format!("could not minimize the corpus of {target}"))?;
        if merged.status.success() {
            std::fs::remove_dir_all(&corpus)?;
            std::fs::rename(&tmp, &corpus)?;
        } else {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    let (files, bytes) = dir_size(&corpus)?;
    s.corpus_files = files;
    s.corpus_bytes = bytes;
    Ok(s)
}

fn dir_size(dir: &Path) -> Result<(usize, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    for e in std::fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            files += 1;
            bytes += m.len();
        }
    }
    Ok((files, bytes))
}

/// Reads libFuzzer's output: the final stats, the last coverage line, a crash artifact.
fn parse_log(log: &str) -> Stats {
    let mut s = Stats::default();
    let num_after = |line: &str, key: &str| -> Option<u64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split_whitespace().next()?.parse().ok()
    };
    for line in log.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            s.execs = v.trim().parse().ok();
        }
        if line.starts_with('#') && line.contains("cov: ") {
            if let Some(c) = num_after(line, "cov: ") {
                s.cov = Some(c);
            }
            if let Some(f) = num_after(line, "ft: ") {
                s.features = Some(f);
            }
        }
        if let Some(i) = line.find("Test unit written to ") {
            s.artifact = Some(line[i + "Test unit written to ".len()..].trim().to_string());
        }
    }
    s
}

const BEGIN: &str = "<!-- fuzz:begin (written by `cargo xtask fuzz`) -->";
const END: &str = "<!-- fuzz:end -->";

fn write_report(path: &Path, results: &[Stats], minutes: f64) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    let block_range = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => Some((b, e + END.len())),
        _ => None,
    };
    // Rows of targets not run this time are kept as they were.
    let mut rows: Vec<(String, String)> = block_range
        .map(|(b, e)| {
            text[b..e]
                .lines()
                .filter_map(|l| {
                    let name = l.strip_prefix("| `")?.split('`').next()?;
                    Some((name.to_string(), l.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for s in results {
        let rate = s.execs.map(|e| e / s.seconds.max(1));
        let row = format!(
            "| `{}` | {minutes} min | {} | {} | {} | {} | {} files, {} KiB | {} |",
            s.target,
            s.execs.map_or("?".into(), |v| v.to_string()),
            rate.map_or("?".into(), |v| v.to_string()),
            s.cov.map_or("?".into(), |v| v.to_string()),
            s.features.map_or("?".into(), |v| v.to_string()),
            s.corpus_files,
            s.corpus_bytes.div_ceil(1024),
            if s.crashed {
                s.artifact.clone().unwrap_or_else(|| "yes (see fuzz/artifacts)".into())
            } else {
                "0".into()
            }
        );
        match rows.iter_mut().find(|(n, _)| *n == s.target) {
            Some(r) => r.1 = row,
            None => rows.push((s.target.clone(), row)),
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut block = String::new();
    block.push_str(BEGIN);
    block.push('\n');
    block.push_str(&format!(
        "Each row is the latest `cargo xtask fuzz` run of that target on this machine ({cores} cores, one \
         target at a time).\n\n"
    ));
    block.push_str("| target | time | executions | exec/s | coverage (edges) | features | corpus kept | crashes |\n");
    block.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for (_, r) in &rows {
        block.push_str(r);
        block.push('\n');
    }
    block.push_str(END);
    let new = match block_range {
        Some((b, e)) => format!("{}{}{}", &text[..b], block, &text[e..]),
        None => format!("{}\n{}\n", text.trim_end(), block),
    };
    std::fs::write(path, new).with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_final_stats_coverage_and_crash_artifacts() {
        let log = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #5000\tNEW    cov: 120 ft: 300 corp: 40/2Kb lim: 4 exec/s: 2500 rss: 40Mb\n\
                   #9000\tDONE   cov: 125 ft: 310 corp: 42/2Kb lim: 4 exec/s: 3000 rss: 41Mb\n\
                   stat::number_of_executed_units: 9000\nstat::peak_rss_mb: 41\n";
        let s = parse_log(log);
        assert_eq!(s.execs, Some(9000));
        assert_eq!(s.cov, Some(125));
        assert_eq!(s.features, Some(310));
        assert_eq!(s.artifact, None);
        let crash = "==12==ERROR: libFuzzer: deadly signal\nartifact_prefix='/w/fuzz/artifacts/t/'; \
                     Test unit written to /w/fuzz/artifacts/t/crash-abc\n";
        assert_eq!(parse_log(crash).artifact.as_deref(), Some("/w/fuzz/artifacts/t/crash-abc"));
    }

    #[test]
    fn the_report_replaces_its_own_block_only() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("R.md");
        std::fs::write(&p, format!("# R\nbefore\n{BEGIN}\nold\n{END}\nafter\n")).unwrap();
        let s = Stats { target: "t".into(), seconds: 10, execs: Some(100), cov: Some(7), ..Default::default() };
        write_report(&p, &[s], 0.5).unwrap();
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(t.starts_with("# R\nbefore\n"));
        assert!(t.ends_with("after\n"));
        assert!(!t.contains("old"));
        assert!(t.contains("| `t` | 0.5 min | 100 | 10 | 7 |"), "{t}");
        // A later run of another target keeps this row, and a rerun replaces it.
        let u = Stats { target: "a".into(), seconds: 10, execs: Some(5), ..Default::default() };
        write_report(&p, &[u], 1.0).unwrap();
        let t2 = std::fs::read_to_string(&p).unwrap();
        assert!(t2.contains("| `t` | 0.5 min | 100 |") && t2.contains("| `a` | 1 min | 5 |"), "{t2}");
        assert!(t2.find("`a`").unwrap() < t2.find("`t`").unwrap(), "rows sorted by target");
        let t3 = Stats { target: "t".into(), seconds: 10, execs: Some(900), ..Default::default() };
        write_report(&p, &[t3], 2.0).unwrap();
        let t3 = std::fs::read_to_string(&p).unwrap();
        assert_eq!(t3.matches("| `t` |").count(), 1);
        assert!(t3.contains("| `t` | 2 min | 900 |"), "{t3}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
