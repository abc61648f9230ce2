//! Output formats: a readable table for people, JSON / JSON lines / CSV for programs.
//!
//! Everything printable is first turned into rows of JSON objects (with the models' serde
//! names), so every command supports every format the same way.

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

/// Writes rows in a format.
pub fn write_rows(out: &mut dyn Write, rows: &[Value], format: Format, preferred: Option<&[&str]>) -> Result<()> {
    let mut cols = columns(rows);
    if let Some(pref) = preferred {
        let mut ordered: Vec<String> = pref.iter().map(|s| s.to_string()).collect();
        ordered.extend(cols.into_iter().filter(|c| !pref.contains(&c.as_str())));
        cols = ordered;
    }
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
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
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
                return Ok(());
            }
            const MAX: usize = 40;
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .map(|c| {
                            let s = cell(r, c).replace(['\n', '\t'], " ");
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
        }
    }
    Ok(())
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
        assert_eq!(lines.next().unwrap(), "atlas,atlas,1,60001,atlaso,,,,,19.5,false");
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

    #[test]
    fn table_aligns_and_handles_missing_keys() {
        let rows = vec![json!({"oid": "ZTF21abc", "ndet": 12}), json!({"oid": "ZTF1", "class": "SNIa"})];
        let mut buf = Vec::new();
        write_rows(&mut buf, &rows, Format::Table, None).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "oid       ndet  class\n--------  ----  -----\nZTF21abc  12\nZTF1            SNIa\n");
    }
}
