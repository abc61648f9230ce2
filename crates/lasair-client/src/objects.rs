//! `object/`: one object with its light curve; ZTF's batched `lightcurves/`; and the
//! conversion to the unified [`Lightcurve`].
//!
//! ## Requests
//!
//! `object/` takes `objectId`, `lite` and `lasair_added` on both servers, and
//! `reliabilityThreshold` on LSST only. The ZTF serializer declares `lite` and
//! `lasair_added` without defaults (so they are required), the LSST one defaults them to
//! `False` and `True`; this client always sends both (`True`/`False`, as the Python
//! client does). With `lasair_added=False` the servers skip their own additions and
//! return only the light curve ([`Ztf::lightcurve`], [`Lsst::lightcurve`]).
//!
//! ## Replies (`webserver/lasair/utils.py::objjson`, `serializers.py`)
//!
//! - ZTF: `{"objectId", "objectData", "candidates", "forcedphot", "sherlock", "TNS",
//!   "count_isdiffpos", ...}`; with `lasair_added=False` only `objectId`, `candidates`
//!   and `forcedphot`. An unknown object makes the ZTF server fail (HTTP 500).
//! - LSST: `{"diaObjectId", "diaObject", "lasairData", "diaSourcesList",
//!   "diaForcedSourcesList"}` (`serializers.py::reformat`); an unknown object is a 404.
//!   `diaObjectId` comes back as the string that was sent.
//!
//! ## Light-curve rules
//!
//! Every point has broker `lasair`, the survey `ztf` or `lsst`, and the object id as text.
//!
//! **ZTF** (`lasair/lightcurves.py::lightcurve_fetcher`): `candidates` mixes detections
//! and non-detections. A row **with a `candid`** is a detection: `magpsf` ± `sigmapsf`
//! in band `fid` (1 = ztfg, 2 = ztfr, 3 = ztfi), at `mjd` (or `jd − 2400000.5` when the
//! server sent no `mjd`). `isdiffpos` `f`/`0` marks a negative difference: the point keeps
//! the magnitude and gets a negative flux. A row **without `candid`** (from the
//! `noncandidates` table) is an upper limit at `diffmaglim` (the `objjson` path copies
//! `diffmaglim` into `magpsf` for these rows; it is not a measurement). Forced photometry
//! (`forcedphot`, on request) is `forcediffimflux` ± `forcediffimfluxunc` in DN with
//! zero point `magzpsci`, converted to µJy (`DN × 10^((23.9 − magzpsci)/2.5)`): a
//! detection at S/N ≥ [`SNR_MIN`], else a [`LIMIT_SIGMA`]-σ limit; ZTF's `-99999` "no
//! value" rows are dropped.
//!
//! **LSST** (`lasair-lsst` `lightcurves.py`): `diaSourcesList` rows are difference-image
//! sources with `psfFlux` ± `psfFluxErr` in **nJy** (converted to µJy), `band` a letter
//! (`u g r i z y` → `lsstu` ... `lssty`), at `midpointMjdTai`; `diaForcedSourcesList`
//! rows (on request) have the same columns. Both become a detection at S/N ≥ [`SNR_MIN`]
//! (magnitude from the flux), else a [`LIMIT_SIGMA`]-σ upper limit keeping the flux (the
//! rule `alerce-client` uses for LSST). Lasair sends no separate non-detection limits
//! for LSST. Rows whose flux is `NaN` (the server's `isnan` filter on diaSources does
//! not work: it tests a boolean) are dropped.

use broker_core::astro::njy_to_ujy;
use broker_core::{Band, Lightcurve, Measurement, Origin, PhotometryPoint};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Lsst, Ztf, py_bool, read};
use crate::error::{Error, Result};
use crate::ids::{flex_i64, flex_i64_opt};

/// Flux S/N at or above which a flux measurement is a detection.
pub const SNR_MIN: f64 = 3.0;
/// The limit (in σ of the flux error) given to measurements below [`SNR_MIN`].
pub const LIMIT_SIGMA: f64 = 5.0;
/// The broker name in unified light curves.
pub const BROKER: &str = "lasair";

/// How many ids the Python client sends to ZTF's `lightcurves/` at once (the server
/// itself does not cap it).
pub const ZTF_LIGHTCURVES_BATCH: usize = 10;

/// Options of `object/`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectOptions {
    /// `lite`: fewer columns (LSST: the diaSource and diaObject subsets).
    pub lite: bool,
    /// `lasair_added`: Lasair's own data (object summary, Sherlock, TNS, annotations,
    /// cutout URLs). Without it the reply is the light curve only.
    pub lasair_added: bool,
    /// `reliabilityThreshold` (LSST only): drop diaSources at or below this reliability.
    pub reliability_threshold: Option<f64>,
}

impl Default for ObjectOptions {
    /// `lite = False`, `lasair_added = True` (the LSST server's defaults).
    fn default() -> Self {
        ObjectOptions { lite: false, lasair_added: true, reliability_threshold: None }
    }
}

impl ObjectOptions {
    /// The light curve only: `lite = True`, `lasair_added = False`.
    pub fn lightcurve_only() -> Self {
        ObjectOptions { lite: true, lasair_added: false, reliability_threshold: None }
    }
}

/// One ZTF `candidates` row: a detection (with `candid`) or a non-detection (without).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ZtfCandidate {
    /// The alert's candidate id (detections only).
    #[serde(default, deserialize_with = "flex_i64_opt", skip_serializing_if = "Option::is_none")]
    pub candid: Option<i64>,
    /// Julian Date.
    #[serde(default)]
    pub jd: Option<f64>,
    /// MJD (added by `objjson`; absent with `lasair_added=False`).
    #[serde(default)]
    pub mjd: Option<f64>,
    /// ZTF filter id: 1 g, 2 r, 3 i.
    #[serde(default)]
    pub fid: Option<i64>,
    /// PSF magnitude (detections; for non-detections `objjson` copies `diffmaglim` here).
    #[serde(default)]
    pub magpsf: Option<f64>,
    /// PSF magnitude error.
    #[serde(default)]
    pub sigmapsf: Option<f64>,
    /// `t` (positive difference) or `f` (negative).
    #[serde(default)]
    pub isdiffpos: Option<String>,
    /// 5σ limiting magnitude (non-detections).
    #[serde(default)]
    pub diffmaglim: Option<f64>,
    /// RA of the detection, degrees.
    #[serde(default)]
    pub ra: Option<f64>,
    /// Dec of the detection, degrees.
    #[serde(default)]
    pub dec: Option<f64>,
    /// Magnitude of the nearest reference source.
    #[serde(default)]
    pub magnr: Option<f64>,
    /// Its error.
    #[serde(default)]
    pub sigmagnr: Option<f64>,
    /// Science image zero point.
    #[serde(default)]
    pub magzpsci: Option<f64>,
    /// Deep-learning real/bogus score.
    #[serde(default)]
    pub drb: Option<f64>,
    /// Every other field (`nid`, `ssdistnr`, `ssnamenr`, `image_urls`, `utc`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One ZTF `forcedphot` row.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ZtfForcedPhot {
    /// Julian Date.
    #[serde(default)]
    pub jd: Option<f64>,
    /// MJD (added by `objjson`).
    #[serde(default)]
    pub mjd: Option<f64>,
    /// ZTF filter id.
    #[serde(default)]
    pub fid: Option<i64>,
    /// Difference-image forced flux, DN.
    #[serde(default)]
    pub forcediffimflux: Option<f64>,
    /// Its uncertainty, DN.
    #[serde(default)]
    pub forcediffimfluxunc: Option<f64>,
    /// Zero point, AB mag.
    #[serde(default)]
    pub magzpsci: Option<f64>,
    /// Every other field (`objectid`, `ranr`, `decnr`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The ZTF object summary (`objectData`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ZtfObjectData {
    /// Mean RA, degrees.
    #[serde(default)]
    pub ramean: Option<f64>,
    /// Mean Dec, degrees.
    #[serde(default)]
    pub decmean: Option<f64>,
    /// Number of candidates.
    #[serde(default)]
    pub ncand: Option<i64>,
    /// First detection, JD.
    #[serde(default)]
    pub jdmin: Option<f64>,
    /// Last detection, JD.
    #[serde(default)]
    pub jdmax: Option<f64>,
    /// Everything else (`rasex`, `glatmean`, `discMjd`, `peakMag`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ZTF `object/` reply (also the `lasair_added=False` light-curve reply).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ZtfObject {
    /// The object id.
    #[serde(rename = "objectId")]
    pub object_id: String,
    /// The object summary (with `lasair_added`).
    #[serde(rename = "objectData", default)]
    pub object_data: Option<ZtfObjectData>,
    /// Detections and non-detections.
    #[serde(default)]
    pub candidates: Vec<ZtfCandidate>,
    /// Forced photometry.
    #[serde(default)]
    pub forcedphot: Vec<ZtfForcedPhot>,
    /// The Sherlock classification row (with `lasair_added`).
    #[serde(default)]
    pub sherlock: Option<Map<String, Value>>,
    /// The TNS crossmatch (with `lasair_added`).
    #[serde(rename = "TNS", default)]
    pub tns: Option<Map<String, Value>>,
    /// Everything else (`count_isdiffpos`, `image_urls`, `message`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One LSST diaSource (lite columns: `diaSourceId`, `midpointMjdTai`, `band`, `psfFlux`,
/// `psfFluxErr`, `reliability`; all DPDD columns without `lite`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DiaSource {
    /// The source id (64-bit).
    #[serde(default, deserialize_with = "flex_i64_opt", skip_serializing_if = "Option::is_none")]
    pub diaSourceId: Option<i64>,
    /// Mid-exposure MJD (TAI).
    #[serde(default)]
    pub midpointMjdTai: Option<f64>,
    /// Band letter.
    #[serde(default)]
    pub band: Option<String>,
    /// Difference-image PSF flux, nJy.
    #[serde(default)]
    pub psfFlux: Option<f64>,
    /// Its error, nJy.
    #[serde(default)]
    pub psfFluxErr: Option<f64>,
    /// Real/bogus reliability.
    #[serde(default)]
    pub reliability: Option<f64>,
    /// Every other column.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One LSST diaForcedSource.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DiaForcedSource {
    /// Mid-exposure MJD (TAI).
    #[serde(default)]
    pub midpointMjdTai: Option<f64>,
    /// Band letter.
    #[serde(default)]
    pub band: Option<String>,
    /// Forced PSF flux on the difference image, nJy.
    #[serde(default)]
    pub psfFlux: Option<f64>,
    /// Its error, nJy.
    #[serde(default)]
    pub psfFluxErr: Option<f64>,
    /// Every other column.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An LSST `object/` reply (also the `lasair_added=False` light-curve reply).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LsstObject {
    /// The `diaObjectId` (sent back as a string; read here as a 64-bit integer).
    #[serde(rename = "diaObjectId", deserialize_with = "flex_i64")]
    pub dia_object_id: i64,
    /// `ra`, `decl`, `firstDiaSourceMjdTai`, `lastDiaSourceMjdTai` (with `lasair_added`),
    /// or the whole diaObject row (`lasair_added=False`, not lite).
    #[serde(rename = "diaObject", default)]
    pub dia_object: Option<Map<String, Value>>,
    /// Lasair's additions: object features, `sherlock`, `TNS`, `annotations`, `imageUrls`.
    #[serde(rename = "lasairData", default)]
    pub lasair_data: Option<Map<String, Value>>,
    /// The diaSources.
    #[serde(rename = "diaSourcesList", default)]
    pub dia_sources: Vec<DiaSource>,
    /// The diaForcedSources.
    #[serde(rename = "diaForcedSourcesList", default)]
    pub dia_forced_sources: Vec<DiaForcedSource>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LsstObject {
    /// `diaObject.ra`, degrees.
    pub fn ra(&self) -> Option<f64> {
        self.dia_object.as_ref()?.get("ra")?.as_f64()
    }
    /// `diaObject.decl` (or `dec`), degrees.
    pub fn dec(&self) -> Option<f64> {
        let o = self.dia_object.as_ref()?;
        o.get("decl").or_else(|| o.get("dec"))?.as_f64()
    }
}

/// One element of ZTF's `lightcurves/` reply: a light curve, or `{"error": ...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ZtfLightcurveEntry {
    /// The object id (absent on errors).
    #[serde(rename = "objectId", default)]
    pub object_id: Option<String>,
    /// Detections and non-detections.
    #[serde(default)]
    pub candidates: Vec<ZtfCandidate>,
    /// Forced photometry.
    #[serde(default)]
    pub forcedphot: Vec<ZtfForcedPhot>,
    /// The server's error for this id.
    #[serde(default)]
    pub error: Option<String>,
}

fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

impl ZtfCandidate {
    /// The MJD: `mjd`, else `jd − 2400000.5`.
    pub fn mjd(&self) -> Option<f64> {
        finite(self.mjd).or_else(|| finite(self.jd).map(|jd| jd - 2_400_000.5))
    }
    /// Whether this row is a detection (it has a `candid`).
    pub fn is_detection(&self) -> bool {
        self.candid.is_some()
    }
    /// This row as a unified point (see the module rules); `None` without time, band or
    /// value.
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd()?;
        let band = Band::from_ztf_fid(self.fid?)?;
        if self.is_detection() {
            let mag = finite(self.magpsf)?;
            let mut p = PhotometryPoint::from_mag(BROKER, "ztf", object_id, mjd, band, mag, finite(self.sigmapsf));
            if matches!(self.isdiffpos.as_deref(), Some("f" | "0")) {
                p.flux_ujy = p.flux_ujy.map(|f| -f);
            }
            p.limiting_mag = finite(self.diffmaglim);
            Some(p.with_origin(Origin::Alert).with_measurement(Measurement::Difference))
        } else {
            let lim = finite(self.diffmaglim)?;
            Some(
                PhotometryPoint::limit(BROKER, "ztf", object_id, mjd, band, lim)
                    .with_origin(Origin::Alert)
                    .with_measurement(Measurement::Difference),
            )
        }
    }
}

impl ZtfForcedPhot {
    /// This row as a unified point (see the module rules).
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        let mjd = finite(self.mjd).or_else(|| finite(self.jd).map(|jd| jd - 2_400_000.5))?;
        let band = Band::from_ztf_fid(self.fid?)?;
        let (f, e, zp) = (finite(self.forcediffimflux)?, finite(self.forcediffimfluxunc)?, finite(self.magzpsci)?);
        if f <= -99_999.0 || e <= 0.0 {
            return None;
        }
        let scale = 10f64.powf((23.9 - zp) / 2.5);
        Some(
            PhotometryPoint::from_flux(BROKER, "ztf", object_id, mjd, band, f * scale, e * scale, SNR_MIN, LIMIT_SIGMA)
                // ZTF forced photometry: `forcediffimflux` is measured on the difference image.
                .with_origin(Origin::Forced)
                .with_measurement(Measurement::Difference),
        )
    }
}

fn lsst_point(
    id: &str,
    mjd: Option<f64>,
    band: Option<&str>,
    flux: Option<f64>,
    err: Option<f64>,
    origin: Origin,
) -> Option<PhotometryPoint> {
    let (mjd, band, f, e) = (finite(mjd)?, band?, finite(flux)?, finite(err)?);
    Some(
        PhotometryPoint::from_flux(
            BROKER,
            "lsst",
            id,
            mjd,
            Band::from_lsst_letter(band),
            njy_to_ujy(f),
            njy_to_ujy(e),
            SNR_MIN,
            LIMIT_SIGMA,
        )
        // `psfFlux` of diaSources and diaForcedSources is measured on the difference image.
        .with_origin(origin)
        .with_measurement(Measurement::Difference),
    )
}

impl DiaSource {
    /// This row as a unified point (see the module rules).
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        lsst_point(object_id, self.midpointMjdTai, self.band.as_deref(), self.psfFlux, self.psfFluxErr, Origin::Alert)
    }
}

impl DiaForcedSource {
    /// This row as a unified point (see the module rules).
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        lsst_point(object_id, self.midpointMjdTai, self.band.as_deref(), self.psfFlux, self.psfFluxErr, Origin::Forced)
    }
}

fn ztf_lightcurve(id: &str, candidates: &[ZtfCandidate], forced: &[ZtfForcedPhot], with_forced: bool) -> Lightcurve {
    let mut lc = Lightcurve::new();
    candidates.iter().filter_map(|c| c.to_point(id)).for_each(|p| lc.push(p));
    if with_forced {
        forced.iter().filter_map(|c| c.to_point(id)).for_each(|p| lc.push(p));
    }
    lc.sort_by_mjd();
    lc
}

impl ZtfObject {
    /// The unified light curve: detections and limits, plus forced photometry when
    /// `with_forced`, ordered by MJD.
    pub fn to_lightcurve(&self, with_forced: bool) -> Lightcurve {
        ztf_lightcurve(&self.object_id, &self.candidates, &self.forcedphot, with_forced)
    }
}

impl ZtfLightcurveEntry {
    /// The unified light curve (empty for an error entry).
    pub fn to_lightcurve(&self, with_forced: bool) -> Lightcurve {
        ztf_lightcurve(self.object_id.as_deref().unwrap_or_default(), &self.candidates, &self.forcedphot, with_forced)
    }
}

impl LsstObject {
    /// The unified light curve: diaSources, plus diaForcedSources when `with_forced`,
    /// ordered by MJD.
    pub fn to_lightcurve(&self, with_forced: bool) -> Lightcurve {
        let id = self.dia_object_id.to_string();
        let mut lc = Lightcurve::new();
        self.dia_sources.iter().filter_map(|s| s.to_point(&id)).for_each(|p| lc.push(p));
        if with_forced {
            self.dia_forced_sources.iter().filter_map(|s| s.to_point(&id)).for_each(|p| lc.push(p));
        }
        lc.sort_by_mjd();
        lc
    }
}

fn ztf_id(id: &str) -> Result<&str> {
    let t = id.trim();
    if t.is_empty() || t.contains(',') {
        return Err(Error::invalid("objectId", format!("{id:?} is not a ZTF object id (e.g. ZTF21abcdefg)")));
    }
    Ok(t)
}

impl Ztf<'_> {
    /// One object (`POST object/`, form `objectId`, `lite`, `lasair_added`).
    /// `reliability_threshold` is an LSST option and is refused here.
    pub async fn object(&self, object_id: &str, opts: &ObjectOptions) -> Result<ZtfObject> {
        let id = ztf_id(object_id)?;
        if opts.reliability_threshold.is_some() {
            return Err(Error::invalid("reliabilityThreshold", "only the LSST server takes a reliability threshold"));
        }
        let req = read("object/")
            .form("objectId", id)
            .form("lite", py_bool(opts.lite))
            .form("lasair_added", py_bool(opts.lasair_added));
        self.api.send(req).await
    }

    /// The light curve alone: [`Self::object`] with `lite=True`, `lasair_added=False`
    /// (`candidates` and `forcedphot`).
    pub async fn lightcurve(&self, object_id: &str) -> Result<ZtfObject> {
        self.object(object_id, &ObjectOptions::lightcurve_only()).await
    }

    /// Light curves of many objects through the deprecated batch route
    /// (`POST lightcurves/`, form `objectIds` comma-joined), [`ZTF_LIGHTCURVES_BATCH`]
    /// ids per request, one after another. An id the server cannot read comes back as
    /// an entry with `error`.
    pub async fn lightcurves(&self, object_ids: &[&str]) -> Result<Vec<ZtfLightcurveEntry>> {
        if object_ids.is_empty() {
            return Err(Error::invalid("objectIds", "give at least one object id"));
        }
        let ids = object_ids.iter().map(|i| ztf_id(i)).collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ZTF_LIGHTCURVES_BATCH) {
            let req = read("lightcurves/").form("objectIds", chunk.join(","));
            let part: Vec<ZtfLightcurveEntry> = self.api.send(req).await?;
            out.extend(part);
        }
        Ok(out)
    }
}

impl Lsst<'_> {
    /// One object (`POST object/`, form `objectId`, `lite`, `lasair_added`, and
    /// `reliabilityThreshold` when set). An unknown id is [`Error::NotFound`].
    pub async fn object(&self, dia_object_id: i64, opts: &ObjectOptions) -> Result<LsstObject> {
        if let Some(t) = opts.reliability_threshold {
            if !t.is_finite() {
                return Err(Error::invalid("reliabilityThreshold", "use a finite number (0 keeps every diaSource)"));
            }
        }
        let req = read("object/")
            .form("objectId", dia_object_id)
            .form("lite", py_bool(opts.lite))
            .form("lasair_added", py_bool(opts.lasair_added))
            .form_opt("reliabilityThreshold", opts.reliability_threshold);
        self.api.send(req).await
    }

    /// The light curve alone: [`Self::object`] with `lite=True`, `lasair_added=False`
    /// (`diaSourcesList` and `diaForcedSourcesList`).
    pub async fn lightcurve(&self, dia_object_id: i64) -> Result<LsstObject> {
        self.object(dia_object_id, &ObjectOptions::lightcurve_only()).await
    }
}
