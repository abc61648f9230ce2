#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The harvest (issue 17, part 4): 500 targets from ALeRCE, the ATLAS Transient Server and
//! SkyPortal on the sandbox with about 10% of the requests faulted, killed half-way (the
//! run's task aborted), an orphan part file planted as a process killed between its rename
//! and its commit would leave it, then resumed until complete. The dataset, read back with
//! polars, has 0 duplicate and 0 missing rows against a fault-free reference, and every part
//! file has the documented schema.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use astrobrokers::cross::{LightcurveSource, Target};
use astrobrokers::harvest::{
    AtlasBatch, Fetched, Harvest, HarvestOptions, HarvestReport, HarvestSource, PerTarget, dataset_schema,
    parse_explicit, target_key,
};
use astrobrokers::sources::{AlerceZtf, SkyPortalSource};
use broker_core::Clock;
use broker_core::polars::prelude::*;
use broker_sandbox::{Faults, Sandbox, Service, SkyConfig};
use common::{Figures, SCALE, ScaledClock, fast_retry};

fn clock() -> Arc<dyn Clock> {
    Arc::new(ScaledClock::new(SCALE))
}

/// About 10% of requests faulted: 6% 5xx, 2.5% the service's 429, 2.5% connections reset
/// mid-body (marginal fractions; the sandbox draws them in this order).
fn ten_percent() -> Faults {
    let error = 0.06;
    let throttle = 0.025 / (1.0 - error);
    let reset = 0.025 / ((1.0 - error) * (1.0 - throttle));
    Faults { error_rate: error, throttle_rate: throttle, reset_rate: reset, ..Faults::default() }
}

struct Services {
    sources: Vec<Arc<dyn HarvestSource>>,
}

fn services(sb: &Sandbox) -> Services {
    let alerce = astrobrokers::alerce::AlerceClient::builder()
        .host(&sb.urls().alerce.api)
        .retry(fast_retry())
        .clock(clock())
        .build()
        .unwrap();
    let atlas = astrobrokers::atlas::AtlasClient::builder()
        .base_url(&sb.urls().atlas)
        .token(sb.credentials().atlas.token.clone())
        .retry(fast_retry())
        .clock(clock())
        .build()
        .unwrap();
    let sp = astrobrokers::skyportal::ClientBuilder::new()
        .base_url(&sb.urls().skyportal)
        .token(sb.credentials().skyportal.token.clone())
        // nginx's 5 requests/s in simulated time: the limiter runs on the wall clock.
        .rate_limit(broker_core::Quota::rate(5.0 * SCALE, 10))
        .retry(fast_retry())
        .clock(clock())
        .build()
        .unwrap();
    let alerce: Arc<dyn LightcurveSource> = Arc::new(AlerceZtf::new(alerce));
    let sp: Arc<dyn LightcurveSource> = Arc::new(SkyPortalSource::new(sp));
    Services {
        sources: vec![
            Arc::new(PerTarget::new(alerce).batch(25)),
            Arc::new(AtlasBatch::new(atlas).preferred_chunk(50)),
            Arc::new(PerTarget::new(sp).batch(25)),
        ],
    }
}

fn harvest(dir: &Path, s: &Services) -> Harvest {
    let mut h = Harvest::new(dir).options(HarvestOptions::default());
    for src in &s.sources {
        h = h.source(src.clone());
    }
    h
}

/// Every row of the dataset: (broker from the partition, target key, object id, mjd, band,
/// detection) and the schema of each part file.
/// (broker, target key, object id, mjd bits, band, detection).
type Row = (String, String, String, u64, String, bool);

fn read_dataset(dir: &Path) -> (Vec<Row>, Vec<(PathBuf, Schema)>) {
    use astrobrokers::harvest::dataset::polars_io::parquet::read::ParquetReader;
    let mut rows = Vec::new();
    let mut schemas = Vec::new();
    for sub in std::fs::read_dir(dir).unwrap().flatten() {
        let name = sub.file_name().to_string_lossy().to_string();
        let Some(broker) = name.strip_prefix("broker=") else { continue };
        for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
            let path = f.path();
            assert_eq!(path.extension().and_then(|e| e.to_str()), Some("parquet"), "{path:?}");
            let df = ParquetReader::new(std::fs::File::open(&path).unwrap()).finish().unwrap();
            schemas.push((path.clone(), df.schema().as_ref().clone()));
            let key = df.column("target_key").unwrap().str().unwrap().clone();
            let oid = df.column("object_id").unwrap().str().unwrap().clone();
            let mjd = df.column("mjd").unwrap().f64().unwrap().clone();
            let band = df.column("band").unwrap().str().unwrap().clone();
            let det = df.column("is_detection").unwrap().bool().unwrap().clone();
            for i in 0..df.height() {
                rows.push((
                    broker.to_string(),
                    key.get(i).unwrap().to_string(),
                    oid.get(i).unwrap().to_string(),
                    mjd.get(i).unwrap().to_bits(),
                    band.get(i).unwrap().to_string(),
                    det.get(i).unwrap(),
                ));
            }
        }
    }
    (rows, schemas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_500_targets_killed_half_way_and_resumed_under_faults() {
    let started = Instant::now();
    // 40 epochs a light curve per survey keeps the test fast (about 30,000 rows in all).
    let sky = SkyConfig { objects: 500, points_per_lightcurve: Some(40), ..SkyConfig::default() };
    let sb = Sandbox::builder().seed(117).sky(sky).time_scale(SCALE).start().await.unwrap();
    let objects = sb.objects();
    assert!(objects.len() >= 500);
    // 490 known objects under all their ids, and 10 ATLAS ids nobody knows.
    let mut inputs: Vec<String> = objects
        .iter()
        .take(490)
        .map(|o| {
            let mut l = format!("atlas:{} skyportal:{}", o.atlas_id, o.skyportal_id);
            if let Some(z) = &o.ztf_oid {
                l.push_str(&format!(" ztf:{z}"));
            }
            l
        })
        .collect();
    for i in 0..10u64 {
        inputs.push(format!("atlas:{}", 1_999_999_999_999_000_000u64 + i * 7919));
    }
    let targets: Vec<(String, Target)> = inputs
        .iter()
        .map(|l| {
            let t = parse_explicit(l).unwrap();
            (target_key(&t), t)
        })
        .collect();

    // Reference, fault-free: what each service has for each target.
    let s = services(&sb);
    let mut expected: HashMap<(String, String), usize> = HashMap::new();
    let mut not_found = 0;
    for src in &s.sources {
        let applicable: Vec<&(String, Target)> = targets.iter().filter(|(_, t)| src.applies_to(t)).collect();
        let ts: Vec<Target> = applicable.iter().map(|(_, t)| t.clone()).collect();
        for (chunk_t, chunk_k) in ts.chunks(100).zip(applicable.chunks(100)) {
            for (f, (k, _)) in src.fetch(chunk_t).await.into_iter().zip(chunk_k) {
                match f {
                    Fetched::Found(lc) => {
                        expected.insert((src.broker().to_string(), k.clone()), lc.len());
                    }
                    Fetched::NotFound(_) => not_found += 1,
                    Fetched::Failed(e) => panic!("reference fetch of {k} at {} failed: {e}", src.broker()),
                }
            }
        }
    }
    assert_eq!(not_found, 10, "the 10 unknown ATLAS ids");
    eprintln!("reference fetched in {:.1} s", started.elapsed().as_secs_f64());
    let expected_rows: usize = expected.values().sum();
    assert!(expected_rows > 10_000, "{expected_rows}");
    sb.clear_requests();
    for svc in [Service::Alerce, Service::Atlas, Service::SkyPortal] {
        sb.set_faults(svc, ten_percent());
    }

    let dir = std::env::temp_dir().join(format!("ab-harvest-500-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // Run 1: aborted once half of the (target, broker) pairs are settled.
    let half = Arc::new(tokio::sync::Notify::new());
    let fired = Arc::new(AtomicBool::new(false));
    let prepared = {
        let (half, fired) = (half.clone(), fired.clone());
        harvest(&dir, &s)
            .on_progress(move |p| {
                if p.done * 2 >= p.total && !fired.swap(true, Ordering::SeqCst) {
                    half.notify_one();
                }
            })
            .prepare(&inputs)
            .await
            .unwrap()
    };
    let plan = prepared.plan().clone();
    assert_eq!(plan.targets, 500);
    let total_pairs = plan.pending();
    for line in plan.lines() {
        eprintln!("{line}");
    }
    let task = tokio::spawn(prepared.run());
    half.notified().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled(), "the run was still going when killed");
    let (rows_at_kill, _) = read_dataset(&dir);
    eprintln!("killed at {:.1} s", started.elapsed().as_secs_f64());
    assert!(!rows_at_kill.is_empty() && rows_at_kill.len() < expected_rows, "killed half-way: {}", rows_at_kill.len());

    // A process killed between a part's rename and its commit leaves an unrecorded part
    // file: plant one (a copy of a recorded part, so its rows would be duplicates).
    let some_part = std::fs::read_dir(dir.join("broker=alerce")).unwrap().flatten().next().unwrap().path();
    let orphan = dir.join("broker=alerce/part-99999-000000.parquet");
    std::fs::copy(&some_part, &orphan).unwrap();

    // Resume until complete (failed pairs are retried by the next run).
    let mut runs = vec![];
    let mut report: Option<HarvestReport> = None;
    for _ in 0..4 {
        let prepared = harvest(&dir, &s).prepare(&inputs).await.unwrap();
        let p = prepared.plan().clone();
        let r = prepared.run().await.unwrap();
        runs.push((p.pending(), r.this_run.clone()));
        let complete = r.complete;
        report = Some(r);
        if complete {
            break;
        }
    }
    let report = report.unwrap();
    assert!(!orphan.exists(), "the unrecorded part file was deleted");
    assert_eq!(runs[0].1.orphans_removed, 1);
    assert!(runs[0].0 < total_pairs, "the resumed run fetches only what is missing: {} of {total_pairs}", runs[0].0);
    assert!(report.complete, "{:?}", report.failures);
    assert_eq!((report.targets, report.not_found, report.failed), (500, 10, 0));
    assert_eq!(report.done, 490);

    // The dataset, read back: 0 duplicates, 0 missing.
    let (rows, schemas) = read_dataset(&dir);
    let mut seen: HashMap<&Row, usize> = HashMap::new();
    for r in &rows {
        *seen.entry(r).or_default() += 1;
    }
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    let mut got: HashMap<(String, String), usize> = HashMap::new();
    for r in &rows {
        *got.entry((r.0.clone(), r.1.clone())).or_default() += 1;
    }
    let missing: usize = expected.iter().map(|(k, n)| n.saturating_sub(got.get(k).copied().unwrap_or(0))).sum();
    let extra: usize = got.iter().map(|(k, n)| n.saturating_sub(expected.get(k).copied().unwrap_or(0))).sum();
    assert_eq!(duplicates, 0);
    assert_eq!(missing, 0);
    assert_eq!(extra, 0);
    assert_eq!(rows.len(), expected_rows);
    assert_eq!(report.rows as usize, expected_rows);

    // One schema, the documented one, in every part file.
    let schema = dataset_schema().unwrap();
    for (path, s) in &schemas {
        assert_eq!(s, &schema, "{path:?}");
    }

    let mut faults = 0;
    let mut requests = 0;
    for svc in [Service::Alerce, Service::Atlas, Service::SkyPortal] {
        let f = Figures::of(&sb, svc);
        faults += f.total_faults();
        requests += f.requests;
    }
    eprintln!(
        "FIGURES harvest: targets 500 (490 known, 10 unknown), pairs {total_pairs}, rows {}, duplicates {duplicates}, \
         missing {missing}, killed at {} rows, runs after the kill {} {:?}, requests {requests}, faults injected \
         {faults} ({:.1}%), wall {:.1} s",
        rows.len(),
        rows_at_kill.len(),
        runs.len(),
        runs,
        100.0 * faults as f64 / requests.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The dataset's dtypes as the docs list them, read back from a part file with polars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dataset_reads_back_with_the_documented_dtypes() {
    use astrobrokers::harvest::dataset::polars_io::parquet::read::ParquetReader;
    let sb = Sandbox::builder().seed(5).objects(12).time_scale(SCALE).start().await.unwrap();
    let s = services(&sb);
    let inputs: Vec<String> = sb
        .objects()
        .iter()
        .map(|o| format!("atlas:{} skyportal:{} pos:{} {}", o.atlas_id, o.skyportal_id, o.ra, o.dec))
        .collect();
    let dir = std::env::temp_dir().join(format!("ab-harvest-dtypes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Plans only looked at (`--dry-run`) leave no run behind: the real run is run 1.
    for _ in 0..2 {
        let looked_at = harvest(&dir, &s).prepare(&inputs).await.unwrap();
        assert_eq!(looked_at.plan().run_id, 1);
    }
    let report = harvest(&dir, &s).prepare(&inputs).await.unwrap().run().await.unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(report.run_id, 1);
    let part = std::fs::read_dir(dir.join("broker=atlas")).unwrap().flatten().next().unwrap().path();
    let df = ParquetReader::new(std::fs::File::open(&part).unwrap()).finish().unwrap();
    let dtype = |c: &str| df.column(c).unwrap().dtype().clone();
    for c in ["target_key", "survey", "object_id", "band"] {
        assert_eq!(dtype(c), DataType::String, "{c}");
    }
    for c in ["mjd", "mag", "mag_err", "flux_ujy", "flux_err_ujy", "limiting_mag", "target_ra", "target_dec"] {
        assert_eq!(dtype(c), DataType::Float64, "{c}");
    }
    assert_eq!(dtype("object_id_int"), DataType::Int64);
    assert_eq!(dtype("harvest_run"), DataType::Int64);
    assert_eq!(df.column("harvest_run").unwrap().i64().unwrap().get(0), Some(1));
    assert_eq!(dtype("is_detection"), DataType::Boolean);
    assert!(df.column("broker").is_err(), "the broker is the partition, not a column");
    // ATLAS ids are 64-bit integers in object_id_int, equal to the string id.
    let ids = df.column("object_id").unwrap().str().unwrap();
    let ints = df.column("object_id_int").unwrap().i64().unwrap();
    assert_eq!(ints.null_count(), 0);
    assert_eq!(ints.get(0).unwrap().to_string(), ids.get(0).unwrap());
    // The report is in the store's directory too.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("_harvest_report.json")).unwrap()).unwrap();
    assert_eq!(json["targets"], 12);
    assert_eq!(json["complete"], true);
    let _ = std::fs::remove_dir_all(&dir);
}
