use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The MJD of the Unix epoch (1970-01-01T00:00:00 UTC).
pub const MJD_UNIX_EPOCH: f64 = 40587.0;

/// A Modified Julian Date (UTC days, leap seconds ignored, as the brokers use it).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mjd(pub f64);

impl Mjd {
    /// From a UTC date-time.
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        let secs = t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9;
        Mjd(secs / 86400.0 + MJD_UNIX_EPOCH)
    }
    /// The current time.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }
    /// To a UTC date-time (fails for non-finite or absurd values).
    pub fn to_datetime(self) -> Result<DateTime<Utc>> {
        let secs = (self.0 - MJD_UNIX_EPOCH) * 86400.0;
        if !secs.is_finite() || secs.abs() > 1.0e13 {
            return Err(Error::invalid("mjd", format!("{} cannot be shown as a date", self.0)));
        }
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
        Utc.timestamp_opt(whole as i64, nanos)
            .single()
            .ok_or_else(|| Error::invalid("mjd", format!("{} cannot be shown as a date", self.0)))
    }
    /// Checks that the value is finite.
    pub fn validated(self, field: &str) -> Result<Self> {
        if self.0.is_finite() { Ok(self) } else { Err(Error::invalid(field, "the MJD must be a finite number")) }
    }
}

impl fmt::Display for Mjd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = Utc.with_ymd_and_hms(2018, 6, 16, 0, 0, 0).unwrap();
        assert_eq!(Mjd::from_datetime(t).0, 58285.0);
        let back = Mjd(58285.5).to_datetime().unwrap();
        assert_eq!(back, Utc.with_ymd_and_hms(2018, 6, 16, 12, 0, 0).unwrap());
        assert_eq!(Mjd(40587.0).to_datetime().unwrap().timestamp(), 0);
        assert!(Mjd(f64::NAN).to_datetime().is_err());
    }
}
