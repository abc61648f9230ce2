//! [`MultisurveyOid`]: an LSST id or a ZTF name, and the form each route reads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The ZTF survey prefix of the multisurvey master ids (`core/idmapper/idmapper.py`:
/// survey id 1 shifted left by `63 - 8` bits).
pub(super) const ZTF_MASTER_PREFIX: i64 = 1 << 55;
pub(super) const TWENTY_SIX_POW_7: i64 = 8_031_810_176;

/// An object id of the multisurvey API: a 64-bit LSST id or a ZTF name.
///
/// The server (`alercebroker/web-services` `multisurveys-apis`) keeps every object under a
/// 64-bit integer: LSST `diaObjectId`s as they are, ZTF names as a "master id"
/// (`core/idmapper`). Its routes differ in what they read:
///
/// - `object_api/object`, `probability_api/probability`, `magstat_api/magstats`,
///   `crossmatch_api/crossmatch`, the `oid` filter of `object_api/list_objects`, and the
///   light-curve routes given **one** `oid` compare it with the integer column: a ZTF
///   name must go as its master id ([`MultisurveyOid::wire_single`]).
/// - The light-curve routes given **several** `oid`s and the `conesearch/` routes convert
///   ZTF names themselves: there the name goes as is ([`MultisurveyOid::wire_batch`]).
/// - Replies name ZTF objects by their ZTF name in `list_objects` items and conesearch
///   objects, and by the master id elsewhere; this crate turns those master ids back into
///   names ([`MultisurveyOid::from_ztf_master_id`]) on rows of survey `ztf`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum MultisurveyOid {
    /// A 64-bit LSST `diaObjectId` (or another numeric multisurvey id).
    Lsst(i64),
    /// A ZTF object name: `ZTF`, two digits, seven lowercase letters.
    Ztf(String),
}

impl MultisurveyOid {
    /// Parses user input: digits are an LSST id, `ZTF` + 2 digits + 7 lowercase letters a
    /// ZTF name; anything else is an invalid-input error naming both forms.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .map(MultisurveyOid::Lsst)
                .map_err(|_| Error::invalid("oid", format!("{t} does not fit a 64-bit LSST object id")));
        }
        if is_ztf_name(t) {
            return Ok(MultisurveyOid::Ztf(t.to_string()));
        }
        Err(Error::invalid(
            "oid",
            format!(
                "{s:?} is neither an LSST object id (digits) nor a ZTF name (ZTF + 2 digits + 7 lowercase letters)"
            ),
        ))
    }

    /// The survey this id belongs to: `ztf` for a ZTF name, else `lsst_survey`.
    pub fn survey<'s>(&'s self, lsst_survey: &'s str) -> &'s str {
        match self {
            MultisurveyOid::Ztf(_) => "ztf",
            MultisurveyOid::Lsst(_) => lsst_survey,
        }
    }

    /// The form the routes that read one integer id take: the LSST id, or the ZTF name's
    /// master id.
    pub fn wire_single(&self) -> Result<String> {
        match self {
            MultisurveyOid::Lsst(n) => Ok(n.to_string()),
            MultisurveyOid::Ztf(name) => ztf_master_id(name).map(|n| n.to_string()).ok_or_else(|| {
                Error::invalid("oid", format!("{name:?} is not a ZTF name (ZTF + 2 digits + 7 lowercase letters)"))
            }),
        }
    }

    /// The form the routes that convert ZTF names themselves take: the LSST id, or the
    /// ZTF name.
    pub fn wire_batch(&self) -> String {
        self.to_string()
    }

    /// The ZTF name of a multisurvey master id, when the id carries the ZTF survey prefix.
    pub fn from_ztf_master_id(id: i64) -> Option<String> {
        if id >> 55 != 1 {
            return None;
        }
        let rest = id & (ZTF_MASTER_PREFIX - 1);
        let year = (rest / TWENTY_SIX_POW_7) % 100;
        let mut seq = rest % TWENTY_SIX_POW_7;
        let mut letters = [b'a'; 7];
        for slot in letters.iter_mut().rev() {
            *slot = b'a' + u8::try_from(seq % 26).ok()?;
            seq /= 26;
        }
        Some(format!("ZTF{year:02}{}", std::str::from_utf8(&letters).ok()?))
    }

    /// The ZTF name, for a ZTF id.
    pub fn ztf_name(&self) -> Option<&str> {
        match self {
            MultisurveyOid::Ztf(n) => Some(n),
            MultisurveyOid::Lsst(_) => None,
        }
    }

    /// The LSST id, for a numeric id.
    pub fn lsst_id(&self) -> Option<i64> {
        match self {
            MultisurveyOid::Lsst(n) => Some(*n),
            MultisurveyOid::Ztf(_) => None,
        }
    }

    /// Turns a master id read from a row of survey `ztf` into the ZTF name.
    pub(super) fn normalise(&mut self, survey: Option<&str>) {
        if let MultisurveyOid::Lsst(n) = self {
            if survey.is_some_and(|s| s.eq_ignore_ascii_case("ztf")) {
                if let Some(name) = Self::from_ztf_master_id(*n) {
                    *self = MultisurveyOid::Ztf(name);
                }
            }
        }
    }
}

/// `ZTF` + 2 digits + 7 lowercase ASCII letters (the server's `is_ztf_oid_valid`).
pub(super) fn is_ztf_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && &b[..3] == b"ZTF"
        && b[3..5].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_lowercase)
}

/// The multisurvey master id of a ZTF name (`core/idmapper/ztf.py`).
pub(super) fn ztf_master_id(name: &str) -> Option<i64> {
    if !is_ztf_name(name) {
        return None;
    }
    let b = name.as_bytes();
    let year = i64::from(b[3] - b'0') * 10 + i64::from(b[4] - b'0');
    let seq = b[5..].iter().fold(0i64, |acc, c| acc * 26 + i64::from(c - b'a'));
    Some(ZTF_MASTER_PREFIX + year * TWENTY_SIX_POW_7 + seq)
}

impl fmt::Display for MultisurveyOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultisurveyOid::Lsst(n) => write!(f, "{n}"),
            MultisurveyOid::Ztf(s) => f.write_str(s),
        }
    }
}

impl From<i64> for MultisurveyOid {
    fn from(n: i64) -> Self {
        MultisurveyOid::Lsst(n)
    }
}

impl std::str::FromStr for MultisurveyOid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for MultisurveyOid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MultisurveyOid;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 64-bit object id or a ZTF name")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(MultisurveyOid::Lsst(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                i64::try_from(v).map(MultisurveyOid::Lsst).map_err(|_| E::custom(format!("object id {v} exceeds i64")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                let t = v.trim();
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    return t.parse().map(MultisurveyOid::Lsst).map_err(E::custom);
                }
                if t.is_empty() {
                    return Err(E::custom("an empty object id"));
                }
                Ok(MultisurveyOid::Ztf(t.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
