//! The sandbox's own tests, with reqwest as a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_sandbox::{Fault, Faults, QueueConfig, RateLimits, Sandbox, Service, WindowLimit};
use serde_json::Value;
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn small() -> Sandbox {
    Sandbox::builder().seed(3).objects(60).limits(RateLimits::unlimited()).start().await.unwrap()
}

#[tokio::test]
async fn alerce_redirect_pagination_and_lightcurve() {
    let sb = small().await;
    let c = client();
    let ztf = &sb.urls().alerce.ztf;
    let r = c.get(format!("{ztf}objects?page_size=5&count=true")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.ends_with("/ztf/v1/objects/?page_size=5&count=true"), "{loc}");
    let mut seen = Vec::new();
    let mut page = 1;
    let total = loop {
        let v: Value = c
            .get(format!("{ztf}objects/?page_size=7&count=true&page={page}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["page"].is_null());
        for it in v["items"].as_array().unwrap() {
            assert!(it["ndethist"].is_string());
            seen.push(it["oid"].as_str().unwrap().to_string());
        }
        if !v["has_next"].as_bool().unwrap() {
            break v["total"].as_u64().unwrap();
        }
        page += 1;
    };
    assert_eq!(seen.len() as u64, total);
    // count=false: no total, no next.
    let v: Value = c.get(format!("{ztf}objects/?page_size=2")).send().await.unwrap().json().await.unwrap();
    assert!(v["total"].is_null() && v["next"].is_null() && !v["has_next"].as_bool().unwrap());
    // Bad choice: Flask-RESTX 400.
    let r = c.get(format!("{ztf}objects/?order_mode=None")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "Input payload validation failed");
    assert!(v["errors"]["order_mode"].as_str().unwrap().contains("'None' is not a valid choice"));
    // Detections omit nulls, candid is a string.
    let oid = &seen[0];
    let d: Value = c.get(format!("{ztf}objects/{oid}/detections")).send().await.unwrap().json().await.unwrap();
    let first = &d.as_array().unwrap()[0];
    assert!(first["candid"].is_string());
    assert!(first.get("parent_candid").is_none());
    let r = c.get(format!("{ztf}objects/ZTF00nothing")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().starts_with("Object not found"));
    // gzip FITS stamp: 63x63 float32.
    let cand = first["candid"].as_str().unwrap();
    let r = c
        .get(format!("{}/get_stamp?oid={oid}&candid={cand}&type=science&format=fits", sb.urls().alerce.ztf_stamps))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let gz = r.bytes().await.unwrap();
    let mut fits = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut fits).unwrap();
    assert_eq!(fits.len(), 20160);
    let header = String::from_utf8_lossy(&fits[..2880]);
    assert!(header.contains("BITPIX  =                  -32") && header.contains("NAXIS1  =                   63"));
}

#[tokio::test]
async fn lsst_ids_are_64_bit_integers() {
    let sb = small().await;
    let v: Value = client()
        .get(format!("{}object_api/list_objects?survey=lsst&page_size=3", sb.urls().alerce.multisurvey))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oid = v["items"][0]["oid"].as_u64().unwrap();
    assert!(oid > (1u64 << 53));
    assert_eq!(v["current_page"], 1);
}

#[tokio::test]
async fn same_transient_in_every_service() {
    let sb = small().await;
    let c = client();
    let obj = sb.objects().into_iter().find(|o| o.transient && o.ztf_oid.is_some()).unwrap();
    let creds = sb.credentials().clone();
    // ATLAS objects/ with form body and Token auth.
    let v: Value = c
        .post(format!("{}objects/", sb.urls().atlas))
        .header("Authorization", format!("Token {}", creds.atlas.token))
        .form(&[("objects", obj.atlas_id.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v[0]["object"]["id"].as_u64().unwrap(), obj.atlas_id);
    // SkyPortal source.
    let v: Value = c
        .get(format!("{}/api/sources/{}", sb.urls().skyportal, obj.skyportal_id))
        .header("Authorization", format!("token {}", creds.skyportal.token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success");
    assert!((v["data"]["ra"].as_f64().unwrap() - obj.ra).abs() < 1e-9);
    // ATLAS cone search finds it.
    let v: Value = c
        .post(format!("{}cone/", sb.urls().atlas))
        .header("Authorization", format!("Token {}", creds.atlas.token))
        .form(&[
            ("ra", obj.ra.to_string()),
            ("dec", obj.dec.to_string()),
            ("radius", "3".into()),
            ("requestType", "nearest".into()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"].as_u64().unwrap(), obj.atlas_id);
}

#[tokio::test]
async fn atlas_auth_and_throttle() {
    let mut limits = RateLimits::unlimited();
    limits.atlas_user = Some(WindowLimit::new(3, Duration::from_secs(3600)));
    let sb = Sandbox::builder().objects(20).limits(limits).start().await.unwrap();
    let c = client();
    let url = format!("{}vrascoreslist/", sb.urls().atlas);
    let r = c.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Authentication credentials were not provided.");
    let bad = c
        .post(&url)
        .header("Authorization", format!("Token {}", sb.credentials().atlas.expired_token))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["detail"], "Token has expired.");
    let ro = c
        .post(format!("{}vratodo/", sb.urls().atlas))
        .header("Authorization", format!("Token {}", sb.credentials().atlas.readonly_token))
        .form(&[("objectid", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(ro.status(), 403);
    let tok = format!("Token {}", sb.credentials().atlas.token);
    for _ in 0..3 {
        assert_eq!(c.post(&url).header("Authorization", &tok).send().await.unwrap().status(), 200);
    }
    let r = c.post(&url).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 3000);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request was throttled. Expected available in")
    );
    sb.advance(Duration::from_secs(3601));
    assert_eq!(c.post(&url).header("Authorization", &tok).send().await.unwrap().status(), 200);
    // 2xx with a logical failure in `info`.
    let v: Value = c
        .post(format!("{}objectgroups/", sb.urls().atlas))
        .header("Authorization", &tok)
        .form(&[("objectid", "1000000000000000000"), ("objectgroupid", "73")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["info"], "Object does not exist.");
}

#[tokio::test]
async fn skyportal_paging_query_id_and_nginx_429() {
    let sb = Sandbox::builder().objects(40).start().await.unwrap();
    let c = client();
    let tok = format!("token {}", sb.credentials().skyportal.token);
    let base = format!("{}/api/sources", sb.urls().skyportal);
    let first: Value = c
        .get(format!("{base}?numPerPage=15&useCache=true"))
        .header("Authorization", &tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qid = first["data"]["queryID"].as_str().unwrap().to_string();
    let total = first["data"]["totalMatches"].as_u64().unwrap();
    assert_eq!(total, 40);
    let mut ids: Vec<String> =
        first["data"]["sources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    // A new source saved between pages does not disturb a queryID walk.
    let r = c
        .post(&base)
        .header("Authorization", &tok)
        .json(&serde_json::json!({"id": "SBXnew1", "ra": 10.0, "dec": 5.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for page in 2..=3 {
        let v: Value = c
            .get(format!("{base}?numPerPage=15&pageNumber={page}&useCache=true&queryID={qid}"))
            .header("Authorization", &tok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(v["data"]["sources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    // The server's cache rules (`get_sources`): page > 1 needs the queryID, page 1 must not
    // have it; both are 400s with the server's text.
    for (query, message) in [
        (
            "pageNumber=2&useCache=true".to_string(),
            "Cannot retrieve sources: Cannot use cache and not specify a query_id when requesting a page number > 1",
        ),
        (
            format!("pageNumber=1&useCache=true&queryID={qid}"),
            "Cannot retrieve sources: Cannot use cache and specify a query_id when requesting the first page",
        ),
    ] {
        let r = c.get(format!("{base}?{query}")).header("Authorization", &tok).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["message"], message);
    }
    // Without the cache a queryID is ignored, and any page can be asked.
    let r = c.get(format!("{base}?pageNumber=2&queryID={qid}")).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Lowercase scheme only.
    let r = c
        .get(&base)
        .header("Authorization", format!("Token {}", sb.credentials().skyportal.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // nginx: burst 10 at 5 r/s, then an HTML 429 without Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let r =
            c.get(format!("{}/api/groups", sb.urls().skyportal)).header("Authorization", &tok).send().await.unwrap();
        statuses.push((r.status().as_u16(), r.headers().get("retry-after").is_some(), r.text().await.unwrap()));
    }
    let throttled: Vec<_> = statuses.iter().filter(|s| s.0 == 429).collect();
    assert!(!throttled.is_empty());
    assert!(throttled.iter().all(|s| !s.1 && s.2.contains("<center><h1>429 Too Many Requests</h1></center>")));
}

#[tokio::test]
async fn photometry_post_exactly_once_under_resets() {
    let sb = small().await;
    let c = client();
    let tok = format!("token {}", sb.credentials().skyportal.token);
    let obj = sb.objects()[0].skyportal_id.clone();
    let body = serde_json::json!({"obj_id": obj, "instrument_id": 1, "mjd": [60500.1, 60500.2], "mag": [19.1, 19.2], "magerr": [0.1, 0.1],
                                  "limiting_mag": 21.0, "magsys": "ab", "filter": "ztfg"});
    sb.inject(Service::SkyPortal, Fault::ResetMidBody);
    let r = c
        .post(format!("{}/api/photometry", sb.urls().skyportal))
        .header("Authorization", &tok)
        .json(&body)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "the reset must surface as an error");
    // The write was applied although the client saw an error: a blind retry duplicates (400).
    let r = c
        .post(format!("{}/api/photometry", sb.urls().skyportal))
        .header("Authorization", &tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("already exists"));
    // PUT is the idempotent upsert.
    let r = c
        .put(format!("{}/api/photometry", sb.urls().skyportal))
        .header("Authorization", &tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sb.applied_count(Service::SkyPortal, "POST", "/api/photometry"), 1);
    let log = sb.requests_for(Service::SkyPortal);
    assert_eq!(log[0].fault.as_deref(), Some("reset"));
    assert!(log[0].handled);
}

#[tokio::test]
async fn faults_status_html_truncate_storm_latency() {
    let sb = small().await;
    let c = client();
    let url = format!("{}classifiers/", sb.urls().alerce.ztf);
    sb.inject(Service::Alerce, Fault::Status(503));
    sb.inject(Service::Alerce, Fault::Html(200));
    sb.inject(Service::Alerce, Fault::Truncate);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("<html>"));
    let r = c.get(&url).send().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    sb.throttle_storm(Service::ForcedPhot, Duration::from_secs(30));
    let r = c.get(format!("{}/queue/", sb.urls().forcedphot)).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    sb.advance(Duration::from_secs(31));
    assert_eq!(c.get(format!("{}/queue/", sb.urls().forcedphot)).send().await.unwrap().status(), 403);
    sb.set_faults(Service::Atlas, Faults { latency: Duration::from_millis(150), ..Default::default() });
    let t = std::time::Instant::now();
    let _ = c.post(format!("{}cone/", sb.urls().atlas)).send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    // Random error fraction, reproducible: about half of 200 requests fail.
    sb.set_faults(Service::Alerce, Faults { error_rate: 0.5, ..Default::default() });
    let mut errors = 0;
    for _ in 0..60 {
        if c.get(&url).send().await.unwrap().status().is_server_error() {
            errors += 1;
        }
    }
    assert!((15..=45).contains(&errors), "{errors}");
    sb.inject(Service::Alerce, Fault::SlowDrip);
    sb.clear_faults();
    sb.inject(Service::Alerce, Fault::SlowDrip);
    let t = std::time::Instant::now();
    let body = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
    assert!(t.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn forced_photometry_queue_lifecycle() {
    let q =
        QueueConfig { queue_delay: Duration::from_secs(10), run_time: Duration::from_secs(20), ..Default::default() };
    let sb = Sandbox::builder().objects(60).queue(q).start().await.unwrap();
    let c = client();
    let base = sb.urls().forcedphot.clone();
    let creds = sb.credentials().forcedphot.clone();
    // Token endpoint.
    let v: Value = c
        .post(format!("{base}/api-token-auth/"))
        .form(&[("username", creds.username.as_str()), ("password", creds.password.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = format!("Token {}", v["token"].as_str().unwrap());
    let obj = sb.objects().into_iter().find(|o| o.transient).unwrap();
    let r = c
        .post(format!("{base}/queue/"))
        .header("Authorization", &tok)
        .header("Accept", "application/json")
        .form(&[("ra", obj.ra.to_string()), ("dec", obj.dec.to_string()), ("mjd_min", "60000".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let task: Value = r.json().await.unwrap();
    let url = task["url"].as_str().unwrap().to_string();
    assert!(url.ends_with('/') && url.starts_with("http://"));
    assert!(task["starttimestamp"].is_null() && task["queuepos"] == 0);
    assert_eq!(task["send_email"], false); // form post omitting a boolean
    sb.advance(Duration::from_secs(12));
    let v: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert!(v["starttimestamp"].is_string() && v["finishtimestamp"].is_null());
    sb.advance(Duration::from_secs(25));
    let v: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert!(v["finishtimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(v["error_msg"].is_null());
    let result_url = v["result_url"].as_str().unwrap().to_string();
    let text = c.get(&result_url).send().await.unwrap().text().await.unwrap();
    assert!(text.starts_with("###MJD"));
    assert!(text.lines().count() > 10);
    // A task outside the data window finishes with "No data returned".
    let v: Value = c
        .post(format!("{base}/queue/"))
        .header("Authorization", &tok)
        .json(&serde_json::json!({"ra": 10.0, "dec": 10.0, "mjd_min": 70000.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["send_email"], true); // JSON post: model default
    sb.advance(Duration::from_secs(100));
    let v: Value = c.get(v["url"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["error_msg"], "No data returned");
    assert!(v["result_url"].is_null());
    // DELETE by someone else, then by the owner.
    let r = c.delete(&url).header("Authorization", format!("Token {}", creds.other_token)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c.delete(&url).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.unwrap(), "Page not found");
    // Batch: radeclist up to the limit, cursor pagination over the list.
    let lines: Vec<String> = (0..30).map(|i| format!("{},{}", i as f64 * 3.0, -10.0 + i as f64)).collect();
    let r = c
        .post(format!("{base}/queue/"))
        .header("Authorization", &tok)
        .form(&[("radeclist", lines.join("\n")), ("mjd_min", "60100".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap().as_array().unwrap().len(), 30);
    let too_many: Vec<String> = (0..101).map(|i| format!("{i} 10")).collect();
    let r = c
        .post(format!("{base}/queue/"))
        .header("Authorization", &tok)
        .form(&[("radeclist", too_many.join("\n"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["radeclist"], "Number of lines (101) is above the limit of 100");
    let mut next = Some(format!("{base}/queue/"));
    let mut ids = Vec::new();
    while let Some(u) = next {
        let v: Value = c.get(&u).header("Authorization", &tok).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["taskcount"], 31);
        ids.extend(v["results"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()));
        next = v["next"].as_str().map(str::to_string);
    }
    assert_eq!(ids.len(), 31);
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
    // Expiry: results of API tasks are gone after 31 days.
    sb.advance(Duration::from_secs(32 * 86400));
    let r = c.get(format!("{base}/queue/")).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["taskcount"], 0);
    let r = c.get(&result_url).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn forced_photometry_write_throttle_and_task_limit() {
    let mut limits = RateLimits::unlimited();
    limits.forcedphot_writes = Some(WindowLimit::new(3, Duration::from_secs(60)));
    let q = QueueConfig { max_user_tasks: 4, ..Default::default() };
    let sb = Sandbox::builder().objects(10).limits(limits).queue(q).start().await.unwrap();
    let c = client();
    let base = sb.urls().forcedphot.clone();
    let tok = format!("Token {}", sb.credentials().forcedphot.token);
    let post = |body: Vec<(&'static str, String)>| {
        c.post(format!("{base}/queue/")).header("Authorization", &tok).form(&body).send()
    };
    assert_eq!(post(vec![("ra", "1".into()), ("dec", "2".into())]).await.unwrap().status(), 201);
    // Invalid POSTs count too.
    assert_eq!(post(vec![("ra", "1".into())]).await.unwrap().status(), 400);
    assert_eq!(post(vec![("radeclist", "1 2\n3 4\n5 6\n7 8".into())]).await.unwrap().status(), 400);
    let r = post(vec![("ra", "1".into()), ("dec", "2".into())]).await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let detail = r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().to_string();
    assert_eq!(detail, format!("Request was throttled. Expected available in {retry} seconds."));
    sb.advance(Duration::from_secs(61));
    // The first task has started by now: only not-yet-started tasks count.
    let r = post(vec![("radeclist", "1 2\n3 4\n5 6\n7 8\n9 10".into())]).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["non_field_errors"],
        "ERROR: You have too many queued tasks (0 queued + 5 requested > 4)."
    );
    let r = post(vec![("radeclist", "1 2\n3 4\n5 6\n7 8".into())]).await.unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn atlas_token_expiry_and_refresh() {
    let mut b = Sandbox::builder().objects(10).limits(RateLimits::unlimited());
    b.config_mut().atlas_token_ttl = Duration::from_secs(600);
    let sb = b.start().await.unwrap();
    let c = client();
    let creds = sb.credentials().atlas.clone();
    let url = format!("{}vratodolist/", sb.urls().atlas);
    let tok = format!("Token {}", creds.token);
    assert_eq!(c.post(&url).header("Authorization", &tok).send().await.unwrap().status(), 200);
    let login = [("username", creds.username.clone()), ("password", creds.password.clone())];
    let v: Value =
        c.post(format!("{}auth-token/", sb.urls().atlas)).form(&login).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["token"], creds.token.as_str());
    assert_eq!(v["refreshed"], false);
    sb.advance(Duration::from_secs(601));
    let r = c.post(&url).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Token");
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Token has expired.");
    let v: Value =
        c.post(format!("{}auth-token/", sb.urls().atlas)).form(&login).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["refreshed"], true);
    let new = v["token"].as_str().unwrap().to_string();
    assert_eq!(new.len(), 40);
    assert_eq!(c.post(&url).header("Authorization", format!("Token {new}")).send().await.unwrap().status(), 200);
    let r = c.post(&url).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Invalid token.");
    let bad = [("username", creds.username.clone()), ("password", "nope".to_string())];
    let r = c.post(format!("{}auth-token/", sb.urls().atlas)).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["non_field_errors"][0], "Unable to log in with provided credentials.");
}

#[tokio::test]
async fn large_configurations() {
    let sky = broker_sandbox::SkyConfig {
        objects: 5,
        points_per_lightcurve: Some(30_000),
        extra_skyportal_sources: 100_000,
        ..Default::default()
    };
    let sb = Sandbox::builder().sky(sky).limits(RateLimits::unlimited()).start().await.unwrap();
    let c = client();
    let tok = format!("token {}", sb.credentials().skyportal.token);
    let v: Value = c
        .get(format!("{}/api/sources?numPerPage=1000", sb.urls().skyportal))
        .header("Authorization", &tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["totalMatches"], 100_005);
    assert_eq!(v["data"]["numPerPage"], 500); // silently clamped
    let obj = &sb.objects()[0];
    let v: Value = c
        .post(format!("{}objects/", sb.urls().atlas))
        .header("Authorization", format!("Token {}", sb.credentials().atlas.token))
        .form(&[("objects", obj.atlas_id.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = v[0]["lc"].as_array().unwrap().len() + v[0]["lcnondets"].as_array().unwrap().len();
    assert_eq!(n, 30_000);
}

/// The ZTF v1 light curve is built once per object and then served from memory: the same
/// bytes and headers every time, consistent with the detections and non-detections endpoints.
#[tokio::test]
async fn alerce_lightcurve_reply_cached_identical() {
    let sb = small().await;
    let c = client();
    let ztf = &sb.urls().alerce.ztf;
    let oid = sb.objects().iter().find_map(|o| o.ztf_oid.clone()).unwrap();
    let get = |path: String| {
        let c = c.clone();
        async move {
            let r = c.get(path).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "application/json");
            r.bytes().await.unwrap()
        }
    };
    let first = get(format!("{ztf}objects/{oid}/lightcurve")).await;
    let second = get(format!("{ztf}objects/{oid}/lightcurve")).await;
    assert_eq!(first, second);
    let v: Value = serde_json::from_slice(&first).unwrap();
    let det: Value = serde_json::from_slice(&get(format!("{ztf}objects/{oid}/detections")).await).unwrap();
    let non: Value = serde_json::from_slice(&get(format!("{ztf}objects/{oid}/non_detections")).await).unwrap();
    assert_eq!(v["detections"], det);
    assert_eq!(v["non_detections"], non);
    assert!(!det.as_array().unwrap().is_empty());
}

/// The ZTF server keeps a cone only when `ra and dec and radius` are truthy: a 0 returns
/// objects from the whole sky (the quirk the client works around), a tiny non-zero keeps it.
#[tokio::test]
async fn alerce_ztf_cone_at_zero_is_ignored_as_on_the_server() {
    let sb = small().await;
    let c = client();
    let ztf = &sb.urls().alerce.ztf;
    let get = |q: String| {
        let c = c.clone();
        async move { c.get(q).send().await.unwrap().json::<Value>().await.unwrap()["total"].as_u64().unwrap() }
    };
    let all = get(format!("{ztf}objects/?count=true&page_size=1")).await;
    assert!(all > 1);
    let zero = get(format!("{ztf}objects/?count=true&page_size=1&ra=0&dec=0&radius=5")).await;
    assert_eq!(zero, all, "a 0 coordinate must drop the cone, as the server does");
    let tiny =
        get(format!("{ztf}objects/?count=true&page_size=1&ra=2.2250738585072014e-308&dec=0.0001&radius=5")).await;
    assert!(tiny < all, "a non-zero coordinate keeps the cone");
}

/// `objectdetectionlist/` and `vrarank/` as the server's serializers do them: the object is
/// looked up before the list is checked; `insertdate` becomes the object's `date_modified`
/// (resp. the rank row's `timestamp`); a second `vrarank/` is an upsert answered "Row
/// created." again.
#[tokio::test]
async fn atlas_detection_list_and_rank_take_insertdate() {
    let sb = small().await;
    let c = client();
    let tok = format!("Token {}", sb.credentials().atlas.token);
    let oid = sb.objects()[0].atlas_id.to_string();
    let post = |path: &str, form: Vec<(&str, String)>| {
        c.post(format!("{}{path}", sb.urls().atlas)).header("Authorization", tok.clone()).form(&form).send()
    };
    let r = post("objectdetectionlist/", vec![("objectid", "1000000000000000501".into()), ("objectlist", "1".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["info"], "Object does not exist.");
    assert_eq!(v["objectid"].as_u64(), Some(1_000_000_000_000_000_501));
    let v: Value = post("objectdetectionlist/", vec![("objectid", oid.clone()), ("objectlist", "1".into())])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["info"], "Error updating row.");
    assert_eq!(v["objectid"].as_u64(), sb.objects()[0].atlas_id.into());
    let form =
        vec![("objectid", oid.clone()), ("objectlist", "4".into()), ("insertdate", "2026-07-01T12:30:00Z".into())];
    let v: Value = post("objectdetectionlist/", form).await.unwrap().json().await.unwrap();
    assert_eq!(v["info"], "Row created.");
    let v: Value = post("objects/", vec![("objects", oid.clone())]).await.unwrap().json().await.unwrap();
    assert_eq!(v[0]["object"]["detection_list_id"], 4);
    assert_eq!(v[0]["object"]["date_modified"], "2026-07-01T12:30:00Z");

    for _ in 0..2 {
        let form =
            vec![("objectid", oid.clone()), ("rank", "7.5".into()), ("insertdate", "2026-07-02T00:00:00Z".into())];
        let r = post("vrarank/", form).await.unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["info"], "Row created.");
    }
    let v: Value = post("vraranklist/", vec![("objects", oid.clone())]).await.unwrap().json().await.unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["timestamp"], "2026-07-02T00:00:00Z");
}
