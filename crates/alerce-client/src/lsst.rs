//! The ALeRCE multisurvey API (`https://api-lsst.alerce.online/`), used for LSST (and,
//! with ZTF names, for ZTF objects stored in the multisurvey database).
//!
//! | method | route | query |
//! |---|---|---|
//! | [`Lsst::query_objects`] | `GET object_api/list_objects` | `survey` `oid`… `classifier` `class_name` `ranking` `n_det`… `probability` `firstmjd`… `lastmjd`… `ra` `dec` `radius` `page` `page_size` `count` `order_by` `order_mode` |
//! | [`Lsst::object`] | `GET object_api/object` | `survey_id` `oid` `return_survey_extra` |
//! | [`Lsst::lightcurve`] | `GET lightcurve_api/lightcurve` | `survey_id` `oid`… |
//! | [`Lsst::detections`] | `GET lightcurve_api/detections` | `survey_id` `oid`… |
//! | [`Lsst::non_detections`] | `GET lightcurve_api/non_detections` | `survey_id` `oid`… |
//! | [`Lsst::forced_photometry`] | `GET lightcurve_api/forced-photometry` | `survey_id` `oid`… |
//! | [`Lsst::conesearch_by_oid`] | `GET lightcurve_api/conesearch/objects_by_oid` | `oid` `survey` `radius` `neighbors` |
//! | [`Lsst::conesearch_by_coordinates`] | `GET lightcurve_api/conesearch/objects_by_coordinates` | `ra` `dec` `radius` `neighbors` |
//! | [`Lsst::conesearch_lightcurve`] | `GET lightcurve_api/conesearch/lightcurve_by_oid` | `oid` `survey` `radius` `neighbors` |
//! | [`Lsst::probabilities`] | `GET probability_api/probability` | `survey_id` `oid` `classifier` |
//! | [`Lsst::magstats`] | `GET magstat_api/magstats` | `survey_id` `oid` |
//! | [`Lsst::crossmatch`] | `GET crossmatch_api/crossmatch` | `oid` `survey_id` |
//! | [`Lsst::classifiers`] | `GET classifier_api/classifiers` | `classifier_name` |
//!
//! **Object ids** are a [`MultisurveyOid`]: a 64-bit LSST `diaObjectId` (above 2^53, so
//! `i64` here, never `f64`) or a ZTF name (`ZTF18abbuksn`). The survey each request
//! names (`survey_id`/`survey`) follows from the id: `ztf` for a ZTF name, the client's
//! survey ([`crate::AlerceClientBuilder::lsst_survey`], `lsst` by default) for a number.
//! The server stores ZTF objects under an integer "master id" and converts ZTF names
//! only on some routes; [`MultisurveyOid`] sends each route the form it reads.
//!
//! Light-curve rows carry `band` (an integer) and `band_map` (string keys); this crate
//! fills [`LsstDetection::band_name`] and friends from them. Fluxes are in nanojansky;
//! conversions to the core [`Lightcurve`] give microjansky.

use std::fmt;

use broker_core::astro::{
    Band, Lightcurve, Measurement, Origin, PhotometryPoint, SkyPosition, njy_to_ujy, upper_limit_mag,
    validate_radius_arcsec,
};
use broker_core::paginate::{Page, PageNumberPaginator, Paginator, StopRules, id_chunks};
use broker_core::{HttpClient, ListStyle, Request};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catshtm::{CatalogTable, parse_tables};
use crate::client::{AlerceClient, get_json};
use crate::de::{opt_bool, opt_f64, opt_i64, opt_string, py_float};
use crate::error::{Error, Result};
use crate::stream::AlerceStream;
use crate::ztf::{MAX_RADIUS_ARCSEC, OrderMode, check_range_f64, check_range_i64, core_error, get_or_empty, list};

/// The most object ids this client puts in one light-curve request (longer lists are
/// split). The server's REST routes set no cap (the 200-id check is on the HTMX routes
/// only, `object_api/routes/htmx.py`); this keeps URLs short.
pub const MAX_OIDS_PER_REQUEST: usize = 200;

/// The ZTF survey prefix of the multisurvey master ids (`core/idmapper/idmapper.py`:
/// survey id 1 shifted left by `63 - 8` bits).
const ZTF_MASTER_PREFIX: i64 = 1 << 55;
const TWENTY_SIX_POW_7: i64 = 8_031_810_176;

/// An object id of the multisurvey API: a 64-bit LSST id or a ZTF name.
///
/// The server (`alercebroker/web-services` `multisurveys-apis`) keeps every object under a
/// 64-bit integer: LSST `diaObjectId`s as they are, ZTF names as a "master id"
/// (`core/idmapper`). Its routes differ in what they read:
///
/// - `object_api/object`, `probability_api/probability`, `magstat_api/magstats`,
///   `crossmatch_api/crossmatch`, the `oid` filter of `object_api/list_objects`, and the
///   light-curve routes given **one** `oid` compare it with the integer column: a ZTF
///   name must go as its master id ([`MultisurveyOid::wire_single`]).
/// - The light-curve routes given **several** `oid`s and the `conesearch/` routes convert
///   ZTF names themselves: there the name goes as is ([`MultisurveyOid::wire_batch`]).
/// - Replies name ZTF objects by their ZTF name in `list_objects` items and conesearch
///   objects, and by the master id elsewhere; this crate turns those master ids back into
///   names ([`MultisurveyOid::from_ztf_master_id`]) on rows of survey `ztf`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum MultisurveyOid {
    /// A 64-bit LSST `diaObjectId` (or another numeric multisurvey id).
    Lsst(i64),
    /// A ZTF object name: `ZTF`, two digits, seven lowercase letters.
    Ztf(String),
}

impl MultisurveyOid {
    /// Parses user input: digits are an LSST id, `ZTF` + 2 digits + 7 lowercase letters a
    /// ZTF name; anything else is an invalid-input error naming both forms.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .map(MultisurveyOid::Lsst)
                .map_err(|_| Error::invalid("oid", format!("{t} does not fit a 64-bit LSST object id")));
        }
        if is_ztf_name(t) {
            return Ok(MultisurveyOid::Ztf(t.to_string()));
        }
        Err(Error::invalid(
            "oid",
            format!(
                "{s:?} is neither an LSST object id (digits) nor a ZTF name (ZTF + 2 digits + 7 lowercase letters)"
            ),
        ))
    }

    /// The survey this id belongs to: `ztf` for a ZTF name, else `lsst_survey`.
    pub fn survey<'s>(&'s self, lsst_survey: &'s str) -> &'s str {
        match self {
            MultisurveyOid::Ztf(_) => "ztf",
            MultisurveyOid::Lsst(_) => lsst_survey,
        }
    }

    /// The form the routes that read one integer id take: the LSST id, or the ZTF name's
    /// master id.
    pub fn wire_single(&self) -> Result<String> {
        match self {
            MultisurveyOid::Lsst(n) => Ok(n.to_string()),
            MultisurveyOid::Ztf(name) => ztf_master_id(name).map(|n| n.to_string()).ok_or_else(|| {
                Error::invalid("oid", format!("{name:?} is not a ZTF name (ZTF + 2 digits + 7 lowercase letters)"))
            }),
        }
    }

    /// The form the routes that convert ZTF names themselves take: the LSST id, or the
    /// ZTF name.
    pub fn wire_batch(&self) -> String {
        self.to_string()
    }

    /// The ZTF name of a multisurvey master id, when the id carries the ZTF survey prefix.
    pub fn from_ztf_master_id(id: i64) -> Option<String> {
        if id >> 55 != 1 {
            return None;
        }
        let rest = id & (ZTF_MASTER_PREFIX - 1);
        let year = (rest / TWENTY_SIX_POW_7) % 100;
        let mut seq = rest % TWENTY_SIX_POW_7;
        let mut letters = [b'a'; 7];
        for slot in letters.iter_mut().rev() {
            *slot = b'a' + u8::try_from(seq % 26).ok()?;
            seq /= 26;
        }
        Some(format!("ZTF{year:02}{}", std::str::from_utf8(&letters).ok()?))
    }

    /// The ZTF name, for a ZTF id.
    pub fn ztf_name(&self) -> Option<&str> {
        match self {
            MultisurveyOid::Ztf(n) => Some(n),
            MultisurveyOid::Lsst(_) => None,
        }
    }

    /// The LSST id, for a numeric id.
    pub fn lsst_id(&self) -> Option<i64> {
        match self {
            MultisurveyOid::Lsst(n) => Some(*n),
            MultisurveyOid::Ztf(_) => None,
        }
    }

    /// Turns a master id read from a row of survey `ztf` into the ZTF name.
    fn normalise(&mut self, survey: Option<&str>) {
        if let MultisurveyOid::Lsst(n) = self {
            if survey.is_some_and(|s| s.eq_ignore_ascii_case("ztf")) {
                if let Some(name) = Self::from_ztf_master_id(*n) {
                    *self = MultisurveyOid::Ztf(name);
                }
            }
        }
    }
}

/// `ZTF` + 2 digits + 7 lowercase ASCII letters (the server's `is_ztf_oid_valid`).
fn is_ztf_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && &b[..3] == b"ZTF"
        && b[3..5].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_lowercase)
}

/// The multisurvey master id of a ZTF name (`core/idmapper/ztf.py`).
fn ztf_master_id(name: &str) -> Option<i64> {
    if !is_ztf_name(name) {
        return None;
    }
    let b = name.as_bytes();
    let year = i64::from(b[3] - b'0') * 10 + i64::from(b[4] - b'0');
    let seq = b[5..].iter().fold(0i64, |acc, c| acc * 26 + i64::from(c - b'a'));
    Some(ZTF_MASTER_PREFIX + year * TWENTY_SIX_POW_7 + seq)
}

impl fmt::Display for MultisurveyOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultisurveyOid::Lsst(n) => write!(f, "{n}"),
            MultisurveyOid::Ztf(s) => f.write_str(s),
        }
    }
}

impl From<i64> for MultisurveyOid {
    fn from(n: i64) -> Self {
        MultisurveyOid::Lsst(n)
    }
}

impl std::str::FromStr for MultisurveyOid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for MultisurveyOid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MultisurveyOid;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 64-bit object id or a ZTF name")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(MultisurveyOid::Lsst(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                i64::try_from(v).map(MultisurveyOid::Lsst).map_err(|_| E::custom(format!("object id {v} exceeds i64")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                let t = v.trim();
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    return t.parse().map(MultisurveyOid::Lsst).map_err(E::custom);
                }
                if t.is_empty() {
                    return Err(E::custom("an empty object id"));
                }
                Ok(MultisurveyOid::Ztf(t.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

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
    oids: Vec<MultisurveyOid>,
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
    /// Only these object ids (LSST ids, or ZTF names: then the query's survey is `ztf`).
    /// The REST route sets no cap on their number.
    pub fn oids<I, O>(mut self, oids: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<MultisurveyOid>,
    {
        self.oids = oids.into_iter().map(Into::into).collect();
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
    /// Minimum probability in [0, 1] (the REST route takes it without a class too; the
    /// "select a class" check is on the HTMX route only).
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

    /// Checks the filters and gives the query pairs as they go on the wire. `survey` is
    /// the client's survey; with ZTF names in [`LsstObjectQuery::oids`] the survey sent is
    /// `ztf` and each name goes as its master id (the REST route compares the `oid` filter
    /// with the integer column, `core/repository/queries/objects.py`).
    ///
    /// Only what the REST route itself refuses is checked here (`n_det` min above max,
    /// `object_api/services/validations.py::ndets_validation`), plus values that cannot be
    /// right (a probability outside [0, 1], page 0, a bad cone). The HTMX-only checks
    /// (more than 200 oids, a probability without a class, date ranges) are not applied:
    /// the REST route answers those queries.
    pub fn to_query(&self, survey: &str) -> Result<Vec<(String, String)>> {
        check_range_i64("n_det", &self.n_det)?;
        check_range_f64("firstmjd", &self.firstmjd)?;
        check_range_f64("lastmjd", &self.lastmjd)?;
        let survey = common_survey(&self.oids, survey)?;
        if let Some(p) = self.probability {
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid("probability", format!("{p} is not a probability: use a number in [0, 1]")));
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
            push("oid", v.wire_single()?);
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

/// The survey of a set of ids: `ztf` when they are ZTF names, `lsst_survey` when they
/// are numbers (or there are none); a mix is an invalid-input error.
fn common_survey<'s>(oids: &'s [MultisurveyOid], lsst_survey: &'s str) -> Result<&'s str> {
    let ztf = oids.iter().filter(|o| matches!(o, MultisurveyOid::Ztf(_))).count();
    if ztf == 0 {
        Ok(lsst_survey)
    } else if ztf == oids.len() {
        Ok("ztf")
    } else {
        Err(Error::invalid("oid", "give either LSST ids or ZTF names in one request, not both"))
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

/// `magstat_api/magstats`, typed by survey (`magstat_api/routes/rest.py`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Magstats {
    /// An LSST object: its one DiaObject row of per-band flux statistics.
    Lsst(Box<LsstDiaObjectStats>),
    /// A ZTF object: one row per band, **without the band** (the server maps `band` to
    /// `fid` and then deletes `fid`), in the server's band order.
    Ztf(Vec<MsZtfMagstat>),
}

/// The LSST bands, in the order the DiaObject columns use.
pub const LSST_BANDS: [&str; 6] = ["u", "g", "r", "i", "z", "y"];

/// The flux statistics of one LSST band of a DiaObject (`<band>_psfFluxMean`, ...), in nJy.
/// The server rounds every float to 3 decimals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case, missing_docs)]
pub struct LsstBandFluxStats {
    pub psfFluxMean: Option<f64>,
    pub psfFluxMeanErr: Option<f64>,
    pub psfFluxSigma: Option<f64>,
    pub psfFluxNdata: Option<i64>,
    pub fpFluxMean: Option<f64>,
    pub fpFluxMeanErr: Option<f64>,
    pub scienceFluxMean: Option<f64>,
    pub scienceFluxMeanErr: Option<f64>,
    pub psfFluxMin: Option<f64>,
    pub psfFluxMax: Option<f64>,
    pub psfFluxMaxSlope: Option<f64>,
    pub psfFluxErrMean: Option<f64>,
}

impl LsstBandFluxStats {
    const FIELDS: [&'static str; 12] = [
        "psfFluxMean",
        "psfFluxMeanErr",
        "psfFluxSigma",
        "psfFluxNdata",
        "fpFluxMean",
        "fpFluxMeanErr",
        "scienceFluxMean",
        "scienceFluxMeanErr",
        "psfFluxMin",
        "psfFluxMax",
        "psfFluxMaxSlope",
        "psfFluxErrMean",
    ];

    fn take(map: &mut Map<String, Value>, band: &str) -> Self {
        let mut f = |name: &str| map.remove(&format!("{band}_{name}")).as_ref().and_then(value_f64);
        let mut out = LsstBandFluxStats {
            psfFluxMean: f("psfFluxMean"),
            psfFluxMeanErr: f("psfFluxMeanErr"),
            psfFluxSigma: f("psfFluxSigma"),
            psfFluxNdata: None,
            fpFluxMean: f("fpFluxMean"),
            fpFluxMeanErr: f("fpFluxMeanErr"),
            scienceFluxMean: f("scienceFluxMean"),
            scienceFluxMeanErr: f("scienceFluxMeanErr"),
            psfFluxMin: f("psfFluxMin"),
            psfFluxMax: f("psfFluxMax"),
            psfFluxMaxSlope: f("psfFluxMaxSlope"),
            psfFluxErrMean: f("psfFluxErrMean"),
        };
        out.psfFluxNdata = map.remove(&format!("{band}_psfFluxNdata")).as_ref().and_then(value_i64);
        out
    }

    fn put(&self, map: &mut Map<String, Value>, band: &str) {
        let vals: [Option<Value>; 12] = [
            self.psfFluxMean.map(Value::from),
            self.psfFluxMeanErr.map(Value::from),
            self.psfFluxSigma.map(Value::from),
            self.psfFluxNdata.map(Value::from),
            self.fpFluxMean.map(Value::from),
            self.fpFluxMeanErr.map(Value::from),
            self.scienceFluxMean.map(Value::from),
            self.scienceFluxMeanErr.map(Value::from),
            self.psfFluxMin.map(Value::from),
            self.psfFluxMax.map(Value::from),
            self.psfFluxMaxSlope.map(Value::from),
            self.psfFluxErrMean.map(Value::from),
        ];
        for (name, v) in Self::FIELDS.iter().zip(vals) {
            map.insert(format!("{band}_{name}"), v.unwrap_or(Value::Null));
        }
    }
}

/// The LSST answer of `magstat_api/magstats`: the object's DiaObject row
/// (`magstat_api/models/lsst_dia_object.py::LsstDiaObjectSchema`, without
/// `created_date`). The per-band columns (`u_psfFluxMean`, ...) are gathered in
/// [`LsstDiaObjectStats::bands`]; it serializes back to the flat wire columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Map<String, Value>", into = "Map<String, Value>")]
#[allow(non_snake_case)]
pub struct LsstDiaObjectStats {
    /// The LSST object id.
    pub oid: Option<i64>,
    /// Start of validity of this row (MJD TAI).
    pub validityStartMjdTai: Option<f64>,
    /// RA (deg).
    pub ra: Option<f64>,
    /// RA error.
    pub raErr: Option<f64>,
    /// Dec (deg).
    pub dec: Option<f64>,
    /// Dec error.
    pub decErr: Option<f64>,
    /// RA/Dec covariance.
    pub ra_dec_Cov: Option<f64>,
    /// First DiaSource (MJD TAI).
    pub firstDiaSourceMjdTai: Option<f64>,
    /// Last DiaSource (MJD TAI).
    pub lastDiaSourceMjdTai: Option<f64>,
    /// Number of DiaSources.
    pub nDiaSources: Option<i64>,
    /// Per-band statistics, keyed by band letter (`u g r i z y`; bands without any column
    /// are left out).
    pub bands: std::collections::BTreeMap<String, LsstBandFluxStats>,
    /// Columns this crate does not know yet.
    pub extra: Map<String, Value>,
}

fn value_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::de::parse_float_text(s),
        _ => None,
    }
}

fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl From<Map<String, Value>> for LsstDiaObjectStats {
    fn from(mut m: Map<String, Value>) -> Self {
        let mut f = |k: &str| m.remove(k).as_ref().and_then(value_f64);
        let mut out = LsstDiaObjectStats {
            oid: None,
            validityStartMjdTai: f("validityStartMjdTai"),
            ra: f("ra"),
            raErr: f("raErr"),
            dec: f("dec"),
            decErr: f("decErr"),
            ra_dec_Cov: f("ra_dec_Cov"),
            firstDiaSourceMjdTai: f("firstDiaSourceMjdTai"),
            lastDiaSourceMjdTai: f("lastDiaSourceMjdTai"),
            nDiaSources: None,
            bands: Default::default(),
            extra: Map::new(),
        };
        out.oid = m.remove("oid").as_ref().and_then(value_i64);
        out.nDiaSources = m.remove("nDiaSources").as_ref().and_then(value_i64);
        for band in LSST_BANDS {
            let prefix = format!("{band}_");
            if m.keys().any(|k| k.starts_with(&prefix)) {
                out.bands.insert(band.to_string(), LsstBandFluxStats::take(&mut m, band));
            }
        }
        out.extra = m;
        out
    }
}

impl From<LsstDiaObjectStats> for Map<String, Value> {
    fn from(s: LsstDiaObjectStats) -> Self {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            m.insert(k.to_string(), v.unwrap_or(Value::Null));
        };
        put("oid", s.oid.map(Value::from));
        put("validityStartMjdTai", s.validityStartMjdTai.map(Value::from));
        put("ra", s.ra.map(Value::from));
        put("raErr", s.raErr.map(Value::from));
        put("dec", s.dec.map(Value::from));
        put("decErr", s.decErr.map(Value::from));
        put("ra_dec_Cov", s.ra_dec_Cov.map(Value::from));
        put("firstDiaSourceMjdTai", s.firstDiaSourceMjdTai.map(Value::from));
        put("lastDiaSourceMjdTai", s.lastDiaSourceMjdTai.map(Value::from));
        put("nDiaSources", s.nDiaSources.map(Value::from));
        for (band, stats) in &s.bands {
            stats.put(&mut m, band);
        }
        m.extend(s.extra);
        m
    }
}

impl LsstDiaObjectStats {
    /// The statistics of one band (`u`, `g`, `r`, `i`, `z`, `y`).
    pub fn band(&self, letter: &str) -> Option<&LsstBandFluxStats> {
        self.bands.get(letter)
    }
}

fn dash_value<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.filter(|v| !matches!(v, Value::Null) && v.as_str().map(str::trim) != Some("-")))
}

fn dash_f64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    Ok(dash_value(d)?.as_ref().and_then(value_f64))
}

fn dash_i64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    Ok(dash_value(d)?.as_ref().and_then(value_i64))
}

fn dash_bool<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    Ok(dash_value(d)?.and_then(|v| match v {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Some(true),
            "false" | "f" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }))
}

/// One ZTF row of `magstat_api/magstats` (`magstat_api/routes/temporal_utils.py::mag_parser`):
/// the server renames `band` to `fid` and then deletes it, so a row has **no band**;
/// `ndet`, `firstmjd`, `lastmjd` are always the string `"-"` (read as `None`), and a
/// column missing on the server is `"-"` too. Floats are rounded to 3 decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct MsZtfMagstat {
    #[serde(default, deserialize_with = "dash_bool")]
    pub stellar: Option<bool>,
    #[serde(default, deserialize_with = "dash_bool")]
    pub corrected: Option<bool>,
    #[serde(default, deserialize_with = "dash_i64")]
    pub ndubious: Option<i64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmean: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmedian: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmax: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmin: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magsigma: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub maglast: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magfirst: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub step_id_corr: Option<String>,
    #[serde(default, deserialize_with = "dash_i64")]
    pub ndet: Option<i64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub firstmjd: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub lastmjd: Option<f64>,
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
        self.oid.normalise(self.survey_id.as_deref());
    }
}
impl LsstNonDetection {
    fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
        self.oid.normalise(self.survey_id.as_deref());
    }
}
impl LsstForcedPhotometry {
    fn fill(&mut self) {
        resolve_band_name(self.band, &self.band_map, &mut self.band_name);
        self.oid.normalise(self.survey_id.as_deref());
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

/// `psfFlux` is measured on the difference image, in diaSources and diaForcedSources alike.
fn flux_point(
    survey: &str,
    oid: &str,
    mjd: f64,
    band: Band,
    flux_njy: f64,
    err_njy: f64,
    origin: Origin,
) -> Option<PhotometryPoint> {
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
        .with_origin(origin)
        .with_measurement(Measurement::Difference)
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
            return flux_point(&survey, &oid, mjd, band, f, e, Origin::Alert);
        }
        let mag = self.magpsf.filter(|m| m.is_finite())?;
        let mut p =
            PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.sigmapsf.filter(|e| e.is_finite()));
        p.limiting_mag = self.diffmaglim.filter(|m| m.is_finite());
        Some(p.with_origin(Origin::Alert).with_measurement(Measurement::Difference))
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
        Some(
            PhotometryPoint::limit("alerce", &survey, &self.oid.to_string(), mjd, band, lim)
                .with_origin(Origin::Alert)
                .with_measurement(Measurement::Difference),
        )
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
            return flux_point(&survey, &oid, mjd, band, f, e, Origin::Forced);
        }
        let mag = self.mag.filter(|m| m.is_finite() && *m < 90.0)?;
        Some(
            PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.e_mag.filter(|e| e.is_finite()))
                .with_origin(Origin::Forced)
                .with_measurement(Measurement::Difference),
        )
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

fn check_oids(oids: &[MultisurveyOid]) -> Result<()> {
    if oids.is_empty() {
        return Err(Error::invalid("oid", "give at least one object id"));
    }
    Ok(())
}

/// The `oid` values of one light-curve request: one id goes in the single-id form, several
/// in the batch form (`lightcurve_api/routes/json/lightcurve.py` reads one `oid` as the
/// integer id and converts a list with `catalog_oid_to_masterid`).
fn lc_wire(ids: &[MultisurveyOid]) -> Result<Vec<String>> {
    if let [one] = ids {
        Ok(vec![one.wire_single()?])
    } else {
        Ok(ids.iter().map(MultisurveyOid::wire_batch).collect())
    }
}

/// The body the multisurvey routes answer every caught exception with.
const GENERIC_500: &str = "An error occurred";

fn is_generic_500(e: &Error) -> bool {
    matches!(e, Error::Api { status: 500, message, .. } if message.trim() == GENERIC_500)
}

/// Checks a conesearch radius (degrees, as the server hands it to `q3c_radial_query`) and
/// neighbour count (the server answers 400 for `<= 0`).
fn check_cone(radius_deg: f64, neighbors: u32) -> Result<()> {
    if !radius_deg.is_finite() || radius_deg <= 0.0 || radius_deg > 10.0 {
        return Err(Error::invalid(
            "radius",
            format!(
                "{radius_deg} deg is not valid: use a radius in (0, 10] degrees (this route takes degrees, not arcsec)"
            ),
        ));
    }
    if neighbors == 0 {
        return Err(Error::invalid("neighbors", "give at least 1 neighbour"));
    }
    Ok(())
}

impl<'a> Lsst<'a> {
    fn http(&self) -> &HttpClient {
        &self.client.inner.lsst
    }
    fn lsst_survey(&self) -> &str {
        &self.client.inner.survey
    }

    /// One page of objects (`GET object_api/list_objects`).
    pub async fn query_objects(&self, query: &LsstObjectQuery) -> Result<LsstObjectPage> {
        let pairs = query.to_query(self.lsst_survey())?;
        let mut req = Request::get("object_api/list_objects");
        for (k, v) in &pairs {
            req = req.query(k, v);
        }
        get_json(self.http(), req).await
    }

    /// Every matching object, page after page (stops on `has_next == false` or an empty
    /// page; `total` is not a global count here, so it is not used to stop).
    pub fn stream_objects(&self, query: LsstObjectQuery) -> Result<AlerceStream<LsstObject>> {
        let survey = self.lsst_survey().to_string();
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

    /// One object (`GET object_api/object`). With `return_survey_extra`, the survey's own
    /// columns come too (in `extra`; the LSST DiaObject fields, or ZTF's `g_r_*`).
    ///
    /// **Unknown oid.** The server looks the object up with SQLAlchemy `.one()` and answers
    /// every exception with HTTP 500 `{"detail": "An error occurred"}`
    /// (`object_api/routes/rest.py::get_object`), so an unknown oid is a 500, not a 404.
    /// This method sends the request **once** (no retry of a 5xx) and reports exactly that
    /// reply as [`Error::NotFound`]. The same reply also covers a failure inside the server
    /// (its database, say) for which retrying might have helped: the body cannot tell them
    /// apart, and retrying five times on every mistyped id would only delay the answer, so
    /// the error message says both are possible. Any other failure (another 5xx body, a
    /// gateway page, a timeout, a dropped connection) goes through the client's normal
    /// retry policy.
    pub async fn object(&self, oid: impl Into<MultisurveyOid>, return_survey_extra: bool) -> Result<LsstObject> {
        let oid = oid.into();
        let survey = oid.survey(self.lsst_survey()).to_string();
        let build = |safety: broker_core::RetrySafety| -> Result<Request> {
            Ok(Request::get("object_api/object")
                .retry_safety(safety)
                .query("survey_id", &survey)
                .query("oid", oid.wire_single()?)
                .query_opt("return_survey_extra", return_survey_extra.then_some("true")))
        };
        // First try: marked unsafe so that the core does not retry a 5xx by itself.
        let first: Result<LsstObject> = get_json(self.http(), build(broker_core::RetrySafety::Unsafe)?).await;
        let mut obj = match first {
            Err(e) if is_generic_500(&e) => {
                let url = match &e {
                    Error::Api { url, .. } => url.clone(),
                    _ => String::new(),
                };
                return Err(Error::NotFound {
                    message: format!(
                        "no object {oid} in survey {survey}: the multisurvey API answers an unknown oid with HTTP 500 \"{GENERIC_500}\" (a failure inside the server gives the same answer)"
                    ),
                    url,
                });
            }
            Err(e) if e.is_retryable() => get_json(self.http(), build(broker_core::RetrySafety::Safe)?).await?,
            other => other?,
        };
        obj.oid.normalise(Some(&survey));
        Ok(obj)
    }

    async fn lc_rows<T>(&self, route: &'static str, oids: &[MultisurveyOid]) -> Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        check_oids(oids)?;
        let survey = common_survey(oids, self.lsst_survey())?.to_string();
        let mut batches = Vec::new();
        for ids in oids.chunks(MAX_OIDS_PER_REQUEST) {
            batches.push(lc_wire(ids)?);
        }
        let http = self.http().clone();
        let mut chunks = id_chunks(batches, 1, 2, move |batch: Vec<Vec<String>>| {
            let http = http.clone();
            let ids = batch.into_iter().flatten().collect::<Vec<_>>();
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
    /// more than [`MAX_OIDS_PER_REQUEST`] ids are split into several requests). LSST ids
    /// and ZTF names cannot be mixed in one call.
    pub async fn detections(&self, oids: &[MultisurveyOid]) -> Result<Vec<LsstDetection>> {
        let mut rows: Vec<LsstDetection> = self.lc_rows("lightcurve_api/detections", oids).await?;
        rows.iter_mut().for_each(LsstDetection::fill);
        Ok(rows)
    }

    /// Non-detections of one or more objects (`GET lightcurve_api/non_detections`; the
    /// server has them for ZTF only and answers `[]` for LSST).
    pub async fn non_detections(&self, oids: &[MultisurveyOid]) -> Result<Vec<LsstNonDetection>> {
        let mut rows: Vec<LsstNonDetection> = self.lc_rows("lightcurve_api/non_detections", oids).await?;
        rows.iter_mut().for_each(LsstNonDetection::fill);
        Ok(rows)
    }

    /// Forced photometry of one or more objects (`GET lightcurve_api/forced-photometry`).
    pub async fn forced_photometry(&self, oids: &[MultisurveyOid]) -> Result<Vec<LsstForcedPhotometry>> {
        let mut rows: Vec<LsstForcedPhotometry> = self.lc_rows("lightcurve_api/forced-photometry", oids).await?;
        rows.iter_mut().for_each(LsstForcedPhotometry::fill);
        Ok(rows)
    }

    /// The whole light curve of one or more objects (`GET lightcurve_api/lightcurve`).
    pub async fn lightcurve(&self, oids: &[MultisurveyOid]) -> Result<LsstLightcurve> {
        check_oids(oids)?;
        let survey = common_survey(oids, self.lsst_survey())?;
        let mut all = LsstLightcurve::default();
        for ids in oids.chunks(MAX_OIDS_PER_REQUEST) {
            let req = Request::get("lightcurve_api/lightcurve").query("survey_id", survey).query_list(
                "oid",
                lc_wire(ids)?,
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

    /// Objects near another object (`GET lightcurve_api/conesearch/objects_by_oid`).
    /// `radius_deg` is in **degrees** (the server passes it to `q3c_radial_query`).
    /// Note: the server's current handler (`dummy_conesearch_oid`) returns only the object
    /// itself, whatever the radius.
    pub async fn conesearch_by_oid(
        &self,
        oid: impl Into<MultisurveyOid>,
        radius_deg: f64,
        neighbors: u32,
    ) -> Result<Vec<ConesearchObject>> {
        let oid = oid.into();
        check_cone(radius_deg, neighbors)?;
        let req = Request::get("lightcurve_api/conesearch/objects_by_oid")
            .query("oid", oid.wire_batch())
            .query("survey", oid.survey(self.lsst_survey()))
            .query("radius", py_float(radius_deg))
            .query("neighbors", neighbors);
        list(self.http(), req).await
    }

    /// Objects of every survey near a position, nearest first up to `neighbors`
    /// (`GET lightcurve_api/conesearch/objects_by_coordinates`; `radius_deg` in degrees).
    pub async fn conesearch_by_coordinates(
        &self,
        position: SkyPosition,
        radius_deg: f64,
        neighbors: u32,
    ) -> Result<Vec<ConesearchObject>> {
        check_cone(radius_deg, neighbors)?;
        let req = Request::get("lightcurve_api/conesearch/objects_by_coordinates")
            .query("ra", py_float(position.ra()))
            .query("dec", py_float(position.dec()))
            .query("radius", py_float(radius_deg))
            .query("neighbors", neighbors);
        list(self.http(), req).await
    }

    /// The light curve found by a cone search around an object
    /// (`GET lightcurve_api/conesearch/lightcurve_by_oid`; `radius_deg` in degrees; the
    /// server takes the first object found).
    pub async fn conesearch_lightcurve(
        &self,
        oid: impl Into<MultisurveyOid>,
        radius_deg: f64,
        neighbors: u32,
    ) -> Result<LsstLightcurve> {
        let oid = oid.into();
        check_cone(radius_deg, neighbors)?;
        let req = Request::get("lightcurve_api/conesearch/lightcurve_by_oid")
            .query("oid", oid.wire_batch())
            .query("survey", oid.survey(self.lsst_survey()))
            .query("radius", py_float(radius_deg))
            .query("neighbors", neighbors);
        let mut lc: LsstLightcurve = get_or_empty(self.http(), req).await?.unwrap_or_default();
        lc.fill();
        Ok(lc)
    }

    /// Class probabilities (`GET probability_api/probability`), optionally of one
    /// classifier. 404 when there are none. (`survey_id` is sent, as the Python client
    /// does; the server ignores it.)
    pub async fn probabilities(
        &self,
        oid: impl Into<MultisurveyOid>,
        classifier: Option<&str>,
    ) -> Result<Vec<LsstProbability>> {
        let oid = oid.into();
        let req = Request::get("probability_api/probability")
            .query("survey_id", oid.survey(self.lsst_survey()))
            .query("oid", oid.wire_single()?)
            .query_opt("classifier", classifier.map(str::trim).filter(|s| !s.is_empty()));
        list(self.http(), req).await
    }

    /// Magnitude statistics (`GET magstat_api/magstats`; the Python client has no such
    /// call; the public path prefix `magstat_api/` follows the other services and is
    /// unverified). An LSST id gives [`Magstats::Lsst`] (the DiaObject row), a ZTF name
    /// [`Magstats::Ztf`] (rows without a band). 404 when there are none (for LSST the
    /// server fails with a 500 instead: it indexes an empty list).
    pub async fn magstats(&self, oid: impl Into<MultisurveyOid>) -> Result<Magstats> {
        let oid = oid.into();
        let survey = oid.survey(self.lsst_survey()).to_string();
        let req = Request::get("magstat_api/magstats").query("survey_id", &survey).query("oid", oid.wire_single()?);
        if survey == "ztf" {
            return Ok(Magstats::Ztf(list(self.http(), req).await?));
        }
        let rows: Vec<LsstDiaObjectStats> = list(self.http(), req).await?;
        match rows.into_iter().next() {
            Some(row) => Ok(Magstats::Lsst(Box::new(row))),
            None => Err(Error::NotFound { message: format!("no magstats for object {oid}"), url: String::new() }),
        }
    }

    /// The catsHTM crossmatch the multisurvey API runs around an object's mean position
    /// (`GET crossmatch_api/crossmatch`; it asks catsHTM `crossmatch_all` with a 20 arcsec
    /// radius and passes the reply on). The path prefix `crossmatch_api/` follows the other
    /// services and is unverified.
    pub async fn crossmatch(&self, oid: impl Into<MultisurveyOid>) -> Result<Vec<CatalogTable>> {
        let oid = oid.into();
        let req = Request::get("crossmatch_api/crossmatch")
            .query("oid", oid.wire_single()?)
            .query("survey_id", oid.survey(self.lsst_survey()));
        let v: Option<Value> = get_or_empty(self.http(), req).await?;
        parse_tables(&v.unwrap_or(Value::Null), "all")
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
