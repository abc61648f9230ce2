//! Lenient number decoders: Fink rows come from pandas frames that mix typed HBase
//! columns with rows read back as text (the ZTF upper-limit tables go through
//! `hbase_to_dict`, a Gson dump, in `objects/utils.py`), so a number may arrive as a JSON
//! number, a numeric string, or null.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `f64` from a number or a numeric string; null, empty, `NaN` text and non-numbers are `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(value_f64(&Value::deserialize(d)?))
}

/// `i64` from an integer, an integral float or an integer string. Integers are read as
/// integers (never through `f64`), so 64-bit ids keep every digit.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(value_i64(&Value::deserialize(d)?))
}

/// A string from a string or a number (ids sent either way).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// See [`opt_f64`].
pub fn value_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// See [`opt_i64`].
pub fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}
