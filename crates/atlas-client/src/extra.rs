//! [`RawExtra`]: the unknown fields of a photometry row, kept as the JSON text the server
//! sent and parsed only when asked for.
//!
//! A bulk read holds millions of `lc`, `lcnondets` and `fp` rows, each with about twenty
//! fields the crate does not model. Kept as a map of owned keys and parsed values, they
//! cost dozens of allocations and about 2 KB per row; kept as one string per row, one
//! allocation and their size as text.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::models::Extra;

/// The fields of a row that the crate does not model (`x`, `y`, `pointing`,
/// `date_inserted`, ...), as one JSON object in the server's text. Read them with
/// [`RawExtra::get`] or [`RawExtra::to_map`], which parse on demand.
///
/// Serializes as the fields themselves (flattened into the row); two values are equal
/// when they hold the same fields with the same values, whatever their formatting.
#[derive(Clone, Default)]
pub struct RawExtra(Option<Box<str>>);

impl RawExtra {
    /// No fields.
    pub fn new() -> Self {
        RawExtra(None)
    }

    /// The fields of a map.
    pub fn from_map(map: &Extra) -> Self {
        if map.is_empty() {
            return RawExtra(None);
        }
        RawExtra(Some(Value::Object(map.clone()).to_string().into_boxed_str()))
    }

    /// The fields as one JSON object (`{}` when there are none).
    pub fn as_json(&self) -> &str {
        self.0.as_deref().unwrap_or("{}")
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The number of distinct fields (parses the text).
    pub fn len(&self) -> usize {
        self.to_map().len()
    }

    /// One field's value (parses the text; a repeated key gives its last value).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.to_map().remove(key)
    }

    /// The field names, in the server's order (parses the text).
    pub fn keys(&self) -> Vec<String> {
        self.to_map().into_iter().map(|(k, _)| k).collect()
    }

    /// The fields as a map (parses the text).
    pub fn to_map(&self) -> Extra {
        match &self.0 {
            // The text was written by this crate from JSON values: it parses.
            Some(text) => serde_json::from_str(text).unwrap_or_default(),
            None => Extra::new(),
        }
    }
}

/// Builds a [`RawExtra`] field by field from the raw text of each value.
#[derive(Default)]
pub(crate) struct RawExtraBuilder(String);

impl RawExtraBuilder {
    /// Appends `"key": <raw>`; `raw` must be one JSON value.
    pub(crate) fn push(&mut self, key: &str, raw: &str) {
        if self.0.is_empty() {
            self.0.reserve(64 + 2 * raw.len() + 16 * key.len());
            self.0.push('{');
        } else {
            self.0.push(',');
        }
        if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.0.push('"');
            self.0.push_str(key);
            self.0.push('"');
        } else {
            self.0.push_str(&Value::String(key.to_string()).to_string());
        }
        self.0.push(':');
        self.0.push_str(raw);
    }

    pub(crate) fn finish(mut self) -> RawExtra {
        if self.0.is_empty() {
            return RawExtra(None);
        }
        self.0.push('}');
        RawExtra(Some(self.0.into_boxed_str()))
    }
}

impl fmt::Debug for RawExtra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawExtra({})", self.as_json())
    }
}

impl PartialEq for RawExtra {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.to_map() == other.to_map()
    }
}

impl Serialize for RawExtra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_read_back_as_written() {
        let mut b = RawExtraBuilder::default();
        b.push("x", "12.5");
        b.push("pointing", r#""TA002N29""#);
        b.push("q\"uote", "[1, {\"a\": null}]");
        b.push("x", "13");
        let e = b.finish();
        assert_eq!(e.get("x"), Some(json!(13)), "a repeated key gives its last value");
        assert_eq!(e.get("pointing"), Some(json!("TA002N29")));
        assert_eq!(e.get("q\"uote"), Some(json!([1, {"a": null}])));
        assert_eq!(e.get("absent"), None);
        assert_eq!(e.len(), 3);
        assert_eq!(e.keys(), ["x", "pointing", "q\"uote"]);
        let same = RawExtra::from_map(&e.to_map());
        assert_eq!(same, e, "equal by content, not by formatting");
        assert_ne!(RawExtra::new(), e);
        assert!(RawExtra::default().is_empty() && RawExtra::from_map(&Extra::new()).is_empty());
        assert_eq!(RawExtra::new().as_json(), "{}");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"x": 13, "pointing": "TA002N29", "q\"uote": [1, {"a": null}]})
        );
    }
}
