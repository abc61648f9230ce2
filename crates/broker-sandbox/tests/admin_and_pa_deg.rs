//! The request-log admin route and the 20-column forced-photometry table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_sandbox::{ADMIN_REQUESTS_PATH, Fault, RateLimits, Sandbox, Service};
use serde_json::{Value, json};
use std::time::Duration;

async fn result_table(pa_deg: bool) -> String {
    let sb = Sandbox::builder().seed(9).objects(40).forcedphot_pa_deg(pa_deg).start().await.unwrap();
    let c = reqwest::Client::new();
    let base = sb.urls().forcedphot.clone();
    let tok = format!("Token {}", sb.credentials().forcedphot.token);
    let obj = sb.objects().into_iter().find(|o| o.transient).unwrap();
    let v: Value = c
        .post(format!("{base}/queue/"))
        .header("Authorization", &tok)
        .json(&json!({"ra": obj.ra, "dec": obj.dec, "mjd_min": 60000.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sb.advance(Duration::from_secs(60));
    let v: Value =
        c.get(v["url"].as_str().unwrap()).header("Authorization", &tok).send().await.unwrap().json().await.unwrap();
    let text = c.get(v["result_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    sb.shutdown().await;
    text
}

fn columns(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header: Vec<String> =
        lines.next().unwrap().trim_start_matches('#').split_whitespace().map(str::to_string).collect();
    let rows = lines.map(|l| l.split_whitespace().map(str::to_string).collect()).collect();
    (header, rows)
}

#[tokio::test]
async fn forced_photometry_table_with_and_without_pa_deg() {
    let (h19, rows19) = columns(&result_table(false).await);
    assert_eq!(h19.len(), 19);
    assert!(!h19.contains(&"PA_DEG".to_string()));
    assert!(rows19.iter().all(|r| r.len() == 19));
    let (h20, rows20) = columns(&result_table(true).await);
    assert_eq!(h20.len(), 20);
    let at = h20.iter().position(|c| c == "PA_DEG").unwrap();
    assert_eq!((h20[at - 1].as_str(), h20[at + 1].as_str()), ("mag5sig", "Sky"));
    assert!(!rows20.is_empty());
    for r in &rows20 {
        assert_eq!(r.len(), 20);
        let pa: f64 = r[at].parse().unwrap();
        assert!(pa.abs() <= 1.0 || (pa - 180.0).abs() <= 1.0, "{pa}");
    }
    // Same data otherwise: the 19 shared columns are identical.
    assert_eq!(rows19.len(), rows20.len());
    for (a, b) in rows19.iter().zip(&rows20) {
        let mut b = b.clone();
        b.remove(at);
        assert_eq!(a, &b);
    }
}

#[tokio::test]
async fn request_log_over_http_on_every_port() {
    let sb = Sandbox::builder().objects(20).limits(RateLimits::unlimited()).start().await.unwrap();
    let c = reqwest::Client::new();
    let sp = sb.urls().skyportal.clone();
    let tok = format!("token {}", sb.credentials().skyportal.token);
    c.get(format!("{sp}/api/sources?numPerPage=2")).header("Authorization", &tok).send().await.unwrap();
    c.post(format!("{sp}/api/classification"))
        .header("Authorization", &tok)
        .json(&json!({"obj_id": sb.objects()[0].skyportal_id, "taxonomy_id": 1, "classification": "Ia"}))
        .send()
        .await
        .unwrap();
    sb.inject(Service::SkyPortal, Fault::Status(503));
    c.get(format!("{sp}/api/sysinfo")).send().await.unwrap();
    c.get(format!("{}objects/", sb.urls().atlas)).send().await.unwrap();

    // The admin route answers on the SkyPortal port with SkyPortal's requests, and is not
    // itself logged or faulted.
    sb.inject(Service::SkyPortal, Fault::Status(500));
    let v: Value = c.get(format!("{sp}{ADMIN_REQUESTS_PATH}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["service"], "skyportal");
    assert_eq!(v["count"], 3);
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs[0]["path"], "/api/sources");
    assert_eq!(reqs[0]["query"], "numPerPage=2");
    assert_eq!(reqs[1]["method"], "POST");
    assert_eq!(reqs[1]["applied"], true);
    assert!(reqs[1]["body"].as_str().unwrap().contains("\"classification\""));
    assert_eq!((reqs[2]["status"].as_u64(), reqs[2]["fault"].as_str()), (Some(503), Some("status 503")));
    assert_eq!(reqs[2]["handled"], false);
    assert_eq!(sb.requests().len(), 4); // the admin GET is not in the log
    // The scripted 500 is still pending: it hits the next real request, not the admin route.
    assert_eq!(c.get(format!("{sp}/api/sysinfo")).send().await.unwrap().status(), 500);

    // Other ports, ?service= and ?since=.
    let fp = sb.urls().forcedphot.trim_end_matches("/forcedphot").to_string();
    let v: Value = c.get(format!("{fp}{ADMIN_REQUESTS_PATH}")).send().await.unwrap().json().await.unwrap();
    assert_eq!((v["service"].as_str(), v["count"].as_u64()), (Some("forcedphot"), Some(0)));
    let v: Value =
        c.get(format!("{fp}{ADMIN_REQUESTS_PATH}?service=all&since=3")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["count"], 2);
    assert_eq!(v["requests"][0]["service"], "atlas");
    let alerce = &sb.urls().alerce.api;
    let v: Value =
        c.get(format!("{alerce}{ADMIN_REQUESTS_PATH}?service=atlas")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["count"], 1);
    let r = c.get(format!("{alerce}{ADMIN_REQUESTS_PATH}?service=nope")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // DELETE clears the whole log.
    let r = c.delete(format!("{sp}{ADMIN_REQUESTS_PATH}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(sb.requests().is_empty());
    sb.shutdown().await;
}
