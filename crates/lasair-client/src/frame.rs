//! DataFrames (feature `polars`).
//!
//! - Light curves: [`broker_core::Lightcurve::to_dataframe`] on the result of
//!   `to_lightcurve` (the core's unified columns).
//! - [`rows_to_dataframe`]: `query/` rows (or any JSON rows). One column per key, in the
//!   order first seen; the dtype is `Int64` when every value is an integer (LSST ids stay
//!   exact), `Float64` when every value is a number, `Boolean` for booleans, else `String`
//!   (nested values as JSON text). Missing keys and `null` are nulls.
//! - [`ztf_candidates`] and [`dia_sources`]: the typed light-curve rows.

use broker_core::polars::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::objects::{DiaSource, ZtfCandidate};

fn polars_error(e: PolarsError) -> Error {
    Error::Core(broker_core::frame::polars_error(e))
}

fn column(name: &str, values: &[Option<&Value>]) -> Column {
    let present = || values.iter().flatten().filter(|v| !v.is_null());
    if present().all(|v| v.is_i64()) {
        return Column::new(name.into(), values.iter().map(|v| v.and_then(Value::as_i64)).collect::<Vec<_>>());
    }
    if present().all(|v| v.is_number()) {
        return Column::new(name.into(), values.iter().map(|v| v.and_then(Value::as_f64)).collect::<Vec<_>>());
    }
    if present().all(|v| v.is_boolean()) {
        return Column::new(name.into(), values.iter().map(|v| v.and_then(Value::as_bool)).collect::<Vec<_>>());
    }
    let text: Vec<Option<String>> = values
        .iter()
        .map(|v| match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        })
        .collect();
    Column::new(name.into(), text)
}

/// JSON rows as a DataFrame (see the module docs for the dtypes).
pub fn rows_to_dataframe(rows: &[Map<String, Value>]) -> Result<DataFrame> {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    let columns =
        names.iter().map(|n| column(n, &rows.iter().map(|r| r.get(*n)).collect::<Vec<_>>())).collect::<Vec<_>>();
    DataFrame::new(rows.len(), columns).map_err(polars_error)
}

fn to_rows<T: serde::Serialize>(items: &[T]) -> Result<Vec<Map<String, Value>>> {
    items
        .iter()
        .map(|i| match serde_json::to_value(i) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Ok(Map::new()),
            Err(e) => Err(Error::invalid("rows", e.to_string())),
        })
        .collect()
}

/// ZTF `candidates` rows (typed columns first, then the other fields).
pub fn ztf_candidates(rows: &[ZtfCandidate]) -> Result<DataFrame> {
    rows_to_dataframe(&to_rows(rows)?)
}

/// LSST diaSources (typed columns first, then the other fields).
pub fn dia_sources(rows: &[DiaSource]) -> Result<DataFrame> {
    rows_to_dataframe(&to_rows(rows)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_64_bit_ids_and_mixed_columns() {
        let big = 170_000_000_000_000_123_i64;
        let rows: Vec<Map<String, Value>> = serde_json::from_value(serde_json::json!([
            {"diaObjectId": big, "gmag": 18, "name": "a", "flag": true},
            {"diaObjectId": big + 1, "gmag": 18.5, "extra": {"x": 1}}
        ]))
        .unwrap();
        let df = rows_to_dataframe(&rows).unwrap();
        assert_eq!(df.column("diaObjectId").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("diaObjectId").unwrap().i64().unwrap().get(1), Some(big + 1));
        assert_eq!(df.column("gmag").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("flag").unwrap().dtype(), &DataType::Boolean);
        assert_eq!(df.column("name").unwrap().null_count(), 1);
        assert_eq!(df.column("extra").unwrap().str().unwrap().get(1), Some(r#"{"x":1}"#));
    }
}
