//! The ALeRCE, ATLAS, SkyPortal and forced-photometry verbs, and `demo` over them.

use std::path::PathBuf;
use std::time::Duration;

use broker_sandbox::Service;

use crate::{COLUMNS, env, is_png};

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
