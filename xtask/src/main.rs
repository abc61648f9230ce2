//! Project automation: `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: exactly what `.ci/run` runs (fmt check, clippy, the test command).
//! - `cargo xtask peer-check`: runs the real Python clients against the sandbox.

use anyhow::{Context, Result, bail};
use std::process::Command;

mod peer_check;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("peer-check") => peer_check::run(&args[1..]),
        Some(other) => bail!("unknown task `{other}`; known tasks: ci, peer-check"),
        None => bail!("usage: cargo xtask <ci|peer-check>"),
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
