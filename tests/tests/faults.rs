#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Fault scenarios against the sandbox's fault injection, one or two per service (ALeRCE,
//! ATLAS, SkyPortal, forced photometry, Fink, TNS, Lasair): 20% 5xx, 10% the service's own 429, 5%
//! connection resets mid-body, truncated JSON and random latency, in simulated time. Every
//! input is accounted for exactly once (a result or an explicit failure), nothing is
//! duplicated, and the request log shows no non-idempotent request applied twice (ATLAS
//! custom lists, SkyPortal photometry, forced-photometry submits, TNS reports, Lasair
//! annotations). Plus:
//! deadlines against a server that stops answering, and a SkyPortal list that changes while
//! it is paged.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use broker_core::Clock;
use broker_sandbox::{Fault, QueueConfig, RateLimits, Sandbox, Service, SkyConfig};
use common::{Figures, SCALE, ScaledClock, fast_retry, fault_mix};
use futures::StreamExt;

fn clock() -> Arc<dyn Clock> {
    Arc::new(ScaledClock::new(SCALE))
}

// ---------------------------------------------------------------- ALeRCE: 2,000 light curves

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerce_bulk_2000_lightcurves_under_faults() {
    let sky = SkyConfig { objects: 80, points_per_lightcurve: Some(40), ..SkyConfig::default() };
    let sb = Sandbox::builder().seed(101).sky(sky).time_scale(SCALE).start().await.unwrap();
    let alerce = alerce_client::AlerceClient::builder()
        .host(&sb.urls().alerce.api)
        .retry(fast_retry())
        .clock(clock())
        .build()
        .unwrap();
    let oids: Vec<String> = sb.objects().into_iter().filter_map(|o| o.ztf_oid).collect();
    assert!(oids.len() > 30);
    // Reference: each distinct light curve once, before any fault.
    let mut reference = HashMap::new();
    for oid in &oids {
        let lc = alerce.ztf().lightcurve(oid).await.unwrap();
        reference.insert(oid.clone(), (lc.detections.len(), lc.non_detections.len()));
    }
    sb.clear_requests();
    sb.set_faults(Service::Alerce, fault_mix());

    // 2,000 inputs: the sky's oids over and over, and one unknown oid in 25.
    let inputs: Vec<String> = (0..2000)
        .map(|i| if i % 25 == 24 { format!("ZTF99zz{:05}", i) } else { oids[i % oids.len()].clone() })
        .collect();
    let results: Vec<(usize, alerce_client::Result<alerce_client::ztf::ZtfLightcurve>)> =
        futures::stream::iter(inputs.iter().cloned().enumerate())
            .map(|(i, oid)| {
                let alerce = alerce.clone();
                async move { (i, alerce.ztf().lightcurve(&oid).await) }
            })
            .buffer_unordered(32)
            .collect()
            .await;

    let mut seen = vec![0u32; inputs.len()];
    let (mut ok, mut not_found, mut failed) = (0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        match r {
            Ok(lc) if inputs[*i].starts_with("ZTF99zz") => {
                // ALeRCE answers an unknown object's light curve with an empty one.
                not_found += 1;
                assert!(lc.detections.is_empty() && lc.non_detections.is_empty());
            }
            Ok(lc) => {
                ok += 1;
                let (d, n) = reference[&inputs[*i]];
                assert_eq!((lc.detections.len(), lc.non_detections.len()), (d, n), "{} is complete", inputs[*i]);
            }
            Err(alerce_client::Error::NotFound { .. }) => {
                not_found += 1;
                assert!(inputs[*i].starts_with("ZTF99zz"), "{} is a known object", inputs[*i]);
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure for {}: {e}", inputs[*i]);
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "every input exactly once");
    assert_eq!(ok + not_found + failed, 2000);
    let figs = Figures::of(&sb, Service::Alerce);
    assert!(figs.faults.get("5xx").copied().unwrap_or(0) > 200, "{figs:?}");
    assert!(figs.faults.get("throttle").copied().unwrap_or(0) > 100, "{figs:?}");
    assert!(figs.faults.get("reset").copied().unwrap_or(0) > 30, "{figs:?}");
    // Retries absorb 5xx, 429 and resets; only truncated 200s may surface as explicit errors.
    assert!(failed <= figs.faults.get("truncate").copied().unwrap_or(0), "{failed} failures, {figs:?}");
    figs.report("alerce lightcurves", 2000, ok + not_found, failed);
}

// ---------------------------------------------------------------- ATLAS: 5,000 ids + writes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atlas_bulk_5000_ids_and_writes_under_faults() {
    let sb = Sandbox::builder()
        .seed(102)
        .objects(200)
        .limits(RateLimits::unlimited())
        .time_scale(SCALE)
        .start()
        .await
        .unwrap();
    let atlas = atlas_client::AtlasClient::builder()
        .base_url(&sb.urls().atlas)
        .token(sb.credentials().atlas.token.clone())
        .retry(fast_retry())
        .clock(clock())
        .requests_per_hour(1_000_000)
        .chunk_size(100)
        .concurrency(4)
        .build()
        .unwrap();
    sb.set_faults(Service::Atlas, fault_mix());

    let known: HashSet<u64> = sb.objects().iter().map(|o| o.atlas_id).collect();
    let mut ids: Vec<u64> = known.iter().copied().collect();
    let mut n = 1_000_000_000_000_000_000u64;
    while ids.len() < 5000 {
        n += 7919;
        if !known.contains(&n) {
            ids.push(n);
        }
    }
    let atlas_ids: Vec<atlas_client::AtlasId> = ids.iter().map(|&i| atlas_client::AtlasId::new(i).unwrap()).collect();
    let results = atlas.sources(atlas_ids).collect().await.unwrap();
    let mut count: HashMap<u64, u32> = HashMap::new();
    let (mut found, mut not_found, mut failed) = (0, 0, 0);
    for r in &results {
        *count.entry(r.id.get()).or_default() += 1;
        match &r.outcome {
            atlas_client::SourceOutcome::Found(s) => {
                found += 1;
                assert!(known.contains(&r.id.get()));
                assert_eq!(s.id(), r.id);
            }
            atlas_client::SourceOutcome::NotFound(_) => {
                not_found += 1;
                assert!(!known.contains(&r.id.get()), "{} exists", r.id);
            }
            atlas_client::SourceOutcome::Failed(e) => {
                failed += 1;
                eprintln!("explicit failure for {}: {e}", r.id);
            }
        }
    }
    assert_eq!(results.len(), 5000);
    assert!(ids.iter().all(|i| count.get(i) == Some(&1)), "every id exactly once");
    let read_figs = Figures::of(&sb, Service::Atlas);
    assert!(read_figs.total_faults() > 10, "{read_figs:?}");
    read_figs.report("atlas sources", 5000, found + not_found, failed);

    // Writes under the same faults: each id added to a custom list at most once.
    sb.clear_requests();
    let list = atlas_client::CustomList::by_name("mookodi").unwrap();
    let write_ids: Vec<_> =
        ids.iter().filter(|i| known.contains(i)).take(150).map(|&i| atlas_client::AtlasId::new(i).unwrap()).collect();
    let writes = atlas.add_to_custom_list(list, write_ids.clone()).await.unwrap();
    assert_eq!(writes.len(), write_ids.len());
    let mut wseen = HashSet::new();
    let (mut wok, mut wfail) = (0, 0);
    for w in &writes {
        assert!(wseen.insert(w.id), "one outcome per id");
        match &w.result {
            Ok(_) => wok += 1,
            Err(_) => wfail += 1,
        }
    }
    let mut applied: HashMap<String, u32> = HashMap::new();
    for r in sb.requests_for(Service::Atlas) {
        if r.method == "POST" && r.path.ends_with("/objectgroups/") && r.applied() {
            let id = r.form().into_iter().find(|(k, _)| k == "objectid").map(|(_, v)| v).unwrap();
            *applied.entry(id).or_default() += 1;
        }
    }
    assert!(applied.values().all(|&n| n == 1), "an ATLAS write applied twice: {applied:?}");
    let wfigs = Figures::of(&sb, Service::Atlas);
    wfigs.report("atlas custom-list writes", write_ids.len(), wok, wfail);
}

// ---------------------------------------------------------------- SkyPortal: 20,000 sources

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skyportal_stream_20000_sources_and_photometry_posts_under_faults() {
    let objects = 100;
    let sb = Sandbox::builder()
        .seed(103)
        .sky(SkyConfig { objects, extra_skyportal_sources: 20_000 - objects, ..SkyConfig::default() })
        .time_scale(SCALE)
        .start()
        .await
        .unwrap();
    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&sb.urls().skyportal)
        .token(sb.credentials().skyportal.token.clone())
        .retry(fast_retry())
        .clock(clock())
        .build()
        .unwrap();
    let instrument_id = sp.resources().instruments(Some("ZTF")).await.unwrap()[0].id.unwrap();
    sb.clear_requests();
    sb.set_faults(Service::SkyPortal, fault_mix());

    let mut stream = sp.sources().list().page_size(500).stream();
    let mut ids = HashSet::new();
    let mut n = 0usize;
    while let Some(item) = stream.next().await {
        let s = item.unwrap_or_else(|e| panic!("the stream failed after {n} sources: {e}"));
        n += 1;
        assert!(ids.insert(s.id.clone()), "duplicate {}", s.id);
    }
    assert_eq!(n, 20_000);
    assert_eq!(stream.total(), Some(20_000));
    let figs = Figures::of(&sb, Service::SkyPortal);
    assert!(figs.total_faults() > 5, "{figs:?}");
    figs.report("skyportal sources stream", 20_000, n, 0);

    // Photometry POSTs (not idempotent) under the same faults: one upload per row, each
    // applied at most once; a reply lost after the server stored it is an explicit failure.
    sb.clear_requests();
    let target = sb.objects()[0].skyportal_id.clone();
    let (mut ok, mut failed) = (0, 0);
    for i in 0..120 {
        let row = skyportal_client::photometry::MagRow::detection(
            &target,
            instrument_id,
            61_000.0 + f64::from(i) * 0.01,
            "ztfr",
            19.0,
            0.1,
        );
        match sp.photometry().post(&skyportal_client::photometry::PhotometryUpload::mags(vec![row])).await {
            Ok(r) => {
                assert_eq!(r.ids.len(), 1);
                ok += 1;
            }
            Err(f) => {
                failed += 1;
                eprintln!("explicit failure of upload {i}: {}", f.error);
            }
        }
    }
    let mut applied: HashMap<String, u32> = HashMap::new();
    for r in sb.requests_for(Service::SkyPortal) {
        if r.method == "POST" && r.path == "/api/photometry" && r.applied() {
            let mjd = r.json().unwrap()["mjd"].to_string();
            *applied.entry(mjd).or_default() += 1;
        }
    }
    assert!(applied.values().all(|&n| n == 1), "a photometry POST applied twice: {applied:?}");
    assert!(applied.len() >= ok);
    Figures::of(&sb, Service::SkyPortal).report("skyportal photometry POST", 120, ok, failed);
}

// ---------------------------------------------------------------- forced photometry: 250

/// A sandbox with a quick forced-photometry queue on the scaled clock, and a client of it
/// with the scenarios' retry policy.
async fn forcedphot_sandbox(seed: u64, objects: usize) -> (Sandbox, fallingstar_forcedphot::Client) {
    let sb = Sandbox::builder()
        .seed(seed)
        .objects(objects)
        .queue(QueueConfig {
            queue_delay: Duration::from_millis(200),
            run_time: Duration::from_millis(300),
            ..QueueConfig::default()
        })
        .time_scale(SCALE)
        .start()
        .await
        .unwrap();
    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", sb.urls().forcedphot))
        .token(sb.credentials().forcedphot.token.clone())
        .retry(fallingstar_forcedphot::default_retry().backoff(Duration::from_millis(200), Duration::from_secs(5)))
        .clock(clock())
        .build()
        .unwrap();
    (sb, fp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcedphot_run_many_250_under_faults() {
    let (sb, fp) = forcedphot_sandbox(104, 50).await;
    sb.set_faults(Service::ForcedPhot, fault_mix());
    let targets: Vec<fallingstar_forcedphot::Target> = (0..250)
        .map(|i| {
            let ra = 10.0 + f64::from(i) * 1.3;
            let dec = -30.0 + f64::from(i % 100) * 0.5;
            fallingstar_forcedphot::Target::position(ra, dec).unwrap()
        })
        .collect();
    let opts = fallingstar_forcedphot::TaskOptions::new().mjd_min(60_500.0);
    let outcomes = fp.run_many(targets.clone(), &opts, &fallingstar_forcedphot::RunOptions::new()).await.unwrap();
    assert_eq!(outcomes.len(), 250);
    let mut seen = vec![0u32; 250];
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        seen[o.index] += 1;
        assert_eq!(o.target, targets[o.index]);
        let k = match &o.outcome {
            fallingstar_forcedphot::Outcome::Data(_) => "data",
            fallingstar_forcedphot::Outcome::NoData { .. } => "no data",
            fallingstar_forcedphot::Outcome::Failed { reason } => {
                eprintln!("explicit failure for {}: {reason}", o.target);
                "failed"
            }
            fallingstar_forcedphot::Outcome::Expired => "expired",
        };
        *tally.entry(k).or_default() += 1;
    }
    assert!(seen.iter().all(|&n| n == 1), "every target exactly once");
    // No position was queued twice: each radeclist line applied at most once.
    let mut applied: HashMap<String, u32> = HashMap::new();
    for r in sb.requests_for(Service::ForcedPhot) {
        if r.method == "POST" && r.path.ends_with("/queue/") && r.applied() {
            let form = r.form();
            if let Some((_, list)) = form.iter().find(|(k, _)| k == "radeclist") {
                for line in list.lines().filter(|l| !l.trim().is_empty()) {
                    *applied.entry(line.trim().to_string()).or_default() += 1;
                }
            } else {
                let get = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
                *applied.entry(format!("{} {}", get("ra"), get("dec"))).or_default() += 1;
            }
        }
    }
    assert!(applied.values().all(|&n| n == 1), "a forced-photometry submit applied twice: {applied:?}");
    let figs = Figures::of(&sb, Service::ForcedPhot);
    eprintln!("forcedphot outcomes: {tally:?}");
    let failed = tally.get("failed").copied().unwrap_or(0);
    figs.report("forcedphot run_many", 250, 250 - failed, failed);
}

// ---------------------------------------------------------------- Fink: 1,000 light curves

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fink_bulk_1000_objects_with_upper_limits_under_faults() {
    let sky = SkyConfig { objects: 80, points_per_lightcurve: Some(40), ..SkyConfig::default() };
    let sb = Sandbox::builder().seed(108).sky(sky).time_scale(SCALE).start().await.unwrap();
    let fink =
        fink_client::FinkClient::builder().host(&sb.urls().fink).retry(fast_retry()).clock(clock()).build().unwrap();
    let oids: Vec<String> = sb.objects().into_iter().filter_map(|o| o.ztf_oid).collect();
    assert!(oids.len() > 30);
    // Reference: each distinct object's rows (alerts and upper limits) once, before any fault.
    let mut reference = HashMap::new();
    for oid in &oids {
        let rows = fink.ztf().objects([oid.as_str()]).with_upper_limits(true).send().await.unwrap();
        assert!(!rows.is_empty(), "{oid} has rows");
        reference.insert(oid.clone(), rows);
    }
    sb.clear_requests();
    sb.set_faults(Service::Fink, fault_mix());

    // 1,000 inputs: the sky's oids over and over, and one unknown oid in 20.
    let inputs: Vec<String> =
        (0..1000).map(|i| if i % 20 == 19 { format!("ZTF99zz{i:05}") } else { oids[i % oids.len()].clone() }).collect();
    let results: Vec<(usize, fink_client::Result<Vec<fink_client::ZtfAlert>>)> =
        futures::stream::iter(inputs.iter().cloned().enumerate())
            .map(|(i, oid)| {
                let fink = fink.clone();
                async move { (i, fink.ztf().objects([oid.as_str()]).with_upper_limits(true).send().await) }
            })
            .buffer_unordered(16)
            .collect()
            .await;

    let mut seen = vec![0u32; inputs.len()];
    let (mut ok, mut unknown, mut failed) = (0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        let oid = &inputs[*i];
        match r {
            // Fink answers an unknown objectId with an empty list (no 404).
            Ok(rows) if oid.starts_with("ZTF99zz") => {
                unknown += 1;
                assert!(rows.is_empty(), "{oid}: {} rows", rows.len());
            }
            Ok(rows) => {
                ok += 1;
                assert_eq!(rows, &reference[oid], "{oid} is complete and equal to the fault-free reply");
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure for {oid}: {e}");
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "every input exactly once");
    assert_eq!(ok + unknown + failed, 1000);
    let figs = Figures::of(&sb, Service::Fink);
    assert!(figs.faults.get("5xx").copied().unwrap_or(0) > 100, "{figs:?}");
    assert!(figs.faults.get("reset").copied().unwrap_or(0) > 15, "{figs:?}");
    // Every read is a retry-safe POST: 5xx, the 429 slot, resets and truncated 200s are all
    // fetched again (10 attempts), so an input fails only when all of its attempts met a fault.
    assert!(failed * 10 <= figs.total_faults(), "{failed} failures, {figs:?}");
    figs.report("fink objects", 1000, ok + unknown, failed);
}

// ---------------------------------------------------------------- TNS: reads and reports

/// A TNS client of the sandbox with the scenarios' retry policy, on the scaled clock.
fn tns_client(sb: &Sandbox) -> tns_client::TnsClient {
    let creds = &sb.credentials().tns;
    tns_client::TnsClient::builder()
        .url(sb.urls().tns.clone())
        .api_key(creds.api_key.clone())
        .bot(creds.bot_id, creds.bot_name.clone())
        .retry(fast_retry())
        .clock(clock())
        .poll_interval(Duration::from_secs(2))
        // A reply is polled, and a lost reply's report looked for, 10 times 2 s apart: 18 s
        // of simulated time against the sandbox's 2 s of report processing.
        .max_polls(10)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tns_400_objects_with_photometry_under_faults() {
    let sb = Sandbox::builder().seed(109).objects(120).time_scale(SCALE).start().await.unwrap();
    let tns = tns_client(&sb);
    let names: Vec<String> = sb.objects().into_iter().filter_map(|o| o.tns_name).collect();
    assert!(names.len() > 20, "{} TNS names", names.len());
    let query = |name: &str| tns_client::ObjectQuery::name(name).unwrap().photometry(true);
    // Reference: each object once, before any fault.
    let mut reference = HashMap::new();
    for n in &names {
        let o = tns.object(&query(n)).await.unwrap();
        assert!(!o.photometry.is_empty(), "{n} has photometry");
        reference.insert(n.clone(), o);
    }
    sb.clear_requests();
    sb.set_faults(Service::Tns, fault_mix());

    // 400 inputs: the sky's names over and over, and one unknown name in 20. The sandbox keeps
    // TNS's general quota (90 a minute per key): the client also waits for it.
    let letter = |k: usize| char::from(b'a' + (k % 26) as u8);
    let unknown = |i: usize| format!("1999x{}{}", letter(i / 26), letter(i));
    let inputs: Vec<String> =
        (0..400).map(|i| if i % 20 == 19 { unknown(i) } else { names[i % names.len()].clone() }).collect();
    let results: Vec<(usize, tns_client::Result<tns_client::TnsObject>)> =
        futures::stream::iter(inputs.iter().cloned().enumerate())
            .map(|(i, name)| {
                let tns = tns.clone();
                let q = query(&name);
                async move { (i, tns.object(&q).await) }
            })
            .buffer_unordered(16)
            .collect()
            .await;

    let mut seen = vec![0u32; inputs.len()];
    let (mut ok, mut not_found, mut failed) = (0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        let name = &inputs[*i];
        match r {
            Ok(o) => {
                ok += 1;
                assert_eq!(o, &reference[name], "{name} is complete and equal to the fault-free reply");
            }
            Err(tns_client::Error::NotFound(_)) => {
                not_found += 1;
                assert!(!reference.contains_key(name), "{name} exists");
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure for {name}: {e}");
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "every input exactly once");
    assert_eq!(ok + not_found + failed, 400);
    assert!(not_found <= 20 && ok <= 380, "{ok} found, {not_found} not found");
    let figs = Figures::of(&sb, Service::Tns);
    assert!(figs.faults.get("5xx").copied().unwrap_or(0) > 40, "{figs:?}");
    assert!(figs.faults.get("throttle").copied().unwrap_or(0) > 15, "{figs:?}");
    // Reads are retry-safe POSTs: an input fails only when every one of its 10 attempts met a
    // fault or the quota's 429.
    assert!(failed * 10 <= figs.total_faults() + figs.throttled_by_limit, "{failed} failures, {figs:?}");
    figs.report("tns objects", 400, ok + not_found, failed);
}

/// An AT report of the sandbox's bulk-report form, with a new internal name.
fn at_report(i: usize) -> tns_client::Report {
    let fields = serde_json::json!({
        "ra": {"value": format!("{:.5}", 10.0 + i as f64 * 3.1), "units": "deg"},
        "dec": {"value": format!("{:.5}", -20.0 + i as f64 * 0.4), "units": "deg"},
        "reporting_group_id": "48",
        "discovery_data_source_id": "48",
        "reporter": "fault scenario",
        "discovery_datetime": "2026-11-02 01:02:03",
        "at_type": "1",
        "internal_name": format!("ZTF26flt{i:04}"),
    });
    let serde_json::Value::Object(m) = fields else { unreachable!() };
    tns_client::Report::At(tns_client::AtReport::new(m).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tns_80_at_reports_under_faults_are_applied_at_most_once() {
    let sb = Sandbox::builder().seed(110).objects(40).time_scale(SCALE).start().await.unwrap();
    let tns = tns_client(&sb);
    sb.set_faults(Service::Tns, fault_mix());
    let n = 80;
    let results: Vec<(usize, tns_client::Result<tns_client::ReportResult>)> = futures::stream::iter(0..n)
        .map(|i| {
            let tns = tns.clone();
            async move { (i, tns.report_once(&at_report(i)).await) }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let figs = Figures::of(&sb, Service::Tns);
    let log = sb.requests_for(Service::Tns);
    sb.clear_faults();

    // The sandbox's view: how many times each internal name's report was applied (the handler
    // ran and answered 2xx), and sent.
    let internal_of = |r: &broker_sandbox::LoggedRequest| -> Option<String> {
        let data = r.form().into_iter().find(|(k, _)| k == "data")?.1;
        let v: serde_json::Value = serde_json::from_str(&data).ok()?;
        v["at_report"]["0"]["internal_name"].as_str().map(str::to_string)
    };
    let mut applied: HashMap<String, u32> = HashMap::new();
    let mut sent: HashMap<String, u32> = HashMap::new();
    let mut lost_replies = 0; // applied, then the connection was reset or the reply cut short
    for r in log.iter().filter(|r| r.path == "/api/set/bulk-report") {
        let name = internal_of(r).unwrap();
        *sent.entry(name.clone()).or_default() += 1;
        if r.applied() {
            *applied.entry(name).or_default() += 1;
            if r.fault.is_some() {
                lost_replies += 1;
            }
        }
    }
    assert!(applied.values().all(|&k| k == 1), "a report applied twice: {applied:?}");

    let mut seen = vec![0u32; n];
    let (mut processed, mut reconciled, mut failed, mut applied_but_failed) = (0, 0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        let internal = format!("ZTF26flt{i:04}");
        let name = match r {
            Ok(tns_client::ReportResult::Processed(o)) => {
                processed += 1;
                assert!(o.accepted() && o.created, "{internal}: {o:?}");
                o.objname.clone()
            }
            Ok(tns_client::ReportResult::Reconciled { objname, .. }) => {
                reconciled += 1;
                Some(objname.clone())
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure of the report of {internal}: {e}");
                if applied.contains_key(&internal) {
                    applied_but_failed += 1;
                }
                None
            }
        };
        // What TNS shows for the internal name: one object, the one the client named.
        let hits = tns.search_internal_name(&internal).await.unwrap();
        assert!(hits.len() <= 1, "{internal}: {hits:?}");
        assert_eq!(hits.len(), usize::from(applied.contains_key(&internal)), "{internal}: {hits:?}");
        if let Some(name) = name {
            assert_eq!(hits.first().map(|h| h.objname.clone()), Some(name), "{internal}");
        }
    }
    assert!(seen.iter().all(|&k| k == 1), "every report exactly once");
    assert_eq!(processed + reconciled + failed, n);
    assert!(figs.total_faults() > 30, "{figs:?}");
    // Every lost reply is reconciled from the internal-name search, unless that search (10
    // attempts) failed too; a reconciled report is one whose reply was lost.
    assert!(reconciled <= lost_replies, "{reconciled} reconciled, {lost_replies} lost replies");
    assert!(reconciled + applied_but_failed >= lost_replies, "{reconciled} reconciled, {lost_replies} lost replies");
    // A report TNS took ends as an explicit failure only when a search or a poll met a fault
    // on all of its 10 attempts; one TNS did not take, only when its 3 sends all met a fault.
    let faults = figs.total_faults() + figs.throttled_by_limit;
    assert!(applied_but_failed * 10 <= faults, "{applied_but_failed} applied but failed, {figs:?}");
    assert!(failed * tns_client::report::REPORT_SENDS as usize <= faults, "{failed} failed, {figs:?}");
    let resent = sent.values().filter(|&&k| k > 1).count();
    eprintln!(
        "tns reports: processed {processed}, reconciled {reconciled} of {lost_replies} lost replies, sent again \
         after no trace {resent}, explicit failures {failed} (of which applied at TNS: {applied_but_failed})"
    );
    figs.report("tns AT reports", n, processed + reconciled, failed);
}

// ---------------------------------------------------------------- Lasair: ZTF and LSST objects, annotations

/// The scenarios' retry policy without its time budget, so that `max_attempts` is the only
/// limit and the bounds of the Lasair scenario hold however slowly a loaded machine runs.
fn lasair_retry() -> broker_core::RetryPolicy {
    fast_retry().max_elapsed(Duration::from_secs(365 * 86_400))
}

/// The attempts [`lasair_retry`] allows.
const LASAIR_ATTEMPTS: usize = 10;

/// The form field `key` of a logged request.
fn form_value(r: &broker_sandbox::LoggedRequest, key: &str) -> String {
    r.form().into_iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or_default()
}

/// 1,000 ZTF `object/` reads (the Python client's default `lite=True`, `lasair_added=True`)
/// under the fault mix, then 100 annotations (POST `annotate/`, not idempotent).
///
/// What the retry rules imply (broker-core `retry.rs`; reads are retry-safe POSTs,
/// `lasair_client::client::read`): a read is sent again after a 5xx, a 429 (Retry-After
/// 1-5 s), a reset mid-body and a 200 cut short (broker-core `tests/http.rs`,
/// `tests/decoding.rs`), so a known object fails only when all 10 attempts meet a fault,
/// and a fault-free attempt always ends its input with the object. The ZTF server answers an unknown object with a 500 (its view
/// cannot handle a missing object; see `lasair_client::objects`), which is retried too: an
/// unknown id always costs exactly 10 calls. An annotation is sent again only after a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasair_1000_ztf_objects_and_annotations_under_faults() {
    let mut b = Sandbox::builder()
        .seed(120)
        .sky(SkyConfig { objects: 80, points_per_lightcurve: Some(40), ..SkyConfig::default() })
        .time_scale(SCALE);
    // A power user's quota (10,000 calls an hour), as `cargo xtask bench` runs Lasair: the
    // whole scenario stays far under it, so every 429 below is an injected one.
    b.config_mut().lasair_user_calls_per_hour = 10_000;
    let sb = b.start().await.unwrap();
    let lasair = lasair_client::LasairClient::builder()
        .ztf_url(&sb.urls().lasair.ztf)
        .ztf_token(sb.credentials().lasair.ztf_token.clone())
        .ztf_user_class(lasair_client::UserClass::Power)
        .retry(lasair_retry())
        .clock(clock())
        .build()
        .unwrap();
    let opts = lasair_client::ObjectOptions { lite: true, lasair_added: true, reliability_threshold: None };
    let oids: Vec<String> = sb.objects().into_iter().filter_map(|o| o.ztf_oid).collect();
    assert!(oids.len() > 30);
    // Reference: each distinct object once, before any fault.
    let mut reference = HashMap::new();
    for oid in &oids {
        reference.insert(oid.clone(), lasair.ztf().object(oid, &opts).await.unwrap());
    }
    sb.clear_requests();
    sb.set_faults(Service::Lasair, fault_mix());

    // 1,000 inputs: the sky's oids over and over, and one unknown oid in 25.
    let unknown = |oid: &str| oid.starts_with("ZTF99zz");
    let inputs: Vec<String> =
        (0..1000).map(|i| if i % 25 == 24 { format!("ZTF99zz{i:05}") } else { oids[i % oids.len()].clone() }).collect();
    let results: Vec<(usize, lasair_client::Result<lasair_client::ZtfObject>)> =
        futures::stream::iter(inputs.iter().cloned().enumerate())
            .map(|(i, oid)| {
                let (lasair, opts) = (lasair.clone(), opts);
                async move { (i, lasair.ztf().object(&oid, &opts).await) }
            })
            .buffer_unordered(16)
            .collect()
            .await;

    let mut seen = vec![0u32; inputs.len()];
    let (mut ok, mut unknown_answered, mut unknown_500, mut failed) = (0, 0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        let oid = &inputs[*i];
        match r {
            Ok(o) => {
                assert!(!unknown(oid), "{oid} is unknown to Lasair, yet read: {o:?}");
                assert_eq!(o, &reference[oid], "{oid} is complete and the same as without faults");
                ok += 1;
            }
            Err(e) if unknown(oid) => {
                // The real ZTF server's 500 (or, when the 10th attempt met one, a fault).
                unknown_answered += 1;
                assert!(e.is_retryable(), "{oid}: {e}");
                if matches!(e, lasair_client::Error::Api { status: 500, .. }) {
                    unknown_500 += 1;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure for {oid}: {e}");
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "every input exactly once");
    assert_eq!(ok + unknown_answered + failed, 1000);
    assert_eq!(unknown_answered, 40);

    // The log against the retry rules.
    let log = sb.requests_for(Service::Lasair);
    let figs = Figures::of(&sb, Service::Lasair);
    assert_eq!(figs.throttled_by_limit, 0, "{figs:?}");
    let mut per_unknown: HashMap<String, usize> = HashMap::new();
    let (mut clean_known, mut faulted_known) = (0, 0);
    for r in &log {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/ztf/api/object/"));
        let oid = form_value(r, "objectId");
        if unknown(&oid) {
            *per_unknown.entry(oid).or_default() += 1;
        } else if r.fault.is_some() {
            faulted_known += 1;
        } else {
            assert_eq!(r.status, 200, "{r:?}");
            clean_known += 1;
        }
    }
    assert_eq!(clean_known, ok, "each fault-free reply of a known object is one result, none lost");
    assert!(failed * LASAIR_ATTEMPTS <= faulted_known, "{failed} failures, {faulted_known} faulted replies");
    assert_eq!(per_unknown.len(), 40);
    assert!(per_unknown.values().all(|&n| n == LASAIR_ATTEMPTS), "each unknown id costs 10 calls: {per_unknown:?}");
    // The first 1,360 requests (at least 1 per known input, 10 per unknown one) draw a fixed
    // sequence of faults, whatever the interleaving: loose lower bounds of it.
    assert!(figs.faults.get("5xx").copied().unwrap_or(0) > 150, "{figs:?}");
    assert!(figs.faults.get("throttle").copied().unwrap_or(0) > 60, "{figs:?}");
    assert!(figs.faults.get("reset").copied().unwrap_or(0) > 25, "{figs:?}");
    figs.report("lasair ztf object/", 1000, ok + unknown_answered, failed);
    eprintln!("FIGURES lasair unknown oids: 40, answered 500 by the server: {unknown_500}, requests 400");

    // Annotations under the same faults: sent again only after a 429, applied at most once.
    sb.clear_requests();
    let topic = sb.credentials().lasair.annotator_topic.clone();
    let annotations: Vec<lasair_client::Annotation> = (0..100)
        .map(|i| {
            lasair_client::Annotation::new(topic.as_str(), oids[i % oids.len()].as_str(), "SN")
                .explanation(format!("fault scenario {i}"))
        })
        .collect();
    let outcomes: Vec<(usize, lasair_client::Result<lasair_client::AnnotateReply>)> =
        futures::stream::iter(annotations.iter().enumerate())
            .map(|(i, a)| {
                let lasair = lasair.clone();
                async move { (i, lasair.ztf().annotate(a).await) }
            })
            .buffer_unordered(8)
            .collect()
            .await;
    assert_eq!(outcomes.len(), 100);
    let mut by_key: HashMap<String, Vec<broker_sandbox::LoggedRequest>> = HashMap::new();
    for r in sb.requests_for(Service::Lasair) {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/ztf/api/annotate/"));
        by_key.entry(form_value(&r, "explanation")).or_default().push(r);
    }
    let (mut wok, mut wfail, mut uncertain) = (0, 0, 0);
    for (i, outcome) in &outcomes {
        let sent = &by_key[&format!("fault scenario {i}")];
        let applied = sent.iter().filter(|r| r.applied()).count();
        assert!(applied <= 1, "annotation {i} applied {applied} times: {sent:?}");
        let (last, before) = sent.split_last().unwrap();
        assert!(before.iter().all(|r| r.fault.as_deref() == Some("throttle")), "annotation {i}: {sent:?}");
        match outcome {
            Ok(reply) => {
                wok += 1;
                assert_eq!(reply.status.as_deref(), Some("success"));
                assert!(last.fault.is_none() && applied == 1, "annotation {i}: {sent:?}");
            }
            Err(e) => {
                wfail += 1;
                assert!(last.fault.is_some(), "annotation {i} failed on a fault-free reply: {e}");
                assert!(last.fault.as_deref() != Some("throttle") || sent.len() == LASAIR_ATTEMPTS, "{sent:?}");
                uncertain += applied;
                eprintln!("explicit failure of annotation {i}: {e}");
            }
        }
    }
    let wfigs = Figures::of(&sb, Service::Lasair);
    wfigs.report("lasair ztf annotate/", 100, wok, wfail);
    eprintln!("FIGURES lasair annotations failed after the server stored them (reset or cut reply): {uncertain}");
}

/// 500 LSST `object/` reads under the fault mix, one in 10 of an id the server does not
/// know. The LSST server answers an unknown object with 404 `{"detail": "Not found."}`
/// (`lasair-lsst` `serializers.py::ObjectSerializer` raises `NotFound`), which is final: an
/// unknown id is `NotFound` after its first fault-free reply, and a known one is the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasair_lsst_500_objects_under_faults() {
    let mut b = Sandbox::builder()
        .seed(121)
        .sky(SkyConfig { objects: 80, points_per_lightcurve: Some(40), ..SkyConfig::default() })
        .time_scale(SCALE);
    b.config_mut().lasair_user_calls_per_hour = 10_000;
    let sb = b.start().await.unwrap();
    let lasair = lasair_client::LasairClient::builder()
        .lsst_url(&sb.urls().lasair.lsst)
        .lsst_token(sb.credentials().lasair.lsst_token.clone())
        .lsst_user_class(lasair_client::UserClass::Power)
        .retry(lasair_retry())
        .clock(clock())
        .build()
        .unwrap();
    let opts = lasair_client::ObjectOptions::default();
    let ids: Vec<i64> = sb.objects().into_iter().filter_map(|o| o.lsst_oid).map(|i| i as i64).collect();
    assert!(ids.len() > 20);
    let mut reference = HashMap::new();
    for &id in &ids {
        reference.insert(id, lasair.lsst().object(id, &opts).await.unwrap());
    }
    sb.clear_requests();
    sb.set_faults(Service::Lasair, fault_mix());

    // Synthetic LSST ids are at least 2^57: small ids name nothing.
    let unknown = |id: i64| id < 1 << 57;
    let inputs: Vec<i64> =
        (0..500i64).map(|i| if i % 10 == 9 { 1000 + i } else { ids[i as usize % ids.len()] }).collect();
    let results: Vec<(usize, lasair_client::Result<lasair_client::LsstObject>)> =
        futures::stream::iter(inputs.iter().copied().enumerate())
            .map(|(i, id)| {
                let (lasair, opts) = (lasair.clone(), opts);
                async move { (i, lasair.lsst().object(id, &opts).await) }
            })
            .buffer_unordered(16)
            .collect()
            .await;
    let mut seen = vec![0u32; inputs.len()];
    let (mut ok, mut not_found, mut failed) = (0, 0, 0);
    for (i, r) in &results {
        seen[*i] += 1;
        let id = inputs[*i];
        match r {
            Ok(o) => {
                assert!(!unknown(id), "{id} is unknown to Lasair, yet read: {o:?}");
                assert_eq!(o, &reference[&id], "{id} is complete and the same as without faults");
                ok += 1;
            }
            Err(e) if e.is_not_found() => {
                assert!(unknown(id), "{id} is a known object: {e}");
                not_found += 1;
            }
            Err(e) => {
                failed += 1;
                eprintln!("explicit failure for {id}: {e}");
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "every input exactly once");
    assert_eq!(ok + not_found + failed, 500);

    let figs = Figures::of(&sb, Service::Lasair);
    assert_eq!(figs.throttled_by_limit, 0, "{figs:?}");
    let (mut clean_known, mut final_404, mut faulted) = (0, 0, 0);
    for r in sb.requests_for(Service::Lasair) {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/lsst/api/object/"));
        let id: i64 = form_value(&r, "objectId").parse().unwrap();
        if unknown(id) && r.handled {
            assert_eq!(r.status, 404, "{r:?}");
        }
        // A 404 whose body was cut short still says "not found"; one reset mid-body is a
        // transport failure, sent again.
        if unknown(id) && r.handled && r.fault.as_deref() != Some("reset") {
            final_404 += 1;
        }
        match &r.fault {
            Some(_) => faulted += 1,
            None if !unknown(id) => {
                assert_eq!(r.status, 200, "{r:?}");
                clean_known += 1;
            }
            None => {}
        }
    }
    assert_eq!(clean_known, ok, "each fault-free reply of a known object is one result");
    assert_eq!(final_404, not_found, "each 404 the client could read is one NotFound, never retried");
    assert!(failed * LASAIR_ATTEMPTS <= faulted, "{failed} failures, {faulted} faulted replies");
    // Loose lower bounds of the faults drawn for the first 500 requests (a fixed sequence).
    assert!(figs.faults.get("5xx").copied().unwrap_or(0) > 50, "{figs:?}");
    assert!(figs.faults.get("throttle").copied().unwrap_or(0) > 20, "{figs:?}");
    figs.report("lasair lsst object/", 500, ok + not_found, failed);
}

// ---------------------------------------------------------------- deadlines

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_ends_in_a_timeout_not_a_hang() {
    let sb = Sandbox::builder().seed(105).objects(20).start().await.unwrap();
    for s in Service::ALL {
        sb.inject_n(s, Fault::Delay(Duration::from_secs(3600)), 50);
    }
    let policy = broker_core::RetryPolicy::default()
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .max_attempts(3)
        .max_elapsed(Duration::from_secs(2));
    let per_attempt = Duration::from_millis(300);
    let guard = Duration::from_secs(60); // far beyond the deadline: only a hang reaches it
    let creds = sb.credentials().clone();
    let urls = sb.urls().clone();
    let obj = sb.objects().into_iter().find(|o| o.ztf_oid.is_some()).unwrap();

    let alerce = alerce_client::AlerceClient::builder()
        .host(&urls.alerce.api)
        .retry(policy.clone())
        .timeout(per_attempt)
        .build()
        .unwrap();
    let r = tokio::time::timeout(guard, alerce.ztf().lightcurve(obj.ztf_oid.as_deref().unwrap())).await.unwrap();
    assert!(matches!(r, Err(alerce_client::Error::Core(broker_core::Error::Timeout { .. }))), "alerce: {r:?}");

    let atlas = atlas_client::AtlasClient::builder()
        .base_url(&urls.atlas)
        .token(creds.atlas.token.clone())
        .retry(policy.clone())
        .timeout(per_attempt)
        .objects_timeout(per_attempt)
        .build()
        .unwrap();
    let id = atlas_client::AtlasId::new(obj.atlas_id).unwrap();
    let r = tokio::time::timeout(guard, atlas.source(id).send()).await.unwrap();
    assert!(matches!(r, Err(broker_core::Error::Timeout { .. })), "atlas: {r:?}");

    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&urls.skyportal)
        .token(creds.skyportal.token.clone())
        .retry(policy.clone())
        .timeout(per_attempt)
        .build()
        .unwrap();
    let r = tokio::time::timeout(guard, sp.sources().get(&obj.skyportal_id).send()).await.unwrap();
    assert!(matches!(r, Err(broker_core::Error::Timeout { .. })), "skyportal: {r:?}");

    let lasair = lasair_client::LasairClient::builder()
        .ztf_url(&urls.lasair.ztf)
        .ztf_token(creds.lasair.ztf_token.clone())
        .retry(policy.clone())
        .timeout(per_attempt)
        .build()
        .unwrap();
    let opts = lasair_client::ObjectOptions::default();
    let r = tokio::time::timeout(guard, lasair.ztf().object(obj.ztf_oid.as_deref().unwrap(), &opts)).await.unwrap();
    assert!(matches!(r, Err(lasair_client::Error::Core(broker_core::Error::Timeout { .. }))), "lasair: {r:?}");

    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .token(creds.forcedphot.token.clone())
        .retry(policy.clone())
        .timeout(per_attempt)
        .build()
        .unwrap();
    let r = tokio::time::timeout(guard, fp.task(1)).await.unwrap();
    assert!(
        matches!(&r, Err(e) if e.to_string().to_lowercase().contains("timed out") || format!("{e:?}").contains("Timeout")),
        "forcedphot: {r:?}"
    );
    // A whole forced-photometry run with a deadline ends with the targets failed, not a hang.
    let targets = vec![fallingstar_forcedphot::Target::position(150.0, 2.0).unwrap()];
    let run = tokio::time::timeout(
        guard,
        fp.run_many(
            targets,
            &fallingstar_forcedphot::TaskOptions::new(),
            &fallingstar_forcedphot::RunOptions::new().deadline(Duration::from_secs(1)),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(run[0].outcome, fallingstar_forcedphot::Outcome::Failed { .. }), "{:?}", run[0].outcome);
}

// ---------------------------------------------------------------- SkyPortal queryID

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skyportal_list_changing_while_paging_is_stable_through_query_id() {
    let sb = Sandbox::builder()
        .seed(106)
        .sky(SkyConfig { objects: 30, extra_skyportal_sources: 470, ..SkyConfig::default() })
        .limits(RateLimits::unlimited())
        .start()
        .await
        .unwrap();
    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&sb.urls().skyportal)
        .token(sb.credentials().skyportal.token.clone())
        .no_rate_limit()
        .build()
        .unwrap();
    let before: HashSet<String> =
        sp.sources().list().page_size(100).collect_all().await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(before.len(), 500);

    let mut stream = sp.sources().list().page_size(100).stream();
    let mut got = Vec::new();
    while let Some(item) = stream.next().await {
        got.push(item.unwrap().id);
        if got.len() == 150 {
            // Others save new sources (sorted first) and delete one we have not reached yet.
            for i in 0..40 {
                let s = skyportal_client::sources::NewSource::new(format!("ZTF26new{i:04}"), 10.0 + f64::from(i), 5.0);
                sp.sources().create(&s).await.unwrap();
            }
        }
    }
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    assert_eq!(got.len(), 500, "the snapshot of the first page is paged to the end");
    assert!(got.iter().all(|id| before.contains(id)));
    let with_query_id = sb
        .requests_for(Service::SkyPortal)
        .iter()
        .filter(|r| r.query.as_deref().unwrap_or("").contains("queryID="))
        .count();
    assert!(with_query_id >= 4, "pages after the first send queryID");
}

// ---------------------------------------------------------------- regression: truncated reads

/// Found by the SkyPortal stream scenario: a 200 whose JSON was cut short ended a 20,000-source
/// stream at page 9. Reads are now sent again; a POST is not.
#[tokio::test]
async fn skyportal_a_truncated_success_reply_to_a_read_is_sent_again() {
    let sb = Sandbox::builder().seed(107).objects(10).limits(RateLimits::unlimited()).start().await.unwrap();
    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&sb.urls().skyportal)
        .token(sb.credentials().skyportal.token.clone())
        .build()
        .unwrap();
    let obj = sb.objects()[0].skyportal_id.clone();
    sb.inject(Service::SkyPortal, Fault::Truncate);
    let s = sp.sources().get(&obj).send().await.unwrap();
    assert_eq!(s.id, obj);
    assert_eq!(sb.requests_for(Service::SkyPortal).len(), 2);

    sb.clear_requests();
    sb.inject(Service::SkyPortal, Fault::Truncate);
    let created = sp.sources().create(&skyportal_client::sources::NewSource::new("ZTF26trunc01", 10.0, 5.0)).await;
    assert!(created.is_err(), "the cut reply of a POST is an explicit failure");
    assert_eq!(sb.requests_for(Service::SkyPortal).len(), 1, "a POST is never sent twice");
}

// ---------------------------------------------------------------- forced photometry: lost replies

/// Runs 5 targets with one scripted fault on the first request (the batch POST), and
/// returns the outcomes and, per `radeclist` line, how many times the server queued it.
async fn run_many_with_first_submit_fault(
    fault: Fault,
) -> (Vec<fallingstar_forcedphot::TargetOutcome>, usize, HashMap<String, u32>) {
    let (sb, fp) = forcedphot_sandbox(106, 10).await;
    sb.inject(Service::ForcedPhot, fault);
    let targets: Vec<fallingstar_forcedphot::Target> =
        (0..5).map(|i| fallingstar_forcedphot::Target::position(20.0 + f64::from(i), -10.0).unwrap()).collect();
    let opts = fallingstar_forcedphot::TaskOptions::new().mjd_min(60_500.0).comment("lost-reply test");
    let outcomes = fp.run_many(targets, &opts, &fallingstar_forcedphot::RunOptions::new()).await.unwrap();
    let posts = sb.requests_for(Service::ForcedPhot).iter().filter(|r| r.method == "POST").count();
    let mut applied: HashMap<String, u32> = HashMap::new();
    for r in sb.requests_for(Service::ForcedPhot) {
        if r.method == "POST" && r.applied() {
            let form = r.form();
            let comment = form.iter().find(|(k, _)| k == "comment").map(|(_, v)| v.clone()).unwrap_or_default();
            assert!(comment.starts_with("lost-reply test [astrobrokers-run "), "{comment}");
            if let Some((_, list)) = form.iter().find(|(k, _)| k == "radeclist") {
                for line in list.lines().filter(|l| !l.trim().is_empty()) {
                    *applied.entry(line.trim().to_string()).or_default() += 1;
                }
            }
        }
    }
    (outcomes, posts, applied)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcedphot_a_lost_submit_reply_adopts_the_queued_tasks() {
    // The server queues all five, then the connection drops before the reply is read.
    let (outcomes, posts, applied) = run_many_with_first_submit_fault(Fault::ResetMidBody).await;
    for o in &outcomes {
        assert!(matches!(o.outcome, fallingstar_forcedphot::Outcome::Data(_)), "{}: {:?}", o.index, o.outcome);
        assert!(o.task_id.is_some());
    }
    assert_eq!(posts, 1, "adopted from the task list, not submitted again");
    assert_eq!(applied.len(), 5);
    assert!(applied.values().all(|&n| n == 1), "{applied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forcedphot_a_submit_the_server_never_ran_is_sent_again_once() {
    // A gateway 502 before the app: nothing queued, so the task list shows nothing of this
    // run and the batch is submitted again.
    let (outcomes, posts, applied) = run_many_with_first_submit_fault(Fault::Status(502)).await;
    assert!(outcomes.iter().all(|o| matches!(o.outcome, fallingstar_forcedphot::Outcome::Data(_))), "{outcomes:?}");
    assert_eq!(posts, 2);
    assert_eq!(applied.len(), 5);
    assert!(applied.values().all(|&n| n == 1), "{applied:?}");
}
