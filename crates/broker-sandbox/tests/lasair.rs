//! The Lasair emulator, with reqwest as a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_sandbox::{RateLimits, Sandbox};
use serde_json::{Value, json};
use std::time::Duration;

async fn small() -> Sandbox {
    Sandbox::builder().seed(5).objects(80).limits(RateLimits::unlimited()).start().await.unwrap()
}

#[tokio::test]
async fn lasair_auth_routes_and_shapes_follow_the_servers() {
    let sb = small().await;
    let c = reqwest::Client::new();
    let (u, k) = (&sb.urls().lasair, &sb.credentials().lasair);
    let objs = sb.objects();
    let z = objs.iter().find(|o| o.ztf_oid.is_some() && o.lsst_oid.is_some()).expect("an object seen by both surveys");
    let ztf_id = z.ztf_oid.clone().unwrap();
    let lsst_id = z.lsst_oid.unwrap();
    let post = |url: String, token: &str, form: Vec<(&str, String)>| {
        c.post(url).header("authorization", format!("Token {token}")).form(&form).send()
    };
    // No token, a wrong server's token, a malformed query token.
    let r = c.post(format!("{}cone/", u.ztf)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post(format!("{}cone/", u.ztf), &k.lsst_token, vec![]).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"detail": "Invalid token."}));
    let r = c.get(format!("{}cone/?token=a-b", u.lsst)).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Invalid token format.");
    // Trailing slash as routed; streams/ is not routed any more.
    assert_eq!(post(format!("{}cone", u.ztf), &k.ztf_token, vec![]).await.unwrap().status(), 404);
    assert_eq!(post(format!("{}streams/", u.ztf), &k.ztf_token, vec![]).await.unwrap().status(), 404);
    assert_eq!(post(format!("{}annotatelist/", u.ztf), &k.ztf_token, vec![]).await.unwrap().status(), 404);
    // Cone shapes.
    let cone = |tok: &str, url: &str, kind: &str| {
        post(
            format!("{url}cone/"),
            tok,
            vec![
                ("ra", z.ra.to_string()),
                ("dec", z.dec.to_string()),
                ("radius", "2".into()),
                ("requestType", kind.into()),
            ],
        )
    };
    let v: Value = cone(&k.ztf_token, &u.ztf, "all").await.unwrap().json().await.unwrap();
    assert_eq!(v[0]["object"], ztf_id.as_str());
    let v: Value = cone(&k.lsst_token, &u.lsst, "all").await.unwrap().json().await.unwrap();
    assert_eq!(v["objects"][0]["object"].as_u64(), Some(lsst_id));
    assert_eq!(v["nearest"]["object"].as_u64(), Some(lsst_id));
    let v: Value = cone(&k.lsst_token, &u.lsst, "nearest").await.unwrap().json().await.unwrap();
    assert_eq!(v["nearest"]["object"].as_u64(), Some(lsst_id));
    let v: Value = cone(&k.ztf_token, &u.ztf, "nearest").await.unwrap().json().await.unwrap();
    assert_eq!(v["object"], ztf_id.as_str());
    let r = post(
        format!("{}cone/", u.lsst),
        &k.lsst_token,
        vec![("ra", "1".into()), ("dec", "1".into()), ("radius", "2000".into()), ("requestType", "all".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "Max radius is 1000 arcsec."}));
    let r = post(format!("{}cone/", u.lsst), &k.lsst_token, vec![("ra", "1".into())]).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["dec"], json!(["This field is required."]));
    // Objects: LSST echoes the id as a string; unknown is 404 (LSST) or 500 (ZTF).
    let v: Value = post(
        format!("{}object/", u.lsst),
        &k.lsst_token,
        vec![("objectId", lsst_id.to_string()), ("lite", "False".into()), ("lasair_added", "True".into())],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v["diaObjectId"], lsst_id.to_string());
    assert!(v["diaSourcesList"].as_array().unwrap().iter().all(|s| s["diaSourceId"].is_u64()));
    assert!(v["lasairData"]["sherlock"]["classification"].is_string());
    let r = post(
        format!("{}object/", u.lsst),
        &k.lsst_token,
        vec![("objectId", "12345".into()), ("lite", "False".into()), ("lasair_added", "True".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    let r = post(
        format!("{}object/", u.ztf),
        &k.ztf_token,
        vec![("objectId", "ZTF99zzzzzzz".into()), ("lite", "False".into()), ("lasair_added", "True".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 500);
    let v: Value = post(
        format!("{}object/", u.ztf),
        &k.ztf_token,
        vec![("objectId", ztf_id.clone()), ("lite", "True".into()), ("lasair_added", "False".into())],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let cands = v["candidates"].as_array().unwrap();
    assert!(cands.iter().any(|c| c.get("candid").is_some()) && cands.iter().any(|c| c.get("candid").is_none()));
    assert!(
        cands
            .iter()
            .filter(|c| c.get("candid").is_none())
            .all(|c| c.get("magpsf").is_none() && c["diffmaglim"].is_f64())
    );
    // Query: refusals, limit/offset.
    let q = |form: Vec<(&str, String)>| post(format!("{}query/", u.lsst), &k.lsst_token, form);
    let r = q(vec![
        ("selected", "diaObjectId".into()),
        ("tables", "objects".into()),
        ("conditions", "ra > 1 limit 5".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let all: Value = q(vec![
        ("selected", "diaObjectId, ra".into()),
        ("tables", "objects".into()),
        ("conditions", "".into()),
        ("limit", "3".into()),
        ("offset", "2".into()),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert!(all[0]["diaObjectId"].is_u64() && all[0]["ra"].is_f64());
    let r =
        q(vec![("selected", "nosuch".into()), ("tables", "objects".into()), ("conditions", "".into())]).await.unwrap();
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("<br/>"));
    // Annotations: only the owner of the topic; the LSST list route takes JSON.
    let r = post(
        format!("{}annotate/", u.lsst),
        &k.dummy_token,
        vec![
            ("topic", k.annotator_topic.clone()),
            ("objectId", lsst_id.to_string()),
            ("classification", "SN".into()),
            ("version", "1".into()),
            ("explanation", "".into()),
            ("classdict", "{}".into()),
            ("url", "".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(format!("{}annotatelist/", u.lsst))
        .header("authorization", format!("Token {}", k.lsst_token))
        .json(&json!({"annotations": [{"topic": k.annotator_topic, "objectId": lsst_id, "classification": "SN", "version": "1", "explanation": "", "classdict": "{}", "url": ""}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "success", "n": 1}));
    let v: Value = post(
        format!("{}object/", u.lsst),
        &k.lsst_token,
        vec![("objectId", lsst_id.to_string()), ("lite", "False".into()), ("lasair_added", "True".into())],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v["lasairData"]["annotations"][0]["classification"], "SN");
}

#[tokio::test]
async fn lasair_throttles_per_token_per_hour_with_retry_after() {
    let sb = small().await;
    let c = reqwest::Client::new();
    let (u, k) = (&sb.urls().lasair, &sb.credentials().lasair);
    let form = [("ra", "1"), ("dec", "1"), ("radius", "1"), ("requestType", "count")];
    for _ in 0..10 {
        let r = c
            .post(format!("{}cone/", u.ztf))
            .header("authorization", format!("Token {}", k.dummy_token))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    sb.advance(Duration::from_secs(600));
    let r = c
        .post(format!("{}cone/", u.ztf))
        .header("authorization", format!("Token {}", k.dummy_token))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((2990..=3000).contains(&wait), "{wait}");
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().starts_with("Request limit exceeded"));
    // A user token, and the other server, have their own windows.
    let r = c
        .post(format!("{}cone/", u.ztf))
        .header("authorization", format!("Token {}", k.ztf_token))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{}cone/", u.lsst))
        .header("authorization", format!("Token {}", k.dummy_token))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sb.advance(Duration::from_secs(3000));
    let r = c
        .post(format!("{}cone/", u.ztf))
        .header("authorization", format!("Token {}", k.dummy_token))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn lasair_user_token_quota_is_configurable_and_the_dummy_token_keeps_ten() {
    let mut b = Sandbox::builder().seed(5).objects(80).limits(RateLimits::unlimited());
    b.config_mut().lasair_user_calls_per_hour = 3;
    let sb = b.start().await.unwrap();
    let c = reqwest::Client::new();
    let (u, k) = (&sb.urls().lasair, &sb.credentials().lasair);
    let form = [("ra", "1"), ("dec", "1"), ("radius", "1"), ("requestType", "count")];
    let call = |token: &str| {
        c.post(format!("{}cone/", u.ztf)).header("authorization", format!("Token {token}")).form(&form).send()
    };
    for _ in 0..3 {
        assert_eq!(call(&k.ztf_token).await.unwrap().status(), 200);
    }
    assert_eq!(call(&k.ztf_token).await.unwrap().status(), 429);
    for _ in 0..10 {
        assert_eq!(call(&k.dummy_token).await.unwrap().status(), 200);
    }
    assert_eq!(call(&k.dummy_token).await.unwrap().status(), 429);
}

#[tokio::test]
async fn lasair_faults_are_injected_in_its_own_shapes_and_logged() {
    use broker_sandbox::{Fault, Faults, Service};
    let sb = small().await;
    let c = reqwest::Client::new();
    let (u, k) = (sb.urls().lasair.clone(), sb.credentials().lasair.clone());
    let form = [("ra", "1"), ("dec", "1"), ("radius", "1"), ("requestType", "count")];
    let call = |url: &str| {
        c.post(format!("{url}cone/")).header("authorization", format!("Token {}", k.ztf_token)).form(&form).send()
    };
    // Pre-handler faults: gateway pages are nginx's (the proxy in front of mod_wsgi-express),
    // a 500 is Django's page, a 429 is exactly the servers' own throttle reply.
    sb.inject(Service::Lasair, Fault::Status(503));
    sb.inject(Service::Lasair, Fault::Status(500));
    sb.inject(Service::Lasair, Fault::Html(502));
    sb.inject(Service::Lasair, Fault::Throttle { retry_after_secs: 7 });
    let r = call(&u.ztf).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("<center>nginx</center>"));
    let r = call(&u.ztf).await.unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("<h1>Server Error (500)</h1>"));
    let r = call(&u.lsst).await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("<center>nginx</center>"));
    let r = call(&u.ztf).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let injected: Value = r.json().await.unwrap();
    // Post-handler faults: the handler ran (the call counts against the quota).
    sb.inject(Service::Lasair, Fault::Truncate);
    sb.inject(Service::Lasair, Fault::ResetMidBody);
    let body = call(&u.ztf).await.unwrap().bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "cut short");
    let r = call(&u.ztf).await;
    assert!(r.is_err() || r.unwrap().bytes().await.is_err(), "reset mid-body");
    assert!(call(&u.ztf).await.unwrap().json::<Value>().await.unwrap()["count"].is_u64(), "fault-free again");

    let log = sb.requests_for(Service::Lasair);
    let faults: Vec<Option<&str>> = log.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(
        faults,
        [
            Some("status 503"),
            Some("status 500"),
            Some("html 502"),
            Some("throttle"),
            Some("truncate"),
            Some("reset"),
            None
        ]
    );
    let handled: Vec<bool> = log.iter().map(|r| r.handled).collect();
    assert_eq!(handled, [false, false, false, false, true, true, true]);
    assert_eq!(log[2].path, "/lsst/api/cone/");
    assert!(log.iter().all(|r| r.service == Service::Lasair && r.method == "POST"));
    assert!(sb.requests_for(Service::Alerce).is_empty());
    // The admin route on Lasair's port lists its requests.
    let origin = u.ztf.trim_end_matches("/ztf/api/");
    let v: Value = c.get(format!("{origin}/__sandbox/requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!((v["service"].as_str(), v["count"].as_u64()), (Some("lasair"), Some(7)));

    // The quota's own 429 has the injected one's shape.
    let mut b = Sandbox::builder().seed(5).objects(20);
    b.config_mut().lasair_user_calls_per_hour = 1;
    let sb2 = b.start().await.unwrap();
    let (u2, k2) = (&sb2.urls().lasair, &sb2.credentials().lasair);
    let call2 = || {
        c.post(format!("{}cone/", u2.ztf)).header("authorization", format!("Token {}", k2.ztf_token)).form(&form).send()
    };
    assert_eq!(call2().await.unwrap().status(), 200);
    let r = call2().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap(), injected);
    let limited = sb2.requests_for(Service::Lasair);
    assert_eq!((limited[1].status, limited[1].fault.as_deref(), limited[1].handled), (429, None, true));

    // Random faults: reproducible fractions, and all of them logged.
    sb.clear_requests();
    sb.set_faults(Service::Lasair, Faults { error_rate: 0.5, ..Default::default() });
    let mut errors = 0;
    for _ in 0..60 {
        if call(&u.ztf).await.unwrap().status().is_server_error() {
            errors += 1;
        }
    }
    assert!((15..=45).contains(&errors), "{errors}");
    let log = sb.requests_for(Service::Lasair);
    assert_eq!(log.len(), 60);
    assert_eq!(log.iter().filter(|r| r.fault.is_some()).count(), errors);
}
