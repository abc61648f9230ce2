//! The results table and the BENCHMARKS.md document with its machine description.

use super::{Env, Opts, Row};
use std::fmt::Write as _;
use std::process::Command;

pub(super) fn table(rows: &[Row]) -> String {
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

pub(super) fn document(env: &Env, o: &Opts, table: &str, elapsed: f64) -> String {
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
