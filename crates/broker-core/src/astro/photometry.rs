//! AB magnitudes and fluxes in microjansky.

/// The AB zero point for fluxes in microjansky: `m = 23.9 - 2.5 log10(f / µJy)`.
pub const AB_ZERO_POINT_UJY: f64 = 23.9;

const LN10_OVER_2_5: f64 = std::f64::consts::LN_10 / 2.5;

/// AB magnitude of a positive flux in µJy (`None` for non-positive or non-finite flux).
pub fn ujy_to_mag(flux_ujy: f64) -> Option<f64> {
    (flux_ujy.is_finite() && flux_ujy > 0.0).then(|| AB_ZERO_POINT_UJY - 2.5 * flux_ujy.log10())
}

/// Flux in µJy of an AB magnitude.
pub fn mag_to_ujy(mag: f64) -> f64 {
    10f64.powf((AB_ZERO_POINT_UJY - mag) / 2.5)
}

/// Magnitude error from a flux and its error: `2.5 / ln 10 · σ_f / f`.
pub fn flux_err_to_mag_err(flux_ujy: f64, flux_err_ujy: f64) -> Option<f64> {
    (flux_ujy.is_finite() && flux_ujy > 0.0 && flux_err_ujy.is_finite() && flux_err_ujy >= 0.0)
        .then(|| flux_err_ujy / (flux_ujy * LN10_OVER_2_5))
}

/// Flux error in µJy from a magnitude and its error.
pub fn mag_err_to_flux_err(mag: f64, mag_err: f64) -> f64 {
    mag_to_ujy(mag) * mag_err * LN10_OVER_2_5
}

/// The n-sigma upper limit (faintest detectable AB magnitude) of a flux error in µJy:
/// `23.9 - 2.5 log10(n · σ)`.
pub fn upper_limit_mag(flux_err_ujy: f64, n_sigma: f64) -> Option<f64> {
    ujy_to_mag(flux_err_ujy * n_sigma)
}

/// Nanojansky to microjansky.
pub fn njy_to_ujy(njy: f64) -> f64 {
    njy / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(ujy_to_mag(1.0), Some(23.9));
        assert!((ujy_to_mag(100.0).unwrap() - 18.9).abs() < 1e-12);
        assert_eq!(ujy_to_mag(0.0), None);
        assert_eq!(ujy_to_mag(-5.0), None);
        assert!((mag_to_ujy(18.9) - 100.0).abs() < 1e-9);
        // 10% flux error ≈ 0.1086 mag.
        assert!((flux_err_to_mag_err(100.0, 10.0).unwrap() - 0.108_573_6).abs() < 1e-6);
        assert!((mag_err_to_flux_err(18.9, 0.108_573_620_475_812_95) - 10.0).abs() < 1e-6);
        // 3-sigma limit of duJy = 10: 23.9 - 2.5 log10(30).
        assert!((upper_limit_mag(10.0, 3.0).unwrap() - (23.9 - 2.5 * 30f64.log10())).abs() < 1e-12);
        assert_eq!(njy_to_ujy(1500.0), 1.5);
    }
}
