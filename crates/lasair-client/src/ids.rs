//! Surveys and object ids.
//!
//! A ZTF object id is text (`ZTF21abcdefg`); an LSST `diaObjectId` is a signed 64-bit
//! integer that does not fit a double (Python's `json` and most JavaScript clients keep
//! it as an integer only by luck). This crate keeps it as `i64` end to end.
//!
//! The LSST server is not consistent about how it writes it: `object/` validates
//! `objectId` with a DRF `CharField`, so the reply's top-level `diaObjectId` is the
//! **string** the caller sent, while rows from MySQL and Cassandra (`cone/`, `query/`,
//! `diaSourcesList`) carry **integers** (`lsst-uk/lasair-lsst`
//! `webserver/lasairapi/serializers.py::ObjectSerializer` and `reformat`). The
//! deserializers here accept both.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Which Lasair server: Lasair-ZTF (`https://lasair-ztf.lsst.ac.uk/api/`, server
/// `lsst-uk/lasair4`) or Lasair for Rubin/LSST (`https://api.lasair.lsst.ac.uk/api/`, server
/// `lsst-uk/lasair-lsst`).
pub use broker_core::Survey;

/// An object id on either server: ZTF text or an LSST 64-bit integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectId {
    /// A ZTF object id (`ZTF21abcdefg`).
    Ztf(String),
    /// An LSST `diaObjectId`.
    Lsst(i64),
}

impl ObjectId {
    /// Reads an id as a user types it: all digits (with an optional sign) is an LSST id,
    /// anything else a ZTF id.
    pub fn parse(s: &str) -> crate::Result<ObjectId> {
        let t = s.trim();
        if t.is_empty() {
            return Err(crate::Error::invalid("objectId", "the object id is empty"));
        }
        if t.bytes().all(|b| b.is_ascii_digit())
            || (t.starts_with('-') && t.len() > 1 && t[1..].bytes().all(|b| b.is_ascii_digit()))
        {
            return t
                .parse::<i64>()
                .map(ObjectId::Lsst)
                .map_err(|_| crate::Error::invalid("objectId", format!("{t} does not fit a 64-bit LSST diaObjectId")));
        }
        Ok(ObjectId::Ztf(t.to_string()))
    }

    /// The survey the id belongs to.
    pub fn survey(&self) -> Survey {
        match self {
            ObjectId::Ztf(_) => Survey::Ztf,
            ObjectId::Lsst(_) => Survey::Lsst,
        }
    }

    /// The LSST id, if it is one.
    pub fn as_lsst(&self) -> Option<i64> {
        match self {
            ObjectId::Lsst(i) => Some(*i),
            ObjectId::Ztf(_) => None,
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Ztf(s) => f.write_str(s),
            ObjectId::Lsst(i) => write!(f, "{i}"),
        }
    }
}

impl From<i64> for ObjectId {
    fn from(i: i64) -> Self {
        ObjectId::Lsst(i)
    }
}

impl From<&str> for ObjectId {
    fn from(s: &str) -> Self {
        ObjectId::Ztf(s.to_string())
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ObjectId::Ztf(t) => s.serialize_str(t),
            ObjectId::Lsst(i) => s.serialize_i64(*i),
        }
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = ObjectId;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object id (ZTF text or an LSST integer)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ObjectId, E> {
        Ok(ObjectId::Lsst(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ObjectId, E> {
        i64::try_from(v).map(ObjectId::Lsst).map_err(|_| E::custom(format!("{v} does not fit a signed 64-bit id")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ObjectId, E> {
        ObjectId::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 64-bit integer (number or string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} does not fit a signed 64-bit id")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim().parse().map_err(|_| E::custom(format!("{v:?} is not a 64-bit integer")))
    }
}

/// Deserializes an `i64` written either as a JSON integer or as a string of digits
/// (never through a double).
pub fn flex_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(I64Visitor)
}

/// [`flex_i64`] for an optional field (`null` or absent is `None`).
pub fn flex_i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "flex_i64")] i64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_round_trip_without_doubles() {
        let big = 170_000_000_000_000_123_i64; // above 2^53
        assert_eq!(ObjectId::parse(&big.to_string()).unwrap(), ObjectId::Lsst(big));
        assert_eq!(ObjectId::parse("ZTF21abcdefg").unwrap(), ObjectId::Ztf("ZTF21abcdefg".into()));
        let v: ObjectId = serde_json::from_str(&big.to_string()).unwrap();
        assert_eq!(v, ObjectId::Lsst(big));
        let s: ObjectId = serde_json::from_str(&format!("\"{big}\"")).unwrap();
        assert_eq!(s, ObjectId::Lsst(big));
        assert_eq!(serde_json::to_string(&ObjectId::Lsst(big)).unwrap(), big.to_string());
        assert!(ObjectId::parse("99999999999999999999").is_err());
        assert!(ObjectId::parse(" ").is_err());
    }
}
