//! Output formats, `--output`, `-q`, Parquet, and the columns of tables and `--columns`.

use crate::{COLUMNS, env};

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
