//! Multisurvey rows as core photometry points and light curves.

use super::{LsstDetection, LsstForcedPhotometry, LsstLightcurve, LsstNonDetection};
use broker_core::astro::{Band, Lightcurve, Measurement, Origin, PhotometryPoint, njy_to_ujy, upper_limit_mag};

/// Signal-to-noise above which an LSST flux becomes a detection with a magnitude in
/// the core [`Lightcurve`]; below it the point is kept as a limit with its flux.
pub const LSST_SNR_MIN: f64 = 3.0;
/// The n-sigma of the limiting magnitudes computed from LSST flux errors and `diaNoise`.
pub const LSST_LIMIT_SIGMA: f64 = 5.0;

/// The core band of a survey's band letter: `lsst` + `r` is `lsstr`, `ztf` + `g` is
/// `ztfg`; unknown letters or bands keep a descriptive `Band::Other`.
pub fn survey_band(survey: Option<&str>, band_name: Option<&str>, band: Option<i64>) -> Band {
    let survey = survey.unwrap_or("lsst").to_ascii_lowercase();
    match (survey.as_str(), band_name) {
        ("lsst", Some(l)) => Band::from_lsst_letter(l),
        ("ztf", Some(l)) => Band::from_name(&format!("ztf{}", l.trim())),
        (s, Some(l)) => Band::from_name(&format!("{s}{}", l.trim())),
        (s, None) => Band::Other(format!("{s}_band{}", band.map(|b| b.to_string()).unwrap_or_else(|| "?".into()))),
    }
}

/// `psfFlux` is measured on the difference image, in diaSources and diaForcedSources alike.
pub(super) fn flux_point(
    survey: &str,
    oid: &str,
    mjd: f64,
    band: Band,
    flux_njy: f64,
    err_njy: f64,
    origin: Origin,
) -> Option<PhotometryPoint> {
    (flux_njy.is_finite() && err_njy.is_finite()).then(|| {
        PhotometryPoint::from_flux(
            "alerce",
            survey,
            oid,
            mjd,
            band,
            njy_to_ujy(flux_njy),
            njy_to_ujy(err_njy),
            LSST_SNR_MIN,
            LSST_LIMIT_SIGMA,
        )
        .with_origin(origin)
        .with_measurement(Measurement::Difference)
    })
}

impl LsstDetection {
    /// This row as a core point: `psfFlux` ± `psfFluxErr` (nJy → µJy; a detection with a
    /// magnitude when S/N ≥ [`LSST_SNR_MIN`]), or `magpsf` ± `sigmapsf` for ZTF rows.
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let oid = self.oid.to_string();
        if let (Some(f), Some(e)) = (self.psfFlux, self.psfFluxErr) {
            return flux_point(&survey, &oid, mjd, band, f, e, Origin::Alert);
        }
        let mag = self.magpsf.filter(|m| m.is_finite())?;
        let mut p =
            PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.sigmapsf.filter(|e| e.is_finite()));
        p.limiting_mag = self.diffmaglim.filter(|m| m.is_finite());
        Some(p.with_origin(Origin::Alert).with_measurement(Measurement::Difference))
    }
}

impl LsstNonDetection {
    /// This row as a core limit: `diffmaglim`, or the [`LSST_LIMIT_SIGMA`]-sigma limit
    /// of `diaNoise` (nJy).
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let lim = self
            .diffmaglim
            .filter(|m| m.is_finite())
            .or_else(|| self.diaNoise.and_then(|n| upper_limit_mag(njy_to_ujy(n), LSST_LIMIT_SIGMA)))?;
        Some(
            PhotometryPoint::limit("alerce", &survey, &self.oid.to_string(), mjd, band, lim)
                .with_origin(Origin::Alert)
                .with_measurement(Measurement::Difference),
        )
    }
}

impl LsstForcedPhotometry {
    /// This row as a core point: `psfFlux` ± `psfFluxErr` (nJy → µJy), or `mag` ± `e_mag`
    /// for ZTF rows.
    pub fn to_point(&self) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let survey = self.survey_id.as_deref().unwrap_or("lsst").to_ascii_lowercase();
        let band = survey_band(Some(&survey), self.band_name.as_deref(), self.band);
        let oid = self.oid.to_string();
        if let (Some(f), Some(e)) = (self.psfFlux, self.psfFluxErr) {
            return flux_point(&survey, &oid, mjd, band, f, e, Origin::Forced);
        }
        let mag = self.mag.filter(|m| m.is_finite() && *m < 90.0)?;
        Some(
            PhotometryPoint::from_mag("alerce", &survey, &oid, mjd, band, mag, self.e_mag.filter(|e| e.is_finite()))
                .with_origin(Origin::Forced)
                .with_measurement(Measurement::Difference),
        )
    }
}

impl LsstLightcurve {
    /// Every row as a core [`Lightcurve`] ordered by MJD (fluxes in µJy).
    pub fn to_lightcurve(&self) -> Lightcurve {
        let mut lc = Lightcurve::new();
        self.detections.iter().filter_map(LsstDetection::to_point).for_each(|p| lc.push(p));
        self.non_detections.iter().filter_map(LsstNonDetection::to_point).for_each(|p| lc.push(p));
        self.forced_photometry.iter().filter_map(LsstForcedPhotometry::to_point).for_each(|p| lc.push(p));
        lc.sort_by_mjd();
        lc
    }
}
