//! Cross-broker analysis: one transient's light curve from every configured service, merged
//! with per-point provenance; a cone search fanned out to every service.
//!
//! Each service is a [`LightcurveSource`] (and/or [`ConeSource`]). The requests go out
//! concurrently; one service failing (or timing out) yields the others' data plus a
//! [`BrokerFailure`] naming it, never a lost whole.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use broker_core::astro::binning::{BinOptions, bin_lightcurve};
use broker_core::astro::dedup::{DedupOptions, mark_duplicates};
use broker_core::{Lightcurve, SkyPosition};
use serde::Serialize;

/// A boxed error from any client crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What is known about one transient: any of its ids, and/or its position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// A ZTF object id (`ZTF18abcdefg`), for ALeRCE and Lasair's ZTF server.
    pub ztf_oid: Option<String>,
    /// An LSST object id, for ALeRCE's multisurvey API and Lasair's LSST server.
    pub lsst_oid: Option<String>,
    /// A 19-digit ATLAS Transient Server id.
    pub atlas_id: Option<String>,
    /// A SkyPortal object id (often the ZTF name or a TNS name).
    pub skyportal_id: Option<String>,
    /// The position (forced photometry needs it; cone searches use it).
    pub position: Option<SkyPosition>,
    /// Forced photometry: the first MJD to measure (default: 60 days before now).
    pub mjd_min: Option<f64>,
    /// Forced photometry: the last MJD to measure (default: now).
    pub mjd_max: Option<f64>,
}

impl Target {
    /// A target with no ids yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the ZTF id.
    pub fn ztf(mut self, oid: impl Into<String>) -> Self {
        self.ztf_oid = Some(oid.into());
        self
    }
    /// Sets the LSST id.
    pub fn lsst(mut self, oid: impl Into<String>) -> Self {
        self.lsst_oid = Some(oid.into());
        self
    }
    /// Sets the ATLAS id.
    pub fn atlas(mut self, id: impl Into<String>) -> Self {
        self.atlas_id = Some(id.into());
        self
    }
    /// Sets the SkyPortal id.
    pub fn skyportal(mut self, id: impl Into<String>) -> Self {
        self.skyportal_id = Some(id.into());
        self
    }
    /// Sets the position.
    pub fn position(mut self, p: SkyPosition) -> Self {
        self.position = Some(p);
        self
    }
    /// Sets the forced-photometry MJD range.
    pub fn mjd_range(mut self, min: f64, max: f64) -> Self {
        self.mjd_min = Some(min);
        self.mjd_max = Some(max);
        self
    }
    /// Whether nothing identifies the target.
    pub fn is_empty(&self) -> bool {
        self.ztf_oid.is_none()
            && self.lsst_oid.is_none()
            && self.atlas_id.is_none()
            && self.skyportal_id.is_none()
            && self.position.is_none()
    }
}

/// A service that can give a light curve.
#[async_trait]
pub trait LightcurveSource: Send + Sync {
    /// The broker's name (`alerce`, `atlas`, `skyportal`, `forcedphot`).
    fn broker(&self) -> &str;
    /// Whether the target carries what this service needs (an id of its kind, or a
    /// position).
    fn applies_to(&self, target: &Target) -> bool;
    /// The light curve of the target.
    async fn lightcurve(&self, target: &Target) -> Result<Lightcurve, BoxError>;
}

/// One match of a cone search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConeHit {
    /// The broker that found it.
    pub broker: String,
    /// The object's id at that broker.
    pub object_id: String,
    /// Its position, when the broker said.
    pub ra: Option<f64>,
    /// Its declination, when the broker said.
    pub dec: Option<f64>,
    /// The separation from the search centre in arcseconds, when known.
    pub separation_arcsec: Option<f64>,
}

/// A service that can search a cone.
#[async_trait]
pub trait ConeSource: Send + Sync {
    /// The broker's name.
    fn broker(&self) -> &str;
    /// Objects within `radius_arcsec` of `centre`.
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError>;
}

/// A service that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerFailure {
    /// The broker.
    pub broker: String,
    /// What went wrong.
    pub message: String,
}

/// The merged light curve and what did not work.
#[derive(Debug, Clone, Default)]
pub struct CrossLightcurve {
    /// Every point from every service that answered, ordered by MJD.
    pub lightcurve: Lightcurve,
    /// The services that answered, with their point counts.
    pub served: Vec<(String, usize)>,
    /// The services that failed.
    pub failures: Vec<BrokerFailure>,
    /// The services that were skipped because the target had nothing for them.
    pub skipped: Vec<String>,
}

impl CrossLightcurve {
    /// Nightly (or `opts.days`) binning of the merged flux points, per broker and band:
    /// detections where the binned S/N is at least 3, else 3σ limits.
    pub fn binned(&self, opts: &BinOptions) -> Lightcurve {
        bin_lightcurve(&self.lightcurve, opts, 3.0, 3.0)
    }
}

/// Runs the cross-broker queries.
#[derive(Clone, Default)]
pub struct CrossBroker {
    lightcurves: Vec<Arc<dyn LightcurveSource>>,
    cones: Vec<Arc<dyn ConeSource>>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for CrossBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossBroker")
            .field("lightcurve_sources", &self.lightcurves.iter().map(|s| s.broker().to_string()).collect::<Vec<_>>())
            .field("cone_sources", &self.cones.iter().map(|s| s.broker().to_string()).collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl CrossBroker {
    /// No services yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a light-curve service.
    pub fn with_lightcurve_source(mut self, s: Arc<dyn LightcurveSource>) -> Self {
        self.lightcurves.push(s);
        self
    }
    /// Adds a cone-search service.
    pub fn with_cone_source(mut self, s: Arc<dyn ConeSource>) -> Self {
        self.cones.push(s);
        self
    }
    /// A deadline for each service (a service past it counts as failed).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// The light-curve services, in the order they were added (the harvest drives them one
    /// by one).
    pub fn lightcurve_sources(&self) -> &[Arc<dyn LightcurveSource>] {
        &self.lightcurves
    }

    /// The light curve of `target` from every service that applies, merged by MJD.
    pub async fn lightcurve(&self, target: &Target) -> CrossLightcurve {
        let mut out = CrossLightcurve::default();
        let mut jobs = Vec::new();
        for s in &self.lightcurves {
            if s.applies_to(target) {
                let s = s.clone();
                let timeout = self.timeout;
                jobs.push(async move {
                    let name = s.broker().to_string();
                    let r = match timeout {
                        Some(d) => match tokio::time::timeout(d, s.lightcurve(target)).await {
                            Ok(r) => r,
                            Err(_) => Err(format!("no answer within {:.0} s", d.as_secs_f64()).into()),
                        },
                        None => s.lightcurve(target).await,
                    };
                    (name, r)
                });
            } else {
                out.skipped.push(s.broker().to_string());
            }
        }
        let results = futures::future::join_all(jobs).await;
        let mut parts = Vec::new();
        for (name, r) in results {
            match r {
                Ok(lc) => {
                    out.served.push((name, lc.len()));
                    parts.push(lc);
                }
                Err(e) => {
                    tracing::warn!(broker = %name, error = %e, "cross-broker light curve: a service failed");
                    out.failures.push(BrokerFailure { broker: name, message: error_chain(e.as_ref()) });
                }
            }
        }
        out.lightcurve = Lightcurve::merge(parts);
        out
    }

    /// Resolves `query` (a name, an id or a position; see [`crate::resolve`]), fetches the
    /// light curve from every service that applies (forced photometry too when a position
    /// is known), and marks duplicates of one exposure with `dedup` (see
    /// [`broker_core::astro::dedup`]). Every point is kept; use
    /// `lightcurve.without_duplicates()` for the collapsed curve.
    pub async fn lightcurve_of(
        &self,
        resolver: &crate::resolve::Resolver,
        query: &str,
        dedup: &DedupOptions,
    ) -> Result<(crate::resolve::Resolution, CrossLightcurve), crate::resolve::ResolveError> {
        self.lightcurve_of_within(resolver, query, None, None, dedup).await
    }

    /// [`CrossBroker::lightcurve_of`] with a forced-photometry window: `mjd_min` and
    /// `mjd_max` go to [`Target::mjd_min`] and [`Target::mjd_max`] (`None` keeps the
    /// default, the last 60 days). The alert services return their whole light curves.
    pub async fn lightcurve_of_within(
        &self,
        resolver: &crate::resolve::Resolver,
        query: &str,
        mjd_min: Option<f64>,
        mjd_max: Option<f64>,
        dedup: &DedupOptions,
    ) -> Result<(crate::resolve::Resolution, CrossLightcurve), crate::resolve::ResolveError> {
        let resolution = resolver.resolve(query).await?;
        let mut target = resolution.target();
        target.mjd_min = mjd_min;
        target.mjd_max = mjd_max;
        let mut out = self.lightcurve(&target).await;
        mark_duplicates(&mut out.lightcurve, dedup);
        Ok((resolution, out))
    }

    /// A cone search on every cone service; hits sorted by separation.
    pub async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> (Vec<ConeHit>, Vec<BrokerFailure>) {
        let jobs = self.cones.iter().map(|s| {
            let s = s.clone();
            let timeout = self.timeout;
            async move {
                let name = s.broker().to_string();
                let r = match timeout {
                    Some(d) => match tokio::time::timeout(d, s.cone(centre, radius_arcsec)).await {
                        Ok(r) => r,
                        Err(_) => Err(format!("no answer within {:.0} s", d.as_secs_f64()).into()),
                    },
                    None => s.cone(centre, radius_arcsec).await,
                };
                (name, r)
            }
        });
        let mut hits = Vec::new();
        let mut failures = Vec::new();
        for (name, r) in futures::future::join_all(jobs).await {
            match r {
                Ok(h) => hits.extend(h),
                Err(e) => failures.push(BrokerFailure { broker: name, message: error_chain(e.as_ref()) }),
            }
        }
        hits.sort_by(|a, b| {
            a.separation_arcsec.unwrap_or(f64::INFINITY).total_cmp(&b.separation_arcsec.unwrap_or(f64::INFINITY))
        });
        (hits, failures)
    }
}

pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::{Band, PhotometryPoint};

    struct Fake {
        name: &'static str,
        fail: bool,
        points: Vec<f64>,
    }

    #[async_trait]
    impl LightcurveSource for Fake {
        fn broker(&self) -> &str {
            self.name
        }
        fn applies_to(&self, t: &Target) -> bool {
            self.name != "skyportal" || t.skyportal_id.is_some()
        }
        async fn lightcurve(&self, _t: &Target) -> Result<Lightcurve, BoxError> {
            if self.fail {
                return Err("HTTP 503 from https://example.org/x".into());
            }
            Ok(Lightcurve::from_points(
                self.points
                    .iter()
                    .map(|m| PhotometryPoint::limit(self.name, "s", "id", *m, Band::ZtfG, 20.0))
                    .collect(),
            ))
        }
    }

    #[tokio::test]
    async fn partial_results_with_failures_and_skips() {
        let cb = CrossBroker::new()
            .with_lightcurve_source(Arc::new(Fake { name: "alerce", fail: false, points: vec![3.0, 1.0] }))
            .with_lightcurve_source(Arc::new(Fake { name: "atlas", fail: true, points: vec![] }))
            .with_lightcurve_source(Arc::new(Fake { name: "forcedphot", fail: false, points: vec![2.0] }))
            .with_lightcurve_source(Arc::new(Fake { name: "skyportal", fail: false, points: vec![9.0] }));
        let r = cb.lightcurve(&Target::new().ztf("ZTF1")).await;
        assert_eq!(r.lightcurve.points.iter().map(|p| p.mjd).collect::<Vec<_>>(), vec![1.0, 2.0, 3.0]);
        assert_eq!(r.served, vec![("alerce".to_string(), 2), ("forcedphot".to_string(), 1)]);
        assert_eq!(
            r.failures,
            vec![BrokerFailure { broker: "atlas".into(), message: "HTTP 503 from https://example.org/x".into() }]
        );
        assert_eq!(r.skipped, vec!["skyportal".to_string()]);
    }
}
