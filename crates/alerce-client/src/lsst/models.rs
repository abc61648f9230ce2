//! The typed replies of the multisurvey object, light-curve, probability, cone and classifier routes.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::MultisurveyOid;
use crate::de::{opt_bool, opt_f64, opt_i64, opt_string};

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
    /// The object id: a 64-bit LSST id, or a ZTF name for survey `ztf`.
    pub oid: MultisurveyOid,
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
    /// The object id (a ZTF master id in the reply becomes the ZTF name).
    pub oid: MultisurveyOid,
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
    /// The object id (a ZTF master id in the reply becomes the ZTF name).
    pub oid: MultisurveyOid,
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
    /// The object id (a ZTF master id in the reply becomes the ZTF name).
    pub oid: MultisurveyOid,
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

/// An object found by the `lightcurve_api/conesearch/` routes
/// (`lightcurve_api/models/object.py::ApiObject`): ZTF objects come by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ConesearchObject {
    /// The object id (an LSST id, or a ZTF name).
    pub objectId: MultisurveyOid,
    /// `ztf`, `lsst` or `lsst_ss`.
    #[serde(default, deserialize_with = "opt_string")]
    pub survey_id: Option<String>,
    /// Mean RA (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    /// Mean Dec (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    /// Fields this crate does not know yet.
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

pub(super) fn resolve_band_name(band: Option<i64>, map: &Map<String, Value>, current: &mut Option<String>) {
    if current.is_some() {
        return;
    }
    if let Some(b) = band {
        *current = map.get(&b.to_string()).and_then(Value::as_str).map(str::to_string);
    }
}

impl LsstDetection {
    pub(super) fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
        self.oid.normalise(self.survey_id.as_deref());
    }
}
impl LsstNonDetection {
    pub(super) fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
        self.oid.normalise(self.survey_id.as_deref());
    }
}
impl LsstForcedPhotometry {
    pub(super) fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
        self.oid.normalise(self.survey_id.as_deref());
    }
}
impl LsstLightcurve {
    pub(super) fn fill(&mut self) {
        self.detections.iter_mut().for_each(LsstDetection::fill);
        self.non_detections.iter_mut().for_each(LsstNonDetection::fill);
        self.forced_photometry.iter_mut().for_each(LsstForcedPhotometry::fill);
    }
}
