#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The `astrobrokers` binary against an in-process sandbox: every verb, its output, exit codes,
//! the messages for bad input, and that no secret is ever printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use broker_sandbox::{QueueConfig, Sandbox, Service};

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

#[test]
fn demo_writes_csv_and_png_from_four_services() {
    let e = env("demo");
    let out = e.ok(&["demo", "--output-dir", "out"]);
    for b in ["alerce", "atlas", "skyportal", "forcedphot", "fink"] {
        assert!(out.lines().any(|l| l.starts_with(b) && l.ends_with("ok")), "{b} in the summary: {out}");
    }
    assert!(out.contains("points") && out.contains("detections") && out.contains("mjd_range"), "{out}");
    let csv = std::fs::read_to_string(e.dir.join("out/demo-lightcurve.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), COLUMNS);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() > 100, "{} rows", rows.len());
    assert!(rows.iter().all(|r| r.len() == 14));
    for b in ["alerce", "atlas", "skyportal", "forcedphot"] {
        assert!(rows.iter().any(|r| r[0] == b && r[10] == "true"), "{b} detections in the CSV");
    }
    let mjds: Vec<f64> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    assert!(mjds.windows(2).all(|w| w[0] <= w[1]), "ordered by MJD");
    assert!(is_png(&e.dir.join("out/demo-lightcurve.png")));
}

#[test]
fn alerce_verbs() {
    let e = env("alerce");
    let obj = e.transient();
    let oid = obj.ztf_oid.clone().unwrap();
    let rows = e.json(&["alerce", "objects", "--page-size", "5"]);
    assert!(!rows.is_empty() && rows.len() <= 5 && rows[0]["oid"].is_string());
    let all = e.json(&["alerce", "objects", "--all", "--page-size", "7"]);
    assert!(all.len() > rows.len(), "--all pages through: {}", all.len());
    let cone =
        e.json(&["alerce", "objects", "--ra", &obj.ra.to_string(), "--dec", &obj.dec.to_string(), "--radius", "5"]);
    assert!(cone.iter().any(|r| r["oid"] == oid.as_str()));
    assert_eq!(e.json(&["alerce", "object", &oid])[0]["oid"], oid.as_str());
    let png = e.dir.join("alerce.png");
    let lc = e.ok(&["-f", "csv", "alerce", "lightcurve", &oid, "--plot", png.to_str().unwrap()]);
    assert!(lc.starts_with(COLUMNS) && lc.lines().count() > 10);
    assert!(is_png(&png));
    let dets = e.json(&["alerce", "detections", &oid]);
    assert!(dets[0]["magpsf"].is_number());
    assert!(e.json(&["alerce", "non-detections", &oid])[0]["diffmaglim"].is_number());
    assert!(!e.json(&["alerce", "forced-photometry", &oid]).is_empty());
    assert!(e.json(&["alerce", "probabilities", &oid])[0]["class_name"].is_string());
    assert!(e.json(&["alerce", "features", &oid])[0]["name"].is_string());
    assert!(e.json(&["alerce", "magstats", &oid])[0]["fid"].is_number());
    let cls = e.json(&["alerce", "classifiers"]);
    let name = cls[0]["classifier_name"].as_str().unwrap().to_string();
    let ver = cls[0]["classifier_version"].as_str().unwrap().to_string();
    assert!(!e.json(&["alerce", "classes", &name, &ver]).is_empty());
    let stamps = e.json(&["alerce", "stamps", &oid, "--output-dir", "stamps"]);
    assert_eq!(stamps.len(), 3);
    for s in &stamps {
        let f = PathBuf::from(s["file"].as_str().unwrap());
        assert!(f.starts_with(e.dir.join("stamps")) || f.starts_with("stamps"), "{f:?}");
        assert!(std::fs::read(e.dir.join("stamps").join(f.file_name().unwrap())).unwrap().starts_with(b"SIMPLE"));
    }
    let candid = dets[0]["candid"].as_str().map(str::to_string).unwrap_or_else(|| dets[0]["candid"].to_string());
    let avro = e.json(&["alerce", "avro", &oid, &candid, "--output-dir", "avro"]);
    assert!(avro[0]["bytes"].as_u64().unwrap() > 100);
    let (ra, dec) = (obj.ra.to_string(), obj.dec.to_string());
    assert!(!e.json(&["alerce", "conesearch", &ra, &dec, "-r", "20"]).is_empty());
    assert!(!e.json(&["alerce", "crossmatch", &ra, &dec, "-r", "20"]).is_empty());
    e.json(&["alerce", "redshift", &ra, &dec, "-r", "30"]);
}

#[test]
fn alerce_lsst_verbs() {
    let e = env("alerce-lsst");
    let rows = e.json(&["alerce", "lsst", "objects", "--page-size", "3"]);
    assert!(!rows.is_empty() && rows.len() <= 3, "{rows:?}");
    let oid = rows[0]["oid"].as_u64().map(|n| n.to_string()).unwrap_or_else(|| rows[0]["oid"].to_string());
    assert!(oid.bytes().all(|b| b.is_ascii_digit()), "LSST ids are integers: {oid}");
    // The REST route takes a probability without a class (the HTMX-only check is not applied).
    e.json(&["alerce", "lsst", "objects", "--probability", "0.1", "--page-size", "2"]);
    let one = e.json(&["alerce", "lsst", "object", &oid, "--extra"]);
    assert_eq!(one[0]["oid"].to_string(), oid);
    let lc = e.ok(&["-f", "csv", "alerce", "lsst", "lightcurve", &oid]);
    assert!(lc.starts_with(COLUMNS) && lc.lines().count() > 2, "{lc}");
    assert!(!e.json(&["alerce", "lsst", "detections", &oid]).is_empty());
    assert!(e.json(&["alerce", "lsst", "probabilities", &oid])[0]["class_name"].is_string());
    let stamps = e.json(&["alerce", "lsst", "stamps", &oid, "--output-dir", "lsst-stamps"]);
    assert_eq!(stamps.len(), 3);
    for s in &stamps {
        let f = PathBuf::from(s["file"].as_str().unwrap());
        assert!(std::fs::read(e.dir.join("lsst-stamps").join(f.file_name().unwrap())).unwrap().starts_with(b"SIMPLE"));
    }
    // An unknown id is reported as not found (the server's 500 "An error occurred").
    let out = e.run_with(e.cmd(), &["alerce", "lsst", "object", "42"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no object 42"), "{}", String::from_utf8_lossy(&out.stderr));
    // A malformed id is refused before any request, naming both forms.
    let out = e.run_with(e.cmd(), &["alerce", "lsst", "object", "ZTF-bad"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZTF name"));
}

#[test]
fn atlas_verbs() {
    let e = env("atlas");
    let obj = e.transient();
    let id = obj.atlas_id.to_string();
    let row = &e.json(&["atlas", "source", &id])[0];
    assert_eq!(row["atlas_designation"], obj.atlas_designation.as_str());
    assert!(row["detections"].as_u64().unwrap() > 0);
    let png = e.dir.join("atlas.png");
    let lc = e.ok(&["-f", "csv", "atlas", "source", &id, "--lightcurve", "--forced", "--plot", png.to_str().unwrap()]);
    assert!(lc.starts_with(COLUMNS) && (lc.contains(",atlaso,") || lc.contains(",atlasc,")));
    assert!(is_png(&png));
    let other = e.sb.objects()[1].atlas_id.to_string();
    let missing = "1999999999999999999";
    let rows = e.json(&["atlas", "sources", &id, &other, missing]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["status"], "found");
    assert_eq!(rows[2]["status"], "not found");
    std::fs::write(e.dir.join("ids.txt"), format!("# ids\n{id}\n\n{other}\n")).unwrap();
    assert_eq!(e.json(&["atlas", "sources", "--file", "ids.txt"]).len(), 2);
    let cone = e.json(&["atlas", "cone", &obj.ra.to_string(), &obj.dec.to_string(), "-r", "5"]);
    assert!(cone.iter().any(|r| r["object"].to_string().trim_matches('"') == id));
    e.json(&["atlas", "list", "eyeball"]);
    e.json(&["atlas", "list", "good", "--since", "2020-01-01"]);
    e.json(&["atlas", "vra-scores"]);
    e.json(&["atlas", "vra-todo", "--since", "2020-01-01"]);
    let added = e.json(&["atlas", "custom-list", "add", "mookodi", &other]);
    assert_eq!(added[0]["id"], other.as_str());
    let removed = e.json(&["atlas", "custom-list", "remove", "mookodi", &other]);
    assert_eq!(removed[0]["outcome"], "Removed");
    // The atlasapiclient YAML file, pointed to by ATLAS_CONFIG_FILE, gives the token and URL.
    let c = e.sb.credentials();
    let yaml = e.dir.join("api_config_MINE.yaml");
    std::fs::write(&yaml, format!("token: \"{}\"\nbase_url: \"{}\"\n", c.atlas.token, e.sb.urls().atlas)).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&yaml, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut cmd = e.cmd();
    cmd.env_remove("ATLAS_API_TOKEN").env_remove("ATLAS_API_URL").env("ATLAS_CONFIG_FILE", &yaml);
    let out = e.run_with(cmd, &["-f", "json", "atlas", "source", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Token refresh: the new token goes to the config file, never to the output.
    let mut cmd = e.cmd();
    cmd.env("ATLAS_API_USERNAME", &c.atlas.username)
        .env("ATLAS_API_PASSWORD", &c.atlas.password)
        .env("ATLAS_API_TOKEN", &c.atlas.expired_token);
    let out = e.run_with(cmd, &["-f", "json", "atlas", "token", "refresh"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["changed"], true, "{v}");
    let cfg = std::fs::read_to_string(e.dir.join("config.toml")).unwrap();
    assert!(cfg.contains("[atlas]") && cfg.contains("token"), "saved to the config file");
    assert!(!cfg.contains(&c.atlas.expired_token));
    // The saved token works.
    let mut cmd = e.cmd();
    cmd.env_remove("ATLAS_API_TOKEN");
    assert!(e.run_with(cmd, &["-f", "json", "atlas", "source", &id]).status.success());
    let mut cmd = e.cmd();
    cmd.env_remove("ATLAS_API_USERNAME");
    let err = String::from_utf8(e.run_with(cmd, &["atlas", "token", "refresh"]).stderr).unwrap();
    assert!(err.contains("ATLAS_API_USERNAME") && err.contains("ATLAS_API_PASSWORD"), "{err}");
}

#[test]
fn skyportal_verbs() {
    let e = env("skyportal");
    let obj = e.transient();
    let id = obj.skyportal_id.clone();
    let page = e.json(&["skyportal", "sources", "--page-size", "5"]);
    assert_eq!(page.len(), 5);
    // A page above 1 (the sandbox, like the server, refuses a cached page 2 without queryID).
    let page2 = e.json(&["skyportal", "sources", "--page", "2", "--page-size", "5"]);
    assert_eq!(page2.len(), 5);
    assert!(page2.iter().all(|r| !page.contains(r)), "page 2 differs from page 1");
    let all = e.json(&["skyportal", "sources", "--all", "--page-size", "7"]);
    assert!(all.len() > 7, "{}", all.len());
    let (ra, dec) = (obj.ra.to_string(), obj.dec.to_string());
    let cone = e.json(&["skyportal", "sources", "--ra", &ra, "--dec", &dec, "--radius", "5"]);
    assert!(cone.iter().any(|r| r["id"] == id.as_str()));
    assert_eq!(e.json(&["skyportal", "source", &id])[0]["id"], id.as_str());
    let png = e.dir.join("sp.png");
    let lc = e.ok(&["-f", "csv", "skyportal", "photometry", &id, "--plot", png.to_str().unwrap()]);
    assert!(lc.starts_with(COLUMNS) && lc.lines().count() > 10);
    assert!(is_png(&png));
    assert!(e.json(&["skyportal", "photometry", &id, "--raw"])[0]["mjd"].is_number());
    assert!(!e.json(&["skyportal", "candidates", "--page-size", "3"]).is_empty());
    e.json(&["skyportal", "candidates", "--all"]);
    e.json(&["skyportal", "classifications", &id]);
    let posted = e.json(&["skyportal", "comment", &id, "bright, follow up"]);
    assert!(posted[0]["comment_id"].is_number());
    let comments = e.json(&["skyportal", "comments", &id]);
    assert!(comments.iter().any(|c| c["text"] == "bright, follow up"), "{comments:?}");
    let spectra = e.json(&["skyportal", "spectra", &id]);
    if obj.redshift.is_some() {
        assert!(spectra[0]["points"].as_u64().unwrap() > 10, "{spectra:?}");
    }
    e.json(&["skyportal", "spectra", &id, "--full"]);
    let inst = e.json(&["skyportal", "instruments"]);
    let inst_id = inst[0]["id"].to_string();
    std::fs::write(
        e.dir.join("up.csv"),
        "mjd,filter,mag,magerr,limiting_mag\n60100.5,ztfg,18.5,0.05,20.5\n60101.5,ztfr,,,20.1\n",
    )
    .unwrap();
    let before = e.sb.applied_count(Service::SkyPortal, "POST", "/api/photometry");
    let up = e.json(&["skyportal", "upload-photometry", &id, "up.csv", "--instrument-id", &inst_id]);
    assert_eq!(up[0]["stored"], 2);
    assert_eq!(e.sb.applied_count(Service::SkyPortal, "POST", "/api/photometry"), before + 1);
}

#[test]
fn forcedphot_verbs() {
    let e = env("forcedphot");
    let obj = e.transient();
    let peak = obj.peak_mjd.unwrap();
    let (ra, dec) = (obj.ra.to_string(), obj.dec.to_string());
    let (lo, hi) = ((peak - 30.0).to_string(), (peak + 60.0).to_string());
    let png = e.dir.join("fp.png");
    let out = e.run_with(
        e.cmd(),
        &[
            "-f",
            "csv",
            "forcedphot",
            "run",
            &ra,
            &dec,
            "--mjd-min",
            &lo,
            "--mjd-max",
            &hi,
            "--plot",
            png.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with(COLUMNS) && stdout.lines().count() > 5);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("queued") && stderr.contains("deleted"), "queue progress: {stderr}");
    assert!(is_png(&png));
    assert!(!e.json(&["forcedphot", "run", &ra, &dec, "--mjd-min", &lo, "--mjd-max", &hi, "--raw"]).is_empty());
    let task = e.json(&["forcedphot", "submit", &ra, &dec, "--mjd-min", &lo, "--mjd-max", &hi]);
    let id = task[0]["id"].to_string();
    assert!(e.json(&["forcedphot", "list"]).iter().any(|t| t["id"] == task[0]["id"]));
    e.json(&["forcedphot", "list", "--all"]);
    // Poll the status until finished (generous give-up; the simulated queue takes ~0.3 s).
    let mut finished = false;
    for _ in 0..300 {
        let st = e.json(&["forcedphot", "status", &id]);
        if st[0]["state"].as_str().unwrap().starts_with("finished") {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(finished);
    let rows = e.json(&["forcedphot", "fetch", &id]);
    assert!(rows.len() > 5 && rows[0]["broker"] == "forcedphot");
    assert_eq!(e.json(&["forcedphot", "delete", &id])[0]["deleted"], true);
    let err = e.fails(&["forcedphot", "fetch", &id]);
    assert!(err.starts_with("error:"), "{err}");
    std::fs::write(e.dir.join("targets.txt"), format!("{ra} {dec}\n# comment\n{} {}\n", obj.ra, obj.dec)).unwrap();
    let sum = e.json(&["forcedphot", "batch", "targets.txt", "--mjd-min", &lo, "--mjd-max", &hi, "--summary"]);
    assert_eq!(sum.len(), 2);
    assert!(sum.iter().all(|r| r["status"] == "data"));
}

#[test]
fn cross_broker_lightcurve_and_cone() {
    let e = env("cross");
    let obj = e.transient();
    let peak = obj.peak_mjd.unwrap();
    let png = e.dir.join("cross.png");
    let rows = e.json(&[
        "lightcurve",
        "--ztf",
        obj.ztf_oid.as_deref().unwrap(),
        "--atlas",
        &obj.atlas_id.to_string(),
        "--skyportal",
        &obj.skyportal_id,
        "--ra",
        &obj.ra.to_string(),
        "--dec",
        &obj.dec.to_string(),
        "--mjd-min",
        &(peak - 30.0).to_string(),
        "--mjd-max",
        &(peak + 60.0).to_string(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    for b in ["alerce", "atlas", "skyportal", "forcedphot"] {
        assert!(rows.iter().any(|r| r["broker"] == b), "{b}");
    }
    assert!(is_png(&png));
    let hits = e.json(&["cone", &obj.ra.to_string(), &obj.dec.to_string(), "-r", "5"]);
    for b in ["alerce", "atlas", "skyportal"] {
        assert!(hits.iter().any(|h| h["broker"] == b), "{b} in {hits:?}");
    }
    // One service down: the others still answer, with a warning.
    e.sb.set_faults(Service::Atlas, broker_sandbox::Faults { error_rate: 1.0, ..Default::default() });
    let out = e.run_with(
        e.cmd(),
        &["-f", "json", "lightcurve", "--ztf", obj.ztf_oid.as_deref().unwrap(), "--atlas", &obj.atlas_id.to_string()],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("atlas failed"));
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let e = env("bad");
    let cases: &[(&[&str], &str)] = &[
        (&["cone", "400", "0"], "[0, 360)"),
        (&["alerce", "conesearch", "10", "-95"], "[-90, 90]"),
        (&["atlas", "cone", "NaN", "10"], "right ascension"),
        (&["cone", "10", "10", "--radius", "-2"], "positive number of arcseconds"),
        (&["alerce", "objects", "--ra", "10", "--dec", "100"], "[-90, 90]"),
        (&["atlas", "sources"], "list of ids is empty"),
        (&["atlas", "custom-list", "add", "mookodi"], "list of ids is empty"),
        (&["atlas", "source", "12345"], "19-digit"),
        (&["atlas", "sources", "1161600211221604900", "abc"], "19-digit"),
        (&["lightcurve", "--atlas", "ATLAS18abc"], "19-digit"),
        (&["forcedphot", "run", "10", "10", "--mjd-min", "60010", "--mjd-max", "60000"], "greater than"),
        (&["lightcurve", "--ra", "10", "--dec", "10", "--mjd-min", "60010", "--mjd-max", "60010"], "greater than"),
        (&["forcedphot", "submit", "370", "10"], "[0, 360)"),
        (&["skyportal", "photometry", "../x"], "no `/`"),
        (&["alerce", "lightcurve", "ZTF1", "--plot", "lc.jpg"], "PNG"),
        (&["lightcurve"], "nothing to look up"),
        (&["atlas", "list", "nosuchlist"], "not a known list"),
        (&["skyportal", "sources", "--page-size", "1000"], "1 to 500"),
    ];
    for (args, want) in cases {
        let err = e.fails(args);
        assert!(err.starts_with("error: ") && err.contains(want), "{args:?}: want {want:?} in {err:?}");
    }
    // An unknown format is clap's error, with the valid values, exit code 2.
    let out = e.run_with(e.cmd(), &["--format", "xml", "alerce", "classifiers"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("xml") && err.contains("csv") && err.contains("json"), "{err}");
    assert!(e.sb.requests().is_empty(), "no request for bad input: {:?}", e.sb.requests().len());
}

#[test]
fn missing_credentials_name_the_variable() {
    let e = env("creds");
    let cases: &[(&str, &[&str], &str)] = &[
        ("SKYPORTAL_TOKEN", &["skyportal", "sources"], "SKYPORTAL_TOKEN"),
        ("ATLAS_API_TOKEN", &["atlas", "source", "1161600211221604900"], "ATLAS_API_TOKEN"),
        ("FORCEDPHOT_TOKEN", &["forcedphot", "list"], "FORCEDPHOT_TOKEN"),
    ];
    for (var, args, want) in cases {
        let mut cmd = e.cmd();
        cmd.env_remove(var);
        let out = e.run_with(cmd, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    }
    // A wrong token: one line, what to check.
    let mut cmd = e.cmd();
    cmd.env("SKYPORTAL_TOKEN", "00000000-0000-0000-0000-000000000000");
    let err = String::from_utf8(e.run_with(cmd, &["skyportal", "sources"]).stderr).unwrap();
    assert!(err.contains("authentication") && err.contains("SKYPORTAL_TOKEN"), "{err}");
}

#[test]
fn rate_limits_say_how_long_to_wait() {
    let e = env("ratelimit");
    let obj = e.transient();
    e.sb.throttle_storm(Service::Atlas, Duration::from_secs(3600));
    let err = e.fails(&["atlas", "source", &obj.atlas_id.to_string()]);
    assert!(err.contains("rate limited") && err.contains("wait"), "{err}");
}

#[test]
fn no_secret_in_any_output_even_with_trace() {
    let e = env("secrets");
    let obj = e.transient();
    let id = obj.atlas_id.to_string();
    for args in [
        vec!["-vv", "atlas", "source", id.as_str()],
        vec!["-vv", "skyportal", "source", obj.skyportal_id.as_str()],
        vec!["-vv", "forcedphot", "list"],
        vec!["-v", "alerce", "object", obj.ztf_oid.as_deref().unwrap()],
        vec!["config", "show"],
    ] {
        // run_with checks every secret against stdout and stderr.
        let out = e.run_with(e.cmd(), &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let trace = e.run_with(e.cmd(), &["-vv", "atlas", "source", &id]);
    assert!(!trace.stderr.is_empty(), "-vv shows the request trace");
    // config set + show: the file is 0600 and show masks the value.
    e.ok(&["config", "set", "skyportal.token", "my-very-secret-token-123"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(e.dir.join("config.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut cmd = e.cmd();
    cmd.env_remove("SKYPORTAL_TOKEN");
    let out = e.run_with(cmd, &["-f", "json", "config", "show"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("my-very-secret-token-123") && text.contains("********"), "{text}");
}

#[test]
fn sandbox_verb_prints_urls_and_stops() {
    let dir = std::env::temp_dir().join(format!("ab-cli-sb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", &dir)
        .args(["-f", "json", "sandbox", "--seconds", "0", "--objects", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ATLAS_API_URL"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(v["SKYPORTAL_TOKEN"].is_string());
}

#[test]
fn output_formats_files_and_quiet() {
    let e = env("formats");
    let obj = e.transient();
    let oid = obj.ztf_oid.clone().unwrap();
    // Not a terminal: JSON by default.
    let v: serde_json::Value = serde_json::from_str(&e.ok(&["alerce", "classifiers"])).unwrap();
    assert!(v.is_array());
    let table = e.ok(&["-f", "table", "alerce", "magstats", &oid]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("fid"));
    assert!(lines.next().unwrap().starts_with("---"));
    let jsonl = e.ok(&["-f", "jsonl", "alerce", "non-detections", &oid]);
    assert!(jsonl.lines().count() > 1);
    assert!(jsonl.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    // --output writes the file and says so on stderr (not with -q).
    let out = e.run_with(e.cmd(), &["-f", "csv", "-o", "lc.csv", "alerce", "lightcurve", &oid, "--nightly"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lc.csv"));
    let csv = std::fs::read_to_string(e.dir.join("lc.csv")).unwrap();
    assert!(csv.starts_with(COLUMNS));
    // -q: nothing on stderr, even for the forced-photometry queue.
    let peak = obj.peak_mjd.unwrap();
    let out = e.run_with(
        e.cmd(),
        &[
            "-q",
            "-f",
            "csv",
            "forcedphot",
            "run",
            &obj.ra.to_string(),
            &obj.dec.to_string(),
            "--mjd-min",
            &(peak - 10.0).to_string(),
            "--mjd-max",
            &(peak + 10.0).to_string(),
        ],
    );
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(COLUMNS));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_output_file() {
    let e = env("parquet");
    let obj = e.transient();
    e.ok(&["-f", "parquet", "-o", "lc.parquet", "alerce", "lightcurve", obj.ztf_oid.as_deref().unwrap()]);
    let bytes = std::fs::read(e.dir.join("lc.parquet")).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1") && bytes.len() > 1000);
}

/// `-f table` shows each kind of record's main columns with nested values on one line;
/// JSON keeps every field; `--columns` picks and orders in every format, and an unknown
/// name is a usage error (exit 2) listing the columns there are.
#[test]
fn tables_show_main_columns_and_columns_picks_any() {
    let e = env("columns");
    let table = e.ok(&["-f", "table", "skyportal", "sources"]);
    let header = table.lines().next().unwrap();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        ["id", "ra", "dec", "redshift", "classifications", "tns_name", "groups", "last_detected_at"],
        "{table}"
    );
    assert!(!table.contains("{\"") && !table.contains("[{"), "nested JSON in a table cell:\n{table}");
    assert!(table.lines().all(|l| l.chars().count() < 200), "{table}");
    let rows = e.json(&["skyportal", "sources"]);
    for field in ["altdata", "thumbnails", "photometry", "classifications", "groups"] {
        assert!(rows[0].get(field).is_some(), "JSON keeps {field}");
    }
    let csv = e.ok(&["-f", "csv", "skyportal", "sources"]);
    assert!(csv.lines().next().unwrap().split(',').count() > 30, "CSV keeps every field");

    let picked = e.ok(&["-f", "table", "--columns", "tns_name,id", "skyportal", "sources"]);
    assert_eq!(picked.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(), ["tns_name", "id"]);
    let csv = e.ok(&["-f", "csv", "--columns", "id,redshift", "skyportal", "sources"]);
    assert_eq!(csv.lines().next().unwrap(), "id,redshift");
    let json = e.json(&["--columns", "id,ra", "skyportal", "sources"]);
    assert_eq!(json[0].as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "ra"]);

    let out = e.run_with(e.cmd(), &["-f", "table", "--columns", "id,colour", "skyportal", "sources"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("\"colour\"") && err.contains("redshift") && err.contains("tns_name"), "{err}");

    let alerce = e.ok(&["-f", "table", "alerce", "objects"]);
    assert!(alerce.lines().next().unwrap().starts_with("oid"), "{alerce}");
    assert!(alerce.contains("meanra") && alerce.contains("firstmjd") && !alerce.contains("sigmara"), "{alerce}");
}

/// `atlas sources` rows carry the VRA score and the VRA rank; `atlas cone` and the
/// cross-broker `cone` give ATLAS hits their RA and Dec.
#[test]
fn atlas_sources_rank_and_cone_positions() {
    let e = env("atlas-rank");
    let obj = e.transient();
    let id = obj.atlas_id.to_string();
    let other = e.sb.objects().iter().find(|o| o.atlas_id != obj.atlas_id).unwrap().atlas_id.to_string();
    let c = e.sb.credentials().clone();
    let client = astrobrokers::atlas::AtlasClient::builder()
        .base_url(e.sb.urls().atlas.clone())
        .token(c.atlas.token.clone())
        .build()
        .unwrap();
    let rank = astrobrokers::atlas::VraRank::new(obj.atlas_id.to_string().parse().unwrap(), 7.5);
    e._rt.block_on(client.write_vra_rank(&rank)).unwrap();

    let rows = e.json(&["atlas", "sources", &id, &other]);
    assert!(rows[0]["vra"].as_f64().is_some(), "{}", rows[0]);
    assert_eq!(rows[0]["rank"].as_f64(), Some(7.5), "{}", rows[0]);
    assert!(rows[1]["rank"].is_null(), "no rank row for {other}: {}", rows[1]);
    let table = e.ok(&["-f", "table", "atlas", "sources", &id]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert!(header.contains(&"vra") && header.contains(&"rank"), "{table}");
    assert!(table.lines().nth(2).unwrap().contains("7.5"), "{table}");

    let (ra, dec) = (obj.ra.to_string(), obj.dec.to_string());
    let cone = e.json(&["atlas", "cone", &ra, &dec, "-r", "5"]);
    let hit = cone.iter().find(|r| r["object"].to_string().trim_matches('"') == id).expect("the object");
    assert!((hit["ra"].as_f64().unwrap() - obj.ra).abs() < 1e-4, "{hit}");
    assert!((hit["dec"].as_f64().unwrap() - obj.dec).abs() < 1e-4, "{hit}");
    let all = e.json(&["cone", &ra, &dec, "-r", "5"]);
    let atlas: Vec<_> = all.iter().filter(|r| r["broker"] == "atlas").collect();
    assert!(!atlas.is_empty(), "{all:?}");
    assert!(atlas.iter().all(|r| r["ra"].as_f64().is_some() && r["dec"].as_f64().is_some()), "{atlas:?}");
}

#[test]
fn fink_verbs_for_ztf_and_lsst() {
    let e = env("fink");
    let objs = e.sb.objects();
    // ZTF: object rows with upper limits, and the unified light curve with a plot.
    let ztf = objs
        .iter()
        .filter(|o| o.transient && o.ztf_oid.is_some())
        .find(|o| {
            let rows = e.json(&["fink", "objects", o.ztf_oid.as_deref().unwrap()]);
            rows.iter().any(|r| r["d:tag"] == "valid")
        })
        .expect("a ZTF transient with detections");
    let oid = ztf.ztf_oid.clone().unwrap();
    let rows = e.json(&["fink", "objects", &oid, "--select", "i:jd,i:magpsf,d:tag"]);
    assert!(
        rows.iter().all(|r| r.as_object().unwrap().keys().all(|k| ["i:jd", "i:magpsf", "d:tag"].contains(&k.as_str())))
    );
    let png = e.dir.join("fink.png");
    let lc = e.ok(&["-f", "csv", "fink", "lightcurve", &oid, "--plot", png.to_str().unwrap()]);
    assert!(lc.starts_with(COLUMNS), "{lc}");
    assert!(lc.lines().skip(1).all(|l| l.starts_with(&format!("fink,ztf,{oid},"))));
    assert!(
        lc.lines().any(|l| l.ends_with(",false,alert,difference,"))
            && lc.lines().any(|l| l.ends_with(",true,alert,difference,"))
    );
    assert!(is_png(&png));
    let cone = e.json(&["fink", "cone", &ztf.ra.to_string(), &ztf.dec.to_string(), "-r", "5"]);
    assert!(cone.iter().any(|r| r["i:objectId"] == oid.as_str()));
    // LSST: ids above 2^53 survive the binary's JSON and CSV output.
    let l = objs
        .iter()
        .filter(|o| o.lsst_oid.is_some() && o.transient)
        .find(|o| !e.json(&["fink", "sources", &o.lsst_oid.unwrap().to_string()]).is_empty());
    let l = l.expect("an LSST transient with sources");
    let lid = l.lsst_oid.unwrap().to_string();
    let text = e.ok(&["-f", "json", "fink", "sources", &lid]);
    assert!(
        text.contains(&format!("\"r:diaObjectId\":{lid}")) || text.contains(&format!("\"r:diaObjectId\": {lid}")),
        "{text}"
    );
    let csv = e.ok(&["-f", "csv", "fink", "lightcurve", "--survey", "lsst", &lid]);
    assert!(csv.lines().skip(1).all(|l| l.starts_with(&format!("fink,lsst,{lid},"))), "{csv}");
    let tags = e.json(&["fink", "tags"]);
    assert!(tags.iter().any(|t| t["tag"] == "sandbox_sn_like"));
    let all = e.json(&[
        "fink",
        "tags",
        "sandbox_sn_like",
        "-n",
        "7",
        "--since-mjd",
        "60000",
        "--until-mjd",
        "61000",
        "--all",
    ]);
    let one =
        e.json(&["fink", "tags", "sandbox_sn_like", "-n", "100000", "--since-mjd", "60000", "--until-mjd", "61000"]);
    assert_eq!(all, one, "the windowed walk gives the same rows as one big request");
    assert!(all.len() > 7);
    // Bad input refused before any request, with what is valid.
    assert!(e.fails(&["fink", "sources", "ZTF21abc"]).contains("64-bit integer"));
    assert!(e.fails(&["fink", "cone", "10", "10", "-r", "20000"]).contains("18000"));
    assert!(e.fails(&["fink", "latests", "SN candidate", "--trend", "up"]).contains("rising"));
    // A server 400 (Python repr) shows its text.
    let err = e.fails(&["fink", "tags", "nope"]);
    assert!(err.contains("nope is not a valid tag"), "{err}");
}

#[test]
fn cross_broker_verbs_include_fink_for_ztf_and_lsst() {
    let e = env("crossfink");
    let obj = e.transient();
    let rows = e.json(&["lightcurve", "--ztf", obj.ztf_oid.as_deref().unwrap()]);
    assert!(rows.iter().any(|r| r["broker"] == "alerce"));
    assert!(rows.iter().any(|r| r["broker"] == "fink" && r["survey"] == "ztf"), "fink ZTF points");
    let hits = e.json(&["cone", &obj.ra.to_string(), &obj.dec.to_string(), "-r", "5"]);
    assert!(
        hits.iter().any(|h| h["broker"] == "fink" && h["object_id"] == obj.ztf_oid.as_deref().unwrap()),
        "{hits:?}"
    );
    let l =
        e.sb.objects()
            .into_iter()
            .filter(|o| o.lsst_oid.is_some() && o.transient)
            .find(|o| !e.json(&["fink", "sources", &o.lsst_oid.unwrap().to_string()]).is_empty())
            .expect("an LSST transient with sources");
    let lid = l.lsst_oid.unwrap().to_string();
    let rows = e.json(&["lightcurve", "--lsst", &lid]);
    assert!(rows.iter().any(|r| r["broker"] == "fink" && r["survey"] == "lsst" && r["object_id"] == lid.as_str()));
    let hits = e.json(&["cone", &l.ra.to_string(), &l.dec.to_string(), "-r", "5"]);
    assert!(hits.iter().any(|h| h["broker"] == "fink-lsst" && h["object_id"] == lid.as_str()), "{hits:?}");
}

#[test]
fn lasair_verbs() {
    let e = env("lasair");
    let objs = e.sb.objects();
    let o = objs
        .iter()
        .find(|o| o.transient && o.ztf_oid.is_some() && o.lsst_oid.is_some())
        .expect("a transient in both surveys");
    let ztf = o.ztf_oid.clone().unwrap();
    let lsst = o.lsst_oid.unwrap().to_string();
    let (ra, dec) = (o.ra.to_string(), o.dec.to_string());
    // Cone on each server.
    let hits = e.json(&["lasair", "cone", &ra, &dec, "-r", "3"]);
    assert_eq!(hits[0]["object"], ztf.as_str());
    let hits = e.json(&["lasair", "cone", &ra, &dec, "-r", "3", "--survey", "lsst"]);
    assert_eq!(hits[0]["object"].to_string(), lsst, "the 64-bit id printed exactly");
    let n = e.json(&["lasair", "cone", &ra, &dec, "-r", "3", "--request", "count"]);
    assert_eq!(n[0]["count"], 1);
    // Light curves with the unified columns, CSV, a plot.
    let rows = e.json(&["lasair", "lightcurve", &ztf]);
    assert!(rows.iter().all(|r| r["broker"] == "lasair" && r["survey"] == "ztf"));
    assert!(rows.iter().any(|r| r["is_detection"] == false));
    let png = e.dir.join("lasair.png");
    let csv = e.ok(&["-f", "csv", "lasair", "lightcurve", &lsst, "--forced", "--plot", png.to_str().unwrap()]);
    assert_eq!(csv.lines().next().unwrap(), COLUMNS);
    assert!(csv.lines().skip(1).all(|l| l.starts_with(&format!("lasair,lsst,{lsst},"))));
    assert!(is_png(&png));
    // Object, query (every page), Sherlock, annotation.
    let obj = e.json(&["lasair", "object", &lsst]);
    assert_eq!(obj[0]["diaObjectId"].to_string(), lsst);
    let all = e.json(&["lasair", "query", "--select", "diaObjectId, ra", "--survey", "lsst", "--limit", "4", "--all"]);
    assert_eq!(all.len(), objs.iter().filter(|o| o.lsst_oid.is_some()).count());
    let sh = e.json(&["lasair", "sherlock", &ztf]);
    assert!(sh[0]["classification"].is_string());
    let topic = e.sb.credentials().lasair.annotator_topic.clone();
    let r =
        e.json(&["lasair", "annotate", &lsst, "--topic", &topic, "--class", "SN Ia", "--classdict", r#"{"p": 0.9}"#]);
    assert_eq!(r[0]["status"], "success");
    // Refused before any request, with what is valid.
    let err = e.fails(&["lasair", "cone", &ra, &dec, "-r", "2000"]);
    assert!(err.contains("1000"), "{err}");
    let err = e.fails(&["lasair", "query", "--select", "objectId", "--where", "gmag < 12 limit 3"]);
    assert!(err.contains("limit"), "{err}");
    // Cross-broker: Lasair serves a ZTF and an LSST object.
    let rows = e.json(&["lightcurve", "--ztf", &ztf, "--lsst", &lsst]);
    assert!(rows.iter().any(|r| r["broker"] == "lasair" && r["survey"] == "ztf"));
    assert!(rows.iter().any(|r| r["broker"] == "lasair" && r["survey"] == "lsst"));
    let hits = e.json(&["cone", &ra, &dec, "-r", "3"]);
    assert!(hits.iter().any(|h| h["broker"] == "lasair" && h["object_id"] == ztf.as_str()));
    assert!(hits.iter().any(|h| h["broker"] == "lasair" && h["object_id"] == lsst.as_str()));
    // No token: the message names the variable.
    let mut cmd = e.cmd();
    cmd.env_remove("LASAIR_TOKEN").env_remove("LASAIR_LSST_TOKEN");
    let out = e.run_with(cmd, &["lasair", "cone", &ra, &dec]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LASAIR_TOKEN"));
}

#[test]
fn tns_verbs() {
    let e = env("tns");
    let obj = e.sb.objects().into_iter().find(|o| o.tns_name.is_some() && o.ztf_oid.is_some()).unwrap();
    let name = obj.tns_name.clone().unwrap();
    let ztf = obj.ztf_oid.clone().unwrap();
    // Every spelling of the name finds the object.
    for spelling in [format!("AT {name}"), format!("SN{name}"), name.clone()] {
        let hits = e.json(&["tns", "search", "--name", &spelling]);
        assert_eq!(hits.len(), 1, "{spelling}");
        assert_eq!(hits[0]["objname"], name.as_str());
    }
    let hits = e.json(&["tns", "search", "--internal", &ztf]);
    assert_eq!(hits[0]["objname"], name.as_str());
    let (ra, dec) = (obj.ra.to_string(), obj.dec.to_string());
    let hits = e.json(&["tns", "search", "--ra", &ra, "--dec", &dec, "--radius", "3"]);
    assert!(hits.iter().any(|h| h["objname"] == name.as_str()));
    let o = e.json(&["tns", "object", &name]);
    assert_eq!(o[0]["ztf"], ztf.as_str());
    assert!(o[0]["atlas"].as_str().unwrap().starts_with("ATLAS"));
    assert!((o[0]["ra"].as_f64().unwrap() - obj.ra).abs() < 1e-6);
    let phot = e.json(&["tns", "object", &name, "--photometry"]);
    assert!(phot.iter().any(|p| p["is_detection"] == true) && phot[0]["broker"] == "tns");
    // A malformed name: refused before any request.
    let before = e.sb.requests_for(Service::Tns).len();
    let err = e.fails(&["tns", "object", "ZTF23abcdefg"]);
    assert!(err.contains("four-digit year"), "{err}");
    assert_eq!(e.sb.requests_for(Service::Tns).len(), before);

    // An AT report: sent once, processed, named.
    let report = serde_json::json!({"ra": {"value": "12.5", "units": "deg"}, "dec": {"value": "-30.5", "units": "deg"},
        "reporting_group_id": "48", "discovery_data_source_id": "48", "reporter": "CLI test",
        "discovery_datetime": "2026-11-01 01:02:03", "at_type": "1", "internal_name": "ZTF26clitest"});
    std::fs::write(e.dir.join("at.json"), report.to_string()).unwrap();
    let r = e.json(&["tns", "report", "at", "at.json"]);
    assert_eq!(r[0]["accepted"], true, "{r:?}");
    assert_eq!(r[0]["created"], true);
    let new_name = r[0]["objname"].as_str().unwrap().to_string();
    assert_eq!(e.sb.applied_count(Service::Tns, "POST", "/api/set/bulk-report"), 1);
    let reply = e.json(&["tns", "reply", r[0]["report_id"].as_str().unwrap()]);
    assert_eq!(reply[0]["state"], "processed");
    assert_eq!(reply[0]["objname"], new_name.as_str());

    // The same report again, its reply lost (connection reset after TNS took it): reconciled
    // by the internal name, not sent a second time.
    let report2 = serde_json::json!({"ra": {"value": "50.5", "units": "deg"}, "dec": {"value": "10.5", "units": "deg"},
        "reporting_group_id": "48", "reporter": "CLI test", "discovery_datetime": "2026-11-02 01:02:03", "internal_name": "ZTF26lostreply"});
    std::fs::write(e.dir.join("at2.json"), report2.to_string()).unwrap();
    e.sb.inject(Service::Tns, broker_sandbox::Fault::ResetMidBody);
    let r = e.json(&["tns", "report", "at", "at2.json"]);
    assert_eq!(r[0]["accepted"], true, "{r:?}");
    assert!(r[0]["messages"].as_str().unwrap().contains("not sent again"), "{r:?}");
    assert_eq!(e.sb.applied_count(Service::Tns, "POST", "/api/set/bulk-report"), 2, "one send per report");

    // The mirror: the full list once, then resolution from the local copy.
    let m = e.json(&["tns", "mirror", "--dir", "mirror"]);
    assert!(m[0]["rows"].as_u64().unwrap() > 2);
    let resolved =
        e.json(&["tns", "mirror", "--dir", "mirror", "--offline", &format!("SN {name}"), &ztf, "ZTF26clitest"]);
    assert_eq!(resolved[0]["objid"], resolved[1]["objid"]);
    assert!(resolved[0]["name"].as_str().unwrap().ends_with(&name));
    assert!(resolved[2]["name"].as_str().unwrap().ends_with(&new_name));

    // Missing identity: what to set.
    let mut cmd = e.cmd();
    cmd.env_remove("TNS_BOT_ID");
    let err = String::from_utf8(e.run_with(cmd, &["tns", "object", &name]).stderr).unwrap();
    assert!(err.contains("TNS_BOT_ID") && err.contains("TNS_USER_ID"), "{err}");
}

#[test]
fn resolve_and_lightcurve_by_one_name() {
    let e = env("resolve");
    let obj = e.transient();
    let tns = obj.tns_name.clone().unwrap();
    let ztf = obj.ztf_oid.clone().unwrap();
    let atlas = obj.atlas_id.to_string();
    // Every id of the object, each with how it was found and a confidence.
    let rows = e.json(&["resolve", &format!("SN {tns}")]);
    let found = |kind: &str, id: &str| {
        rows.iter().find(|r| r["status"] == "found" && r["kind"] == kind && r["id"] == id).cloned()
    };
    let z = found("ztf", &ztf).unwrap_or_else(|| panic!("the ZTF id in {rows:?}"));
    assert_eq!(z["how"], "tns_internal_name", "{z}");
    assert!(found("atlas", &atlas).is_some(), "the ATLAS id in {rows:?}");
    assert!(found("tns", &tns).is_some(), "the TNS name in {rows:?}");
    assert!(rows.iter().any(|r| r["kind"] == "skyportal"), "{rows:?}");
    for r in &rows {
        let c = r["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "{r}");
        if r["how"] == "cone" {
            assert!(r["separation_arcsec"].as_f64().unwrap() < 2.0, "{r}");
        }
        assert!((r["ra"].as_f64().unwrap() - obj.ra).abs() < 0.01, "{r}");
    }
    // The table shows the view's columns.
    let table = e.ok(&["-f", "table", "resolve", &ztf]);
    let header = table.lines().next().unwrap();
    for col in ["status", "broker", "kind", "id", "how", "separation_arcsec", "confidence"] {
        assert!(header.contains(col), "{col} in {header}");
    }
    assert!(table.contains(&atlas), "{table}");

    // The light curve by its name: every service, forced photometry at the resolved position.
    let peak = obj.peak_mjd.unwrap();
    let (lo, hi) = ((peak - 30.0).to_string(), (peak + 60.0).to_string());
    let out = e.run_with(e.cmd(), &["-f", "json", "lightcurve", &tns, "--mjd-min", &lo, "--mjd-max", &hi]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let pts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for b in ["alerce", "atlas", "skyportal", "forcedphot"] {
        assert!(pts.iter().any(|r| r["broker"] == b), "{b}: {err}");
    }
    assert!(pts.iter().all(|r| r.get("duplicate_of").is_some()));
    let marked = pts.iter().filter(|r| !r["duplicate_of"].is_null()).count();
    assert!(
        err.contains(&format!("{marked} of {} points marked duplicate_of another (--dedup keep-forced)", pts.len())),
        "{err}"
    );
    // ALeRCE serves the same ZTF exposures as alerts and as forced photometry.
    assert!(marked > 0, "{err}");
    // Each duplicate points at a kept point; keep-forced never keeps an alert over a forced point.
    let key = |r: &serde_json::Value| {
        format!(
            "{}/{}/{}",
            r["broker"].as_str().unwrap(),
            r["origin"].as_str().unwrap(),
            r["object_id"].as_str().unwrap()
        )
    };
    let kept: std::collections::HashSet<String> = pts.iter().filter(|r| r["duplicate_of"].is_null()).map(key).collect();
    for r in pts.iter().filter(|r| !r["duplicate_of"].is_null()) {
        let of = r["duplicate_of"].as_str().unwrap();
        assert!(kept.contains(of), "{r} points at a kept point");
        assert!(!(r["origin"] == "forced" && of.contains("/alert/")), "{r}");
    }
    let none = e.json(&["lightcurve", &tns, "--mjd-min", &lo, "--mjd-max", &hi, "--dedup", "none"]);
    assert!(none.iter().all(|r| r["duplicate_of"].is_null()));
    assert_eq!(none.len(), pts.len(), "every point kept whatever the rule");

    // Positional and flags together, or an unknown rule: refused before any request.
    let out = e.run_with(e.cmd(), &["lightcurve", &tns, "--ztf", &ztf]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
    let err = e.fails(&["lightcurve", &tns, "--dedup", "newest"]);
    assert!(err.contains("keep-forced"), "{err}");
    let err = e.fails(&["resolve", "   "]);
    assert!(err.contains("TNS name"), "{err}");
}

/// The README's first recipe, as written: `astrobrokers sandbox` in the background, its
/// `export` lines sourced, then `astrobrokers lightcurve "<the name in the README>"`.
#[test]
fn readme_first_recipe_works_offline_on_the_sandbox() {
    use std::io::BufRead;
    let readme = include_str!("../../../README.md");
    let recipes = &readme[readme.find("## Recipes").unwrap()..];
    let block = &recipes[recipes.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    let lines: Vec<&str> = block.lines().collect();
    assert!(lines[0].starts_with("astrobrokers sandbox --seconds 3600 > sandbox.env &"), "{block}");
    assert!(lines[1].starts_with("sleep 3 && . ./sandbox.env"), "{block}");
    let query = lines[2].strip_prefix("astrobrokers lightcurve \"").and_then(|q| q.strip_suffix('"'));
    let query = query.unwrap_or_else(|| panic!("the first recipe is `astrobrokers lightcurve \"<a name>\"`: {block}"));

    let dir = std::env::temp_dir().join(format!("ab-cli-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    /// Stops the sandbox process even when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sandbox = Kill(
        Command::new(BIN)
            .env_clear()
            .env("HOME", &dir)
            .args(["sandbox", "--seconds", "3600"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut exports = Vec::new();
    let mut names = String::new();
    for line in std::io::BufReader::new(sandbox.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(kv) = line.strip_prefix("export ") {
            let (k, v) = kv.split_once('=').unwrap();
            exports.push((k.to_string(), v.to_string()));
        }
        names.push_str(&line);
        if line.starts_with("# Stop with") {
            break;
        }
    }
    // The sandbox's listing names the README's object.
    assert!(names.contains(&format!("\"{query}\"")), "{query} not in {names}");
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", &dir)
        .env("ASTROBROKERS_CONFIG", dir.join("config.toml"))
        .envs(exports)
        .args(["-f", "json", "lightcurve", query])
        .output()
        .unwrap();
    drop(sandbox);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let pts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for b in ["alerce", "atlas", "skyportal", "fink", "lasair"] {
        assert!(pts.iter().any(|r| r["broker"] == b), "{b}: {err}");
    }
    assert!(err.contains("marked duplicate_of"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
