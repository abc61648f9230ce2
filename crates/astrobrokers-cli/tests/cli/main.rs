#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The `astrobrokers` binary against an in-process sandbox: every verb, its output, exit codes,
//! the messages for bad input, and that no secret is ever printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use broker_sandbox::{QueueConfig, Sandbox};

mod alerce_atlas_skyportal;
mod cross_broker;
mod errors_and_secrets;
mod fink_lasair_tns;
mod output;
mod sandbox;

const BIN: &str = env!("CARGO_BIN_EXE_astrobrokers");

struct Env {
    sb: Sandbox,
    dir: PathBuf,
    // Kept alive: the sandbox's servers run on it.
    _rt: tokio::runtime::Runtime,
}

fn env(name: &str) -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut b = Sandbox::builder().seed(7).objects(40).queue(QueueConfig {
        queue_delay: Duration::from_millis(100),
        run_time: Duration::from_millis(200),
        ..QueueConfig::default()
    });
    // TNS reports are processed at once (the client polls every 5 s).
    b.config_mut().tns.report_delay = Duration::ZERO;
    let sb = rt.block_on(b.start()).unwrap();
    let dir = std::env::temp_dir().join(format!("ab-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Env { sb, dir, _rt: rt }
}

impl Env {
    fn secrets(&self) -> Vec<String> {
        let c = self.sb.credentials();
        vec![
            c.atlas.token.clone(),
            c.atlas.password.clone(),
            c.skyportal.token.clone(),
            c.forcedphot.token.clone(),
            c.forcedphot.password.clone(),
            c.lasair.ztf_token.clone(),
            c.lasair.lsst_token.clone(),
            c.tns.api_key.clone(),
        ]
    }

    fn cmd(&self) -> Command {
        let u = self.sb.urls();
        let c = self.sb.credentials();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("ASTROBROKERS_CONFIG", self.dir.join("config.toml"))
            .env("ALERCE_URL", &u.alerce.api)
            .env("ATLAS_API_URL", &u.atlas)
            .env("ATLAS_API_TOKEN", &c.atlas.token)
            .env("SKYPORTAL_URL", &u.skyportal)
            .env("SKYPORTAL_TOKEN", &c.skyportal.token)
            .env("FORCEDPHOT_URL", &u.forcedphot)
            .env("FORCEDPHOT_TOKEN", &c.forcedphot.token)
            .env("FINK_URL", format!("{}/ztf/", u.fink))
            .env("FINK_LSST_URL", format!("{}/lsst/", u.fink))
            .env("LASAIR_URL", &u.lasair.ztf)
            .env("LASAIR_LSST_URL", &u.lasair.lsst)
            .env("LASAIR_TOKEN", &c.lasair.ztf_token)
            .env("LASAIR_LSST_TOKEN", &c.lasair.lsst_token)
            .env("TNS_URL", &u.tns)
            .env("TNS_API_KEY", &c.tns.api_key)
            .env("TNS_BOT_ID", c.tns.bot_id.to_string())
            .env("TNS_BOT_NAME", &c.tns.bot_name);
        cmd
    }

    fn run_with(&self, mut cmd: Command, args: &[&str]) -> Output {
        let out = cmd.args(args).output().unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("panicked") && !all.contains("RUST_BACKTRACE"), "{args:?} panicked: {all}");
        for s in self.secrets() {
            assert!(!all.contains(&s), "{args:?} printed a secret: {all}");
        }
        out
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run_with(self.cmd(), args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs as JSON and parses the rows.
    fn json(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut a = vec!["-f", "json"];
        a.extend_from_slice(args);
        let text = self.ok(&a);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with(self.cmd(), args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.trim().lines().count() <= 4, "{args:?}: a short message, not a trace: {err}");
        err
    }

    /// A transient that ALeRCE and ATLAS both detected (asked through the binary).
    fn transient(&self) -> broker_sandbox::ObjectInfo {
        self.sb
            .objects()
            .into_iter()
            .filter(|o| o.transient && o.ztf_oid.is_some() && o.peak_mjd.is_some() && o.tns_name.is_some())
            .find(|o| {
                let alerce =
                    self.cmd().args(["-f", "json", "alerce", "object", o.ztf_oid.as_deref().unwrap()]).output();
                let atlas = self.cmd().args(["-f", "json", "atlas", "source", &o.atlas_id.to_string()]).output();
                match (alerce, atlas) {
                    (Ok(a), Ok(b)) if a.status.success() && b.status.success() => {
                        let v: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
                        v[0]["detections"].as_u64().unwrap_or(0) > 5
                    }
                    _ => false,
                }
            })
            .expect("a transient known to ALeRCE and ATLAS")
    }
}

fn is_png(p: &Path) -> bool {
    std::fs::read(p).map(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 5000).unwrap_or(false)
}

const COLUMNS: &str = "broker,survey,object_id,mjd,band,mag,mag_err,flux_ujy,flux_err_ujy,limiting_mag,is_detection,origin,measurement,duplicate_of";
