//! Checks on user input made before any request, and safe path building.

use broker_core::{Error, Result};

/// Checks an object id (`ZTF21aaqjmps`, `2021abc`): SkyPortal routes accept
/// `[0-9A-Za-z-_.+]+`.
pub(crate) fn obj_id(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'));
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid(
            "obj_id",
            format!("{id:?} is not a valid object id: use letters, digits and `-_.+` (e.g. ZTF21aaqjmps)"),
        ))
    }
}

/// Checks a GCN event's `dateobs` (`2019-04-25T08:18:05`).
pub(crate) fn dateobs(d: &str) -> Result<&str> {
    let ok = !d.is_empty()
        && d.len() <= 64
        && d.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'T' | b':' | b'.' | b'-'));
    if ok {
        Ok(d)
    } else {
        Err(Error::invalid(
            "dateobs",
            format!("{d:?} is not a valid dateobs: use ISO 8601 UTC, e.g. 2019-04-25T08:18:05"),
        ))
    }
}

/// Checks that a text field is not empty.
pub(crate) fn non_empty<'a>(field: &str, v: &'a str) -> Result<&'a str> {
    if v.trim().is_empty() { Err(Error::invalid(field, "must not be empty")) } else { Ok(v) }
}

/// Checks that a number is finite.
pub(crate) fn finite(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() { Ok(v) } else { Err(Error::invalid(field, format!("{v} is not a finite number"))) }
}

/// Checks an optional number is finite.
pub(crate) fn finite_opt(field: &str, v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(x) => finite(field, x).map(Some),
        None => Ok(None),
    }
}

/// Percent-encodes one path segment (everything but unreserved characters).
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a right ascension / declination / radius triple for a cone search (degrees).
pub(crate) fn cone(ra: f64, dec: f64, radius_deg: f64) -> Result<()> {
    broker_core::SkyPosition::new(ra, dec)?;
    if !radius_deg.is_finite() || radius_deg <= 0.0 || radius_deg > 180.0 {
        return Err(Error::invalid("radius", format!("{radius_deg} is not a valid radius: use degrees in (0, 180]")));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(obj_id("ZTF21aaqjmps").is_ok());
        assert!(obj_id("2021abc+x.y_z-1").is_ok());
        let e = obj_id("ZTF/../x").unwrap_err();
        assert!(e.to_string().contains("letters, digits"), "{e}");
        assert!(obj_id("").is_err());
        assert!(dateobs("2019-04-25T08:18:05").is_ok());
        assert!(dateobs("2019-04-25 08:18:05").is_err());
        assert_eq!(segment("bayestar.fits.gz,0"), "bayestar.fits.gz%2C0");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert!(cone(10.0, 20.0, 0.1).is_ok());
        assert!(cone(10.0, 95.0, 0.1).is_err());
        assert!(cone(10.0, 20.0, 0.0).is_err());
    }
}
