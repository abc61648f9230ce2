//! Fink/LSST routes: `api/v1/sources` (diaSources), `api/v1/objects` (diaObjects),
//! `api/v1/fp` (forced photometry), `api/v1/tags` (list, and the latest alerts of a tag as
//! a time-window stream), and the Rubin rows.
//!
//! Checked against astrolabsoftware/fink-object-api `apps/routes/v1/lsst/*/api.py` and
//! `utils.py`. Ids are 64-bit: the routes take `diaObjectId`/`diaSourceId` as strings
//! (`utils.py` slices them: `payload["diaObjectId"][-3:]`), and the replies carry them as
//! JSON integers (pandas `to_json` of an int64 column); this crate keeps them as `i64`
//! end to end, never through `f64`.

use broker_core::astro::njy_to_ujy;
use broker_core::paginate::{ItemStream, Paginator, TimeWindowPaginator};
use broker_core::{Band, Error, Lightcurve, Measurement, Origin, PhotometryPoint, Result};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{FinkClient, OutputFormat, Payload, Survey, get, join_ids, post, send_json};
use crate::columns::{Column, columns_value};
use crate::de;
use crate::time::iso_window_bound;
use crate::ztf::BROKER;

/// A point is a detection when `psfFlux / psfFluxErr` is at least this; otherwise a limit
/// (the same rule as the alerce-client LSST light curve).
pub const LSST_SNR_MIN: f64 = 3.0;
/// The limit of a non-significant flux: this many times its error.
pub const LSST_LIMIT_SIGMA: f64 = 5.0;

/// One Rubin source row (`api/v1/sources`, `fp`, `tags`, `conesearch`): the common columns
/// typed under their raw names, every other column in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LsstSource {
    /// `r:diaObjectId` (64-bit).
    #[serde(
        rename = "r:diaObjectId",
        default,
        deserialize_with = "de::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub dia_object_id: Option<i64>,
    /// `r:diaSourceId` (64-bit; absent on forced-photometry rows, which carry
    /// `r:diaForcedSourceId` in `extra`).
    #[serde(
        rename = "r:diaSourceId",
        default,
        deserialize_with = "de::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub dia_source_id: Option<i64>,
    /// `r:midpointMjdTai`, MJD (TAI) of the exposure midpoint.
    #[serde(
        rename = "r:midpointMjdTai",
        default,
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub midpoint_mjd_tai: Option<f64>,
    /// `r:band`: `u g r i z y`.
    #[serde(rename = "r:band", default, deserialize_with = "de::opt_string", skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
    /// `r:psfFlux` (nJy, difference image).
    #[serde(rename = "r:psfFlux", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub psf_flux: Option<f64>,
    /// `r:psfFluxErr` (nJy).
    #[serde(
        rename = "r:psfFluxErr",
        default,
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub psf_flux_err: Option<f64>,
    /// `r:ra` (degrees).
    #[serde(rename = "r:ra", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub ra: Option<f64>,
    /// `r:dec` (degrees).
    #[serde(rename = "r:dec", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub dec: Option<f64>,
    /// Every other column, under its raw prefixed name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LsstSource {
    /// This row as a unified point: `psfFlux ± psfFluxErr` (nJy → µJy), a detection with
    /// a magnitude when S/N ≥ [`LSST_SNR_MIN`], else a limit at [`LSST_LIMIT_SIGMA`] times
    /// the error that keeps the flux. MJD is `midpointMjdTai` as given (TAI; 37 s from
    /// UTC, below any light-curve use). `None` without time, flux or error.
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.midpoint_mjd_tai.filter(|m| m.is_finite())?;
        let (f, e) = (self.psf_flux?, self.psf_flux_err?);
        let band = self.band.as_deref().map(Band::from_lsst_letter).unwrap_or_else(|| Band::Other("lsst?".into()));
        let oid = self.dia_object_id.map(|i| i.to_string()).unwrap_or_default();
        Some(
            PhotometryPoint::from_flux(
                BROKER,
                "lsst",
                &oid,
                mjd,
                band,
                njy_to_ujy(f),
                njy_to_ujy(e),
                LSST_SNR_MIN,
                LSST_LIMIT_SIGMA,
            )
            // A diaSource of an alert; `psfFlux` is measured on the difference image.
            .with_origin(Origin::Alert)
            .with_measurement(Measurement::Difference),
        )
    }
    /// A column by its raw name, typed or not.
    pub fn get(&self, column: &str) -> Option<Value> {
        serde_json::to_value(self).ok()?.get(column).cloned()
    }
}

/// Rows as a unified light curve ordered by MJD.
pub fn to_lightcurve(rows: &[LsstSource]) -> Lightcurve {
    let mut lc = Lightcurve::from_points(rows.iter().filter_map(LsstSource::to_point).collect());
    lc.sort_by_mjd();
    lc
}

/// One Rubin diaObject row (`api/v1/objects`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LsstObject {
    /// `r:diaObjectId` (64-bit).
    #[serde(
        rename = "r:diaObjectId",
        default,
        deserialize_with = "de::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub dia_object_id: Option<i64>,
    /// `r:ra` (degrees).
    #[serde(rename = "r:ra", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub ra: Option<f64>,
    /// `r:dec` (degrees).
    #[serde(rename = "r:dec", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub dec: Option<f64>,
    /// `r:nDiaSources`.
    #[serde(
        rename = "r:nDiaSources",
        default,
        deserialize_with = "de::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub n_dia_sources: Option<i64>,
    /// `r:firstDiaSourceMjdTai`.
    #[serde(
        rename = "r:firstDiaSourceMjdTai",
        default,
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_dia_source_mjd_tai: Option<f64>,
    /// Every other column, under its raw prefixed name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `GET api/v1/tags` (`{"<tag>": {"description": ..., "API support": ...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagInfo {
    /// What the tag selects.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the tag can be queried here (`HBASE_SUPPORT`); otherwise only the
    /// livestream has it.
    #[serde(rename = "API support", default)]
    pub api_support: Option<bool>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The Fink/LSST API. Get it with [`FinkClient::lsst`].
#[derive(Debug, Clone, Copy)]
pub struct Lsst<'a> {
    client: &'a FinkClient,
}

impl FinkClient {
    /// The Fink/LSST routes.
    pub fn lsst(&self) -> Lsst<'_> {
        Lsst { client: self }
    }
}

/// Which id route: sources, objects or forced photometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdRoute {
    Sources,
    Objects,
    Fp,
}

impl IdRoute {
    fn route(self) -> &'static str {
        match self {
            IdRoute::Sources => "sources",
            IdRoute::Objects => "objects",
            IdRoute::Fp => "fp",
        }
    }
}

impl<'a> Lsst<'a> {
    fn by_ids(&self, route: IdRoute, ids: &[i64]) -> IdsRequest {
        let ids = join_ids("diaObjectId", ids.iter().map(|i| i.to_string()));
        IdsRequest { client: self.client.clone(), route, ids, midpoint_mjd_tai: None, columns: Vec::new() }
    }
    /// `POST api/v1/sources`: the diaSources (the light curve) of one or more objects.
    pub fn sources(&self, dia_object_ids: &[i64]) -> IdsRequest {
        self.by_ids(IdRoute::Sources, dia_object_ids)
    }
    /// `POST api/v1/objects`: the diaObject summaries.
    pub fn objects(&self, dia_object_ids: &[i64]) -> IdsRequest {
        self.by_ids(IdRoute::Objects, dia_object_ids)
    }
    /// `POST api/v1/fp`: forced photometry.
    pub fn forced_photometry(&self, dia_object_ids: &[i64]) -> IdsRequest {
        self.by_ids(IdRoute::Fp, dia_object_ids)
    }
    /// `GET api/v1/tags` without arguments: the tags, their description and API support.
    pub async fn tags(&self) -> Result<Map<String, Value>> {
        send_json(self.client.http(Survey::Lsst), get("tags")).await
    }
    /// `POST api/v1/tags`: the latest alerts of a tag.
    pub fn tag(&self, tag: impl Into<String>) -> TagRequest {
        TagRequest {
            client: self.client.clone(),
            tag: tag.into(),
            n: None,
            since_mjd: None,
            until_mjd: None,
            columns: Vec::new(),
        }
    }
}

/// A request to `sources`, `objects` or `fp` by `diaObjectId`.
#[derive(Debug, Clone)]
pub struct IdsRequest {
    client: FinkClient,
    route: IdRoute,
    ids: Result<String>,
    midpoint_mjd_tai: Option<f64>,
    columns: Vec<Column>,
}

impl IdsRequest {
    /// `midpointMjdTai` (sources only, one object only): just the source at that time.
    pub fn midpoint_mjd_tai(mut self, mjd: f64) -> Self {
        self.midpoint_mjd_tai = Some(mjd);
        self
    }
    /// `columns`.
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }
    fn payload(&self, format: OutputFormat) -> Result<Payload> {
        let ids = self.ids.clone()?;
        if let Some(m) = self.midpoint_mjd_tai {
            if self.route != IdRoute::Sources {
                return Err(Error::invalid("midpointMjdTai", "only the sources route takes midpointMjdTai"));
            }
            if ids.contains(',') {
                return Err(Error::invalid(
                    "midpointMjdTai",
                    "midpointMjdTai selects a source of one object: give one id",
                ));
            }
            if !m.is_finite() {
                return Err(Error::invalid("midpointMjdTai", "the MJD must be a finite number"));
            }
        }
        let mut p = Payload::new();
        p.set("diaObjectId", ids);
        p.opt("midpointMjdTai", self.midpoint_mjd_tai);
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }
    /// Sends the request and decodes the rows as sources (sources, fp).
    pub async fn send(&self) -> Result<Vec<LsstSource>> {
        let p = self.payload(OutputFormat::Json)?;
        send_json(self.client.http(Survey::Lsst), post(self.route.route(), &p)).await
    }
    /// Sends the request and decodes the rows as diaObjects (objects).
    pub async fn send_objects(&self) -> Result<Vec<LsstObject>> {
        let p = self.payload(OutputFormat::Json)?;
        send_json(self.client.http(Survey::Lsst), post(self.route.route(), &p)).await
    }
    /// The request in another output format; the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        let p = self.payload(format)?;
        Ok(self.client.http(Survey::Lsst).execute(post(self.route.route(), &p)).await?.body)
    }
    /// The rows as a unified light curve.
    pub async fn lightcurve(&self) -> Result<Lightcurve> {
        Ok(to_lightcurve(&self.send().await?))
    }
    /// `output-format=parquet` read into a DataFrame (feature `polars`).
    #[cfg(feature = "polars")]
    pub async fn dataframe(&self) -> Result<polars::prelude::DataFrame> {
        crate::frame::read_parquet(&self.raw(OutputFormat::Parquet).await?)
    }
}

/// The server's default start of `tags` in code (`Time("2019-11-01 00:00:00")` in
/// `tags/utils.py`; the route's docstring says 2026-01-01), as MJD.
pub const TAGS_DEFAULT_START_MJD: f64 = 58788.0;

/// A request to `POST api/v1/tags`. Built by [`Lsst::tag`].
#[derive(Debug, Clone)]
pub struct TagRequest {
    client: FinkClient,
    tag: String,
    n: Option<u64>,
    since_mjd: Option<f64>,
    until_mjd: Option<f64>,
    columns: Vec<Column>,
}

impl TagRequest {
    /// `n` (the server's default is 10 in `tags/utils.py`; its docstring says 100).
    pub fn n(mut self, n: u64) -> Self {
        self.n = Some(n);
        self
    }
    /// `startdate`, sent as UTC ISO text (the route reads it with astropy `Time(...)`).
    pub fn since_mjd(mut self, mjd: f64) -> Self {
        self.since_mjd = Some(mjd);
        self
    }
    /// `stopdate`, sent as UTC ISO text.
    pub fn until_mjd(mut self, mjd: f64) -> Self {
        self.until_mjd = Some(mjd);
        self
    }
    /// `columns`.
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }
    fn validate(&self) -> Result<()> {
        if self.tag.trim().is_empty() {
            return Err(Error::invalid("tag", "give a tag (see `Lsst::tags`)"));
        }
        if self.n == Some(0) {
            return Err(Error::invalid("n", "ask for at least one alert"));
        }
        Ok(())
    }
    fn payload(&self, format: OutputFormat, window: Option<(f64, f64, u64)>) -> Result<Payload> {
        let (since, until, n) = match window {
            Some((a, b, n)) => (Some(a), Some(b), Some(n)),
            None => (self.since_mjd, self.until_mjd, self.n),
        };
        let mut p = Payload::new();
        p.set("tag", self.tag.clone());
        p.opt("n", n);
        p.opt("startdate", since.map(|m| iso_window_bound(m, false)).transpose()?);
        p.opt("stopdate", until.map(|m| iso_window_bound(m, true)).transpose()?);
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }
    /// One request: at most `n` newest alerts of the tag.
    pub async fn send(&self) -> Result<Vec<LsstSource>> {
        self.validate()?;
        let p = self.payload(OutputFormat::Json, None)?;
        send_json(self.client.http(Survey::Lsst), post("tags", &p)).await
    }
    /// One request in another output format; the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        self.validate()?;
        let p = self.payload(format, None)?;
        Ok(self.client.http(Survey::Lsst).execute(post("tags", &p)).await?.body)
    }
    /// Every alert of the tag in `[since, until]` (until is required), newest first, `n`
    /// (default 1000) a request, walking back by `r:midpointMjdTai` with the core's
    /// time-window strategy; repeats dropped by `r:diaSourceId`. The server scans the tag
    /// table newest first with `n` as its limit and no post-filter, so a short answer is
    /// the last.
    pub fn stream(&self) -> ItemStream<LsstSource> {
        if let Err(e) = self.validate() {
            return ItemStream::failed(e);
        }
        let Some(until) = self.until_mjd else {
            return ItemStream::failed(Error::invalid(
                "stopdate",
                "a tag stream needs an end (until_mjd): the walk moves back from it",
            ));
        };
        let since = self.since_mjd.unwrap_or(TAGS_DEFAULT_START_MJD);
        let per = self.n.unwrap_or(1000);
        let mut me = self.clone();
        if !me.columns.is_empty() {
            for c in ["midpointMjdTai", "diaSourceId"] {
                if !me.columns.contains(&Column::r(c)) {
                    me.columns.push(Column::r(c));
                }
            }
        }
        let key = |r: &LsstSource| Some((r.midpoint_mjd_tai?, r.dia_source_id?.to_string()));
        TimeWindowPaginator::new(since, until, per, key, move |w| {
            let me = me.clone();
            async move {
                let p = me.payload(OutputFormat::Json, Some((w.start, w.stop, w.limit)))?;
                send_json::<Vec<LsstSource>>(me.client.http(Survey::Lsst), post("tags", &p)).await
            }
        })
        .into_stream()
    }
}
