#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! User input rejected before any request, across the client crates (one table), and the
//! maximum response size of every client.

use broker_core::SkyPosition;
use broker_sandbox::{Sandbox, Service};

/// One row of the table: which client, which case, the error text, and what the text must
/// name (the valid range or form).
struct Row {
    client: &'static str,
    case: &'static str,
    message: Option<String>,
    names: &'static [&'static str],
}

fn row<T: std::fmt::Debug, E: std::fmt::Display>(
    client: &'static str,
    case: &'static str,
    r: Result<T, E>,
    names: &'static [&'static str],
) -> Row {
    Row { client, case, message: r.err().map(|e| e.to_string()), names }
}

#[tokio::test]
async fn every_builder_rejects_bad_input_before_any_request() {
    let sb = Sandbox::builder().seed(201).objects(10).start().await.unwrap();
    let urls = sb.urls().clone();
    let creds = sb.credentials().clone();
    let alerce = alerce_client::AlerceClient::builder().host(&urls.alerce.api).build().unwrap();
    let atlas =
        atlas_client::AtlasClient::builder().base_url(&urls.atlas).token(creds.atlas.token.clone()).build().unwrap();
    let sp = skyportal_client::Client::new(urls.skyportal.clone(), creds.skyportal.token.clone()).unwrap();
    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .token(creds.forcedphot.token.clone())
        .build()
        .unwrap();
    let good = SkyPosition::new(150.0, 2.0).unwrap();
    let nan = f64::NAN;
    use alerce_client::ztf::ObjectQuery;
    use fallingstar_forcedphot::{RunOptions, Target, TaskOptions, TaskRequest};

    let rows = vec![
        // Shared sky positions (every client takes these).
        row("core", "dec 95", SkyPosition::new(10.0, 95.0), &["[-90, 90]"]),
        row("core", "ra 400", SkyPosition::new(400.0, 0.0), &["360"]),
        row("core", "ra NaN", SkyPosition::new(nan, 0.0), &["360"]),
        row("core", "dec -inf", SkyPosition::new(10.0, f64::NEG_INFINITY), &["[-90, 90]"]),
        // ALeRCE
        row(
            "alerce",
            "cone dec 95",
            alerce.ztf().query_objects(&ObjectQuery::new().cone_deg(10.0, 95.0, Some(5.0))).await,
            &["90"],
        ),
        row(
            "alerce",
            "cone ra NaN",
            alerce.ztf().query_objects(&ObjectQuery::new().cone_deg(nan, 0.0, Some(5.0))).await,
            &["360"],
        ),
        row(
            "alerce",
            "cone radius -5",
            alerce.ztf().query_objects(&ObjectQuery::new().cone(good, Some(-5.0))).await,
            &["radius"],
        ),
        row(
            "alerce",
            "firstmjd max<min",
            alerce.ztf().query_objects(&ObjectQuery::new().firstmjd_range(60010.0, 60000.0)).await,
            &["mjd"],
        ),
        row(
            "alerce",
            "lastmjd max<min",
            alerce.ztf().query_objects(&ObjectQuery::new().lastmjd_range(60000.0, 59000.0)).await,
            &["mjd"],
        ),
        row(
            "alerce",
            "firstmjd NaN",
            alerce.ztf().query_objects(&ObjectQuery::new().firstmjd_range(nan, 60000.0)).await,
            &["finite"],
        ),
        row("alerce", "catsHTM radius -1", alerce.catshtm().conesearch(good, -1.0, "GAIA/DR1").await, &["radius"]),
        row("alerce", "catsHTM radius NaN", alerce.catshtm().crossmatch(good, nan, "GAIA/DR1").await, &["radius"]),
        row("alerce", "empty oid", alerce.ztf().object("").await, &["oid"]),
        row("alerce", "empty LSST id list", alerce.lsst().detections(&[]).await, &["at least one"]),
        // ATLAS
        row("atlas", "malformed id", atlas_client::AtlasId::parse("12345"), &["19"]),
        row("atlas", "id with letters", atlas_client::AtlasId::parse("ATLAS18pvq"), &["19"]),
        row("atlas", "empty id list", atlas.sources(Vec::new()).collect().await, &["empty"]),
        row("atlas", "cone radius -1", atlas.cone_all(good, -1.0).await, &["radius"]),
        row("atlas", "cone radius NaN", atlas.cone_all(good, nan).await, &["radius"]),
        row(
            "atlas",
            "empty write list",
            atlas.add_to_custom_list(atlas_client::CustomList::by_name("mookodi").unwrap(), Vec::new()).await,
            &["empty"],
        ),
        // SkyPortal
        row("skyportal", "cone dec 95", sp.sources().list().cone(10.0, 95.0, 0.1).collect_all().await, &["90"]),
        row("skyportal", "cone ra NaN", sp.sources().list().cone(nan, 0.0, 0.1).collect_all().await, &["360"]),
        row(
            "skyportal",
            "cone radius -0.1",
            sp.sources().list().cone(10.0, 0.0, -0.1).collect_all().await,
            &["radius"],
        ),
        row("skyportal", "malformed id", sp.sources().get("a/b").send().await, &["/"]),
        row("skyportal", "empty id", sp.sources().get("").send().await, &["letters, digits"]),
        // Forced photometry
        row("forcedphot", "ra 400", Target::position(400.0, 0.0), &["360"]),
        row("forcedphot", "dec NaN", Target::position(10.0, nan), &["90"]),
        row("forcedphot", "malformed target", Target::parse("not a position"), &["decimal degrees", "sexagesimal"]),
        row(
            "forcedphot",
            "mjd_max <= mjd_min",
            fp.submit(
                &TaskRequest::new(Target::position(10.0, 0.0).unwrap())
                    .options(TaskOptions::new().mjd_min(60010.0).mjd_max(60000.0)),
            )
            .await,
            &["mjd"],
        ),
        row(
            "forcedphot",
            "empty target list",
            fp.run_many(Vec::new(), &TaskOptions::new(), &RunOptions::new()).await,
            &["empty"],
        ),
    ];

    let mut bad = Vec::new();
    for r in &rows {
        match &r.message {
            None => bad.push(format!("{} / {}: accepted", r.client, r.case)),
            Some(m) => {
                let lower = m.to_lowercase();
                if !r.names.iter().all(|n| lower.contains(&n.to_lowercase())) {
                    bad.push(format!("{} / {}: {m:?} does not name {:?}", r.client, r.case, r.names));
                }
            }
        }
    }
    for r in &rows {
        eprintln!("| {} | {} | {} |", r.client, r.case, r.message.as_deref().unwrap_or("ACCEPTED"));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for s in Service::ALL {
        assert!(sb.requests_for(s).is_empty(), "{s} got a request: {:?}", sb.requests_for(s));
    }
}

#[tokio::test]
async fn every_client_has_a_configurable_response_size_limit() {
    let sb = Sandbox::builder().seed(202).objects(20).start().await.unwrap();
    let urls = sb.urls().clone();
    let creds = sb.credentials().clone();
    let obj = sb.objects().into_iter().find(|o| o.ztf_oid.is_some()).unwrap();
    let limit = 256;
    // One attempt: an oversized reply is retried like any transport failure (see RELIABILITY.md).
    let once = broker_core::RetryPolicy::none();
    let says_limit = |m: String| m.contains("exceeds the limit of 256 bytes");

    let alerce = alerce_client::AlerceClient::builder()
        .host(&urls.alerce.api)
        .max_response_bytes(limit)
        .retry(once.clone())
        .build()
        .unwrap();
    let e = alerce.ztf().lightcurve(obj.ztf_oid.as_deref().unwrap()).await.unwrap_err();
    assert!(says_limit(e.to_string()), "alerce: {e}");

    let atlas = atlas_client::AtlasClient::builder()
        .base_url(&urls.atlas)
        .token(creds.atlas.token.clone())
        .max_response_bytes(limit)
        .retry(once.clone())
        .build()
        .unwrap();
    let e = atlas.source(atlas_client::AtlasId::new(obj.atlas_id).unwrap()).send().await.unwrap_err();
    assert!(says_limit(e.to_string()), "atlas: {e}");

    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&urls.skyportal)
        .token(creds.skyportal.token.clone())
        .max_response_bytes(limit)
        .retry(once.clone())
        .build()
        .unwrap();
    let e = sp.sources().list().page_size(50).collect_all().await.unwrap_err();
    assert!(says_limit(e.to_string()), "skyportal: {e}");

    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .token(creds.forcedphot.token.clone())
        .max_response_bytes(limit)
        .retry(once.clone())
        .build()
        .unwrap();
    let e = fp.list().collect_all().await;
    // An empty queue is small; a task list with tasks is not: submit a few first without a limit.
    let _ = e;
    let unlimited = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .token(creds.forcedphot.token.clone())
        .build()
        .unwrap();
    for i in 0..3 {
        unlimited
            .submit(&fallingstar_forcedphot::TaskRequest::position(10.0 + f64::from(i), 5.0).unwrap())
            .await
            .unwrap();
    }
    let e = fp.list().collect_all().await.unwrap_err();
    assert!(says_limit(e.to_string()), "forcedphot: {e}");

    // The same requests pass with the default limit (512 MiB).
    let alerce = alerce_client::AlerceClient::builder().host(&urls.alerce.api).build().unwrap();
    alerce.ztf().lightcurve(obj.ztf_oid.as_deref().unwrap()).await.unwrap();
}

/// The shared builder options (`broker_core::ClientOptions`) reach the wire for every client:
/// a user agent set on each builder is the one each server sees, and one shared reqwest
/// client serves them all.
#[tokio::test]
async fn every_client_applies_the_shared_builder_options() {
    use httpmock::prelude::*;
    let server = MockServer::start_async().await;
    let ua = "my-bot/1.0 (astronomer@example.org)";
    let seen = server
        .mock_async(|when, then| {
            when.header("user-agent", ua);
            then.status(404).header("content-type", "application/json").body(r#"{"detail": "not found"}"#);
        })
        .await;
    let shared = broker_core::reqwest::Client::builder()
        .redirect(broker_core::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let once = broker_core::RetryPolicy::none();
    let t = std::time::Duration::from_secs(30);

    let alerce = alerce_client::AlerceClient::builder()
        .host(&server.base_url())
        .user_agent(ua)
        .retry(once.clone())
        .timeout(t)
        .connect_timeout(t)
        .reqwest_client(shared.clone())
        .build()
        .unwrap();
    let _ = alerce.ztf().lightcurve("ZTF20aaelulu").await;
    assert_eq!(seen.calls_async().await, 1, "alerce");

    let atlas = atlas_client::AtlasClient::builder()
        .base_url(server.url("/api/"))
        .token("0123456789abcdef0123456789abcdef01234567")
        .user_agent(ua)
        .retry(once.clone())
        .reqwest_client(shared.clone())
        .build()
        .unwrap();
    let _ = atlas.source(atlas_client::AtlasId::new(1_000_000_000_000_000_000).unwrap()).send().await;
    assert_eq!(seen.calls_async().await, 2, "atlas");

    let sp = skyportal_client::ClientBuilder::new()
        .base_url(server.base_url())
        .token("sp-token")
        .user_agent(ua)
        .retry(once.clone())
        .reqwest_client(shared.clone())
        .build()
        .unwrap();
    let _ = sp.sources().get("ZTF20aaelulu").send().await;
    assert_eq!(seen.calls_async().await, 3, "skyportal");

    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(server.url("/forcedphot/"))
        .token("fp-token")
        .user_agent(ua)
        .retry(once)
        .reqwest_client(shared)
        .build()
        .unwrap();
    let _ = fp.task(7).await;
    assert_eq!(seen.calls_async().await, 4, "forcedphot");
}
