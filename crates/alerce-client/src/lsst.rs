//! The ALeRCE multisurvey API (`https://api-lsst.alerce.online/`), used for LSST.
//!
//! | method | route | query |
//! |---|---|---|
//! | [`Lsst::query_objects`] | `GET object_api/list_objects` | `survey` `oid`… `classifier` `class_name` `ranking` `n_det`… `probability` `firstmjd`… `lastmjd`… `ra` `dec` `radius` `page` `page_size` `count` `order_by` `order_mode` |
//! | [`Lsst::object`] | `GET object_api/object` | `survey_id` `oid` `return_survey_extra` |
//! | [`Lsst::lightcurve`] | `GET lightcurve_api/lightcurve` | `survey_id` `oid`… |
//! | [`Lsst::detections`] | `GET lightcurve_api/detections` | `survey_id` `oid`… |
//! | [`Lsst::non_detections`] | `GET lightcurve_api/non_detections` | `survey_id` `oid`… |
//! | [`Lsst::forced_photometry`] | `GET lightcurve_api/forced-photometry` | `survey_id` `oid`… |
//! | [`Lsst::probabilities`] | `GET probability_api/probability` | `survey_id` `oid` `classifier` |
//! | [`Lsst::magstats`] | `GET magstat_api/magstats` | `survey_id` `oid` |
//! | [`Lsst::classifiers`] | `GET classifier_api/classifiers` | `classifier_name` |
//!
//! Object and measurement ids are 64-bit integers above 2^53: they are `i64` here and
//! never pass through `f64`. Light-curve rows carry `band` (an integer) and `band_map`
//! (string keys); this crate fills [`LsstDetection::band_name`] and friends from them.
//! Fluxes are in nanojansky; conversions to the core [`Lightcurve`] give microjansky.

use std::fmt;

use broker_core::astro::{
    Band, Lightcurve, PhotometryPoint, SkyPosition, njy_to_ujy, upper_limit_mag, validate_radius_arcsec,
};
use broker_core::paginate::{Page, PageNumberPaginator, Paginator, StopRules, id_chunks};
use broker_core::{HttpClient, ListStyle, Request};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{AlerceClient, get_json};
use crate::de::{opt_bool, opt_f64, opt_i64, opt_string, py_float, req_i64};
use crate::error::{Error, Result};
use crate::stream::AlerceStream;
use crate::ztf::{MAX_RADIUS_ARCSEC, OrderMode, check_range_f64, check_range_i64, core_error, get_or_empty, list};

/// The most object ids the multisurvey API takes in one request (more gives 422).
pub const MAX_OIDS_PER_REQUEST: usize = 200;

/// Signal-to-noise above which an LSST flux becomes a detection with a magnitude in
/// the core [`Lightcurve`]; below it the point is kept as a limit with its flux.
pub const LSST_SNR_MIN: f64 = 3.0;
/// The n-sigma of the limiting magnitudes computed from LSST flux errors and `diaNoise`.
pub const LSST_LIMIT_SIGMA: f64 = 5.0;

/// A classifier version: an integer in the multisurvey probability API, a string
/// elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassifierVersion {
    /// An integer version (multisurvey probabilities).
    Number(i64),
    /// A text version (`1.0.0`).
    Text(String),
}

impl fmt::Display for ClassifierVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassifierVersion::Number(n) => write!(f, "{n}"),
            ClassifierVersion::Text(s) => f.write_str(s),
        }
    }
}

/// Filters for [`Lsst::query_objects`] / [`Lsst::stream_objects`]. Unset filters are
/// never sent; `survey` is always sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LsstObjectQuery {
    oids: Vec<i64>,
    classifier: Option<String>,
    class_name: Option<String>,
    ranking: Option<i64>,
    n_det: Vec<i64>,
    probability: Option<f64>,
    firstmjd: Vec<f64>,
    lastmjd: Vec<f64>,
    cone: Option<(f64, f64, Option<f64>)>,
    page: Option<u64>,
    page_size: Option<u64>,
    count: Option<bool>,
    order_by: Option<String>,
    order_mode: Option<OrderMode>,
}

impl LsstObjectQuery {
    /// No filters (server defaults: page 1 of 10, ordered by probability, descending).
    pub fn new() -> Self {
        Self::default()
    }
    /// Only these object ids (at most [`MAX_OIDS_PER_REQUEST`]).
    pub fn oids(mut self, oids: impl IntoIterator<Item = i64>) -> Self {
        self.oids = oids.into_iter().collect();
        self
    }
    /// The classifier (`stamp_classifier_rubin`, ...).
    pub fn classifier(mut self, name: impl Into<String>) -> Self {
        self.classifier = Some(name.into());
        self
    }
    /// The class (sent as `class_name`).
    pub fn class_name(mut self, class: impl Into<String>) -> Self {
        self.class_name = Some(class.into());
        self
    }
    /// The class ranking.
    pub fn ranking(mut self, ranking: i64) -> Self {
        self.ranking = Some(ranking);
        self
    }
    /// At least `min` detections (`n_det=min`).
    pub fn n_det_min(mut self, min: i64) -> Self {
        self.n_det = vec![min];
        self
    }
    /// Between `min` and `max` detections (`n_det=min&n_det=max`).
    pub fn n_det_range(mut self, min: i64, max: i64) -> Self {
        self.n_det = vec![min, max];
        self
    }
    /// Minimum probability in [0, 1] (the server needs a class for a positive value).
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
    /// First detection between two MJDs.
    pub fn firstmjd_range(mut self, min: f64, max: f64) -> Self {
        self.firstmjd = vec![min, max];
        self
    }
    /// Last detection between two MJDs.
    pub fn lastmjd_range(mut self, min: f64, max: f64) -> Self {
        self.lastmjd = vec![min, max];
        self
    }
    /// A cone search (radius in arcsec).
    pub fn cone(mut self, position: SkyPosition, radius_arcsec: Option<f64>) -> Self {
        self.cone = Some((position.ra(), position.dec(), radius_arcsec));
        self
    }
    /// The page number (from 1).
    pub fn page(mut self, page: u64) -> Self {
        self.page = Some(page);
        self
    }
    /// The page size.
    pub fn page_size(mut self, n: u64) -> Self {
        self.page_size = Some(n);
        self
    }
    /// Whether to count (`count=true`).
    pub fn count(mut self, count: bool) -> Self {
        self.count = Some(count);
        self
    }
    /// The sort column (the server's default is `probability`) and direction.
    pub fn order_by(mut self, column: impl Into<String>, mode: OrderMode) -> Self {
        self.order_by = Some(column.into());
        self.order_mode = Some(mode);
        self
    }

    /// Checks the filters and gives the query pairs as they go on the wire.
    pub fn to_query(&self, survey: &str) -> Result<Vec<(String, String)>> {
        check_range_i64("n_det", &self.n_det)?;
        check_range_f64("firstmjd", &self.firstmjd)?;
        check_range_f64("lastmjd", &self.lastmjd)?;
        if self.oids.len() > MAX_OIDS_PER_REQUEST {
            return Err(Error::invalid(
                "oid",
                format!(
                    "{} object ids given: the multisurvey API takes at most {MAX_OIDS_PER_REQUEST}",
                    self.oids.len()
                ),
            ));
        }
        if let Some(p) = self.probability {
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid("probability", format!("{p} is not a probability: use a number in [0, 1]")));
            }
            if p > 0.0 && self.class_name.is_none() {
                return Err(Error::invalid("probability", "a minimum probability needs a class_name"));
            }
        }
        if self.page == Some(0) {
            return Err(Error::invalid("page", "pages are numbered from 1"));
        }
        if self.page_size == Some(0) {
            return Err(Error::invalid("page_size", "use a page size of at least 1"));
        }
        if self.order_by.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(Error::invalid("order_by", "must not be empty when given"));
        }
        let mut q: Vec<(String, String)> = vec![("survey".into(), survey.to_string())];
        let mut push = |k: &str, v: String| q.push((k.to_string(), v));
        if let Some(v) = &self.classifier {
            push("classifier", v.clone());
        }
        if let Some(v) = &self.class_name {
            push("class_name", v.clone());
        }
        if let Some(v) = self.ranking {
            push("ranking", v.to_string());
        }
        for v in &self.n_det {
            push("n_det", v.to_string());
        }
        if let Some(v) = self.probability {
            push("probability", py_float(v));
        }
        for v in &self.firstmjd {
            push("firstmjd", py_float(*v));
        }
        for v in &self.lastmjd {
            push("lastmjd", py_float(*v));
        }
        for v in &self.oids {
            push("oid", v.to_string());
        }
        if let Some((ra, dec, radius)) = self.cone {
            let p = SkyPosition::new(ra, dec)?;
            push("ra", py_float(p.ra()));
            push("dec", py_float(p.dec()));
            if let Some(r) = radius {
                push("radius", py_float(validate_radius_arcsec(r, MAX_RADIUS_ARCSEC)?));
            }
        }
        if let Some(v) = self.page {
            push("page", v.to_string());
        }
        if let Some(v) = self.page_size {
            push("page_size", v.to_string());
        }
        if let Some(v) = self.count {
            push("count", v.to_string());
        }
        if let Some(v) = &self.order_by {
            push("order_by", v.trim().to_string());
        }
        if let Some(v) = self.order_mode {
            push("order_mode", v.to_string());
        }
        Ok(q)
    }
}

/// One page of `object_api/list_objects`. `total` is the number of rows the server
/// fetched for this page (it probes `page_size + 1`), not a global count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LsstObjectPage {
    /// Rows fetched (not a global count).
    #[serde(default, deserialize_with = "opt_i64")]
    pub total: Option<i64>,
    /// The next page number.
    #[serde(default, deserialize_with = "opt_i64")]
    pub next: Option<i64>,
    /// Whether there is a next page.
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_next: Option<bool>,
    /// The previous page number.
    #[serde(default, deserialize_with = "opt_i64")]
    pub prev: Option<i64>,
    /// Whether there is a previous page.
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_prev: Option<bool>,
    /// This page's number.
    #[serde(default, deserialize_with = "opt_i64")]
    pub current_page: Option<i64>,
    /// The objects.
    #[serde(default)]
    pub items: Vec<LsstObject>,
    /// A note from the server.
    #[serde(default, deserialize_with = "opt_string")]
    pub info_message: Option<String>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A multisurvey object (list item or `object_api/object`). With
/// `return_survey_extra=true` the LSST DiaObject fields land in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LsstObject {
    /// The object id (64-bit).
    #[serde(deserialize_with = "req_i64")]
    pub oid: i64,
    /// Telescope id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub tid: Option<i64>,
    /// Survey id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub sid: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub meanra: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub meandec: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmara: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmadec: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub firstmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub lastmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub deltamjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub n_det: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub n_forced: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub n_non_det: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub stellar: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    pub class_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_name: Option<String>,
    #[serde(default)]
    pub classifier_version: Option<ClassifierVersion>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub probability: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ranking: Option<i64>,
    /// Fields this crate does not know yet (dates, DiaObject columns, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A detection (LSST DiaSource, or a ZTF detection when the survey is `ztf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case, missing_docs)]
pub struct LsstDetection {
    #[serde(deserialize_with = "req_i64")]
    pub oid: i64,
    #[serde(default, deserialize_with = "opt_string")]
    pub survey_id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub measurement_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub parentDiaSourceId: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub diaObjectId: Option<i64>,
    /// PSF flux of the difference image, nJy.
    #[serde(default, deserialize_with = "opt_f64")]
    pub psfFlux: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub psfFluxErr: Option<f64>,
    /// Flux in the science image, nJy.
    #[serde(default, deserialize_with = "opt_f64")]
    pub scienceFlux: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub scienceFluxErr: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    /// The band number (see `band_map`).
    #[serde(default, deserialize_with = "opt_i64")]
    pub band: Option<i64>,
    /// Band number (as a string key) to band letter.
    #[serde(default)]
    pub band_map: Map<String, Value>,
    /// The band letter resolved from `band_map` (as the Python client's `band_name`).
    #[serde(default, deserialize_with = "opt_string")]
    pub band_name: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_stamp: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub visit: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub detector: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub snr: Option<f64>,
    /// ZTF rows (survey `ztf`): PSF magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magpsf: Option<f64>,
    /// ZTF rows: its error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmapsf: Option<f64>,
    /// ZTF rows: limiting magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub diffmaglim: Option<f64>,
    /// Fields this crate does not know yet (flags, shapes, trails, dipoles, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A non-detection: LSST rows carry `diaNoise` (nJy), ZTF rows `diffmaglim`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case, missing_docs)]
pub struct LsstNonDetection {
    #[serde(deserialize_with = "req_i64")]
    pub oid: i64,
    #[serde(default, deserialize_with = "opt_string")]
    pub survey_id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ccdVisitId: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub band: Option<i64>,
    #[serde(default)]
    pub band_map: Map<String, Value>,
    #[serde(default, deserialize_with = "opt_string")]
    pub band_name: Option<String>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    /// LSST: the noise of the difference image at the position, nJy.
    #[serde(default, deserialize_with = "opt_f64")]
    pub diaNoise: Option<f64>,
    /// ZTF: limiting magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub diffmaglim: Option<f64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A forced-photometry measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case, missing_docs)]
pub struct LsstForcedPhotometry {
    #[serde(deserialize_with = "req_i64")]
    pub oid: i64,
    #[serde(default, deserialize_with = "opt_string")]
    pub survey_id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub measurement_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub band: Option<i64>,
    #[serde(default)]
    pub band_map: Map<String, Value>,
    #[serde(default, deserialize_with = "opt_string")]
    pub band_name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub visit: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub detector: Option<i64>,
    /// Difference-image PSF flux, nJy.
    #[serde(default, deserialize_with = "opt_f64")]
    pub psfFlux: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub psfFluxErr: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub scienceFlux: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub scienceFluxErr: Option<f64>,
    /// ZTF rows: magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mag: Option<f64>,
    /// ZTF rows: its error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_mag: Option<f64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `lightcurve_api/lightcurve`: the three kinds of rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LsstLightcurve {
    /// Detections.
    #[serde(default)]
    pub detections: Vec<LsstDetection>,
    /// Non-detections.
    #[serde(default)]
    pub non_detections: Vec<LsstNonDetection>,
    /// Forced photometry.
    #[serde(default)]
    pub forced_photometry: Vec<LsstForcedPhotometry>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A class probability; `classifier_version` is an integer here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LsstProbability {
    #[serde(default, deserialize_with = "opt_i64")]
    pub oid: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_name: Option<String>,
    #[serde(default)]
    pub classifier_version: Option<ClassifierVersion>,
    #[serde(default, deserialize_with = "opt_string")]
    pub class_name: Option<String>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub probability: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ranking: Option<i64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Magnitude statistics of one band (`magstat_api/magstats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LsstMagstat {
    #[serde(default, deserialize_with = "opt_i64")]
    pub oid: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub sid: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub band: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub stellar: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub corrected: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ndubious: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magmean: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magmedian: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magmax: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magmin: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magsigma: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub maglast: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magfirst: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub saturation_rate: Option<f64>,
    /// Fields this crate does not know yet (`dmdt_first`, `*_corr`, dates, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A classifier (`classifier_api/classifiers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LsstClassifier {
    /// The classifier name.
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_name: Option<String>,
    /// Its version.
    #[serde(default)]
    pub classifier_version: Option<ClassifierVersion>,
    /// Its classes as the server sends them (names, or objects with a name).
    #[serde(default)]
    pub classes: Vec<Value>,
    /// The database id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub classifier_id: Option<i64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LsstClassifier {
    /// The class names (strings, or the `name`/`class_name` of objects).
    pub fn class_names(&self) -> Vec<String> {
        self.classes
            .iter()
            .filter_map(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Object(m) => {
                    m.get("name").or_else(|| m.get("class_name")).and_then(Value::as_str).map(str::to_string)
                }
                _ => None,
            })
            .collect()
    }
}

fn resolve_band_name(band: Option<i64>, map: &Map<String, Value>, current: &mut Option<String>) {
    if current.is_some() {
        return;
    }
    if let Some(b) = band {
        *current = map.get(&b.to_string()).and_then(Value::as_str).map(str::to_string);
    }
}

impl LsstDetection {
    fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
    }
}
impl LsstNonDetection {
    fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
    }
}
impl LsstForcedPhotometry {
    fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
    }
}
impl LsstLightcurve {
    fn fill(&mut self) {
        self.detections.iter_mut().for_each(LsstDetection::fill);
        self.non_detections.iter_mut().for_each(LsstNonDetection::fill);
        self.forced_photometry.iter_mut().for_each(LsstForcedPhotometry::fill);
    }
}

/// The core band of a survey's band letter: `lsst` + `r` is `lsstr`, `ztf` + `g` is
/// `ztfg`; unknown letters or bands keep a descriptive `Band::Other`.
pub fn survey_band(survey: Option<&str>, band_name: Option<&str>, band: Option<i64>) -> Band {
    let survey = survey.unwrap_or("lsst").to_ascii_lowercase();
    match (survey.as_str(), band_name) {
        ("lsst", Some(l)) => Band::from_lsst_letter(l),
        ("ztf", Some(l)) => Band::from_name(&format!("ztf{}", l.trim())),
        (s, Some(l)) => Band::from_name(&format!("{s}{}", l.trim())),
        (s, None) => Band::Other(format!("{s}_band{}", band.map(|b| b.to_string()).unwrap_or_else(|| "?".into()))),
    }
}

fn flux_point(survey: &str, oid: &str, mjd: f64, band: Band, flux_njy: f64, err_njy: f64) -> Option<PhotometryPoint> {
    (flux_njy.is_finite() && err_njy.is_finite()).then(|| {
        PhotometryPoint::from_flux(
            "alerce",
            survey,
            oid,
            mjd,
            band,
            njy_to_ujy(flux_njy),
            njy_to_ujy(err_njy),
            LSST_SNR_MIN,
            LSST_LIMIT_SIGMA,
        )
    })
}

impl LsstDetection {
    /// This row as a core point: `psfFlux` ± `psfFluxErr` (nJy → µJy; a detection with a
    /// magnitude when S/N ≥ [`LSST_SNR_MIN`]), or `magpsf` ± `sigmapsf` for ZTF rows.
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let oid = self.oid.to_string();
        if let (Some(f), Some(e)) = (self.psfFlux, self.psfFluxErr) {
            return flux_point(&survey, &oid, mjd, band, f, e);
        }
        let mag = self.magpsf.filter(|m| m.is_finite())?;
        let mut p =
            PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.sigmapsf.filter(|e| e.is_finite()));
        p.limiting_mag = self.diffmaglim.filter(|m| m.is_finite());
        Some(p)
    }
}

impl LsstNonDetection {
    /// This row as a core limit: `diffmaglim`, or the [`LSST_LIMIT_SIGMA`]-sigma limit
    /// of `diaNoise` (nJy).
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let lim = self
            .diffmaglim
            .filter(|m| m.is_finite())
            .or_else(|| self.diaNoise.and_then(|n| upper_limit_mag(njy_to_ujy(n), LSST_LIMIT_SIGMA)))?;
        Some(PhotometryPoint::limit("alerce", &survey, &self.oid.to_string(), mjd, band, lim))
    }
}

impl LsstForcedPhotometry {
    /// This row as a core point: `psfFlux` ± `psfFluxErr` (nJy → µJy), or `mag` ± `e_mag`
    /// for ZTF rows.
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let oid = self.oid.to_string();
        if let (Some(f), Some(e)) = (self.psfFlux, self.psfFluxErr) {
            return flux_point(&survey, &oid, mjd, band, f, e);
        }
        let mag = self.mag.filter(|m| m.is_finite() && *m < 90.0)?;
        Some(PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.e_mag.filter(|e| e.is_finite())))
    }
}

impl LsstLightcurve {
    /// Every row as a core [`Lightcurve`] ordered by MJD (fluxes in µJy).
    pub fn to_lightcurve(&self) -> Lightcurve {
        let mut lc = Lightcurve::new();
        self.detections.iter().filter_map(LsstDetection::to_point).for_each(|p| lc.push(p));
        self.non_detections.iter().filter_map(LsstNonDetection::to_point).for_each(|p| lc.push(p));
        self.forced_photometry.iter().filter_map(LsstForcedPhotometry::to_point).for_each(|p| lc.push(p));
        lc.sort_by_mjd();
        lc
    }
}

/// The multisurvey API. Get it with [`AlerceClient::lsst`].
#[derive(Debug, Clone, Copy)]
pub struct Lsst<'a> {
    client: &'a AlerceClient,
}

impl AlerceClient {
    /// The multisurvey (LSST) API.
    pub fn lsst(&self) -> Lsst<'_> {
        Lsst { client: self }
    }
}

fn check_oids(oids: &[i64]) -> Result<()> {
    if oids.is_empty() {
        return Err(Error::invalid("oid", "give at least one object id"));
    }
    Ok(())
}

impl<'a> Lsst<'a> {
    fn http(&self) -> &HttpClient {
        &self.client.inner.lsst
    }
    fn survey(&self) -> &str {
        &self.client.inner.survey
    }

    /// One page of objects (`GET object_api/list_objects`).
    pub async fn query_objects(&self, query: &LsstObjectQuery) -> Result<LsstObjectPage> {
        let pairs = query.to_query(self.survey())?;
        let mut req = Request::get("object_api/list_objects");
        for (k, v) in &pairs {
            req = req.query(k, v);
        }
        get_json(self.http(), req).await
    }

    /// Every matching object, page after page (stops on `has_next == false` or an empty
    /// page; `total` is not a global count here, so it is not used to stop).
    pub fn stream_objects(&self, query: LsstObjectQuery) -> Result<AlerceStream<LsstObject>> {
        let survey = self.survey().to_string();
        query.to_query(&survey)?;
        let first = query.page.unwrap_or(1);
        let size = query.page_size.unwrap_or(100);
        let http = self.http().clone();
        let pages = PageNumberPaginator::new(first, size, move |p| {
            let http = http.clone();
            let q = query.clone().page(p.page).page_size(p.page_size);
            let survey = survey.clone();
            async move {
                let pairs = q.to_query(&survey).map_err(core_error)?;
                let mut req = Request::get("object_api/list_objects");
                for (k, v) in &pairs {
                    req = req.query(k, v);
                }
                let page: LsstObjectPage = get_json(&http, req).await.map_err(core_error)?;
                Ok(Page::new(page.items).with_has_next(page.has_next))
            }
        })
        .stop_rules(StopRules { total: false, short_page: false, has_next: true });
        Ok(AlerceStream::new(pages.into_stream()))
    }

    /// One object (`GET object_api/object`). With `return_survey_extra`, the LSST
    /// DiaObject columns come too (in `extra`). An unknown oid gives a 500 on the real
    /// server ([`Error::Api`]), not a 404.
    pub async fn object(&self, oid: i64, return_survey_extra: bool) -> Result<LsstObject> {
        let req = Request::get("object_api/object")
            .query("survey_id", self.survey())
            .query("oid", oid)
            .query_opt("return_survey_extra", return_survey_extra.then_some("true"));
        get_json(self.http(), req).await
    }

    async fn lc_rows<T>(&self, route: &'static str, oids: &[i64]) -> Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        check_oids(oids)?;
        let http = self.http().clone();
        let survey = self.survey().to_string();
        let mut chunks = id_chunks(oids.to_vec(), MAX_OIDS_PER_REQUEST, 2, move |ids: Vec<i64>| {
            let http = http.clone();
            let req = Request::get(route).query("survey_id", &survey).query_list("oid", ids, ListStyle::Repeated);
            // This crate's error travels inside the chunk's result, untouched.
            async move { Ok::<_, broker_core::Error>(list::<T>(&http, req).await) }
        });
        let mut out = Vec::new();
        while let Some(chunk) = chunks.next().await {
            out.extend(chunk.result.map_err(Error::from)??);
        }
        Ok(out)
    }

    /// Detections of one or more objects (`GET lightcurve_api/detections`, `oid` repeated;
    /// more than [`MAX_OIDS_PER_REQUEST`] ids are split into several requests).
    pub async fn detections(&self, oids: &[i64]) -> Result<Vec<LsstDetection>> {
        let mut rows: Vec<LsstDetection> = self.lc_rows("lightcurve_api/detections", oids).await?;
        rows.iter_mut().for_each(LsstDetection::fill);
        Ok(rows)
    }

    /// Non-detections of one or more objects (`GET lightcurve_api/non_detections`).
    pub async fn non_detections(&self, oids: &[i64]) -> Result<Vec<LsstNonDetection>> {
        let mut rows: Vec<LsstNonDetection> = self.lc_rows("lightcurve_api/non_detections", oids).await?;
        rows.iter_mut().for_each(LsstNonDetection::fill);
        Ok(rows)
    }

    /// Forced photometry of one or more objects (`GET lightcurve_api/forced-photometry`).
    pub async fn forced_photometry(&self, oids: &[i64]) -> Result<Vec<LsstForcedPhotometry>> {
        let mut rows: Vec<LsstForcedPhotometry> = self.lc_rows("lightcurve_api/forced-photometry", oids).await?;
        rows.iter_mut().for_each(LsstForcedPhotometry::fill);
        Ok(rows)
    }

    /// The whole light curve of one or more objects (`GET lightcurve_api/lightcurve`).
    pub async fn lightcurve(&self, oids: &[i64]) -> Result<LsstLightcurve> {
        check_oids(oids)?;
        let mut all = LsstLightcurve::default();
        for ids in oids.chunks(MAX_OIDS_PER_REQUEST) {
            let req = Request::get("lightcurve_api/lightcurve").query("survey_id", self.survey()).query_list(
                "oid",
                ids.iter(),
                ListStyle::Repeated,
            );
            let lc: Option<LsstLightcurve> = get_or_empty(self.http(), req).await?;
            if let Some(lc) = lc {
                all.detections.extend(lc.detections);
                all.non_detections.extend(lc.non_detections);
                all.forced_photometry.extend(lc.forced_photometry);
                all.extra.extend(lc.extra);
            }
        }
        all.fill();
        Ok(all)
    }

    /// Class probabilities (`GET probability_api/probability`), optionally of one
    /// classifier. 404 when there are none.
    pub async fn probabilities(&self, oid: i64, classifier: Option<&str>) -> Result<Vec<LsstProbability>> {
        let req = Request::get("probability_api/probability")
            .query("survey_id", self.survey())
            .query("oid", oid)
            .query_opt("classifier", classifier.map(str::trim).filter(|s| !s.is_empty()));
        list(self.http(), req).await
    }

    /// Magnitude statistics (`GET magstat_api/magstats`; the Python client has no such
    /// call). 404 when there are none.
    pub async fn magstats(&self, oid: i64) -> Result<Vec<LsstMagstat>> {
        let req = Request::get("magstat_api/magstats").query("survey_id", self.survey()).query("oid", oid);
        list(self.http(), req).await
    }

    /// Every classifier (`GET classifier_api/classifiers`).
    pub async fn classifiers(&self) -> Result<Vec<LsstClassifier>> {
        list(self.http(), Request::get("classifier_api/classifiers")).await
    }

    /// One classifier by name (`GET classifier_api/classifiers?classifier_name=`); 404 if unknown.
    pub async fn classifier(&self, name: &str) -> Result<LsstClassifier> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("classifier_name", "must not be empty"));
        }
        get_json(self.http(), Request::get("classifier_api/classifiers").query("classifier_name", name)).await
    }
}
