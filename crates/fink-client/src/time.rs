//! Time helpers: JD/MJD and the ISO dates the `startdate`/`stopdate` parameters take.

use broker_core::astro::MJD_UNIX_EPOCH;
use broker_core::{Error, Mjd, Result};

/// `JD - MJD`.
pub const JD_MJD_OFFSET: f64 = 2_400_000.5;

/// An MJD as the UTC ISO text (`2024-11-03 12:30:00.123`) that astropy `Time(...)` reads,
/// rounded to the millisecond: down for a window start, up for a window end, so a row at
/// the bound stays inside the window.
pub fn iso_window_bound(mjd: f64, round_up: bool) -> Result<String> {
    let ms = (Mjd(mjd).validated("date")?.0 - MJD_UNIX_EPOCH) * 86_400_000.0;
    let ms = if round_up { ms.ceil() } else { ms.floor() };
    if ms.abs() > 1.0e15 {
        return Err(Error::invalid("date", format!("MJD {mjd} cannot be shown as a date")));
    }
    let t = chrono::DateTime::from_timestamp_millis(ms as i64)
        .ok_or_else(|| Error::invalid("date", format!("MJD {mjd} cannot be shown as a date")))?;
    Ok(t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_outwards_to_the_millisecond() {
        assert_eq!(iso_window_bound(58788.0, false).unwrap(), "2019-11-01 00:00:00.000");
        assert_eq!(iso_window_bound(60000.5, true).unwrap(), "2023-02-25 12:00:00.000");
        // 1e-9 day = 86 µs: the end moves up to the next millisecond, the start down.
        assert_eq!(iso_window_bound(60000.5 + 1e-9, true).unwrap(), "2023-02-25 12:00:00.001");
        assert_eq!(iso_window_bound(60000.5 - 1e-9, false).unwrap(), "2023-02-25 11:59:59.999");
        assert!(iso_window_bound(f64::NAN, true).is_err());
    }
}
