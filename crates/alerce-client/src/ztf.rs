//! The ZTF v1 API (`https://api.alerce.online/ztf/v1/`) and ZTF forced photometry
//! (`https://api.alerce.online/v2/lightcurve/forced-photometry/{oid}`).
//!
//! Routes, as the server registers them (the list routes have a trailing slash; the
//! client calls them with it, so no 308 redirect is needed — one is followed if a
//! deployment sends it anyway):
//!
//! | method | route | query |
//! |---|---|---|
//! | [`Ztf::query_objects`] | `GET objects/` | `oid`… `classifier` `classifier_version` `class` `ranking` `ndet`… `probability` `firstmjd`… `lastmjd`… `ra` `dec` `radius` `page` `page_size` `count` `order_by` `order_mode` |
//! | [`Ztf::object`] | `GET objects/{oid}` | |
//! | [`Ztf::lightcurve`] | `GET objects/{oid}/lightcurve` | |
//! | [`Ztf::detections`] | `GET objects/{oid}/detections` | |
//! | [`Ztf::non_detections`] | `GET objects/{oid}/non_detections` | |
//! | [`Ztf::lightcurve_of`] | `GET objects/{oid}/lightcurve` | `survey_id` (`ztf`\|`atlas`) |
//! | [`Ztf::forced_photometry`] | `GET {forced-photometry base}forced-photometry/{oid}` | |
//! | [`Ztf::forced_photometry_of`] | the same | `survey_id` (`all`\|`ztf`\|`atlas`) |
//! | [`Ztf::v2_detections`] | `GET {forced-photometry base}detections/{oid}` | `survey_id` (`all`\|`ztf`\|`atlas`) |
//! | [`Ztf::v2_non_detections`] | `GET {forced-photometry base}non_detections/{oid}` | `survey_id` |
//! | [`Ztf::v2_lightcurve`] | `GET {forced-photometry base}lightcurve/{oid}` | `survey_id` |
//! | [`Ztf::limit_values`] | `GET objects/limit_values` | |
//! | [`Ztf::magstats`] | `GET objects/{oid}/magstats` | |
//! | [`Ztf::probabilities`] | `GET objects/{oid}/probabilities` | `classifier` `classifier_version` |
//! | [`Ztf::features`] | `GET objects/{oid}/features` | `fid` `version` |
//! | [`Ztf::feature`] | `GET objects/{oid}/features/{name}` | `fid` `version` |
//! | [`Ztf::classifiers`] | `GET classifiers/` | |
//! | [`Ztf::classes`] | `GET classifiers/{name}/{version}/classes` | |
//!
//! (`…` marks repeated keys: `ndet=5&ndet=10`.)

use std::fmt;

use broker_core::Request;
use broker_core::astro::{Band, Lightcurve, Measurement, Origin, PhotometryPoint, SkyPosition, validate_radius_arcsec};
use broker_core::paginate::{Page, PageNumberPaginator, Paginator, StopRules};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{AlerceClient, get_json};
use crate::de::{opt_bool, opt_f64, opt_i64, opt_string, py_float};
use crate::error::{Error, Result};
use crate::stream::AlerceStream;

/// The largest cone radius accepted, in arcseconds (10 degrees).
pub const MAX_RADIUS_ARCSEC: f64 = 36_000.0;

/// `order_mode`: ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderMode {
    /// `ASC`.
    #[serde(rename = "ASC")]
    Asc,
    /// `DESC`.
    #[serde(rename = "DESC")]
    Desc,
}

impl fmt::Display for OrderMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderMode::Asc => "ASC",
            OrderMode::Desc => "DESC",
        })
    }
}

/// The columns the ZTF server accepts in `order_by` (anything else is a 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ZtfOrderBy {
    Oid,
    Ndet,
    GRMax,
    GRMaxCorr,
    GRMean,
    GRMeanCorr,
    Meanra,
    Meandec,
    Sigmara,
    Sigmadec,
    Deltajd,
    Firstmjd,
    Lastmjd,
    ClassName,
    ClassifierName,
    ClassifierVersion,
    Probability,
    Ranking,
}

impl ZtfOrderBy {
    /// Every accepted value, in the server's order.
    pub const ALL: [ZtfOrderBy; 18] = [
        ZtfOrderBy::Oid,
        ZtfOrderBy::Ndet,
        ZtfOrderBy::GRMax,
        ZtfOrderBy::GRMaxCorr,
        ZtfOrderBy::GRMean,
        ZtfOrderBy::GRMeanCorr,
        ZtfOrderBy::Meanra,
        ZtfOrderBy::Meandec,
        ZtfOrderBy::Sigmara,
        ZtfOrderBy::Sigmadec,
        ZtfOrderBy::Deltajd,
        ZtfOrderBy::Firstmjd,
        ZtfOrderBy::Lastmjd,
        ZtfOrderBy::ClassName,
        ZtfOrderBy::ClassifierName,
        ZtfOrderBy::ClassifierVersion,
        ZtfOrderBy::Probability,
        ZtfOrderBy::Ranking,
    ];

    /// The wire name (`g_r_max`, `class_name`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            ZtfOrderBy::Oid => "oid",
            ZtfOrderBy::Ndet => "ndet",
            ZtfOrderBy::GRMax => "g_r_max",
            ZtfOrderBy::GRMaxCorr => "g_r_max_corr",
            ZtfOrderBy::GRMean => "g_r_mean",
            ZtfOrderBy::GRMeanCorr => "g_r_mean_corr",
            ZtfOrderBy::Meanra => "meanra",
            ZtfOrderBy::Meandec => "meandec",
            ZtfOrderBy::Sigmara => "sigmara",
            ZtfOrderBy::Sigmadec => "sigmadec",
            ZtfOrderBy::Deltajd => "deltajd",
            ZtfOrderBy::Firstmjd => "firstmjd",
            ZtfOrderBy::Lastmjd => "lastmjd",
            ZtfOrderBy::ClassName => "class_name",
            ZtfOrderBy::ClassifierName => "classifier_name",
            ZtfOrderBy::ClassifierVersion => "classifier_version",
            ZtfOrderBy::Probability => "probability",
            ZtfOrderBy::Ranking => "ranking",
        }
    }

    /// Parses a wire name; anything outside [`ZtfOrderBy::ALL`] is an invalid-input error
    /// that lists the valid names.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s.trim()).ok_or_else(|| {
            let valid: Vec<&str> = Self::ALL.iter().map(|o| o.as_str()).collect();
            Error::invalid("order_by", format!("{s:?} is not accepted by the ZTF API: use one of {}", valid.join(", ")))
        })
    }
}

impl fmt::Display for ZtfOrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Filters for [`Ztf::query_objects`] and [`Ztf::stream_objects`]. Unset filters are
/// never sent.
///
/// ```
/// use alerce_client::ztf::{ObjectQuery, OrderMode, ZtfOrderBy};
/// let q = ObjectQuery::new()
///     .classifier("stamp_classifier")
///     .class_name("SN")
///     .probability(0.7)
///     .ndet_range(5, 100)
///     .order_by(ZtfOrderBy::Probability, OrderMode::Desc);
/// assert_eq!(q.to_query().unwrap()[0], ("classifier".to_string(), "stamp_classifier".to_string()));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectQuery {
    oids: Vec<String>,
    classifier: Option<String>,
    classifier_version: Option<String>,
    class_name: Option<String>,
    ranking: Option<i64>,
    ndet: Vec<i64>,
    probability: Option<f64>,
    firstmjd: Vec<f64>,
    lastmjd: Vec<f64>,
    cone: Option<(f64, f64, Option<f64>)>,
    page: Option<u64>,
    page_size: Option<u64>,
    count: Option<bool>,
    order_by: Option<ZtfOrderBy>,
    order_mode: Option<OrderMode>,
}

impl ObjectQuery {
    /// No filters (the server's defaults: page 1 of 10, default classifier).
    pub fn new() -> Self {
        Self::default()
    }
    /// Only these object ids (`oid=a&oid=b`; a single id may contain `*` wildcards).
    pub fn oids<I, S>(mut self, oids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.oids = oids.into_iter().map(Into::into).collect();
        self
    }
    /// The classifier (`lc_classifier`, `stamp_classifier`, ...).
    pub fn classifier(mut self, name: impl Into<String>) -> Self {
        self.classifier = Some(name.into());
        self
    }
    /// The classifier version.
    pub fn classifier_version(mut self, version: impl Into<String>) -> Self {
        self.classifier_version = Some(version.into());
        self
    }
    /// The class (sent as `class`).
    pub fn class_name(mut self, class: impl Into<String>) -> Self {
        self.class_name = Some(class.into());
        self
    }
    /// The class ranking (1 = most probable).
    pub fn ranking(mut self, ranking: i64) -> Self {
        self.ranking = Some(ranking);
        self
    }
    /// At least `min` detections (`ndet=min`).
    pub fn ndet_min(mut self, min: i64) -> Self {
        self.ndet = vec![min];
        self
    }
    /// Between `min` and `max` detections (`ndet=min&ndet=max`).
    pub fn ndet_range(mut self, min: i64, max: i64) -> Self {
        self.ndet = vec![min, max];
        self
    }
    /// The minimum probability, in [0, 1].
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
    /// First detection between two MJDs (`firstmjd=a&firstmjd=b`).
    pub fn firstmjd_range(mut self, min: f64, max: f64) -> Self {
        self.firstmjd = vec![min, max];
        self
    }
    /// First detection after an MJD (`firstmjd=a`).
    pub fn firstmjd_min(mut self, min: f64) -> Self {
        self.firstmjd = vec![min];
        self
    }
    /// Last detection between two MJDs (`lastmjd=a&lastmjd=b`).
    pub fn lastmjd_range(mut self, min: f64, max: f64) -> Self {
        self.lastmjd = vec![min, max];
        self
    }
    /// Last detection after an MJD (`lastmjd=a`).
    pub fn lastmjd_min(mut self, min: f64) -> Self {
        self.lastmjd = vec![min];
        self
    }
    /// A cone search around a position; `radius_arcsec` defaults to 30 on the server.
    ///
    /// **RA or Dec of exactly 0.** The server applies the cone only when `ra and dec and
    /// radius` are all truthy in Python (`alerts-api/src/core/astro_object/domain/
    /// astro_object_service.py::_create_conesearch_statement`), so `ra=0` or `dec=0` would
    /// silently return objects from the whole sky. This client never sends a 0 there: a
    /// coordinate of 0 (or -0) goes on the wire as [`ZERO_COORD_NUDGE_DEG`]
    /// (`2.2250738585072014e-308`, the smallest positive *normal* `f64`), which Flask-RESTX
    /// parses with `float()` into a truthy value, PostgreSQL's `float8` reads without the
    /// range error older versions give for subnormals such as `5e-324`, and which moves the
    /// centre by about 1e-305 arcsec. The cone result is therefore the cone the caller asked for.
    pub fn cone(mut self, position: SkyPosition, radius_arcsec: Option<f64>) -> Self {
        self.cone = Some((position.ra(), position.dec(), radius_arcsec));
        self
    }
    /// A cone search from raw degrees (checked when the query is sent; a 0 is sent as
    /// [`ZERO_COORD_NUDGE_DEG`], see [`ObjectQuery::cone`]).
    pub fn cone_deg(mut self, ra: f64, dec: f64, radius_arcsec: Option<f64>) -> Self {
        self.cone = Some((ra, dec, radius_arcsec));
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
    /// Whether the server counts the total (`count=true`; needed for `next`/`has_next`).
    pub fn count(mut self, count: bool) -> Self {
        self.count = Some(count);
        self
    }
    /// The sort column and direction.
    pub fn order_by(mut self, by: ZtfOrderBy, mode: OrderMode) -> Self {
        self.order_by = Some(by);
        self.order_mode = Some(mode);
        self
    }
    /// The sort direction alone.
    pub fn order_mode(mut self, mode: OrderMode) -> Self {
        self.order_mode = Some(mode);
        self
    }

    /// Checks every filter and gives the query pairs as they go on the wire.
    pub fn to_query(&self) -> Result<Vec<(String, String)>> {
        check_range_i64("ndet", &self.ndet)?;
        check_range_f64("firstmjd", &self.firstmjd)?;
        check_range_f64("lastmjd", &self.lastmjd)?;
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
        if self.oids.iter().any(|o| o.trim().is_empty()) {
            return Err(Error::invalid("oid", "object ids must not be empty"));
        }
        for (name, v) in [
            ("classifier", &self.classifier),
            ("classifier_version", &self.classifier_version),
            ("class_name", &self.class_name),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(Error::invalid(name, "must not be empty when given"));
            }
        }
        let mut q: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| q.push((k.to_string(), v));
        for o in &self.oids {
            push("oid", o.trim().to_string());
        }
        if let Some(v) = &self.classifier {
            push("classifier", v.clone());
        }
        if let Some(v) = &self.classifier_version {
            push("classifier_version", v.clone());
        }
        if let Some(v) = &self.class_name {
            push("class", v.clone());
        }
        if let Some(v) = self.ranking {
            push("ranking", v.to_string());
        }
        for v in &self.ndet {
            push("ndet", v.to_string());
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
        if let Some((ra, dec, radius)) = self.cone {
            let p = SkyPosition::new(ra, dec)?;
            push("ra", py_float(truthy_coord(p.ra())));
            push("dec", py_float(truthy_coord(p.dec())));
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
        if let Some(v) = self.order_by {
            push("order_by", v.as_str().to_string());
        }
        if let Some(v) = self.order_mode {
            push("order_mode", v.to_string());
        }
        Ok(q)
    }
}

/// What a cone coordinate of exactly 0 is sent as on the ZTF v1 API (see
/// [`ObjectQuery::cone`]): the smallest positive normal `f64`, so that the server's
/// `if ra and dec and radius` keeps the cone. It shifts the centre by about 1e-305 arcsec.
pub const ZERO_COORD_NUDGE_DEG: f64 = f64::MIN_POSITIVE;

/// A coordinate the ZTF server's truthiness test keeps: 0 (and -0) become
/// [`ZERO_COORD_NUDGE_DEG`].
fn truthy_coord(v: f64) -> f64 {
    if v == 0.0 { ZERO_COORD_NUDGE_DEG } else { v }
}

pub(crate) fn check_range_i64(field: &str, v: &[i64]) -> Result<()> {
    if v.len() == 2 && v[0] > v[1] {
        return Err(Error::invalid(field, format!("the minimum {} is above the maximum {}", v[0], v[1])));
    }
    if v.iter().any(|x| *x < 0) {
        return Err(Error::invalid(field, "counts cannot be negative"));
    }
    Ok(())
}

pub(crate) fn check_range_f64(field: &str, v: &[f64]) -> Result<()> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(field, "MJDs must be finite numbers"));
    }
    if v.len() == 2 && v[0] > v[1] {
        return Err(Error::invalid(field, format!("the minimum {} is above the maximum {}", v[0], v[1])));
    }
    Ok(())
}

fn with_query(mut req: Request, pairs: &[(String, String)]) -> Request {
    for (k, v) in pairs {
        req = req.query(k, v);
    }
    req
}

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
    /// The classifier name (use it in [`ObjectQuery::classifier`]).
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

/// Feature filters for [`Ztf::features_with`] and [`Ztf::feature_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFilter {
    /// Only this filter id.
    pub fid: Option<i64>,
    /// Only this feature version.
    pub version: Option<String>,
}

/// The ZTF v1 API. Get it with [`AlerceClient::ztf`].
#[derive(Debug, Clone, Copy)]
pub struct Ztf<'a> {
    client: &'a AlerceClient,
}

impl AlerceClient {
    /// The ZTF v1 API and ZTF forced photometry.
    pub fn ztf(&self) -> Ztf<'_> {
        Ztf { client: self }
    }
}

/// Checks an object id and escapes it as one path segment.
pub(crate) fn path_segment(field: &str, id: &str) -> Result<String> {
    let t = id.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>().replace('+', "%20"))
}

impl<'a> Ztf<'a> {
    fn http(&self) -> &broker_core::HttpClient {
        &self.client.inner.ztf
    }

    /// One page of objects (`GET objects/`).
    pub async fn query_objects(&self, query: &ObjectQuery) -> Result<ZtfObjectPage> {
        let pairs = query.to_query()?;
        get_json(self.http(), with_query(Request::get("objects/"), &pairs)).await
    }

    /// Every object matching `query`, page after page, as a stream (`count=true` is sent so
    /// that the server reports `total` and `has_next`; paging starts at the query's page
    /// or 1, with its page size or 100). The stream's `total()` is the server's count
    /// (capped at 50001 by the server).
    pub fn stream_objects(&self, query: ObjectQuery) -> Result<AlerceStream<ZtfObject>> {
        query.to_query()?;
        let first = query.page.unwrap_or(1);
        let size = query.page_size.unwrap_or(100);
        let http = self.http().clone();
        let pages = PageNumberPaginator::new(first, size, move |p| {
            let http = http.clone();
            let q = query.clone().page(p.page).page_size(p.page_size).count(true);
            async move {
                let pairs = q.to_query().map_err(core_error)?;
                let page: ZtfObjectPage =
                    get_json(&http, with_query(Request::get("objects/"), &pairs)).await.map_err(core_error)?;
                let total = page.total.and_then(|t| u64::try_from(t).ok());
                Ok(Page::new(page.items).with_total(total).with_has_next(page.has_next))
            }
        })
        .stop_rules(StopRules { total: true, short_page: false, has_next: true });
        Ok(AlerceStream::new(pages.into_stream()))
    }

    /// One object (`GET objects/{oid}`); 404 is [`Error::NotFound`].
    pub async fn object(&self, oid: &str) -> Result<ZtfObject> {
        let oid = path_segment("oid", oid)?;
        get_json(self.http(), Request::get(format!("objects/{oid}"))).await
    }

    /// Detections and non-detections (`GET objects/{oid}/lightcurve`).
    pub async fn lightcurve(&self, oid: &str) -> Result<ZtfLightcurve> {
        let oid = path_segment("oid", oid)?;
        let lc: Option<ZtfLightcurve> =
            get_or_empty(self.http(), Request::get(format!("objects/{oid}/lightcurve"))).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Light curves of many objects ([`Ztf::lightcurve`] each), with up to `concurrency`
    /// requests in flight (0 counts as 1), as a stream of `(oid, result)` in completion
    /// order. One object's failure does not stop the others; the client's retry policy and
    /// rate limit apply to every request.
    pub fn lightcurves<I, S>(
        &self,
        oids: I,
        concurrency: usize,
    ) -> impl futures::Stream<Item = (String, Result<ZtfLightcurve>)> + Send + 'a
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        use futures::StreamExt;
        let client = self.client;
        let oids: Vec<String> = oids.into_iter().map(Into::into).collect();
        futures::stream::iter(oids)
            .map(move |oid| async move {
                let r = client.ztf().lightcurve(&oid).await;
                (oid, r)
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// Detections (`GET objects/{oid}/detections`).
    pub async fn detections(&self, oid: &str) -> Result<Vec<ZtfDetection>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/detections"))).await
    }

    /// Non-detections (`GET objects/{oid}/non_detections`).
    pub async fn non_detections(&self, oid: &str) -> Result<Vec<ZtfNonDetection>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/non_detections"))).await
    }

    /// Forced photometry (`GET /v2/lightcurve/forced-photometry/{oid}`).
    pub async fn forced_photometry(&self, oid: &str) -> Result<Vec<ZtfForcedPhotometry>> {
        let oid = path_segment("oid", oid)?;
        list(&self.client.inner.ztf_fp, Request::get(format!("forced-photometry/{oid}"))).await
    }

    /// The light curve of one survey's photometry: `survey_id` `ztf` or `atlas` (ATLAS
    /// rows need a token with that permission). The Python client never sends it; the
    /// server's default is `ztf`.
    pub async fn lightcurve_of(&self, oid: &str, survey_id: &str) -> Result<ZtfLightcurve> {
        let survey = check_choice("survey_id", survey_id, &["ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/lightcurve")).query("survey_id", survey);
        let lc: Option<ZtfLightcurve> = get_or_empty(self.http(), req).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Forced photometry of one survey: `survey_id` `all` (the server's default), `ztf`
    /// or `atlas`.
    pub async fn forced_photometry_of(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfForcedPhotometry>> {
        let survey = check_choice("survey_id", survey_id, &["all", "ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("forced-photometry/{oid}")).query("survey_id", survey);
        list(&self.client.inner.ztf_fp, req).await
    }

    /// The range of `ndet` and `firstmjd` over all objects (`GET objects/limit_values`).
    pub async fn limit_values(&self) -> Result<ZtfLimitValues> {
        get_json(self.http(), Request::get("objects/limit_values")).await
    }

    fn v2_req(route: &str, oid: &str, survey_id: &str) -> Result<Request> {
        let survey = check_choice("survey_id", survey_id, &["all", "ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        Ok(Request::get(format!("{route}/{oid}")).query("survey_id", survey))
    }

    /// Detections from the v2 light-curve service (`GET /v2/lightcurve/detections/{oid}`),
    /// `survey_id` `all` (the server's default), `ztf` or `atlas` (ATLAS rows need a token
    /// with that permission).
    pub async fn v2_detections(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfV2Detection>> {
        list(&self.client.inner.ztf_fp, Self::v2_req("detections", oid, survey_id)?).await
    }

    /// Non-detections from the v2 light-curve service (`GET /v2/lightcurve/non_detections/{oid}`).
    pub async fn v2_non_detections(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfNonDetection>> {
        list(&self.client.inner.ztf_fp, Self::v2_req("non_detections", oid, survey_id)?).await
    }

    /// Detections, non-detections and forced photometry from the v2 light-curve service
    /// (`GET /v2/lightcurve/lightcurve/{oid}`).
    pub async fn v2_lightcurve(&self, oid: &str, survey_id: &str) -> Result<ZtfV2Lightcurve> {
        let lc: Option<ZtfV2Lightcurve> =
            get_or_empty(&self.client.inner.ztf_fp, Self::v2_req("lightcurve", oid, survey_id)?).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Magnitude statistics per band (`GET objects/{oid}/magstats`).
    pub async fn magstats(&self, oid: &str) -> Result<Vec<ZtfMagstats>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/magstats"))).await
    }

    /// Class probabilities of every classifier (`GET objects/{oid}/probabilities`).
    pub async fn probabilities(&self, oid: &str) -> Result<Vec<ZtfProbability>> {
        self.probabilities_of(oid, None, None).await
    }

    /// Class probabilities, optionally of one classifier and version
    /// (`classifier`, `classifier_version`).
    pub async fn probabilities_of(
        &self,
        oid: &str,
        classifier: Option<&str>,
        classifier_version: Option<&str>,
    ) -> Result<Vec<ZtfProbability>> {
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/probabilities"))
            .query_opt("classifier", non_empty(classifier))
            .query_opt("classifier_version", non_empty(classifier_version));
        list(self.http(), req).await
    }

    /// Every feature (`GET objects/{oid}/features`).
    pub async fn features(&self, oid: &str) -> Result<Vec<ZtfFeature>> {
        self.features_with(oid, &FeatureFilter::default()).await
    }

    /// Features, filtered by `fid` and `version`.
    pub async fn features_with(&self, oid: &str, filter: &FeatureFilter) -> Result<Vec<ZtfFeature>> {
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/features"))
            .query_opt("fid", filter.fid)
            .query_opt("version", non_empty(filter.version.as_deref()));
        list(self.http(), req).await
    }

    /// One feature by name (`GET objects/{oid}/features/{name}`). The server answers with
    /// a list (one row per band/version).
    pub async fn feature(&self, oid: &str, name: &str) -> Result<Vec<ZtfFeature>> {
        self.feature_with(oid, name, &FeatureFilter::default()).await
    }

    /// One feature by name, filtered by `fid` and `version`.
    pub async fn feature_with(&self, oid: &str, name: &str, filter: &FeatureFilter) -> Result<Vec<ZtfFeature>> {
        let oid = path_segment("oid", oid)?;
        let name = path_segment("name", name)?;
        let req = Request::get(format!("objects/{oid}/features/{name}"))
            .query_opt("fid", filter.fid)
            .query_opt("version", non_empty(filter.version.as_deref()));
        list(self.http(), req).await
    }

    /// Every classifier with its classes (`GET classifiers/`).
    pub async fn classifiers(&self) -> Result<Vec<ZtfClassifier>> {
        list(self.http(), Request::get("classifiers/")).await
    }

    /// The classes of one classifier version (`GET classifiers/{name}/{version}/classes`).
    pub async fn classes(&self, classifier_name: &str, classifier_version: &str) -> Result<Vec<ZtfClass>> {
        let n = path_segment("classifier_name", classifier_name)?;
        let v = path_segment("classifier_version", classifier_version)?;
        list(self.http(), Request::get(format!("classifiers/{n}/{v}/classes"))).await
    }

    /// Detections, non-detections and (when `with_forced` is true) forced photometry as one
    /// core [`Lightcurve`] ordered by MJD.
    pub async fn unified_lightcurve(&self, oid: &str, with_forced: bool) -> Result<Lightcurve> {
        let lc = self.lightcurve(oid).await?;
        let mut out = lc.to_lightcurve(oid.trim());
        if with_forced {
            let fp = self.forced_photometry(oid).await?;
            out.extend(forced_photometry_to_lightcurve(oid.trim(), &fp));
        }
        out.sort_by_mjd();
        Ok(out)
    }
}

fn check_choice<'s>(field: &str, value: &'s str, allowed: &[&str]) -> Result<&'s str> {
    let v = value.trim();
    if allowed.contains(&v) {
        Ok(v)
    } else {
        Err(Error::invalid(field, format!("{value:?} is not accepted: use one of {}", allowed.join(", "))))
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A list endpoint; an empty `200` body or `null` is an empty list.
pub(crate) async fn list<T: serde::de::DeserializeOwned>(
    http: &broker_core::HttpClient,
    req: Request,
) -> Result<Vec<T>> {
    let v: Option<Vec<T>> = get_or_empty(http, req).await?;
    Ok(v.unwrap_or_default())
}

/// A JSON endpoint whose empty `200` body means "nothing" (`None`).
pub(crate) async fn get_or_empty<T: serde::de::DeserializeOwned>(
    http: &broker_core::HttpClient,
    req: Request,
) -> Result<Option<T>> {
    let resp = crate::client::get_raw(http, req).await?;
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    crate::client::decode(&resp)
}

/// Flattens this crate's error into the core one (for the core paginator, which
/// carries core errors). ALeRCE kinds keep their status and message as an `HttpError`.
pub(crate) fn core_error(e: Error) -> broker_core::Error {
    match e {
        Error::Core(c) => c,
        Error::Parse { status, message, url, .. } | Error::Api { status, message, url, .. } => {
            broker_core::Error::Http(Box::new(broker_core::HttpError {
                status,
                message: Some(message),
                excerpt: String::new(),
                url,
                retry_after: None,
                body: bytes::Bytes::new(),
            }))
        }
        Error::NotFound { message, url } => broker_core::Error::Http(Box::new(broker_core::HttpError {
            status: 404,
            message: Some(message),
            excerpt: String::new(),
            url,
            retry_after: None,
            body: bytes::Bytes::new(),
        })),
        other => broker_core::Error::Config(other.to_string()),
    }
}

/// The band of a ZTF filter id; unknown ids become `Band::Other("ztf_fid<N>")` so that
/// no point is dropped.
pub fn ztf_band(fid: Option<i64>) -> Band {
    match fid {
        Some(f) => Band::from_ztf_fid(f).unwrap_or_else(|| Band::Other(format!("ztf_fid{f}"))),
        None => Band::Other("ztf_unknown".into()),
    }
}

impl ZtfDetection {
    /// This detection as a core point (`magpsf` ± `sigmapsf`, band from `fid`), when it
    /// has an MJD and a finite magnitude.
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let mag = self.magpsf.filter(|m| m.is_finite())?;
        let survey = self.tid.as_deref().unwrap_or("ztf");
        let mut p = PhotometryPoint::from_mag(
            "alerce",
            survey,
            oid,
            mjd,
            ztf_band(self.fid),
            mag,
            self.sigmapsf.filter(|e| e.is_finite()),
        )
        .with_origin(Origin::Alert)
        .with_measurement(Measurement::Difference);
        p.limiting_mag = self.diffmaglim.filter(|m| m.is_finite());
        Some(p)
    }
}

impl ZtfNonDetection {
    /// This non-detection as a core limit (`diffmaglim`), when it has an MJD and a limit.
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let lim = self.diffmaglim.filter(|m| m.is_finite())?;
        let survey = self.tid.as_deref().unwrap_or("ztf");
        Some(
            PhotometryPoint::limit("alerce", survey, oid, mjd, ztf_band(self.fid), lim)
                .with_origin(Origin::Alert)
                .with_measurement(Measurement::Difference),
        )
    }
}

impl ZtfForcedPhotometry {
    /// This measurement as a core point: a detection from `mag` ± `e_mag` when the
    /// magnitude is finite and plausible (< 90; the pipeline writes 100 for "none"), else a
    /// limit at `diffmaglim` when there is one. Origin `forced`; measurement `difference`
    /// (`mag` is the forced difference-image magnitude, `mag_corr` the corrected total one,
    /// which is not used here).
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let band = ztf_band(self.fid);
        let survey = self.tid.as_deref().unwrap_or("ztf");
        match self.mag.filter(|m| m.is_finite() && *m < 90.0) {
            Some(mag) => {
                let mut p = PhotometryPoint::from_mag(
                    "alerce",
                    survey,
                    oid,
                    mjd,
                    band,
                    mag,
                    self.e_mag.filter(|e| e.is_finite() && *e >= 0.0),
                );
                p.limiting_mag = self.diffmaglim();
                Some(p)
            }
            None => self.diffmaglim().map(|lim| PhotometryPoint::limit("alerce", survey, oid, mjd, band, lim)),
        }
        .map(|p| p.with_origin(Origin::Forced).with_measurement(Measurement::Difference))
    }
}

impl ZtfLightcurve {
    /// Detections (`magpsf`/`sigmapsf`, `fid` 1=g 2=r 3=i) and non-detections
    /// (`diffmaglim` limits) as a core [`Lightcurve`] ordered by MJD. Rows without an MJD
    /// or a magnitude are skipped.
    pub fn to_lightcurve(&self, oid: &str) -> Lightcurve {
        let mut lc = Lightcurve::new();
        for d in &self.detections {
            if let Some(p) = d.to_point(oid) {
                lc.push(p);
            }
        }
        for n in &self.non_detections {
            if let Some(p) = n.to_point(oid) {
                lc.push(p);
            }
        }
        lc.sort_by_mjd();
        lc
    }
}

/// Forced photometry as a core [`Lightcurve`] (see [`ZtfForcedPhotometry::to_point`]).
pub fn forced_photometry_to_lightcurve(oid: &str, rows: &[ZtfForcedPhotometry]) -> Lightcurve {
    let mut lc = Lightcurve::from_points(rows.iter().filter_map(|r| r.to_point(oid)).collect());
    lc.sort_by_mjd();
    lc
}
