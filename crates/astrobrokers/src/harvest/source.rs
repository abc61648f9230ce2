//! How the harvest asks each service: [`HarvestSource`] (a batch of targets in, one
//! [`Fetched`] per target out), [`PerTarget`] over any [`LightcurveSource`] of
//! [`crate::cross`], and [`AtlasBatch`] (feature `atlas`), which asks the ATLAS Transient
//! Server for up to 50,000 ids per request because its quota is 100 requests an hour.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use broker_core::Lightcurve;
use futures::StreamExt;

use crate::cross::{LightcurveSource, Target};

/// What became of one target at one service.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// The light curve (possibly empty).
    Found(Lightcurve),
    /// The service does not know the target (its message).
    NotFound(String),
    /// The request failed after the client's retries (the reason).
    Failed(String),
}

/// A service's published request quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaSpec {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
}

impl QuotaSpec {
    /// `requests` per hour.
    pub fn per_hour(requests: u32) -> Self {
        QuotaSpec { requests, per: Duration::from_secs(3600) }
    }
    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Self {
        QuotaSpec { requests, per: Duration::from_secs(60) }
    }
    /// `requests` per second.
    pub fn per_second(requests: u32) -> Self {
        QuotaSpec { requests, per: Duration::from_secs(1) }
    }
    /// The least time `n` requests take under this quota, the first window's worth being
    /// free: `(n - requests) / requests` windows.
    pub fn least_time(&self, n: u64) -> Duration {
        let per_window = u64::from(self.requests.max(1));
        if n <= per_window {
            return Duration::ZERO;
        }
        self.per.mul_f64((n - per_window) as f64 / per_window as f64)
    }
}

impl std::fmt::Display for QuotaSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "second".to_string(),
            60 => "minute".to_string(),
            3600 => "hour".to_string(),
            s => format!("{s} s"),
        };
        write!(f, "{} requests/{unit}", self.requests)
    }
}

/// How a service will take `n` targets: targets per call, the requests that makes, its
/// quota and the least time the quota allows.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePlan {
    /// Targets handed to [`HarvestSource::fetch`] at once (and written to one part file).
    pub batch: usize,
    /// Targets fetched at once within a batch (per-target services).
    pub concurrency: usize,
    /// Requests the pending targets need (an estimate for services with several requests a
    /// target).
    pub requests: u64,
    /// The service's published quota, when it has one.
    pub quota: Option<QuotaSpec>,
    /// The least time the quota allows for these requests.
    pub least_time: Duration,
    /// One line on how the requests are made.
    pub note: String,
}

/// A service the harvest can ask for many targets.
#[async_trait]
pub trait HarvestSource: Send + Sync {
    /// The broker's name (the partition directory is `broker=<name>`): lowercase letters,
    /// digits, `-` and `_`.
    fn broker(&self) -> &str;
    /// Whether the target carries what this service needs.
    fn applies_to(&self, target: &Target) -> bool;
    /// What the request's answer depends on besides the target (part of the cache key).
    fn request_kind(&self) -> String {
        "lightcurve".to_string()
    }
    /// How `pending` targets will be fetched.
    fn plan(&self, pending: usize) -> SourcePlan;
    /// One answer per target, in order.
    async fn fetch(&self, targets: &[Target]) -> Vec<Fetched>;
}

/// Any [`LightcurveSource`] as a [`HarvestSource`]: one call per target, `concurrency` at
/// once, part files of `batch` targets. The quota used for the plan is the service's
/// published one ([`PerTarget::known_quota`]) unless set.
#[derive(Clone)]
pub struct PerTarget {
    source: Arc<dyn LightcurveSource>,
    batch: usize,
    concurrency: usize,
    quota: Option<QuotaSpec>,
    requests_per_target: f64,
}

impl std::fmt::Debug for PerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerTarget")
            .field("broker", &self.source.broker())
            .field("batch", &self.batch)
            .field("concurrency", &self.concurrency)
            .field("quota", &self.quota)
            .finish()
    }
}

impl PerTarget {
    /// Adapts a light-curve source: batches of 100 targets, 8 at once, the broker's known
    /// quota.
    pub fn new(source: Arc<dyn LightcurveSource>) -> Self {
        let (quota, requests_per_target, concurrency) = Self::known_quota(source.broker());
        PerTarget { source, batch: 100, concurrency, quota, requests_per_target }
    }
    /// The published quota, requests per target and a polite concurrency of the services
    /// the facade knows: SkyPortal's 5 requests/s (nginx), the forced-photometry server's
    /// 60 writes/min (a task is a submit and a delete), Lasair's 100 calls/hour (user
    /// accounts; one per server), ATLAS's 100 requests/hour. ALeRCE and Fink publish none.
    pub fn known_quota(broker: &str) -> (Option<QuotaSpec>, f64, usize) {
        match broker {
            "skyportal" => (Some(QuotaSpec::per_second(5)), 1.0, 4),
            "forcedphot" => (Some(QuotaSpec::per_minute(60)), 2.0, 4),
            "lasair" => (Some(QuotaSpec::per_hour(100)), 1.0, 2),
            "atlas" => (Some(QuotaSpec::per_hour(100)), 1.0, 2),
            "alerce" => (None, 2.0, 8),
            _ => (None, 1.0, 8),
        }
    }
    /// Targets per part file.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }
    /// Targets fetched at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// The quota the plan assumes.
    pub fn quota(mut self, q: Option<QuotaSpec>) -> Self {
        self.quota = q;
        self
    }
}

/// Whether an error (or one of its causes) says the object does not exist.
pub fn is_not_found(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(core) = c.downcast_ref::<broker_core::Error>() {
            if core.status() == Some(404) {
                return true;
            }
        }
        #[cfg(feature = "alerce")]
        if c.downcast_ref::<alerce_client::Error>().is_some_and(|a| a.is_not_found()) {
            return true;
        }
        #[cfg(feature = "lasair")]
        if c.downcast_ref::<lasair_client::Error>().is_some_and(|a| a.is_not_found()) {
            return true;
        }
        cur = c.source();
    }
    false
}

#[async_trait]
impl HarvestSource for PerTarget {
    fn broker(&self) -> &str {
        self.source.broker()
    }
    fn applies_to(&self, target: &Target) -> bool {
        self.source.applies_to(target)
    }
    fn plan(&self, pending: usize) -> SourcePlan {
        let requests = (pending as f64 * self.requests_per_target).ceil() as u64;
        SourcePlan {
            batch: self.batch,
            concurrency: self.concurrency,
            requests,
            quota: self.quota,
            least_time: self.quota.map(|q| q.least_time(requests)).unwrap_or_default(),
            note: format!("one call per target, {} at once", self.concurrency),
        }
    }
    async fn fetch(&self, targets: &[Target]) -> Vec<Fetched> {
        let jobs: Vec<_> = targets
            .iter()
            .cloned()
            .map(|t| {
                let source = self.source.clone();
                async move {
                    match source.lightcurve(&t).await {
                        Ok(lc) => Fetched::Found(lc),
                        Err(e) if is_not_found(e.as_ref()) => Fetched::NotFound(e.to_string()),
                        Err(e) => Fetched::Failed(crate::cross::error_chain(e.as_ref())),
                    }
                }
            })
            .collect();
        futures::stream::iter(jobs).buffered(self.concurrency).collect().await
    }
}

/// The ATLAS Transient Server for many targets: `objects/` with up to 50,000 ids a request,
/// so that the 100 requests/hour quota covers large harvests.
///
/// The plan picks the chunk: `preferred` ids (1,000) a request, or more when the pending
/// ids would need more than an hour's quota, up to the server's 50,000.
#[cfg(feature = "atlas")]
#[derive(Debug, Clone)]
pub struct AtlasBatch {
    client: atlas_client::AtlasClient,
    with_forced: bool,
    preferred: usize,
    per_hour: u32,
}

#[cfg(feature = "atlas")]
impl AtlasBatch {
    /// The server's limit of ids per `objects/` request.
    pub const MAX_IDS: usize = 50_000;

    /// Detections and non-detections (`lc`, `lcnondets`); 1,000 ids a request; 100
    /// requests/hour.
    pub fn new(client: atlas_client::AtlasClient) -> Self {
        AtlasBatch { client, with_forced: false, preferred: 1000, per_hour: 100 }
    }
    /// Adds the server's forced photometry (`fp`).
    pub fn with_forced_photometry(mut self, on: bool) -> Self {
        self.with_forced = on;
        self
    }
    /// Ids per request when the quota allows (1 to 50,000).
    pub fn preferred_chunk(mut self, n: usize) -> Self {
        self.preferred = n.clamp(1, Self::MAX_IDS);
        self
    }
    /// The account's quota (100 requests/hour for users).
    pub fn per_hour(mut self, n: u32) -> Self {
        self.per_hour = n.max(1);
        self
    }
    /// Ids per request for `pending` ids: the preferred chunk, grown so the requests fit
    /// one hour's quota when that stays within 50,000 ids.
    pub fn chunk_for(&self, pending: usize) -> usize {
        let fit_hour = pending.div_ceil(self.per_hour as usize);
        self.preferred.max(fit_hour).clamp(1, Self::MAX_IDS)
    }
}

#[cfg(feature = "atlas")]
#[async_trait]
impl HarvestSource for AtlasBatch {
    fn broker(&self) -> &str {
        "atlas"
    }
    fn applies_to(&self, t: &Target) -> bool {
        t.atlas_id.is_some()
    }
    fn request_kind(&self) -> String {
        if self.with_forced { "lightcurve+fp".into() } else { "lightcurve".into() }
    }
    fn plan(&self, pending: usize) -> SourcePlan {
        let chunk = self.chunk_for(pending);
        let requests = pending.div_ceil(chunk) as u64;
        let quota = QuotaSpec::per_hour(self.per_hour);
        SourcePlan {
            batch: chunk,
            concurrency: 1,
            requests,
            quota: Some(quota),
            least_time: quota.least_time(requests),
            note: format!("objects/ with up to {chunk} ids a request"),
        }
    }
    async fn fetch(&self, targets: &[Target]) -> Vec<Fetched> {
        use atlas_client::{AtlasId, SourceOutcome};
        let mut out: Vec<Option<Fetched>> = vec![None; targets.len()];
        let mut ids = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            match t.atlas_id.as_deref().map(AtlasId::parse) {
                Some(Ok(id)) => ids.push((i, id)),
                Some(Err(e)) => out[i] = Some(Fetched::Failed(e.to_string())),
                None => out[i] = Some(Fetched::Failed("the target has no ATLAS id".into())),
            }
        }
        if !ids.is_empty() {
            let chunk = ids.len().min(Self::MAX_IDS);
            let req = self.client.sources(ids.iter().map(|(_, id)| *id)).chunk_size(chunk).concurrency(1);
            let results = match req.collect().await {
                Ok(r) => r,
                Err(e) => {
                    let msg = e.to_string();
                    for (i, _) in &ids {
                        out[*i] = Some(Fetched::Failed(msg.clone()));
                    }
                    Vec::new()
                }
            };
            let by_id: std::collections::HashMap<AtlasId, &atlas_client::SourceResult> =
                results.iter().map(|r| (r.id, r)).collect();
            for (i, id) in &ids {
                out[*i] = Some(match by_id.get(id).map(|r| &r.outcome) {
                    Some(SourceOutcome::Found(s)) => {
                        let mut lc = s.lightcurve();
                        if self.with_forced {
                            lc.extend(s.forced_lightcurve());
                            lc.sort_by_mjd();
                        }
                        Fetched::Found(lc)
                    }
                    Some(SourceOutcome::NotFound(m)) => Fetched::NotFound(m.clone()),
                    Some(SourceOutcome::Failed(e)) => Fetched::Failed(e.to_string()),
                    None => Fetched::Failed(format!("the reply had no entry for {id}")),
                });
            }
        }
        out.into_iter().map(|o| o.unwrap_or_else(|| Fetched::Failed("not asked".into()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_times() {
        let q = QuotaSpec::per_hour(100);
        assert_eq!(q.least_time(100), Duration::ZERO);
        assert_eq!(q.least_time(300), Duration::from_secs(7200));
        assert_eq!(q.to_string(), "100 requests/hour");
        assert_eq!(QuotaSpec::per_second(5).least_time(505), Duration::from_secs(100));
    }

    #[cfg(feature = "atlas")]
    #[test]
    fn atlas_chunks_fit_the_hourly_quota() {
        let client = atlas_client::AtlasClient::builder()
            .base_url("http://127.0.0.1:9/")
            .token("0123456789012345678901234567890123456789")
            .build()
            .unwrap();
        let b = AtlasBatch::new(client);
        // 5,000 ids: 5 requests of 1,000.
        let p = b.plan(5000);
        assert_eq!((p.batch, p.requests, p.least_time), (1000, 5, Duration::ZERO));
        // 300,000 ids: 3,000 a request fits 100 requests, one hour.
        let p = b.plan(300_000);
        assert_eq!((p.batch, p.requests, p.least_time), (3000, 100, Duration::ZERO));
        // 10 million ids: 50,000 a request, 200 requests, an hour past the first.
        let p = b.plan(10_000_000);
        assert_eq!((p.batch, p.requests, p.least_time), (50_000, 200, Duration::from_secs(3600)));
    }
}
