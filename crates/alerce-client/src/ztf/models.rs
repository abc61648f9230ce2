//! The typed replies of the ZTF v1 and v2 light-curve routes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::{opt_bool, opt_f64, opt_i64, opt_string};
/// One page of the ZTF object list.
///
/// `page` is always null (a server quirk); `total`, `next` and `has_next` are only
/// meaningful with `count=true` (`total` is then capped at 50001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfObjectPage {
    /// The (capped) number of matching objects, with `count=true`; otherwise null.
    #[serde(default, deserialize_with = "opt_i64")]
    pub total: Option<i64>,
    /// Always null on the real server.
    #[serde(default, deserialize_with = "opt_i64")]
    pub page: Option<i64>,
    /// The next page number, with `count=true`.
    #[serde(default, deserialize_with = "opt_i64")]
    pub next: Option<i64>,
    /// Whether there is a next page (always false without `count=true`).
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_next: Option<bool>,
    /// The previous page number.
    #[serde(default, deserialize_with = "opt_i64")]
    pub prev: Option<i64>,
    /// Whether there is a previous page.
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_prev: Option<bool>,
    /// The objects.
    #[serde(default)]
    pub items: Vec<ZtfObject>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ZTF object, as listed by `objects/` (with `class`, `classifier`, `probability`) or
/// returned by `objects/{oid}` (without them). Column names are the ALeRCE docs' ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfObject {
    /// ZTF object id (`ZTF18abbuksn`).
    pub oid: String,
    /// Detections within 1.5 arcsec in the survey history (a string on the wire).
    #[serde(default, deserialize_with = "opt_string")]
    pub ndethist: Option<String>,
    /// Times the position was covered.
    #[serde(default, deserialize_with = "opt_i64")]
    pub ncovhist: Option<i64>,
    /// Earliest MJD of `ndethist`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjdstarthist: Option<f64>,
    /// Latest MJD of `ndethist`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjdendhist: Option<f64>,
    /// Whether the corrected light curve can be used.
    #[serde(default, deserialize_with = "opt_bool")]
    pub corrected: Option<bool>,
    /// Whether the object is likely stellar.
    #[serde(default, deserialize_with = "opt_bool")]
    pub stellar: Option<bool>,
    /// Number of detections.
    #[serde(default, deserialize_with = "opt_i64")]
    pub ndet: Option<i64>,
    /// min(g) - min(r).
    #[serde(default, deserialize_with = "opt_f64")]
    pub g_r_max: Option<f64>,
    /// min(g) - min(r), corrected magnitudes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub g_r_max_corr: Option<f64>,
    /// mean(g) - mean(r).
    #[serde(default, deserialize_with = "opt_f64")]
    pub g_r_mean: Option<f64>,
    /// mean(g) - mean(r), corrected magnitudes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub g_r_mean_corr: Option<f64>,
    /// First detection MJD.
    #[serde(default, deserialize_with = "opt_f64")]
    pub firstmjd: Option<f64>,
    /// Last detection MJD.
    #[serde(default, deserialize_with = "opt_f64")]
    pub lastmjd: Option<f64>,
    /// lastmjd - firstmjd.
    #[serde(default, deserialize_with = "opt_f64")]
    pub deltajd: Option<f64>,
    /// Mean RA (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub meanra: Option<f64>,
    /// Mean Dec (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub meandec: Option<f64>,
    /// RA standard deviation.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmara: Option<f64>,
    /// Dec standard deviation.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmadec: Option<f64>,
    /// The class (wire name `class`; list only).
    #[serde(default, rename = "class", deserialize_with = "opt_string")]
    pub class_name: Option<String>,
    /// The classifier (list only).
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier: Option<String>,
    /// The class probability (list only).
    #[serde(default, deserialize_with = "opt_f64")]
    pub probability: Option<f64>,
    /// Correction step version.
    #[serde(default, deserialize_with = "opt_string")]
    pub step_id_corr: Option<String>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ZTF detection. Null fields are omitted by the server; `candid` is a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfDetection {
    /// Telescope id (`ztf`, or `atlas` for authorised users).
    #[serde(default, deserialize_with = "opt_string")]
    pub tid: Option<String>,
    /// MJD.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    /// Alert id (a string on the wire; 64-bit).
    #[serde(default, deserialize_with = "opt_string")]
    pub candid: Option<String>,
    /// Filter id: 1 = g, 2 = r, 3 = i.
    #[serde(default, deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    /// Processing id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub pid: Option<i64>,
    /// 5-sigma limiting magnitude of the difference image.
    #[serde(default, deserialize_with = "opt_f64")]
    pub diffmaglim: Option<f64>,
    /// 1 for a positive subtraction, -1 for a negative one.
    #[serde(default, deserialize_with = "opt_i64")]
    pub isdiffpos: Option<i64>,
    /// Night id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub nid: Option<i64>,
    /// Distance to the nearest reference source (pixels).
    #[serde(default, deserialize_with = "opt_f64")]
    pub distnr: Option<f64>,
    /// PSF-fit magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magpsf: Option<f64>,
    /// Corrected PSF magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magpsf_corr: Option<f64>,
    /// Corrected PSF magnitude with an extended component.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magpsf_corr_ext: Option<f64>,
    /// Aperture magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magap: Option<f64>,
    /// Corrected aperture magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magap_corr: Option<f64>,
    /// Error of `magpsf`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmapsf: Option<f64>,
    /// Error of `magpsf_corr`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmapsf_corr: Option<f64>,
    /// Error of `magpsf_corr` with an extended component.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmapsf_corr_ext: Option<f64>,
    /// Error of `magap`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmagap: Option<f64>,
    /// Error of `magap_corr`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmagap_corr: Option<f64>,
    /// RA (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    /// Dec (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    /// Real-bogus score.
    #[serde(default, deserialize_with = "opt_f64")]
    pub rb: Option<f64>,
    /// Real-bogus model version.
    #[serde(default, deserialize_with = "opt_string")]
    pub rbversion: Option<String>,
    /// Deep-learning real-bogus score.
    #[serde(default, deserialize_with = "opt_f64")]
    pub drb: Option<f64>,
    /// 18-pixel aperture magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub magapbig: Option<f64>,
    /// Error of `magapbig`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub sigmagapbig: Option<f64>,
    /// Reference image id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub rfid: Option<i64>,
    /// Whether the detection has a stamp triplet.
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_stamp: Option<bool>,
    /// Whether corrected photometry was applied.
    #[serde(default, deserialize_with = "opt_bool")]
    pub corrected: Option<bool>,
    /// Whether the correction is dubious.
    #[serde(default, deserialize_with = "opt_bool")]
    pub dubious: Option<bool>,
    /// Alert id of the alert that carried this detection.
    #[serde(default, deserialize_with = "opt_string")]
    pub candid_alert: Option<String>,
    /// Correction step version.
    #[serde(default, deserialize_with = "opt_string")]
    pub step_id_corr: Option<String>,
    /// Phase (default 0).
    #[serde(default, deserialize_with = "opt_f64")]
    pub phase: Option<f64>,
    /// The parent alert id, for detections from `prv_candidates`.
    #[serde(default, deserialize_with = "opt_i64")]
    pub parent_candid: Option<i64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ZTF non-detection (an upper limit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfNonDetection {
    /// Telescope id.
    #[serde(default, deserialize_with = "opt_string")]
    pub tid: Option<String>,
    /// MJD.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    /// Filter id: 1 = g, 2 = r, 3 = i.
    #[serde(default, deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    /// 5-sigma limiting magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub diffmaglim: Option<f64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `objects/{oid}/lightcurve`: detections and non-detections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZtfLightcurve {
    /// The detections.
    #[serde(default)]
    pub detections: Vec<ZtfDetection>,
    /// The non-detections.
    #[serde(default)]
    pub non_detections: Vec<ZtfNonDetection>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `objects/limit_values`: the range of `ndet` and `firstmjd` over every object
/// (`alerts-api/src/api/resources/astro_object/models.py::limit_values_model`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfLimitValues {
    /// The fewest detections of any object.
    #[serde(default, deserialize_with = "opt_i64")]
    pub min_ndet: Option<i64>,
    /// The most detections of any object.
    #[serde(default, deserialize_with = "opt_i64")]
    pub max_ndet: Option<i64>,
    /// The earliest first detection (MJD).
    #[serde(default, deserialize_with = "opt_f64")]
    pub min_firstmjd: Option<f64>,
    /// The latest first detection (MJD).
    #[serde(default, deserialize_with = "opt_f64")]
    pub max_firstmjd: Option<f64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A detection of the v2 light-curve service (`/v2/lightcurve/detections/{oid}`): the
/// same fields as a forced-photometry row (`lightcurve/src/core/models/lightcurve_model.py`:
/// `mag`/`e_mag`, survey-specific fields in `extra_fields`).
pub type ZtfV2Detection = ZtfForcedPhotometry;

/// `/v2/lightcurve/lightcurve/{oid}`: detections, non-detections and forced photometry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZtfV2Lightcurve {
    /// Detections.
    #[serde(default)]
    pub detections: Vec<ZtfV2Detection>,
    /// Non-detections.
    #[serde(default)]
    pub non_detections: Vec<ZtfNonDetection>,
    /// Forced photometry.
    #[serde(default)]
    pub forced_photometry: Vec<ZtfForcedPhotometry>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ZTF forced-photometry point (`/v2/lightcurve/forced-photometry/{oid}`). Survey-
/// specific fields (`diffmaglim`, `field`, `rcid`, `magzpsci`, ...) are in `extra_fields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfForcedPhotometry {
    /// Measurement id (a string).
    #[serde(default, deserialize_with = "opt_string")]
    pub candid: Option<String>,
    /// Telescope id.
    #[serde(default, deserialize_with = "opt_string")]
    pub tid: Option<String>,
    /// Survey id.
    #[serde(default, deserialize_with = "opt_string")]
    pub sid: Option<String>,
    /// ALeRCE id.
    #[serde(default, deserialize_with = "opt_string")]
    pub aid: Option<String>,
    /// Processing id.
    #[serde(default, deserialize_with = "opt_i64")]
    pub pid: Option<i64>,
    /// Object id.
    #[serde(default, deserialize_with = "opt_string")]
    pub oid: Option<String>,
    /// MJD.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    /// Filter id: 1 = g, 2 = r, 3 = i.
    #[serde(default, deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    /// RA (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    /// RA error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_ra: Option<f64>,
    /// Dec (deg).
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    /// Dec error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_dec: Option<f64>,
    /// Difference magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mag: Option<f64>,
    /// Its error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_mag: Option<f64>,
    /// Corrected magnitude.
    #[serde(default, deserialize_with = "opt_f64")]
    pub mag_corr: Option<f64>,
    /// Its error.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_mag_corr: Option<f64>,
    /// Its error with an extended component.
    #[serde(default, deserialize_with = "opt_f64")]
    pub e_mag_corr_ext: Option<f64>,
    /// 1 positive / -1 negative subtraction.
    #[serde(default, deserialize_with = "opt_i64")]
    pub isdiffpos: Option<i64>,
    /// Whether corrected.
    #[serde(default, deserialize_with = "opt_bool")]
    pub corrected: Option<bool>,
    /// Whether the correction is dubious.
    #[serde(default, deserialize_with = "opt_bool")]
    pub dubious: Option<bool>,
    /// Parent alert id.
    #[serde(default, deserialize_with = "opt_string")]
    pub parent_candid: Option<String>,
    /// Whether it has stamps.
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_stamp: Option<bool>,
    /// Survey-specific fields (`diffmaglim`, `field`, `rcid`, `magzpsci`, `exptime`, ...).
    /// The Python client merges them into the row; [`ZtfForcedPhotometry::field`] reads
    /// either place.
    #[serde(default)]
    pub extra_fields: Map<String, Value>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ZtfForcedPhotometry {
    /// A field by name, from `extra_fields` or the top level (as the Python client merges them).
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.extra_fields.get(name).or_else(|| self.extra.get(name))
    }
    /// `diffmaglim` from `extra_fields`, when it is a finite number.
    pub fn diffmaglim(&self) -> Option<f64> {
        self.field("diffmaglim").and_then(json_f64)
    }
}

pub(crate) fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::de::parse_float_text(s),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// Magnitude statistics of one band. All fields are optional: the docs list fields
/// (`dmdt_first`, `*_corr`, ...) the current server no longer sends; they land in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ZtfMagstats {
    /// Filter id: 1 = g, 2 = r, 3 = i.
    #[serde(default, deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub stellar: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub corrected: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ndet: Option<i64>,
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
    pub firstmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub lastmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub step_id_corr: Option<String>,
    /// Fields this crate does not know yet (`dmdt_first`, `magmean_corr`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A class probability. `classifier_version` is a string in the ZTF API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfProbability {
    /// The classifier.
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_name: Option<String>,
    /// Its version (`hierarchical_random_forest_1.0.0`).
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_version: Option<String>,
    /// The class.
    #[serde(default, deserialize_with = "opt_string")]
    pub class_name: Option<String>,
    /// The probability.
    #[serde(default, deserialize_with = "opt_f64")]
    pub probability: Option<f64>,
    /// Rank within the classifier (1 = most probable).
    #[serde(default, deserialize_with = "opt_i64")]
    pub ranking: Option<i64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A light-curve feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfFeature {
    /// Feature name (`Multiband_period`).
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// Its value (null when it could not be computed).
    #[serde(default, deserialize_with = "opt_f64")]
    pub value: Option<f64>,
    /// Filter id (12 = g and r together, 0 = none).
    #[serde(default, deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    /// Feature extractor version.
    #[serde(default, deserialize_with = "opt_string")]
    pub version: Option<String>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A classifier and its classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfClassifier {
    /// The classifier name (use it in [`ObjectQuery::classifier`](super::ObjectQuery::classifier)).
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_name: Option<String>,
    /// Its version.
    #[serde(default, deserialize_with = "opt_string")]
    pub classifier_version: Option<String>,
    /// Its classes (taxonomy).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A class of a classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZtfClass {
    /// The class name.
    pub name: String,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Feature filters for [`Ztf::features_with`](super::Ztf::features_with) and [`Ztf::feature_with`](super::Ztf::feature_with).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFilter {
    /// Only this filter id.
    pub fid: Option<i64>,
    /// Only this feature version.
    pub version: Option<String>,
}
