//! TNS names ("SN 2023ixf", "AT2023ixf", "2023ixf") and the survey names in `internal_names`.
//!
//! A TNS designation is a four-digit year followed by letters; the prefix (`AT` for a
//! transient, `SN` once classified as a supernova, `FRB`, ...) is not part of the object's
//! identity: the API's `objname` is the name without it (`get/object` with
//! `{"objname": "2023ixf"}`; the object page is `/object/2023ixf`). [`TnsName::parse`]
//! accepts all the usual spellings and rejects anything else before a request is sent.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Prefixes accepted in front of a designation (case-insensitive). `AT`, `SN` and `FRB` are
/// the ones the TNS documentation and sample code use.
pub const KNOWN_PREFIXES: [&str; 3] = ["AT", "SN", "FRB"];

/// A TNS designation: year and letters, with the prefix it was written with (if any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TnsName {
    year: u16,
    letters: String,
    prefix: Option<String>,
}

impl TnsName {
    /// Parses `"SN 2023ixf"`, `"AT2023ixf"`, `"at_2023ixf"`, `"2023ixf"`, `"2017A"`. The
    /// letters are normalised: one letter upper case (the first 26 names of a year, `2017A`),
    /// more letters lower case (`2023ixf`).
    pub fn parse(input: &str) -> Result<TnsName> {
        let bad = |why: &str| {
            Error::invalid(
                "name",
                format!(
                    "{input:?} is not a TNS name ({why}): use a four-digit year and letters, optionally after AT, SN or FRB, e.g. \"SN 2023ixf\", \"AT2023ixf\" or \"2023ixf\""
                ),
            )
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let split = s.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (head, rest) = s.split_at(split);
        let prefix = if head.is_empty() {
            None
        } else {
            let up = head.to_ascii_uppercase();
            if !KNOWN_PREFIXES.contains(&up.as_str()) {
                return Err(bad(&format!("unknown prefix {head:?}")));
            }
            Some(up)
        };
        let rest = rest.trim_start_matches([' ', '_', '-']);
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits != 4 {
            return Err(bad("the year must have four digits"));
        }
        let year: u16 = rest[..4].parse().map_err(|_| bad("the year must have four digits"))?;
        if year < 1000 {
            // `0233ixf` would come back as `233ixf`: no TNS year starts with 0.
            return Err(bad("the year cannot start with 0"));
        }
        let letters = &rest[4..];
        if letters.is_empty() || letters.len() > 5 || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad("the year must be followed by one to five letters"));
        }
        let letters = if letters.len() == 1 { letters.to_ascii_uppercase() } else { letters.to_ascii_lowercase() };
        Ok(TnsName { year, letters, prefix })
    }

    /// The designation without prefix, as the API's `objname` wants it: `2023ixf`.
    pub fn objname(&self) -> String {
        format!("{}{}", self.year, self.letters)
    }
    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// The letters after the year.
    pub fn letters(&self) -> &str {
        &self.letters
    }
    /// The prefix the name was written with (`"SN"`), if any.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }
    /// The same name with another prefix (`SN` after a classification).
    pub fn with_prefix(mut self, prefix: Option<&str>) -> Self {
        self.prefix = prefix.map(|p| p.to_string());
        self
    }
    /// Whether two names designate the same object (prefixes ignored).
    pub fn same_object(&self, other: &TnsName) -> bool {
        self.year == other.year && self.letters == other.letters
    }
}

impl fmt::Display for TnsName {
    /// `SN 2023ixf` with a prefix, `2023ixf` without.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            Some(p) => write!(f, "{p} {}{}", self.year, self.letters),
            None => write!(f, "{}{}", self.year, self.letters),
        }
    }
}

impl FromStr for TnsName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TnsName::parse(s)
    }
}

/// The survey a survey-internal name belongs to, judged from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Survey {
    /// `ZTF` + two digits + seven lower-case letters (`ZTF23aaklqou`).
    Ztf,
    /// `ATLAS` + two digits + letters (`ATLAS23np`).
    Atlas,
    /// Pan-STARRS: `PS` + two digits + letters (`PS23abc`).
    PanStarrs,
    /// `GOTO` + two digits + letters.
    Goto,
    /// Rubin/LSST: `LSST-...-<diaObjectId>` (`LSST-P-DO-<int>`).
    Lsst,
    /// Gaia alerts: `Gaia` + two digits + letters.
    Gaia,
    /// ASAS-SN: `ASASSN-` + two digits + letters.
    AsasSn,
    /// Anything else.
    Other,
}

impl Survey {
    /// A short label: `ZTF`, `ATLAS`, `Pan-STARRS`, `GOTO`, `LSST`, `Gaia`, `ASAS-SN`, `other`.
    pub fn label(self) -> &'static str {
        match self {
            Survey::Ztf => "ZTF",
            Survey::Atlas => "ATLAS",
            Survey::PanStarrs => "Pan-STARRS",
            Survey::Goto => "GOTO",
            Survey::Lsst => "LSST",
            Survey::Gaia => "Gaia",
            Survey::AsasSn => "ASAS-SN",
            Survey::Other => "other",
        }
    }

    /// The survey of one internal name.
    pub fn of(name: &str) -> Survey {
        let n = name.trim();
        let yy_letters = |rest: &str, lower_len: Option<usize>| {
            let b = rest.as_bytes();
            b.len() > 2
                && b[0].is_ascii_digit()
                && b[1].is_ascii_digit()
                && rest[2..].chars().all(|c| c.is_ascii_alphabetic())
                && lower_len.is_none_or(|l| rest.len() - 2 == l && rest[2..].chars().all(|c| c.is_ascii_lowercase()))
        };
        if let Some(r) = n.strip_prefix("ZTF") {
            if yy_letters(r, Some(7)) {
                return Survey::Ztf;
            }
        }
        if let Some(r) = n.strip_prefix("ATLAS") {
            if yy_letters(r, None) {
                return Survey::Atlas;
            }
        }
        if let Some(r) = n.strip_prefix("PS") {
            if yy_letters(r, None) {
                return Survey::PanStarrs;
            }
        }
        if let Some(r) = n.strip_prefix("GOTO") {
            if yy_letters(r, None) {
                return Survey::Goto;
            }
        }
        if let Some(r) = n.strip_prefix("Gaia") {
            if yy_letters(r, None) {
                return Survey::Gaia;
            }
        }
        if let Some(r) = n.strip_prefix("ASASSN-") {
            if yy_letters(r, None) {
                return Survey::AsasSn;
            }
        }
        if let Some(r) = n.strip_prefix("LSST-") {
            if r.rsplit('-').next().is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit())) {
                return Survey::Lsst;
            }
        }
        Survey::Other
    }
}

impl fmt::Display for Survey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The survey-internal names of an object (`internal_names`: a comma-separated list, which
/// TNS may start with a comma), each with its survey.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalNames {
    names: Vec<(Survey, String)>,
}

impl InternalNames {
    /// Splits TNS's comma-separated `internal_names` (empty parts and spaces dropped).
    pub fn parse(s: &str) -> InternalNames {
        let names =
            s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(|n| (Survey::of(n), n.to_string())).collect();
        InternalNames { names }
    }
    /// All names, in TNS's order, with their surveys.
    pub fn all(&self) -> &[(Survey, String)] {
        &self.names
    }
    /// The names of one survey.
    pub fn of(&self, survey: Survey) -> impl Iterator<Item = &str> {
        self.names.iter().filter(move |(s, _)| *s == survey).map(|(_, n)| n.as_str())
    }
    /// The first name of one survey.
    pub fn first(&self, survey: Survey) -> Option<&str> {
        self.of(survey).next()
    }
    /// The ZTF object id, if any.
    pub fn ztf(&self) -> Option<&str> {
        self.first(Survey::Ztf)
    }
    /// The ATLAS designation, if any.
    pub fn atlas(&self) -> Option<&str> {
        self.first(Survey::Atlas)
    }
    /// The Pan-STARRS name, if any.
    pub fn pan_starrs(&self) -> Option<&str> {
        self.first(Survey::PanStarrs)
    }
    /// The GOTO name, if any.
    pub fn goto(&self) -> Option<&str> {
        self.first(Survey::Goto)
    }
    /// The Rubin/LSST name, if any.
    pub fn lsst(&self) -> Option<&str> {
        self.first(Survey::Lsst)
    }
    /// Whether there is no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    /// How many names.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_object_agree() {
        let forms = ["SN 2023ixf", "AT2023ixf", "2023ixf", "sn2023IXF", " at_2023ixf ", "SN-2023ixf"];
        let names: Vec<TnsName> = forms.iter().map(|f| TnsName::parse(f).unwrap()).collect();
        for n in &names {
            assert_eq!(n.objname(), "2023ixf");
            assert!(n.same_object(&names[0]));
        }
        assert_eq!(names[0].to_string(), "SN 2023ixf");
        assert_eq!(names[2].to_string(), "2023ixf");
        assert_eq!(TnsName::parse("2017a").unwrap().objname(), "2017A");
    }

    #[test]
    fn malformed_names_are_refused_with_what_is_valid() {
        for bad in
            ["", "ZTF23abcdefg", "SN 23ixf", "2023", "2023ixf1", "XX 2023ixf", "2023abcdef", "20233ixf", "0233ixf"]
        {
            let e = TnsName::parse(bad).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("four-digit year"), "{bad}: {msg}");
        }
    }

    #[test]
    fn internal_names_split_by_survey() {
        let n = InternalNames::parse(
            ",ZTF23aaklqou, ATLAS23np,PS23abc,GOTO23xy,LSST-P-DO-313853,Gaia23bcd,ASASSN-23ab,XYZ1",
        );
        assert_eq!(n.ztf(), Some("ZTF23aaklqou"));
        assert_eq!(n.atlas(), Some("ATLAS23np"));
        assert_eq!(n.pan_starrs(), Some("PS23abc"));
        assert_eq!(n.goto(), Some("GOTO23xy"));
        assert_eq!(n.lsst(), Some("LSST-P-DO-313853"));
        assert_eq!(n.first(Survey::Gaia), Some("Gaia23bcd"));
        assert_eq!(n.first(Survey::AsasSn), Some("ASASSN-23ab"));
        assert_eq!(n.first(Survey::Other), Some("XYZ1"));
        assert_eq!(n.len(), 8);
        assert!(InternalNames::parse(" , ").is_empty());
        assert_eq!(Survey::of("ZTF23abc"), Survey::Other, "ZTF ids have seven letters");
    }
}
