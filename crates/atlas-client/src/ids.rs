//! ATLAS object ids and list references.

use std::fmt;
use std::str::FromStr;

use broker_core::{Error, Result};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ATLAS object id: a 19-digit integer such as `1161600211221604900`.
///
/// Ids exceed the precision of `f64`, so they are kept as `u64` everywhere (JSON integers
/// are decoded as integers, never through a float).
///
/// Ids given by a user are validated ([`AtlasId::new`], [`FromStr`], `TryFrom`): exactly
/// 19 decimal digits. Ids decoded from the server are taken as they come (any non-negative
/// integer, or a string of digits), so a server change never breaks decoding.
///
/// ```
/// use atlas_client::AtlasId;
/// let id: AtlasId = "1161600211221604900".parse().unwrap();
/// assert_eq!(id.get(), 1_161_600_211_221_604_900);
/// assert_eq!(id.to_string(), "1161600211221604900");
/// let err = "11616002".parse::<AtlasId>().unwrap_err();
/// assert!(err.to_string().contains("19-digit integer"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AtlasId(u64);

const MIN_ID: u64 = 1_000_000_000_000_000_000;
const MAX_ID: u64 = 9_999_999_999_999_999_999;

fn bad_id(shown: &str) -> Error {
    Error::invalid(
        "id",
        format!("{shown:?} is not an ATLAS object id: use a 19-digit integer such as 1161600211221604900"),
    )
}

impl AtlasId {
    /// A validated id: exactly 19 decimal digits.
    pub fn new(id: u64) -> Result<Self> {
        if (MIN_ID..=MAX_ID).contains(&id) { Ok(AtlasId(id)) } else { Err(bad_id(&id.to_string())) }
    }

    /// Parses a user-supplied id (surrounding whitespace is ignored).
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.len() != 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_id(t));
        }
        t.parse::<u64>().map_err(|_| bad_id(t)).and_then(Self::new)
    }

    /// Parses many ids; the first bad one fails the whole call (its position is named).
    pub fn parse_many<I, S>(ids: I) -> Result<Vec<AtlasId>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ids.into_iter()
            .enumerate()
            .map(|(i, s)| {
                Self::parse(s.as_ref()).map_err(|e| match e {
                    Error::InvalidInput { message, .. } => Error::invalid(format!("ids[{i}]"), message),
                    other => other,
                })
            })
            .collect()
    }

    /// An id taken from server data without validation.
    pub fn from_server(id: u64) -> Self {
        AtlasId(id)
    }

    /// The id as an integer.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for AtlasId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for AtlasId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<u64> for AtlasId {
    type Error = Error;
    fn try_from(v: u64) -> Result<Self> {
        Self::new(v)
    }
}

impl TryFrom<i64> for AtlasId {
    type Error = Error;
    fn try_from(v: i64) -> Result<Self> {
        u64::try_from(v).map_err(|_| bad_id(&v.to_string())).and_then(Self::new)
    }
}

impl TryFrom<&str> for AtlasId {
    type Error = Error;
    fn try_from(v: &str) -> Result<Self> {
        Self::parse(v)
    }
}

impl TryFrom<String> for AtlasId {
    type Error = Error;
    fn try_from(v: String) -> Result<Self> {
        Self::parse(&v)
    }
}

impl From<AtlasId> for u64 {
    fn from(id: AtlasId) -> u64 {
        id.0
    }
}

impl Serialize for AtlasId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for AtlasId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AtlasId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ATLAS object id (a non-negative integer)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<AtlasId, E> {
                Ok(AtlasId(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<AtlasId, E> {
                u64::try_from(v).map(AtlasId).map_err(|_| E::custom(format!("negative object id {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<AtlasId, E> {
                // A float id has already lost precision: refuse it rather than guess.
                Err(E::custom(format!("object id {v} is a float; ids must be integers")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<AtlasId, E> {
                v.trim().parse::<u64>().map(AtlasId).map_err(|_| E::custom(format!("{v:?} is not an object id")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The core detection lists of the ATLAS Transient Server (`getcustomlist=False`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectionList {
    /// 0: garbage.
    Garbage,
    /// 1: follow-up.
    FollowUp,
    /// 2: good.
    Good,
    /// 3: possible.
    Possible,
    /// 4: eyeball.
    Eyeball,
    /// 5: attic.
    Attic,
    /// 6: stars.
    Stars,
    /// 7: AGN.
    Agn,
    /// 8: fast track.
    Fasttrack,
    /// 9: movers.
    Movers,
    /// 10: Magellanic Clouds.
    MagellanicClouds,
    /// 11: high proper-motion stars.
    PmStars,
    /// 12: galaxy candidates.
    Galcand,
    /// 13: duplicates.
    Duplicates,
}

impl DetectionList {
    /// Every core list, in id order.
    pub const ALL: [DetectionList; 14] = [
        DetectionList::Garbage,
        DetectionList::FollowUp,
        DetectionList::Good,
        DetectionList::Possible,
        DetectionList::Eyeball,
        DetectionList::Attic,
        DetectionList::Stars,
        DetectionList::Agn,
        DetectionList::Fasttrack,
        DetectionList::Movers,
        DetectionList::MagellanicClouds,
        DetectionList::PmStars,
        DetectionList::Galcand,
        DetectionList::Duplicates,
    ];

    /// The server's list id (`objectlistid` / `objectlist`).
    pub fn id(self) -> u32 {
        match self {
            DetectionList::Garbage => 0,
            DetectionList::FollowUp => 1,
            DetectionList::Good => 2,
            DetectionList::Possible => 3,
            DetectionList::Eyeball => 4,
            DetectionList::Attic => 5,
            DetectionList::Stars => 6,
            DetectionList::Agn => 7,
            DetectionList::Fasttrack => 8,
            DetectionList::Movers => 9,
            DetectionList::MagellanicClouds => 10,
            DetectionList::PmStars => 11,
            DetectionList::Galcand => 12,
            DetectionList::Duplicates => 13,
        }
    }

    /// The name `atlasapiclient` uses (`garbage`, `follow_up`, ..., `duplicates`).
    pub fn name(self) -> &'static str {
        match self {
            DetectionList::Garbage => "garbage",
            DetectionList::FollowUp => "follow_up",
            DetectionList::Good => "good",
            DetectionList::Possible => "possible",
            DetectionList::Eyeball => "eyeball",
            DetectionList::Attic => "attic",
            DetectionList::Stars => "stars",
            DetectionList::Agn => "agn",
            DetectionList::Fasttrack => "fasttrack",
            DetectionList::Movers => "movers",
            DetectionList::MagellanicClouds => "magellanic_clouds",
            DetectionList::PmStars => "pm_stars",
            DetectionList::Galcand => "galcand",
            DetectionList::Duplicates => "duplicates",
        }
    }

    /// The list with this id.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.id() == id)
    }

    /// The list with this name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.name() == n)
    }
}

impl fmt::Display for DetectionList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The custom lists (object groups) known to `atlasapiclient` (main branch), by name and id.
/// New custom lists appear on the server without a client release: use
/// [`ListRef::custom`] with the raw id for those.
pub const KNOWN_CUSTOM_LISTS: [(&str, u32); 9] = [
    ("mookodi", 2),
    ("salt", 14),
    ("mookodi_live", 16),
    ("mookodi_peak", 17),
    ("cv", 40),
    ("mdwarf", 56),
    ("heloise", 72),
    ("vra", 73),
    ("dummy", 999),
];

/// A list on the server: a core detection list or a custom list (object group), by id.
///
/// The two namespaces overlap (`good` is detection list 2, `mookodi` is custom list 2), so a
/// reference always says which one it means.
///
/// ```
/// use atlas_client::{ListRef, DetectionList};
/// assert_eq!(ListRef::by_name("eyeball").unwrap(), ListRef::Detection(4));
/// assert_eq!(ListRef::by_name("mookodi").unwrap(), ListRef::Custom(2));
/// assert_eq!(ListRef::from(DetectionList::Good), ListRef::Detection(2));
/// assert_eq!(ListRef::custom(123), ListRef::Custom(123)); // a list newer than this crate
/// assert!(ListRef::by_name("nope").unwrap_err().to_string().contains("eyeball"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListRef {
    /// A core detection list (`objectlistid=<id>&getcustomlist=False`).
    Detection(u32),
    /// A custom list / object group (`objectlistid=<id>&getcustomlist=True`).
    Custom(u32),
}

impl ListRef {
    /// A core detection list by raw id.
    pub fn detection(id: u32) -> Self {
        ListRef::Detection(id)
    }
    /// A custom list (object group) by raw id.
    pub fn custom(id: u32) -> Self {
        ListRef::Custom(id)
    }
    /// A list by the name `atlasapiclient` uses: a detection list (`garbage` ... `duplicates`)
    /// or a known custom list (`mookodi`, `vra`, `salt`, ...).
    pub fn by_name(name: &str) -> Result<Self> {
        if let Some(l) = DetectionList::from_name(name) {
            return Ok(ListRef::Detection(l.id()));
        }
        let n = name.trim().to_ascii_lowercase();
        if let Some((_, id)) = KNOWN_CUSTOM_LISTS.iter().find(|(k, _)| *k == n) {
            return Ok(ListRef::Custom(*id));
        }
        let det: Vec<&str> = DetectionList::ALL.iter().map(|l| l.name()).collect();
        let cus: Vec<&str> = KNOWN_CUSTOM_LISTS.iter().map(|(k, _)| *k).collect();
        Err(Error::invalid(
            "list",
            format!(
                "{name:?} is not a known list: detection lists are {}; custom lists are {}; \
                 or use ListRef::custom(<id>) for another custom list",
                det.join(", "),
                cus.join(", ")
            ),
        ))
    }
    /// The raw id.
    pub fn id(self) -> u32 {
        match self {
            ListRef::Detection(i) | ListRef::Custom(i) => i,
        }
    }
    /// Whether this is a custom list.
    pub fn is_custom(self) -> bool {
        matches!(self, ListRef::Custom(_))
    }
}

impl From<DetectionList> for ListRef {
    fn from(l: DetectionList) -> Self {
        ListRef::Detection(l.id())
    }
}

impl FromStr for ListRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::by_name(s)
    }
}

/// A custom list (object group) id, for adding and removing objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomList(pub u32);

impl CustomList {
    /// A known custom list by name (`mookodi`, `vra`, `salt`, ...).
    pub fn by_name(name: &str) -> Result<Self> {
        match ListRef::by_name(name)? {
            ListRef::Custom(id) => Ok(CustomList(id)),
            ListRef::Detection(_) => Err(Error::invalid(
                "list",
                format!(
                    "{name:?} is a detection list, not a custom list: custom lists are {}",
                    KNOWN_CUSTOM_LISTS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    /// The raw id.
    pub fn id(self) -> u32 {
        self.0
    }
}

impl From<u32> for CustomList {
    fn from(id: u32) -> Self {
        CustomList(id)
    }
}

impl FromStr for CustomList {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::by_name(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate() {
        assert!(AtlasId::parse("1161600211221604900").is_ok());
        assert!(AtlasId::parse(" 1161600211221604900 ").is_ok());
        for bad in ["", "116160021122160490", "11616002112216049000", "1161600211221604a00", "-161600211221604900"] {
            let e = AtlasId::parse(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{bad}");
        }
        assert!(AtlasId::new(999_999_999_999_999_999).is_err());
        assert!(AtlasId::try_from(-1i64).is_err());
        let e = AtlasId::parse_many(["1161600211221604900", "x"]).unwrap_err();
        assert!(e.to_string().starts_with("invalid ids[1]:"), "{e}");
    }

    #[test]
    fn ids_decode_as_integers() {
        let v: Vec<AtlasId> = serde_json::from_str("[1161600211221604900, \"1000005291314656200\"]").unwrap();
        assert_eq!(v[0].get(), 1_161_600_211_221_604_900);
        assert_eq!(v[1].get(), 1_000_005_291_314_656_200);
        assert!(serde_json::from_str::<AtlasId>("1.1616002112216049e18").is_err());
        assert_eq!(serde_json::to_string(&v[0]).unwrap(), "1161600211221604900");
    }

    #[test]
    fn lists_by_name_and_id() {
        for l in DetectionList::ALL {
            assert_eq!(DetectionList::from_id(l.id()), Some(l));
            assert_eq!(DetectionList::from_name(l.name()), Some(l));
        }
        assert_eq!(ListRef::by_name("SALT").unwrap(), ListRef::Custom(14));
        assert_eq!(CustomList::by_name("vra").unwrap(), CustomList(73));
        assert!(CustomList::by_name("eyeball").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_19_digit_id_round_trips(n in MIN_ID..=u64::MAX) {
            let s = n.to_string();
            if s.len() == 19 {
                let id = AtlasId::parse(&s).unwrap();
                proptest::prop_assert_eq!(id.to_string(), s.clone());
                let back: AtlasId = serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
                proptest::prop_assert_eq!(back, id);
            } else {
                proptest::prop_assert!(AtlasId::parse(&s).is_err());
            }
        }
    }
}
