//! A response read in full, and decoding JSON bodies (path of the failing field, bodies cut
//! short, Python's `NaN` and `Infinity`).

use super::*;

/// A successful (status < 400) response, body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (decompressed when the server used `Content-Encoding: gzip`).
    pub body: Bytes,
    /// The final URL, after redirects.
    pub url: Url,
}

impl Response {
    /// Decodes the body as JSON; a failure names the path of the failing field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body, &self.url)
    }
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
}

/// Whether a body is JSON that ends before its document does (not merely invalid: a
/// Python `NaN` is a syntax error, not a truncation).
///
/// A body cut inside a number (after `-`, `.`, `e`, `E` or an exponent sign) is cut short
/// too: serde_json's skipping of a value calls that an invalid number, so such a body is
/// checked again with the full parser, which reports the end of input. So is a cut body
/// with a Python `NaN` or `Infinity` before the cut (the Django servers write them): they
/// are read as null first, as [`decode_json_lenient`] does.
pub fn is_truncated_json(body: &[u8]) -> bool {
    cut_short(body, false)
}

/// [`is_truncated_json`]; `finite` once the non-finite tokens were read as null (at most
/// once: a `NaN` inside a string stays, and must not send the check round again).
fn cut_short(body: &[u8], finite: bool) -> bool {
    use serde_json::error::Category;
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => false,
        Err(e) if e.classify() == Category::Eof => true,
        Err(e) if e.classify() == Category::Syntax => {
            let ends_inside_a_number =
                body.trim_ascii_end().last().is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
            if ends_inside_a_number
                && serde_json::from_slice::<serde_json::Value>(body).is_err_and(|e| e.classify() == Category::Eof)
            {
                return true;
            }
            // Only a body that does not parse pays for the look at non-finite tokens.
            match replace_nonfinite_json(body) {
                std::borrow::Cow::Owned(read_as_null) if !finite => cut_short(&read_as_null, true),
                _ => false,
            }
        }
        Err(_) => false,
    }
}

/// Decodes JSON with the path of the failing field in the error.
pub fn decode_json<T: DeserializeOwned>(body: &[u8], url: &Url) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::Decode { path, message: e.into_inner().to_string(), excerpt: excerpt(body), url: redact_url(url) }
    })
}

/// Replaces the bare `NaN`, `Infinity` and `-Infinity` tokens that Python servers write
/// (outside strings) with `null`, so that strict JSON decoders accept the body. Borrows the
/// input when there is nothing to replace.
pub fn replace_nonfinite_json(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let needs = body.windows(3).any(|w| w == b"NaN") || body.windows(8).any(|w| w == b"Infinity");
    if !needs {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_str = true;
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &body[i..];
        if rest.starts_with(b"NaN") {
            out.extend_from_slice(b"null");
            i += 3;
        } else if rest.starts_with(b"-Infinity") {
            out.extend_from_slice(b"null");
            i += 9;
        } else if rest.starts_with(b"Infinity") {
            out.extend_from_slice(b"null");
            i += 8;
        } else {
            out.push(b);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`decode_json`] after [`replace_nonfinite_json`]: for servers that emit `NaN`.
pub fn decode_json_lenient<T: DeserializeOwned>(body: &[u8], url: &Url) -> Result<T> {
    decode_json(&replace_nonfinite_json(body), url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonfinite_tokens_become_null_outside_strings() {
        let body = br#"{"a": NaN, "b": -Infinity, "c": "NaN and Infinity", "d": [Infinity, 1.5], "e": "q\"NaN"}"#;
        let fixed = replace_nonfinite_json(body);
        let v: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert!(v["a"].is_null() && v["b"].is_null() && v["d"][0].is_null());
        assert_eq!(v["c"], "NaN and Infinity");
        assert_eq!(v["e"], "q\"NaN");
        assert!(matches!(replace_nonfinite_json(b"{}"), std::borrow::Cow::Borrowed(_)));
    }
}
