//! Binning flux measurements in time (nightly by default), per band.
//!
//! Samples are grouped by `floor((MJD − origin) / days)`. Within a bin:
//!
//! - [`Weighting::InverseVariance`] (default): `f = Σ(f/σ²) / Σ(1/σ²)`,
//!   `σ = sqrt(1 / Σ(1/σ²))` (as ATClean does);
//! - [`Weighting::Unweighted`]: `f = mean(f)`, `σ = sqrt(Σσ²) / N` (as David Young's
//!   `plot_atlas_fp.py stack` does), for comparison with existing plots.
//!
//! Optional iterative σ-clipping ([`Clip`]) rejects points with `|f − centre| > k·σ` (the
//! point's own error by default, or the bin's scatter), the first centre being the median,
//! later ones the (weighted) mean of the kept points, until nothing changes. A bin's MJD is
//! the mean MJD of its kept points. Samples with a non-positive or non-finite error cannot be
//! weighted and are left out (counted in [`FluxBin::n_skipped`]).
//!
//! ```
//! use broker_core::astro::binning::{bin_fluxes, BinOptions, FluxSample};
//! let s = |mjd, flux, err| FluxSample { mjd, flux, err };
//! let bins = bin_fluxes(&[s(60000.1, 100.0, 10.0), s(60000.3, 130.0, 20.0)], &BinOptions::nightly());
//! // Weights 1/100 and 1/400: flux = (1 + 0.325) / 0.0125 = 106, err = sqrt(1 / 0.0125).
//! assert!((bins[0].flux - 106.0).abs() < 1e-9);
//! assert!((bins[0].err - 80f64.sqrt()).abs() < 1e-9);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Band, Lightcurve, Measurement, Origin, PhotometryPoint};

/// How a bin's fluxes are combined.
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
    /// The point's own error.
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

/// One flux measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluxSample {
    /// MJD.
    pub mjd: f64,
    /// Flux (µJy in this workspace).
    pub flux: f64,
    /// Flux error, same unit.
    pub err: f64,
}

/// One bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FluxBin {
    /// The bin's start (`origin + k·days`).
    pub bin_start: f64,
    /// Mean MJD of the kept points.
    pub mjd: f64,
    /// Combined flux.
    pub flux: f64,
    /// Its error.
    pub err: f64,
    /// Points used.
    pub n_used: usize,
    /// Points rejected by clipping.
    pub n_clipped: usize,
    /// Points left out because their error was not positive and finite (or their flux not
    /// finite).
    pub n_skipped: usize,
    /// Reduced χ² of the kept points about the combined flux (0 for one point).
    pub chi2_n: f64,
}

impl FluxBin {
    /// Signal to noise of the combined flux.
    pub fn snr(&self) -> f64 {
        if self.err > 0.0 { self.flux / self.err } else { 0.0 }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn mean_of(points: &[FluxSample], keep: &[bool], w: Weighting) -> f64 {
    let kept = points.iter().zip(keep).filter(|(_, k)| **k).map(|(p, _)| p);
    match w {
        Weighting::InverseVariance => {
            let (mut sw, mut swf) = (0.0, 0.0);
            for p in kept {
                let wt = 1.0 / (p.err * p.err);
                sw += wt;
                swf += wt * p.flux;
            }
            swf / sw
        }
        Weighting::Unweighted => {
            let v: Vec<f64> = kept.map(|p| p.flux).collect();
            v.iter().sum::<f64>() / v.len() as f64
        }
    }
}

fn combine(start: f64, points: &[FluxSample], skipped: usize, opts: &BinOptions) -> Option<FluxBin> {
    let mut keep = vec![true; points.len()];
    if let Some(clip) = opts.clip {
        for it in 0..clip.max_iterations.max(1) {
            let kept: Vec<f64> = points.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p.flux).collect();
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
                .map(|p| {
                    let sigma = match clip.scale {
                        ClipScale::PointError => p.err,
                        ClipScale::Scatter => scatter,
                    };
                    sigma <= 0.0 || (p.flux - centre).abs() <= clip.sigma * sigma
                })
                .collect();
            if next.iter().all(|k| !k) || next == keep {
                break;
            }
            keep = next;
        }
    }
    let kept: Vec<&FluxSample> = points.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p).collect();
    let n = kept.len();
    if n == 0 {
        return None;
    }
    let mjd = kept.iter().map(|p| p.mjd).sum::<f64>() / n as f64;
    let (flux, err) = match opts.weighting {
        Weighting::InverseVariance => {
            let sw: f64 = kept.iter().map(|p| 1.0 / (p.err * p.err)).sum();
            let swf: f64 = kept.iter().map(|p| p.flux / (p.err * p.err)).sum();
            (swf / sw, (1.0 / sw).sqrt())
        }
        Weighting::Unweighted => {
            let f = kept.iter().map(|p| p.flux).sum::<f64>() / n as f64;
            let e = kept.iter().map(|p| p.err * p.err).sum::<f64>().sqrt() / n as f64;
            (f, e)
        }
    };
    let chi2_n =
        if n > 1 { kept.iter().map(|p| ((p.flux - flux) / p.err).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
    Some(FluxBin {
        bin_start: start,
        mjd,
        flux,
        err,
        n_used: n,
        n_clipped: points.len() - n,
        n_skipped: skipped,
        chi2_n,
    })
}

/// Bins one band's samples (in any order); bins come out in time order.
pub fn bin_fluxes(samples: &[FluxSample], opts: &BinOptions) -> Vec<FluxBin> {
    let days = if opts.days.is_finite() && opts.days > 0.0 { opts.days } else { 1.0 };
    let origin = if opts.origin.is_finite() { opts.origin } else { 0.0 };
    let mut groups: BTreeMap<i64, (Vec<FluxSample>, usize)> = BTreeMap::new();
    for s in samples {
        if !s.mjd.is_finite() {
            continue;
        }
        let k = ((s.mjd - origin) / days).floor();
        if !k.is_finite() || k.abs() > 1e15 {
            continue;
        }
        let entry = groups.entry(k as i64).or_default();
        if s.flux.is_finite() && s.err.is_finite() && s.err > 0.0 {
            entry.0.push(*s);
        } else {
            entry.1 += 1;
        }
    }
    groups
        .into_iter()
        .filter(|(_, (points, _))| !points.is_empty())
        .filter_map(|(k, (points, skipped))| combine(origin + k as f64 * days, &points, skipped, opts))
        .collect()
}

/// Bins a light curve's flux points per broker, survey, object, band, origin and
/// measurement (difference and apparent fluxes are never averaged together), giving one
/// point per bin: a detection when `flux / err >= snr_min`, else a `limit_sigma` limit.
/// Points without a flux (magnitude-only limits) and points marked as duplicates (see
/// [`super::dedup`]) are left out.
pub fn bin_lightcurve(lc: &Lightcurve, opts: &BinOptions, snr_min: f64, limit_sigma: f64) -> Lightcurve {
    type Key = (String, String, String, Band, Origin, Measurement);
    let mut groups: BTreeMap<Key, Vec<FluxSample>> = BTreeMap::new();
    for p in lc.points.iter().filter(|p| !p.is_duplicate()) {
        if let (Some(f), Some(e)) = (p.flux_ujy, p.flux_err_ujy) {
            groups
                .entry((
                    p.broker.clone(),
                    p.survey.clone(),
                    p.object_id.clone(),
                    p.band.clone(),
                    p.origin,
                    p.measurement,
                ))
                .or_default()
                .push(FluxSample { mjd: p.mjd, flux: f, err: e });
        }
    }
    let mut out = Lightcurve::new();
    for ((broker, survey, id, band, origin, measurement), samples) in groups {
        for b in bin_fluxes(&samples, opts) {
            out.push(
                PhotometryPoint::from_flux(
                    &broker,
                    &survey,
                    &id,
                    b.mjd,
                    band.clone(),
                    b.flux,
                    b.err,
                    snr_min,
                    limit_sigma,
                )
                .with_origin(origin)
                .with_measurement(measurement),
            );
        }
    }
    out.sort_by_mjd();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(mjd: f64, flux: f64, err: f64) -> FluxSample {
        FluxSample { mjd, flux, err }
    }

    #[test]
    fn weighted_by_hand() {
        // f = 100 ± 10, 200 ± 20, 150 ± 10: w = 0.01, 0.0025, 0.01 -> Σw = 0.0225;
        // Σwf = 1 + 0.5 + 1.5 = 3.0 -> 133.333...; err = sqrt(1/0.0225).
        let b = bin_fluxes(
            &[s(60000.1, 100.0, 10.0), s(60000.2, 200.0, 20.0), s(60000.3, 150.0, 10.0)],
            &BinOptions::nightly(),
        );
        assert_eq!(b.len(), 1);
        assert!((b[0].flux - 3.0 / 0.0225).abs() < 1e-9);
        assert!((b[0].err - (1.0f64 / 0.0225).sqrt()).abs() < 1e-9);
        assert!((b[0].mjd - 60000.2).abs() < 1e-9);
        assert_eq!((b[0].n_used, b[0].n_clipped, b[0].bin_start), (3, 0, 60000.0));
        // χ²/N: 11.11 + 11.11 + 2.78 = 25, / 2.
        assert!((b[0].chi2_n - 12.5).abs() < 1e-9);
    }

    #[test]
    fn unweighted_by_hand() {
        let o = BinOptions::nightly().weighting(Weighting::Unweighted);
        let b = bin_fluxes(&[s(1.1, 100.0, 10.0), s(1.2, 130.0, 20.0), s(1.3, 160.0, 30.0)], &o);
        assert!((b[0].flux - 130.0).abs() < 1e-9);
        assert!((b[0].err - 1400f64.sqrt() / 3.0).abs() < 1e-9);
    }

    #[test]
    fn clipping_drops_an_outlier_and_counts_it() {
        let pts =
            [s(5.1, 100.0, 10.0), s(5.2, 105.0, 10.0), s(5.3, 95.0, 10.0), s(5.4, 100.0, 10.0), s(5.5, 1000.0, 10.0)];
        let b = bin_fluxes(&pts, &BinOptions::nightly().clip(Clip::default()));
        assert_eq!((b[0].n_used, b[0].n_clipped), (4, 1));
        assert!((b[0].flux - 100.0).abs() < 1e-9);
        assert!((b[0].mjd - 5.25).abs() < 1e-9);
        let scatter = Clip { scale: ClipScale::Scatter, ..Clip::default() };
        let many: Vec<FluxSample> = (0..10)
            .map(|i| s(5.0 + f64::from(i) * 0.01, 100.0 + f64::from(i % 3), 5.0))
            .chain([s(5.5, 1000.0, 5.0)])
            .collect();
        let b = bin_fluxes(&many, &BinOptions::nightly().clip(scatter));
        assert_eq!((b[0].n_used, b[0].n_clipped), (10, 1));
        let no_clip = bin_fluxes(&many, &BinOptions::nightly());
        assert!(no_clip[0].flux > 150.0);
    }

    #[test]
    fn widths_origins_and_unusable_points() {
        let b = bin_fluxes(
            &[s(10.9, 50.0, 5.0), s(11.1, 60.0, 5.0), s(11.2, f64::NAN, 5.0), s(11.3, 60.0, 0.0)],
            &BinOptions::nightly(),
        );
        assert_eq!(b.iter().map(|b| b.bin_start).collect::<Vec<_>>(), vec![10.0, 11.0]);
        assert_eq!(b[1].n_skipped, 2);
        let three = bin_fluxes(&[s(10.9, 50.0, 5.0), s(11.1, 60.0, 5.0)], &BinOptions::days(3.0));
        assert_eq!((three.len(), three[0].bin_start), (1, 9.0));
        let shifted = bin_fluxes(&[s(10.9, 50.0, 5.0), s(11.1, 60.0, 5.0)], &BinOptions::days(1.0).origin(0.5));
        assert_eq!((shifted.len(), shifted[0].bin_start), (1, 10.5));
    }

    #[test]
    fn lightcurve_binning_per_band() {
        let mk =
            |mjd, band: Band, f| PhotometryPoint::from_flux("forcedphot", "atlas", "t", mjd, band, f, 10.0, 3.0, 3.0);
        let lc = Lightcurve::from_points(vec![
            mk(60000.1, Band::AtlasO, 100.0),
            mk(60000.2, Band::AtlasO, 100.0),
            mk(60000.3, Band::AtlasC, 5.0),
            PhotometryPoint::limit("alerce", "ztf", "z", 60000.4, Band::ZtfG, 20.0),
        ]);
        let b = bin_lightcurve(&lc, &BinOptions::nightly(), 3.0, 3.0);
        assert_eq!(b.len(), 2);
        let o = b.points.iter().find(|p| p.band == Band::AtlasO).unwrap();
        assert!(o.is_detection());
        assert!((o.flux_err_ujy.unwrap() - 10.0 / 2f64.sqrt()).abs() < 1e-9);
        assert!(!b.points.iter().find(|p| p.band == Band::AtlasC).unwrap().is_detection());
    }
}
