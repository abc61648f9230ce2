//! Quality cuts on result rows.
//!
//! [`QualityCuts::official`] is the set the server's FAQ recommends (citing Rest et al.):
//!
//! ```text
//! duJy < 10000 && err == 0 && 100 < x < 10460 && 100 < y < 10460 &&
//! 1.6 < maj < 5 && 1.6 < min < 5 && -1 < apfit < -0.1 && mag5sig > 17 && Sky > 17
//! ```
//!
//! All bounds are strict. Every cut is an `Option` and can be changed or switched off;
//! [`QualityCuts::max_chi_n`] (not in the FAQ) is off by default. A row that lacks a column
//! a cut needs (a file without `Sky`, say) fails that cut: unknown quality is not good
//! quality.
//!
//! ```
//! use fallingstar_forcedphot::{QualityCuts, ResultTable};
//! let text = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n\
//!   59103.552116 16.499 0.011 912 10 o 0 613.69 29.86 30.72 6239.87 2027.06 1.95 1.88 39.8 -0.438 19.59 20.81 02a59103o0723o\n\
//!   59103.6 16.5 0.011 912 10 o 0 3.1 29.86 30.72 50.0 2027.06 1.95 1.88 39.8 -0.438 19.59 20.81 02a59103o0724o\n";
//! let table = ResultTable::parse(text).unwrap();
//! let cuts = QualityCuts::official();
//! let (good, bad) = cuts.split(&table.rows);
//! assert_eq!((good.len(), bad.len()), (1, 1));
//! assert_eq!(cuts.reasons(&table.rows[1]), vec!["x"]);
//! ```

use serde::{Deserialize, Serialize};

use crate::result::Measurement;

/// A configurable set of quality cuts (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityCuts {
    /// Keep `duJy < max` (FAQ: 10000).
    pub max_dujy: Option<f64>,
    /// Keep only `err == 0` (FAQ: yes).
    pub require_err_zero: bool,
    /// Keep `chi/N < max` (not in the FAQ; David Young's script uses 100, ATClean 10).
    pub max_chi_n: Option<f64>,
    /// Keep `lo < x < hi` (FAQ: 100, 10460).
    pub x_range: Option<(f64, f64)>,
    /// Keep `lo < y < hi` (FAQ: 100, 10460).
    pub y_range: Option<(f64, f64)>,
    /// Keep `lo < maj < hi` (FAQ: 1.6, 5).
    pub maj_range: Option<(f64, f64)>,
    /// Keep `lo < min < hi` (FAQ: 1.6, 5).
    pub min_range: Option<(f64, f64)>,
    /// Keep `lo < apfit < hi` (FAQ: -1, -0.1).
    pub apfit_range: Option<(f64, f64)>,
    /// Keep `mag5sig > min` (FAQ: 17).
    pub min_mag5sig: Option<f64>,
    /// Keep `Sky > min` (FAQ: 17).
    pub min_sky: Option<f64>,
    /// Drop rows with `duJy == 0` (no usable error; default on).
    pub drop_zero_dujy: bool,
}

impl Default for QualityCuts {
    fn default() -> Self {
        Self::official()
    }
}

fn within(v: Option<f64>, range: Option<(f64, f64)>) -> bool {
    match range {
        None => true,
        Some((lo, hi)) => v.is_some_and(|v| v > lo && v < hi),
    }
}

impl QualityCuts {
    /// The FAQ's recommended cuts.
    pub fn official() -> Self {
        QualityCuts {
            max_dujy: Some(10000.0),
            require_err_zero: true,
            max_chi_n: None,
            x_range: Some((100.0, 10460.0)),
            y_range: Some((100.0, 10460.0)),
            maj_range: Some((1.6, 5.0)),
            min_range: Some((1.6, 5.0)),
            apfit_range: Some((-1.0, -0.1)),
            min_mag5sig: Some(17.0),
            min_sky: Some(17.0),
            drop_zero_dujy: true,
        }
    }
    /// No cuts at all.
    pub fn none() -> Self {
        QualityCuts {
            max_dujy: None,
            require_err_zero: false,
            max_chi_n: None,
            x_range: None,
            y_range: None,
            maj_range: None,
            min_range: None,
            apfit_range: None,
            min_mag5sig: None,
            min_sky: None,
            drop_zero_dujy: false,
        }
    }
    /// Sets [`Self::max_chi_n`].
    pub fn max_chi_n(mut self, max: f64) -> Self {
        self.max_chi_n = Some(max);
        self
    }
    /// Sets [`Self::max_dujy`].
    pub fn max_dujy(mut self, max: f64) -> Self {
        self.max_dujy = Some(max);
        self
    }

    /// The names of the cuts a row fails (empty: it passes).
    pub fn reasons(&self, r: &Measurement) -> Vec<&'static str> {
        let mut out = Vec::new();
        if let Some(max) = self.max_dujy {
            if (r.dujy as f64) >= max {
                out.push("duJy");
            }
        }
        if self.drop_zero_dujy && r.dujy == 0 {
            out.push("duJy == 0");
        }
        if self.require_err_zero && r.err != Some(0) {
            out.push("err");
        }
        if let Some(max) = self.max_chi_n {
            if !r.chi_n.is_some_and(|c| c < max) {
                out.push("chi/N");
            }
        }
        if !within(r.x, self.x_range) {
            out.push("x");
        }
        if !within(r.y, self.y_range) {
            out.push("y");
        }
        if !within(r.maj, self.maj_range) {
            out.push("maj");
        }
        if !within(r.min, self.min_range) {
            out.push("min");
        }
        if !within(r.apfit, self.apfit_range) {
            out.push("apfit");
        }
        if let Some(min) = self.min_mag5sig {
            if !r.mag5sig.is_some_and(|v| v > min) {
                out.push("mag5sig");
            }
        }
        if let Some(min) = self.min_sky {
            if !r.sky.is_some_and(|v| v > min) {
                out.push("Sky");
            }
        }
        out
    }

    /// Whether a row passes every cut.
    pub fn passes(&self, r: &Measurement) -> bool {
        self.reasons(r).is_empty()
    }

    /// The rows that pass, in order.
    pub fn apply(&self, rows: &[Measurement]) -> Vec<Measurement> {
        rows.iter().filter(|r| self.passes(r)).cloned().collect()
    }

    /// Splits rows into (passing, failing), each in order.
    pub fn split(&self, rows: &[Measurement]) -> (Vec<Measurement>, Vec<Measurement>) {
        rows.iter().cloned().partition(|r| self.passes(r))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ResultTable;

    fn row(fields: &str) -> Measurement {
        let text = format!("###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n{fields}\n");
        ResultTable::parse(&text).unwrap().rows.remove(0)
    }

    const GOOD: &str = "59103.55 16.499 0.011 912 10 o 0 3.1 29.86 30.72 6239.87 2027.06 1.95 1.88 39.8 -0.438 19.59 20.81 02a59103o0723o";

    #[test]
    fn each_faq_cut_by_name_with_strict_bounds() {
        let cuts = QualityCuts::official();
        assert!(cuts.passes(&row(GOOD)));
        let base: Vec<&str> = GOOD.split_whitespace().collect();
        // (column index, failing value, cut name)
        let cases = [
            (4, "10000", "duJy"),
            (4, "0", "duJy == 0"),
            (6, "1", "err"),
            (10, "100", "x"),
            (10, "10460", "x"),
            (11, "99.9", "y"),
            (12, "5", "maj"),
            (13, "1.6", "min"),
            (15, "-0.1", "apfit"),
            (15, "-1", "apfit"),
            (16, "17", "mag5sig"),
            (17, "16.9", "Sky"),
        ];
        for (i, v, name) in cases {
            let mut f = base.clone();
            f[i] = v;
            let r = row(&f.join(" "));
            assert_eq!(cuts.reasons(&r), vec![name], "{name} = {v}");
            assert!(QualityCuts::none().passes(&r));
        }
    }

    #[test]
    fn chi_n_is_optional_and_missing_columns_fail() {
        let mut f: Vec<&str> = GOOD.split_whitespace().collect();
        f[7] = "150.0";
        let r = row(&f.join(" "));
        assert!(QualityCuts::official().passes(&r), "chi/N is not an FAQ cut");
        assert_eq!(QualityCuts::official().max_chi_n(100.0).reasons(&r), vec!["chi/N"]);
        let bare = ResultTable::parse("###MJD m dm uJy duJy F\n59000 16 0.01 900 10 o\n").unwrap();
        let reasons = QualityCuts::official().reasons(&bare.rows[0]);
        assert!(reasons.contains(&"err") && reasons.contains(&"Sky"), "{reasons:?}");
        let (good, bad) = QualityCuts::official().split(&[row(GOOD), bare.rows[0].clone()]);
        assert_eq!((good.len(), bad.len()), (1, 1));
    }
}
