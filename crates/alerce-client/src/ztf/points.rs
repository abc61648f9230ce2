//! ZTF rows as core photometry points and light curves.

use broker_core::astro::{Band, Lightcurve, Measurement, Origin, PhotometryPoint};

use super::{ZtfDetection, ZtfForcedPhotometry, ZtfLightcurve, ZtfNonDetection};
/// The band of a ZTF filter id; unknown ids become `Band::Other("ztf_fid<N>")` so that
/// no point is dropped.
pub fn ztf_band(fid: Option<i64>) -> Band {
    match fid {
        Some(f) => Band::from_ztf_fid(f).unwrap_or_else(|| Band::Other(format!("ztf_fid{f}"))),
        None => Band::Other("ztf_unknown".into()),
    }
}

impl ZtfDetection {
    /// This detection as a core point (`magpsf` ± `sigmapsf`, band from `fid`), when it
    /// has an MJD and a finite magnitude.
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let mag = self.magpsf.filter(|m| m.is_finite())?;
        let survey = self.tid.as_deref().unwrap_or("ztf");
        let mut p = PhotometryPoint::from_mag(
            "alerce",
            survey,
            oid,
            mjd,
            ztf_band(self.fid),
            mag,
            self.sigmapsf.filter(|e| e.is_finite()),
        )
        .with_origin(Origin::Alert)
        .with_measurement(Measurement::Difference);
        p.limiting_mag = self.diffmaglim.filter(|m| m.is_finite());
        Some(p)
    }
}

impl ZtfNonDetection {
    /// This non-detection as a core limit (`diffmaglim`), when it has an MJD and a limit.
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let lim = self.diffmaglim.filter(|m| m.is_finite())?;
        let survey = self.tid.as_deref().unwrap_or("ztf");
        Some(
            PhotometryPoint::limit("alerce", survey, oid, mjd, ztf_band(self.fid), lim)
                .with_origin(Origin::Alert)
                .with_measurement(Measurement::Difference),
        )
    }
}

impl ZtfForcedPhotometry {
    /// This measurement as a core point: a detection from `mag` ± `e_mag` when the
    /// magnitude is finite and plausible (< 90; the pipeline writes 100 for "none"), else a
    /// limit at `diffmaglim` when there is one. Origin `forced`; measurement `difference`
    /// (`mag` is the forced difference-image magnitude, `mag_corr` the corrected total one,
    /// which is not used here).
    pub fn to_point(&self, oid: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let band = ztf_band(self.fid);
        let survey = self.tid.as_deref().unwrap_or("ztf");
        match self.mag.filter(|m| m.is_finite() && *m < 90.0) {
            Some(mag) => {
                let mut p = PhotometryPoint::from_mag(
                    "alerce",
                    survey,
                    oid,
                    mjd,
                    band,
                    mag,
                    self.e_mag.filter(|e| e.is_finite() && *e >= 0.0),
                );
                p.limiting_mag = self.diffmaglim();
                Some(p)
            }
            None => self.diffmaglim().map(|lim| PhotometryPoint::limit("alerce", survey, oid, mjd, band, lim)),
        }
        .map(|p| p.with_origin(Origin::Forced).with_measurement(Measurement::Difference))
    }
}

impl ZtfLightcurve {
    /// Detections (`magpsf`/`sigmapsf`, `fid` 1=g 2=r 3=i) and non-detections
    /// (`diffmaglim` limits) as a core [`Lightcurve`] ordered by MJD. Rows without an MJD
    /// or a magnitude are skipped.
    pub fn to_lightcurve(&self, oid: &str) -> Lightcurve {
        let mut lc = Lightcurve::new();
        for d in &self.detections {
            if let Some(p) = d.to_point(oid) {
                lc.push(p);
            }
        }
        for n in &self.non_detections {
            if let Some(p) = n.to_point(oid) {
                lc.push(p);
            }
        }
        lc.sort_by_mjd();
        lc
    }
}

/// Forced photometry as a core [`Lightcurve`] (see [`ZtfForcedPhotometry::to_point`]).
pub fn forced_photometry_to_lightcurve(oid: &str, rows: &[ZtfForcedPhotometry]) -> Lightcurve {
    let mut lc = Lightcurve::from_points(rows.iter().filter_map(|r| r.to_point(oid)).collect());
    lc.sort_by_mjd();
    lc
}
