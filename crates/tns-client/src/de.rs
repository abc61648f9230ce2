//! Lenient field decoders: TNS sends some numbers as numbers, as strings, or as `""`.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    U(u64),
    F(f64),
    S(String),
    Other(serde::de::IgnoredAny),
}

/// An optional integer given as a number, a numeric string, `""` or null.
pub(crate) fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::U(u)) => Some(u),
        Some(NumOrText::F(f)) if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 => Some(f as u64),
        Some(NumOrText::S(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// An optional float given as a number, a numeric string, `""` or null.
pub(crate) fn opt_f64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::U(u)) => Some(u as f64),
        Some(NumOrText::F(f)) => Some(f),
        Some(NumOrText::S(s)) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    })
}

/// An optional string given as a string, a number, or null (`""` is None).
pub(crate) fn opt_string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::S(s)) if !s.trim().is_empty() => Some(s),
        Some(NumOrText::U(u)) => Some(u.to_string()),
        Some(NumOrText::F(f)) => Some(f.to_string()),
        _ => None,
    })
}
