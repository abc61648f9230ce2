//! The cross-broker verbs: `lightcurve`, `cone` and `resolve` across every service.

use broker_sandbox::Service;

use crate::{env, is_png};

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
