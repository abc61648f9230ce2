//! The TNS emulator with a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read;
use std::time::Duration;

use broker_sandbox::{Sandbox, TnsEnvelope, WindowLimit};
use serde_json::{Value, json};

async fn start(envelope: TnsEnvelope) -> Sandbox {
    let mut b = Sandbox::builder().seed(7).objects(80);
    b.config_mut().tns.envelope = envelope;
    b.config_mut().tns.general = Some(WindowLimit::new(5, Duration::from_secs(60)));
    b.config_mut().tns.cone = Some(WindowLimit::new(2, Duration::from_secs(60)));
    b.start().await.unwrap()
}

fn marker(sb: &Sandbox) -> String {
    let c = &sb.credentials().tns;
    format!(r#"tns_marker{{"tns_id":{},"type":"bot","name":"{}"}}"#, c.bot_id, c.bot_name)
}

async fn post(sb: &Sandbox, path: &str, ua: &str, form: &[(&str, String)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", sb.urls().tns))
        .header("user-agent", ua)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn marker_key_envelopes_quotas_and_objects() {
    for envelope in [TnsEnvelope::Current, TnsEnvelope::Reply] {
        let sb = start(envelope).await;
        let key = sb.credentials().tns.api_key.clone();
        let ua = marker(&sb);
        let name = sb.objects().into_iter().find_map(|o| o.tns_name).unwrap();
        let data = json!({"objname": name, "objname_exact_match": 1}).to_string();
        // No marker: the front end's HTML 403.
        let r =
            post(&sb, "api/get/search", "python-requests/2.31", &[("api_key", key.clone()), ("data", data.clone())])
                .await;
        assert_eq!(r.status(), 403);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("html"));
        // Wrong key: 401 with an id_code body.
        let r = post(&sb, "api/get/search", &ua, &[("api_key", "nope".into()), ("data", data.clone())]).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["id_code"], 401);
        // A search by name, with the general quota headers.
        let r = post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", data.clone())]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-rate-limit-limit"], "5");
        assert_eq!(r.headers()["x-rate-limit-remaining"], "4");
        assert!(r.headers().get("x-cone-rate-limit-remaining").is_none());
        let v: Value = r.json().await.unwrap();
        let hits = if envelope == TnsEnvelope::Reply { &v["data"]["reply"] } else { &v["data"] };
        assert_eq!(hits[0]["objname"], name.as_str());
        // The object, with photometry.
        let d = json!({"objname": name, "photometry": "1", "spectra": "1"}).to_string();
        let v: Value =
            post(&sb, "api/get/object", &ua, &[("api_key", key.clone()), ("data", d)]).await.json().await.unwrap();
        let o = if envelope == TnsEnvelope::Reply { &v["data"]["reply"] } else { &v["data"] };
        assert_eq!(o["objname"], name.as_str());
        assert!(o["radeg"].is_f64() && o["internal_names"].as_str().unwrap().contains("ATLAS"));
        assert!(!o["photometry"].as_array().unwrap().is_empty());
        // Cone searches draw from both quotas; the cone one (2) runs out first.
        let cone = json!({"ra": "00:00:00", "dec": "+00:00:00", "radius": "1", "units": "arcsec"}).to_string();
        let r = post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", cone.clone())]).await;
        assert_eq!(r.headers()["x-cone-rate-limit-remaining"], "1");
        let r = post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", cone.clone())]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-cone-rate-limit-remaining"], "0");
        let r = post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", cone)]).await;
        assert_eq!(r.status(), 429);
        assert!(r.headers()["x-cone-rate-limit-reset"].to_str().unwrap().parse::<u64>().unwrap() <= 60);
        assert_eq!(r.json::<Value>().await.unwrap()["id_code"], 429);
        // The general window resets after 60 s of simulated time.
        sb.advance(Duration::from_secs(61));
        let r = post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", data)]).await;
        assert_eq!(r.headers()["x-rate-limit-remaining"], "4");
    }
}

#[tokio::test]
async fn report_queue_and_csv_dump() {
    let sb = start(TnsEnvelope::Current).await;
    let key = sb.credentials().tns.api_key.clone();
    let ua = marker(&sb);
    let report = json!({"at_report": {"0": {"ra": {"value": "10.5", "units": "deg"}, "dec": {"value": "-20.25", "units": "deg"},
        "reporting_group_id": "48", "reporter": "Sandbox", "discovery_datetime": "2026-01-02 03:04:05", "internal_name": "ZTF26aaaaaab"}}});
    let v: Value = post(&sb, "api/set/bulk-report", &ua, &[("api_key", key.clone()), ("data", report.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let id = v["data"]["report_id"].as_str().unwrap().to_string();
    // Not processed yet: 404.
    let r = post(&sb, "api/get/bulk-report-reply", &ua, &[("api_key", key.clone()), ("report_id", id.clone())]).await;
    assert_eq!(r.status(), 404);
    // Nor applied: TNS processes reports in a queue, so no object has the internal name yet.
    let d = json!({"internal_name": "ZTF26aaaaaab", "internal_name_exact_match": 1}).to_string();
    let v: Value =
        post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", d)]).await.json().await.unwrap();
    assert_eq!(v["data"].as_array().map(Vec::len), Some(0), "{v}");
    sb.advance(Duration::from_secs(3));
    let v: Value = post(&sb, "api/get/bulk-report-reply", &ua, &[("api_key", key.clone()), ("report_id", id)])
        .await
        .json()
        .await
        .unwrap();
    let fb = &v["data"]["feedback"]["at_report"][0]["100"];
    let new_name = fb["objname"].as_str().unwrap().to_string();
    // The new object is searchable by its internal name and is in the CSV dump.
    let d = json!({"internal_name": "ZTF26aaaaaab", "internal_name_exact_match": 1}).to_string();
    let v: Value =
        post(&sb, "api/get/search", &ua, &[("api_key", key.clone()), ("data", d)]).await.json().await.unwrap();
    assert_eq!(v["data"][0]["objname"], new_name.as_str());
    // A report with missing fields: each field's error, HTTP 400.
    let bad = json!({"at_report": {"0": {"ra": {"value": "400"}, "internal_name": "X1"}}});
    let v: Value = post(&sb, "api/set/bulk-report", &ua, &[("api_key", key.clone()), ("data", bad.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let id = v["data"]["report_id"].as_str().unwrap().to_string();
    sb.advance(Duration::from_secs(3));
    let r = post(&sb, "api/get/bulk-report-reply", &ua, &[("api_key", key.clone()), ("report_id", id)]).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let entry = &v["data"]["feedback"]["at_report"][0];
    assert!(entry["ra"][0]["message"].is_string() && entry["reporter"][0]["message"].is_string(), "{entry}");

    sb.advance(Duration::from_secs(61));
    let r =
        post(&sb, "system/files/tns_public_objects/tns_public_objects.csv.zip", &ua, &[("api_key", key.clone())]).await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut text = String::new();
    z.by_index(0).unwrap().read_to_string(&mut text).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with('"'));
    assert!(lines.next().unwrap().starts_with("\"objid\",\"name_prefix\",\"name\",\"ra\",\"declination\""));
    assert!(text.contains(&format!("\"{new_name}\"")));
    let n_objects = sb.objects().iter().filter(|o| o.tns_name.is_some()).count();
    assert_eq!(text.lines().count(), 2 + n_objects + 1);
    // Unknown staged file: 404.
    let r = post(&sb, "system/files/tns_public_objects/other.txt", &ua, &[("api_key", key)]).await;
    assert_eq!(r.status(), 404);
}
