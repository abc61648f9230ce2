//! `cargo xtask peer-check`: the real Python clients against the sandbox.
//!
//! 1. Creates (once) a Python virtual environment in `target/peer-venv` (override with
//!    `PEER_VENV`) and installs `alerce==2.3.1`, `atlasapiclient==1.2.0` and `requests` from
//!    PyPI (needs the registry; set `PEER_SKIP_INSTALL=1` to reuse an existing venv as is).
//! 2. Starts a standalone sandbox (`cargo run -p broker-sandbox -- --json ...`) on random
//!    loopback ports with a fast forced-photometry queue.
//! 3. Runs `xtask/peer/peer_check.py`, which replays the clients' documented recipes (ALeRCE
//!    query_objects/lightcurve/probabilities/stamps/catsHTM; ATLAS single and chunked source
//!    data, cone search, custom lists, writes; the forced-photometry example flow with
//!    `requests`) and asserts that they succeed and return the sandbox's data.
//!
//! Where a real client fails against the sandbox, the sandbox is wrong.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs the peer check.
pub fn run(_args: &[String]) -> Result<()> {
    let root =
        std::env::var("CARGO_MANIFEST_DIR").map(|d| PathBuf::from(d).join("..")).unwrap_or_else(|_| PathBuf::from("."));
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let venv = std::env::var("PEER_VENV").map(PathBuf::from).unwrap_or_else(|_| target.join("peer-venv"));
    let python = venv.join("bin").join("python");
    if !python.exists() {
        crate::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    if std::env::var("PEER_SKIP_INSTALL").is_err() {
        crate::run(
            Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args([
                "alerce==2.3.1",
                "atlasapiclient==1.2.0",
                "requests",
            ]),
        )?;
    }
    crate::run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--quiet",
        "-p",
        "broker-sandbox",
        "--bin",
        "broker-sandbox",
    ]))?;
    let bin = target.join("debug").join("broker-sandbox");
    eprintln!("+ {} --json --queue-delay-ms 300 --run-time-ms 500", bin.display());
    let mut child = Command::new(&bin)
        .args(["--json", "--queue-delay-ms", "300", "--run-time-ms", "500"])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", bin.display()))?;
    let result = (|| -> Result<()> {
        let stdout = child.stdout.take().context("no stdout from the sandbox")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim().is_empty() {
            bail!("the sandbox printed nothing");
        }
        let info = target.join("peer-sandbox.json");
        std::fs::write(&info, &line)?;
        crate::run(Command::new(&python).arg(root.join("xtask").join("peer").join("peer_check.py")).arg(&info))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
