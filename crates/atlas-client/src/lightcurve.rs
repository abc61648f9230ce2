//! Sources into the core [`Lightcurve`].
//!
//! - `lc` detections: AB magnitudes; a **negative** `mag` is a negative-flux difference
//!   detection, kept as a detection with flux `-10^((23.9 - |mag|)/2.5)` µJy and no
//!   magnitude.
//! - `lcnondets`: limits at `mag5sig` (5σ).
//! - `fp`: forced photometry in µJy (`uJy`/`duJy`), a detection when `flux/err >= 3`,
//!   otherwise a 3σ limit that keeps the measured flux.
//!
//! Points are tagged broker `atlas`, survey `atlas`, object id the ATLAS id. Every point
//! is a difference-image measurement (the server's `lc`, `lcnondets` and `fp` all come from
//! the `ddc` difference-image pipeline); `lc`/`lcnondets` have origin `alert`, `fp` has
//! origin `forced`.

use broker_core::astro::{mag_err_to_flux_err, mag_to_ujy};
use broker_core::{Band, Lightcurve, Measurement, Origin, PhotometryPoint, PointKind};

use crate::models::{ForcedPhotometry, LcPoint, NonDetection, Source};

/// The broker name on every point.
pub const BROKER: &str = "atlas";
/// The survey name on every point.
pub const SURVEY: &str = "atlas";
/// Signal-to-noise at or above which a forced-photometry point is a detection.
pub const FP_SNR_DETECTION: f64 = 3.0;
/// The n-sigma of forced-photometry upper limits.
pub const FP_LIMIT_SIGMA: f64 = 3.0;

fn band(filter: Option<&str>) -> Band {
    Band::from_atlas_filter(filter.unwrap_or(""))
}

/// One detection as a point (`None` without MJD or magnitude).
pub fn detection_point(object_id: &str, p: &LcPoint) -> Option<PhotometryPoint> {
    let mjd = p.mjd.filter(|m| m.is_finite())?;
    let mag = p.mag.filter(|m| m.is_finite())?;
    let b = band(p.filter.as_deref());
    let mut point = if mag >= 0.0 {
        PhotometryPoint::from_mag(BROKER, SURVEY, object_id, mjd, b, mag, p.magerr)
            .with_origin(Origin::Alert)
            .with_measurement(Measurement::Difference)
    } else {
        // Negative flux: |mag| is the magnitude of the flux's absolute value.
        let m = mag.abs();
        PhotometryPoint {
            broker: BROKER.to_string(),
            survey: SURVEY.to_string(),
            object_id: object_id.to_string(),
            mjd,
            band: b,
            mag: None,
            mag_err: None,
            flux_ujy: Some(-mag_to_ujy(m)),
            flux_err_ujy: p.magerr.map(|e| mag_err_to_flux_err(m, e)),
            limiting_mag: None,
            kind: PointKind::Detection,
            origin: Origin::Alert,
            measurement: Measurement::Difference,
            duplicate_of: None,
        }
    };
    if point.limiting_mag.is_none() {
        point.limiting_mag = p.mag5sig.filter(|m| m.is_finite());
    }
    Some(point)
}

/// One non-detection as a limit at `mag5sig` (`None` without MJD or limit).
pub fn nondetection_point(object_id: &str, p: &NonDetection) -> Option<PhotometryPoint> {
    let mjd = p.mjd.filter(|m| m.is_finite())?;
    let lim = p.mag5sig.filter(|m| m.is_finite())?;
    Some(
        PhotometryPoint::limit(BROKER, SURVEY, object_id, mjd, band(p.filter.as_deref()), lim)
            .with_origin(Origin::Alert)
            .with_measurement(Measurement::Difference),
    )
}

/// One forced-photometry row as a flux point (`None` without MJD, flux or error).
pub fn forced_point(object_id: &str, p: &ForcedPhotometry) -> Option<PhotometryPoint> {
    let mjd = p.mjd_obs.filter(|m| m.is_finite())?;
    let f = p.flux_ujy().filter(|v| v.is_finite())?;
    let e = p.flux_err_ujy().filter(|v| v.is_finite() && *v >= 0.0)?;
    Some(
        PhotometryPoint::from_flux(
            BROKER,
            SURVEY,
            object_id,
            mjd,
            band(p.filter.as_deref()),
            f,
            e,
            FP_SNR_DETECTION,
            FP_LIMIT_SIGMA,
        )
        .with_origin(Origin::Forced)
        .with_measurement(Measurement::Difference),
    )
}

impl Source {
    /// Detections (`lc`) and non-detections (`lcnondets`), ordered by MJD.
    pub fn lightcurve(&self) -> Lightcurve {
        let id = self.id().to_string();
        let mut lc = Lightcurve::from_points(
            self.lc
                .iter()
                .filter_map(|p| detection_point(&id, p))
                .chain(self.lcnondets.iter().filter_map(|p| nondetection_point(&id, p)))
                .collect(),
        );
        lc.sort_by_mjd();
        lc
    }

    /// Forced photometry (`fp`) in µJy, ordered by MJD.
    pub fn forced_lightcurve(&self) -> Lightcurve {
        let id = self.id().to_string();
        let mut lc = Lightcurve::from_points(self.fp.iter().filter_map(|p| forced_point(&id, p)).collect());
        lc.sort_by_mjd();
        lc
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn lc(mag: f64) -> LcPoint {
        serde_json::from_value(serde_json::json!({
            "id": 1000005291314656200u64, "mjd": 58113.27517185, "mag": mag, "magerr": 0.1, "filter": "o", "mag5sig": 18.72
        }))
        .unwrap()
    }

    #[test]
    fn negative_magnitude_is_negative_flux() {
        let p = detection_point("x", &lc(-18.9)).unwrap();
        assert!(p.is_detection());
        assert_eq!(p.mag, None);
        assert!((p.flux_ujy.unwrap() + 100.0).abs() < 1e-9);
        assert!(p.flux_err_ujy.unwrap() > 0.0);
        assert_eq!(p.band, Band::AtlasO);
        let q = detection_point("x", &lc(18.9)).unwrap();
        assert_eq!(q.mag, Some(18.9));
        assert!((q.flux_ujy.unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(q.limiting_mag, Some(18.72));
    }
}
