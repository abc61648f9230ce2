//! catsHTM cone searches and crossmatches (`https://catshtm.alerce.online`).
//!
//! | method | request |
//! |---|---|
//! | [`CatsHtm::conesearch`] | `GET conesearch?catalog=<id>&ra&dec&radius` |
//! | [`CatsHtm::conesearch_all`] | `GET conesearch_all?catalog=all&ra&dec&radius` |
//! | [`CatsHtm::crossmatch`] | `GET crossmatch?catalog=<id>&ra&dec&radius` |
//! | [`CatsHtm::crossmatch_all`] | `GET crossmatch_all?catalog=all&ra&dec&radius` |
//! | [`CatsHtm::crossmatch_default_radius`], [`CatsHtm::crossmatch_all_default_radius`] | the same without `radius` (per-catalog default on the server) |
//! | [`CatsHtm::redshift`] | `crossmatch_all`, then the first `z`, else `zphot` / `z_phot` |
//!
//! Catalog names go through the Python client's aliases (`GAIA/DR1` → `GAIADR1`,
//! `2MASS` → `TMASS`, ...). Both response formats are read: the legacy
//! `{catalog: {column: {units, values}}}` shapes and the newer
//! `[{attribute_name, unit, value(s)}]` ones. Values may be null or the strings
//! `"infinity"` / `"null"`; they become [`CatsValue`]s. Every result is a
//! [`CatalogTable`]: named columns with units and one value per row (a crossmatch
//! gives a one-row table).

use broker_core::Request;
use broker_core::astro::{SkyPosition, validate_radius_arcsec};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{AlerceClient, get_json};
use crate::de::{parse_float_text, py_float, py_percent_f};
use crate::error::{Error, Result};

/// The largest radius accepted, in arcseconds (1 degree).
pub const MAX_CATSHTM_RADIUS_ARCSEC: f64 = 3600.0;

/// The Python client's catalog aliases: (name users write, catsHTM id).
pub const CATALOG_ALIASES: [(&str, &str); 5] = [
    ("2MASS", "TMASS"),
    ("2MASSxsc", "TMASSxsc"),
    ("GAIA/DR1", "GAIADR1"),
    ("GAIA/DR2", "GAIADR2"),
    ("SDSS/DR10", "SDSSDR10"),
];

/// The catalogs the catsHTM service's README lists (the server's `CATALOGS` setting;
/// there is no catalog-list endpoint). Other names are passed through.
pub const KNOWN_CATALOGS: [&str; 33] = [
    "AAVSO_VSX",
    "AKARI",
    "APASS",
    "CRTS_per_var",
    "Cosmos",
    "DECaLS",
    "FIRST",
    "GAIADR1",
    "GAIADR2",
    "GALEX",
    "HSCv2",
    "IPHAS",
    "IRACgc",
    "NEDz",
    "NVSS",
    "PTFpc",
    "ROSATfsc",
    "SAGE",
    "SDSSDR10",
    "SDSSoffset",
    "SWIREz",
    "SkyMapper",
    "SpecSDSS",
    "TMASS",
    "TMASSxsc",
    "UCAC4",
    "UKIDSS",
    "VISTAviking",
    "VSTatlas",
    "VSTkids",
    "WISE",
    "XMM",
    "unWISE",
];

/// The catsHTM id of a catalog name (aliases resolved; other names trimmed and kept).
pub fn catalog_id(name: &str) -> String {
    let t = name.trim();
    CATALOG_ALIASES.iter().find(|(a, _)| *a == t).map(|(_, id)| id.to_string()).unwrap_or_else(|| t.to_string())
}

/// A catsHTM value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CatsValue {
    /// No value (`null`, `"null"`, NaN).
    Null,
    /// A number (`"infinity"` is `f64::INFINITY`).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// Text (ids, names).
    Text(String),
}

impl CatsValue {
    fn from_json(v: &Value) -> CatsValue {
        match v {
            Value::Null => CatsValue::Null,
            Value::Bool(b) => CatsValue::Bool(*b),
            Value::Number(n) => n.as_f64().filter(|f| !f.is_nan()).map(CatsValue::Number).unwrap_or(CatsValue::Null),
            Value::String(s) => {
                let l = s.trim().to_ascii_lowercase();
                if matches!(l.as_str(), "null" | "none" | "nan" | "") {
                    CatsValue::Null
                } else if matches!(l.as_str(), "infinity" | "inf" | "-infinity" | "-inf" | "+infinity") {
                    parse_float_text(&l).map(CatsValue::Number).unwrap_or(CatsValue::Null)
                } else {
                    CatsValue::Text(s.clone())
                }
            }
            other => CatsValue::Text(other.to_string()),
        }
    }
    /// The value as a number (numbers, and numeric text).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            CatsValue::Number(f) => Some(*f),
            CatsValue::Text(s) => parse_float_text(s),
            _ => None,
        }
    }
}

/// One column of a catalog table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatsColumn {
    /// The column name (`RA`, `Dec`, `MagG`, `z`, `distance`).
    pub name: String,
    /// Its unit (`deg`, `mag`, `arcsec`; may be blank).
    pub unit: Option<String>,
    /// One value per row.
    pub values: Vec<CatsValue>,
}

/// The rows found in one catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogTable {
    /// The catalog name as the server gave it (or the id that was asked for).
    pub catalog: String,
    /// The columns, in the server's order.
    pub columns: Vec<CatsColumn>,
}

impl CatalogTable {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.columns.iter().map(|c| c.values.len()).max().unwrap_or(0)
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A column by name (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&CatsColumn> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
    /// The first numeric value of a column.
    pub fn first_f64(&self, name: &str) -> Option<f64> {
        self.column(name)?.values.iter().find_map(CatsValue::as_f64)
    }
}

/// A redshift found by [`CatsHtm::redshift`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redshift {
    /// The redshift.
    pub z: f64,
    /// The catalog it came from.
    pub catalog: String,
    /// The column it came from (`z`, `zphot` or `z_phot`).
    pub column: String,
}

/// Columns from one of: `{col: {units, values}}`, `{col: {unit, value}}`,
/// `[{attribute_name, unit, values}]`, `[{attribute_name, unit, value}]`.
fn parse_columns(v: &Value) -> Option<Vec<CatsColumn>> {
    let col_of = |name: String, spec: &serde_json::Map<String, Value>| -> CatsColumn {
        let unit = spec.get("units").or_else(|| spec.get("unit")).and_then(Value::as_str).map(str::to_string);
        let values = match spec.get("values").or_else(|| spec.get("value")) {
            Some(Value::Array(items)) => items.iter().map(CatsValue::from_json).collect(),
            Some(single) => vec![CatsValue::from_json(single)],
            None => Vec::new(),
        };
        CatsColumn { name, unit, values }
    };
    let is_spec = |m: &serde_json::Map<String, Value>| {
        m.contains_key("values") || m.contains_key("value") || m.contains_key("units") || m.contains_key("unit")
    };
    match v {
        Value::Array(items) => {
            let mut cols = Vec::new();
            for it in items {
                let m = it.as_object()?;
                let name = m.get("attribute_name")?.as_str()?.to_string();
                cols.push(col_of(name, m));
            }
            Some(cols)
        }
        Value::Object(map) => {
            let mut cols = Vec::new();
            for (k, spec) in map {
                let m = spec.as_object().filter(|m| is_spec(m))?;
                cols.push(col_of(k.clone(), m));
            }
            Some(cols)
        }
        _ => None,
    }
}

/// Tables from a body of any known shape; `asked` names a single-catalog result.
pub fn parse_tables(v: &Value, asked: &str) -> Result<Vec<CatalogTable>> {
    let bad = || {
        Error::format(
            "catsHTM response",
            format!("unrecognised shape: {}", broker_core::error::excerpt(v.to_string().as_bytes())),
        )
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Object(map) if map.is_empty() => Ok(Vec::new()),
        Value::Array(items) if items.is_empty() => Ok(Vec::new()),
        Value::Object(map) => {
            if let Some(Value::Array(cats)) = map.get("catalogs") {
                // Legacy conesearch_all: {"catalogs": [{"2MASS": {...}}, ...]}
                let mut out = Vec::new();
                for c in cats {
                    let Some(obj) = c.as_object() else { return Err(bad()) };
                    for (name, body) in obj {
                        out.push(CatalogTable { catalog: name.clone(), columns: parse_columns(body).ok_or_else(bad)? });
                    }
                }
                return Ok(out);
            }
            // A single catalog's columns ({col: {unit, value}}) ...
            if let Some(columns) = parse_columns(v) {
                return Ok(vec![CatalogTable { catalog: asked.to_string(), columns }]);
            }
            // ... or {catalog: columns} (legacy conesearch, newer *_all).
            let mut out = Vec::new();
            for (name, body) in map {
                if body.as_object().is_some_and(|m| m.is_empty()) || body.as_array().is_some_and(|a| a.is_empty()) {
                    out.push(CatalogTable { catalog: name.clone(), columns: Vec::new() });
                    continue;
                }
                out.push(CatalogTable { catalog: name.clone(), columns: parse_columns(body).ok_or_else(bad)? });
            }
            Ok(out)
        }
        Value::Array(items) => {
            if let Some(columns) = parse_columns(v) {
                return Ok(vec![CatalogTable { catalog: asked.to_string(), columns }]);
            }
            // Legacy crossmatch_all: [{"2MASS": {...}}, {"NEDz": {...}}]
            let mut out = Vec::new();
            for it in items {
                let Some(obj) = it.as_object() else { return Err(bad()) };
                for (name, body) in obj {
                    out.push(CatalogTable { catalog: name.clone(), columns: parse_columns(body).ok_or_else(bad)? });
                }
            }
            Ok(out)
        }
        _ => Err(bad()),
    }
}

/// catsHTM. Get it with [`AlerceClient::catshtm`].
#[derive(Debug, Clone, Copy)]
pub struct CatsHtm<'a> {
    client: &'a AlerceClient,
}

impl AlerceClient {
    /// The catsHTM crossmatch service.
    pub fn catshtm(&self) -> CatsHtm<'_> {
        CatsHtm { client: self }
    }
}

impl<'a> CatsHtm<'a> {
    async fn call(&self, route: &str, catalog: &str, pos: &SkyPosition, radius: f64, percent: bool) -> Result<Value> {
        self.call_opt(route, catalog, pos, Some(radius), percent).await
    }

    async fn call_opt(
        &self,
        route: &str,
        catalog: &str,
        pos: &SkyPosition,
        radius: Option<f64>,
        percent: bool,
    ) -> Result<Value> {
        let radius = radius.map(|r| validate_radius_arcsec(r, MAX_CATSHTM_RADIUS_ARCSEC)).transpose()?;
        if catalog.trim().is_empty() {
            return Err(Error::invalid("catalog", "give a catalog name such as GAIA/DR2, 2MASS or NEDz"));
        }
        // The Python client sends ra/dec as given for cone searches and with "%f" for
        // crossmatches; the radius always with "%f".
        let (ra, dec) = if percent {
            (py_percent_f(pos.ra()), py_percent_f(pos.dec()))
        } else {
            (py_float(pos.ra()), py_float(pos.dec()))
        };
        let req = Request::get(route)
            .query("catalog", catalog)
            .query("ra", ra)
            .query("dec", dec)
            .query_opt("radius", radius.map(py_percent_f));
        let v: Option<Value> = get_json(&self.client.inner.catshtm, req).await?;
        Ok(v.unwrap_or(Value::Null))
    }

    /// Every source of one catalog within `radius_arcsec` (`GET conesearch`). An empty
    /// result has no columns.
    pub async fn conesearch(&self, position: SkyPosition, radius_arcsec: f64, catalog: &str) -> Result<CatalogTable> {
        let id = catalog_id(catalog);
        let v = self.call("conesearch", &id, &position, radius_arcsec, false).await?;
        Ok(parse_tables(&v, &id)?.into_iter().next().unwrap_or(CatalogTable { catalog: id, columns: Vec::new() }))
    }

    /// Every source of every catalog within `radius_arcsec` (`GET conesearch_all`).
    pub async fn conesearch_all(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Vec<CatalogTable>> {
        let v = self.call("conesearch_all", "all", &position, radius_arcsec, false).await?;
        parse_tables(&v, "all")
    }

    /// The closest source of one catalog (`GET crossmatch`), as a table of at most one row.
    pub async fn crossmatch(&self, position: SkyPosition, radius_arcsec: f64, catalog: &str) -> Result<CatalogTable> {
        let id = catalog_id(catalog);
        let v = self.call("crossmatch", &id, &position, radius_arcsec, true).await?;
        Ok(parse_tables(&v, &id)?.into_iter().next().unwrap_or(CatalogTable { catalog: id, columns: Vec::new() }))
    }

    /// The closest source of one catalog within that catalog's own default radius: the
    /// same request without `radius` (the current catsHTM service declares `radius:
    /// float | None` on `/crossmatch` and `/crossmatch_all` and uses a per-catalog default,
    /// `src/view/fastAPI_project.py`; the legacy Flask service required a radius).
    pub async fn crossmatch_default_radius(&self, position: SkyPosition, catalog: &str) -> Result<CatalogTable> {
        let id = catalog_id(catalog);
        let v = self.call_opt("crossmatch", &id, &position, None, true).await?;
        Ok(parse_tables(&v, &id)?.into_iter().next().unwrap_or(CatalogTable { catalog: id, columns: Vec::new() }))
    }

    /// The closest source of every catalog, each within its default radius
    /// (`GET crossmatch_all` without `radius`; see [`CatsHtm::crossmatch_default_radius`]).
    pub async fn crossmatch_all_default_radius(&self, position: SkyPosition) -> Result<Vec<CatalogTable>> {
        let v = self.call_opt("crossmatch_all", "all", &position, None, true).await?;
        parse_tables(&v, "all")
    }

    /// The closest source of every catalog (`GET crossmatch_all`).
    pub async fn crossmatch_all(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Vec<CatalogTable>> {
        let v = self.call("crossmatch_all", "all", &position, radius_arcsec, true).await?;
        parse_tables(&v, "all")
    }

    /// A redshift near a position: from `crossmatch_all`, the first catalog with a `z`
    /// column, else one with `zphot` / `z_phot`; `None` when no catalog has one.
    pub async fn redshift(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Option<Redshift>> {
        let tables = self.crossmatch_all(position, radius_arcsec).await?;
        Ok(find_redshift(&tables))
    }
}

/// The redshift rule of [`CatsHtm::redshift`], on tables already fetched.
pub fn find_redshift(tables: &[CatalogTable]) -> Option<Redshift> {
    for col in ["z", "zphot", "z_phot"] {
        for t in tables {
            if let Some(c) = t.columns.iter().find(|c| c.name == col) {
                if let Some(z) = c.values.iter().find_map(CatsValue::as_f64).filter(|z| z.is_finite()) {
                    return Some(Redshift { z, catalog: t.catalog.clone(), column: c.name.clone() });
                }
            }
        }
    }
    None
}
