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

use broker_core::astro::{flux_err_to_mag_err, ujy_to_mag, upper_limit_mag};
use broker_core::{Band, Lightcurve, PhotometryPoint};

use crate::result::Measurement;

/// How fluxes in a bin are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Weighting {
    /// Inverse-variance weighted mean; `err = sqrt(1 / Σ(1/σ²))`.
    #[default]
    InverseVariance,
    /// Plain mean; `err = sqrt(Σ σ²) / N`.
    Unweighted,
}

/// What σ a clipped point's residual is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClipScale {
    /// The point's own `duJy`.
    #[default]
    PointError,
    /// The sample standard deviation of the kept points of the bin.
    Scatter,
}

/// Iterative σ-clipping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// Reject beyond this many σ (default 3).
    pub sigma: f64,
    /// At most this many iterations (default 10).
    pub max_iterations: u32,
    /// What σ is.
    pub scale: ClipScale,
}

impl Default for Clip {
    fn default() -> Self {
        Clip { sigma: 3.0, max_iterations: 10, scale: ClipScale::PointError }
    }
}

/// How to bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinOptions {
    /// Bin width in days (default 1).
    pub days: f64,
    /// Where bins start: bin `k` is `[origin + k·days, origin + (k+1)·days)` (default 0, so
    /// nightly bins are whole MJDs).
    pub origin: f64,
    /// How to combine.
    pub weighting: Weighting,
    /// Optional clipping (default off).
    pub clip: Option<Clip>,
}

impl Default for BinOptions {
    fn default() -> Self {
        Self::nightly()
    }
}

impl BinOptions {
    /// One-day bins on whole MJDs, inverse-variance weighted, no clipping.
    pub fn nightly() -> Self {
        BinOptions { days: 1.0, origin: 0.0, weighting: Weighting::InverseVariance, clip: None }
    }
    /// `days`-day bins.
    pub fn days(days: f64) -> Self {
        BinOptions { days, ..Self::nightly() }
    }
    /// Sets the weighting.
    pub fn weighting(mut self, w: Weighting) -> Self {
        self.weighting = w;
        self
    }
    /// Turns on clipping.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }
    /// Sets the origin.
    pub fn origin(mut self, origin: f64) -> Self {
        self.origin = origin;
        self
    }
}

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
    /// `limit_sigma`-σ upper limit.
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
        );
        if p.is_detection() {
            p.mag = ujy_to_mag(self.flux_ujy);
            p.mag_err = flux_err_to_mag_err(self.flux_ujy, self.flux_err_ujy);
        } else {
            p.limiting_mag = upper_limit_mag(self.flux_err_ujy, limit_sigma);
        }
        p
    }
}

/// (mjd, flux, error) of the usable points, and how many were skipped.
type Group = (Vec<(f64, f64, f64)>, usize);

/// Bins rows per filter; the result is ordered by filter, then time.
pub fn bin(rows: &[Measurement], opts: &BinOptions) -> Vec<Bin> {
    let days = if opts.days.is_finite() && opts.days > 0.0 { opts.days } else { 1.0 };
    let origin = if opts.origin.is_finite() { opts.origin } else { 0.0 };
    let mut groups: std::collections::BTreeMap<(String, i64), Group> = Default::default();
    for r in rows {
        if !r.mjd.is_finite() {
            continue;
        }
        let k = ((r.mjd - origin) / days).floor();
        if !k.is_finite() || k.abs() > 1e15 {
            continue;
        }
        let entry = groups.entry((r.filter.clone(), k as i64)).or_default();
        if r.dujy <= 0 {
            entry.1 += 1;
        } else {
            entry.0.push((r.mjd, r.ujy as f64, r.dujy as f64));
        }
    }
    let mut out = Vec::new();
    for ((filter, k), (points, skipped)) in groups {
        if points.is_empty() {
            continue;
        }
        if let Some(b) = combine(&filter, origin + k as f64 * days, &points, skipped, opts) {
            out.push(b);
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn mean_of(points: &[(f64, f64, f64)], keep: &[bool], w: Weighting) -> f64 {
    let kept = points.iter().zip(keep).filter(|(_, k)| **k).map(|(p, _)| p);
    match w {
        Weighting::InverseVariance => {
            let (mut sw, mut swf) = (0.0, 0.0);
            for (_, f, s) in kept {
                let wt = 1.0 / (s * s);
                sw += wt;
                swf += wt * f;
            }
            swf / sw
        }
        Weighting::Unweighted => {
            let v: Vec<f64> = kept.map(|p| p.1).collect();
            v.iter().sum::<f64>() / v.len() as f64
        }
    }
}

fn combine(filter: &str, start: f64, points: &[(f64, f64, f64)], skipped: usize, opts: &BinOptions) -> Option<Bin> {
    let mut keep = vec![true; points.len()];
    if let Some(clip) = opts.clip {
        for it in 0..clip.max_iterations.max(1) {
            let kept: Vec<f64> = points.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p.1).collect();
            if kept.len() < 2 {
                break;
            }
            let centre = if it == 0 { median(&mut kept.clone()) } else { mean_of(points, &keep, opts.weighting) };
            let scatter = {
                let n = kept.len() as f64;
                let m = kept.iter().sum::<f64>() / n;
                (kept.iter().map(|f| (f - m) * (f - m)).sum::<f64>() / (n - 1.0)).sqrt()
            };
            let next: Vec<bool> = points
                .iter()
                .map(|(_, f, s)| {
                    let sigma = match clip.scale {
                        ClipScale::PointError => *s,
                        ClipScale::Scatter => scatter,
                    };
                    sigma <= 0.0 || (f - centre).abs() <= clip.sigma * sigma
                })
                .collect();
            if next.iter().all(|k| !k) || next == keep {
                break;
            }
            keep = next;
        }
    }
    let kept: Vec<&(f64, f64, f64)> = points.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p).collect();
    let n = kept.len();
    if n == 0 {
        return None;
    }
    let mjd = kept.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let (flux, err) = match opts.weighting {
        Weighting::InverseVariance => {
            let sw: f64 = kept.iter().map(|p| 1.0 / (p.2 * p.2)).sum();
            let swf: f64 = kept.iter().map(|p| p.1 / (p.2 * p.2)).sum();
            (swf / sw, (1.0 / sw).sqrt())
        }
        Weighting::Unweighted => {
            let f = kept.iter().map(|p| p.1).sum::<f64>() / n as f64;
            let e = kept.iter().map(|p| p.2 * p.2).sum::<f64>().sqrt() / n as f64;
            (f, e)
        }
    };
    let chi2_n =
        if n > 1 { kept.iter().map(|p| ((p.1 - flux) / p.2).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
    Some(Bin {
        filter: filter.to_string(),
        mjd_start: start,
        mjd,
        flux_ujy: flux,
        flux_err_ujy: err,
        n_used: n,
        n_clipped: points.len() - n,
        n_skipped: skipped,
        chi2_n,
    })
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
