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
//! | `LasairSource` (feature `lasair`) | Lasair ZTF `object/` of `ztf_oid` + Lasair LSST `object/` of `lsst_oid` | both servers' `cone/` |

#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink",
    feature = "lasair"
))]
use async_trait::async_trait;
#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink",
    feature = "lasair"
))]
use broker_core::{Lightcurve, SkyPosition};

#[cfg(any(
    feature = "alerce",
    feature = "atlas",
    feature = "skyportal",
    feature = "forcedphot",
    feature = "fink",
    feature = "lasair"
))]
use crate::cross::{BoxError, LightcurveSource, Target};
#[cfg(any(feature = "alerce", feature = "atlas", feature = "skyportal", feature = "fink", feature = "lasair"))]
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
            Outcome::Data(table) => Ok(table.to_lightcurve_for(&id, run.task.use_reduced)),
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

/// Lasair as a light-curve and cone source, named `lasair`: the ZTF server for the
/// target's `ztf_oid`, the LSST server for its `lsst_oid` (an integer `diaObjectId`),
/// merged (points carry survey `ztf` or `lsst`); the cone search asks both servers
/// (radius capped at Lasair's 1000″). When one server fails and the other answers, the
/// answer is kept and the failure is logged as a warning naming the server; when every
/// server asked fails, the source fails. [`LasairSource::servers`] limits it to the
/// servers you have tokens for. Each call counts against that server's hourly quota.
#[cfg(feature = "lasair")]
#[derive(Debug, Clone)]
pub struct LasairSource {
    client: lasair_client::LasairClient,
    ztf: bool,
    lsst: bool,
    with_forced: bool,
}

#[cfg(feature = "lasair")]
impl LasairSource {
    /// Both servers; alert photometry only.
    pub fn new(client: lasair_client::LasairClient) -> Self {
        LasairSource { client, ztf: true, lsst: true, with_forced: false }
    }
    /// Which servers to ask.
    pub fn servers(mut self, ztf: bool, lsst: bool) -> Self {
        self.ztf = ztf;
        self.lsst = lsst;
        self
    }
    /// Adds forced photometry (ZTF `forcedphot`, LSST diaForcedSources).
    pub fn with_forced_photometry(mut self, on: bool) -> Self {
        self.with_forced = on;
        self
    }
}

/// Keeps what the servers that answered gave; fails only when every server asked failed.
#[cfg(feature = "lasair")]
fn merge_parts<T>(parts: Vec<(&str, Result<Vec<T>, lasair_client::Error>)>) -> Result<Vec<T>, BoxError> {
    let asked = parts.len();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (server, p) in parts {
        match p {
            Ok(v) => out.extend(v),
            Err(e) => errors.push(format!("{server} server: {e}")),
        }
    }
    if asked > 0 && errors.len() == asked {
        return Err(errors.join("; ").into());
    }
    for e in &errors {
        tracing::warn!(broker = "lasair", error = %e, "one Lasair server failed; keeping the other's data");
    }
    Ok(out)
}

#[cfg(feature = "lasair")]
#[async_trait]
impl LightcurveSource for LasairSource {
    fn broker(&self) -> &str {
        "lasair"
    }
    fn applies_to(&self, t: &Target) -> bool {
        (self.ztf && t.ztf_oid.is_some()) || (self.lsst && t.lsst_oid.is_some())
    }
    async fn lightcurve(&self, t: &Target) -> Result<Lightcurve, BoxError> {
        let mut parts = Vec::new();
        if let (true, Some(id)) = (self.ztf, t.ztf_oid.as_deref()) {
            parts.push((
                "ZTF",
                self.client.ztf().lightcurve(id).await.map(|o| o.to_lightcurve(self.with_forced).points),
            ));
        }
        if let (true, Some(raw)) = (self.lsst, t.lsst_oid.as_deref()) {
            let Ok(id) = raw.trim().parse::<i64>() else {
                return Err(format!("{raw:?} is not an LSST diaObjectId (a 64-bit integer)").into());
            };
            parts.push((
                "LSST",
                self.client.lsst().lightcurve(id).await.map(|o| o.to_lightcurve(self.with_forced).points),
            ));
        }
        let mut lc = Lightcurve::from_points(merge_parts(parts)?);
        lc.sort_by_mjd();
        Ok(lc)
    }
}

#[cfg(feature = "lasair")]
#[async_trait]
impl ConeSource for LasairSource {
    fn broker(&self) -> &str {
        "lasair"
    }
    async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeHit>, BoxError> {
        use lasair_client::cone::{ConeRequest, MAX_CONE_RADIUS_ARCSEC};
        let radius = radius_arcsec.min(MAX_CONE_RADIUS_ARCSEC);
        let to_hits = |r: lasair_client::ConeResult| -> Vec<ConeHit> {
            r.objects
                .into_iter()
                .map(|h| ConeHit {
                    broker: "lasair".into(),
                    object_id: h.object.to_string(),
                    ra: None,
                    dec: None,
                    separation_arcsec: Some(h.separation),
                })
                .collect()
        };
        let mut parts = Vec::new();
        if self.ztf {
            parts.push(("ZTF", self.client.ztf().cone(centre, radius, ConeRequest::All).await.map(to_hits)));
        }
        if self.lsst {
            parts.push(("LSST", self.client.lsst().cone(centre, radius, ConeRequest::All).await.map(to_hits)));
        }
        merge_parts(parts)
    }
}
