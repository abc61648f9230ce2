//! Output formats: a readable table for people, JSON / JSON lines / CSV for programs.
//!
//! Everything printable is first turned into rows of JSON objects (with the models' serde
//! names), so every command supports every format the same way.
//!
//! JSON, JSON lines, CSV and Parquet carry every field. A table is for reading in a
//! terminal: for each kind of record it shows the few columns a person reads first (a
//! [`View`]; the list is in [`VIEWS`] and the README), nested values shortened to one line.
//! `--columns a,b,c` picks (and orders) the columns in every format; an unknown name is a
//! [`UsageError`] that lists the available ones.

use std::io::Write;

use anyhow::{Context, Result};
use broker_core::Lightcurve;
use serde::Serialize;
use serde_json::{Map, Value};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns (the default on a terminal).
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// Apache Parquet (needs `--output FILE`; built with the `parquet` feature).
    #[cfg(feature = "parquet")]
    Parquet,
}

/// A usage error found after the data came back (an unknown `--columns` name): the CLI
/// exits with status 2, as for a bad flag.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The columns a table shows by default for one kind of record (every other format keeps
/// every field, these first). Columns no row has are left out.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// The verb(s) whose rows these are, as in the README.
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    /// The table's columns, in order.
    pub table: &'static [&'static str],
}

/// The default table columns of each kind of record with many fields.
pub mod views {
    use super::View;

    /// `atlas source`.
    pub const ATLAS_SOURCE: View = View {
        name: "atlas source",
        table: &[
            "id",
            "atlas_designation",
            "tns_name",
            "ra",
            "dec",
            "sherlockClassification",
            "vra",
            "rb_pix",
            "detection_list_id",
            "detections",
            "forced_points",
        ],
    };
    /// `atlas sources`.
    pub const ATLAS_SOURCES: View = View {
        name: "atlas sources",
        table: &[
            "id",
            "status",
            "atlas_designation",
            "tns_name",
            "ra",
            "dec",
            "sherlockClassification",
            "vra",
            "rank",
            "detections",
            "error",
        ],
    };
    /// `atlas cone`.
    pub const ATLAS_CONE: View =
        View { name: "atlas cone", table: &["object", "objectname", "ra", "dec", "separation"] };
    /// `atlas list`.
    pub const ATLAS_LIST: View = View {
        name: "atlas list",
        table: &[
            "rank",
            "id",
            "atlas_designation",
            "other_designation",
            "ra",
            "dec",
            "sherlockClassification",
            "vra",
            "latest_mjd",
            "latest_mag",
            "observation_status",
        ],
    };
    /// `atlas vra-scores`.
    pub const ATLAS_VRA_SCORES: View = View {
        name: "atlas vra-scores",
        table: &["transient_object_id", "preal", "pgal", "pfast", "rank", "timestamp", "apiusername"],
    };
    /// `skyportal sources`, `skyportal source`.
    pub const SKYPORTAL_SOURCES: View = View {
        name: "skyportal sources, skyportal source",
        table: &["id", "ra", "dec", "redshift", "classifications", "tns_name", "groups", "last_detected_at"],
    };
    /// `skyportal candidates`.
    pub const SKYPORTAL_CANDIDATES: View = View {
        name: "skyportal candidates",
        table: &["id", "ra", "dec", "redshift", "classifications", "is_source", "tns_name", "created_at"],
    };
    /// `skyportal photometry --raw`.
    pub const SKYPORTAL_PHOTOMETRY: View = View {
        name: "skyportal photometry --raw",
        table: &["id", "mjd", "filter", "mag", "magerr", "limiting_mag", "instrument_name", "origin"],
    };
    /// `skyportal classifications`.
    pub const SKYPORTAL_CLASSIFICATIONS: View = View {
        name: "skyportal classifications",
        table: &["id", "classification", "probability", "ml", "author_name", "created_at"],
    };
    /// `skyportal comments`.
    pub const SKYPORTAL_COMMENTS: View =
        View { name: "skyportal comments", table: &["id", "obj_id", "text", "author_id", "created_at"] };
    /// `skyportal spectra --full`.
    pub const SKYPORTAL_SPECTRA_FULL: View = View {
        name: "skyportal spectra --full",
        table: &["id", "obj_id", "observed_at", "instrument_name", "telescope_name", "type", "origin", "label"],
    };
    /// `alerce objects`, `alerce object`.
    pub const ALERCE_OBJECTS: View = View {
        name: "alerce objects, alerce object",
        table: &["oid", "meanra", "meandec", "ndet", "firstmjd", "lastmjd", "class", "classifier", "probability"],
    };
    /// `alerce detections`.
    pub const ALERCE_DETECTIONS: View = View {
        name: "alerce detections",
        table: &["mjd", "fid", "magpsf", "sigmapsf", "diffmaglim", "isdiffpos", "rb", "candid"],
    };
    /// `alerce forced-photometry`.
    pub const ALERCE_FORCED: View = View {
        name: "alerce forced-photometry",
        table: &["mjd", "fid", "mag", "e_mag", "isdiffpos", "ra", "dec", "candid"],
    };
    /// `alerce magstats`.
    pub const ALERCE_MAGSTATS: View = View {
        name: "alerce magstats",
        table: &["fid", "ndet", "magmean", "magmin", "magmax", "magfirst", "maglast", "firstmjd", "lastmjd"],
    };
    /// `fink objects` (ZTF alerts and upper limits).
    pub const FINK_ZTF_OBJECTS: View = View {
        name: "fink objects",
        table: &["i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim", "d:tag"],
    };
    /// `fink objects --survey lsst`.
    pub const FINK_LSST_OBJECTS: View =
        View { name: "fink objects --survey lsst", table: &["r:diaObjectId", "r:ra", "r:dec", "r:nDiaSources"] };
    /// `fink sources` (LSST diaSources or forced photometry).
    pub const FINK_SOURCES: View = View {
        name: "fink sources",
        table: &["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr"],
    };
    /// `fink latests`.
    pub const FINK_LATESTS: View = View {
        name: "fink latests",
        table: &["i:objectId", "i:ra", "i:dec", "i:jd", "i:magpsf", "i:fid", "v:classification"],
    };
    /// `fink tags <tag>`.
    pub const FINK_TAG_ALERTS: View = View {
        name: "fink tags <tag>",
        table: &["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:ra", "r:dec"],
    };
    /// `resolve`: ids found and ambiguous candidates.
    pub const RESOLVE: View =
        View { name: "resolve", table: &["status", "broker", "kind", "id", "how", "separation_arcsec", "confidence"] };
    /// `forcedphot run`/`fetch` rows (`--raw`).
    pub const FORCEDPHOT_ROWS: View = View {
        name: "forcedphot run --raw, forcedphot fetch --raw",
        table: &["mjd", "m", "dm", "ujy", "dujy", "filter", "err", "mag5sig", "obs"],
    };
}

/// Every [`View`], for the documentation (a test keeps the README's list in step).
#[cfg_attr(not(test), allow(dead_code))]
pub const VIEWS: &[View] = &[
    views::ATLAS_SOURCE,
    views::ATLAS_SOURCES,
    views::ATLAS_CONE,
    views::ATLAS_LIST,
    views::ATLAS_VRA_SCORES,
    views::SKYPORTAL_SOURCES,
    views::SKYPORTAL_CANDIDATES,
    views::SKYPORTAL_PHOTOMETRY,
    views::SKYPORTAL_CLASSIFICATIONS,
    views::SKYPORTAL_COMMENTS,
    views::SKYPORTAL_SPECTRA_FULL,
    views::ALERCE_OBJECTS,
    views::ALERCE_DETECTIONS,
    views::ALERCE_FORCED,
    views::ALERCE_MAGSTATS,
    views::FINK_ZTF_OBJECTS,
    views::FINK_LSST_OBJECTS,
    views::FINK_SOURCES,
    views::FINK_LATESTS,
    views::FINK_TAG_ALERTS,
    views::FORCEDPHOT_ROWS,
    views::RESOLVE,
];

/// What to print of the rows: the columns put first (and, for a [`View`], the only ones in
/// a table), and the columns the user picked with `--columns`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape<'a> {
    /// Columns first in every format (all columns still shown).
    pub first: Option<&'a [&'a str]>,
    /// A table shows only these (those present).
    pub view: Option<View>,
    /// `--columns`: exactly these, in this order, in every format.
    pub picked: Option<&'a [String]>,
}

/// The unified light-curve columns, in order (the core's, shared with its DataFrames).
pub use broker_core::astro::LIGHTCURVE_COLUMNS;

/// A light curve as rows with the unified columns.
pub fn lightcurve_rows(lc: &Lightcurve) -> Vec<Value> {
    lc.points
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("broker".into(), Value::from(p.broker.clone()));
            m.insert("survey".into(), Value::from(p.survey.clone()));
            m.insert("object_id".into(), Value::from(p.object_id.clone()));
            m.insert("mjd".into(), num(Some(p.mjd)));
            m.insert("band".into(), Value::from(p.band.name()));
            m.insert("mag".into(), num(p.mag));
            m.insert("mag_err".into(), num(p.mag_err));
            m.insert("flux_ujy".into(), num(p.flux_ujy));
            m.insert("flux_err_ujy".into(), num(p.flux_err_ujy));
            m.insert("limiting_mag".into(), num(p.limiting_mag));
            m.insert("is_detection".into(), Value::from(p.is_detection()));
            m.insert("origin".into(), Value::from(p.origin.as_str()));
            m.insert("measurement".into(), Value::from(p.measurement.as_str()));
            m.insert("duplicate_of".into(), p.duplicate_of.clone().map(Value::from).unwrap_or(Value::Null));
            Value::Object(m)
        })
        .collect()
}

fn num(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Anything serializable as rows: a list becomes its elements, an object one row.
pub fn to_rows<T: Serialize>(value: &T) -> Result<Vec<Value>> {
    let v = serde_json::to_value(value).context("could not serialize the result")?;
    Ok(match v {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    })
}

/// The columns of `rows`: keys in order of first appearance.
pub fn columns(rows: &[Value]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !cols.iter().any(|c| c == k) {
                    cols.push(k.clone());
                }
            }
        } else if cols.is_empty() {
            cols.push("value".into());
        }
    }
    cols
}

fn cell(row: &Value, col: &str) -> String {
    let v = match row {
        Value::Object(m) => m.get(col).cloned().unwrap_or(Value::Null),
        other if col == "value" => other.clone(),
        _ => Value::Null,
    };
    scalar_text(v)
}

fn scalar_text(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                let s = format!("{f:.6}");
                let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
                if s.is_empty() || s == "-" { "0".into() } else { s }
            } else {
                n.to_string()
            }
        }
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Keys that name a nested record in one word, tried in order when a table cell holds a
/// nested object or a list of them (a SkyPortal classification, group or instrument).
const LABEL_KEYS: [&str; 7] = ["classification", "name", "nickname", "class_name", "label", "text", "id"];

fn label_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => LABEL_KEYS.iter().find_map(|k| match m.get(*k) {
            Some(x @ (Value::String(_) | Value::Number(_))) => Some(scalar_text(x.clone())),
            _ => None,
        }),
        Value::Array(_) => None,
        other => Some(scalar_text(other.clone())),
    }
}

/// A table cell: scalars as text; nested values on one short line (the labels of nested
/// records, else `[n items]` / `{n fields}`).
fn table_cell(row: &Value, col: &str) -> String {
    let v = match row {
        Value::Object(m) => m.get(col).cloned().unwrap_or(Value::Null),
        other if col == "value" => other.clone(),
        _ => Value::Null,
    };
    match &v {
        Value::Array(items) if items.is_empty() => String::new(),
        Value::Array(items) => match items.iter().map(label_of).collect::<Option<Vec<String>>>() {
            Some(labels) => labels.join(", "),
            None => format!("[{} items]", items.len()),
        },
        Value::Object(m) if m.is_empty() => String::new(),
        Value::Object(m) => label_of(&v).unwrap_or_else(|| format!("{{{} fields}}", m.len())),
        _ => scalar_text(v),
    }
}

/// The columns to print, in order; an unknown `--columns` name is a [`UsageError`].
pub fn pick_columns(rows: &[Value], format: Format, shape: &Shape<'_>) -> Result<Vec<String>> {
    let all = columns(rows);
    if let Some(picked) = shape.picked {
        if rows.is_empty() {
            return Ok(picked.to_vec());
        }
        let unknown: Vec<&String> = picked.iter().filter(|c| !all.contains(c)).collect();
        if !unknown.is_empty() {
            let names = unknown.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
            return Err(UsageError(format!(
                "invalid --columns: no column {names} in these rows; the columns are: {}",
                all.join(",")
            ))
            .into());
        }
        return Ok(picked.to_vec());
    }
    if let (Format::Table, Some(view)) = (format, shape.view) {
        let shown: Vec<String> =
            view.table.iter().filter(|c| all.iter().any(|a| a == *c)).map(|c| c.to_string()).collect();
        if !shown.is_empty() {
            return Ok(shown);
        }
    }
    let first: Vec<&str> = match (shape.view, shape.first) {
        (Some(v), _) => v.table.to_vec(),
        (None, Some(f)) => f.to_vec(),
        (None, None) => Vec::new(),
    };
    let mut ordered: Vec<String> =
        first.iter().filter(|c| all.iter().any(|a| a == *c)).map(|c| c.to_string()).collect();
    ordered.extend(all.into_iter().filter(|c| !first.contains(&c.as_str())));
    Ok(ordered)
}

/// Writes rows in a format, these columns first.
pub fn write_rows(out: &mut dyn Write, rows: &[Value], format: Format, preferred: Option<&[&str]>) -> Result<()> {
    write_shaped(out, rows, format, &Shape { first: preferred, ..Shape::default() }).map(|_| ())
}

/// Writes rows in a format and shape; returns how many columns a table left out.
pub fn write_shaped(out: &mut dyn Write, rows: &[Value], format: Format, shape: &Shape<'_>) -> Result<usize> {
    let cols = pick_columns(rows, format, shape)?;
    let hidden = columns(rows).len().saturating_sub(cols.len());
    let project = |r: &Value| -> Value {
        match (shape.picked, r) {
            (Some(_), Value::Object(m)) => {
                Value::Object(cols.iter().map(|c| (c.clone(), m.get(c).cloned().unwrap_or(Value::Null))).collect())
            }
            _ => r.clone(),
        }
    };
    match format {
        #[cfg(feature = "parquet")]
        Format::Parquet => {
            let mut df = parquet::frame(rows, &cols)?;
            let mut buf = Vec::new();
            polars_io::parquet::write::ParquetWriter::new(&mut buf)
                .finish(&mut df)
                .map_err(|e| anyhow::anyhow!("could not write Parquet: {e}"))?;
            out.write_all(&buf)?;
        }
        Format::Json => {
            if shape.picked.is_some() {
                serde_json::to_writer_pretty(&mut *out, &rows.iter().map(project).collect::<Vec<_>>())?;
            } else {
                serde_json::to_writer_pretty(&mut *out, rows)?;
            }
            writeln!(out)?;
        }
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, &project(r))?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            writeln!(out, "{}", cols.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","))?;
            for r in rows {
                let line: Vec<String> = cols.iter().map(|c| csv_field(&cell(r, c))).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        Format::Table => {
            if rows.is_empty() {
                writeln!(out, "(no results)")?;
                return Ok(0);
            }
            const MAX: usize = 40;
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .map(|c| {
                            let s = table_cell(r, c).replace(['\n', '\r', '\t'], " ");
                            if s.chars().count() > MAX {
                                format!("{}…", s.chars().take(MAX - 1).collect::<String>())
                            } else {
                                s
                            }
                        })
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(c.chars().count()))
                .collect();
            let line = |vals: &[String]| -> String {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            writeln!(out, "{}", line(&cols))?;
            writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
            for r in &cells {
                writeln!(out, "{}", line(r))?;
            }
            return Ok(hidden);
        }
    }
    Ok(0)
}

/// Rows to a DataFrame: a column of booleans, integers or floats when every value is one,
/// else of text (nested values as JSON).
#[cfg(feature = "parquet")]
mod parquet {
    use anyhow::Result;
    use polars::prelude::*;
    use serde_json::Value;

    fn get<'a>(row: &'a Value, col: &str) -> Option<&'a Value> {
        match row {
            Value::Object(m) => m.get(col).filter(|v| !v.is_null()),
            other if col == "value" => Some(other).filter(|v| !v.is_null()),
            _ => None,
        }
    }

    pub fn frame(rows: &[Value], cols: &[String]) -> Result<DataFrame> {
        let mut columns = Vec::with_capacity(cols.len());
        for c in cols {
            let vals: Vec<Option<&Value>> = rows.iter().map(|r| get(r, c)).collect();
            let present = || vals.iter().flatten();
            let name: PlSmallStr = c.as_str().into();
            let column = if present().next().is_some() && present().all(|v| v.is_boolean()) {
                Column::new(name, vals.iter().map(|v| v.and_then(Value::as_bool)).collect::<Vec<_>>())
            } else if present().next().is_some() && present().all(|v| v.is_i64()) {
                Column::new(name, vals.iter().map(|v| v.and_then(Value::as_i64)).collect::<Vec<_>>())
            } else if present().next().is_some() && present().all(|v| v.is_number()) {
                Column::new(name, vals.iter().map(|v| v.and_then(Value::as_f64)).collect::<Vec<_>>())
            } else {
                let text = |v: &Value| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Column::new(name, vals.iter().map(|v| v.map(text)).collect::<Vec<Option<String>>>())
            };
            columns.push(column);
        }
        DataFrame::new(rows.len(), columns).map_err(|e| anyhow::anyhow!("could not build the table: {e}"))
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::{Band, PhotometryPoint};
    use serde_json::json;

    #[test]
    fn csv_has_unified_columns_and_quotes() {
        let lc = Lightcurve::from_points(vec![
            PhotometryPoint::from_mag("alerce", "ztf", "ZTF1", 60000.5, Band::ZtfG, 18.25, Some(0.05)),
            PhotometryPoint::limit("atlas", "atlas", "1", 60001.0, Band::AtlasO, 19.5),
        ]);
        let mut buf = Vec::new();
        write_rows(&mut buf, &lightcurve_rows(&lc), Format::Csv, Some(&LIGHTCURVE_COLUMNS)).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), LIGHTCURVE_COLUMNS.join(","));
        assert!(lines.next().unwrap().starts_with("alerce,ztf,ZTF1,60000.5,ztfg,18.25,0.05,"));
        assert_eq!(lines.next().unwrap(), "atlas,atlas,1,60001,atlaso,,,,,19.5,false,alert,difference,");
        let mut buf = Vec::new();
        write_rows(&mut buf, &[json!({"a": "x,y", "b": "say \"hi\""})], Format::Csv, None).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn parquet_has_typed_columns() {
        let lc = Lightcurve::from_points(vec![
            PhotometryPoint::from_mag("alerce", "ztf", "ZTF1", 60000.5, Band::ZtfG, 18.25, Some(0.05)),
            PhotometryPoint::limit("atlas", "atlas", "1", 60001.0, Band::AtlasO, 19.5),
        ]);
        let rows = lightcurve_rows(&lc);
        let cols: Vec<String> = LIGHTCURVE_COLUMNS.iter().map(|s| s.to_string()).collect();
        let df = parquet::frame(&rows, &cols).unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.column("mjd").unwrap().dtype(), &polars::prelude::DataType::Float64);
        assert_eq!(df.column("is_detection").unwrap().dtype(), &polars::prelude::DataType::Boolean);
        assert_eq!(df.column("band").unwrap().dtype(), &polars::prelude::DataType::String);
        let mut buf = Vec::new();
        write_rows(&mut buf, &rows, Format::Parquet, Some(&LIGHTCURVE_COLUMNS)).unwrap();
        assert_eq!(&buf[..4], b"PAR1");
        assert_eq!(&buf[buf.len() - 4..], b"PAR1");
        use polars_io::SerReader;
        let back = polars_io::parquet::read::ParquetReader::new(std::io::Cursor::new(buf)).finish().unwrap();
        assert_eq!(back.height(), 2);
        assert_eq!(back.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>(), LIGHTCURVE_COLUMNS.to_vec());
        assert_eq!(back.column("mag").unwrap().f64().unwrap().get(0), Some(18.25));
        assert_eq!(back.column("is_detection").unwrap().bool().unwrap().get(1), Some(false));
    }

    /// The README lists every view's table columns, as they are.
    #[test]
    fn readme_lists_every_view() {
        let readme = include_str!("../../../README.md");
        for v in VIEWS {
            let line = format!("| `{}` | {} |", v.name, v.table.join(", "));
            assert!(readme.contains(&line), "README.md lacks the line: {line}");
        }
    }

    #[test]
    fn table_shows_the_view_and_shortens_nested_values() {
        let rows = vec![json!({"id": "ZTF1", "ra": 1.5, "altdata": {"a": 1, "b": [1, 2]},
            "classifications": [{"classification": "Ia", "probability": 0.9}, {"classification": "II"}],
            "photometry": [{"mjd": 1.0}, {"mjd": 2.0}], "tags": ["x", "y"]})];
        let view = View { name: "t", table: &["id", "classifications", "photometry", "tags", "altdata", "nope"] };
        let mut buf = Vec::new();
        let hidden =
            write_shaped(&mut buf, &rows, Format::Table, &Shape { view: Some(view), ..Shape::default() }).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(hidden, 1, "ra left out");
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), "id    classifications  photometry  tags  altdata");
        lines.next();
        assert_eq!(lines.next().unwrap(), "ZTF1  Ia, II           [2 items]   x, y  {2 fields}");
        // CSV keeps every field, the view's first, nested values as JSON.
        let mut buf = Vec::new();
        write_shaped(&mut buf, &rows, Format::Csv, &Shape { view: Some(view), ..Shape::default() }).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("id,classifications,photometry,tags,altdata,ra\n"), "{text}");
        assert!(text.contains("\"[{\"\"classification\"\""), "{text}");
    }

    #[test]
    fn picked_columns_select_and_order_in_every_format_and_unknown_is_a_usage_error() {
        let rows = vec![json!({"a": 1, "b": "x", "c": [1]}), json!({"a": 2, "d": true})];
        let picked = vec!["d".to_string(), "a".to_string()];
        let shape = Shape { picked: Some(&picked), ..Shape::default() };
        let mut buf = Vec::new();
        write_shaped(&mut buf, &rows, Format::Csv, &shape).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "d,a\n,1\ntrue,2\n");
        let mut buf = Vec::new();
        write_shaped(&mut buf, &rows, Format::Jsonl, &shape).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "{\"d\":null,\"a\":1}\n{\"d\":true,\"a\":2}\n");
        let bad = vec!["a".to_string(), "zz".to_string()];
        let e = write_shaped(&mut Vec::new(), &rows, Format::Table, &Shape { picked: Some(&bad), ..Shape::default() })
            .unwrap_err();
        let u = e.downcast_ref::<UsageError>().expect("a usage error");
        assert!(u.0.contains("\"zz\"") && u.0.contains("a,b,c,d"), "{u}");
    }

    #[test]
    fn table_aligns_and_handles_missing_keys() {
        let rows = vec![json!({"oid": "ZTF21abc", "ndet": 12}), json!({"oid": "ZTF1", "class": "SNIa"})];
        let mut buf = Vec::new();
        write_rows(&mut buf, &rows, Format::Table, None).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "oid       ndet  class\n--------  ----  -----\nZTF21abc  12\nZTF1            SNIa\n");
    }
}
