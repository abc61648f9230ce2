//! Binning flux measurements in time (nightly by default), per band.
//!
//! Two modes:
//! - [`Weighting::InverseVariance`]: `f = Σ(f/σ²) / Σ(1/σ²)`, `σ = sqrt(1 / Σ(1/σ²))`;
//! - [`Weighting::Unweighted`]: `f = mean(f)`, `σ = sqrt(Σσ²) / N` (as David Young's
//!   `plot_atlas_fp.py stack` does, for comparison with existing plots).
//!
//! With clipping on, each bin is clipped iteratively: points further than `k` standard
//! deviations (of the kept fluxes) from the centre are dropped, the first centre being the
//! median, later ones the mean, until nothing changes. The bin's MJD is the mean MJD of the
//! kept points. Bins start at `floor(mjd / days) * days`.

use std::collections::BTreeMap;

use super::{Band, Lightcurve, PhotometryPoint};

/// How a bin's flux is averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weighting {
    /// Inverse-variance weighted mean.
    InverseVariance,
    /// Plain mean, error `sqrt(Σσ²)/N`.
    Unweighted,
}

/// Binning options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinOptions {
    /// Bin width in days (1 = nightly).
    pub days: f64,
    /// The averaging.
    pub weighting: Weighting,
    /// Clip points beyond this many standard deviations (`None`: no clipping).
    pub clip_sigma: Option<f64>,
    /// At most this many clipping passes.
    pub max_iterations: u32,
    /// Signal-to-noise needed for a binned point to be a detection (else a limit).
    pub snr_min: f64,
    /// Sigma of the limit for non-detections.
    pub limit_sigma: f64,
}

impl Default for BinOptions {
    fn default() -> Self {
        BinOptions {
            days: 1.0,
            weighting: Weighting::InverseVariance,
            clip_sigma: Some(3.0),
            max_iterations: 10,
            snr_min: 3.0,
            limit_sigma: 3.0,
        }
    }
}

/// One flux measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluxSample {
    /// MJD.
    pub mjd: f64,
    /// Flux (any unit; µJy in this workspace).
    pub flux: f64,
    /// Flux error, same unit.
    pub err: f64,
}

/// One bin.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxBin {
    /// Mean MJD of the kept points.
    pub mjd: f64,
    /// Start of the bin.
    pub bin_start: f64,
    /// Averaged flux.
    pub flux: f64,
    /// Its error.
    pub err: f64,
    /// Points used.
    pub n_used: usize,
    /// Points clipped (or unusable: non-finite values or a non-positive error).
    pub n_clipped: usize,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn average(points: &[FluxSample], w: Weighting) -> (f64, f64) {
    match w {
        Weighting::InverseVariance => {
            let sw: f64 = points.iter().map(|p| 1.0 / (p.err * p.err)).sum();
            let swf: f64 = points.iter().map(|p| p.flux / (p.err * p.err)).sum();
            (swf / sw, (1.0 / sw).sqrt())
        }
        Weighting::Unweighted => {
            let n = points.len() as f64;
            let f = points.iter().map(|p| p.flux).sum::<f64>() / n;
            let e = points.iter().map(|p| p.err * p.err).sum::<f64>().sqrt() / n;
            (f, e)
        }
    }
}

/// Bins one band's samples. Samples in any order; bins come out in time order.
pub fn bin_fluxes(samples: &[FluxSample], opts: &BinOptions) -> Vec<FluxBin> {
    let days = if opts.days.is_finite() && opts.days > 0.0 { opts.days } else { 1.0 };
    let mut groups: BTreeMap<i64, Vec<FluxSample>> = BTreeMap::new();
    let mut bad: BTreeMap<i64, usize> = BTreeMap::new();
    for s in samples {
        if !s.mjd.is_finite() {
            continue;
        }
        let key = (s.mjd / days).floor() as i64;
        if s.flux.is_finite() && s.err.is_finite() && s.err > 0.0 {
            groups.entry(key).or_default().push(*s);
        } else {
            *bad.entry(key).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (key, mut pts) in groups {
        let n_all = pts.len();
        if let Some(k) = opts.clip_sigma.filter(|k| k.is_finite() && *k > 0.0) {
            let mut first = true;
            for _ in 0..opts.max_iterations.max(1) {
                if pts.len() < 3 {
                    break;
                }
                let fluxes: Vec<f64> = pts.iter().map(|p| p.flux).collect();
                let centre = if first { median(&fluxes) } else { mean(&fluxes) };
                first = false;
                let m = mean(&fluxes);
                let sd = (fluxes.iter().map(|f| (f - m) * (f - m)).sum::<f64>() / (fluxes.len() as f64 - 1.0)).sqrt();
                if sd.is_nan() || sd <= 0.0 {
                    break;
                }
                let before = pts.len();
                pts.retain(|p| (p.flux - centre).abs() <= k * sd);
                if pts.len() == before {
                    break;
                }
            }
        }
        if pts.is_empty() {
            continue;
        }
        let (flux, err) = average(&pts, opts.weighting);
        out.push(FluxBin {
            mjd: mean(&pts.iter().map(|p| p.mjd).collect::<Vec<_>>()),
            bin_start: key as f64 * days,
            flux,
            err,
            n_used: pts.len(),
            n_clipped: n_all - pts.len() + bad.get(&key).copied().unwrap_or(0),
        });
    }
    out
}

/// Bins a light curve's flux points per band (and per broker/survey), giving one point per
/// bin: a detection when `flux / err >= snr_min`, else a limit. Points without a flux
/// (magnitude-only limits) are left out.
pub fn bin_lightcurve(lc: &Lightcurve, opts: &BinOptions) -> Lightcurve {
    let mut groups: BTreeMap<(String, String, String, Band), Vec<FluxSample>> = BTreeMap::new();
    for p in &lc.points {
        if let (Some(f), Some(e)) = (p.flux_ujy, p.flux_err_ujy) {
            groups
                .entry((p.broker.clone(), p.survey.clone(), p.object_id.clone(), p.band.clone()))
                .or_default()
                .push(FluxSample { mjd: p.mjd, flux: f, err: e });
        }
    }
    let mut out = Lightcurve::new();
    for ((broker, survey, id, band), samples) in groups {
        for b in bin_fluxes(&samples, opts) {
            out.push(PhotometryPoint::from_flux(
                &broker,
                &survey,
                &id,
                b.mjd,
                band.clone(),
                b.flux,
                b.err,
                opts.snr_min,
                opts.limit_sigma,
            ));
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
    fn weighted_mean_by_hand() {
        // Two points on one night: 100 ± 10 and 130 ± 20.
        // w = 1/100, 1/400 -> f = (1 + 130/400) / (1/100 + 1/400) = 1.325 / 0.0125 = 106.0
        // err = sqrt(1 / 0.0125) = 8.94427...
        let bins = bin_fluxes(&[s(60000.1, 100.0, 10.0), s(60000.3, 130.0, 20.0)], &BinOptions::default());
        assert_eq!(bins.len(), 1);
        assert!((bins[0].flux - 106.0).abs() < 1e-9);
        assert!((bins[0].err - 80f64.sqrt()).abs() < 1e-9);
        assert!((bins[0].mjd - 60000.2).abs() < 1e-9);
        assert_eq!(bins[0].bin_start, 60000.0);
        assert_eq!((bins[0].n_used, bins[0].n_clipped), (2, 0));
    }

    #[test]
    fn unweighted_mode_by_hand() {
        let o = BinOptions { weighting: Weighting::Unweighted, clip_sigma: None, ..BinOptions::default() };
        // mean(100, 130, 160) = 130; err = sqrt(100+400+900)/3 = sqrt(1400)/3
        let bins = bin_fluxes(&[s(1.1, 100.0, 10.0), s(1.2, 130.0, 20.0), s(1.3, 160.0, 30.0)], &o);
        assert!((bins[0].flux - 130.0).abs() < 1e-9);
        assert!((bins[0].err - 1400f64.sqrt() / 3.0).abs() < 1e-9);
    }

    #[test]
    fn clipping_drops_an_outlier_and_counts_it() {
        let mut pts: Vec<FluxSample> =
            (0..10).map(|i| s(5.0 + f64::from(i) * 0.01, 100.0 + f64::from(i % 3), 5.0)).collect();
        pts.push(s(5.5, 1000.0, 5.0));
        let bins = bin_fluxes(&pts, &BinOptions::default());
        assert_eq!(bins.len(), 1);
        assert_eq!((bins[0].n_used, bins[0].n_clipped), (10, 1));
        assert!(bins[0].flux < 102.0);
        let no_clip = bin_fluxes(&pts, &BinOptions { clip_sigma: None, ..BinOptions::default() });
        assert!(no_clip[0].flux > 150.0);
    }

    #[test]
    fn separate_nights_and_bad_points() {
        let bins = bin_fluxes(
            &[s(10.9, 50.0, 5.0), s(11.1, 60.0, 5.0), s(11.2, f64::NAN, 5.0), s(11.3, 60.0, 0.0)],
            &BinOptions::default(),
        );
        assert_eq!(bins.iter().map(|b| b.bin_start).collect::<Vec<_>>(), vec![10.0, 11.0]);
        assert_eq!(bins[1].n_clipped, 2);
        let three_day =
            bin_fluxes(&[s(10.9, 50.0, 5.0), s(11.1, 60.0, 5.0)], &BinOptions { days: 3.0, ..BinOptions::default() });
        assert_eq!(three_day.len(), 1);
        assert_eq!(three_day[0].bin_start, 9.0);
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
        let b = bin_lightcurve(&lc, &BinOptions::default());
        assert_eq!(b.len(), 2);
        let o = b.points.iter().find(|p| p.band == Band::AtlasO).unwrap();
        assert!(o.is_detection());
        assert!((o.flux_err_ujy.unwrap() - 10.0 / 2f64.sqrt()).abs() < 1e-9);
        let c = b.points.iter().find(|p| p.band == Band::AtlasC).unwrap();
        assert!(!c.is_detection());
    }
}
