use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A photometric band. The known ZTF, ATLAS and LSST bands have variants; anything else is
/// kept as [`Band::Other`].
///
/// Names follow sncosmo, as SkyPortal uses them: `ztfg`, `ztfr`, `ztfi`, `atlasc`,
/// `atlaso`, `lsstu` ... `lssty`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    /// ZTF g.
    ZtfG,
    /// ZTF r.
    ZtfR,
    /// ZTF i.
    ZtfI,
    /// ATLAS cyan.
    AtlasC,
    /// ATLAS orange.
    AtlasO,
    /// LSST u.
    LsstU,
    /// LSST g.
    LsstG,
    /// LSST r.
    LsstR,
    /// LSST i.
    LsstI,
    /// LSST z.
    LsstZ,
    /// LSST y.
    LsstY,
    /// Any other band, by name.
    Other(String),
}

impl Band {
    /// The sncosmo-style name (`ztfg`, `atlaso`, `lsstr`, or the other name as given).
    pub fn name(&self) -> &str {
        match self {
            Band::ZtfG => "ztfg",
            Band::ZtfR => "ztfr",
            Band::ZtfI => "ztfi",
            Band::AtlasC => "atlasc",
            Band::AtlasO => "atlaso",
            Band::LsstU => "lsstu",
            Band::LsstG => "lsstg",
            Band::LsstR => "lsstr",
            Band::LsstI => "lssti",
            Band::LsstZ => "lsstz",
            Band::LsstY => "lssty",
            Band::Other(s) => s,
        }
    }

    /// From a sncosmo-style name (case-insensitive); unknown names become `Other`.
    pub fn from_name(s: &str) -> Band {
        match s.trim().to_ascii_lowercase().as_str() {
            "ztfg" => Band::ZtfG,
            "ztfr" => Band::ZtfR,
            "ztfi" => Band::ZtfI,
            "atlasc" => Band::AtlasC,
            "atlaso" => Band::AtlasO,
            "lsstu" => Band::LsstU,
            "lsstg" => Band::LsstG,
            "lsstr" => Band::LsstR,
            "lssti" => Band::LsstI,
            "lsstz" => Band::LsstZ,
            "lssty" => Band::LsstY,
            _ => Band::Other(s.trim().to_string()),
        }
    }

    /// A ZTF filter id as ALeRCE sends it (1 = g, 2 = r, 3 = i).
    pub fn from_ztf_fid(fid: i64) -> Option<Band> {
        match fid {
            1 => Some(Band::ZtfG),
            2 => Some(Band::ZtfR),
            3 => Some(Band::ZtfI),
            _ => None,
        }
    }

    /// An ATLAS filter letter (`c`, `o`); other letters become `Other("atlas<x>")`.
    pub fn from_atlas_filter(f: &str) -> Band {
        match f.trim() {
            "c" => Band::AtlasC,
            "o" => Band::AtlasO,
            other => Band::Other(format!("atlas{other}")),
        }
    }

    /// An LSST band letter (`u`, `g`, `r`, `i`, `z`, `y`).
    pub fn from_lsst_letter(f: &str) -> Band {
        match f.trim() {
            "u" => Band::LsstU,
            "g" => Band::LsstG,
            "r" => Band::LsstR,
            "i" => Band::LsstI,
            "z" => Band::LsstZ,
            "y" => Band::LsstY,
            other => Band::Other(format!("lsst{other}")),
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Band {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Band::from_name(s))
    }
}

impl Serialize for Band {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Band {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Band::from_name(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in [Band::ZtfG, Band::AtlasO, Band::LsstY] {
            assert_eq!(Band::from_name(b.name()), b);
        }
        assert_eq!(Band::from_name("sdssr"), Band::Other("sdssr".into()));
        assert_eq!(Band::from_ztf_fid(2), Some(Band::ZtfR));
        assert_eq!(Band::from_ztf_fid(9), None);
        assert_eq!(Band::from_atlas_filter("c"), Band::AtlasC);
        assert_eq!(Band::from_atlas_filter("H"), Band::Other("atlasH".into()));
        assert_eq!(serde_json::to_string(&Band::ZtfG).unwrap(), "\"ztfg\"");
    }
}
