//! Fink/ZTF routes: `api/v1/objects` (with upper limits), `api/v1/latests` (by class, as a
//! time-window stream), `api/v1/classes`, and the ZTF alert row.
//!
//! Checked against astrolabsoftware/fink-object-api `apps/routes/v1/ztf/*/api.py` and
//! `utils.py`.

use broker_core::paginate::{ItemStream, Paginator, TimeWindowPaginator};
use broker_core::{Band, Error, Lightcurve, Measurement, Origin, PhotometryPoint, Result};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{FinkClient, OutputFormat, Payload, Survey, get, post, send_json};
use crate::columns::{Column, columns_value};
use crate::de;
use crate::time::{JD_MJD_OFFSET, iso_window_bound};

/// The broker name on unified light-curve points.
pub const BROKER: &str = "fink";

/// One ZTF alert row (`api/v1/objects`, `latests`, `conesearch`, `sso`): the common
/// columns typed under their raw names, every other column in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ZtfAlert {
    /// `i:objectId`.
    #[serde(
        rename = "i:objectId",
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub object_id: Option<String>,
    /// `i:candid` (64-bit; `-1` on upper-limit and bad-quality rows, set so by the server).
    #[serde(rename = "i:candid", default, deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub candid: Option<i64>,
    /// `i:jd`, Julian date of the observation.
    #[serde(rename = "i:jd", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub jd: Option<f64>,
    /// `i:fid`: 1 = g, 2 = r, 3 = i.
    #[serde(rename = "i:fid", default, deserialize_with = "de::opt_i64", skip_serializing_if = "Option::is_none")]
    pub fid: Option<i64>,
    /// `i:magpsf`, difference-image PSF magnitude.
    #[serde(rename = "i:magpsf", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub magpsf: Option<f64>,
    /// `i:sigmapsf`.
    #[serde(rename = "i:sigmapsf", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub sigmapsf: Option<f64>,
    /// `i:diffmaglim`, the 5-sigma limiting magnitude.
    #[serde(
        rename = "i:diffmaglim",
        default,
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub diffmaglim: Option<f64>,
    /// `i:ra` (degrees).
    #[serde(rename = "i:ra", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub ra: Option<f64>,
    /// `i:dec` (degrees).
    #[serde(rename = "i:dec", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub dec: Option<f64>,
    /// `d:tag`, with `withupperlim`: `valid`, `upperlim` or `badquality`.
    #[serde(rename = "d:tag", default, deserialize_with = "de::opt_string", skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `v:classification`, Fink's inferred class.
    #[serde(
        rename = "v:classification",
        default,
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub classification: Option<String>,
    /// `d:mag_rate`, magnitude rate (mag/day).
    #[serde(rename = "d:mag_rate", default, deserialize_with = "de::opt_f64", skip_serializing_if = "Option::is_none")]
    pub mag_rate: Option<f64>,
    /// Every other column, under its raw prefixed name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a ZTF row is in a light curve (`d:tag`, set by `withupperlim`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZtfRowKind {
    /// `valid` (or no tag: a request without `withupperlim` returns only valid alerts).
    Valid,
    /// `upperlim`: a non-detection with `i:diffmaglim`.
    UpperLimit,
    /// `badquality`: a measurement that failed the quality cuts.
    BadQuality,
}

impl ZtfAlert {
    /// The row's kind from `d:tag`; an unknown tag is `None`.
    pub fn kind(&self) -> Option<ZtfRowKind> {
        match self.tag.as_deref().map(str::trim) {
            None | Some("valid") => Some(ZtfRowKind::Valid),
            Some("upperlim") => Some(ZtfRowKind::UpperLimit),
            Some("badquality") => Some(ZtfRowKind::BadQuality),
            Some(_) => None,
        }
    }
    /// MJD of the observation (`i:jd - 2400000.5`).
    pub fn mjd(&self) -> Option<f64> {
        self.jd.map(|jd| jd - JD_MJD_OFFSET)
    }
    /// A column by its raw name (`"i:magpsf"`, `"d:rf_snia_vs_nonia"`), typed or not.
    pub fn get(&self, column: &str) -> Option<Value> {
        serde_json::to_value(self).ok()?.get(column).cloned()
    }
    /// This row as a unified point (rules in the crate docs, "Light curves"); `None` for a
    /// row without time, band or value, an unknown tag, or a bad-quality row unless asked.
    pub fn to_point(&self, include_bad_quality: bool) -> Option<PhotometryPoint> {
        let mjd = self.mjd().filter(|m| m.is_finite())?;
        let band = self.fid.and_then(Band::from_ztf_fid)?;
        let oid = self.object_id.as_deref().unwrap_or_default();
        // Alert packets: `magpsf` and `diffmaglim` are difference-image values.
        let p = match self.kind()? {
            ZtfRowKind::UpperLimit => PhotometryPoint::limit(BROKER, "ztf", oid, mjd, band, self.diffmaglim?),
            ZtfRowKind::BadQuality if !include_bad_quality => return None,
            ZtfRowKind::Valid | ZtfRowKind::BadQuality => {
                let mut p = PhotometryPoint::from_mag(BROKER, "ztf", oid, mjd, band, self.magpsf?, self.sigmapsf);
                p.limiting_mag = self.diffmaglim;
                p
            }
        };
        Some(p.with_origin(Origin::Alert).with_measurement(Measurement::Difference))
    }
}

/// Rows as a unified light curve ordered by MJD.
pub fn to_lightcurve(rows: &[ZtfAlert], include_bad_quality: bool) -> Lightcurve {
    let mut lc = Lightcurve::from_points(rows.iter().filter_map(|r| r.to_point(include_bad_quality)).collect());
    lc.sort_by_mjd();
    lc
}

/// The Fink/ZTF API. Get it with [`FinkClient::ztf`].
#[derive(Debug, Clone, Copy)]
pub struct Ztf<'a> {
    client: &'a FinkClient,
}

impl FinkClient {
    /// The Fink/ZTF routes.
    pub fn ztf(&self) -> Ztf<'_> {
        Ztf { client: self }
    }
}

impl<'a> Ztf<'a> {
    /// `POST api/v1/objects` for one or more ZTF object ids (sent comma-joined as
    /// `objectId`).
    pub fn objects<I, S>(&self, ids: I) -> ObjectsRequest
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ObjectsRequest {
            client: self.client.clone(),
            ids: crate::client::join_ids("objectId", ids),
            with_upper_limits: false,
            with_cutouts: false,
            cutout_kind: None,
            columns: Vec::new(),
        }
    }
    /// `POST api/v1/latests`: the latest alerts of a Fink class (see [`Ztf::classes`]).
    pub fn latests(&self, class: impl Into<String>) -> LatestsRequest {
        LatestsRequest {
            client: self.client.clone(),
            class: class.into(),
            trend: None,
            n: None,
            since_mjd: None,
            until_mjd: None,
            color: false,
            columns: Vec::new(),
        }
    }
    /// `GET api/v1/classes`: `{"Fink classifiers": [...], "Cross-match with TNS": [...],
    /// "Cross-match with SIMBAD (...)": [...]}` (`classes/api.py`).
    pub async fn classes(&self) -> Result<Map<String, Value>> {
        send_json(self.client.http(Survey::Ztf), get("classes")).await
    }
}

/// A request to `api/v1/objects` (ZTF). Built by [`Ztf::objects`].
#[derive(Debug, Clone)]
pub struct ObjectsRequest {
    client: FinkClient,
    ids: Result<String>,
    with_upper_limits: bool,
    with_cutouts: bool,
    cutout_kind: Option<String>,
    columns: Vec<Column>,
}

impl ObjectsRequest {
    /// `withupperlim`: add upper limits and bad-quality rows, told apart by `d:tag`.
    pub fn with_upper_limits(mut self, yes: bool) -> Self {
        self.with_upper_limits = yes;
        self
    }
    /// `withcutouts` (2-D arrays in `b:cutout*_stampData`), optionally one `cutout-kind`
    /// (`Science`, `Template`, `Difference`; all three when unset).
    pub fn with_cutouts(mut self, yes: bool, kind: Option<crate::common::CutoutKind>) -> Self {
        self.with_cutouts = yes;
        self.cutout_kind = kind.map(|k| k.as_str().to_string());
        self
    }
    /// `columns`: only these columns (all when empty).
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }
    fn payload(&self, format: OutputFormat) -> Result<Payload> {
        let ids = self.ids.clone()?;
        if self.cutout_kind.is_some() && !self.with_cutouts {
            return Err(Error::invalid("cutout-kind", "a cutout kind needs with_cutouts(true)"));
        }
        let mut p = Payload::new();
        p.set("objectId", ids);
        if self.with_upper_limits {
            p.set("withupperlim", true);
        }
        if self.with_cutouts {
            p.set("withcutouts", true);
        }
        p.opt("cutout-kind", self.cutout_kind.clone());
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }
    /// Sends the request and decodes the rows.
    pub async fn send(&self) -> Result<Vec<ZtfAlert>> {
        let p = self.payload(OutputFormat::Json)?;
        send_json(self.client.http(Survey::Ztf), post("objects", &p)).await
    }
    /// Sends the request for another output format and returns the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        let p = self.payload(format)?;
        Ok(self.client.http(Survey::Ztf).execute(post("objects", &p)).await?.body)
    }
    /// The rows as a unified light curve (ordered by MJD; bad-quality rows left out).
    pub async fn lightcurve(&self) -> Result<Lightcurve> {
        Ok(to_lightcurve(&self.send().await?, false))
    }
    /// `output-format=parquet` read into a DataFrame (feature `polars`).
    #[cfg(feature = "polars")]
    pub async fn dataframe(&self) -> Result<polars::prelude::DataFrame> {
        crate::frame::read_parquet(&self.raw(OutputFormat::Parquet).await?)
    }
}

/// The `trend` of `api/v1/latests` (`latests/utils.py`: `rising`, `fading`, `low_state`,
/// `new_low_state`; the last two only for the `(CTA) Blazar low state` class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// `d:mag_rate < 0`.
    Rising,
    /// `d:mag_rate > 0`.
    Fading,
    /// Blazar low state (no further filter on the server).
    LowState,
    /// Blazar newly in low state (`d:blazar_stats_m0 >= 1`, or
    /// `d:blazar_stats_instantness_low >= 1` on newer rows).
    NewLowState,
}

impl Trend {
    /// The value sent as `trend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Fading => "fading",
            Trend::LowState => "low_state",
            Trend::NewLowState => "new_low_state",
        }
    }
    /// The server's post-filter, applied by the client when it walks windows itself.
    fn keeps(self, row: &ZtfAlert) -> bool {
        let num = |k: &str| row.extra.get(k).and_then(de::value_f64);
        match self {
            Trend::Rising => row.mag_rate.is_some_and(|r| r < 0.0),
            Trend::Fading => row.mag_rate.is_some_and(|r| r > 0.0),
            Trend::LowState => true,
            Trend::NewLowState => {
                if row.extra.contains_key("d:blazar_stats_m0") {
                    num("d:blazar_stats_m0").is_some_and(|v| v >= 1.0)
                } else {
                    num("d:blazar_stats_instantness_low").is_some_and(|v| v >= 1.0)
                }
            }
        }
    }
}

impl std::str::FromStr for Trend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "rising" => Ok(Trend::Rising),
            "fading" => Ok(Trend::Fading),
            "low_state" => Ok(Trend::LowState),
            "new_low_state" => Ok(Trend::NewLowState),
            other => Err(Error::invalid(
                "trend",
                format!("{other:?} is not a trend: use rising, fading, low_state or new_low_state"),
            )),
        }
    }
}

/// The blazar class the blazar trends need (`latests/utils.py`).
pub const BLAZAR_LOW_STATE: &str = "(CTA) Blazar low state";
/// Classes whose rows the server groups by object after applying `n`
/// (`group_alerts = True` in `latests/utils.py`): a short answer does not mean the end.
pub const GROUPED_CLASSES: [&str; 3] = [BLAZAR_LOW_STATE, "(CTA) Blazar high state", "SLSN candidate"];
/// The server's default start of `latests` (`Time("2019-11-01 00:00:00")`), as MJD.
pub const LATESTS_DEFAULT_START_MJD: f64 = 58788.0;

/// A request to `api/v1/latests`. Built by [`Ztf::latests`].
#[derive(Debug, Clone)]
pub struct LatestsRequest {
    client: FinkClient,
    class: String,
    trend: Option<Trend>,
    n: Option<u64>,
    since_mjd: Option<f64>,
    until_mjd: Option<f64>,
    color: bool,
    columns: Vec<Column>,
}

impl LatestsRequest {
    /// `trend`.
    pub fn trend(mut self, t: Trend) -> Self {
        self.trend = Some(t);
        self
    }
    /// `n`: how many alerts (the server's default is 10 in `latests/utils.py`, although
    /// the route's docstring says 100).
    pub fn n(mut self, n: u64) -> Self {
        self.n = Some(n);
        self
    }
    /// `startdate`, sent as a UTC ISO date (the route reads it with astropy `Time(...)`,
    /// which takes ISO text only).
    pub fn since_mjd(mut self, mjd: f64) -> Self {
        self.since_mjd = Some(mjd);
        self
    }
    /// `stopdate`, sent as a UTC ISO date (default: now, on the server).
    pub fn until_mjd(mut self, mjd: f64) -> Self {
        self.until_mjd = Some(mjd);
        self
    }
    /// `color`: the server extracts colours when the key is present at all, so it is
    /// only sent when true.
    pub fn color(mut self, yes: bool) -> Self {
        self.color = yes;
        self
    }
    /// `columns`.
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }

    fn validate(&self) -> Result<()> {
        if self.class.trim().is_empty() {
            return Err(Error::invalid("class", "give a Fink class (see `api/v1/classes`)"));
        }
        if matches!(self.trend, Some(Trend::LowState | Trend::NewLowState)) && self.class != BLAZAR_LOW_STATE {
            return Err(Error::invalid(
                "trend",
                format!(
                    "low_state and new_low_state apply only to the class {BLAZAR_LOW_STATE:?}; use rising or fading"
                ),
            ));
        }
        if self.n == Some(0) {
            return Err(Error::invalid("n", "ask for at least one alert"));
        }
        for (f, v) in [("startdate", self.since_mjd), ("stopdate", self.until_mjd)] {
            if v.is_some_and(|m| !m.is_finite()) {
                return Err(Error::invalid(f, "the MJD must be a finite number"));
            }
        }
        Ok(())
    }

    fn payload(&self, format: OutputFormat, trend: Option<Trend>, window: Option<(f64, f64, u64)>) -> Result<Payload> {
        let mut p = Payload::new();
        p.set("class", self.class.clone());
        p.opt("trend", trend.map(Trend::as_str));
        let (since, until, n) = match window {
            Some((a, b, n)) => (Some(a), Some(b), Some(n)),
            None => (self.since_mjd, self.until_mjd, self.n),
        };
        p.opt("n", n);
        p.opt("startdate", since.map(|m| iso_window_bound(m, false)).transpose()?);
        p.opt("stopdate", until.map(|m| iso_window_bound(m, true)).transpose()?);
        if self.color {
            p.set("color", true);
        }
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }

    /// One request: at most `n` newest alerts in the window.
    pub async fn send(&self) -> Result<Vec<ZtfAlert>> {
        self.validate()?;
        let p = self.payload(OutputFormat::Json, self.trend, None)?;
        send_json(self.client.http(Survey::Ztf), post("latests", &p)).await
    }
    /// One request in another output format; the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        self.validate()?;
        let p = self.payload(format, self.trend, None)?;
        Ok(self.client.http(Survey::Ztf).execute(post("latests", &p)).await?.body)
    }

    /// Every alert of the class in `[since, until]` (default: the server's 2019-11-01
    /// start to `until_mjd`, which a stream needs), newest first, `per_request` at a time
    /// (`n`, default 1000) with the core's time-window walk: each next window ends at the
    /// oldest `i:jd` seen, repeats are dropped by `i:candid`.
    ///
    /// The server applies `trend` after `n`, so a filtered answer is short without being
    /// the last: with a trend the stream asks without it and applies the same rule
    /// (`d:mag_rate` sign, blazar statistics) itself. For classes the server groups by
    /// object ([`GROUPED_CLASSES`]) a short answer does not end the walk either.
    pub fn stream(&self) -> ItemStream<ZtfAlert> {
        if let Err(e) = self.validate() {
            return ItemStream::failed(e);
        }
        let Some(until) = self.until_mjd else {
            return ItemStream::failed(Error::invalid(
                "stopdate",
                "a latests stream needs an end (until_mjd): the walk moves back from it",
            ));
        };
        let since = self.since_mjd.unwrap_or(LATESTS_DEFAULT_START_MJD);
        let per = self.n.unwrap_or(1000);
        let mut me = self.clone();
        if !me.columns.is_empty() {
            for c in ["jd", "candid"] {
                if !me.columns.iter().any(|x| *x == Column::i(c)) {
                    me.columns.push(Column::i(c));
                }
            }
            if me.trend.is_some() {
                for c in ["d:mag_rate", "d:blazar_stats_m0", "d:blazar_stats_instantness_low"] {
                    if let Ok(col) = Column::parse(c) {
                        if !me.columns.contains(&col) {
                            me.columns.push(col);
                        }
                    }
                }
            }
        }
        let trend = me.trend;
        let grouped = GROUPED_CLASSES.contains(&me.class.as_str());
        let key = |r: &ZtfAlert| Some((r.mjd()?, format!("{}:{}", r.object_id.as_deref().unwrap_or(""), r.candid?)));
        let walk = TimeWindowPaginator::new(since, until, per, key, move |w| {
            let me = me.clone();
            async move {
                let p = me.payload(OutputFormat::Json, None, Some((w.start, w.stop, w.limit)))?;
                send_json::<Vec<ZtfAlert>>(me.client.http(Survey::Ztf), post("latests", &p)).await
            }
        })
        .short_page_ends(!grouped);
        let s = walk.into_stream();
        match trend {
            None => s,
            Some(t) => ItemStream::from_stream(
                s.filter(move |r| futures::future::ready(r.as_ref().map_or(true, |row| t.keeps(row)))),
                None,
            ),
        }
    }
}
