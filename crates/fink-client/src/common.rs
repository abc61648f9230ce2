//! Routes both surveys have, behind the [`Survey`] switch: `conesearch`, `cutouts`, `sso`,
//! `resolver`, `schema`, and the unified light curve.
//!
//! Parameter names differ per survey where the servers differ (fink-object-api
//! `apps/routes/v1/{ztf,lsst}/*/api.py`): cutouts take `objectId` + `candid` (ZTF) or
//! `diaSourceId` (LSST); the resolver takes `name` (ZTF) or `name_or_id` (LSST); the ZTF
//! schema is a `GET` without arguments, the LSST one a `POST` with `endpoint`.

use broker_core::astro::validate_radius_arcsec;
use broker_core::{Error, Lightcurve, Result, SkyPosition};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::client::{FinkClient, OutputFormat, Payload, Survey, get, post, send_json};
use crate::columns::{Column, columns_value};
use crate::lsst::LsstSource;
use crate::ztf::ZtfAlert;

/// The largest cone radius the servers accept: 18,000 arcsec (5 degrees), checked in
/// `conesearch/utils.py` of both surveys.
pub const MAX_CONE_RADIUS_ARCSEC: f64 = 18_000.0;

/// Rows of either survey.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// ZTF alert rows.
    Ztf(Vec<ZtfAlert>),
    /// Rubin source rows.
    Lsst(Vec<LsstSource>),
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Ztf(v) => v.len(),
            Rows::Lsst(v) => v.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The rows as JSON objects under their raw column names.
    pub fn to_json(&self) -> Vec<Value> {
        match self {
            Rows::Ztf(v) => v.iter().filter_map(|r| serde_json::to_value(r).ok()).collect(),
            Rows::Lsst(v) => v.iter().filter_map(|r| serde_json::to_value(r).ok()).collect(),
        }
    }
    /// The rows as a unified light curve (ZTF upper limits included; bad quality not).
    pub fn to_lightcurve(&self) -> Lightcurve {
        match self {
            Rows::Ztf(v) => crate::ztf::to_lightcurve(v, false),
            Rows::Lsst(v) => crate::lsst::to_lightcurve(v),
        }
    }
}

/// A hit of a cone search, in either survey.
#[derive(Debug, Clone, PartialEq)]
pub struct ConeHit {
    /// The object id (`i:objectId`, or `r:diaObjectId` as decimal text).
    pub object_id: String,
    /// Right ascension (degrees).
    pub ra: Option<f64>,
    /// Declination (degrees).
    pub dec: Option<f64>,
    /// `v:separation_degree` in arcsec, when the server sent it.
    pub separation_arcsec: Option<f64>,
}

impl Rows {
    /// One [`ConeHit`] per row with an id.
    pub fn hits(&self) -> Vec<ConeHit> {
        let sep =
            |m: &Map<String, Value>| m.get("v:separation_degree").and_then(crate::de::value_f64).map(|d| d * 3600.0);
        match self {
            Rows::Ztf(v) => v
                .iter()
                .filter_map(|r| {
                    Some(ConeHit {
                        object_id: r.object_id.clone()?,
                        ra: r.ra,
                        dec: r.dec,
                        separation_arcsec: sep(&r.extra),
                    })
                })
                .collect(),
            Rows::Lsst(v) => v
                .iter()
                .filter_map(|r| {
                    Some(ConeHit {
                        object_id: r.dia_object_id?.to_string(),
                        ra: r.ra,
                        dec: r.dec,
                        separation_arcsec: sep(&r.extra),
                    })
                })
                .collect(),
        }
    }
}

async fn rows(client: &FinkClient, survey: Survey, route: &str, p: &Payload) -> Result<Rows> {
    let http = client.http(survey);
    Ok(match survey {
        Survey::Ztf => Rows::Ztf(send_json(http, post(route, p)).await?),
        Survey::Lsst => Rows::Lsst(send_json(http, post(route, p)).await?),
    })
}

impl FinkClient {
    /// `POST api/v1/conesearch`: alerts within `radius_arcsec` (at most
    /// [`MAX_CONE_RADIUS_ARCSEC`]) of a position.
    pub fn conesearch(&self, survey: Survey, position: SkyPosition, radius_arcsec: f64) -> ConeSearch {
        ConeSearch {
            client: self.clone(),
            survey,
            position,
            radius: radius_arcsec,
            n: None,
            startdate: None,
            stopdate: None,
            window: None,
            kind: None,
            columns: Vec::new(),
        }
    }
    /// `POST api/v1/cutouts`.
    pub fn cutout(&self, survey: Survey, id: impl Into<String>, kind: CutoutKind) -> CutoutRequest {
        CutoutRequest {
            client: self.clone(),
            survey,
            id: id.into(),
            candid: None,
            kind,
            format: CutoutFormat::Png,
            stretch: None,
            colormap: None,
        }
    }
    /// `POST api/v1/sso`: a Solar System object by number or designation (`n_or_d`).
    pub fn sso(&self, survey: Survey, number_or_designation: impl Into<String>) -> SsoRequest {
        SsoRequest {
            client: self.clone(),
            survey,
            n_or_d: number_or_designation.into(),
            with_ephem: false,
            with_residuals: false,
            columns: Vec::new(),
        }
    }
    /// `POST api/v1/resolver`: names across `simbad`, `ssodnet` or `tns`.
    pub fn resolver(&self, survey: Survey, resolver: Resolver, name: impl Into<String>) -> ResolverRequest {
        ResolverRequest { client: self.clone(), survey, resolver, name: name.into(), reverse: false, nmax: None }
    }
    /// The data schema. ZTF: `GET api/v1/schema` (all families); LSST: `POST api/v1/schema`
    /// with `{"endpoint": ...}` (e.g. `/api/v1/sources`), which the LSST route requires.
    pub async fn schema(&self, survey: Survey, endpoint: Option<&str>) -> Result<Value> {
        match survey {
            Survey::Ztf => send_json(self.http(survey), get("schema")).await,
            Survey::Lsst => {
                let Some(ep) = endpoint.map(str::trim).filter(|e| !e.is_empty()) else {
                    return Err(Error::invalid(
                        "endpoint",
                        "the LSST schema route needs an endpoint, e.g. /api/v1/sources",
                    ));
                };
                let mut p = Payload::new();
                p.set("endpoint", ep);
                send_json(self.http(survey), post("schema", &p)).await
            }
        }
    }
    /// The unified light curve of one object. ZTF: `objects` with `withupperlim` (valid
    /// alerts are detections from `i:magpsf`, `upperlim` rows limits at `i:diffmaglim`,
    /// `badquality` rows left out). LSST: `sources` (`psfFlux` in nJy; see
    /// [`LsstSource::to_point`]). The id is a ZTF name or a decimal `diaObjectId`.
    pub async fn lightcurve(&self, survey: Survey, id: &str) -> Result<Lightcurve> {
        match survey {
            Survey::Ztf => self.ztf().objects([id]).with_upper_limits(true).lightcurve().await,
            Survey::Lsst => {
                let oid: i64 = id.trim().parse().map_err(|_| {
                    Error::invalid("diaObjectId", format!("{id:?} is not a diaObjectId: give the 64-bit integer"))
                })?;
                self.lsst().sources(&[oid]).lightcurve().await
            }
        }
    }
}

/// A request to `api/v1/conesearch`.
#[derive(Debug, Clone)]
pub struct ConeSearch {
    client: FinkClient,
    survey: Survey,
    position: SkyPosition,
    radius: f64,
    n: Option<u64>,
    startdate: Option<String>,
    stopdate: Option<String>,
    window: Option<f64>,
    kind: Option<String>,
    columns: Vec<Column>,
}

impl ConeSearch {
    /// `n`: the most alerts to return (server default 1000). Fink has no paging here: the
    /// server scans HEALPix pixels with `n` as its limit, in no time order, so a cone is one
    /// request (raise `n`, or split the time range with `startdate`/`stopdate`).
    pub fn n(mut self, n: u64) -> Self {
        self.n = Some(n);
        self
    }
    /// `startdate` (UTC: ISO, JD or MJD text; it selects by first detection).
    pub fn startdate(mut self, d: impl Into<String>) -> Self {
        self.startdate = Some(d.into());
        self
    }
    /// `stopdate`.
    pub fn stopdate(mut self, d: impl Into<String>) -> Self {
        self.stopdate = Some(d.into());
        self
    }
    /// `window`, in days after `startdate` (instead of `stopdate`).
    pub fn window_days(mut self, days: f64) -> Self {
        self.window = Some(days);
        self
    }
    /// `kind` (LSST only: `within` or `across`, declared by the LSST route).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
    /// `columns`.
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }
    fn payload(&self, format: OutputFormat) -> Result<Payload> {
        let radius = validate_radius_arcsec(self.radius, MAX_CONE_RADIUS_ARCSEC)?;
        if self.n == Some(0) {
            return Err(Error::invalid("n", "ask for at least one alert"));
        }
        if let Some(w) = self.window {
            if !(w.is_finite() && w > 0.0) {
                return Err(Error::invalid("window", "give a positive number of days"));
            }
            if self.startdate.is_none() {
                return Err(Error::invalid("window", "a window counts from startdate: set startdate too"));
            }
        }
        if self.kind.is_some() && self.survey == Survey::Ztf {
            return Err(Error::invalid("kind", "only the LSST cone search takes kind"));
        }
        // lsst/conesearch/utils.py answers 400 when dates are given with columns that lack
        // f:firstDiaSourceMjdTaiFink: say so before sending.
        let dated = self.startdate.is_some() || self.stopdate.is_some();
        if self.survey == Survey::Lsst
            && dated
            && !self.columns.is_empty()
            && !self.columns.contains(&Column::f("firstDiaSourceMjdTaiFink"))
        {
            return Err(Error::invalid(
                "columns",
                "an LSST cone search with dates needs f:firstDiaSourceMjdTaiFink among the columns",
            ));
        }
        let mut p = Payload::new();
        p.set("ra", self.position.ra());
        p.set("dec", self.position.dec());
        p.set("radius", radius);
        p.opt("n", self.n);
        p.opt("startdate", self.startdate.clone());
        p.opt("stopdate", self.stopdate.clone());
        p.opt("window", self.window);
        p.opt("kind", self.kind.clone());
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }
    /// Sends the search and decodes the rows.
    pub async fn send(&self) -> Result<Rows> {
        let p = self.payload(OutputFormat::Json)?;
        rows(&self.client, self.survey, "conesearch", &p).await
    }
    /// The search in another output format; the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        let p = self.payload(format)?;
        Ok(self.client.http(self.survey).execute(post("conesearch", &p)).await?.body)
    }
}

/// Which cutout (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoutKind {
    /// `Science`.
    Science,
    /// `Template`.
    Template,
    /// `Difference`.
    Difference,
}

impl CutoutKind {
    /// The value sent.
    pub fn as_str(self) -> &'static str {
        match self {
            CutoutKind::Science => "Science",
            CutoutKind::Template => "Template",
            CutoutKind::Difference => "Difference",
        }
    }
}

impl std::str::FromStr for CutoutKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "science" => Ok(CutoutKind::Science),
            "template" => Ok(CutoutKind::Template),
            "difference" => Ok(CutoutKind::Difference),
            other => Err(Error::invalid(
                "kind",
                format!("{other:?} is not a cutout kind: use science, template or difference"),
            )),
        }
    }
}

/// The cutout `output-format`: `PNG` (the default) or `FITS` (`cutouts/utils.py`; `array`
/// is left to the JSON routes' `withcutouts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoutFormat {
    /// `PNG`: a rendered image (`image/png`).
    Png,
    /// `FITS`: the original FITS file (`application/octet-stream`).
    Fits,
}

impl CutoutFormat {
    /// The value sent.
    pub fn as_str(self) -> &'static str {
        match self {
            CutoutFormat::Png => "PNG",
            CutoutFormat::Fits => "FITS",
        }
    }
}

/// A request to `api/v1/cutouts`.
#[derive(Debug, Clone)]
pub struct CutoutRequest {
    client: FinkClient,
    survey: Survey,
    id: String,
    candid: Option<i64>,
    kind: CutoutKind,
    format: CutoutFormat,
    stretch: Option<String>,
    colormap: Option<String>,
}

impl CutoutRequest {
    /// `candid` (ZTF): the alert; the latest alert's cutout when unset.
    pub fn candid(mut self, candid: i64) -> Self {
        self.candid = Some(candid);
        self
    }
    /// `output-format`: PNG or FITS.
    pub fn format(mut self, f: CutoutFormat) -> Self {
        self.format = f;
        self
    }
    /// `stretch` (PNG): sigmoid, linear, sqrt, power or log.
    pub fn stretch(mut self, s: impl Into<String>) -> Self {
        self.stretch = Some(s.into());
        self
    }
    /// `colormap` (PNG): a matplotlib colormap name.
    pub fn colormap(mut self, c: impl Into<String>) -> Self {
        self.colormap = Some(c.into());
        self
    }
    /// Fetches the image bytes (PNG or FITS, as asked).
    pub async fn send(&self) -> Result<Bytes> {
        let id = self.id.trim();
        if id.is_empty() {
            return Err(Error::invalid("id", "give an object id (ZTF) or a diaSourceId (LSST)"));
        }
        let mut p = Payload::new();
        match self.survey {
            Survey::Ztf => {
                p.set("objectId", id);
                p.opt("candid", self.candid.map(|c| c.to_string()));
            }
            Survey::Lsst => {
                if self.candid.is_some() {
                    return Err(Error::invalid("candid", "LSST cutouts are chosen by diaSourceId alone"));
                }
                if id.parse::<i64>().is_err() {
                    return Err(Error::invalid(
                        "diaSourceId",
                        format!("{id:?} is not a diaSourceId: give the 64-bit integer"),
                    ));
                }
                p.set("diaSourceId", id);
            }
        }
        p.set("kind", self.kind.as_str());
        p.set("output-format", self.format.as_str());
        p.opt("stretch", self.stretch.clone());
        p.opt("colormap", self.colormap.clone());
        Ok(self.client.http(self.survey).execute(post("cutouts", &p)).await?.body)
    }
}

/// A request to `api/v1/sso`.
#[derive(Debug, Clone)]
pub struct SsoRequest {
    client: FinkClient,
    survey: Survey,
    n_or_d: String,
    with_ephem: bool,
    with_residuals: bool,
    columns: Vec<Column>,
}

impl SsoRequest {
    /// `withEphem`: Miriade ephemerides as extra columns.
    pub fn with_ephem(mut self, yes: bool) -> Self {
        self.with_ephem = yes;
        self
    }
    /// `withResiduals`: sHG1G2 residuals (one object only).
    pub fn with_residuals(mut self, yes: bool) -> Self {
        self.with_residuals = yes;
        self
    }
    /// `columns`.
    pub fn columns(mut self, cols: impl IntoIterator<Item = Column>) -> Self {
        self.columns = cols.into_iter().collect();
        self
    }
    fn payload(&self, format: OutputFormat) -> Result<Payload> {
        let n = self.n_or_d.trim();
        if n.is_empty() {
            return Err(Error::invalid("n_or_d", "give an IAU number or designation (e.g. 8467, 2010JO69)"));
        }
        if self.with_residuals && n.contains(',') {
            return Err(Error::invalid("withResiduals", "residuals need a single object"));
        }
        let mut p = Payload::new();
        p.set("n_or_d", n);
        if self.with_ephem {
            p.set("withEphem", true);
        }
        if self.with_residuals {
            p.set("withResiduals", true);
        }
        p.opt("columns", columns_value(&self.columns));
        p.set("output-format", format.as_str());
        Ok(p)
    }
    /// Sends the request and decodes the rows.
    pub async fn send(&self) -> Result<Rows> {
        let p = self.payload(OutputFormat::Json)?;
        rows(&self.client, self.survey, "sso", &p).await
    }
    /// The request in another output format; the body as sent.
    pub async fn raw(&self, format: OutputFormat) -> Result<Bytes> {
        let p = self.payload(format)?;
        Ok(self.client.http(self.survey).execute(post("sso", &p)).await?.body)
    }
}

/// The resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// `simbad`.
    Simbad,
    /// `ssodnet`.
    Ssodnet,
    /// `tns`.
    Tns,
}

impl Resolver {
    /// The value sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolver::Simbad => "simbad",
            Resolver::Ssodnet => "ssodnet",
            Resolver::Tns => "tns",
        }
    }
}

impl std::str::FromStr for Resolver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "simbad" => Ok(Resolver::Simbad),
            "ssodnet" => Ok(Resolver::Ssodnet),
            "tns" => Ok(Resolver::Tns),
            other => {
                Err(Error::invalid("resolver", format!("{other:?} is not a resolver: use simbad, ssodnet or tns")))
            }
        }
    }
}

/// A request to `api/v1/resolver`.
#[derive(Debug, Clone)]
pub struct ResolverRequest {
    client: FinkClient,
    survey: Survey,
    resolver: Resolver,
    name: String,
    reverse: bool,
    nmax: Option<u64>,
}

impl ResolverRequest {
    /// `reverse`: resolve a Fink id (ZTF name or `diaObjectId`) to external names. Sent as
    /// a JSON boolean: `resolver/utils.py` tests `payload["reverse"] is True`, so the text
    /// `"True"` would be ignored.
    pub fn reverse(mut self, yes: bool) -> Self {
        self.reverse = yes;
        self
    }
    /// `nmax`: the most matches (server default 10).
    pub fn nmax(mut self, n: u64) -> Self {
        self.nmax = Some(n);
        self
    }
    /// Sends the request; the rows' columns depend on the resolver, so they stay JSON.
    pub async fn send(&self) -> Result<Vec<Map<String, Value>>> {
        let mut p = Payload::new();
        p.set("resolver", self.resolver.as_str());
        let key = match self.survey {
            Survey::Ztf => "name",
            Survey::Lsst => "name_or_id",
        };
        p.set(key, self.name.trim());
        if self.reverse {
            p.set("reverse", true);
        }
        p.opt("nmax", self.nmax);
        p.set("output-format", "json");
        send_json(self.client.http(self.survey), post("resolver", &p)).await
    }
}
