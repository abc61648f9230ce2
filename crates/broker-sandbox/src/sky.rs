//! The deterministic synthetic sky.
//!
//! Every object has one physical model: transients follow a Bazin rise/decline per band (zero
//! flux before explosion), variables a periodic or stochastic curve around a mean flux. Each
//! survey observes it with its own cadence (nightly visits, seasonal gaps when the Sun is near,
//! weather losses), depth (5-sigma limiting magnitude per visit) and noise, so ALeRCE ZTF
//! detections, ATLAS `lc`/`fp`, SkyPortal photometry and forced photometry at the same position
//! all describe the same object. Identifiers imitate each service's format but are synthetic.

use crate::config::SkyConfig;
use crate::rng::{Rng, seed_of};
use std::sync::OnceLock;

/// Flux zero point for microjansky: m = 23.9 - 2.5 log10(f / uJy).
pub(crate) const ZP_UJY: f64 = 23.9;

pub(crate) fn mag_to_flux(m: f64) -> f64 {
    10f64.powf(-0.4 * (m - ZP_UJY))
}
pub(crate) fn flux_to_mag(f: f64) -> f64 {
    ZP_UJY - 2.5 * f.abs().max(1e-9).log10()
}

/// Physical kind of an object. The names are ALeRCE `lc_classifier` classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum Kind {
    SNIa,
    SNII,
    SNIbc,
    SLSN,
    AGN,
    QSO,
    RRL,
    E,
    LPV,
    CVNova,
}

impl Kind {
    pub(crate) fn class_name(self) -> &'static str {
        match self {
            Kind::SNIa => "SNIa",
            Kind::SNII => "SNII",
            Kind::SNIbc => "SNIbc",
            Kind::SLSN => "SLSN",
            Kind::AGN => "AGN",
            Kind::QSO => "QSO",
            Kind::RRL => "RRL",
            Kind::E => "E",
            Kind::LPV => "LPV",
            Kind::CVNova => "CV/Nova",
        }
    }
    pub(crate) fn is_transient(self) -> bool {
        matches!(self, Kind::SNIa | Kind::SNII | Kind::SNIbc | Kind::SLSN | Kind::CVNova)
    }
    pub(crate) fn is_sn(self) -> bool {
        matches!(self, Kind::SNIa | Kind::SNII | Kind::SNIbc | Kind::SLSN)
    }
    /// ALeRCE stamp classifier class.
    pub(crate) fn stamp_class(self) -> &'static str {
        match self {
            Kind::SNIa | Kind::SNII | Kind::SNIbc | Kind::SLSN => "SN",
            Kind::AGN | Kind::QSO => "AGN",
            _ => "VS",
        }
    }
    /// Sherlock-style context class used by ATLAS.
    pub(crate) fn sherlock(self) -> &'static str {
        match self {
            Kind::SNIa | Kind::SNII | Kind::SNIbc | Kind::SLSN => "SN",
            Kind::AGN | Kind::QSO => "AGN",
            Kind::CVNova => "CV",
            _ => "VS",
        }
    }
}

/// `lc_classifier` classes in taxonomy order.
pub(crate) const LC_CLASSES: [&str; 15] = [
    "SNIa",
    "SNIbc",
    "SNII",
    "SLSN",
    "QSO",
    "AGN",
    "Blazar",
    "YSO",
    "CV/Nova",
    "LPV",
    "E",
    "DSCT",
    "RRL",
    "CEP",
    "Periodic-Other",
];
/// `stamp_classifier` classes.
pub(crate) const STAMP_CLASSES: [&str; 5] = ["SN", "AGN", "VS", "asteroid", "bogus"];

/// A survey (or instrument) that observes the sky.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Survey {
    Ztf,
    Atlas,
    Lsst,
}

impl Survey {
    fn code(self) -> u64 {
        match self {
            Survey::Ztf => 1,
            Survey::Atlas => 2,
            Survey::Lsst => 3,
        }
    }
}

/// One synthetic object.
#[derive(Debug)]
pub(crate) struct SkyObject {
    pub(crate) index: usize,
    pub(crate) seed: u64,
    pub(crate) ra: f64,
    pub(crate) dec: f64,
    pub(crate) kind: Kind,
    pub(crate) redshift: Option<f64>,
    /// Transients: MJD of peak, rise and fall times (days), peak r magnitude.
    pub(crate) peak_mjd: f64,
    pub(crate) rise: f64,
    pub(crate) fall: f64,
    pub(crate) peak_mag: f64,
    /// Variables: mean r magnitude, amplitude (mag), period (days), phase.
    pub(crate) mean_mag: f64,
    pub(crate) amplitude: f64,
    pub(crate) period: f64,
    pub(crate) phase: f64,
    /// ZTF object id (`ZTF20abcdefg`), when the object is north of -31 deg.
    pub(crate) ztf_oid: Option<String>,
    /// 19-digit ATLAS id built from the position.
    pub(crate) atlas_id: u64,
    /// `ATLAS20abcd`.
    pub(crate) atlas_designation: String,
    /// TNS name (`2020abc`) for transients.
    pub(crate) tns_name: Option<String>,
    /// 64-bit LSST DiaObject id (above 2^53), south of +33 deg and recent enough.
    pub(crate) lsst_oid: Option<u64>,
    /// `lc_classifier` probabilities in taxonomy order.
    pub(crate) lc_probs: Vec<(&'static str, f64)>,
    /// `stamp_classifier` probabilities.
    pub(crate) stamp_probs: Vec<(&'static str, f64)>,
    /// ATLAS core detection list (0-13) the object sits in.
    pub(crate) atlas_list: i64,
    pub(crate) vra: f64,
    pub(crate) rb_pix: f64,
    /// Host galaxy offset (arcsec, east and north) and magnitude.
    pub(crate) host_offset: (f64, f64),
    pub(crate) host_mag: f64,
    summary: [OnceLock<Summary>; 3],
    /// The ZTF v1 `lightcurve` reply body, built on first request (deterministic: a real
    /// server reads it from its database rather than computing it on every request).
    pub(crate) ztf_lightcurve_reply: OnceLock<axum::body::Bytes>,
}

/// Per-survey summary of detections.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub(crate) ndet: usize,
    pub(crate) nnondet: usize,
    pub(crate) first_mjd: f64,
    pub(crate) last_mjd: f64,
    pub(crate) bands: Vec<(&'static str, usize, f64, f64, f64, f64, f64)>,
}

/// One visit of a survey: time, band, depth.
#[derive(Debug, Clone)]
pub(crate) struct Epoch {
    pub(crate) mjd: f64,
    pub(crate) band: &'static str,
    /// 5-sigma limiting magnitude.
    pub(crate) limit: f64,
    /// Index of the visit in the survey's list for this position.
    pub(crate) seq: usize,
    /// Night number (integer MJD).
    pub(crate) night: i64,
}

/// A measured point.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) mjd: f64,
    pub(crate) band: &'static str,
    pub(crate) limit: f64,
    /// Difference flux (uJy) with noise.
    pub(crate) flux: f64,
    pub(crate) flux_err: f64,
    /// Reference (template) flux in uJy: zero for transients, the mean for variables.
    pub(crate) ref_flux: f64,
    pub(crate) detected: bool,
    pub(crate) seq: usize,
    pub(crate) night: i64,
    /// Small per-point numbers for auxiliary columns.
    pub(crate) aux: u64,
}

impl Point {
    pub(crate) fn snr(&self) -> f64 {
        self.flux / self.flux_err
    }
}

/// The whole sky.
#[derive(Debug)]
pub(crate) struct Sky {
    pub(crate) seed: u64,
    pub(crate) cfg: SkyConfig,
    pub(crate) objects: Vec<SkyObject>,
}

fn band_offset(band: &str) -> (f64, f64) {
    // (magnitude offset at peak relative to r, fall-time factor)
    match band {
        "u" => (0.6, 0.6),
        "g" => (-0.1, 0.8),
        "c" => (-0.05, 0.9),
        "r" => (0.0, 1.0),
        "o" => (0.1, 1.1),
        "i" => (0.2, 1.2),
        "z" => (0.3, 1.3),
        "y" => (0.4, 1.4),
        _ => (0.0, 1.0),
    }
}

fn atlas_id_from(ra: f64, dec: f64, tail: u64) -> u64 {
    let ra_h = ra / 15.0;
    let h = ra_h.floor();
    let m = ((ra_h - h) * 60.0).floor();
    let s = ((ra_h - h) * 60.0 - m) * 60.0;
    let ra_part = (h as u64) * 1_000_000 + (m as u64) * 10_000 + ((s * 100.0).floor() as u64).min(5999);
    let sign = if dec >= 0.0 { 1 } else { 0 };
    let ad = dec.abs();
    let d = ad.floor();
    let dm = ((ad - d) * 60.0).floor();
    let ds = ((ad - d) * 60.0 - dm) * 60.0;
    let dec_part = (d as u64) * 100_000 + (dm as u64) * 1000 + ((ds * 10.0).floor() as u64).min(599);
    // 1 | HHMMSSss | sign | DDMMSSs | tt  = 19 digits
    1_000_000_000_000_000_000 + ra_part * 10_000_000_000 + sign * 1_000_000_000 + dec_part * 100 + tail % 100
}

fn ztf_oid(index: usize, year: i64) -> String {
    let mut v = ((index as u64).wrapping_mul(7_919_929).wrapping_add(123_457)) % 26u64.pow(6);
    let mut s = [b'a'; 6];
    for c in s.iter_mut().rev() {
        *c = b'a' + (v % 26) as u8;
        v /= 26;
    }
    format!("ZTF{:02}a{}", year % 100, String::from_utf8_lossy(&s))
}

fn year_of_mjd(mjd: f64) -> i64 {
    // 2000-01-01 is MJD 51544.
    2000 + ((mjd - 51544.0) / 365.25).floor() as i64
}

/// Probability vector with `truth` favoured.
fn probs(rng: &mut Rng, classes: &[&'static str], truth: &str) -> Vec<(&'static str, f64)> {
    let mut w: Vec<f64> =
        classes.iter().map(|c| if *c == truth { 3.0 + rng.range(0.0, 6.0) } else { rng.range(0.0, 1.0) }).collect();
    let sum: f64 = w.iter().sum();
    for x in w.iter_mut() {
        *x = (*x / sum * 1000.0).round() / 1000.0;
    }
    classes.iter().copied().zip(w).collect()
}

impl Sky {
    pub(crate) fn generate(seed: u64, cfg: &SkyConfig) -> Sky {
        let kinds = [
            (Kind::SNIa, 25),
            (Kind::SNII, 15),
            (Kind::SNIbc, 6),
            (Kind::SLSN, 4),
            (Kind::CVNova, 4),
            (Kind::AGN, 9),
            (Kind::QSO, 7),
            (Kind::RRL, 12),
            (Kind::E, 10),
            (Kind::LPV, 8),
        ];
        let total: u64 = kinds.iter().map(|k| k.1).sum();
        let span = (cfg.end_mjd - cfg.start_mjd).max(10.0);
        let objects = (0..cfg.objects)
            .map(|index| {
                let oseed = seed_of(&[seed, 0x0B1E, index as u64]);
                let mut r = Rng::new(&[oseed]);
                let ra = r.range(0.0, 360.0);
                let dec = (r.range(-0.95, 0.97)).asin().to_degrees();
                let mut pick = r.below(total);
                let mut kind = Kind::SNIa;
                for (k, w) in kinds {
                    if pick < w {
                        kind = k;
                        break;
                    }
                    pick -= w;
                }
                let peak_mjd = cfg.start_mjd + r.range(0.05, 0.95) * span;
                let (rise, fall, peak_mag) = match kind {
                    Kind::SNIa => (r.range(3.0, 6.0), r.range(20.0, 35.0), r.range(16.8, 19.6)),
                    Kind::SNII => (r.range(2.0, 5.0), r.range(50.0, 110.0), r.range(16.8, 19.8)),
                    Kind::SNIbc => (r.range(2.5, 5.0), r.range(15.0, 30.0), r.range(17.0, 19.6)),
                    Kind::SLSN => (r.range(15.0, 30.0), r.range(60.0, 120.0), r.range(17.5, 19.5)),
                    Kind::CVNova => (r.range(0.5, 1.5), r.range(3.0, 12.0), r.range(14.0, 18.5)),
                    _ => (0.0, 0.0, 0.0),
                };
                let (mean_mag, amplitude, period) = match kind {
                    Kind::AGN => (r.range(17.0, 19.5), r.range(0.2, 0.6), r.range(80.0, 400.0)),
                    Kind::QSO => (r.range(17.5, 19.8), r.range(0.1, 0.4), r.range(100.0, 600.0)),
                    Kind::RRL => (r.range(15.0, 18.5), r.range(0.4, 1.0), r.range(0.45, 0.85)),
                    Kind::E => (r.range(14.5, 18.5), r.range(0.2, 0.9), r.range(0.3, 8.0)),
                    Kind::LPV => (r.range(13.5, 17.0), r.range(1.0, 3.0), r.range(120.0, 450.0)),
                    _ => (0.0, 0.0, 0.0),
                };
                let phase = r.range(0.0, 1.0);
                let first_year = year_of_mjd(if kind.is_transient() { peak_mjd - rise * 3.0 } else { cfg.start_mjd });
                let ztf = (dec > -31.0).then(|| ztf_oid(index, first_year));
                let atlas_id = atlas_id_from(ra, dec, 0);
                let atlas_designation = format!("ATLAS{:02}{}", first_year % 100, r.letters(4));
                let tns_name =
                    (kind.is_transient() && r.chance(0.8)).then(|| format!("{}{}", first_year, r.letters(3)));
                let lsst_oid = (dec < 33.0 && r.chance(0.7)).then(|| (1u64 << 57) + r.below(1u64 << 59));
                let redshift = match kind {
                    Kind::SNIa | Kind::SNIbc | Kind::SNII => Some((r.range(0.01, 0.12) * 1e5).round() / 1e5),
                    Kind::SLSN => Some((r.range(0.08, 0.6) * 1e5).round() / 1e5),
                    Kind::AGN => Some((r.range(0.02, 0.5) * 1e5).round() / 1e5),
                    Kind::QSO => Some((r.range(0.5, 3.0) * 1e5).round() / 1e5),
                    _ => None,
                };
                let lc_probs = probs(&mut r, &LC_CLASSES, kind.class_name());
                let stamp_probs = probs(&mut r, &STAMP_CLASSES, kind.stamp_class());
                let atlas_list = if kind.is_sn() {
                    [1, 2, 2, 3, 4, 8][r.below(6) as usize]
                } else {
                    [0, 4, 5, 6, 7][r.below(5) as usize]
                };
                let host_offset = if kind.is_sn() || matches!(kind, Kind::AGN | Kind::QSO) {
                    if matches!(kind, Kind::AGN | Kind::QSO) {
                        (0.0, 0.0)
                    } else {
                        (r.range(-6.0, 6.0), r.range(-6.0, 6.0))
                    }
                } else {
                    (r.range(-1.0, 1.0), r.range(-1.0, 1.0))
                };
                SkyObject {
                    index,
                    seed: oseed,
                    ra,
                    dec,
                    kind,
                    redshift,
                    peak_mjd,
                    rise,
                    fall,
                    peak_mag,
                    mean_mag,
                    amplitude,
                    period,
                    phase,
                    ztf_oid: ztf,
                    atlas_id,
                    atlas_designation,
                    tns_name,
                    lsst_oid,
                    lc_probs,
                    stamp_probs,
                    atlas_list,
                    vra: (r.range(0.0, 1.0) * 1e4).round() / 1e4,
                    rb_pix: (r.range(0.5, 1.0) * 1e4).round() / 1e4,
                    host_offset,
                    host_mag: r.range(16.0, 21.0),
                    summary: Default::default(),
                    ztf_lightcurve_reply: OnceLock::new(),
                }
            })
            .collect();
        Sky { seed, cfg: cfg.clone(), objects }
    }

    /// True difference flux (uJy) of an object in a band at a time (no noise), and the
    /// reference flux.
    pub(crate) fn model_flux(o: &SkyObject, band: &str, mjd: f64) -> (f64, f64) {
        let (dm, ff) = band_offset(band);
        if o.kind.is_transient() {
            let t = mjd - o.peak_mjd;
            let explosion = -o.rise * 5.0;
            if t < explosion {
                return (0.0, 0.0);
            }
            let a = mag_to_flux(o.peak_mag + dm) * 2.0;
            let fall = o.fall * ff;
            let f = a * (-t / fall).exp() / (1.0 + (-t / o.rise).exp());
            (f, 0.0)
        } else {
            let mean = mag_to_flux(o.mean_mag + dm * 0.5);
            let amp = o.amplitude * (1.0 - 0.1 * dm);
            let x = match o.kind {
                Kind::AGN | Kind::QSO => {
                    // Stochastic-looking: a few incommensurate sinusoids.
                    let p = o.period;
                    0.5 * (std::f64::consts::TAU * (mjd / p + o.phase)).sin()
                        + 0.3 * (std::f64::consts::TAU * (mjd / (p * 0.37) + o.phase * 3.1)).sin()
                        + 0.2 * (std::f64::consts::TAU * (mjd / (p * 0.13) + o.phase * 7.3)).sin()
                }
                Kind::E => {
                    let ph = (mjd / o.period + o.phase).fract();
                    let d1 = (-((ph - 0.0).min(1.0 - ph) / 0.04).powi(2)).exp();
                    let d2 = 0.5 * (-((ph - 0.5) / 0.04).powi(2)).exp();
                    -(d1 + d2)
                }
                _ => {
                    let ph = (mjd / o.period + o.phase).fract();
                    // Sawtooth-ish pulsation.
                    if ph < 0.15 { ph / 0.15 * 2.0 - 1.0 } else { 1.0 - (ph - 0.15) / 0.85 * 2.0 }
                }
            };
            let m = o.mean_mag + dm * 0.5 - amp * 0.5 * x;
            (mag_to_flux(m) - mean, mean)
        }
    }

    /// The visits of a survey at a position identified by `seed`, RA and Dec.
    pub(crate) fn epochs(&self, seed: u64, ra: f64, dec: f64, survey: Survey) -> Vec<Epoch> {
        let mut r = Rng::new(&[seed, survey.code(), 0xE90C]);
        let start = self.cfg.start_mjd;
        let end = self.cfg.end_mjd;
        let bands: &[(&str, f64)] = match survey {
            Survey::Ztf => &[("g", 20.8), ("r", 20.6)],
            Survey::Atlas => &[("o", 19.3), ("c", 19.7)],
            Survey::Lsst => &[("u", 23.8), ("g", 24.5), ("r", 24.3), ("i", 23.9), ("z", 23.3), ("y", 22.1)],
        };
        let mut out = Vec::new();
        if let Some(n) = self.cfg.points_per_lightcurve {
            let step = (end - start) / n.max(1) as f64;
            for i in 0..n {
                let mjd = start + step * (i as f64 + r.range(0.0, 0.9));
                let (band, depth) = bands[i % bands.len()];
                out.push(Epoch { mjd, band, limit: depth + r.range(-0.4, 0.3), seq: i, night: mjd.floor() as i64 });
            }
            return out;
        }
        let covered = match survey {
            Survey::Ztf => dec > -31.0,
            Survey::Atlas => true,
            Survey::Lsst => dec < 33.0,
        };
        if !covered {
            return out;
        }
        let (step, first_lsst) = match survey {
            Survey::Ztf => (2, start),
            Survey::Atlas => (2, start),
            Survey::Lsst => (3, start + (end - start) * 0.6),
        };
        let offset = r.below(step) as i64;
        let mut night = start.floor() as i64;
        while (night as f64) < end {
            let n = night;
            night += 1;
            if (n + offset) % step as i64 != 0 || (n as f64) < first_lsst {
                continue;
            }
            let sun_ra = (360.0 * (n as f64 - 60024.0) / 365.25).rem_euclid(360.0);
            let d = (ra - sun_ra).rem_euclid(360.0);
            let elong = d.min(360.0 - d);
            if elong < 55.0 || r.chance(0.25) {
                continue;
            }
            let base = n as f64 + r.range(0.12, 0.35);
            match survey {
                Survey::Ztf => {
                    for (k, (band, depth)) in bands.iter().enumerate() {
                        if k == 0 && r.chance(0.2) {
                            continue;
                        }
                        let mjd = base + k as f64 * r.range(0.02, 0.08);
                        out.push(Epoch { mjd, band, limit: depth + r.range(-0.6, 0.4), seq: out.len(), night: n });
                    }
                }
                Survey::Atlas => {
                    let (band, depth) = if r.chance(0.7) { bands[0] } else { bands[1] };
                    let lim = depth + r.range(-0.7, 0.4);
                    for k in 0..4 {
                        let mjd = base + k as f64 * 0.0105 + r.range(0.0, 0.002);
                        out.push(Epoch { mjd, band, limit: lim + r.range(-0.1, 0.1), seq: out.len(), night: n });
                    }
                }
                Survey::Lsst => {
                    let (band, depth) = bands[r.below(bands.len() as u64) as usize];
                    out.push(Epoch { mjd: base, band, limit: depth + r.range(-0.4, 0.3), seq: out.len(), night: n });
                }
            }
        }
        out
    }

    /// Measured points of an object (or of an empty position when `o` is None) for a survey.
    pub(crate) fn measure(&self, o: Option<&SkyObject>, seed: u64, ra: f64, dec: f64, survey: Survey) -> Vec<Point> {
        let epochs = self.epochs(seed, ra, dec, survey);
        let mut r = Rng::new(&[seed, survey.code(), 0x7015E]);
        epochs
            .into_iter()
            .map(|e| {
                let (f, reff) = o.map(|o| Sky::model_flux(o, e.band, e.mjd)).unwrap_or((0.0, 0.0));
                let sigma = mag_to_flux(e.limit) / 5.0;
                // Poisson-like extra noise from the source itself.
                let sigma = (sigma * sigma + (f.abs() + reff) * 0.0004 * sigma).sqrt();
                let flux = f + sigma * r.normal();
                let detected = (flux / sigma).abs() >= 5.0;
                Point {
                    mjd: e.mjd,
                    band: e.band,
                    limit: e.limit,
                    flux,
                    flux_err: sigma,
                    ref_flux: reff,
                    detected,
                    seq: e.seq,
                    night: e.night,
                    aux: r.u64(),
                }
            })
            .collect()
    }

    pub(crate) fn photometry(&self, o: &SkyObject, survey: Survey) -> Vec<Point> {
        self.measure(Some(o), o.seed, o.ra, o.dec, survey)
    }

    /// Detections-only summary of one survey (cached).
    pub(crate) fn summary<'a>(&self, o: &'a SkyObject, survey: Survey) -> &'a Summary {
        let i = (survey.code() - 1) as usize;
        o.summary[i].get_or_init(|| {
            let pts = self.photometry(o, survey);
            let det: Vec<&Point> = pts.iter().filter(|p| p.detected).collect();
            let mut bands: Vec<(&'static str, usize, f64, f64, f64, f64, f64)> = Vec::new();
            for b in ["g", "r", "i", "o", "c", "u", "z", "y"] {
                let mags: Vec<(f64, f64)> =
                    det.iter().filter(|p| p.band == b).map(|p| (p.mjd, flux_to_mag(p.flux))).collect();
                if mags.is_empty() {
                    continue;
                }
                let mean = mags.iter().map(|m| m.1).sum::<f64>() / mags.len() as f64;
                let min = mags.iter().map(|m| m.1).fold(f64::MAX, f64::min);
                let max = mags.iter().map(|m| m.1).fold(f64::MIN, f64::max);
                bands.push((b, mags.len(), mean, min, max, mags[0].1, mags[mags.len() - 1].1));
            }
            Summary {
                ndet: det.len(),
                nnondet: pts.len() - det.len(),
                first_mjd: det.first().map(|p| p.mjd).unwrap_or(0.0),
                last_mjd: det.last().map(|p| p.mjd).unwrap_or(0.0),
                bands,
            }
        })
    }

    /// Objects within `radius_arcsec`, nearest first, with separations in arcsec.
    pub(crate) fn cone(&self, ra: f64, dec: f64, radius_arcsec: f64) -> Vec<(&SkyObject, f64)> {
        let mut v: Vec<(&SkyObject, f64)> = self
            .objects
            .iter()
            .map(|o| (o, separation_arcsec(ra, dec, o.ra, o.dec)))
            .filter(|(_, s)| *s <= radius_arcsec)
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v
    }

    pub(crate) fn by_ztf(&self, oid: &str) -> Option<&SkyObject> {
        self.objects.iter().find(|o| o.ztf_oid.as_deref() == Some(oid))
    }
    pub(crate) fn by_atlas(&self, id: u64) -> Option<&SkyObject> {
        self.objects.iter().find(|o| o.atlas_id == id)
    }
    pub(crate) fn by_lsst(&self, id: u64) -> Option<&SkyObject> {
        self.objects.iter().find(|o| o.lsst_oid == Some(id))
    }
}

/// Angular separation in arcsec (haversine).
pub(crate) fn separation_arcsec(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (r1, d1, r2, d2) = (ra1.to_radians(), dec1.to_radians(), ra2.to_radians(), dec2.to_radians());
    let a = ((d2 - d1) / 2.0).sin().powi(2) + d1.cos() * d2.cos() * ((r2 - r1) / 2.0).sin().powi(2);
    2.0 * a.sqrt().min(1.0).asin().to_degrees() * 3600.0
}

/// Rounds to `d` decimals.
pub(crate) fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_consistent() {
        let a = Sky::generate(7, &SkyConfig::default());
        let b = Sky::generate(7, &SkyConfig::default());
        assert_eq!(a.objects.len(), 300);
        for (x, y) in a.objects.iter().zip(&b.objects) {
            assert_eq!(x.ztf_oid, y.ztf_oid);
            assert_eq!(x.atlas_id, y.atlas_id);
            assert_eq!(x.atlas_id.to_string().len(), 19);
        }
        let sn = a.objects.iter().find(|o| o.kind == Kind::SNIa && o.ztf_oid.is_some()).unwrap();
        // Zero flux well before explosion.
        assert_eq!(Sky::model_flux(sn, "r", sn.peak_mjd - 200.0).0, 0.0);
        assert!(Sky::model_flux(sn, "r", sn.peak_mjd).0 > 0.0);
        let z = a.photometry(sn, Survey::Ztf);
        let at = a.photometry(sn, Survey::Atlas);
        assert!(!z.is_empty() && !at.is_empty());
        let ids: std::collections::HashSet<_> = a.objects.iter().filter_map(|o| o.ztf_oid.clone()).collect();
        assert_eq!(ids.len(), a.objects.iter().filter(|o| o.ztf_oid.is_some()).count());
    }

    #[test]
    fn dense_lightcurves() {
        let cfg = SkyConfig { objects: 3, points_per_lightcurve: Some(100_000), ..Default::default() };
        let s = Sky::generate(1, &cfg);
        assert_eq!(s.photometry(&s.objects[0], Survey::Atlas).len(), 100_000);
    }
}
