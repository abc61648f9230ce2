//! Ready-made [`LightcurveSource`]s and [`ConeSource`]s for each service client, under the
//! service's cargo feature.
//!
//! | source | light curve from | cone search |
//! |---|---|---|
//! | [`AlerceZtf`] | ZTF detections + non-detections (+ forced photometry) of `ztf_oid` | ZTF objects in the cone |
//! | [`AtlasSource`] | `lc` + `lcnondets` (+ `fp` forced photometry) of `atlas_id` | `cone/` with `requestType=all` |
//! | [`SkyPortalSource`] | the photometry of `skyportal_id` | sources in the cone |
//! | [`ForcedPhotSource`] | a forced-photometry task at `position` (submit, wait, download, delete) | — |
//! | [`FinkSource`] | Fink/ZTF `objects` with upper limits of `ztf_oid`, or Fink/LSST `sources` of `lsst_oid` | `conesearch` of that survey |

#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink"
))]
use async_trait::async_trait;
#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink"
))]
use broker_core::{Lightcurve, SkyPosition};

#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink"
))]
use crate::cross::{BoxError, LightcurveSource, Target};
#[cfg(any(feature = "alerce", feature = "atlas", feature = "skyportal", feature = "fink"))]
use crate::cross::{ConeHit, ConeSource};

/// ALeRCE's ZTF API as a light-curve and cone source.
#[cfg(feature = "alerce")]
#[derive(Debug, Clone)]
pub struct AlerceZtf {
    client: alerce_client::AlerceClient,
    with_forced: bool,
}

#[cfg(feature = "alerce")]
impl AlerceZtf {
    /// Detections and non-detections.
    pub fn new(client: alerce_client::AlerceClient) -> Self {
        AlerceZtf { client, with_forced: false }
    }
    /// Adds ZTF forced photometry to the light curve.
    pub fn with_forced_photometry(mut self, on: bool) -> Self {
        self.with_forced = on;
        self
    }
}

#[cfg(feature = "alerce")]
#[async_trait]
impl LightcurveSource for AlerceZtf {
    fn broker(&self) -> &str {
        "alerce"
    }
    fn applies_to(&self, t: &Target) -> bool {
        t.ztf_oid.is_some()
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        let oid = t.ztf_oid.as_deref().ok_or("no ZTF object id")?;
        Ok(self.client.ztf().unified_lightcurve(oid, self.with_forced).await?)
    }
}

#[cfg(feature = "alerce")]
#[async_trait]
impl ConeSource for AlerceZtf {
    fn broker(&self) -> &str {
        "alerce"
    }
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError> {
        let q = alerce_client::ztf::ObjectQuery::new().cone(*centre, Some(radius_arcsec)).page_size(100);
        let page = self.client.ztf().query_objects(&q).await?;
        Ok(page
            .items
            .into_iter()
            .map(|o| {
                let sep = match (o.meanra, o.meandec) {
                    (Some(ra), Some(dec)) => {
                        Some(broker_core::astro::angular_separation_deg(centre.ra(), centre.dec(), ra, dec) * 3600.0)
                    }
                    _ => None,
                };
                ConeHit {
                    broker: "alerce".into(),
                    object_id: o.oid,
                    ra: o.meanra,
                    dec: o.meandec,
                    separation_arcsec: sep,
                }
            })
            .collect())
    }
}

/// The ATLAS Transient Server as a light-curve and cone source.
#[cfg(feature = "atlas")]
#[derive(Debug, Clone)]
pub struct AtlasSource {
    client: atlas_client::AtlasClient,
    with_forced: bool,
}

#[cfg(feature = "atlas")]
impl AtlasSource {
    /// Detections (`lc`) and non-detections (`lcnondets`).
    pub fn new(client: atlas_client::AtlasClient) -> Self {
        AtlasSource { client, with_forced: false }
    }
    /// Adds the server's forced photometry (`fp`, in µJy).
    pub fn with_forced_photometry(mut self, on: bool) -> Self {
        self.with_forced = on;
        self
    }
}

#[cfg(feature = "atlas")]
#[async_trait]
impl LightcurveSource for AtlasSource {
    fn broker(&self) -> &str {
        "atlas"
    }
    fn applies_to(&self, t: &Target) -> bool {
        t.atlas_id.is_some()
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        let raw = t.atlas_id.as_deref().ok_or("no ATLAS id")?;
        let id = atlas_client::AtlasId::parse(raw)?;
        let Some(source) = self.client.source(id).send().await? else {
            return Err(format!("ATLAS has no object {id}").into());
        };
        let mut lc = source.lightcurve();
        if self.with_forced {
            lc.extend(source.forced_lightcurve());
            lc.sort_by_mjd();
        }
        Ok(lc)
    }
}

#[cfg(feature = "atlas")]
#[async_trait]
impl ConeSource for AtlasSource {
    fn broker(&self) -> &str {
        "atlas"
    }
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError> {
        // The `cone/` reply has no positions; this fills them from the objects' records.
        let hits = self.client.cone_all_with_positions(*centre, radius_arcsec.min(300.0)).await?;
        Ok(hits
            .into_iter()
            .map(|m| ConeHit {
                broker: "atlas".into(),
                object_id: m.object.to_string(),
                ra: m.ra,
                dec: m.dec,
                separation_arcsec: m.separation,
            })
            .collect())
    }
}

/// A SkyPortal deployment as a light-curve and cone source.
#[cfg(feature = "skyportal")]
#[derive(Debug, Clone)]
pub struct SkyPortalSource {
    client: skyportal_client::Client,
}

#[cfg(feature = "skyportal")]
impl SkyPortalSource {
    /// The photometry of sources, by SkyPortal object id.
    pub fn new(client: skyportal_client::Client) -> Self {
        SkyPortalSource { client }
    }
}

#[cfg(feature = "skyportal")]
#[async_trait]
impl LightcurveSource for SkyPortalSource {
    fn broker(&self) -> &str {
        "skyportal"
    }
    fn applies_to(&self, t: &Target) -> bool {
        t.skyportal_id.is_some()
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        let id = t.skyportal_id.as_deref().ok_or("no SkyPortal object id")?;
        Ok(self.client.photometry().lightcurve(id).await?)
    }
}

#[cfg(feature = "skyportal")]
#[async_trait]
impl ConeSource for SkyPortalSource {
    fn broker(&self) -> &str {
        "skyportal"
    }
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError> {
        let sources =
            self.client.sources().list().cone(centre.ra(), centre.dec(), radius_arcsec / 3600.0).page(1).await?;
        Ok(sources
            .items
            .into_iter()
            .map(|s| {
                let sep = match (s.ra, s.dec) {
                    (Some(ra), Some(dec)) => {
                        Some(broker_core::astro::angular_separation_deg(centre.ra(), centre.dec(), ra, dec) * 3600.0)
                    }
                    _ => None,
                };
                ConeHit { broker: "skyportal".into(), object_id: s.id, ra: s.ra, dec: s.dec, separation_arcsec: sep }
            })
            .collect())
    }
}

/// The ATLAS forced-photometry server as a light-curve source: one task at the target's
/// position, run to the end and deleted.
#[cfg(feature = "forcedphot")]
#[derive(Debug, Clone)]
pub struct ForcedPhotSource {
    client: fallingstar_forcedphot::Client,
    options: fallingstar_forcedphot::RunOptions,
    lookback_days: f64,
}

#[cfg(feature = "forcedphot")]
impl ForcedPhotSource {
    /// With default run options and, unless the target says otherwise, the last 60 days.
    pub fn new(client: fallingstar_forcedphot::Client) -> Self {
        ForcedPhotSource { client, options: fallingstar_forcedphot::RunOptions::new(), lookback_days: 60.0 }
    }
    /// Run options (deadline, poll intervals, progress).
    pub fn run_options(mut self, options: fallingstar_forcedphot::RunOptions) -> Self {
        self.options = options;
        self
    }
    /// How far back to measure when the target has no `mjd_min`.
    pub fn lookback_days(mut self, days: f64) -> Self {
        self.lookback_days = days;
        self
    }
}

#[cfg(feature = "forcedphot")]
#[async_trait]
impl LightcurveSource for ForcedPhotSource {
    fn broker(&self) -> &str {
        "forcedphot"
    }
    fn applies_to(&self, t: &Target) -> bool {
        t.position.is_some()
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        use fallingstar_forcedphot::{Outcome, TaskRequest};
        let p = t.position.ok_or("no position")?;
        let now = broker_core::Mjd::now().0;
        let mjd_max = t.mjd_max.unwrap_or(now);
        let mjd_min = t.mjd_min.unwrap_or(mjd_max - self.lookback_days);
        let req = TaskRequest::position(p.ra(), p.dec())?.mjd_min(mjd_min).mjd_max(mjd_max);
        let run = self.client.run(&req, &self.options).await?;
        let id = format!("{} {}", p.ra_sexagesimal(), p.dec_sexagesimal());
        match run.outcome {
            Outcome::Data(table) => Ok(table.to_lightcurve(&id)),
            Outcome::NoData { .. } => Ok(Lightcurve::new()),
            Outcome::Failed { reason } => {
                Err(format!("forced photometry task {} failed: {reason}", run.task.id).into())
            }
            Outcome::Expired => Err(format!("forced photometry task {} expired before download", run.task.id).into()),
        }
    }
}

/// One Fink survey as a light-curve and cone source: `FinkSource::new(client, Survey::Ztf)`
/// reads `ztf_oid` (alerts and upper limits), `Survey::Lsst` reads `lsst_oid` (diaSources).
/// Register one per survey; they report as `fink` (ZTF) and `fink-lsst`, and their points
/// carry broker `fink` and survey `ztf`/`lsst`.
#[cfg(feature = "fink")]
#[derive(Debug, Clone)]
pub struct FinkSource {
    client: fink_client::FinkClient,
    survey: fink_client::Survey,
}

#[cfg(feature = "fink")]
impl FinkSource {
    /// A source for one survey.
    pub fn new(client: fink_client::FinkClient, survey: fink_client::Survey) -> Self {
        FinkSource { client, survey }
    }
    fn name(&self) -> &'static str {
        match self.survey {
            fink_client::Survey::Ztf => "fink",
            fink_client::Survey::Lsst => "fink-lsst",
        }
    }
}

#[cfg(feature = "fink")]
#[async_trait]
impl LightcurveSource for FinkSource {
    fn broker(&self) -> &str {
        self.name()
    }
    fn applies_to(&self, t: &Target) -> bool {
        match self.survey {
            fink_client::Survey::Ztf => t.ztf_oid.is_some(),
            fink_client::Survey::Lsst => t.lsst_oid.is_some(),
        }
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        let id = match self.survey {
            fink_client::Survey::Ztf => t.ztf_oid.as_deref().ok_or("no ZTF object id")?,
            fink_client::Survey::Lsst => t.lsst_oid.as_deref().ok_or("no LSST object id")?,
        };
        Ok(self.client.lightcurve(self.survey, id).await?)
    }
}

#[cfg(feature = "fink")]
#[async_trait]
impl ConeSource for FinkSource {
    fn broker(&self) -> &str {
        self.name()
    }
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError> {
        let rows = self.client.conesearch(self.survey, *centre, radius_arcsec).send().await?;
        let mut hits: Vec<ConeHit> = Vec::new();
        for h in rows.hits() {
            if hits.iter().any(|x| x.object_id == h.object_id) {
                continue;
            }
            let sep = h.separation_arcsec.or_else(|| match (h.ra, h.dec) {
                (Some(ra), Some(dec)) => {
                    Some(broker_core::astro::angular_separation_deg(centre.ra(), centre.dec(), ra, dec) * 3600.0)
                }
                _ => None,
            });
            hits.push(ConeHit {
                broker: self.name().into(),
                object_id: h.object_id,
                ra: h.ra,
                dec: h.dec,
                separation_arcsec: sep,
            });
        }
        Ok(hits)
    }
}
