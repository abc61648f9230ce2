//! The pieces of the hand-written per-point row decoders: borrowed map keys, lenient
//! numbers as types, unknown fields as raw text, and the client's fast row lists.

use super::*;

/// A map key, borrowed from the input when it has no escapes.
pub(super) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// `lenient_f64` as a type.
pub(super) struct LenientF64(pub(super) Option<f64>);
impl<'de> Deserialize<'de> for LenientF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_f64(d).map(LenientF64)
    }
}

/// `lenient_i64` as a type.
pub(super) struct LenientI64(pub(super) Option<i64>);
impl<'de> Deserialize<'de> for LenientI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_i64(d).map(LenientI64)
    }
}

/// A value deserialized as itself.
pub(super) struct Plain<T>(pub(super) T);
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Plain<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Plain)
    }
}

/// How the unknown fields of a per-point row are read: as the raw text of the input (when
/// decoding from a slice, as the client does: no value is built), or as a parsed value
/// written back as text (any other deserializer).
pub(super) trait ExtraText<'de>: Deserialize<'de> {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder);
}

impl<'de> ExtraText<'de> for &'de RawValue {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder) {
        out.push(key, self.get());
    }
}

impl ExtraText<'_> for Value {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder) {
        out.push(key, &self.to_string());
    }
}

/// A per-point row decoded the client's way: unknown fields kept as borrowed raw text, so
/// it decodes only from a slice (the client's `objects/` reply decoder).
pub(crate) struct Fast<T>(pub T);

/// A list of per-point rows decoded the client's way (see [`Fast`]); `null` or absent is
/// empty.
pub(crate) struct FastRows<T>(pub Vec<T>);

impl<T> Default for FastRows<T> {
    fn default() -> Self {
        FastRows(Vec::new())
    }
}

impl<'de, T> Deserialize<'de> for FastRows<T>
where
    Fast<T>: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Option::<Vec<Fast<T>>>::deserialize(d)?.unwrap_or_default();
        Ok(FastRows(rows.into_iter().map(|r| r.0).collect()))
    }
}
