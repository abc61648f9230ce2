//! `api/get/search`: by name, internal name, position, objid or `public_timestamp`.
//!
//! The `data` document has the keys of the TNS sample code and SkyPortal's client: `ra`,
//! `dec`, `radius`, `units`, `objname`, `objname_exact_match`, `internal_name`,
//! `internal_name_exact_match`, `objid`, `public_timestamp`. Only the keys set are sent
//! (SkyPortal sends only `objname` to `get/object`; Blast sends only `public_timestamp` to
//! search). A hit has `objname`, `prefix` and `objid`, no coordinates.

use broker_core::SkyPosition;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::client::{CONE_QUOTA, TnsClient};
use crate::de::opt_u64_lenient;
use crate::error::{Error, Result};
use crate::names::TnsName;

/// The search path.
pub const SEARCH_PATH: &str = "api/get/search";

/// The unit of a cone radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RadiusUnit {
    /// `arcsec`.
    Arcsec,
    /// `arcmin`.
    Arcmin,
    /// `deg`.
    Deg,
}

impl RadiusUnit {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            RadiusUnit::Arcsec => "arcsec",
            RadiusUnit::Arcmin => "arcmin",
            RadiusUnit::Deg => "deg",
        }
    }
    /// Parses `arcsec`, `arcmin` or `deg`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "arcsec" | "\"" => Ok(RadiusUnit::Arcsec),
            "arcmin" | "'" => Ok(RadiusUnit::Arcmin),
            "deg" | "degree" | "degrees" => Ok(RadiusUnit::Deg),
            _ => Err(Error::invalid("units", format!("{s:?} is not a radius unit: use arcsec, arcmin or deg"))),
        }
    }
    fn in_arcsec(self, r: f64) -> f64 {
        match self {
            RadiusUnit::Arcsec => r,
            RadiusUnit::Arcmin => r * 60.0,
            RadiusUnit::Deg => r * 3600.0,
        }
    }
}

/// The `data` document of a search (only the keys set are serialised).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SearchQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    ra: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    radius: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    units: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objname_exact_match: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    internal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    internal_name_exact_match: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_timestamp: Option<String>,
    #[serde(skip)]
    error: Option<String>,
}

/// The largest cone radius accepted, in arcseconds (the TNS front end's limit is not
/// documented; a degree keeps cone searches reasonable).
pub const MAX_RADIUS_ARCSEC: f64 = 3600.0;

impl SearchQuery {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }
    /// By TNS name (prefix dropped, e.g. `2023ixf`); `exact` sets `objname_exact_match`.
    pub fn objname(mut self, name: &TnsName, exact: bool) -> Self {
        self.objname = Some(name.objname());
        self.objname_exact_match = Some(u8::from(exact));
        self
    }
    /// By a partial TNS name (e.g. `2023ix`), not exact.
    pub fn objname_like(mut self, partial: &str) -> Self {
        self.objname = Some(partial.trim().to_string());
        self.objname_exact_match = Some(0);
        self
    }
    /// By survey-internal name (`ZTF23aaklqou`); `exact` sets `internal_name_exact_match`.
    pub fn internal_name(mut self, name: &str, exact: bool) -> Self {
        let n = name.trim();
        if n.is_empty() {
            self.error = Some("the internal name must not be empty".into());
        }
        self.internal_name = Some(n.to_string());
        self.internal_name_exact_match = Some(u8::from(exact));
        self
    }
    /// A cone: RA/Dec sent sexagesimal (`hh:mm:ss.sss`, `+dd:mm:ss.ss`; SkyPortal caps the
    /// precision because TNS fails on long decimals), `radius` in `units`.
    pub fn cone(mut self, position: SkyPosition, radius: f64, units: RadiusUnit) -> Self {
        if !(radius.is_finite() && radius > 0.0 && units.in_arcsec(radius) <= MAX_RADIUS_ARCSEC) {
            self.error = Some(format!(
                "{radius} {} is not a valid radius: use a positive number up to {MAX_RADIUS_ARCSEC} arcsec (1 deg)",
                units.as_str()
            ));
        }
        self.ra = Some(position.ra_sexagesimal());
        self.dec = Some(position.dec_sexagesimal());
        self.radius = Some(format_number(radius));
        self.units = Some(units.as_str());
        self
    }
    /// By TNS object id.
    pub fn objid(mut self, objid: u64) -> Self {
        self.objid = Some(objid.to_string());
        self
    }
    /// Objects made public (or changed) since this time (UTC), sent as
    /// `YYYY-MM-DDTHH:MM:SS` (Python's `isoformat()`, as Blast sends it).
    pub fn public_since(mut self, t: DateTime<Utc>) -> Self {
        self.public_timestamp = Some(format_timestamp(t.naive_utc()));
        self
    }
    /// Whether this is a cone search (it then draws from the cone quota too).
    pub fn is_cone(&self) -> bool {
        self.ra.is_some()
    }
    fn check(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(Error::invalid("search", e.clone()));
        }
        if *self == SearchQuery::default() {
            return Err(Error::invalid(
                "search",
                "a search needs a name, internal name, position, objid or public timestamp",
            ));
        }
        Ok(())
    }
}

fn format_number(x: f64) -> String {
    format!("{x}")
}

/// A UTC time (for [`SearchQuery::public_since`]).
pub type Timestamp = DateTime<Utc>;

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD HH:MM[:SS]` (UTC, a trailing
/// `Z` allowed).
pub fn parse_timestamp(s: &str) -> Result<Timestamp> {
    let t = s.trim().trim_end_matches('Z').replace('T', " ");
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&t, f) {
            return Ok(d.and_utc());
        }
    }
    if let Some(d) = chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)) {
        return Ok(d.and_utc());
    }
    Err(Error::invalid("public_timestamp", format!("{s:?} is not a time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)")))
}

pub(crate) fn format_timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SearchHit {
    /// The name without prefix (`2023ixf`).
    pub objname: String,
    /// `AT`, `SN`, ...
    #[serde(default)]
    pub prefix: Option<String>,
    /// The TNS object id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub objid: Option<u64>,
    /// Fields the server adds.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SearchHit {
    /// The name as a [`TnsName`] with its prefix.
    pub fn name(&self) -> Result<TnsName> {
        Ok(TnsName::parse(&self.objname)?.with_prefix(self.prefix.as_deref()))
    }
}

impl TnsClient {
    /// Runs a search; returns every hit (TNS does not page search results).
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        query.check()?;
        let mut req = self.api_request(SEARCH_PATH, query).retry_safety(broker_core::RetrySafety::Safe);
        if query.is_cone() {
            req = req.server_quota(CONE_QUOTA);
        }
        let data = self.call(req).await?;
        decode_hits(data)
    }

    /// Searches by TNS name (`objname`, exact match).
    pub async fn search_name(&self, name: &str) -> Result<Vec<SearchHit>> {
        let name = TnsName::parse(name)?;
        self.search(&SearchQuery::new().objname(&name, true)).await
    }

    /// Searches by survey-internal name, exact match (`ZTF23aaklqou`).
    pub async fn search_internal_name(&self, name: &str) -> Result<Vec<SearchHit>> {
        self.search(&SearchQuery::new().internal_name(name, true)).await
    }

    /// A cone search.
    pub async fn cone_search(&self, position: SkyPosition, radius: f64, units: RadiusUnit) -> Result<Vec<SearchHit>> {
        self.search(&SearchQuery::new().cone(position, radius, units)).await
    }
}

fn decode_hits(data: serde_json::Value) -> Result<Vec<SearchHit>> {
    match data {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Object(o) if o.is_empty() => Ok(Vec::new()),
        v => serde_json::from_value(v).map_err(|e| Error::Format { what: "search reply", message: e.to_string() }),
    }
}
