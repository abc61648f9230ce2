#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The public-objects files: zip + CSV parsing (with proptests), downloads, the mirror.

use std::io::Write;
use std::sync::Arc;

use broker_core::{ManualClock, RetryPolicy};
use httpmock::prelude::*;
use proptest::prelude::*;
use serde_json::json;
use tns_client::bulk::{COLUMNS, parse_csv_records, parse_public_objects, unzip_csv};
use tns_client::{Mirror, PublicObjectRow, PublicObjects, Staged, TnsClient};

const SAMPLE: &str = "\"2024-05-01 00:00:00\"\n\
\"objid\",\"name_prefix\",\"name\",\"ra\",\"declination\",\"redshift\",\"typeid\",\"type\",\"reporting_groupid\",\"reporting_group\",\"source_groupid\",\"source_group\",\"discoverydate\",\"discoverymag\",\"discmagfilter\",\"filter\",\"reporters\",\"time_received\",\"internal_names\",\"creationdate\",\"lastmodified\"\n\
\"130454\",\"SN\",\"2023ixf\",\"210.910674637\",\"54.3116510708\",\"0.000804\",\"10\",\"SN II\",\"0\",\"None\",\"0\",\"None\",\"2023-05-19 17:27:35.000\",\"14.9\",\"2\",\"Clear\",\"K. Itagaki\",\"2023-05-19 20:00:00\",\"ZTF23aaklqou, ATLAS23np\",\"2023-05-19 20:00:00\",\"2024-04-30 10:00:00\"\n\
\"143009\",\"AT\",\"2024ggi\",\"169.59\",\"-32.84\",\"\",\"\",\"\",\"18\",\"ATLAS\",\"18\",\"ATLAS\",\"2024-04-11 05:00:00.000\",\"18.9\",\"72\",\"orange\",\"J. Tonry, \"\"et al.\"\"\",\"2024-04-11 06:00:00\",\"ATLAS24fsk\",\"2024-04-11 06:00:00\",\"2024-04-12 06:00:00\"\n";

fn zip_of(name: &str, text: &str) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).unwrap();
        z.write_all(text.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn parses_the_documented_layout() {
    let p = parse_public_objects(SAMPLE).unwrap();
    assert_eq!(p.stamp, "2024-05-01 00:00:00");
    assert_eq!(p.rows.len(), 2);
    let r = &p.rows[0];
    assert_eq!((r.objid, r.name.as_str(), r.name_prefix.as_deref()), (130454, "2023ixf", Some("SN")));
    assert_eq!(r.typeid, Some(10));
    assert_eq!(r.r#type.as_deref(), Some("SN II"));
    assert_eq!(r.internal().ztf(), Some("ZTF23aaklqou"));
    assert_eq!(p.rows[1].redshift, None);
    assert_eq!(p.rows[1].reporters.as_deref(), Some("J. Tonry, \"et al.\""));
    let idx = p.index();
    assert_eq!(idx.get("SN 2024ggi").unwrap().objid, 143009);
    assert_eq!(idx.get("AT2023ixf").unwrap().objid, 130454);
    assert_eq!(idx.get_internal("ATLAS24fsk").unwrap().name, "2024ggi");
    assert!(idx.get("not a name").is_none());
    // Round trip through our writer.
    assert_eq!(parse_public_objects(&p.to_csv()).unwrap(), p);
    // Inside a zip, as TNS serves it.
    assert_eq!(unzip_csv(&zip_of("tns_public_objects.csv", SAMPLE)).unwrap(), SAMPLE);
    assert!(unzip_csv(b"not a zip").is_err());
    // Columns added later are kept.
    let extended = SAMPLE.replace("\"lastmodified\"\n", "\"lastmodified\",\"Discovery_ADS_bibcode\"\n");
    let p = parse_public_objects(&extended).unwrap();
    assert_eq!(p.rows[0].extra, vec![("Discovery_ADS_bibcode".to_string(), String::new())]);
    assert!(parse_public_objects("\"x\"\n\"a\",\"b\"\n").is_err(), "no objid header");
    assert!(
        parse_public_objects(&format!("{SAMPLE}\"nope\",\"AT\",\"2024x\"\n"))
            .unwrap_err()
            .to_string()
            .contains("record 5")
    );
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[ -~\n]{0,12}".prop_map(|s| s.trim().to_string()).prop_filter("non-empty", |s| !s.is_empty()))
}
fn opt_f64() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(-1.0e6f64..1.0e6)
}

prop_compose! {
    fn row()(objid in any::<u64>(), name in "[0-9]{4}[a-z]{1,4}", prefix in opt_text(), ra in opt_f64(), dec in opt_f64(),
             z in opt_f64(), typeid in proptest::option::of(any::<u64>()), ty in opt_text(), internal in opt_text(),
             reporters in opt_text(), mag in opt_f64(), lastmodified in opt_text()) -> PublicObjectRow {
        PublicObjectRow { objid, name, name_prefix: prefix, ra, declination: dec, redshift: z, typeid, r#type: ty,
            internal_names: internal, reporters, discoverymag: mag, lastmodified, ..Default::default() }
    }
}

proptest! {
    #[test]
    fn written_files_parse_back_to_the_same_rows(rows in proptest::collection::vec(row(), 0..20), stamp in "[ -~]{0,20}") {
        let p = PublicObjects { stamp: stamp.trim().to_string(), rows };
        let back = parse_public_objects(&p.to_csv()).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn the_parsers_never_panic(text in "(?s).{0,400}") {
        let _ = parse_csv_records(&text);
        let _ = parse_public_objects(&text);
        let _ = unzip_csv(text.as_bytes());
    }

    #[test]
    fn records_split_like_a_reference_splitter(fields in proptest::collection::vec(proptest::collection::vec("[a-z,\" \n]{0,6}", 1..5), 1..6)) {
        let mut text = String::new();
        for rec in &fields {
            let line: Vec<String> = rec.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            text.push_str(&line.join(","));
            text.push_str("\r\n");
        }
        prop_assert_eq!(parse_csv_records(&text).unwrap(), fields);
    }
}

#[tokio::test]
async fn staged_files_are_posted_with_the_key_and_parsed() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = TnsClient::builder()
        .url(server.base_url())
        .api_key("k")
        .bot(5, "b")
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let zip = zip_of("tns_public_objects_20240430.csv", SAMPLE);
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/system/files/tns_public_objects/tns_public_objects_20240430.csv.zip")
                .header("user-agent", r#"tns_marker{"tns_id":5,"type":"bot","name":"b"}"#)
                .body("api_key=k");
            then.status(200).header("content-type", "application/zip").body(zip.clone());
        })
        .await;
    let day = chrono::NaiveDate::from_ymd_opt(2024, 4, 30).unwrap();
    let p = tns.public_objects(Staged::Day(day)).await.unwrap();
    assert_eq!(p.rows.len(), 2);
    m.assert_async().await;
    assert_eq!(Staged::Hour(7).file_name().unwrap(), "tns_public_objects_07.csv.zip");
    assert_eq!(Staged::Full.file_name().unwrap(), "tns_public_objects.csv.zip");
    assert!(Staged::Hour(24).file_name().is_err());
}

#[tokio::test]
async fn the_mirror_downloads_once_then_follows_public_timestamp_searches() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = TnsClient::builder()
        .url(server.base_url())
        .api_key("k")
        .bot(5, "b")
        .clock(Arc::new(clock.clone()))
        .retry(RetryPolicy::default().jitter(false))
        .build()
        .unwrap();
    let full = server
        .mock_async(|when, then| {
            when.method(POST).path("/system/files/tns_public_objects/tns_public_objects.csv.zip");
            then.status(200).body(zip_of("tns_public_objects.csv", SAMPLE));
        })
        .await;
    let dir = std::env::temp_dir().join(format!("tns-mirror-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mirror = Mirror::new(&dir);
    let u = mirror.update(&tns).await.unwrap();
    assert!(u.full_download);
    assert_eq!(u.rows, 2);
    full.assert_calls_async(1).await;
    // ManualClock's wall time: 2023-11-14T22:13:20Z.
    assert_eq!(mirror.state().unwrap().unwrap().synced_at.to_rfc3339(), "2023-11-14T22:13:20+00:00");

    // One hour later: one changed object (2024ggi classified), one new one.
    clock.advance(std::time::Duration::from_secs(3600));
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/search")
                .form_urlencoded_tuple("data", r#"{"public_timestamp":"2023-11-14T21:13:20"}"#);
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": [
                {"objname": "2024ggi", "prefix": "SN", "objid": 143009},
                {"objname": "2024zzz", "prefix": "AT", "objid": 150000}]}));
        })
        .await;
    let obj1 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/object").form_urlencoded_tuple("data", r#"{"objid":"143009","photometry":"0","spectra":"0"}"#);
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": {"objname": "2024ggi", "name_prefix": "SN",
                "objid": 143009, "radeg": 169.59, "decdeg": -32.84, "object_type": {"name": "SN II", "id": 10}, "internal_names": "ATLAS24fsk"}}));
        })
        .await;
    let obj2 = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/object")
                .form_urlencoded_tuple("data", r#"{"objid":"150000","photometry":"0","spectra":"0"}"#);
            then.status(200).json_body(
                json!({"id_code": 200, "id_message": "OK", "data": {"objname": "2024zzz", "name_prefix": "AT",
                "objid": 150000, "radeg": 1.0, "decdeg": 2.0, "internal_names": "ZTF24aaaaaaa"}}),
            );
        })
        .await;
    let u = mirror.update(&tns).await.unwrap();
    assert!(!u.full_download);
    assert_eq!((u.updated, u.rows), (2, 3));
    full.assert_calls_async(1).await;
    search.assert_async().await;
    obj1.assert_async().await;
    obj2.assert_async().await;
    let local = mirror.load().unwrap();
    let idx = local.index();
    assert_eq!(idx.get("SN 2024ggi").unwrap().r#type.as_deref(), Some("SN II"));
    assert_eq!(idx.get_internal("ZTF24aaaaaaa").unwrap().name, "2024zzz");
    assert_eq!(local.rows.iter().filter(|r| COLUMNS.len() == 21 && r.objid == 143009).count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_mirror_days_behind_catches_up_with_the_daily_files() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = TnsClient::builder()
        .url(server.base_url())
        .api_key("k-days")
        .bot(5, "b")
        .clock(Arc::new(clock.clone()))
        .retry(RetryPolicy::default().jitter(false))
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("tns-mirror-days-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mirror = Mirror::new(&dir);
    let full = server
        .mock_async(|when, then| {
            when.method(POST).path("/system/files/tns_public_objects/tns_public_objects.csv.zip");
            then.status(200).body(zip_of("tns_public_objects.csv", SAMPLE));
        })
        .await;
    mirror.update(&tns).await.unwrap(); // synced 2023-11-14T22:13:20Z
    // Two and a half days later (the 17th, 10:13): the files of the 14th, 15th and 16th, then
    // a search for the 17th.
    clock.advance(std::time::Duration::from_secs(2 * 86400 + 43200));
    let changed = SAMPLE.replace("\"AT\",\"2024ggi\"", "\"SN\",\"2024ggi\"");
    let mut days = Vec::new();
    for d in ["20231114", "20231115", "20231116"] {
        let body = zip_of(&format!("tns_public_objects_{d}.csv"), &changed);
        days.push(
            server
                .mock_async(move |when, then| {
                    when.method(POST).path(format!("/system/files/tns_public_objects/tns_public_objects_{d}.csv.zip"));
                    then.status(200).body(body);
                })
                .await,
        );
    }
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/search")
                .form_urlencoded_tuple("data", r#"{"public_timestamp":"2023-11-16T23:00:00"}"#);
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": []}));
        })
        .await;
    let u = mirror.update(&tns).await.unwrap();
    assert!(!u.full_download);
    assert_eq!(u.updated, 6, "two rows from each daily file");
    full.assert_calls_async(1).await;
    for d in &days {
        d.assert_calls_async(1).await;
    }
    search.assert_calls_async(1).await;
    assert_eq!(mirror.load().unwrap().index().get("2024ggi").unwrap().name_prefix.as_deref(), Some("SN"));
    let _ = std::fs::remove_dir_all(&dir);
}
