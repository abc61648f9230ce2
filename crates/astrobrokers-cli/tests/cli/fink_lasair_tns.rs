//! The Fink, Lasair and TNS verbs.

use broker_sandbox::Service;

use crate::{COLUMNS, env, is_png};

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
