//! Harvest (feature `harvest`): the light curves of many targets from every configured
//! service into a Parquet dataset, resumable, with a completeness report.
//!
//! * **Inputs** are names, ids or positions, one per target, turned into [`Target`]s by a
//!   [`TargetResolver`] ([`ExplicitResolver`] reads `ztf:…`, `atlas:…`, `lsst:…`,
//!   `skyportal:…` and positions; [`NameResolver`] adds TNS names, bare ids and positions
//!   matched by cones, through [`crate::resolve::Resolver`]); [`alerce_class_since`], [`skyportal_group`] and
//!   [`atlas_custom_list`] make inputs from a broker query.
//! * **Output** is `<dir>/broker=<name>/part-<run>-<seq>.parquet` (hive partitioning), one
//!   schema for every broker ([`dataset`] lists the columns and dtypes). Polars, DataFusion and
//!   Spark read the directory as it is (see the README, "Harvest").
//! * **Checkpoint**: `<dir>/_harvest.sqlite` ([`store`]). Each batch of targets is written to a
//!   hidden temporary file, flushed, renamed into place, and only then recorded, together with
//!   the outcome of each of its targets, in one transaction. A run starts by deleting part
//!   files the store does not list (a run killed between the rename and the commit) and
//!   re-queues the targets of listed files that are gone. So a killed run started again
//!   fetches only what is missing and never writes a row twice. The write and the commit
//!   contain no `.await`: cancelling the run's future cannot split them.
//! * **Response cache** in the same store: every answer (points, or "not found") is kept
//!   under the key `<broker>/<request kind>/<target key>` (the request kind includes the MJD
//!   range of forced photometry) with the time it was fetched; an answer younger than
//!   [`HarvestOptions::max_age`] is used instead of asking the service again (a target
//!   re-queued after a crash, or a part file lost, costs no quota).
//! * **Quotas**: each source's [`SourcePlan`] says how many requests the pending targets need
//!   and the least time the service's published quota allows; [`Prepared::plan`] shows it
//!   before anything is fetched. The clients' own limiters and `Retry-After` handling keep
//!   the requests within the quota.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use astrobrokers::harvest::{Harvest, HarvestOptions, AtlasBatch};
//! use astrobrokers::cross::CrossBroker;
//! use astrobrokers::sources::AlerceZtf;
//!
//! let alerce = AlerceZtf::new(astrobrokers::alerce::AlerceClient::builder().build()?);
//! let atlas = astrobrokers::atlas::AtlasClient::from_env()?;
//! let cross = CrossBroker::new().with_lightcurve_source(Arc::new(alerce));
//! let prepared = Harvest::new("lightcurves")
//!     .sources_from(&cross)
//!     .source(Arc::new(AtlasBatch::new(atlas)))
//!     .options(HarvestOptions::default())
//!     .prepare(&["ZTF18abcdefg".to_string(), "atlas:1121846111091548800".to_string()])
//!     .await?;
//! for line in prepared.plan().lines() {
//!     eprintln!("{line}");
//! }
//! let report = prepared.run().await?;
//! println!("{} done, {} not found, {} failed", report.done, report.not_found, report.failed);
//! # Ok(()) }
//! ```

pub mod dataset;
mod input;
pub mod source;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use broker_core::{Lightcurve, PhotometryPoint};
use futures::StreamExt;
use serde::Serialize;

use crate::cross::{CrossBroker, Target};

pub use dataset::{HARVEST_COLUMNS, dataset_schema};
#[cfg(feature = "alerce")]
pub use input::alerce_class_since;
#[cfg(feature = "atlas")]
pub use input::atlas_custom_list;
#[cfg(feature = "skyportal")]
pub use input::skyportal_group;
pub use input::{
    ExplicitResolver, InputError, NameResolver, TargetResolver, parse_explicit, read_input_lines, target_key,
};
#[cfg(feature = "atlas")]
pub use source::AtlasBatch;
pub use source::{Fetched, HarvestSource, PerTarget, QuotaSpec, SourcePlan};
pub use store::{STORE_FILE, Store};

/// The name of the JSON completeness report written next to the dataset.
pub const REPORT_FILE: &str = "_harvest_report.json";

/// What can stop a harvest (a service failing does not: it is a per-target outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarvestError {
    /// The checkpoint store failed.
    Store(String),
    /// Another harvest holds the store of this directory.
    Busy(String),
    /// A file could not be read or written.
    Io(String),
    /// A part file could not be built or written.
    Dataset(String),
    /// The options or inputs are not valid (what is valid is said).
    InvalidInput(String),
}

impl std::fmt::Display for HarvestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HarvestError::Store(m) => write!(f, "harvest checkpoint: {m}"),
            HarvestError::Busy(p) => write!(f, "another harvest is running on this dataset (its store {p} is locked)"),
            HarvestError::Io(m) => write!(f, "harvest: {m}"),
            HarvestError::Dataset(m) => write!(f, "harvest dataset: {m}"),
            HarvestError::InvalidInput(m) => write!(f, "invalid harvest input: {m}"),
        }
    }
}

impl std::error::Error for HarvestError {}

/// Options of a harvest.
#[derive(Debug, Clone)]
pub struct HarvestOptions {
    /// Cached answers younger than this are used instead of a request (zero: always ask).
    /// Default one day.
    pub max_age: Duration,
    /// Keep answers in the cache. Default true.
    pub cache: bool,
    /// Forced photometry: the first MJD for every target.
    pub mjd_min: Option<f64>,
    /// Forced photometry: the last MJD for every target.
    pub mjd_max: Option<f64>,
    /// Inputs resolved at once. Default 8.
    pub resolve_concurrency: usize,
}

impl Default for HarvestOptions {
    fn default() -> Self {
        HarvestOptions {
            max_age: Duration::from_secs(86_400),
            cache: true,
            mjd_min: None,
            mjd_max: None,
            resolve_concurrency: 8,
        }
    }
}

/// Progress of a run, after each committed batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The broker whose batch was committed.
    pub broker: String,
    /// (target, broker) pairs settled in this run so far, all brokers.
    pub done: u64,
    /// (target, broker) pairs this run has to settle.
    pub total: u64,
    /// Rows written in this run so far.
    pub rows: u64,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A harvest to set up: the dataset directory, the services, the resolver, the options.
#[derive(Clone)]
pub struct Harvest {
    dir: PathBuf,
    sources: Vec<Arc<dyn HarvestSource>>,
    resolver: Arc<dyn TargetResolver>,
    options: HarvestOptions,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Harvest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harvest")
            .field("dir", &self.dir)
            .field("sources", &self.sources.iter().map(|s| s.broker().to_string()).collect::<Vec<_>>())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Harvest {
    /// A harvest into `dir` (created when needed), with no services yet and the
    /// [`ExplicitResolver`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Harvest {
            dir: dir.into(),
            sources: Vec::new(),
            resolver: Arc::new(ExplicitResolver),
            options: HarvestOptions::default(),
            progress: None,
        }
    }
    /// Adds a service; it replaces a service of the same broker name.
    pub fn source(mut self, s: Arc<dyn HarvestSource>) -> Self {
        self.sources.retain(|x| x.broker() != s.broker());
        self.sources.push(s);
        self
    }
    /// Adds every light-curve service of `cross` ([`PerTarget`]), except brokers already
    /// added (add [`AtlasBatch`] before or after: it replaces a per-target ATLAS).
    pub fn sources_from(mut self, cross: &CrossBroker) -> Self {
        for s in cross.lightcurve_sources() {
            if !self.sources.iter().any(|x| x.broker() == s.broker()) {
                self.sources.push(Arc::new(PerTarget::new(s.clone())));
            }
        }
        self
    }
    /// How inputs become targets.
    pub fn resolver(mut self, r: Arc<dyn TargetResolver>) -> Self {
        self.resolver = r;
        self
    }
    /// The options.
    pub fn options(mut self, o: HarvestOptions) -> Self {
        self.options = o;
        self
    }
    /// Called after each committed batch.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn check(&self) -> Result<(), HarvestError> {
        if self.sources.is_empty() {
            return Err(HarvestError::InvalidInput("no service to ask: add at least one source".into()));
        }
        let mut names = HashSet::new();
        for s in &self.sources {
            let b = s.broker();
            let ok = !b.is_empty()
                && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !ok {
                return Err(HarvestError::InvalidInput(format!(
                    "broker name {b:?} cannot name a partition: use lowercase letters, digits, `-` and `_`"
                )));
            }
            names.insert(b.to_string());
        }
        for (name, v) in [("mjd_min", self.options.mjd_min), ("mjd_max", self.options.mjd_max)] {
            if v.is_some_and(|m| !m.is_finite() || m < 0.0) {
                return Err(HarvestError::InvalidInput(format!("{name}: use a finite MJD >= 0")));
            }
        }
        if let (Some(a), Some(b)) = (self.options.mjd_min, self.options.mjd_max) {
            if b <= a {
                return Err(HarvestError::InvalidInput(format!("mjd_max ({b}) must be greater than mjd_min ({a})")));
            }
        }
        Ok(())
    }

    /// Opens the checkpoint, cleans up after a killed run, resolves the inputs not resolved
    /// before and plans the work. Nothing is fetched yet (besides what the resolver asks).
    pub async fn prepare(self, inputs: &[String]) -> Result<Prepared, HarvestError> {
        self.check()?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| HarvestError::Io(format!("cannot create {}: {e}", self.dir.display())))?;
        let store = Arc::new(Store::open(&self.dir)?);
        let listed = store.part_files()?;
        let cleanup = dataset::cleanup(&self.dir, &listed)?;
        let mut requeued = 0;
        for lost in &cleanup.missing {
            tracing::warn!(file = %lost, "a part file of the dataset is gone; its targets are fetched again");
            requeued += store.forget_part(lost)?;
        }
        for o in &cleanup.orphans {
            tracing::info!(file = %o, "deleted a part file a killed run wrote but did not record");
        }

        // Distinct inputs, in order; each resolved once and remembered.
        let mut seen = HashSet::new();
        let queries: Vec<String> =
            inputs.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty() && seen.insert(q.clone())).collect();
        let mut keys: Vec<Option<String>> = vec![None; queries.len()];
        let mut to_resolve = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            match store.input(q)? {
                Some(Ok(k)) => keys[i] = Some(k),
                _ => to_resolve.push(i),
            }
        }
        let resolver = self.resolver.clone();
        let resolved: Vec<(usize, Result<Target, String>)> = futures::stream::iter(to_resolve)
            .map(|i| {
                let resolver = resolver.clone();
                let q = queries[i].clone();
                async move { (i, resolver.target(&q).await.map_err(|e| crate::cross::error_chain(e.as_ref()))) }
            })
            .buffered(self.options.resolve_concurrency.max(1))
            .collect()
            .await;
        let mut unresolved = Vec::new();
        for (i, r) in resolved {
            match r {
                Ok(t) if !t.is_empty() => {
                    let key = target_key(&t);
                    let json = serde_json::to_string(&input::StoredTarget::from_target(&t))
                        .map_err(|e| HarvestError::Store(e.to_string()))?;
                    store.record_input(&queries[i], Ok((&key, &json)), true)?;
                    keys[i] = Some(key);
                }
                Ok(_) => {
                    let reason = "the resolver found no id or position".to_string();
                    store.record_input(&queries[i], Err(&reason), true)?;
                    unresolved.push(UnresolvedInput { input: queries[i].clone(), reason });
                }
                Err(reason) => {
                    store.record_input(&queries[i], Err(&reason), true)?;
                    unresolved.push(UnresolvedInput { input: queries[i].clone(), reason });
                }
            }
        }

        // Distinct targets, in input order.
        let mut targets: Vec<(String, Target)> = Vec::new();
        let mut have = HashSet::new();
        for k in keys.into_iter().flatten() {
            if !have.insert(k.clone()) {
                continue;
            }
            let Some(json) = store.target_json(&k)? else { continue };
            let stored: input::StoredTarget =
                serde_json::from_str(&json).map_err(|e| HarvestError::Store(format!("target {k}: {e}")))?;
            let mut t = stored.to_target();
            t.mjd_min = self.options.mjd_min;
            t.mjd_max = self.options.mjd_max;
            targets.push((k, t));
        }

        let settled = store.settled()?;
        let mut work = Vec::new();
        let mut brokers = Vec::new();
        for s in &self.sources {
            let applicable: Vec<usize> =
                targets.iter().enumerate().filter(|(_, (_, t))| s.applies_to(t)).map(|(i, _)| i).collect();
            let pending: Vec<usize> = applicable
                .iter()
                .copied()
                .filter(|i| !settled.contains(&(targets[*i].0.clone(), s.broker().to_string())))
                .collect();
            let plan = s.plan(pending.len());
            brokers.push(BrokerPlan {
                broker: s.broker().to_string(),
                applicable: applicable.len(),
                pending: pending.len(),
                plan: plan.clone(),
            });
            work.push((s.clone(), pending, plan));
        }
        // The run row is written by `run`: a plan that is only looked at (`--dry-run`)
        // leaves no run behind.
        let run_id = store.next_run_id()?;
        let plan = Plan {
            run_id,
            inputs: queries.len(),
            targets: targets.len(),
            unresolved: unresolved.len(),
            orphans_removed: cleanup.orphans.len(),
            requeued,
            brokers,
        };
        Ok(Prepared { harvest: self, store, plan, targets, work, unresolved })
    }
}

/// Why an input named no target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnresolvedInput {
    /// The input.
    pub input: String,
    /// Why.
    pub reason: String,
}

/// What one service will do.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerPlan {
    /// The broker.
    pub broker: String,
    /// Targets it applies to.
    pub applicable: usize,
    /// Of those, targets not settled yet (to fetch now).
    pub pending: usize,
    /// How they will be fetched.
    pub plan: SourcePlan,
}

/// The work of a run, before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The run's id (the `harvest_run` column of the rows it writes): the id the run takes
    /// when [`Prepared::run`] starts it.
    pub run_id: i64,
    /// Distinct inputs.
    pub inputs: usize,
    /// Distinct targets they resolved to.
    pub targets: usize,
    /// Inputs that named no target.
    pub unresolved: usize,
    /// Part files a killed run left unrecorded, deleted.
    pub orphans_removed: usize,
    /// (target, broker) pairs queued again because their part file was gone.
    pub requeued: usize,
    /// Per service.
    pub brokers: Vec<BrokerPlan>,
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        "no wait for the quota".into()
    } else if s < 120 {
        format!("at least {s} s")
    } else if s < 7200 {
        format!("at least {} min", s.div_ceil(60))
    } else {
        format!("at least {:.1} h", s as f64 / 3600.0)
    }
}

impl Plan {
    /// The least time the quotas allow: the slowest service (services run side by side).
    pub fn least_time(&self) -> Duration {
        self.brokers.iter().map(|b| b.plan.least_time).max().unwrap_or_default()
    }
    /// (target, broker) pairs to fetch.
    pub fn pending(&self) -> u64 {
        self.brokers.iter().map(|b| b.pending as u64).sum()
    }
    /// The plan for people: one line per service and a total.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "harvest run {}: {} inputs, {} targets{}",
            self.run_id,
            self.inputs,
            self.targets,
            if self.unresolved > 0 { format!(", {} unresolved", self.unresolved) } else { String::new() }
        )];
        for b in &self.brokers {
            let quota = b.plan.quota.map(|q| q.to_string()).unwrap_or_else(|| "no published quota".into());
            out.push(format!(
                "  {}: {} of {} targets to fetch, {} requests ({}; {}): {}",
                b.broker,
                b.pending,
                b.applicable,
                b.plan.requests,
                b.plan.note,
                quota,
                human(b.plan.least_time)
            ));
        }
        out.push(format!("estimated time (quotas only, services in parallel): {}", human(self.least_time())));
        out
    }
}

/// A planned harvest, ready to run.
pub struct Prepared {
    harvest: Harvest,
    store: Arc<Store>,
    plan: Plan,
    targets: Vec<(String, Target)>,
    work: Vec<(Arc<dyn HarvestSource>, Vec<usize>, SourcePlan)>,
    unresolved: Vec<UnresolvedInput>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("plan", &self.plan).finish_non_exhaustive()
    }
}

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunFigures {
    /// Answers fetched from the services.
    pub fetched: u64,
    /// Answers taken from the cache.
    pub from_cache: u64,
    /// Part files written.
    pub parts_written: u64,
    /// Rows written.
    pub rows_written: u64,
    /// Unrecorded part files of a killed run, deleted at the start.
    pub orphans_removed: u64,
    /// Pairs re-queued because their part file was gone.
    pub requeued: u64,
}

/// One service's outcome over the run's targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BrokerReport {
    /// The broker.
    pub broker: String,
    /// Targets whose points are in the dataset.
    pub done: usize,
    /// Targets the service does not know.
    pub not_found: usize,
    /// Targets whose requests failed.
    pub failed: usize,
    /// Rows in the dataset.
    pub rows: u64,
}

/// One failed (target, broker) pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedFetch {
    /// The target.
    pub target_key: String,
    /// The broker.
    pub broker: String,
    /// Why.
    pub reason: String,
}

/// The completeness report: every input accounted for. Also in the store (`reports`) and in
/// [`REPORT_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HarvestReport {
    /// The run.
    pub run_id: i64,
    /// Distinct inputs.
    pub inputs: usize,
    /// Distinct targets.
    pub targets: usize,
    /// Targets every applicable service answered, at least one with a light curve.
    pub done: usize,
    /// Targets no applicable service knows.
    pub not_found: usize,
    /// Targets at least one service failed for (run again to retry them).
    pub failed: usize,
    /// Targets no configured service applies to (e.g. only a position, without forced
    /// photometry).
    pub no_service: usize,
    /// Inputs that named no target.
    pub unresolved: Vec<UnresolvedInput>,
    /// Rows in the dataset for these targets.
    pub rows: u64,
    /// Per service.
    pub brokers: Vec<BrokerReport>,
    /// Each failed (target, broker) pair with its reason.
    pub failures: Vec<FailedFetch>,
    /// This run's counts.
    pub this_run: RunFigures,
    /// Whether nothing failed and every input resolved.
    pub complete: bool,
}

struct Counters {
    done: AtomicU64,
    rows: AtomicU64,
    fetched: AtomicU64,
    cached: AtomicU64,
    parts: AtomicU64,
}

impl Prepared {
    /// The plan: targets, requests, quotas and the least time they allow.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Fetches what is pending, writes it and reports. Services run side by side; within a
    /// service, batches run one after another.
    pub async fn run(mut self) -> Result<HarvestReport, HarvestError> {
        self.plan.run_id = self.store.start_run()?;
        let counters = Arc::new(Counters {
            done: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
            cached: AtomicU64::new(0),
            parts: AtomicU64::new(0),
        });
        let total = self.plan.pending();
        let jobs = self
            .work
            .iter()
            .map(|(source, pending, plan)| run_source(&self, source.clone(), pending, plan, counters.clone(), total));
        let results = futures::future::join_all(jobs).await;
        for r in results {
            r?;
        }
        let figures = RunFigures {
            fetched: counters.fetched.load(Ordering::Relaxed),
            from_cache: counters.cached.load(Ordering::Relaxed),
            parts_written: counters.parts.load(Ordering::Relaxed),
            rows_written: counters.rows.load(Ordering::Relaxed),
            orphans_removed: self.plan.orphans_removed as u64,
            requeued: self.plan.requeued as u64,
        };
        let report = self.report(figures)?;
        let json = serde_json::to_string_pretty(&report).map_err(|e| HarvestError::Store(e.to_string()))?;
        self.store.finish_run(self.plan.run_id, &json)?;
        let path = self.harvest.dir.join(REPORT_FILE);
        std::fs::write(&path, json.as_bytes())
            .map_err(|e| HarvestError::Io(format!("cannot write {}: {e}", path.display())))?;
        Ok(report)
    }

    fn report(&self, this_run: RunFigures) -> Result<HarvestReport, HarvestError> {
        let keys: HashSet<&str> = self.targets.iter().map(|(k, _)| k.as_str()).collect();
        let mut status: HashMap<(String, String), store::FetchStatus> = HashMap::new();
        for (k, b, s) in self.store.fetch_rows()? {
            if keys.contains(k.as_str()) {
                status.insert((k, b), s);
            }
        }
        let mut brokers: Vec<BrokerReport> = Vec::new();
        let mut failures = Vec::new();
        let (mut done, mut not_found, mut failed, mut no_service, mut rows) = (0, 0, 0, 0, 0u64);
        for (s, _, _) in &self.work {
            brokers.push(BrokerReport { broker: s.broker().to_string(), ..BrokerReport::default() });
        }
        for (key, t) in &self.targets {
            let (mut any, mut found, mut bad) = (false, false, false);
            for (i, (s, _, _)) in self.work.iter().enumerate() {
                if !s.applies_to(t) {
                    continue;
                }
                any = true;
                let br = &mut brokers[i];
                match status.get(&(key.clone(), s.broker().to_string())) {
                    Some(store::FetchStatus::Done { rows: n }) => {
                        found = true;
                        br.done += 1;
                        br.rows += n;
                        rows += n;
                    }
                    Some(store::FetchStatus::NotFound(_)) => br.not_found += 1,
                    Some(store::FetchStatus::Failed(r)) => {
                        bad = true;
                        br.failed += 1;
                        failures.push(FailedFetch {
                            target_key: key.clone(),
                            broker: s.broker().to_string(),
                            reason: r.clone(),
                        });
                    }
                    None => {
                        bad = true;
                        br.failed += 1;
                        failures.push(FailedFetch {
                            target_key: key.clone(),
                            broker: s.broker().to_string(),
                            reason: "not fetched (the run stopped before it)".into(),
                        });
                    }
                }
            }
            match (any, bad, found) {
                (false, _, _) => no_service += 1,
                (true, true, _) => failed += 1,
                (true, false, true) => done += 1,
                (true, false, false) => not_found += 1,
            }
        }
        Ok(HarvestReport {
            run_id: self.plan.run_id,
            inputs: self.plan.inputs,
            targets: self.targets.len(),
            done,
            not_found,
            failed,
            no_service,
            complete: failed == 0 && self.unresolved.is_empty(),
            unresolved: self.unresolved.clone(),
            rows,
            brokers,
            failures,
            this_run,
        })
    }
}

fn cache_key(broker: &str, kind: &str, t: &Target, key: &str) -> String {
    match (t.mjd_min, t.mjd_max) {
        (None, None) => format!("{broker}/{kind}/{key}"),
        (a, b) => format!(
            "{broker}/{kind}[mjd {}..{}]/{key}",
            a.map(|v| v.to_string()).unwrap_or_default(),
            b.map(|v| v.to_string()).unwrap_or_default()
        ),
    }
}

async fn run_source(
    p: &Prepared,
    source: Arc<dyn HarvestSource>,
    pending: &[usize],
    plan: &SourcePlan,
    counters: Arc<Counters>,
    total: u64,
) -> Result<(), HarvestError> {
    let broker = source.broker().to_string();
    let kind = source.request_kind();
    let opts = &p.harvest.options;
    for (seq, chunk) in pending.chunks(plan.batch.max(1)).enumerate() {
        let batch: Vec<&(String, Target)> = chunk.iter().map(|i| &p.targets[*i]).collect();
        let mut answers: Vec<Option<Fetched>> = vec![None; batch.len()];
        for (j, (key, t)) in batch.iter().enumerate() {
            let ck = cache_key(&broker, &kind, t, key);
            match p.store.cached(&ck, opts.max_age)? {
                Some(store::CachedAnswer::NotFound(m)) => answers[j] = Some(Fetched::NotFound(m)),
                Some(store::CachedAnswer::Points(json)) => {
                    if let Ok(points) = serde_json::from_str::<Vec<PhotometryPoint>>(&json) {
                        answers[j] = Some(Fetched::Found(Lightcurve::from_points(points)));
                    }
                }
                None => {}
            }
        }
        let from_cache = answers.iter().filter(|a| a.is_some()).count() as u64;
        let misses: Vec<usize> = (0..batch.len()).filter(|j| answers[*j].is_none()).collect();
        if !misses.is_empty() {
            let ts: Vec<Target> = misses.iter().map(|j| batch[*j].1.clone()).collect();
            let got = source.fetch(&ts).await;
            let mut to_cache = Vec::new();
            for (n, j) in misses.iter().enumerate() {
                let f = got.get(n).cloned().unwrap_or_else(|| Fetched::Failed("the source gave no answer".into()));
                if opts.cache {
                    let ck = cache_key(&broker, &kind, &batch[*j].1, &batch[*j].0);
                    match &f {
                        Fetched::Found(lc) => {
                            if let Ok(json) = serde_json::to_string(&lc.points) {
                                to_cache.push((ck, store::CachedAnswer::Points(json)));
                            }
                        }
                        Fetched::NotFound(m) => to_cache.push((ck, store::CachedAnswer::NotFound(m.clone()))),
                        Fetched::Failed(_) => {}
                    }
                }
                answers[*j] = Some(f);
            }
            p.store.put_cache(&broker, &to_cache)?;
        }
        // From here to the commit there is no `.await`: a cancelled run cannot stop between
        // the part file and its record.
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut rows_of = Vec::new();
        for (j, (key, t)) in batch.iter().enumerate() {
            match answers[j].take() {
                Some(Fetched::Found(lc)) => {
                    outcomes.push((key.clone(), store::FetchStatus::Done { rows: lc.len() as u64 }));
                    rows_of.push((key.as_str(), t.position, lc));
                }
                Some(Fetched::NotFound(m)) => outcomes.push((key.clone(), store::FetchStatus::NotFound(m))),
                Some(Fetched::Failed(m)) => outcomes.push((key.clone(), store::FetchStatus::Failed(m))),
                None => outcomes.push((key.clone(), store::FetchStatus::Failed("no answer".into()))),
            }
        }
        let rows: u64 = rows_of.iter().map(|r| r.2.len() as u64).sum();
        let part = if rows > 0 {
            let parts: Vec<dataset::PartRows<'_>> = rows_of
                .iter()
                .map(|(k, pos, lc)| dataset::PartRows { key: k, position: *pos, lightcurve: lc })
                .collect();
            let mut df = dataset::part_frame(&parts, p.plan.run_id)?;
            let name = format!("part-{:05}-{:06}.parquet", p.plan.run_id, seq);
            Some(dataset::write_part(&p.harvest.dir, &broker, &name, &mut df)?)
        } else {
            None
        };
        p.store.commit_batch(p.plan.run_id, &broker, part.as_deref().map(|f| (f, rows)), &outcomes)?;
        if part.is_some() {
            counters.parts.fetch_add(1, Ordering::Relaxed);
        }
        counters.cached.fetch_add(from_cache, Ordering::Relaxed);
        counters.fetched.fetch_add(batch.len() as u64 - from_cache, Ordering::Relaxed);
        let written = counters.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let done = counters.done.fetch_add(batch.len() as u64, Ordering::Relaxed) + batch.len() as u64;
        if let Some(f) = &p.harvest.progress {
            f(&Progress { broker: broker.clone(), done, total, rows: written });
        }
    }
    Ok(())
}
