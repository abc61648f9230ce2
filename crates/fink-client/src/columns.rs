//! Column names with their family prefix, `columns` selectors, and Fink error bodies.
//!
//! Fink rows are flat maps whose keys carry a column-family prefix (fink-object-api
//! `apps/utils/decoding.py`; the `doc.ztf`/`doc.lsst` "definitions" pages):
//!
//! | prefix | ZTF | LSST |
//! |---|---|---|
//! | `i:` | original ZTF alert fields | — |
//! | `d:` | Fink science-module outputs | — |
//! | `r:` | — | original Rubin fields |
//! | `f:` | — | Fink outputs |
//! | `v:` | values computed at query time | the same |
//! | `b:` | cutouts | the same |
//!
//! The typed rows ([`crate::ztf::ZtfAlert`], [`crate::lsst::LsstSource`], ...) map the
//! common columns to fields under their raw names (`#[serde(rename = "i:magpsf")]`) and
//! keep every other column, raw name and all, in `extra`.

use std::fmt;

use broker_core::{Error, Result};

/// A column family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `i:` original ZTF alert fields.
    Ztf,
    /// `d:` Fink science-module outputs (ZTF).
    FinkZtf,
    /// `r:` original Rubin fields.
    Rubin,
    /// `f:` Fink outputs (LSST).
    FinkLsst,
    /// `v:` values computed at query time.
    Computed,
    /// `b:` cutouts.
    Cutout,
}

impl Family {
    /// The prefix letter.
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Ztf => "i",
            Family::FinkZtf => "d",
            Family::Rubin => "r",
            Family::FinkLsst => "f",
            Family::Computed => "v",
            Family::Cutout => "b",
        }
    }
    /// The family of a prefix letter.
    pub fn from_prefix(p: &str) -> Option<Family> {
        Some(match p {
            "i" => Family::Ztf,
            "d" => Family::FinkZtf,
            "r" => Family::Rubin,
            "f" => Family::FinkLsst,
            "v" => Family::Computed,
            "b" => Family::Cutout,
            _ => return None,
        })
    }
}

/// A column name: a family and a field (`i:magpsf`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    /// The family.
    pub family: Family,
    /// The field name inside the family.
    pub name: String,
}

impl Column {
    /// A column of a family.
    pub fn new(family: Family, name: impl Into<String>) -> Self {
        Column { family, name: name.into() }
    }
    /// `i:<name>`.
    pub fn i(name: &str) -> Self {
        Self::new(Family::Ztf, name)
    }
    /// `d:<name>`.
    pub fn d(name: &str) -> Self {
        Self::new(Family::FinkZtf, name)
    }
    /// `r:<name>`.
    pub fn r(name: &str) -> Self {
        Self::new(Family::Rubin, name)
    }
    /// `f:<name>`.
    pub fn f(name: &str) -> Self {
        Self::new(Family::FinkLsst, name)
    }
    /// `v:<name>`.
    pub fn v(name: &str) -> Self {
        Self::new(Family::Computed, name)
    }
    /// `b:<name>`.
    pub fn b(name: &str) -> Self {
        Self::new(Family::Cutout, name)
    }
    /// Parses `family:name`; the error names the valid prefixes.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let Some((p, name)) = s.split_once(':') else {
            return Err(Error::invalid("columns", format!("{s:?} has no family prefix: use i:, d:, r:, f:, v: or b:")));
        };
        let family = Family::from_prefix(p).ok_or_else(|| {
            Error::invalid("columns", format!("{s:?} has an unknown family {p:?}: use i, d, r, f, v or b"))
        })?;
        if name.is_empty() || name.contains(',') || name.contains(char::is_whitespace) {
            return Err(Error::invalid("columns", format!("{s:?} is not a column name")));
        }
        Ok(Column::new(family, name))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.family.prefix(), self.name)
    }
}

/// The `columns` value: comma-joined names, or `None` for "all columns". The server
/// silently ignores an unknown column (doc.lsst `api/tips.md`), so each name is checked
/// for a known family prefix here instead.
pub(crate) fn columns_value(cols: &[Column]) -> Option<String> {
    (!cols.is_empty()).then(|| cols.iter().map(Column::to_string).collect::<Vec<_>>().join(","))
}

/// Parses a user's comma list (`"i:jd, i:magpsf"`) into columns.
pub fn parse_columns(s: &str) -> Result<Vec<Column>> {
    s.split(',').filter(|c| !c.trim().is_empty()).map(Column::parse).collect()
}

/// The message of a Fink error reply, kept as the raw text and status.
///
/// fink-object-api answers a bad request with status 400 and `str(rep)` where
/// `rep = {"status": "error", "text": "..."}` — a Python repr with single quotes, not JSON
/// (`apps/utils/utils.py::check_args`, `Response(str(rep), 400)` in every `api.py`); some
/// checks answer plain text (`tags/utils.py`, `latests/utils.py`). This returns the
/// status and the `text` of such a repr when it has one, else the trimmed body. It never
/// fails: a body that is neither gives its raw text.
pub fn error_text(err: &Error) -> Option<(u16, String)> {
    let Error::Http(h) = err else { return None };
    let raw = String::from_utf8_lossy(&h.body);
    Some((h.status, repr_text(&raw).unwrap_or_else(|| raw.trim().to_string())))
}

/// The `text` value of a Python dict repr (`{'status': 'error', 'text': "..."}`), if any.
pub fn repr_text(body: &str) -> Option<String> {
    let at = body.find("'text':").or_else(|| body.find("\"text\":"))?;
    let rest = body[at..].split_once(':')?.1.trim_start();
    let mut chars = rest.chars();
    let quote = chars.next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut escaped = false;
    for c in chars {
        if escaped {
            out.push(match c {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(out.trim().to_string());
        } else {
            out.push(c);
        }
    }
    None
}
