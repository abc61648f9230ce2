//! Object-list filters ([`LsstObjectQuery`]) and the checks run on them before any request.

use broker_core::astro::{SkyPosition, validate_radius_arcsec};

use super::MultisurveyOid;
use crate::de::py_float;
use crate::error::{Error, Result};
use crate::ztf::{MAX_RADIUS_ARCSEC, OrderMode, check_range_f64, check_range_i64};

/// Filters for [`Lsst::query_objects`](super::Lsst::query_objects) / [`Lsst::stream_objects`](super::Lsst::stream_objects). Unset filters are
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
    pub(super) page: Option<u64>,
    pub(super) page_size: Option<u64>,
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
pub(super) fn common_survey<'s>(oids: &'s [MultisurveyOid], lsst_survey: &'s str) -> Result<&'s str> {
    let ztf = oids.iter().filter(|o| matches!(o, MultisurveyOid::Ztf(_))).count();
    if ztf == 0 {
        Ok(lsst_survey)
    } else if ztf == oids.len() {
        Ok("ztf")
    } else {
        Err(Error::invalid("oid", "give either LSST ids or ZTF names in one request, not both"))
    }
}
