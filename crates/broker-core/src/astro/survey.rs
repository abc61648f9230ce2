//! The surveys whose alerts the brokers serve.

use std::fmt;

use crate::error::{Error, Result};

/// Which survey's alert stream (and so which of a broker's servers or APIs): brokers such as
/// Fink and Lasair run one service per survey, with their own routes, ids and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Survey {
    /// The Zwicky Transient Facility: object ids like `ZTF21abfmbix`.
    Ztf,
    /// The Vera C. Rubin Observatory's LSST: 64-bit `diaObjectId`s.
    Lsst,
}

impl Survey {
    /// `ztf` or `lsst` (the unified light curve's `survey` column).
    pub fn name(self) -> &'static str {
        match self {
            Survey::Ztf => "ztf",
            Survey::Lsst => "lsst",
        }
    }
}

impl fmt::Display for Survey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Survey {
    type Err = Error;
    /// `ztf`, or `lsst` (also `rubin`), in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ztf" => Ok(Survey::Ztf),
            "lsst" | "rubin" => Ok(Survey::Lsst),
            other => Err(Error::invalid("survey", format!("{other:?} is not a survey: use `ztf` or `lsst`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_what_is_valid() {
        for s in [Survey::Ztf, Survey::Lsst] {
            assert_eq!(s.name().parse::<Survey>().unwrap(), s);
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(" Rubin ".parse::<Survey>().unwrap(), Survey::Lsst);
        assert_eq!("ZTF".parse::<Survey>().unwrap(), Survey::Ztf);
        let e = "atlas".parse::<Survey>().unwrap_err();
        assert_eq!(e.to_string(), "invalid survey: \"atlas\" is not a survey: use `ztf` or `lsst`");
    }
}
