//! `cargo xtask peer-check`: the real Python clients against the sandbox (see broker-sandbox docs).

use anyhow::{Result, bail};

/// Runs the peer check.
pub fn run(_args: &[String]) -> Result<()> {
    bail!("peer-check is not implemented yet")
}
