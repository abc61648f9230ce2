//! Small helpers shared by the emulators.

use axum::http::{HeaderMap, Uri, header};

/// Ordered key/value pairs from a query string or form body (repeated keys kept).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pairs(pub(crate) Vec<(String, String)>);

impl Pairs {
    pub(crate) fn from_query(uri: &Uri) -> Pairs {
        Pairs::parse(uri.query().unwrap_or("").as_bytes())
    }
    pub(crate) fn parse(b: &[u8]) -> Pairs {
        Pairs(form_urlencoded::parse(b).into_owned().collect())
    }
    /// First value (Flask/FastAPI scalar semantics).
    pub(crate) fn first(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    /// Last value (Tornado / Django `QueryDict.get`).
    pub(crate) fn last(&self, k: &str) -> Option<&str> {
        self.0.iter().rev().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    pub(crate) fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(a, _)| a == k).map(|(_, v)| v.as_str()).collect()
    }
    pub(crate) fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(a, _)| a == k)
    }
}

/// Flask-RESTX / FastAPI style boolean parsing (`yes/true/t/y/1`, `no/false/f/n/0`).
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "t" | "y" | "1" | "on" => Some(true),
        "no" | "false" | "f" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

pub(crate) fn header(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn accepts_gzip(h: &HeaderMap) -> bool {
    header(h, header::ACCEPT_ENCODING).map(|v| v.contains("gzip")).unwrap_or(false)
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// JSON float that is `null` when not finite.
pub(crate) fn jf(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
}

/// Whether a request body looks like JSON (by Content-Type).
pub(crate) fn is_json(h: &HeaderMap) -> bool {
    header(h, header::CONTENT_TYPE).map(|c| c.contains("json")).unwrap_or(false)
}
