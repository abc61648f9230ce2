use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A validated position on the sky (ICRS degrees): RA in [0, 360), Dec in [-90, 90], both
/// finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPosition")]
pub struct SkyPosition {
    ra: f64,
    dec: f64,
}

#[derive(Deserialize)]
struct RawPosition {
    ra: f64,
    dec: f64,
}

impl TryFrom<RawPosition> for SkyPosition {
    type Error = Error;
    fn try_from(r: RawPosition) -> Result<Self> {
        SkyPosition::new(r.ra, r.dec)
    }
}

impl SkyPosition {
    /// A position from decimal degrees. RA must be in [0, 360) and Dec in [-90, 90].
    pub fn new(ra_deg: f64, dec_deg: f64) -> Result<Self> {
        if !ra_deg.is_finite() || !(0.0..360.0).contains(&ra_deg) {
            return Err(Error::invalid(
                "ra",
                format!("{ra_deg} is not a valid right ascension: use degrees in [0, 360)"),
            ));
        }
        if !dec_deg.is_finite() || !(-90.0..=90.0).contains(&dec_deg) {
            return Err(Error::invalid(
                "dec",
                format!("{dec_deg} is not a valid declination: use degrees in [-90, 90]"),
            ));
        }
        Ok(SkyPosition { ra: ra_deg, dec: dec_deg })
    }

    /// Right ascension in degrees.
    pub fn ra(&self) -> f64 {
        self.ra
    }
    /// Declination in degrees.
    pub fn dec(&self) -> f64 {
        self.dec
    }

    /// Parses `"ra dec"` or `"ra, dec"` in decimal degrees, or sexagesimal
    /// `"hh:mm:ss.s +dd:mm:ss.s"` / `"hh mm ss.s +dd mm ss.s"` (RA in hours).
    pub fn parse(s: &str) -> Result<Self> {
        let cleaned = s.trim().replace(',', " ");
        let tokens: Vec<&str> = cleaned.split_whitespace().collect();
        let bad = || {
            Error::invalid(
                "position",
                format!(
                    "{s:?} is not a position: use decimal degrees \"150.1 2.2\" or sexagesimal \"10:00:24.0 +02:12:00\""
                ),
            )
        };
        match tokens.len() {
            2 if !tokens[0].contains(':') && !tokens[1].contains(':') => {
                let ra = tokens[0].parse::<f64>().map_err(|_| bad())?;
                let dec = tokens[1].parse::<f64>().map_err(|_| bad())?;
                Self::new(ra, dec)
            }
            2 => Self::new(parse_sexagesimal_ra(tokens[0])?, parse_sexagesimal_dec(tokens[1])?),
            6 => {
                let ra = tokens[..3].join(":");
                let dec = tokens[3..].join(":");
                Self::new(parse_sexagesimal_ra(&ra)?, parse_sexagesimal_dec(&dec)?)
            }
            _ => Err(bad()),
        }
    }

    /// Angular separation in degrees (haversine, exact at small angles).
    pub fn separation_deg(&self, other: &SkyPosition) -> f64 {
        angular_separation_deg(self.ra, self.dec, other.ra, other.dec)
    }
    /// Angular separation in arcseconds.
    pub fn separation_arcsec(&self, other: &SkyPosition) -> f64 {
        self.separation_deg(other) * 3600.0
    }

    /// RA as `hh:mm:ss.sss`.
    pub fn ra_sexagesimal(&self) -> String {
        let total = self.ra / 15.0 * 3600.0;
        let (h, m, s) = split_hms(total);
        format!("{h:02}:{m:02}:{s:06.3}")
    }
    /// Dec as `+dd:mm:ss.ss`.
    pub fn dec_sexagesimal(&self) -> String {
        let sign = if self.dec < 0.0 { '-' } else { '+' };
        let (d, m, s) = split_hms(self.dec.abs() * 3600.0);
        format!("{sign}{d:02}:{m:02}:{s:05.2}")
    }
}

fn split_hms(total_seconds: f64) -> (u32, u32, f64) {
    let whole = total_seconds.floor();
    let frac = total_seconds - whole;
    let whole = whole as u64;
    let a = (whole / 3600) as u32;
    let b = ((whole % 3600) / 60) as u32;
    let c = (whole % 60) as f64 + frac;
    (a, b, c)
}

impl fmt::Display for SkyPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6} {:+.6}", self.ra, self.dec)
    }
}

impl FromStr for SkyPosition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

fn parse_parts(s: &str, field: &str) -> Result<(bool, f64, f64, f64)> {
    let bad = || Error::invalid(field, format!("{s:?} is not sexagesimal: use \"dd:mm:ss.s\""));
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(bad());
    }
    let mut vals = [0.0f64; 3];
    for (i, p) in parts.iter().enumerate() {
        let v: f64 = p.parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 {
            return Err(bad());
        }
        vals[i] = v;
    }
    if vals[1] >= 60.0 || vals[2] >= 60.0 {
        return Err(Error::invalid(field, format!("{s:?}: minutes and seconds must be below 60")));
    }
    Ok((neg, vals[0], vals[1], vals[2]))
}

/// Parses sexagesimal RA `hh:mm:ss.s` (hours) into degrees.
pub(crate) fn parse_sexagesimal_ra(s: &str) -> Result<f64> {
    let (neg, h, m, sec) = parse_parts(s, "ra")?;
    if neg || h >= 24.0 {
        return Err(Error::invalid("ra", format!("{s:?}: hours must be in [0, 24)")));
    }
    Ok((h + m / 60.0 + sec / 3600.0) * 15.0)
}

/// Parses sexagesimal Dec `±dd:mm:ss.s` into degrees.
pub(crate) fn parse_sexagesimal_dec(s: &str) -> Result<f64> {
    let (neg, d, m, sec) = parse_parts(s, "dec")?;
    let v = d + m / 60.0 + sec / 3600.0;
    Ok(if neg { -v } else { v })
}

/// Angular separation between two positions in degrees (haversine formula).
pub fn angular_separation_deg(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (ra1, dec1, ra2, dec2) = (ra1.to_radians(), dec1.to_radians(), ra2.to_radians(), dec2.to_radians());
    let sdd = ((dec2 - dec1) / 2.0).sin();
    let sdr = ((ra2 - ra1) / 2.0).sin();
    let h = sdd * sdd + dec1.cos() * dec2.cos() * sdr * sdr;
    (2.0 * h.sqrt().min(1.0).asin()).to_degrees()
}

/// Checks a cone radius in arcseconds: finite, positive, at most `max_arcsec`.
pub fn validate_radius_arcsec(radius: f64, max_arcsec: f64) -> Result<f64> {
    if !radius.is_finite() || radius <= 0.0 || radius > max_arcsec {
        return Err(Error::invalid(
            "radius",
            format!("{radius} arcsec is not valid: use a radius in (0, {max_arcsec}] arcsec"),
        ));
    }
    Ok(radius)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_with_messages() {
        assert!(SkyPosition::new(0.0, 0.0).is_ok());
        assert!(SkyPosition::new(359.999, -90.0).is_ok());
        let e = SkyPosition::new(360.0, 0.0).unwrap_err().to_string();
        assert_eq!(e, "invalid ra: 360 is not a valid right ascension: use degrees in [0, 360)");
        let e = SkyPosition::new(10.0, 95.0).unwrap_err().to_string();
        assert_eq!(e, "invalid dec: 95 is not a valid declination: use degrees in [-90, 90]");
        assert!(SkyPosition::new(f64::NAN, 0.0).is_err());
        assert!(SkyPosition::new(1.0, f64::INFINITY).is_err());
    }

    #[test]
    fn parses_decimal_and_sexagesimal() {
        let p = SkyPosition::parse("150.1, -2.5").unwrap();
        assert_eq!((p.ra(), p.dec()), (150.1, -2.5));
        let p = SkyPosition::parse("10:00:24.0 +02:12:00").unwrap();
        assert!((p.ra() - 150.1).abs() < 1e-9 && (p.dec() - 2.2).abs() < 1e-9);
        let p = SkyPosition::parse("16 03 05.25 -22 16 06.6").unwrap();
        assert!((p.ra() - 240.771_875).abs() < 1e-9);
        assert!((p.dec() + 22.268_5).abs() < 1e-9);
        let p = SkyPosition::parse("00:00:01 -00:30:00").unwrap();
        assert!(p.dec() < 0.0, "negative zero degrees keeps its sign");
        assert!(SkyPosition::parse("25:00:00 +00:00:00").is_err());
        assert!(SkyPosition::parse("10:61:00 +00:00:00").is_err());
        assert!(SkyPosition::parse("abc").is_err());
        assert!(SkyPosition::parse("10:00:00 +95:00:00").is_err());
    }

    #[test]
    fn separation() {
        let a = SkyPosition::new(10.0, 20.0).unwrap();
        let b = SkyPosition::new(10.0, 20.0 + 1.0 / 3600.0).unwrap();
        assert!((a.separation_arcsec(&b) - 1.0).abs() < 1e-6);
        let c = SkyPosition::new(0.0, 90.0).unwrap();
        let d = SkyPosition::new(180.0, -90.0).unwrap();
        assert!((c.separation_deg(&d) - 180.0).abs() < 1e-9);
        // Across RA = 0.
        let e = SkyPosition::new(359.9, 0.0).unwrap();
        let f = SkyPosition::new(0.1, 0.0).unwrap();
        assert!((e.separation_deg(&f) - 0.2).abs() < 1e-9);
    }

    #[test]
    fn radius_validation() {
        assert!(validate_radius_arcsec(300.0, 300.0).is_ok());
        let e = validate_radius_arcsec(301.0, 300.0).unwrap_err().to_string();
        assert!(e.contains("(0, 300]"), "{e}");
        assert!(validate_radius_arcsec(-1.0, 300.0).is_err());
        assert!(validate_radius_arcsec(f64::NAN, 300.0).is_err());
    }

    #[test]
    fn sexagesimal_output() {
        let p = SkyPosition::new(150.1, -2.2).unwrap();
        assert_eq!(p.ra_sexagesimal(), "10:00:24.000");
        assert_eq!(p.dec_sexagesimal(), "-02:12:00.00");
    }
}
