//! The benchmark sandbox process and running our programs and the Python peers against it.

use super::Env;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running `bench_sandbox`; stopped on drop.
pub(super) struct SandboxProc {
    child: Child,
    pub(super) info: PathBuf,
}

impl SandboxProc {
    pub(super) fn start(env: &Env, name: &str, args: &[String]) -> Result<SandboxProc> {
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
    pub(super) fn info(&self) -> String {
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

pub(super) fn ours(env: &Env, bin: &str, args: &[String]) -> Result<Value> {
    json_of(Command::new(env.bin(bin)).args(args))
}

/// The peer's result, or `None` without Python or when the peer fails (the failure is printed).
pub(super) fn peer(env: &Env, args: &[String]) -> Option<Value> {
    let python = env.python.as_ref()?;
    match json_of(Command::new(python).arg(env.peer_script()).args(args)) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("warning: Python peer failed: {e:#}");
            None
        }
    }
}

/// The sandbox info line of a running sandbox, parsed.
pub(super) fn sandbox_info(sb: &SandboxProc) -> Result<Value> {
    Ok(serde_json::from_str(std::fs::read_to_string(&sb.info)?.trim())?)
}
