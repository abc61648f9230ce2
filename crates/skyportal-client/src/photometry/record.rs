//! [`PhotometryRecord`]: one point as SkyPortal serializes it, and its conversion to core points.

use broker_core::astro::{AB_ZERO_POINT_UJY, upper_limit_mag};
use broker_core::{Band, Lightcurve, Measurement, Origin, PhotometryPoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::models::{Extra, Group};

use super::{DEFAULT_LIMIT_NSIGMA, DETECTION_THRESHOLD_NSIGMA};

/// One photometry point as SkyPortal serializes it. Which fields are present depends on
/// `format` (`mag`: `mag`, `magerr`, `limiting_mag`; `flux`: `flux`, `fluxerr`, `zp`;
/// `both`: all). Non-detections have `mag`/`magerr`/`flux` null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotometryRecord {
    /// Point id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Modified Julian Date.
    #[serde(default)]
    pub mjd: Option<f64>,
    /// sncosmo bandpass name (`ztfg`, `atlaso`, `sdssr`, ...).
    #[serde(default)]
    pub filter: Option<String>,
    /// Instrument id.
    #[serde(default)]
    pub instrument_id: Option<i64>,
    /// Instrument name (`ZTF`, `ATLAS`, ...).
    #[serde(default)]
    pub instrument_name: Option<String>,
    /// Magnitude (null for non-detections).
    #[serde(default)]
    pub mag: Option<f64>,
    /// Magnitude error.
    #[serde(default)]
    pub magerr: Option<f64>,
    /// Limiting magnitude.
    #[serde(default)]
    pub limiting_mag: Option<f64>,
    /// Magnitude system of `mag`, `limiting_mag` and `zp` (`ab` unless asked otherwise).
    #[serde(default)]
    pub magsys: Option<String>,
    /// Flux in the system of `zp` (null for non-detections).
    #[serde(default)]
    pub flux: Option<f64>,
    /// Flux error.
    #[serde(default)]
    pub fluxerr: Option<f64>,
    /// Zero point of `flux` (23.9 for µJy in AB).
    #[serde(default)]
    pub zp: Option<f64>,
    /// Signal-to-noise ratio.
    #[serde(default)]
    pub snr: Option<f64>,
    /// Right ascension of the measurement (deg).
    #[serde(default)]
    pub ra: Option<f64>,
    /// Declination of the measurement (deg).
    #[serde(default)]
    pub dec: Option<f64>,
    /// RA uncertainty (arcsec).
    #[serde(default)]
    pub ra_unc: Option<f64>,
    /// Dec uncertainty (arcsec).
    #[serde(default)]
    pub dec_unc: Option<f64>,
    /// Origin (`"None"` when posted as null; `fp` for forced photometry on ZTF).
    #[serde(default)]
    pub origin: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Groups that can see the point.
    #[serde(default)]
    pub groups: Option<Vec<Group>>,
    /// Annotations on the point.
    #[serde(default)]
    pub annotations: Option<Vec<Value>>,
    /// Every other field (`ref_flux`, `tot_flux`, `owner`, `streams`, `validations`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

pub(super) fn survey_of(rec: &PhotometryRecord, band: &Band) -> String {
    match band {
        Band::ZtfG | Band::ZtfR | Band::ZtfI => return "ztf".into(),
        Band::AtlasC | Band::AtlasO => return "atlas".into(),
        Band::LsstU | Band::LsstG | Band::LsstR | Band::LsstI | Band::LsstZ | Band::LsstY => return "lsst".into(),
        Band::Other(_) => {}
    }
    match rec.instrument_name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_ascii_lowercase(),
        _ => "unknown".into(),
    }
}

impl PhotometryRecord {
    /// The signal-to-noise: the server's `snr`, else `flux / fluxerr`, else from `magerr`
    /// (`1.0857 / magerr`).
    pub fn signal_to_noise(&self) -> Option<f64> {
        if let Some(s) = self.snr.filter(|s| s.is_finite()) {
            return Some(s);
        }
        if let (Some(f), Some(e)) = (self.flux, self.fluxerr) {
            if f.is_finite() && e.is_finite() && e > 0.0 {
                return Some(f / e);
            }
        }
        self.magerr.filter(|e| e.is_finite() && *e > 0.0).map(|e| 2.5 / std::f64::consts::LN_10 / e)
    }

    /// Whether this is a detection: a magnitude or flux with a signal-to-noise of at least
    /// [`DETECTION_THRESHOLD_NSIGMA`] (when the S/N is unknown, any magnitude or flux).
    pub fn is_detection(&self) -> bool {
        self.is_detection_at(DETECTION_THRESHOLD_NSIGMA)
    }

    /// [`Self::is_detection`] with another threshold.
    pub fn is_detection_at(&self, nsigma: f64) -> bool {
        let measured = self.mag.is_some_and(f64::is_finite) || self.flux.is_some_and(f64::is_finite);
        measured && self.signal_to_noise().is_none_or(|s| s >= nsigma)
    }

    /// Flux and error in µJy, converted from the point's zero point.
    pub fn flux_ujy(&self) -> (Option<f64>, Option<f64>) {
        let zp = self.zp.unwrap_or(AB_ZERO_POINT_UJY);
        if !zp.is_finite() {
            return (None, None);
        }
        let scale = 10f64.powf((AB_ZERO_POINT_UJY - zp) / 2.5);
        (
            self.flux.filter(|f| f.is_finite()).map(|f| f * scale),
            self.fluxerr.filter(|f| f.is_finite()).map(|f| f * scale),
        )
    }

    /// The point in the core model, or `None` when it cannot be placed on a light curve
    /// (no MJD or filter, magnitudes not in AB, neither a magnitude, a flux nor a limit).
    ///
    /// Detections keep the server's magnitude (or one derived from the flux); non-detections
    /// become limits at `limiting_mag`, or at [`DEFAULT_LIMIT_NSIGMA`] times `fluxerr` when
    /// only fluxes were requested.
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let filter = self.filter.as_deref().filter(|f| !f.trim().is_empty())?;
        if let Some(sys) = &self.magsys {
            if !sys.eq_ignore_ascii_case("ab") && (self.mag.is_some() || self.limiting_mag.is_some()) {
                return None;
            }
        }
        let band = Band::from_name(filter);
        let survey = survey_of(self, &band);
        let id = self.obj_id.as_deref().unwrap_or(object_id);
        let (flux, fluxerr) = self.flux_ujy();
        let limiting = self.limiting_mag.filter(|m| m.is_finite());
        let mut p = if !self.is_detection() && (self.mag.is_some() || self.flux.is_some()) {
            // Measured but below the detection threshold: a limit that keeps its flux.
            let lim = limiting.or_else(|| fluxerr.and_then(|e| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA)))?;
            PhotometryPoint::limit("skyportal", &survey, id, mjd, band, lim)
        } else if let Some(mag) = self.mag.filter(|m| m.is_finite()) {
            PhotometryPoint::from_mag("skyportal", &survey, id, mjd, band, mag, self.magerr.filter(|e| e.is_finite()))
        } else if let Some(f) = flux {
            let e = fluxerr.unwrap_or(0.0);
            let mut p = PhotometryPoint::from_flux(
                "skyportal",
                &survey,
                id,
                mjd,
                band,
                f,
                e,
                f64::NEG_INFINITY,
                DEFAULT_LIMIT_NSIGMA,
            );
            if p.mag.is_none() {
                // A negative flux the server still calls a detection: keep it as a limit.
                p.limiting_mag = limiting.or_else(|| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA));
                p.kind = broker_core::PointKind::Limit;
            }
            p
        } else if let Some(lim) = limiting.or_else(|| fluxerr.and_then(|e| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA))) {
            PhotometryPoint::limit("skyportal", &survey, id, mjd, band, lim)
        } else {
            return None;
        };
        if flux.is_some() {
            p.flux_ujy = flux;
            p.flux_err_ujy = fluxerr;
        } else if p.flux_err_ujy.is_none() {
            p.flux_err_ujy = fluxerr;
        }
        if p.limiting_mag.is_none() {
            p.limiting_mag = limiting;
        }
        p.origin = point_origin(self.origin.as_deref(), &p.survey);
        // `mag`/`flux` are SkyPortal's difference-image values; the apparent ones are the
        // separate `magtot`/`tot_flux`, not read here.
        p.measurement = Measurement::Difference;
        Some(p)
    }
}

/// `origin` values naming an alert broker whose points a SkyPortal instance re-serves.
pub const ALERT_ORIGINS: [&str; 6] = ["alerce", "fink", "lasair", "kowalski", "antares", "ampel"];

/// The core origin of a SkyPortal point from its `origin` string: one naming forced
/// photometry (containing `fp` as a word part or `forced`, such as `fp`, `alert_fp`,
/// `ZTF forced`) is forced; none (null, empty, or the string `"None"` the server stores for
/// null) on a survey's band (`ztf`, `atlas`, `lsst`) is that survey's alert stream
/// re-served, and so is one naming an alert broker ([`ALERT_ORIGINS`]); anything else (a
/// follow-up upload, a named pipeline) is reported.
pub fn point_origin(origin: Option<&str>, survey: &str) -> Origin {
    let o = origin.map(str::trim).filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case("none"));
    match o {
        Some(o) => {
            let l = o.to_ascii_lowercase();
            let fp = l.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "fp" || w == "fps");
            if fp || l.contains("forced") {
                Origin::Forced
            } else if ALERT_ORIGINS.contains(&l.as_str()) && matches!(survey, "ztf" | "atlas" | "lsst") {
                Origin::Alert
            } else {
                Origin::Reported
            }
        }
        None if matches!(survey, "ztf" | "atlas" | "lsst") => Origin::Alert,
        None => Origin::Reported,
    }
}

/// Turns SkyPortal points into a core light curve (sorted by MJD). Points that cannot be
/// placed (see [`PhotometryRecord::to_point`]) are left out; compare lengths to notice.
pub fn to_lightcurve(object_id: &str, records: &[PhotometryRecord]) -> Lightcurve {
    let mut lc = Lightcurve::from_points(records.iter().filter_map(|r| r.to_point(object_id)).collect());
    lc.sort_by_mjd();
    lc
}
