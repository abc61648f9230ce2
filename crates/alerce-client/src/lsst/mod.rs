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
//! conversions to the core [`Lightcurve`](broker_core::astro::Lightcurve) give microjansky.

use broker_core::astro::SkyPosition;
use broker_core::paginate::{Page, PageNumberPaginator, Paginator, StopRules, id_chunks};
use broker_core::{HttpClient, ListStyle, Request};
use futures::StreamExt;
use serde_json::Value;

use crate::catshtm::{CatalogTable, parse_tables};
use crate::client::{AlerceClient, get_json};
use crate::de::py_float;
use crate::error::{Error, Result};
use crate::stream::AlerceStream;
use crate::ztf::{core_error, get_or_empty, list};

/// The most object ids this client puts in one light-curve request (longer lists are
/// split). The server's REST routes set no cap (the 200-id check is on the HTMX routes
/// only, `object_api/routes/htmx.py`); this keeps URLs short.
pub const MAX_OIDS_PER_REQUEST: usize = 200;

mod magstats;
mod models;
mod oid;
mod points;
mod query;

pub use magstats::*;
pub use models::*;
pub use oid::*;
pub use points::*;
pub use query::*;

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
