//! Project automation: `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: exactly what `.ci/run` runs (fmt check, clippy, the test command).
//! - `cargo xtask peer-check`: runs the real Python clients against the sandbox.
//! - `cargo xtask check-features`: a crate depending on the facade with one service feature
//!   compiles none of the other services, and every library crate's tests and examples build
//!   on its default features alone (as `cargo test -p <crate>` builds them).
//! - `cargo xtask bench`: our side and the Python clients on the same sandbox (BENCHMARKS.md).
//! - `cargo xtask fuzz [--minutes N]`: every cargo-fuzz target for N minutes on stable
//!   (RELIABILITY.md).

use anyhow::{Context, Result, bail};
use std::process::Command;

mod bench;
mod fuzz;
mod peer_check;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("peer-check") => peer_check::run(&args[1..]),
        Some("check-features") => check_features(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some(other) => bail!("unknown task `{other}`; known tasks: ci, peer-check, check-features, bench, fuzz"),
        None => bail!("usage: cargo xtask <ci|peer-check|check-features|bench|fuzz>"),
    }
}

/// Runs one command, failing with its name when it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The CI steps: runs `.ci/run` from the workspace root, so both stay the same.
fn ci() -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    run(Command::new("bash").arg(".ci/run").current_dir(root))
}

const SERVICES: &[(&str, &str)] = &[
    ("atlas", "atlas-client"),
    ("alerce", "alerce-client"),
    ("skyportal", "skyportal-client"),
    ("forcedphot", "fallingstar-forcedphot"),
    ("fink", "fink-client"),
    ("lasair", "lasair-client"),
    ("tns", "tns-client"),
];

/// For each service feature of the facade alone, the dependency tree holds that service's
/// crate and none of the others (and no polars unless asked for).
fn check_features() -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for &(feature, krate) in SERVICES {
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "tree",
                "-p",
                "astrobrokers",
                "--no-default-features",
                "--features",
                feature,
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .current_dir(&root)
            .output()
            .context("could not run cargo tree")?;
        if !out.status.success() {
            bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let tree = String::from_utf8_lossy(&out.stdout);
        let names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
        if !names.contains(&krate) {
            bail!("feature `{feature}` does not pull in {krate}");
        }
        for (_, other) in SERVICES.iter().filter(|(f, _)| *f != feature) {
            if names.contains(other) {
                bail!("feature `{feature}` alone also compiles {other}");
            }
        }
        if names.iter().any(|n| n.starts_with("polars")) {
            bail!("feature `{feature}` alone compiles polars");
        }
        println!("ok: --features {feature} compiles {krate} and no other service");
    }
    check_crates_alone(&root)
}

/// Every crate under `crates/` on its own with its default features: its tests, examples and
/// benches type-check. A workspace-wide build unifies features across crates (the CLI turns on
/// `polars` everywhere), so code gated on a feature that a crate's own default set lacks is
/// only caught one crate at a time.
fn check_crates_alone(root: &std::path::Path) -> Result<()> {
    let mut crates: Vec<String> = std::fs::read_dir(root.join("crates"))
        .context("could not list crates/")?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    crates.sort();
    for krate in &crates {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo).args(["check", "--quiet", "-p", krate, "--all-targets"]).current_dir(root))?;
        println!("ok: {krate} alone (default features, all targets) builds");
    }
    Ok(())
}
