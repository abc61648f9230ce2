//! Binning in time per filter (nightly by default).
//!
//! Rows are grouped by filter and by `floor((MJD − origin) / days)`. Within a bin:
//!
//! - [`Weighting::InverseVariance`] (default): `flux = Σ(f/σ²) / Σ(1/σ²)`,
//!   `err = sqrt(1 / Σ(1/σ²))` with `σ = duJy` (as ATClean does);
//! - [`Weighting::Unweighted`]: `flux = mean(f)`, `err = sqrt(Σ duJy²) / N` (as David
//!   Young's `plot_atlas_fp.py stack` does), for comparison with existing plots.
//!
//! Optional iterative σ-clipping ([`Clip`]) rejects points with `|f − centre| > k·σ` (the
//! point's own `duJy` by default, or the bin's scatter), the first centre being the median,
//! later ones the (weighted) mean of the kept points, until nothing changes. The MJD of a bin
//! is the mean of its kept points. Rows with `duJy <= 0` cannot be weighted and are left out
//! (counted in [`Bin::n_skipped`]).
//!
//! ```
//! use fallingstar_forcedphot::binning::{bin, BinOptions};
//! use fallingstar_forcedphot::ResultTable;
//! let text = "###MJD m dm uJy duJy F\n\
//!   60000.1 0 0 100 10 o\n60000.2 0 0 130 20 o\n60001.1 0 0 50 5 c\n";
//! let rows = ResultTable::parse(text).unwrap().rows;
//! let bins = bin(&rows, &BinOptions::nightly());
//! assert_eq!(bins.len(), 2);
//! // Weights 1/100 and 1/400: flux = (1 + 0.325) / 0.0125 = 106, err = sqrt(1 / 0.0125).
//! let o = bins.iter().find(|b| b.filter == "o").unwrap();
//! assert!((o.flux_ujy - 106.0).abs() < 1e-9);
//! assert!((o.flux_err_ujy - 80f64.sqrt()).abs() < 1e-9);
//! assert_eq!(o.n_used, 2);
//! ```

use serde::{Deserialize, Serialize};

use broker_core::astro::binning::{FluxSample, bin_fluxes};
use broker_core::astro::{flux_err_to_mag_err, ujy_to_mag, upper_limit_mag};
use broker_core::{Band, Lightcurve, Origin, PhotometryPoint};

use crate::result::Measurement;

/// The binning options and clipping of the core ([`broker_core::astro::binning`]), shared
/// with cross-broker binning.
pub use broker_core::astro::binning::{BinOptions, Clip, ClipScale, Weighting};

/// One bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// The filter.
    pub filter: String,
    /// The bin's start (`origin + k·days`).
    pub mjd_start: f64,
    /// The mean MJD of the kept points.
    pub mjd: f64,
    /// The combined flux in µJy.
    pub flux_ujy: f64,
    /// Its error in µJy.
    pub flux_err_ujy: f64,
    /// Points used.
    pub n_used: usize,
    /// Points rejected by clipping.
    pub n_clipped: usize,
    /// Points left out because `duJy <= 0`.
    pub n_skipped: usize,
    /// Reduced χ² of the kept points about the combined flux (0 for one point).
    pub chi2_n: f64,
}

impl Bin {
    /// Signal to noise of the combined flux.
    pub fn snr(&self) -> f64 {
        if self.flux_err_ujy > 0.0 { self.flux_ujy / self.flux_err_ujy } else { 0.0 }
    }
    /// As a core photometry point: a detection where S/N >= `snr_min`, else a
    /// `limit_sigma`-σ upper limit; origin `forced`, measurement `difference` (set
    /// `apparent` with [`PhotometryPoint::with_measurement`] for reduced-image tasks).
    pub fn to_point(&self, object_id: &str, snr_min: f64, limit_sigma: f64) -> PhotometryPoint {
        let mut p = PhotometryPoint::from_flux(
            "forcedphot",
            "atlas",
            object_id,
            self.mjd,
            Band::from_atlas_filter(&self.filter),
            self.flux_ujy,
            self.flux_err_ujy,
            snr_min,
            limit_sigma,
        )
        .with_origin(Origin::Forced);
        if p.is_detection() {
            p.mag = ujy_to_mag(self.flux_ujy);
            p.mag_err = flux_err_to_mag_err(self.flux_ujy, self.flux_err_ujy);
        } else {
            p.limiting_mag = upper_limit_mag(self.flux_err_ujy, limit_sigma);
        }
        p
    }
}

/// Bins rows per filter; the result is ordered by filter, then time. Rows with
/// `duJy <= 0` cannot be weighted and are counted in [`Bin::n_skipped`].
pub fn bin(rows: &[Measurement], opts: &BinOptions) -> Vec<Bin> {
    let mut by_filter: std::collections::BTreeMap<&str, Vec<FluxSample>> = Default::default();
    for r in rows {
        by_filter.entry(r.filter.as_str()).or_default().push(FluxSample {
            mjd: r.mjd,
            flux: r.ujy as f64,
            err: r.dujy as f64,
        });
    }
    let mut out = Vec::new();
    for (filter, samples) in by_filter {
        out.extend(bin_fluxes(&samples, opts).into_iter().map(|b| Bin {
            filter: filter.to_string(),
            mjd_start: b.bin_start,
            mjd: b.mjd,
            flux_ujy: b.flux,
            flux_err_ujy: b.err,
            n_used: b.n_used,
            n_clipped: b.n_clipped,
            n_skipped: b.n_skipped,
            chi2_n: b.chi2_n,
        }));
    }
    out
}

/// Bins as a core [`Lightcurve`] (detections where S/N >= 3, else 3σ limits).
pub fn bins_to_lightcurve(bins: &[Bin], object_id: &str) -> Lightcurve {
    let mut lc = Lightcurve::from_points(bins.iter().map(|b| b.to_point(object_id, 3.0, 3.0)).collect());
    lc.sort_by_mjd();
    lc
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ResultTable;

    fn rows(lines: &[(f64, i64, i64, &str)]) -> Vec<Measurement> {
        let mut text = String::from("###MJD m dm uJy duJy F\n");
        for (mjd, f, e, filt) in lines {
            text.push_str(&format!("{mjd} 0 0 {f} {e} {filt}\n"));
        }
        ResultTable::parse(&text).unwrap().rows
    }

    #[test]
    fn weighted_by_hand() {
        // Night 60000, filter o: f = 100 ± 10, 200 ± 20, 150 ± 10.
        // w = 0.01, 0.0025, 0.01 -> Σw = 0.0225; Σwf = 1 + 0.5 + 1.5 = 3.0 -> 133.333...
        // err = sqrt(1/0.0225) = 6.6666...
        let r = rows(&[(60000.1, 100, 10, "o"), (60000.2, 200, 20, "o"), (60000.3, 150, 10, "o")]);
        let b = bin(&r, &BinOptions::nightly());
        assert_eq!(b.len(), 1);
        assert!((b[0].flux_ujy - 3.0 / 0.0225).abs() < 1e-9);
        assert!((b[0].flux_err_ujy - (1.0f64 / 0.0225).sqrt()).abs() < 1e-9);
        assert!((b[0].mjd - 60000.2).abs() < 1e-9);
        assert_eq!((b[0].n_used, b[0].n_clipped, b[0].mjd_start), (3, 0, 60000.0));
        // χ²/N: ((100-133.33)/10)² + ((200-133.33)/20)² + ((150-133.33)/10)² = 11.11+11.11+2.78 = 25, /2.
        assert!((b[0].chi2_n - 12.5).abs() < 1e-9);
    }

    #[test]
    fn unweighted_by_hand() {
        // mean(100, 200, 150) = 150; err = sqrt(100 + 400 + 100) / 3 = sqrt(600)/3.
        let r = rows(&[(60000.1, 100, 10, "o"), (60000.2, 200, 20, "o"), (60000.3, 150, 10, "o")]);
        let b = bin(&r, &BinOptions::nightly().weighting(Weighting::Unweighted));
        assert!((b[0].flux_ujy - 150.0).abs() < 1e-12);
        assert!((b[0].flux_err_ujy - 600f64.sqrt() / 3.0).abs() < 1e-12);
    }

    #[test]
    fn clipping_drops_the_outlier_and_counts_it() {
        // Four points near 100 ± 10 and one at 1000 ± 10: median 100; |1000-100| > 30.
        let r = rows(&[
            (60000.1, 100, 10, "c"),
            (60000.2, 105, 10, "c"),
            (60000.3, 95, 10, "c"),
            (60000.4, 100, 10, "c"),
            (60000.5, 1000, 10, "c"),
        ]);
        let b = bin(&r, &BinOptions::nightly().clip(Clip::default()));
        assert_eq!((b[0].n_used, b[0].n_clipped), (4, 1));
        assert!((b[0].flux_ujy - 100.0).abs() < 1e-9);
        assert!((b[0].flux_err_ujy - 5.0).abs() < 1e-9);
        // MJD is the mean of the kept points only.
        assert!((b[0].mjd - 60000.25).abs() < 1e-9);
    }

    #[test]
    fn bins_split_by_filter_and_width() {
        let r = rows(&[(60000.9, 10, 1, "o"), (60001.1, 20, 1, "o"), (60000.5, 30, 1, "c"), (60003.0, 1, 0, "c")]);
        let b = bin(&r, &BinOptions::nightly());
        assert_eq!(b.len(), 3);
        let b3 = bin(&r, &BinOptions::days(3.0).origin(60000.0));
        assert_eq!(b3.len(), 2, "{b3:?}");
        let o = b3.iter().find(|b| b.filter == "o").unwrap();
        assert_eq!(o.n_used, 2);
        assert!((o.flux_ujy - 15.0).abs() < 1e-12);
        let lc = bins_to_lightcurve(&b3, "x");
        assert_eq!(lc.len(), 2);
        assert!(lc.points.iter().all(|p| p.is_detection()));
    }
}
