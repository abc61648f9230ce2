use serde::{Deserialize, Serialize};

use super::band::Band;
use super::photometry::{flux_err_to_mag_err, mag_err_to_flux_err, mag_to_ujy, ujy_to_mag, upper_limit_mag};

/// The unified light-curve columns, in order: the DataFrame columns of
/// `broker_core::frame` (feature `polars`) and the CSV/JSON columns of the CLI.
///
/// `origin`, `measurement` and `duplicate_of` carry each point's provenance (see
/// [`Origin`], [`Measurement`] and [`crate::astro::dedup`]).
pub const LIGHTCURVE_COLUMNS: [&str; 14] = [
    "broker",
    "survey",
    "object_id",
    "mjd",
    "band",
    "mag",
    "mag_err",
    "flux_ujy",
    "flux_err_ujy",
    "limiting_mag",
    "is_detection",
    "origin",
    "measurement",
    "duplicate_of",
];

/// How a point was measured: from an alert, by forced photometry, or reported by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A survey's real-time alert stream: a detection (or non-detection) found by the
    /// survey's own pipeline (ZTF `magpsf`, ATLAS `lc`, LSST diaSources).
    #[default]
    Alert,
    /// Forced photometry: a flux measured at a fixed position whether or not anything was
    /// detected (ALeRCE/ZTF forced photometry, ATLAS `fp`, the ATLAS forced-photometry
    /// server, LSST diaForcedSources).
    Forced,
    /// Photometry reported by someone (a TNS report, a follow-up upload to SkyPortal).
    Reported,
}

impl Origin {
    /// The column value: `alert`, `forced` or `reported`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Alert => "alert",
            Origin::Forced => "forced",
            Origin::Reported => "reported",
        }
    }
}

/// What the magnitude/flux measures: the change since the reference image (difference
/// imaging) or the whole source (apparent, total).
///
/// The two are never comparable point by point: a difference flux of a transient on a
/// galaxy leaves the galaxy out, an apparent flux keeps it. A merged light curve keeps
/// this column so they are never mixed silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measurement {
    /// Measured on a difference (science − reference) image.
    #[default]
    Difference,
    /// The apparent (total) brightness, reference flux included.
    Apparent,
}

impl Measurement {
    /// The column value: `difference` or `apparent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Measurement::Difference => "difference",
            Measurement::Apparent => "apparent",
        }
    }
}

/// Whether a point is a detection or only a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// A detection with a magnitude and/or flux.
    Detection,
    /// A non-detection, with a limiting magnitude.
    Limit,
}

/// One photometric measurement from any broker, with its provenance.
///
/// Magnitudes are AB; fluxes are in microjansky (µJy). A detection has `mag` and/or
/// `flux_ujy`; a limit has `limiting_mag` (and may keep a measured, insignificant flux).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotometryPoint {
    /// Which broker served it (`alerce`, `atlas`, `skyportal`, `forcedphot`).
    pub broker: String,
    /// Which survey took it (`ztf`, `atlas`, `lsst`, ...).
    pub survey: String,
    /// The object's id at that broker.
    pub object_id: String,
    /// Modified Julian Date of the observation.
    pub mjd: f64,
    /// The band.
    pub band: Band,
    /// AB magnitude (detections).
    pub mag: Option<f64>,
    /// Magnitude error.
    pub mag_err: Option<f64>,
    /// Flux in µJy (may be negative for difference-image photometry).
    pub flux_ujy: Option<f64>,
    /// Flux error in µJy.
    pub flux_err_ujy: Option<f64>,
    /// Limiting AB magnitude (limits; sometimes also known for detections).
    pub limiting_mag: Option<f64>,
    /// Detection or limit.
    pub kind: PointKind,
    /// Alert, forced or reported photometry.
    #[serde(default)]
    pub origin: Origin,
    /// Difference-image or apparent (total) magnitude/flux.
    #[serde(default)]
    pub measurement: Measurement,
    /// When this point is a duplicate of another point in the same light curve (the same
    /// exposure served twice), the kept point as `broker/origin/object_id`; see
    /// [`crate::astro::dedup`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

impl PhotometryPoint {
    fn base(broker: &str, survey: &str, object_id: &str, mjd: f64, band: Band, kind: PointKind) -> Self {
        PhotometryPoint {
            broker: broker.to_string(),
            survey: survey.to_string(),
            object_id: object_id.to_string(),
            mjd,
            band,
            mag: None,
            mag_err: None,
            flux_ujy: None,
            flux_err_ujy: None,
            limiting_mag: None,
            kind,
            origin: Origin::Alert,
            measurement: Measurement::Difference,
            duplicate_of: None,
        }
    }

    /// Sets the origin (constructors start with [`Origin::Alert`]).
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Sets what the magnitude/flux measures (constructors start with
    /// [`Measurement::Difference`]).
    pub fn with_measurement(mut self, measurement: Measurement) -> Self {
        self.measurement = measurement;
        self
    }

    /// Whether this point was marked as a duplicate of another.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate_of.is_some()
    }

    /// `broker/origin/object_id`: how [`PhotometryPoint::duplicate_of`] names a point.
    pub fn provenance_key(&self) -> String {
        format!("{}/{}/{}", self.broker, self.origin.as_str(), self.object_id)
    }

    /// A detection given as a magnitude (flux in µJy is derived).
    pub fn from_mag(
        broker: &str,
        survey: &str,
        object_id: &str,
        mjd: f64,
        band: Band,
        mag: f64,
        mag_err: Option<f64>,
    ) -> Self {
        let mut p = Self::base(broker, survey, object_id, mjd, band, PointKind::Detection);
        p.mag = Some(mag);
        p.mag_err = mag_err;
        p.flux_ujy = Some(mag_to_ujy(mag));
        p.flux_err_ujy = mag_err.map(|e| mag_err_to_flux_err(mag, e));
        p
    }

    /// A non-detection with a limiting magnitude.
    pub fn limit(broker: &str, survey: &str, object_id: &str, mjd: f64, band: Band, limiting_mag: f64) -> Self {
        let mut p = Self::base(broker, survey, object_id, mjd, band, PointKind::Limit);
        p.limiting_mag = Some(limiting_mag);
        p
    }

    /// A flux measurement in µJy: a detection with a magnitude when `flux / err >=
    /// snr_min` (and the flux is positive); otherwise a limit at `limit_sigma` times the
    /// error, keeping the measured flux.
    #[allow(clippy::too_many_arguments)]
    pub fn from_flux(
        broker: &str,
        survey: &str,
        object_id: &str,
        mjd: f64,
        band: Band,
        flux_ujy: f64,
        flux_err_ujy: f64,
        snr_min: f64,
        limit_sigma: f64,
    ) -> Self {
        let significant = flux_err_ujy > 0.0 && flux_ujy / flux_err_ujy >= snr_min;
        let kind = if significant { PointKind::Detection } else { PointKind::Limit };
        let mut p = Self::base(broker, survey, object_id, mjd, band, kind);
        p.flux_ujy = Some(flux_ujy);
        p.flux_err_ujy = Some(flux_err_ujy);
        if significant {
            p.mag = ujy_to_mag(flux_ujy);
            p.mag_err = flux_err_to_mag_err(flux_ujy, flux_err_ujy);
        } else {
            p.limiting_mag = upper_limit_mag(flux_err_ujy, limit_sigma);
        }
        p
    }

    /// Whether this is a detection.
    pub fn is_detection(&self) -> bool {
        self.kind == PointKind::Detection
    }
}

/// A light curve: photometry points from one or more brokers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lightcurve {
    /// The points, in the order added (see [`Lightcurve::sort_by_mjd`]).
    pub points: Vec<PhotometryPoint>,
}

impl Lightcurve {
    /// An empty light curve.
    pub fn new() -> Self {
        Self::default()
    }
    /// From points.
    pub fn from_points(points: Vec<PhotometryPoint>) -> Self {
        Lightcurve { points }
    }
    /// The number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }
    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
    /// Adds a point.
    pub fn push(&mut self, p: PhotometryPoint) {
        self.points.push(p);
    }
    /// Appends another light curve's points.
    pub fn extend(&mut self, other: Lightcurve) {
        self.points.extend(other.points);
    }
    /// Sorts by MJD (stable; NaN last), then by broker and band for equal times.
    pub fn sort_by_mjd(&mut self) {
        self.points.sort_by(|a, b| {
            a.mjd.total_cmp(&b.mjd).then_with(|| a.broker.cmp(&b.broker)).then_with(|| a.band.cmp(&b.band))
        });
    }
    /// Merges light curves into one, ordered by MJD.
    pub fn merge(parts: impl IntoIterator<Item = Lightcurve>) -> Lightcurve {
        let mut out = Lightcurve::new();
        for p in parts {
            out.extend(p);
        }
        out.sort_by_mjd();
        out
    }
    /// The detections.
    pub fn detections(&self) -> impl Iterator<Item = &PhotometryPoint> {
        self.points.iter().filter(|p| p.is_detection())
    }
    /// The limits.
    pub fn limits(&self) -> impl Iterator<Item = &PhotometryPoint> {
        self.points.iter().filter(|p| !p.is_detection())
    }
    /// The distinct bands, sorted.
    pub fn bands(&self) -> Vec<Band> {
        let mut b: Vec<Band> = self.points.iter().map(|p| p.band.clone()).collect();
        b.sort();
        b.dedup();
        b
    }
    /// The points of one band.
    pub fn band(&self, band: &Band) -> Lightcurve {
        Lightcurve { points: self.points.iter().filter(|p| &p.band == band).cloned().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_points_become_detections_or_limits() {
        let d = PhotometryPoint::from_flux("forcedphot", "atlas", "x", 60000.0, Band::AtlasO, 100.0, 10.0, 3.0, 3.0);
        assert!(d.is_detection());
        assert!((d.mag.unwrap() - 18.9).abs() < 1e-12);
        let l = PhotometryPoint::from_flux("forcedphot", "atlas", "x", 60000.0, Band::AtlasO, 20.0, 10.0, 3.0, 3.0);
        assert!(!l.is_detection());
        assert_eq!(l.mag, None);
        assert!((l.limiting_mag.unwrap() - (23.9 - 2.5 * 30f64.log10())).abs() < 1e-12);
        assert_eq!(l.flux_ujy, Some(20.0));
        let neg = PhotometryPoint::from_flux("f", "atlas", "x", 1.0, Band::AtlasC, -50.0, 5.0, 3.0, 3.0);
        assert!(!neg.is_detection());
    }

    #[test]
    fn merge_orders_by_mjd() {
        let a = Lightcurve::from_points(vec![
            PhotometryPoint::from_mag("alerce", "ztf", "ZTF1", 3.0, Band::ZtfG, 18.0, Some(0.1)),
            PhotometryPoint::from_mag("alerce", "ztf", "ZTF1", 1.0, Band::ZtfR, 18.5, None),
        ]);
        let b = Lightcurve::from_points(vec![PhotometryPoint::limit("atlas", "atlas", "1", 2.0, Band::AtlasO, 19.5)]);
        let m = Lightcurve::merge([a, b]);
        let mjds: Vec<f64> = m.points.iter().map(|p| p.mjd).collect();
        assert_eq!(mjds, vec![1.0, 2.0, 3.0]);
        assert_eq!(m.detections().count(), 2);
        assert_eq!(m.limits().count(), 1);
        assert_eq!(m.bands(), vec![Band::ZtfG, Band::ZtfR, Band::AtlasO]);
    }
}
