//! Object-list filters ([`ObjectQuery`]), ordering, and the checks run on them before any request.

use std::fmt;

use broker_core::Request;
use broker_core::astro::{SkyPosition, validate_radius_arcsec};
use serde::{Deserialize, Serialize};

use crate::de::py_float;
use crate::error::{Error, Result};
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

/// Filters for [`Ztf::query_objects`](super::Ztf::query_objects) and [`Ztf::stream_objects`](super::Ztf::stream_objects). Unset filters are
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
    pub(super) page: Option<u64>,
    pub(super) page_size: Option<u64>,
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

pub(super) fn with_query(mut req: Request, pairs: &[(String, String)]) -> Request {
    for (k, v) in pairs {
        req = req.query(k, v);
    }
    req
}
